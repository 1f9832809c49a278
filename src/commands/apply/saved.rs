//! `kschema apply PLAN.json`: a plan saved by `plan --out`, run as it was
//! reviewed — each step planned again from its recorded change and checked
//! against the file, the live state checked against the one it was made
//! from.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use kschema_core::catalog::Fingerprint;
use kschema_core::diff::Change;
use kschema_core::hazard::{HazardKind, HazardPolicy};
use kschema_core::load::row_reads;
use kschema_core::load::{DesiredState, TenantId};
use kschema_core::model::SchemaName;
use kschema_core::plan::replay::{replay_steps, SavedStep};
use kschema_core::plan::Target;
use kschema_core::render::json::{PlanDocument, TargetDocument, FORMAT_VERSION};
use kschema_core::{Problem, SourceFile};
use miette::Report;

use super::rollout;
use super::{
    apply_options, empty_project, execute, hazard_lines, lock_databases, out_mongo, policy,
    policy_from, refuse_hazards,
};
use crate::cli::{ApplyArgs, GlobalArgs};
use crate::commands::{open_database, print};
use crate::db::apply::{ApplyStep, ApplyTarget};
use crate::db::history::RunInfo;
use crate::db::introspect::introspect_database;
use crate::db::Database;
use crate::project::load_project;
use crate::ExitStatus;

