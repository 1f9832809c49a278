//! The databases a run covers: the main one (from --database-url,
//! DATABASE_URL or the local cluster) and the shards `tenants.toml`
//! declares, each with its own `public` and its own tenants. Plans and
//! applies fan out over them at once.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;

use futures_util::future::join_all;
use kschema_core::catalog::LiveState;
use kschema_core::load::row_reads;
use kschema_core::load::{DesiredState, TenantSource};
use kschema_core::model::SchemaName;
use kschema_core::plan::{build_plan, check_plan, takes_tenants_along, Plan, PlanOptions, Target};
use kschema_core::Problem;
use miette::{Report, SourceSpan};

use super::targets::select_targets;
use crate::cli::{GlobalArgs, TenantSelection};
use crate::db::introspect::introspect_database;
use crate::db::Database;

/// One database and the targets in it.
pub struct Shard {
    /// `None` for the main database.
    pub name: Option<String>,
    pub db: Database,
    pub targets: Vec<Target>,
}

impl Shard {
    /// `main database` or `database eu`, for headings.
    pub fn title(&self) -> String {
        database_title(self.name.as_deref())
    }
}

/// `main database` (no name) or `database eu`.
pub fn database_title(name: Option<&str>) -> String {
    match name {
        None => "main database".to_string(),
        Some(name) => format!("database {name}"),
    }
}

/// A shard's live state and plan.
pub struct ShardPlan {
    pub shard: Shard,
    pub live: LiveState,
    pub plan: Plan,
}

/// Resolves the tenants (reading them from `public.enterprises` when
/// `tenants.toml` says so), picks the targets, and assigns them to
/// databases. Returns the desired state with its final tenant list.
pub async fn resolve(
    global: &GlobalArgs,
    mut desired: DesiredState,
    requested: &TenantSelection,
) -> Result<(DesiredState, Vec<Shard>), Report> {
    let main = super::open_database(global).await?;
    if desired.tenants.source == TenantSource::Enterprises {
        let ids = enterprise_ids(&main).await?;
        let (registry, rejected) = desired.tenants.with_tenants_from(&ids);
        for reason in rejected {
            let _ = writeln!(
                std::io::stderr(),
                "warning: public.enterprises has an organization_id that is not a tenant id, skipped: {}",
                kschema_core::escape::printable(&reason)
            );
        }
        desired.tenants = registry;
    }
    let targets = select_targets(&desired, requested)?;
    let everything = requested.is_all();
    // One lookup table, not a search of the registry per tenant.
    let database_of: HashMap<&str, Option<&String>> = desired
        .tenants
        .tenants
        .iter()
        .map(|t| (t.id.as_str(), t.database.as_ref()))
        .collect();
    let mut by_database: BTreeMap<Option<String>, Vec<Target>> = BTreeMap::new();
    for target in targets.iter().filter(|t| !t.is_shared()) {
        let database = target
            .tenant
            .as_ref()
            .and_then(|id| database_of.get(id.as_str()).copied().flatten())
            .cloned();
        by_database
            .entry(database)
            .or_default()
            .push(target.clone());
    }
    // The shared schemas converge in every database that is part of the run.
    let shared = desired.shared_targets();
    let mut shards = Vec::new();
    let main_tenants = by_database.remove(&None).unwrap_or_default();
    shards.push(Shard {
        name: None,
        db: main,
        targets: shared.iter().cloned().chain(main_tenants).collect(),
    });
    for shard in &desired.tenants.shards {
        let tenants = by_database
            .remove(&Some(shard.name.clone()))
            .unwrap_or_default();
        if tenants.is_empty() && !everything {
            continue;
        }
        let url = std::env::var(&shard.url_env)
            .map_err(|_| missing_url(&desired, &shard.name, &shard.url_env))?;
        shards.push(Shard {
            name: Some(shard.name.clone()),
            db: Database::from_url(&url)?.with_limits(shard.concurrency, shard.heavy_concurrency),
            targets: shared.iter().cloned().chain(tenants).collect(),
        });
    }
    Ok((desired, shards))
}

