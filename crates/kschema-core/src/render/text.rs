//! The plan as people read it: targets with the same steps are one block,
//! up-to-date targets one line, hazards marked on the step they belong to.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::not_compared::{self, LeftOut};
use super::{describe, plural};
use crate::escape::printable;
use crate::hazard::{HazardKind, HazardPolicy};
use crate::plan::{Plan, PlanGroup, Target};

/// How many tenant ids a group lists before "and N more".
const LISTED_TENANTS: usize = 10;

/// Text-output settings.
#[derive(Clone, Debug, Default)]
pub struct TextOptions {
    /// ANSI colors (for a terminal).
    pub color: bool,
    /// The hazards apply would be allowed; the others are marked blocked.
    pub policy: HazardPolicy,
}

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn sign(&self, sign: char) -> String {
        let code = match sign {
            '+' => "32",
            '-' => "31",
            _ => "33",
        };
        self.wrap(code, &sign.to_string())
    }
}

pub fn render_text(plan: &Plan, options: &TextOptions) -> String {
    let paint = Paint { on: options.color };
    let mut out = String::new();
    let groups = plan.groups();
    let mut up_to_date: Vec<&PlanGroup<'_>> = Vec::new();
    for group in &groups {
        if group.steps.is_empty() {
            up_to_date.push(group);
            continue;
        }
        let count = crate::plan::first_steps(&group.steps).count();
        let each = if group.targets.len() > 1 { " each" } else { "" };
        let _ = writeln!(
            out,
            "{}: {count} change{}{each}",
            paint.wrap("1", &group_title(group)),
            plural(count)
        );
        let mut announced = None;
        for step in group.steps.iter() {
            if announced != Some(step.transaction) {
                if let Some(heading) = super::transaction_heading(step.transaction, announced) {
                    let _ = writeln!(out, "  {}", paint.wrap("2", &format!("{heading}:")));
                }
                announced = Some(step.transaction);
            }
            let (sign, text) = describe(&step.change);
            let part = step.suffix();
            let _ = writeln!(out, "  {} {text}{}", paint.sign(sign), printable(&part));
            for hazard in &step.hazards {
                let gate = if options.policy.allows(hazard.kind) {
                    String::new()
                } else if step.allowed_by_annotation.contains(&hazard.kind) {
                    "  [allowed by annotation]".to_string()
                } else {
                    format!("  [blocked: {}]", unblock_hint(hazard.kind))
                };
                let mark = paint.wrap(
                    if gate.is_empty() { "33" } else { "1;31" },
                    &format!("! {}", hazard.kind),
                );
                let _ = writeln!(out, "      {mark}: {}{gate}", printable(&hazard.message));
            }
        }
        for note in group.targets[0].notes.iter() {
            let _ = writeln!(out, "  {} {}", paint.wrap("36", "note:"), printable(note));
        }
        out.push('\n');
    }
    for group in &up_to_date {
        let _ = writeln!(out, "{}: up to date", group_title(group));
    }
    if !up_to_date.is_empty() {
        out.push('\n');
    }
    if let Some(heading) = not_compared::heading(&plan.unmanaged, LeftOut::NotCompared) {
        let _ = writeln!(out, "{}", paint.wrap("36", &heading));
        for line in not_compared::lines(&plan.unmanaged) {
            let _ = writeln!(out, "  {}", printable(&line));
        }
        out.push('\n');
    }
    // The warnings themselves are `kschema lint`'s: a plan that changes
    // nothing stays short.
    if !plan.lints.is_empty() {
        let _ = writeln!(
            out,
            "{}: kschema lint shows {}.\n",
            paint.wrap(
                "33",
                &format!(
                    "{} warning{} about the desired state",
                    plan.lints.len(),
                    if plan.lints.len() == 1 { "" } else { "s" }
                )
            ),
            if plan.lints.len() == 1 { "it" } else { "them" }
        );
    }
    out.push_str(&summary(plan, &options.policy));
    out.push('\n');
    out
}

