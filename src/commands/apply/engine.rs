//! The apply engine every path that changes a database goes through — a
//! fresh plan (`apply`), a saved one (`apply PLAN.json`), a rollback,
//! `tenant add` and `verify` (through `apply`, in-process) and `tenant
//! remove` (its one drop as a target): lock every database of the run, gate
//! (hazards the policy does not allow refuse the whole run; then someone
//! approves), execute (PostgreSQL in waves or all at once, each target's
//! history row committed with it; then MongoDB), one verdict.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::join_all;
use kschema_core::hazard::{HazardKind, HazardPolicy};
use kschema_core::mongo::MongoPlan;
use kschema_core::plan::Plan;
use kschema_core::Problem;
use miette::{Diagnostic, Report};
use thiserror::Error;

use super::super::print;
use super::report::{summary, Progress};
use super::rollout;
use crate::cli::{ApplyArgs, GlobalArgs};
use crate::db::apply::{apply_targets, ApplyOptions, ApplyTarget, TargetResult};
use crate::db::history::{RunInfo, SETUP_SQL};
use crate::db::lock::{self, RunLock};
use crate::db::Database;
use crate::run::fleet::Shard;
use crate::ExitStatus;

#[derive(Debug, Error, Diagnostic)]
#[error("apply refused: {count} target{plural} would run hazards that are not allowed; nothing was applied")]
#[diagnostic(code(kschema::apply::hazards), help("{help}"))]
struct HazardsNotAllowed {
    count: usize,
    plural: &'static str,
    help: String,
}

/// The engine's last stage, the same for a fresh plan and a saved one:
/// the PostgreSQL work (in waves when a rollout is asked for, each target's
/// history row committed with it), then MongoDB's steps, then one verdict.
#[allow(clippy::too_many_arguments)]
pub(in crate::commands) async fn execute(
    global: &GlobalArgs,
    work: Vec<rollout::DatabaseWork<'_>>,
    in_waves: Option<rollout::Rollout>,
    options: &ApplyOptions,
    up_to_date: usize,
    mongo: Option<&MongoPlan>,
    main_db: Option<&Database>,
    mongo_help: &str,
) -> Result<ExitStatus, Report> {
    let run = options.run.clone().unwrap_or_default();
    let postgres = match in_waves {
        Some(in_waves) => rollout::run(work, options, up_to_date, in_waves).await,
        None => {
            let work = work.into_iter().map(|w| (w.db, w.targets)).collect();
            run_work(work, options, up_to_date).await
        }
    };
    let mongo_converged = match mongo {
        Some(plan) if !plan.is_empty() => apply_mongo(global, plan, main_db, &run).await?,
        _ => true,
    };
    match postgres {
        Ok(status) if mongo_converged => Ok(status),
        Ok(_) => Err(
            Problem::new("kschema::apply::mongo", "MongoDB did not converge")
                .with_help(mongo_help.to_string())
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
pub(in crate::commands) fn gate(
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

pub(in crate::commands) fn hazard_lines<'a>(
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
    let changes: usize = plans.iter().map(|plan| plan.change_count()).sum::<usize>()
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

/// Runs the MongoDB steps and reports them; `false` if any database failed.
pub(in crate::commands) async fn apply_mongo(
    global: &GlobalArgs,
    plan: &kschema_core::mongo::MongoPlan,
    history_db: Option<&Database>,
    run: &RunInfo,
) -> Result<bool, Report> {
    let results = crate::run::mongo::apply(global, plan, history_db, run).await?;
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
pub(in crate::commands) async fn lock_all(
    shards: &[Shard],
    args: &ApplyArgs,
    run: &RunInfo,
) -> Result<Vec<RunLock>, Report> {
    lock_databases(shards.iter().map(|s| (&s.db, s.title())), args, run).await
}

/// [`lock_all`] for databases named by their title (`main database`,
/// `database eu`): a saved plan's.
pub(in crate::commands) async fn lock_databases<'a>(
    databases: impl IntoIterator<Item = (&'a Database, String)>,
    args: &ApplyArgs,
    run: &RunInfo,
) -> Result<Vec<RunLock>, Report> {
    let wait = Duration::from_secs_f64(args.lock_wait.max(0.0));
    let locks = join_all(databases.into_iter().map(|(db, title)| async move {
        let held = lock::acquire(db, wait, &run.run_id).await?;
        db.connect()
            .await?
            .batch_execute(SETUP_SQL)
            .await
            .map_err(|e| {
                Problem::new(
                    "kschema::history::setup",
                    format!("creating kschema.history in {title} failed: {e}"),
                )
            })?;
        Ok::<RunLock, Report>(held)
    }))
    .await;
    locks.into_iter().collect()
}

/// Refuses everything if any target has a hazard that is not allowed.
pub(in crate::commands) fn refuse_hazards(
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
pub(in crate::commands) async fn run_work(
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

#[derive(Debug, Error, Diagnostic)]
#[error("{failed} of {total} target{plural} did not converge")]
#[diagnostic(code(kschema::apply::failed), help("{help}"))]
pub(in crate::commands) struct TargetsFailed {
    failed: usize,
    total: usize,
    plural: &'static str,
    help: String,
}

impl TargetsFailed {
    /// `failed` of `total` results, with how to retry just those.
    pub(in crate::commands) fn for_results(
        failed: &[&TargetResult],
        total: usize,
    ) -> TargetsFailed {
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

/// Ctrl-C sets `stop` (nothing new is scheduled; targets in flight finish
/// or roll back): whether it came, and the watcher to abort once done.
pub(in crate::commands) fn watch_interrupt(
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
pub(in crate::commands) async fn apply_databases(
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