/// Introspects and plans every shard at once.
pub async fn plan_all(
    desired: &DesiredState,
    shards: Vec<Shard>,
    options: PlanOptions,
) -> Result<Vec<ShardPlan>, Report> {
    let plans = join_all(shards.into_iter().map(|shard| async move {
        let schemas: Vec<SchemaName> = shard.targets.iter().map(|t| t.schema.clone()).collect();
        let mut live = introspect_database(&shard.db, &schemas, &row_reads(desired)).await?;
        let trace = crate::trace::Trace::new();
        let mut plan = build_plan(desired, &live, &shard.targets, options);
        let others = unread_tenants(desired, &shard);
        if !others.is_empty() && takes_tenants_along(&plan) {
            // The shared plan takes along what tenants have on what it
            // changes, in its own transaction: read the tenants this run
            // does not converge too, and plan the shared schemas with
            // them; the run's tenants keep their own plans.
            let everyone: Vec<Target> = shard.targets.iter().cloned().chain(others).collect();
            let schemas: Vec<SchemaName> = everyone.iter().map(|t| t.schema.clone()).collect();
            live = introspect_database(&shard.db, &schemas, &row_reads(desired)).await?;
            let mut full = build_plan(desired, &live, &everyone, options);
            for target in plan.targets.iter_mut().filter(|t| t.target.is_shared()) {
                if let Some(at) = full
                    .targets
                    .iter()
                    .position(|t| t.target.schema == target.target.schema)
                {
                    *target = full.targets.swap_remove(at);
                }
            }
        }
        check_plan(&plan, &live, desired)?;
        trace.mark("diff and plan");
        crate::db::conversions::check_conversions(&shard.db, &plan, desired).await?;
        Ok::<ShardPlan, Report>(ShardPlan { shard, live, plan })
    }))
    .await;
    plans.into_iter().collect()
}

/// The tenants of the shard's database that the run does not converge.
fn unread_tenants(desired: &DesiredState, shard: &Shard) -> Vec<Target> {
    let read: HashSet<&str> = shard
        .targets
        .iter()
        .filter_map(|t| t.tenant.as_ref().map(|id| id.as_str()))
        .collect();
    desired
        .tenants
        .tenants
        .iter()
        .filter(|t| t.database == shard.name && !read.contains(t.id.as_str()))
        .map(|t| Target {
            schema: t.schema.clone(),
            tenant: Some(t.id.clone()),
        })
        .collect()
}

async fn enterprise_ids(db: &Database) -> Result<Vec<String>, Report> {
    let client = db.connect().await?;
    let exists: bool = client
        .query_one("SELECT to_regclass('public.enterprises') IS NOT NULL", &[])
        .await
        .map_err(|e| {
            Problem::new(
                "kschema::tenants::enterprises",
                format!("reading public.enterprises failed: {e}"),
            )
        })?
        .get(0);
    if !exists {
        // The first apply creates the table; until then there are no tenants.
        return Ok(Vec::new());
    }
    let rows = client
        .query("SELECT organization_id::text FROM public.enterprises WHERE organization_id IS NOT NULL ORDER BY 1", &[])
        .await
        .map_err(|e| Problem::new("kschema::tenants::enterprises", format!("reading public.enterprises failed: {e}")))?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

fn missing_url(desired: &DesiredState, shard: &str, variable: &str) -> Report {
    let mut problem = Problem::new(
        "kschema::tenants::database_url",
        format!("database {shard}'s URL is not set: the environment variable {variable} is empty"),
    )
    .with_help(format!("export {variable}=postgresql://user:password@host/dbname (tenants.toml names the variable, never the URL)"));
    if let Some(file) = &desired.tenants.file {
        if let Some(offset) = file.text().find(&format!("\"{variable}\"")) {
            problem = problem.at(
                file,
                SourceSpan::new(offset.into(), variable.len() + 2),
                "read from here",
            );
        }
    }
    Report::new(problem)
}
