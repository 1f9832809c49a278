//! `kschema apply`: converge public and the chosen tenants in every database
//! of the run, or run a plan saved with `plan --out`.
//!
//! Each database is locked for the run (a second apply waits, then says who
//! holds it), planned, checked — if any step carries a hazard that is not
//! allowed, nothing is applied anywhere — and applied: public first, then
//! the tenants in parallel, with a progress bar on a terminal and a line per
//! target elsewhere, and a record of every target in `kschema.history`.
//!
//! This file is the fresh plan's path (resolve, lock, plan, gate, execute);
//! a saved plan's is `saved`'s; the stages both share — lock, gate,
//! execute — are `engine`'s (rollback uses them too); what apply prints is
//! `report`'s.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use kschema_core::escape::printable;
use kschema_core::hazard::HazardPolicy;
use kschema_core::load::{DesiredState, TenantId};
use kschema_core::mongo::render_mongo_text;
use kschema_core::plan::Plan;
use kschema_core::Problem;
use miette::Report;

use super::{print, project_policy, use_color, DatabasePlan, LiveSource, Planned};
use crate::cli::{ApplyArgs, GlobalArgs, TenantSelection};
use crate::db::apply::{ApplyOptions, ApplyTarget, LockTimeout, Notify, StatementTimeout};
use crate::db::backoff::{BackoffSettings, SlotFloor};
use crate::db::history::{self, RunInfo};
use crate::db::rollout::Unfinished;
use crate::run::fleet::{self, Shard};
use crate::ExitStatus;

mod engine;
pub mod events;
mod report;
pub(in crate::commands) mod rollout;
mod saved;
pub(super) use engine::{
    apply_databases, execute, gate, hazard_lines, lock_all, lock_databases, refuse_hazards,
    run_work, watch_interrupt, TargetsFailed,
};
pub use report::describe_result;
pub(super) use report::summary;
use saved::run_saved;

pub async fn run(global: &GlobalArgs, args: &ApplyArgs) -> Result<ExitStatus, Report> {
    if args.format == crate::cli::TextOrJson::Json {
        events::enable();
    }
    if let Some(path) = &args.plan_file {
        return run_saved(global, args, path).await;
    }
    Ok(converge(global, args).await?.status)
}

/// What a fresh apply did, for a command that applies on the user's
/// behalf (`verify`) and reports it in its own words.
pub struct Converged {
    pub status: ExitStatus,
    /// PostgreSQL targets that had changes (all converged, when this is
    /// returned rather than an error).
    pub changed: usize,
    pub up_to_date: usize,
}

