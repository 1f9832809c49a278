//! `kschema apply`: converge public and the chosen tenants in every database
//! of the run, or run a plan saved with `plan --out`.
//!
//! Each database is locked for the run (a second apply waits, then says who
//! holds it), planned, checked — if any step carries a hazard that is not
//! allowed, nothing is applied anywhere — and applied: public first, then
//! the tenants in parallel, with a progress bar on a terminal and a line per
//! target elsewhere, and a record of every target in `kschema.history`.
//!
//! A saved plan is `saved`'s; what apply prints, `report`'s.
//!
//! Over ~600 lines: the fresh apply's whole path (resolve, lock, plan, gate,
//! apply, report) in the order it runs; the saved-plan path and the report
//! are already in their own files.

use crate::ExitStatus;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::join_all;
use kschema_core::escape::printable;
use kschema_core::hazard::{HazardKind, HazardPolicy};
use kschema_core::load::{DesiredState, TenantId};
use kschema_core::mongo::{render_mongo_text, MongoPlan};
use kschema_core::plan::Plan;
use kschema_core::Problem;
use miette::{Diagnostic, Report};
use thiserror::Error;

use super::fleet::{self, Shard};
use super::rollout;
use super::{print, project_policy, use_color, DatabasePlan, LiveSource, Planned};
use crate::cli::{ApplyArgs, GlobalArgs, TenantSelection};
use crate::db::apply::{
    apply_targets, ApplyOptions, ApplyTarget, LockTimeout, Notify, StatementTimeout, TargetResult,
};
use crate::db::backoff::BackoffSettings;
use crate::db::history::{self, RunInfo, SETUP_SQL};
use crate::db::lock::{self, RunLock};
use crate::db::rollout::Unfinished;
use crate::db::Database;

mod report;
mod saved;
pub use report::describe_result;
pub(super) use report::summary;
use report::Progress;
use saved::run_saved;

#[derive(Debug, Error, Diagnostic)]
#[error("apply refused: {count} target{plural} would run hazards that are not allowed; nothing was applied")]
#[diagnostic(code(kschema::apply::hazards), help("{help}"))]
struct HazardsNotAllowed {
    count: usize,
    plural: &'static str,
    help: String,
}

#[derive(Debug, Error, Diagnostic)]
#[error("{failed} of {total} target{plural} did not converge")]
#[diagnostic(code(kschema::apply::failed), help("{help}"))]
pub(super) struct TargetsFailed {
    failed: usize,
    total: usize,
    plural: &'static str,
    help: String,
}

impl TargetsFailed {
    /// `failed` of `total` results, with how to retry just those.
    pub(super) fn for_results(failed: &[&TargetResult], total: usize) -> TargetsFailed {
        let retry: Vec<String> = failed
            .iter()
            .filter_map(|r| r.target.tenant.as_ref().map(|t| t.to_string()))
            .collect();
        let help = if retry.is_empty() {
            "fix the cause above and run the same command again".to_string()
        } else {
            format!(
                "fix the cause above, then retry only these: kschema apply --tenant {} (or: kschema apply --only-failed)",
                retry.join(",")
            )
        };
        TargetsFailed {
            failed: failed.len(),
            total,
            plural: if total == 1 { "" } else { "s" },
            help,
        }
    }
}

pub async fn run(global: &GlobalArgs, args: &ApplyArgs) -> Result<ExitStatus, Report> {
    if args.format == crate::cli::TextOrJson::Json {
        super::events::enable();
    }
    if let Some(path) = &args.plan_file {
        return run_saved(global, args, path).await;
    }
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
    planned.mongo = super::mongo::plan(
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
    // A resumed wave's gates are checked again even when its tenants are
    // all converged.
    if planned.is_empty() && resume.is_none() {
        return Ok(ExitStatus::Success);
    }
    let plans: Vec<&Plan> = planned.shards.iter().map(|s| &s.plan).collect();
    gate(&plans, planned.mongo.as_ref(), &policy, args)?;

    let options = apply_options(&planned.desired, args, run);
    let up_to_date = planned
        .shards
        .iter()
        .flat_map(|s| &s.plan.targets)
        .filter(|t| t.is_empty())
        .count();
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
    let run = options.run.clone().unwrap_or_default();
    trace.mark("render");
    let postgres = match in_waves {
        Some(in_waves) => rollout::run(work, &options, up_to_date, in_waves).await,
        None => {
            let work = work.into_iter().map(|w| (w.db, w.targets)).collect();
            run_work(work, &options, up_to_date).await
        }
    };
    trace.mark("apply");
    let main_db = planned.shards.first().and_then(|s| match &s.source {
        LiveSource::Database(db) => Some(db.as_ref()),
        LiveSource::Snapshot { .. } => None,
    });
    let mongo = match &planned.mongo {
        Some(plan) if !plan.is_empty() => apply_mongo(global, plan, main_db, &run).await?,
        _ => true,
    };
    match postgres {
        Ok(code) if mongo => Ok(code),
        Ok(_) => Err(
            Problem::new("kschema::apply::mongo", "MongoDB did not converge")
                .with_help("fix the cause above and apply again")
                .into(),
        ),
        Err(report) => Err(report),
    }
}

/// The one gate before anything changes, for a fresh apply and a
/// rollback alike: if any step carries a hazard the policy does not allow,
/// nothing is applied anywhere; then someone approves. (A saved plan was
/// approved when it was reviewed: it passes the hazard half only, on the
/// hazards worked out again from its changes.)
pub(super) fn gate(
    plans: &[&Plan],
    mongo: Option<&MongoPlan>,
    policy: &HazardPolicy,
    args: &ApplyArgs,
) -> Result<(), Report> {
    let mut blocked: Vec<(String, Vec<(HazardKind, String)>)> = plans
        .iter()
        .flat_map(|plan| plan.blocked(policy))
        .map(|(t, hazards)| (t.target.to_string(), hazard_lines(hazards)))
        .collect();
    if let Some(mongo) = mongo {
        blocked.extend(
            mongo
                .blocked(policy)
                .into_iter()
                .map(|(db, hazards)| (db, hazard_lines(hazards))),
        );
    }
    refuse_hazards(&blocked)?;
    approve(args, plans, mongo)
}

fn hazard_lines<'a>(
    hazards: impl IntoIterator<Item = &'a kschema_core::hazard::Hazard>,
) -> Vec<(HazardKind, String)> {
    hazards
        .into_iter()
        .map(|h| (h.kind, h.message.clone()))
        .collect()
}

