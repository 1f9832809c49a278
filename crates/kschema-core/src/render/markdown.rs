//! The plan as a pull-request comment: a summary table, each distinct plan
//! once with the targets it applies to, collapsible SQL, and a unified diff
//! of the schema's DDL before and after.

use std::collections::BTreeMap;
use std::fmt::Write;

use similar::TextDiff;

use super::ddl::schema_ddl;
use super::describe;
use super::not_compared::{self, LeftOut};
use super::text::group_title;
use crate::catalog::LiveState;
use crate::escape::{html_text, markdown_code, markdown_fence, markdown_text, printable_sql};
use crate::hazard::{HazardKind, HazardPolicy};
use crate::load::DesiredState;
use crate::model::SchemaModel;
use crate::plan::Plan;

/// What the Markdown needs besides the plan.
pub struct MarkdownContext<'a> {
    pub database: &'a str,
    pub desired: &'a DesiredState,
    pub live: &'a LiveState,
    pub policy: &'a HazardPolicy,
}

pub fn render_markdown(plan: &Plan, ctx: &MarkdownContext<'_>) -> String {
    let mut out = String::new();
    let groups = plan.groups();
    let changed: Vec<_> = groups.iter().filter(|g| !g.steps.is_empty()).collect();
    let up_to_date: Vec<_> = groups.iter().filter(|g| g.steps.is_empty()).collect();
    let mut hazards: BTreeMap<HazardKind, usize> = BTreeMap::new();
    for target in &plan.targets {
        for step in target.steps.iter() {
            for hazard in &step.hazards {
                *hazards.entry(hazard.kind).or_default() += 1;
            }
        }
    }

    let _ = writeln!(out, "## kschema plan\n");
    let _ = writeln!(out, "Database: {}\n", markdown_code(ctx.database));
    let targets_with_changes = plan.targets.iter().filter(|t| !t.is_empty()).count();
    let hazard_cell = if hazards.is_empty() {
        "none".to_string()
    } else {
        hazards
            .iter()
            .map(|(kind, n)| {
                let mark = if ctx.policy.allows(*kind) {
                    ""
                } else {
                    " 🛑"
                };
                format!("`{kind}` ×{n}{mark}")
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(
        out,
        "| Targets | With changes | Up to date | Changes | Distinct plans | Hazards |"
    );
    let _ = writeln!(out, "| ---: | ---: | ---: | ---: | ---: | --- |");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} |\n",
        plan.targets.len(),
        targets_with_changes,
        plan.targets.len() - targets_with_changes,
        plan.change_count(),
        changed.len(),
        hazard_cell
    );
    if hazards.keys().any(|k| !ctx.policy.allows(*k)) {
        let _ = writeln!(out, "> 🛑 `apply` refuses the hazards marked 🛑 until they are allowed (`--allow-destructive`, `--allow-hazard`, or a `-- kschema:allow-hazard` annotation).\n");
    }
    if let Some(heading) = not_compared::heading(&plan.unmanaged, LeftOut::NotCompared) {
        let _ = writeln!(out, "**{}**\n", markdown_text(&heading));
        for line in not_compared::lines(&plan.unmanaged) {
            // A kind's own line (indented) is an item of its group's.
            match line.strip_prefix("  ") {
                Some(kind) => {
                    let _ = writeln!(out, "  - {}", markdown_text(kind));
                }
                None => {
                    let _ = writeln!(out, "- {}", markdown_text(&line));
                }
            }
        }
        out.push('\n');
    }
    if changed.is_empty() {
        let _ = writeln!(
            out,
            "**No changes**: every target is up to date{}.\n",
            markdown_text(&not_compared::summary(
                &plan.unmanaged,
                LeftOut::NotCompared,
                "above"
            ))
        );
    }

    for group in &changed {
        let count = crate::plan::first_steps(&group.steps).count();
        let _ = writeln!(
            out,
            "### {} — {count} change{}\n",
            markdown_text(&group_title(group)),
            if count == 1 { "" } else { "s" }
        );
        if group.targets.len() > 1 {
            let names: Vec<String> = group
                .targets
                .iter()
                .map(|t| markdown_code(t.target.schema.as_str()))
                .collect();
            let _ = writeln!(
                out,
                "<details><summary>Schemas ({})</summary>\n\n{}\n\n</details>\n",
                names.len(),
                names.join(", ")
            );
        }
        let mut announced = None;
        for step in group.steps.iter() {
            if announced != Some(step.transaction) {
                if let Some(heading) = super::transaction_heading(step.transaction, announced) {
                    let _ = writeln!(out, "- *{heading}:*");
                }
                announced = Some(step.transaction);
            }
            let (sign, text) = describe(&step.change);
            let part = step.suffix();
            let _ = writeln!(
                out,
                "- `{sign}` {}",
                markdown_text(&format!("{text}{part}"))
            );
            for hazard in &step.hazards {
                let allowed = ctx.policy.allows(hazard.kind)
                    || step.allowed_by_annotation.contains(&hazard.kind);
                let mark = if allowed { "⚠️" } else { "🛑" };
                let _ = writeln!(
                    out,
                    "  - {mark} **{}**: {}",
                    hazard.kind,
                    markdown_text(&hazard.message)
                );
            }
        }
        for note in group.targets[0].notes.iter() {
            let _ = writeln!(out, "- 💡 {}", markdown_text(note));
        }
        let first = group.targets[0];
        let by = first.statements();
        let mut sql = String::new();
        for transaction in [&by.before, &by.transactional] {
            if !transaction.is_empty() {
                sql.push_str("BEGIN;\n");
                for statement in transaction {
                    let _ = writeln!(sql, "{};", printable_sql(statement));
                }
                sql.push_str("COMMIT;\n");
            }
        }
        for statement in &by.after {
            let _ = writeln!(sql, "{};", printable_sql(statement));
        }
        let fence = markdown_fence(&sql);
        let _ = writeln!(
            out,
            "\n<details><summary>SQL for <code>{}</code></summary>\n\n{fence}sql\n{sql}{fence}\n\n</details>\n",
            html_text(first.target.schema.as_str())
        );

        let empty = SchemaModel::default();
        let live_model = ctx
            .live
            .get(&first.target.schema)
            .map(|s| s.model.as_ref())
            .unwrap_or(&empty);
        let desired_model = &ctx.desired.scope_of(&first.target).model;
        let before = schema_ddl(live_model, &first.target.schema);
        let after = schema_ddl(desired_model, &first.target.schema);
        let diff = TextDiff::from_lines(&before, &after);
        let unified = diff
            .unified_diff()
            .context_radius(3)
            .header(
                &format!("{} (live)", first.target.schema),
                &format!("{} (desired)", first.target.schema),
            )
            .to_string();
        let unified = printable_sql(&unified);
        let fence = markdown_fence(&unified);
        let _ = writeln!(out, "<details><summary>Schema DDL, before → after</summary>\n\n{fence}diff\n{unified}{fence}\n\n</details>\n");
    }

    if !up_to_date.is_empty() {
        let titles: Vec<String> = up_to_date
            .iter()
            .map(|g| markdown_text(&group_title(g)))
            .collect();
        let _ = writeln!(out, "**Up to date:** {}\n", titles.join("; "));
    }
    if !plan.lints.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>Warnings ({})</summary>\n",
            plan.lints.len()
        );
        for lint in &plan.lints {
            let _ = writeln!(
                out,
                "- {} **{}**: {}",
                markdown_code(&lint.location),
                lint.kind.name(),
                markdown_text(&lint.message)
            );
        }
        out.push_str("\n</details>\n");
    }
    out
}
