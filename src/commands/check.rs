//! `kschema check`: is every target still what the desired state says?
//! A drift report grouped like the plan; exit 0 when in sync, 2 on drift.

use std::fmt::Write as _;

use kschema_core::plan::first_steps;
use kschema_core::render::describe;
use kschema_core::render::not_compared::{self, LeftOut};
use kschema_core::render::text::group_title;
use miette::Report;

use super::{prepare, print, LiveSource};
use crate::cli::{CheckArgs, GlobalArgs};
use crate::db::introspect::list_schemas;
use crate::ExitStatus;

pub async fn run(global: &GlobalArgs, args: &CheckArgs) -> Result<ExitStatus, Report> {
    let planned = prepare(global, &args.targets, args.against.as_deref()).await?;
    let mut out = String::new();
    let mut any_drift = false;
    for shard in &planned.shards {
        let plan = &shard.plan;
        let _ = writeln!(out, "Database: {}\n", shard.source);
        let drifted = plan.targets.iter().filter(|t| !t.is_empty()).count();
        any_drift |= drifted > 0;
        if drifted == 0 {
            let _ = writeln!(
                out,
                "In sync: all {} targets match the desired state{}.",
                plan.targets.len(),
                not_compared::summary(&plan.unmanaged, LeftOut::NotCompared, "below")
            );
        } else {
            let _ = writeln!(
                out,
                "Drift: {drifted} of {} target{} differ from the desired state.\n",
                plan.targets.len(),
                if plan.targets.len() == 1 { "" } else { "s" }
            );
            let groups = plan.groups();
            for group in groups.iter().filter(|g| !g.steps.is_empty()) {
                // An online change is two steps; the drift is one difference.
                let differences: Vec<_> = first_steps(&group.steps).collect();
                let _ = writeln!(
                    out,
                    "{}: {} difference{}",
                    group_title(group),
                    differences.len(),
                    if differences.len() == 1 { "" } else { "s" }
                );
                for step in differences {
                    let (sign, text) = describe(&step.change);
                    let _ = writeln!(out, "  {sign} {text}");
                }
            }
            for group in groups.iter().filter(|g| g.steps.is_empty()) {
                let _ = writeln!(out, "{}: in sync", group_title(group));
            }
        }
        let left_out = not_compared::block(&plan.unmanaged, LeftOut::NotCompared, "");
        if !left_out.is_empty() {
            let _ = write!(out, "\n{left_out}");
        }
        if let LiveSource::Database(db) = &shard.source {
            let managed: Vec<&str> = shard.targets.iter().map(|t| t.schema.as_str()).collect();
            let unlisted: Vec<String> = list_schemas(&db.connect().await?)
                .await?
                .into_iter()
                .filter(|s| s.starts_with("org_") && !managed.contains(&s.as_str()))
                .collect();
            if !unlisted.is_empty() {
                let _ = writeln!(
                    out,
                    "\nTenant-like schemas not in tenants.toml (left alone): {}",
                    unlisted.join(", ")
                );
            }
        }
        out.push('\n');
    }
    if let Some(mongo) = &planned.mongo {
        match &mongo.skipped {
            Some(reason) => {
                let _ = writeln!(out, "MongoDB: skipped — {reason}\n");
            }
            None => {
                for target in &mongo.targets {
                    if target.steps.is_empty() {
                        let _ = writeln!(out, "MongoDB {}: in sync", target.database);
                    } else {
                        any_drift = true;
                        let _ = writeln!(
                            out,
                            "MongoDB {}: {} difference{}",
                            target.database,
                            target.steps.len(),
                            if target.steps.len() == 1 { "" } else { "s" }
                        );
                        for step in &target.steps {
                            let _ = writeln!(out, "  {}", step.description);
                        }
                    }
                }
                out.push('\n');
            }
        }
    }
    if any_drift {
        let _ = writeln!(
            out,
            "`kschema plan` shows the statements that converge them; `kschema apply` runs them."
        );
    }
    print(&out)?;
    Ok(if any_drift {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}
