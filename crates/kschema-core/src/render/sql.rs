//! The plan as a script `psql -v ON_ERROR_STOP=1 -f` runs: one transaction
//! per target (after the enum labels it uses, committed on their own), then
//! that target's statements that cannot run in one.

use std::fmt::Write;

use super::describe;
use super::not_compared::{self, LeftOut};
use crate::escape::{printable, printable_sql};
use crate::model::SchemaName;
use crate::plan::{search_path, statements_by_transaction, Plan, Step, TargetPlan};

pub fn render_sql(plan: &Plan, header: &[String]) -> String {
    let mut out = String::new();
    for line in header {
        let _ = writeln!(out, "-- {}", printable(line));
    }
    out.push_str(&not_compared::block(
        &plan.unmanaged,
        LeftOut::NotCompared,
        "-- ",
    ));
    if plan.is_empty() {
        let _ = writeln!(
            out,
            "-- No changes: every target is up to date{}.",
            not_compared::summary(&plan.unmanaged, LeftOut::NotCompared, "above")
        );
        return out;
    }
    for target in plan.targets.iter().filter(|t| !t.is_empty()) {
        write_target(&mut out, target, false);
    }
    // Public drops tenant foreign keys may depend on: after the tenants.
    for target in plan.targets.iter() {
        write_target(&mut out, target, true);
    }
    out
}

/// The target's steps that run before the tenants (`after_tenants` false)
/// or after them.
fn write_target(out: &mut String, target: &TargetPlan, after_tenants: bool) {
    let steps: Vec<&Step> = target
        .steps
        .iter()
        .filter(|s| s.after_tenants == after_tenants)
        .collect();
    if steps.is_empty() {
        return;
    }
    let when = if after_tenants {
        ", after the tenant schemas"
    } else {
        ""
    };
    let _ = writeln!(out, "\n-- {}{when}", target.target);
    for step in &steps {
        let (sign, text) = describe(&step.change);
        let part = step.suffix();
        let _ = writeln!(out, "--   {sign} {text}{}", printable(&part));
        for hazard in &step.hazards {
            let _ = writeln!(
                out,
                "--       ! {}: {}",
                hazard.kind,
                printable(&hazard.message)
            );
        }
    }
    let by = statements_by_transaction(steps.iter().copied(), &target.target.schema);
    let schema = &target.target.schema;
    if !by.before.is_empty() {
        out.push_str("-- committed first, on its own: the transaction below uses these labels\n");
        write_transaction(out, schema, &by.before);
    }
    if !by.transactional.is_empty() {
        write_transaction(out, schema, &by.transactional);
    }
    let outside = by.after;
    if !outside.is_empty() {
        out.push_str("-- outside a transaction:\n");
        let _ = writeln!(
            out,
            "{};",
            printable_sql(&search_path(false).render(schema))
        );
        for statement in &outside {
            let _ = writeln!(out, "{};", printable_sql(statement));
        }
    }
}

fn write_transaction(out: &mut String, schema: &SchemaName, statements: &[String]) {
    out.push_str("BEGIN;\n");
    let _ = writeln!(out, "{};", printable_sql(&search_path(true).render(schema)));
    for statement in statements {
        let _ = writeln!(out, "{};", printable_sql(statement));
    }
    out.push_str("COMMIT;\n");
}
