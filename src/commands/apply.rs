//! `kschema apply`: converge public and the chosen tenants.
//!
//! The whole plan is checked before anything runs: if any step carries a
//! hazard that is not allowed, nothing is applied anywhere.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use kschema_core::hazard::{HazardKind, HazardPolicy};
use kschema_core::render::text::{render_text, TextOptions};
use miette::{Diagnostic, Report};
use thiserror::Error;

use super::{prepare, print, use_color};
use crate::cli::{ApplyArgs, GlobalArgs};
use crate::db::apply::{
    apply_plan, ApplyOptions, LockTimeout, Outcome, StatementTimeout, TargetResult,
};

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
    let policy = policy(args);
    let planned = prepare(global, &args.targets).await?;
    let plan = &planned.plan;
    let text = render_text(
        plan,
        &TextOptions {
            color: use_color(global.color),
            policy: policy.clone(),
        },
    );
    print(&format!("Database: {}\n\n{text}", planned.db))?;
    if plan.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }

    let blocked = plan.blocked(&policy);
    if !blocked.is_empty() {
        let kinds: BTreeSet<HazardKind> = blocked
            .iter()
            .flat_map(|(_, hs)| hs.iter().map(|h| h.kind))
            .collect();
        let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
        let mut help = String::new();
        for (target, hazards) in blocked.iter().take(5) {
            for hazard in hazards {
                let _ = writeln!(
                    help,
                    "{}: {} — {}",
                    target.target, hazard.kind, hazard.message
                );
            }
        }
        if blocked.len() > 5 {
            let _ = writeln!(help, "… and {} more targets", blocked.len() - 5);
        }
        let destructive_only = kinds.iter().all(|k| k.is_destructive());
        let _ = write!(
            help,
            "after review, re-run with {}",
            if destructive_only {
                "--allow-destructive".to_string()
            } else {
                format!("--allow-hazard {}", names.join(","))
            }
        );
        return Err(HazardsNotAllowed {
            count: blocked.len(),
            plural: if blocked.len() == 1 { "" } else { "s" },
            help,
        }
        .into());
    }

    let options = ApplyOptions {
        concurrency: usize::from(args.concurrency),
        lock_timeout: LockTimeout(Duration::from_secs_f64(args.lock_timeout.max(0.001))),
        statement_timeout: StatementTimeout(
            (args.statement_timeout > 0.0).then(|| Duration::from_secs_f64(args.statement_timeout)),
        ),
        lock_attempts: args.lock_attempts,
    };
    print("Applying…\n")?;
    let results = apply_plan(&planned.db, plan, &options, |result| {
        let _ = print(&describe_result(result));
    })
    .await?;

    let failed: Vec<&TargetResult> = results.iter().filter(|r| !r.succeeded()).collect();
    let converged = results.len() - failed.len();
    let up_to_date = plan.targets.len() - results.len();
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

fn policy(args: &ApplyArgs) -> HazardPolicy {
    let mut policy = HazardPolicy::default();
    if args.allow_destructive {
        policy = policy.allow_destructive();
    }
    policy.allowed.extend(args.allow_hazards.iter().copied());
    policy
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