/// `public`, `tenant abc123 (org_abc123)` or `3 tenants: a, b, c`.
pub fn group_title(group: &PlanGroup<'_>) -> String {
    let targets: Vec<&Target> = group.targets.iter().map(|t| &t.target).collect();
    targets_title(group.shared, &targets)
}

/// The title of a group of targets that share something.
pub fn targets_title(shared: bool, targets: &[&Target]) -> String {
    if let ([only], true) = (targets, shared) {
        return only.to_string();
    }
    if let [only] = targets {
        return only.to_string();
    }
    let ids: Vec<String> = targets
        .iter()
        .take(LISTED_TENANTS)
        .map(|t| {
            t.tenant
                .as_ref()
                .map(|id| id.to_string())
                .unwrap_or_else(|| t.schema.to_string())
        })
        .collect();
    let more = targets.len().saturating_sub(LISTED_TENANTS);
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    let kind = if targets.iter().all(|t| t.tenant.is_some()) {
        "tenants"
    } else {
        "schemas"
    };
    format!("{} {kind} ({}{tail})", targets.len(), ids.join(", "))
}

fn unblock_hint(kind: HazardKind) -> String {
    if kind.is_destructive() {
        format!("needs --allow-destructive or --allow-hazard {kind}")
    } else {
        format!("needs --allow-hazard {kind}")
    }
}

/// The closing line: what the plan does, and what apply would refuse.
pub fn summary(plan: &Plan, policy: &HazardPolicy) -> String {
    let total = plan.targets.len();
    let changed = plan.targets.iter().filter(|t| !t.is_empty()).count();
    let tenants = plan
        .targets
        .iter()
        .filter(|t| !t.target.is_shared())
        .count();
    let shared: Vec<&str> = plan
        .targets
        .iter()
        .filter(|t| t.target.is_shared())
        .map(|t| t.target.schema.as_str())
        .collect();
    let not_compared = not_compared::summary(&plan.unmanaged, LeftOut::NotCompared, "above");
    if changed == 0 {
        return format!(
            "No changes: {} up to date{not_compared}.",
            match (shared.as_slice(), tenants) {
                ([only], 0) => format!("{only} is"),
                ([only], n) => format!("{only} and {n} tenant schema{} are", plural(n)),
                ([first @ .., last], 0) => format!("{} and {last} are", first.join(", ")),
                (some, n) if !some.is_empty() => {
                    format!("{} and {n} tenant schema{} are", some.join(", "), plural(n))
                }
                (_, n) => format!(
                    "{n} tenant schema{} {}",
                    plural(n),
                    if n == 1 { "is" } else { "are" }
                ),
            }
        );
    }
    let changes = plan.change_count();
    let mut text = format!(
        "Plan: {changes} change{} in {changed} of {total} target{}; {} up to date{not_compared}.",
        plural(changes),
        plural(total),
        total - changed
    );
    let blocked = plan.blocked(policy);
    if !blocked.is_empty() {
        let kinds: BTreeSet<HazardKind> = blocked
            .iter()
            .flat_map(|(_, hs)| hs.iter().map(|h| h.kind))
            .collect();
        let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
        let _ = write!(
            text,
            "\napply will refuse {} target{} until these hazards are allowed: {}.",
            blocked.len(),
            plural(blocked.len()),
            names.join(", ")
        );
    }
    text
}

/// `kschema lint`'s report: each warning on its line, then a count.
pub fn render_lints(lints: &[crate::lint::Lint], color: bool) -> String {
    let paint = Paint { on: color };
    let mut out = String::new();
    for lint in lints {
        let _ = writeln!(
            out,
            "{} {}: {}",
            paint.wrap("33", &format!("warning[{}]", lint.kind.name())),
            printable(&lint.location),
            printable(&lint.message)
        );
    }
    match lints.first() {
        None => out.push_str("No warnings about the desired state.\n"),
        Some(first) => {
            let _ = writeln!(
                out,
                "\n{} warning{}. To accept one, name it in kschema.toml: [lint.allow] {} = [\"{}\"] (\"*\" turns a rule off).",
                lints.len(),
                if lints.len() == 1 { "" } else { "s" },
                first.kind.name(),
                printable(first.object.as_str())
            );
        }
    }
    out
}