/// Nothing changes before someone says so: `--yes`, or "yes" typed on the
/// terminal after the plan. Without a terminal, there is nobody to ask.
fn approve(args: &ApplyArgs, plans: &[&Plan], mongo: Option<&MongoPlan>) -> Result<(), Report> {
    use std::io::{BufRead, IsTerminal, Write};
    if args.yes {
        return Ok(());
    }
    let targets: Vec<&kschema_core::plan::TargetPlan> = plans
        .iter()
        .flat_map(|plan| &plan.targets)
        .filter(|t| !t.is_empty())
        .collect();
    let changes: usize = targets.iter().map(|t| t.steps.len()).sum::<usize>()
        + mongo.map_or(0, |m| m.change_count());
    let mongo_targets = mongo.map_or(0, |m| {
        m.targets.iter().filter(|t| !t.steps.is_empty()).count()
    });
    let what = format!(
        "{changes} change{} to {} target{}",
        if changes == 1 { "" } else { "s" },
        targets.len() + mongo_targets,
        if targets.len() + mongo_targets == 1 {
            ""
        } else {
            "s"
        }
    );
    if !std::io::stdin().is_terminal() {
        return Err(Problem::new(
            "kschema::apply::not_approved",
            format!("apply would make {what}, and there is no terminal to ask: nothing changed"),
        )
        .with_help("pass --yes (or --auto-approve) to apply without asking, or save the plan for review (kschema plan --out plan.json) and apply that: kschema apply plan.json")
        .into());
    }
    let mut err = std::io::stderr();
    let _ = write!(err, "\nApply {what}? Only 'yes' is accepted: ");
    let _ = err.flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if answer.trim() == "yes" {
        return Ok(());
    }
    Err(Problem::new(
        "kschema::apply::cancelled",
        "apply cancelled: nothing changed",
    )
    .with_help("answer yes to apply, or pass --yes")
    .into())
}

fn out_mongo(mongo: &kschema_core::mongo::MongoPlan, policy: &HazardPolicy) -> Result<(), Report> {
    print(&render_mongo_text(mongo, policy))
}

/// Runs the MongoDB steps and reports them; `false` if any database failed.
async fn apply_mongo(
    global: &GlobalArgs,
    plan: &kschema_core::mongo::MongoPlan,
    history_db: Option<&Database>,
    run: &RunInfo,
) -> Result<bool, Report> {
    let results = super::mongo::apply(global, plan, history_db, run).await?;
    let mut out = String::from("MongoDB:\n");
    for result in &results {
        match &result.error {
            None => out.push_str(&format!(
                "  ✓ {}: {} command{}\n",
                result.database,
                result.applied,
                if result.applied == 1 { "" } else { "s" }
            )),
            Some(error) => out.push_str(&format!(
                "  ✗ {}: {} command(s) ran, then: {error}\n",
                result.database, result.applied
            )),
        }
    }
    print(&out)?;
    Ok(results.iter().all(|r| r.error.is_none()))
}

