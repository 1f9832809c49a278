//! `kschema apply`: converge public and the chosen tenants, or run a plan
//! saved with `plan --out`.
//!
//! The whole plan is checked before anything runs: if any step carries a
//! hazard that is not allowed, nothing is applied anywhere.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use kschema_core::catalog::Fingerprint;
use kschema_core::hazard::{HazardKind, HazardPolicy};
use kschema_core::load::{DesiredState, TenantId};
use kschema_core::model::SchemaName;
use kschema_core::plan::Target;
use kschema_core::render::json::{PlanDocument, FORMAT_VERSION};
use kschema_core::render::text::{render_text, TextOptions};
use kschema_core::{Problem, SourceFile};
use miette::{Diagnostic, Report};
use thiserror::Error;

use super::{open_database, prepare, print, use_color};
use crate::cli::{ApplyArgs, GlobalArgs};
use crate::db::apply::{
    apply_targets, ApplyOptions, ApplyStep, ApplyTarget, LockTimeout, Outcome, StatementTimeout,
    TargetResult,
};
use crate::db::introspect::introspect;

#[derive(Debug, Error, Diagnostic)]
#[error("apply refused: {count} target{plural} would run hazards that are not allowed; nothing was applied")]
#[diagnostic(code(kschema::apply::hazards), help("{help}"))]
struct HazardsNotAllowed {
    count: usize,
    plural: &'static str,
    help: String,
}

#[derive(Debug, Error, Diagnostic)]
#[error("{failed} of {total} target{plural} failed")]
#[diagnostic(code(kschema::apply::failed), help("{help}"))]
struct TargetsFailed {
    failed: usize,
    total: usize,
    plural: &'static str,
    help: String,
}

pub async fn run(global: &GlobalArgs, args: &ApplyArgs) -> Result<ExitCode, Report> {
    if let Some(path) = &args.plan_file {
        return run_saved(global, args, path).await;
    }
    let planned = prepare(global, &args.targets, None).await?;
    let policy = policy(&planned.desired, args);
    let plan = &planned.plan;
    let text = render_text(
        plan,
        &TextOptions {
            color: use_color(global.color),
            policy: policy.clone(),
        },
    );
    print(&format!("Database: {}\n\n{text}", planned.source))?;
    if plan.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let blocked: Vec<(String, Vec<(HazardKind, String)>)> = plan
        .blocked(&policy)
        .into_iter()
        .map(|(t, hazards)| {
            (
                t.target.to_string(),
                hazards
                    .iter()
                    .map(|h| (h.kind, h.message.clone()))
                    .collect(),
            )
        })
        .collect();
    refuse_hazards(&blocked)?;
    let super::LiveSource::Database(db) = &planned.source else {
        return Err(Problem::new(
            "kschema::apply::snapshot",
            "apply needs a database, not a snapshot",
        )
        .into());
    };
    let options = apply_options(&planned.desired, args);
    let up_to_date = plan.targets.iter().filter(|t| t.is_empty()).count();
    run_targets(db, ApplyTarget::all(plan), &options, up_to_date).await
}

/// Applies a saved plan: exactly its statements, for the targets whose live
/// state still has the fingerprint recorded when it was made.
async fn run_saved(global: &GlobalArgs, args: &ApplyArgs, path: &Path) -> Result<ExitCode, Report> {
    let document = read_plan(path)?;
    // Settings still come from the project (kschema.toml), when there is one.
    let desired = kschema_core::load::load_project(&global.project).ok();
    let db = open_database(global).await?;
    if document.database != db.to_string() {
        return Err(Problem::new(
            "kschema::apply::other_database",
            format!("the plan was made for {}, not for {db}", document.database),
        )
        .with_help("apply a saved plan to the database it was made for, or make a new plan")
        .into());
    }
    let mut targets = Vec::new();
    for target in &document.targets {
        let tenant = match &target.tenant {
            Some(id) => Some(TenantId::parse(id).map_err(|reason| {
                Problem::new(
                    "kschema::apply::plan_file",
                    format!("{}: tenant {id:?}: {reason}", path.display()),
                )
            })?),
            None => None,
        };
        targets.push(Target {
            schema: SchemaName::new(&target.schema),
            tenant,
        });
    }
    let schemas: Vec<SchemaName> = targets.iter().map(|t| t.schema.clone()).collect();
    let live = introspect(&db.connect().await?, &schemas).await?;

    let mut out = format!(
        "Database: {db}\nPlan: {} (made against the same database)\n\n",
        path.display()
    );
    let policy = match &desired {
        Some(desired) => policy(desired, args),
        None => policy_from(HazardPolicy::default(), args),
    };
    let options = match &desired {
        Some(desired) => apply_options(desired, args),
        None => apply_options(&empty_project(), args),
    };
    let mut blocked = Vec::new();
    let mut changed = Vec::new();
    let mut runnable = Vec::new();
    for (target, saved) in targets.iter().zip(&document.targets) {
        if saved.steps.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "{target}: {} change{}",
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
        let now = live
            .get(&target.schema)
            .map(|s| s.fingerprint)
            .unwrap_or_else(Fingerprint::absent);
        if now.to_string() != saved.live_fingerprint {
            changed.push(target.to_string());
            continue;
        }
        let hazards: Vec<(HazardKind, String)> = saved
            .steps
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
            blocked.push((target.to_string(), hazards));
        }
        runnable.push(ApplyTarget {
            target: target.clone(),
            steps: saved
                .steps
                .iter()
                .map(|s| ApplyStep {
                    statements: s.statements.clone(),
                    transaction: s.transaction,
                    before_retry: s.before_retry.clone(),
                })
                .collect(),
        });
    }
    print(&out)?;
    refuse_hazards(&blocked)?;
    if !changed.is_empty() {
        print(&format!(
            "\nRefused — the live state changed since the plan was made: {}\n",
            changed.join(", ")
        ))?;
        // Tenant schemas rely on public: without it, none of them runs.
        if changed.iter().any(|t| t == "public") {
            runnable.clear();
        }
    }
    let up_to_date = document
        .targets
        .iter()
        .filter(|t| t.steps.is_empty())
        .count();
    let result = run_targets(&db, runnable, &options, up_to_date).await;
    if changed.is_empty() {
        return result;
    }
    result?;
    Err(Problem::new(
        "kschema::apply::stale_plan",
        format!(
            "{} target{} changed since the plan was made and were not applied",
            changed.len(),
            if changed.len() == 1 { "" } else { "s" }
        ),
    )
    .with_help("make a new plan (`kschema plan --out …`), review it, and apply that")
    .into())
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

