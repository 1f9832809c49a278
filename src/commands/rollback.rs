//! `kschema rollback`: undo the most recent apply recorded in
//! `kschema.history`, by planning each target towards the schema it had
//! before that run (kept in `kschema.shapes`). The plan has the same hazards
//! and gates as any other: dropping a column added since, with data in it,
//! needs the allow.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use kschema_core::load::row_reads;
use kschema_core::load::LoadedScope;
use kschema_core::model::SchemaName;
use kschema_core::plan::{defer_shared_drops, plan_schema, Plan, TargetPlan};
use kschema_core::render::text::{render_text, TextOptions};
use kschema_core::Problem;
use miette::Report;

use super::apply::{apply_options, gate, lock_all, policy, run_work};
use super::{argument_problem, plan_options, print, use_color};
use crate::cli::{ApplyArgs, GlobalArgs};
use crate::db::apply::ApplyTarget;
use crate::db::history::{self, RunInfo};
use crate::db::introspect::introspect_database;
use crate::db::Database;
use crate::run::fleet;
use crate::ExitStatus;

pub async fn run(global: &GlobalArgs, args: &ApplyArgs) -> Result<ExitStatus, Report> {
    // rollback shares apply's flags; these three choose a different state.
    let conflicting = [
        (args.plan_file.is_some(), "PLAN_FILE"),
        (args.targets.desired_rev.is_some(), "--desired-rev"),
        (args.only_failed, "--only-failed"),
    ];
    if let Some((_, flag)) = conflicting.iter().find(|(given, _)| *given) {
        return Err(argument_problem(
            "kschema::rollback::arguments",
            format!("rollback does not take {flag}"),
            &format!("kschema rollback {flag}"),
            "not a rollback option",
            "rollback returns each target to the state before the newest recorded run; \
             to go to a git revision's state use `kschema apply --desired-rev REV`"
                .into(),
        )
        .into());
    }
    let desired = super::load_desired(global, &args.targets)?;
    let (desired, shards) = fleet::resolve(global, desired, &args.targets.selection()?).await?;
    let run = RunInfo::new();
    let _locks = lock_all(&shards, args, &run).await?;
    let options = plan_options(&desired, &args.targets);
    let policy = policy(&desired, args);

    // Each target's most recent applied run; the rollback undoes the
    // newest of those runs, in the targets it touched.
    let mut recorded = Vec::new();
    for shard in &shards {
        let client = shard.db.connect().await?;
        let mut rows = Vec::new();
        for target in &shard.targets {
            let row = history::model_before_last_run(&client, target.schema.as_str())
                .await
                .map_err(|e| {
                    Problem::new(
                        "kschema::history::read",
                        format!("reading kschema.history failed: {e}"),
                    )
                })?;
            rows.push(row);
        }
        recorded.push(rows);
    }
    let Some(latest_run) = recorded
        .iter()
        .flatten()
        .flatten()
        .max_by_key(|(row, _)| row.started_at)
        .map(|(row, _)| row.run_id.clone())
    else {
        return Err(Problem::new(
            "kschema::rollback::nothing",
            "no apply is recorded for these targets: nothing to roll back",
        )
        .with_help("kschema.history records what `kschema apply` ran; `kschema history` shows it")
        .into());
    };

    let mut out = String::new();
    let mut unknown = Vec::new();
    let mut work: Vec<(&Database, Vec<ApplyTarget>)> = Vec::new();
    let mut plans = Vec::new();
    for (shard, rows) in shards.iter().zip(recorded) {
        let mut before: BTreeMap<SchemaName, (String, kschema_core::model::SchemaModel)> =
            BTreeMap::new();
        for (target, recorded) in shard.targets.iter().zip(rows) {
            match recorded {
                // Not part of the latest run: left as it is.
                None => {}
                Some((row, _)) if row.run_id != latest_run => {}
                Some((row, Some(model))) => {
                    before.insert(target.schema.clone(), (row.run_id, model));
                }
                Some((row, None)) => unknown.push(format!(
                    "{target}: run {} recorded no starting state (its schema model is not in kschema.shapes)",
                    row.run_id
                )),
            }
        }
        let schemas: Vec<SchemaName> = before.keys().cloned().collect();
        let live = introspect_database(&shard.db, &schemas, &row_reads(&desired)).await?;
        let mut plan = Plan::default();
        let has_tenants = before.keys().any(|schema| schema.as_str() != "public");
        for target in shard
            .targets
            .iter()
            .filter(|t| before.contains_key(&t.schema))
        {
            let (run_id, model) = &before[&target.schema];
            let scope = LoadedScope {
                model: model.without_rows(),
                ..LoadedScope::default()
            };
            let live_schema = live.get(&target.schema);
            let mut shape = plan_schema(live_schema.map(|s| s.model.as_ref()), &scope, options);
            if target.is_shared() && has_tenants {
                defer_shared_drops(&mut shape.steps);
            }
            let _ = writeln!(out, "{target}: back to the state before run {run_id}");
            plan.targets.push(TargetPlan {
                target: target.clone(),
                live_fingerprint: live_schema
                    .map(|s| s.fingerprint)
                    .unwrap_or_else(kschema_core::catalog::Fingerprint::absent),
                steps: std::sync::Arc::new(shape.steps),
                notes: std::sync::Arc::new(shape.notes),
            });
        }
        plans.push((shard, plan, live));
    }
    if !unknown.is_empty() {
        return Err(Problem::new(
            "kschema::rollback::unknown",
            "cannot roll back: the state before the last run is unknown",
        )
        .with_help(format!(
            "{}\nroll back with `kschema apply --desired-rev REV` instead",
            unknown.join("\n")
        ))
        .into());
    }
    for (shard, plan, _) in &plans {
        let options = TextOptions {
            color: use_color(global.color),
            policy: policy.clone(),
        };
        let _ = write!(
            out,
            "\nDatabase: {}\n\n{}",
            shard.db,
            render_text(plan, &options)
        );
    }
    print(&out)?;
    let to_gate: Vec<&Plan> = plans.iter().map(|(_, plan, _)| plan).collect();
    // Like apply: refused whole over a hazard not allowed, and asked first.
    if !to_gate.iter().all(|plan| plan.is_empty()) {
        gate(&to_gate, None, &policy, args)?;
    }
    for (shard, plan, live) in &plans {
        work.push((&shard.db, ApplyTarget::all(plan, live)));
    }
    let up_to_date = plans
        .iter()
        .flat_map(|(_, p, _)| &p.targets)
        .filter(|t| t.is_empty())
        .count();
    run_work(work, &apply_options(&desired, args, run), up_to_date).await
}