/// Takes every database's run lock (all at once) and makes sure the
/// history tables exist; the locks are held until dropped.
pub(super) async fn lock_all(
    shards: &[Shard],
    args: &ApplyArgs,
    run: &RunInfo,
) -> Result<Vec<RunLock>, Report> {
    let wait = Duration::from_secs_f64(args.lock_wait.max(0.0));
    let locks = join_all(shards.iter().map(|shard| async move {
        let held = lock::acquire(&shard.db, wait, &run.run_id).await?;
        shard
            .db
            .connect()
            .await?
            .batch_execute(SETUP_SQL)
            .await
            .map_err(|e| {
                Problem::new(
                    "kschema::history::setup",
                    format!("creating kschema.history in {} failed: {e}", shard.title()),
                )
            })?;
        Ok::<RunLock, Report>(held)
    }))
    .await;
    locks.into_iter().collect()
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
            .retain(|t| t.is_public() || unfinished.iter().any(|s| s == t.schema.as_str()));
    }
    Ok(())
}

/// Refuses everything if any target has a hazard that is not allowed.
pub(super) fn refuse_hazards(
    blocked: &[(String, Vec<(HazardKind, String)>)],
) -> Result<(), Report> {
    if blocked.is_empty() {
        return Ok(());
    }
    let kinds: BTreeSet<HazardKind> = blocked
        .iter()
        .flat_map(|(_, hs)| hs.iter().map(|h| h.0))
        .collect();
    let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
    let mut help = String::new();
    for (target, hazards) in blocked.iter().take(5) {
        for (kind, message) in hazards {
            let _ = writeln!(help, "{target}: {kind} — {message}");
        }
    }
    if blocked.len() > 5 {
        let _ = writeln!(help, "… and {} more targets", blocked.len() - 5);
    }
    let destructive_only = kinds.iter().all(|k| k.is_destructive());
    let _ = write!(
        help,
        "after review, re-run with {}, or allow them per object with a `-- kschema:allow-hazard` annotation",
        if destructive_only {
            "--allow-destructive".to_string()
        } else {
            format!("--allow-hazard {}", names.join(","))
        }
    );
    Err(HazardsNotAllowed {
        count: blocked.len(),
        plural: if blocked.len() == 1 { "" } else { "s" },
        help,
    }
    .into())
}

/// Applies every database's targets at once, with progress, and sums up.
pub(super) async fn run_work(
    work: Vec<(&Database, Vec<ApplyTarget>)>,
    options: &ApplyOptions,
    up_to_date: usize,
) -> Result<ExitStatus, Report> {
    let total: usize = work.iter().map(|(_, t)| t.len()).sum();
    if total == 0 {
        return Ok(ExitStatus::Success);
    }
    let (interrupted, watcher) = watch_interrupt(&options.stop);
    let results = apply_databases(work, options, "Applying…\n").await;
    watcher.abort();
    let results = results?;
    print(&summary(&results, up_to_date))?;

    let failed: Vec<&TargetResult> = results.iter().filter(|r| !r.succeeded()).collect();
    if interrupted.load(Ordering::SeqCst) {
        print("Interrupted: targets in flight finished or rolled back; the rest did not start.\n")?;
        return Ok(ExitStatus::Interrupted);
    }
    if failed.is_empty() {
        return Ok(ExitStatus::Success);
    }
    Err(TargetsFailed::for_results(&failed, results.len()).into())
}

/// Ctrl-C sets `stop` (nothing new is scheduled; targets in flight finish
/// or roll back): whether it came, and the watcher to abort once done.
pub(super) fn watch_interrupt(
    stop: &Arc<AtomicBool>,
) -> (Arc<AtomicBool>, tokio::task::JoinHandle<()>) {
    let interrupted = Arc::new(AtomicBool::new(false));
    let watcher = {
        let interrupted = interrupted.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                interrupted.store(true, Ordering::SeqCst);
                stop.store(true, Ordering::SeqCst);
            }
        })
    };
    (interrupted, watcher)
}

/// Applies every database's targets at once, under one progress display
/// headed `heading`.
pub(super) async fn apply_databases(
    work: Vec<(&Database, Vec<ApplyTarget>)>,
    options: &ApplyOptions,
    heading: &str,
) -> Result<Vec<TargetResult>, Report> {
    let total: usize = work.iter().map(|(_, t)| t.len()).sum();
    super::events::emit(serde_json::json!({
        "event": "started",
        "what": heading.trim().trim_end_matches('…'),
        "targets": total,
    }));
    let progress = Arc::new(Mutex::new(Progress::new(total, heading)));
    let runs = join_all(work.into_iter().map(|(db, targets)| {
        let progress = progress.clone();
        async move {
            apply_targets(db, targets, options, move |result| {
                if let Ok(mut p) = progress.lock() {
                    p.done(result);
                }
            })
            .await
        }
    }))
    .await;
    if let Ok(p) = progress.lock() {
        p.finish();
    }
    let mut results = Vec::new();
    for run in runs {
        results.extend(run?);
    }
    Ok(results)
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
            super::events::emit(serde_json::json!({ "event": "backoff", "notice": notice }));
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
            Some(0) => None,
            Some(n) => Some(i32::from(n)),
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
        tenant: Default::default(),
        tenants: Default::default(),
        config: Default::default(),
        mongo: Vec::new(),
    }
}