/// Applies a saved plan: exactly its statements, for the targets whose live
/// state still has the fingerprint recorded when it was made.
pub(super) async fn run_saved(
    global: &GlobalArgs,
    args: &ApplyArgs,
    path: &Path,
) -> Result<ExitStatus, Report> {
    let document = read_plan(path)?;
    // Settings come from the project (kschema.toml), when there is one.
    let desired = load_project(&global.project).ok();
    let main = open_database(global).await?;
    if document.database != main.to_string() {
        return Err(Problem::new(
            "kschema::apply::other_database",
            format!(
                "the plan was made for {}, not for {main}",
                document.database
            ),
        )
        .with_help("apply a saved plan to the database it was made for, or make a new plan")
        .into());
    }
    let mut by_database: BTreeMap<Option<String>, Vec<&TargetDocument>> = BTreeMap::new();
    for target in &document.targets {
        by_database
            .entry(target.database.clone())
            .or_default()
            .push(target);
    }
    let mut databases = Vec::new();
    for (name, targets) in by_database {
        let db = match &name {
            None => main.clone(),
            Some(name) => {
                let shard = desired.as_ref().and_then(|d| d.tenants.shard(name)).ok_or_else(|| {
                    Problem::new("kschema::apply::plan_file", format!("the plan covers database {name}, which tenants.toml does not declare"))
                })?;
                let url = std::env::var(&shard.url_env).map_err(|_| {
                    Problem::new(
                        "kschema::tenants::database_url",
                        format!("{} is not set", shard.url_env),
                    )
                })?;
                Database::from_url(&url)?
            }
        };
        databases.push((name, db, targets));
    }

    let run = RunInfo::new();
    let _locks = lock_databases(
        databases
            .iter()
            .map(|(name, db, _)| (db, crate::run::fleet::database_title(name.as_deref()))),
        args,
        &run,
    )
    .await?;

    let policy = match &desired {
        Some(desired) => policy(desired, args),
        None => policy_from(HazardPolicy::default(), args),
    };
    let empty = empty_project();
    let options = apply_options(desired.as_ref().unwrap_or(&empty), args, run);
    let mut out = format!(
        "Database: {main}\nPlan: {} (made against the same database)\n\n",
        path.display()
    );
    let mut blocked = Vec::new();
    let mut changed = Vec::new();
    let mut work = Vec::new();
    for (name, db, saved_targets) in &databases {
        let mut targets = Vec::new();
        for saved in saved_targets {
            let tenant = match &saved.tenant {
                Some(id) => Some(TenantId::parse(id).map_err(|reason| {
                    Problem::new(
                        "kschema::apply::plan_file",
                        format!("{}: tenant {id:?}: {reason}", path.display()),
                    )
                })?),
                None => None,
            };
            targets.push(Target {
                schema: SchemaName::new(&saved.schema),
                tenant,
            });
        }
        let schemas: Vec<SchemaName> = targets.iter().map(|t| t.schema.clone()).collect();
        let reads = desired.as_ref().map(row_reads).unwrap_or_default();
        let live = introspect_database(db, &schemas, &reads).await?;
        let mut runnable = Vec::new();
        let mut shared_changed = false;
        for (target, saved) in targets.iter().zip(saved_targets) {
            if saved.steps.is_empty() {
                continue;
            }
            let label = match name {
                Some(name) => format!("{target} in database {name}"),
                None => target.to_string(),
            };
            let _ = writeln!(
                out,
                "{label}: {} change{}",
                saved.steps.len(),
                if saved.steps.len() == 1 { "" } else { "s" }
            );
            for step in &saved.steps {
                let part = step
                    .part
                    .as_ref()
                    .map(|p| format!(" — {p}"))
                    .unwrap_or_default();
                let _ = writeln!(out, "  {}{part}", step.description);
            }
            let live_schema = live.get(&target.schema);
            let now = live_schema
                .map(|s| s.fingerprint)
                .unwrap_or_else(Fingerprint::absent);
            if now.to_string() != saved.live_fingerprint {
                shared_changed |= target.is_shared();
                changed.push(label);
                continue;
            }
            // The file's own hazards and statements are not trusted: the
            // steps are planned again from their changes (see `replay`).
            let steps = replay_saved(path, &label, target, saved, &document, desired.as_ref())?;
            let hazards: Vec<(HazardKind, String)> = steps
                .iter()
                .flat_map(|s| {
                    s.hazards
                        .iter()
                        .filter(|h| !s.allowed_by_annotation.contains(&h.kind))
                })
                .filter(|h| !policy.allows(h.kind))
                .map(|h| (h.kind, h.message.clone()))
                .collect();
            if !hazards.is_empty() {
                blocked.push((label.clone(), hazards));
            }
            let mut kinds: Vec<String> = steps
                .iter()
                .flat_map(|s| s.hazards.iter().map(|h| h.kind.to_string()))
                .collect();
            kinds.sort();
            kinds.dedup();
            runnable.push(ApplyTarget {
                target: target.clone(),
                steps: steps
                    .iter()
                    .map(|s| ApplyStep::from_step(s, &target.schema))
                    .collect(),
                live_fingerprint: now,
                live_model: live_schema.map(|s| s.model.clone()),
                hazards: kinds,
            });
        }
        // Tenant schemas rely on the shared ones: without them, none runs.
        if shared_changed {
            runnable.clear();
        }
        work.push((db, runnable));
    }
    print(&out)?;
    // The MongoDB commands are not taken from the file either: they must be
    // the ones the project and the live collections give now.
    let mongo = match document.mongo.as_ref().filter(|m| !m.is_empty()) {
        Some(saved) => {
            Some(verified_mongo(global, path, saved, desired.as_ref(), &document).await?)
        }
        None => document.mongo.clone(),
    };
    if let Some(mongo) = &mongo {
        blocked.extend(
            mongo
                .blocked(&policy)
                .into_iter()
                .map(|(db, hazards)| (db, hazard_lines(hazards))),
        );
        out_mongo(mongo, &policy)?;
    }
    refuse_hazards(&blocked)?;
    if !changed.is_empty() {
        print(&format!(
            "\nRefused — the live state changed since the plan was made: {}\n",
            changed.join(", ")
        ))?;
    }
    let up_to_date = document
        .targets
        .iter()
        .filter(|t| t.steps.is_empty())
        .count();
    // In waves, when kschema.toml or the flags ask for them, as a fresh
    // apply would go.
    let settings = desired.as_ref().unwrap_or(&empty);
    let work: Vec<rollout::DatabaseWork> = work
        .into_iter()
        .zip(&databases)
        .map(|((db, targets), (name, _, _))| rollout::DatabaseWork {
            db,
            label: crate::run::fleet::database_title(name.as_deref()),
            schemas: targets
                .iter()
                .filter_map(|t| Some((t.target.tenant.clone()?, t.target.schema.clone())))
                .collect(),
            targets,
        })
        .collect();
    let in_waves = rollout::requested(settings, args)?.map(|(canary, sizes)| {
        let (gates, soak) = rollout::gates(settings, args);
        rollout::fresh(&work, &canary, &sizes, gates, soak)
    });
    let result = execute(
        global,
        work,
        in_waves,
        &options,
        up_to_date,
        mongo.as_ref(),
        Some(&main),
        "fix the cause above and make a new plan",
    )
    .await;
    if changed.is_empty() {
        return result;
    }
    result?;
    Err(Problem::new(
        "kschema::apply::stale_plan",
        if changed.len() == 1 {
            "1 target changed since the plan was made and was not applied".to_string()
        } else {
            format!(
                "{} targets changed since the plan was made and were not applied",
                changed.len()
            )
        },
    )
    .with_help("make a new plan (`kschema plan --out …`), review it, and apply that")
    .into())
}

