//! The plan as a script `psql -v ON_ERROR_STOP=1 -f` runs: one transaction
//! per target, then that target's statements that cannot run in one.

use std::fmt::Write;

use super::describe;
use crate::plan::Plan;

pub fn render_sql(plan: &Plan, header: &[String]) -> String {
    let mut out = String::new();
    for line in header {
        let _ = writeln!(out, "-- {line}");
    }
    if plan.is_empty() {
        out.push_str("-- No changes: every target is up to date.\n");
        return out;
    }
    for target in plan.targets.iter().filter(|t| !t.is_empty()) {
        let (transactional, after) = target.statements();
        let _ = writeln!(out, "\n-- {}", target.target);
        for step in target.steps.iter() {
            let (sign, text) = describe(&step.change);
            let part = step
                .part
                .as_ref()
                .map(|p| format!(" — {p}"))
                .unwrap_or_default();
            let _ = writeln!(out, "--   {sign} {text}{part}");
            for hazard in &step.hazards {
                let _ = writeln!(out, "--       ! {}: {}", hazard.kind, hazard.message);
            }
        }
        if !transactional.is_empty() {
            out.push_str("BEGIN;\n");
            for statement in &transactional {
                let _ = writeln!(out, "{statement};");
            }
            out.push_str("COMMIT;\n");
        }
        if !after.is_empty() {
            out.push_str("-- outside a transaction:\n");
            for statement in &after {
                let _ = writeln!(out, "{statement};");
            }
        }
    }
    out
}