/// Refuses everything if any target has a hazard that is not allowed.
fn refuse_hazards(blocked: &[(String, Vec<(HazardKind, String)>)]) -> Result<(), Report> {
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

async fn run_targets(
    db: &crate::db::Database,
    targets: Vec<ApplyTarget>,
    options: &ApplyOptions,
    up_to_date: usize,
) -> Result<ExitCode, Report> {
    if targets.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    print("Applying…\n")?;
    let results = apply_targets(db, targets, options, |result| {
        let _ = print(&describe_result(result));
    })
    .await?;

    let failed: Vec<&TargetResult> = results.iter().filter(|r| !r.succeeded()).collect();
    let converged = results.len() - failed.len();
    print(&format!(
        "\nApplied: {converged} target{} converged, {} failed, {up_to_date} already up to date.\n",
        if converged == 1 { "" } else { "s" },
        failed.len()
    ))?;
    if failed.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let retry: Vec<String> = failed
        .iter()
        .filter_map(|r| r.target.tenant.as_ref().map(|t| t.to_string()))
        .collect();
    let help = if retry.is_empty() {
        "fix the cause above and run the same command again".to_string()
    } else {
        format!(
            "fix the cause above, then retry only these: kschema apply --tenant {}",
            retry.join(",")
        )
    };
    Err(TargetsFailed {
        failed: failed.len(),
        total: results.len(),
        plural: if results.len() == 1 { "" } else { "s" },
        help,
    }
    .into())
}

/// The project's hazard policy with the command line's allowances.
fn policy(desired: &DesiredState, args: &ApplyArgs) -> HazardPolicy {
    policy_from(super::project_policy(desired), args)
}

fn policy_from(mut policy: HazardPolicy, args: &ApplyArgs) -> HazardPolicy {
    if args.allow_destructive {
        policy = policy.allow_destructive();
    }
    policy.allowed.extend(args.allow_hazards.iter().copied());
    policy
}

/// Flags first, then kschema.toml, then the defaults.
fn apply_options(desired: &DesiredState, args: &ApplyArgs) -> ApplyOptions {
    let config = &desired.config.apply;
    let defaults = ApplyOptions::default();
    let statement_timeout = args.statement_timeout.or(config.statement_timeout);
    ApplyOptions {
        concurrency: args
            .concurrency
            .or(config.concurrency)
            .map(usize::from)
            .unwrap_or(defaults.concurrency),
        lock_timeout: args
            .lock_timeout
            .or(config.lock_timeout)
            .map(|s| LockTimeout(Duration::from_secs_f64(s.max(0.001))))
            .unwrap_or(defaults.lock_timeout),
        statement_timeout: match statement_timeout {
            Some(s) if s > 0.0 => StatementTimeout(Some(Duration::from_secs_f64(s))),
            Some(_) => StatementTimeout(None),
            None => defaults.statement_timeout,
        },
        lock_attempts: args
            .lock_attempts
            .or(config.lock_attempts)
            .unwrap_or(defaults.lock_attempts),
    }
}

fn empty_project() -> DesiredState {
    DesiredState {
        root: std::path::PathBuf::new(),
        public: Default::default(),
        tenant: Default::default(),
        tenants: Default::default(),
        config: Default::default(),
    }
}

fn describe_result(result: &TargetResult) -> String {
    match &result.outcome {
        Outcome::Applied {
            statements,
            elapsed,
        } => format!(
            "  ✓ {}: {statements} statement{} in {:.2}s\n",
            result.target,
            if *statements == 1 { "" } else { "s" },
            elapsed.as_secs_f64()
        ),
        Outcome::Failed(failure) => {
            let state = if failure.committed {
                "its transaction committed; the statements after it did not all run (the next apply finishes them)"
            } else {
                "rolled back, nothing changed"
            };
            format!(
                "  ✗ {}: failed — {state}\n      statement: {}\n      {}\n",
                result.target,
                first_line(&failure.statement),
                failure.error.replace('\n', "\n      ")
            )
        }
        Outcome::Skipped { reason } => format!("  - {}: skipped ({reason})\n", result.target),
    }
}

fn first_line(text: &str) -> String {
    match text.split_once('\n') {
        Some((first, _)) => format!("{first} …"),
        None => text.to_string(),
    }
}