/// A fresh plan's path: resolve, lock, plan, gate, execute.
pub async fn converge(global: &GlobalArgs, args: &ApplyArgs) -> Result<Converged, Report> {
    let trace = crate::trace::Trace::new();
    let desired = super::load_desired(global, &args.targets)?;
    // --only-failed looks at every tenant's last run.
    let requested = if args.only_failed {
        TenantSelection::All
    } else {
        args.targets.selection()?
    };
    let (mut desired, mut shards) = fleet::resolve(global, desired, &requested).await?;
    // Bad waves or canaries are refused whether or not anything changes.
    rollout::requested(&desired, args)?;
    let run = RunInfo::new();
    trace.mark("load and resolve");
    super::store_desired(
        global,
        &mut desired,
        super::PlannedAgainst::Live(&shards[0].db),
    )
    .await?;
    let _locks = lock_all(&shards, args, &run).await?;
    trace.mark("locks and history setup");
    let resume = match args.resume {
        true => Some(unfinished_rollout(&mut shards).await?),
        false => None,
    };
    if args.only_failed {
        keep_unfinished(&mut shards).await?;
        if shards.iter().all(|s| s.targets.len() <= 1) {
            print("No target's last run failed or is unfinished: nothing to retry.\n")?;
        }
    }
    let options = super::plan_options(&desired, &args.targets);
    let plans = crate::trace::with_spinner(
        "reading the databases and planning",
        fleet::plan_all(&desired, shards, options),
    )
    .await?;
    trace.mark("introspect and plan");
    let planned = Planned {
        desired,
        shards: plans
            .into_iter()
            .map(|p| DatabasePlan {
                name: p.shard.name,
                source: LiveSource::Database(Box::new(p.shard.db)),
                targets: p.shard.targets,
                live: p.live,
                plan: p.plan,
            })
            .collect(),
        options,
        mongo: None,
    };
    let mut planned = planned;
    planned.mongo = crate::run::mongo::plan(
        global,
        &planned.desired,
        &planned.tenants(),
        None,
        args.targets.count_invalid,
    )
    .await?;
    settle_history(&planned).await?;
    trace.mark("mongo plan and settle");
    let policy = policy(&planned.desired, args);
    let mut text = String::new();
    for shard in &planned.shards {
        let options = kschema_core::render::text::TextOptions {
            color: use_color(global.color),
            policy: policy.clone(),
        };
        let body = kschema_core::render::text::render_text(&shard.plan, &options);
        let _ = write!(
            text,
            "Database: {}{}\n\n{body}",
            shard.source,
            shard
                .name
                .as_ref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        );
    }
    if let Some(mongo) = &planned.mongo {
        text.push_str(&render_mongo_text(mongo, &policy));
    }
    print(&text)?;
    let up_to_date = planned
        .shards
        .iter()
        .flat_map(|s| &s.plan.targets)
        .filter(|t| t.is_empty())
        .count();
    let changed = planned
        .shards
        .iter()
        .map(|s| s.plan.targets.len())
        .sum::<usize>()
        - up_to_date;
    // A resumed wave's gates are checked again even when its tenants are
    // all converged.
    if planned.is_empty() && resume.is_none() {
        return Ok(Converged {
            status: ExitStatus::Success,
            changed,
            up_to_date,
        });
    }
    let plans: Vec<&Plan> = planned.shards.iter().map(|s| &s.plan).collect();
    gate(&plans, planned.mongo.as_ref(), &policy, args)?;

    let options = apply_options(&planned.desired, args, run);
    let work: Vec<rollout::DatabaseWork> = planned
        .shards
        .iter()
        .filter_map(|s| match &s.source {
            LiveSource::Database(db) => Some(rollout::DatabaseWork {
                db: db.as_ref(),
                label: fleet::database_title(s.name.as_deref()),
                targets: ApplyTarget::all(&s.plan, &s.live),
                schemas: s
                    .plan
                    .targets
                    .iter()
                    .filter_map(|t| Some((t.target.tenant.clone()?, t.target.schema.clone())))
                    .collect(),
            }),
            LiveSource::Snapshot { .. } => None,
        })
        .collect();
    let (gates, soak) = rollout::gates(&planned.desired, args);
    let in_waves = match &resume {
        Some(unfinished) => Some(rollout::resumed(unfinished, gates, soak)),
        None => rollout::requested(&planned.desired, args)?
            .map(|(canary, sizes)| rollout::fresh(&work, &canary, &sizes, gates, soak)),
    };
    trace.mark("render");
    let main_db = planned.shards.first().and_then(|s| match &s.source {
        LiveSource::Database(db) => Some(db.as_ref()),
        LiveSource::Snapshot { .. } => None,
    });
    let result = execute(
        global,
        work,
        in_waves,
        &options,
        up_to_date,
        planned.mongo.as_ref(),
        main_db,
        "fix the cause above and apply again",
    )
    .await;
    trace.mark("apply");
    Ok(Converged {
        status: result?,
        changed,
        up_to_date,
    })
}

fn out_mongo(mongo: &kschema_core::mongo::MongoPlan, policy: &HazardPolicy) -> Result<(), Report> {
    print(&render_mongo_text(mongo, policy))
}

/// Targets a run left `committed` (killed during the statements after its
/// transaction) and that are now up to date: their record becomes `applied`.
async fn settle_history(planned: &Planned) -> Result<(), Report> {
    for shard in &planned.shards {
        if let LiveSource::Database(db) = &shard.source {
            let up_to_date: Vec<String> = shard
                .plan
                .targets
                .iter()
                .filter(|t| t.is_empty())
                .map(|t| t.target.schema.to_string())
                .collect();
            history::settle(&db.connect().await?, &up_to_date)
                .await
                .map_err(|e| {
                    Problem::new(
                        "kschema::history::write",
                        format!("updating kschema.history failed: {e}"),
                    )
                })?;
        }
    }
    Ok(())
}

/// `--resume`: the rollout to continue, and only public and its tenants
/// from the wave it stopped in kept.
async fn unfinished_rollout(shards: &mut [Shard]) -> Result<Unfinished, Report> {
    let client = shards[0].db.connect().await?;
    let unfinished = crate::db::rollout::unfinished(&client)
        .await
        .map_err(|e| {
            Problem::new(
                "kschema::history::read",
                format!("reading kschema.rollouts failed: {e}"),
            )
        })?
        .ok_or_else(|| {
            Problem::new(
                "kschema::apply::nothing_to_resume",
                "there is no rollout to resume: the last one finished (or none ran in waves)",
            )
            .with_help("apply as usual: kschema apply --tenant all")
        })?;
    let left: BTreeSet<&TenantId> = unfinished
        .waves
        .iter()
        .skip(unfinished.from_wave)
        .flat_map(|w| &w.tenants)
        .collect();
    for shard in shards.iter_mut() {
        shard
            .targets
            .retain(|t| t.tenant.as_ref().is_none_or(|id| left.contains(id)));
    }
    let mut note = format!(
        "Resuming the rollout {} from wave {} of {}",
        printable(&unfinished.run_id),
        unfinished.from_wave + 1,
        unfinished.waves.len()
    );
    match &unfinished.breach {
        Some(breach) => {
            let _ = writeln!(
                note,
                ", where the {} gate halted it: {breach}.",
                breach.gate()
            );
        }
        None => note.push_str(", which it had reached when it stopped.\n"),
    }
    print(&note)?;
    Ok(unfinished)
}

