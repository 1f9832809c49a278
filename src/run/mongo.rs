//! The MongoDB part of plan and apply: which databases (one shared, or one
//! per tenant), their live state (from the deployment or a snapshot), their
//! steps, and running them.

use std::time::SystemTime;

use kschema_core::catalog::Fingerprint;
use kschema_core::hazard::HazardKind;
use kschema_core::load::{DesiredState, TenantId};
use kschema_core::mongo::{plan_mongo, MongoPlan, MongoTargetPlan};
use kschema_core::snapshot::Snapshot;
use miette::Report;

use crate::cli::GlobalArgs;
use crate::db::history::{self, Entry, RunInfo};
use crate::db::mongo::Mongo;
use crate::db::Database;

/// Plans MongoDB, if the project declares collections: against the
/// deployment, a snapshot, or not at all (skipped, and said so).
pub async fn plan(
    global: &GlobalArgs,
    desired: &DesiredState,
    tenants: &[TenantId],
    snapshot: Option<&Snapshot>,
    count_invalid: bool,
) -> Result<Option<MongoPlan>, Report> {
    if desired.mongo.is_empty() {
        return Ok(None);
    }
    // Against a snapshot: the core's, with nothing to connect to.
    if let Some(snapshot) = snapshot {
        return Ok(snapshot.mongo_plan(desired, tenants));
    }
    let declared = desired.mongo.len();
    let Some(uri) = uri(global) else {
        return Ok(Some(MongoPlan::skipped(format!(
            "no --mongodb-uri or MONGODB_URI given ({declared} collection{} declared in schema/mongo)",
            if declared == 1 { "" } else { "s" }
        ))));
    };
    let databases = desired.mongo_databases(tenants);
    let mongo = Mongo::connect(&uri).await?;
    let mut live = Vec::new();
    for (db, _) in &databases {
        live.push(Some(mongo.introspect(db).await?));
    }
    let source = mongo.display.clone();
    let mut targets = Vec::new();
    for ((database, tenant), state) in databases.into_iter().zip(live) {
        let steps = plan_mongo(state.as_ref(), &desired.mongo);
        let mut invalid_documents = Vec::new();
        if count_invalid {
            for step in steps.iter().filter(|s| {
                s.hazards
                    .iter()
                    .any(|h| h.kind == HazardKind::RejectsDocuments)
            }) {
                if let Some(validator) = desired
                    .mongo
                    .iter()
                    .find(|c| c.name == step.collection)
                    .and_then(|c| c.validator.as_ref())
                {
                    invalid_documents.push((
                        step.collection.clone(),
                        mongo
                            .count_invalid(&database, &step.collection, validator)
                            .await?,
                    ));
                }
            }
        }
        targets.push(MongoTargetPlan {
            live_fingerprint: state.unwrap_or_default().fingerprint(),
            database,
            tenant: tenant.map(|t| t.to_string()),
            steps,
            invalid_documents,
        });
    }
    Ok(Some(MongoPlan {
        source,
        skipped: None,
        targets,
    }))
}

pub fn uri(global: &GlobalArgs) -> Option<String> {
    global.mongodb_uri.clone().filter(|u| !u.trim().is_empty())
}

/// What happened to one database.
pub struct MongoResult {
    pub database: String,
    pub applied: usize,
    pub error: Option<String>,
}

/// Runs each database's steps in order (a failed step stops that database),
/// recording each database's run in the main database's history.
pub async fn apply(
    global: &GlobalArgs,
    plan: &MongoPlan,
    history_db: Option<&Database>,
    run: &RunInfo,
) -> Result<Vec<MongoResult>, Report> {
    let Some(uri) = uri(global) else {
        return Ok(Vec::new());
    };
    let mongo = Mongo::connect(&uri).await?;
    let mut results = Vec::new();
    for target in plan.targets.iter().filter(|t| !t.steps.is_empty()) {
        // The state must still be what was planned (saved plans).
        let now = mongo.introspect(&target.database).await?.fingerprint();
        if now != target.live_fingerprint {
            results.push(MongoResult {
                database: target.database.clone(),
                applied: 0,
                error: Some("the database changed since the plan was made; make a new plan".into()),
            });
            continue;
        }
        let started = SystemTime::now();
        let mut applied = 0;
        let mut error = None;
        for step in &target.steps {
            match mongo.run(&target.database, step).await {
                Ok(()) => applied += 1,
                Err(e) => {
                    error = Some(format!("{}: {}", step.description, error_chain(&e)));
                    break;
                }
            }
        }
        if let Some(db) = history_db {
            record(db, run, target, applied, error.as_deref(), started).await;
        }
        results.push(MongoResult {
            database: target.database.clone(),
            applied,
            error,
        });
    }
    Ok(results)
}

async fn record(
    db: &Database,
    run: &RunInfo,
    target: &MongoTargetPlan,
    applied: usize,
    error: Option<&str>,
    started: SystemTime,
) {
    let Ok(client) = db.connect().await else {
        return;
    };
    let statements: Vec<String> = target
        .steps
        .iter()
        .take(applied.max(1))
        .map(|s| s.command.to_string())
        .collect();
    let hazards =
        kschema_core::hazard::kind_names(target.steps.iter().flat_map(|s| s.hazards.iter()));
    let schema = format!("mongo:{}", target.database);
    let entry = Entry {
        run,
        schema: &schema,
        tenant: target.tenant.as_deref(),
        statements: &statements,
        hazards_allowed: &hazards,
        plan_fingerprint: &target.live_fingerprint,
        live_fingerprint: Fingerprint::absent(),
        live_model: None,
        desired_fingerprint: None,
    };
    let outcome = if error.is_none() {
        history::HistoryOutcome::Applied
    } else {
        history::HistoryOutcome::Failed
    };
    let _ = history::record(&client, &entry, outcome, started, error).await;
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}
