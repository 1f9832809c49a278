//! The MongoDB section of a text plan.

use super::plan::MongoPlan;

/// The MongoDB section of a text plan.
pub fn render_mongo_text(plan: &MongoPlan, policy: &crate::hazard::HazardPolicy) -> String {
    use crate::escape::printable;
    use std::fmt::Write;
    let mut out = String::new();
    if let Some(reason) = &plan.skipped {
        let _ = writeln!(out, "MongoDB: skipped — {}\n", printable(reason));
        return out;
    }
    let _ = writeln!(out, "MongoDB: {}\n", printable(&plan.source));
    for (targets, steps) in plan.groups() {
        let title = match targets.as_slice() {
            [one] => format!("database {}", one.database),
            many => format!(
                "{} databases ({})",
                many.len(),
                many.iter()
                    .take(10)
                    .map(|t| t.database.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let title = printable(&title);
        if steps.is_empty() {
            let _ = writeln!(out, "{title}: up to date");
            continue;
        }
        let _ = writeln!(
            out,
            "{title}: {} change{}",
            steps.len(),
            if steps.len() == 1 { "" } else { "s" }
        );
        for step in steps {
            let _ = writeln!(out, "  {}", printable(&step.description));
            for hazard in &step.hazards {
                let gate = if policy.allows(hazard.kind) {
                    String::new()
                } else {
                    format!("  [blocked: needs --allow-hazard {}]", hazard.kind)
                };
                let _ = writeln!(
                    out,
                    "      ! {}: {}{gate}",
                    hazard.kind,
                    printable(&hazard.message)
                );
            }
        }
        for target in &targets {
            for (collection, count) in &target.invalid_documents {
                let _ = writeln!(
                    out,
                    "  {} document{} of {} would not pass the new validator",
                    count,
                    if *count == 1 { "" } else { "s" },
                    printable(&format!("{}.{collection}", target.database))
                );
            }
        }
    }
    out.push('\n');
    out
}