/// `--only-failed`: keeps public and the targets whose last run failed or
/// did not finish.
async fn keep_unfinished(shards: &mut [Shard]) -> Result<(), Report> {
    for shard in shards.iter_mut() {
        let client = shard.db.connect().await?;
        let unfinished = history::unfinished(&client).await.map_err(|e| {
            Problem::new(
                "kschema::history::read",
                format!("reading kschema.history failed: {e}"),
            )
        })?;
        shard
            .targets
            .retain(|t| t.is_shared() || unfinished.iter().any(|s| s == t.schema.as_str()));
    }
    Ok(())
}

pub(super) fn policy(desired: &DesiredState, args: &ApplyArgs) -> HazardPolicy {
    policy_from(project_policy(desired), args)
}

fn policy_from(mut policy: HazardPolicy, args: &ApplyArgs) -> HazardPolicy {
    if args.allow_destructive {
        policy = policy.allow_destructive();
    }
    policy.allowed.extend(args.allow_hazards.iter().copied());
    policy
}

/// Flags first, then kschema.toml, then the defaults.
pub(super) fn apply_options(
    desired: &DesiredState,
    args: &ApplyArgs,
    run: RunInfo,
) -> ApplyOptions {
    let config = &desired.config.apply;
    let defaults = ApplyOptions::default();
    let statement_timeout = args.statement_timeout.or(config.statement_timeout);
    ApplyOptions {
        concurrency: args
            .concurrency
            .or(config.concurrency)
            .map(usize::from)
            .or(defaults.concurrency),
        lock_timeout: args
            .lock_timeout
            .or(config.lock_timeout)
            .map(|s| LockTimeout(Duration::from_secs_f64(s.max(0.001))))
            .unwrap_or(defaults.lock_timeout),
        index_lock_timeout: args
            .index_lock_timeout
            .or(config.index_lock_timeout)
            .map(|s| LockTimeout(Duration::from_secs_f64(s.max(0.001))))
            .unwrap_or(defaults.index_lock_timeout),
        statement_timeout: match statement_timeout {
            Some(s) if s > 0.0 => StatementTimeout(Some(Duration::from_secs_f64(s))),
            Some(_) => StatementTimeout(None),
            None => defaults.statement_timeout,
        },
        lock_attempts: args
            .lock_attempts
            .or(config.lock_attempts)
            .unwrap_or(defaults.lock_attempts),
        fail_fast: args.fail_fast,
        stop: defaults.stop,
        run: Some(run),
        heavy_concurrency: args
            .heavy_concurrency
            .or(config.heavy_concurrency)
            .map_or(defaults.heavy_concurrency, usize::from),
        heavy_permits: None,
        backoff: backoff_settings(config),
        notify: Notify(Arc::new(|notice: String| {
            events::emit(serde_json::json!({ "event": "backoff", "notice": notice }));
            let _ = print(&format!("  … {}\n", printable(&notice)));
        })),
    }
}

/// kschema.toml's `[apply] backoff_*`, over the defaults (0 turns a signal
/// off).
fn backoff_settings(config: &kschema_core::load::config::ApplyConfig) -> BackoffSettings {
    let defaults = BackoffSettings::default();
    let seconds = |set: Option<f64>, default: Option<Duration>| match set {
        Some(s) if s <= 0.0 => None,
        Some(s) => Some(Duration::from_secs_f64(s)),
        None => default,
    };
    BackoffSettings {
        lock_wait: seconds(config.backoff_lock_wait, defaults.lock_wait),
        min_free_connections: match config.backoff_min_free_connections {
            Some(0) => SlotFloor::Off,
            Some(n) => SlotFloor::At(i64::from(n)),
            None => defaults.min_free_connections,
        },
        max_pause: config
            .backoff_max_pause
            .map_or(defaults.max_pause, Duration::from_secs_f64),
    }
}

fn empty_project() -> DesiredState {
    DesiredState {
        root: std::path::PathBuf::new(),
        public: Default::default(),
        shared: Default::default(),
        tenant: Default::default(),
        tenants: Default::default(),
        config: Default::default(),
        mongo: Vec::new(),
    }
}