/// A saved target's steps as its changes produce them now, with the
/// project's annotation allowances; an edited plan is refused whole.
fn replay_saved(
    path: &Path,
    label: &str,
    target: &Target,
    saved: &TargetDocument,
    document: &PlanDocument,
    desired: Option<&DesiredState>,
) -> Result<Vec<kschema_core::plan::Step>, Report> {
    let edited = |what: String| -> Report {
        Problem::new(
            "kschema::apply::edited_plan",
            format!("{}: {label}: {what}", path.display()),
        )
        .with_help(
            "the plan file was changed after `kschema plan --out` wrote it; nothing was applied. \
             Make a new plan, review it, and apply that",
        )
        .into()
    };
    let mut steps = Vec::with_capacity(saved.steps.len());
    for (index, step) in saved.steps.iter().enumerate() {
        let change: Change = serde_json::from_value(step.change.clone()).map_err(|e| {
            edited(format!(
                "step {}: its change cannot be read: {e}",
                index + 1
            ))
        })?;
        steps.push(SavedStep {
            change,
            part: step.part.as_deref(),
            transaction: step.transaction,
            statements: &step.statements,
            before_retry: step.before_retry.as_deref(),
            after_tenants: step.after_tenants,
        });
    }
    let public_with_tenants =
        target.is_shared() && document.targets.iter().any(|t| t.tenant.is_some());
    let scope = desired.map(|desired| desired.scope_of(target));
    let no_model = kschema_core::model::SchemaModel::default();
    let model = scope.map_or(&no_model, |scope| &scope.model);
    let mut steps = replay_steps(
        steps,
        &target.schema,
        document.online,
        public_with_tenants,
        model,
    )
    .map_err(|mismatch| edited(mismatch.to_string()))?;
    if let Some(scope) = scope {
        for step in &mut steps {
            let allowed = kschema_core::plan::allowed_by_annotations(scope, &step.change);
            step.allowed_by_annotation = allowed
                .into_iter()
                .filter(|kind| step.hazards.iter().any(|h| h.kind == *kind))
                .collect();
        }
    }
    Ok(steps)
}

/// The saved MongoDB steps, checked against a fresh plan of the project
/// against the live collections: same databases, same live fingerprints,
/// same commands and hazards. The fresh plan is what runs.
async fn verified_mongo(
    global: &GlobalArgs,
    path: &Path,
    saved: &kschema_core::mongo::MongoPlan,
    desired: Option<&DesiredState>,
    document: &PlanDocument,
) -> Result<kschema_core::mongo::MongoPlan, Report> {
    let refuse = |what: String| -> Report {
        Problem::new(
            "kschema::apply::edited_plan",
            format!("{}: MongoDB: {what}", path.display()),
        )
        .with_help(
            "the MongoDB steps must be the ones the project gives against the live collections now; \
             nothing was applied. Make a new plan, review it, and apply that",
        )
        .into()
    };
    let Some(desired) = desired else {
        return Err(refuse(
            "the project could not be loaded to check them".into(),
        ));
    };
    let tenants: Vec<TenantId> = document
        .targets
        .iter()
        .filter_map(|t| t.tenant.as_deref())
        .filter_map(|id| TenantId::parse(id).ok())
        .collect();
    let fresh = crate::run::mongo::plan(global, desired, &tenants, None, false)
        .await?
        .ok_or_else(|| refuse("the project declares no collections".into()))?;
    if let Some(reason) = &fresh.skipped {
        return Err(refuse(format!("it cannot be checked: {reason}")));
    }
    for target in saved.targets.iter().filter(|t| !t.steps.is_empty()) {
        let now = fresh.targets.iter().find(|f| f.database == target.database);
        match now {
            None => {
                return Err(refuse(format!(
                    "database {} is not one the project plans",
                    target.database
                )))
            }
            Some(now) if now.live_fingerprint != target.live_fingerprint => {
                return Err(refuse(format!(
                    "database {} changed since the plan was made",
                    target.database
                )))
            }
            Some(now) if now.steps != target.steps => {
                return Err(refuse(format!(
                    "the steps for database {} are not the ones the project gives",
                    target.database
                )))
            }
            Some(_) => {}
        }
    }
    // Only what was reviewed runs: databases the saved plan found up to date
    // are left alone even if they drifted since.
    let mut fresh = fresh;
    fresh.targets.retain(|f| {
        saved
            .targets
            .iter()
            .any(|t| t.database == f.database && !t.steps.is_empty())
    });
    Ok(fresh)
}

fn read_plan(path: &Path) -> Result<PlanDocument, Report> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Problem::new(
            "kschema::apply::plan_file",
            format!("cannot read plan {}: {e}", path.display()),
        )
        .with_help("save a plan with `kschema plan --out FILE`")
    })?;
    let document: PlanDocument = serde_json::from_str(&text).map_err(|e| {
        let file = SourceFile::new(path.display().to_string(), text.clone());
        let span = file.span_at(e.line() as u64, e.column() as u64, 1);
        Report::new(
            Problem::new(
                "kschema::apply::plan_file",
                format!("{} is not a kschema plan", path.display()),
            )
            .at(&file, span, e.to_string())
            .with_help("save a plan with `kschema plan --out FILE`"),
        )
    })?;
    if document.format_version != FORMAT_VERSION {
        return Err(Problem::new(
            "kschema::apply::plan_format",
            format!(
                "{} has plan format {}, this kschema applies format {FORMAT_VERSION}",
                path.display(),
                document.format_version
            ),
        )
        .with_help("make the plan again with this kschema")
        .into());
    }
    Ok(document)
}
