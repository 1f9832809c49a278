//! The plan as JSON: `plan --format json` and saved plans (`plan --out`).
//! The format is versioned (`format_version`) and documented in
//! `docs/plan-format.md`; fields appear in a fixed order, targets in plan
//! order (public first, then tenants as `tenants.toml` lists them).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::describe;
use crate::hazard::{Hazard, HazardKind, HazardPolicy};
use crate::lint::Lint;
use crate::plan::{Plan, Step, Target, TxMode};
use crate::unmanaged::UnmanagedObject;

pub const FORMAT_VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PlanDocument {
    pub format_version: u32,
    pub kschema_version: String,
    /// The database the plan was made against (password removed).
    pub database: String,
    /// Whether online statement forms were used.
    pub online: bool,
    pub summary: Summary,
    /// Shards (other databases of the run), by name → database; their
    /// targets name them in `database`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub shards: BTreeMap<String, String>,
    pub targets: Vec<TargetDocument>,
    /// Warnings about the desired state.
    #[serde(default)]
    pub lints: Vec<LintDocument>,
    /// MongoDB steps, when schema/mongo declares collections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mongo: Option<crate::mongo::MongoPlan>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Summary {
    pub targets: usize,
    pub with_changes: usize,
    pub up_to_date: usize,
    /// Steps over all targets.
    pub changes: usize,
    /// Distinct step lists (targets sharing one are planned once).
    pub distinct_plans: usize,
    /// Hazard kind → number of steps carrying it, over all targets.
    pub hazards: BTreeMap<HazardKind, usize>,
    /// Hazard kinds apply refuses without an allow (the project's policy).
    pub blocked_hazards: Vec<HazardKind>,
    /// Objects kschema does not manage, over all targets: not compared.
    #[serde(default)]
    pub not_compared: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TargetDocument {
    /// The shard it is in; absent for the main database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    pub schema: String,
    /// `null` for public.
    pub tenant: Option<String>,
    /// SHA-256 of the live schema's model when the plan was made (all zeros:
    /// the schema did not exist). Apply refuses the target if it changed.
    pub live_fingerprint: String,
    /// Index of the first target with the same steps (itself if it is the
    /// first): the grouping the text and Markdown outputs show.
    pub same_plan_as: usize,
    pub steps: Vec<StepDocument>,
    #[serde(default)]
    pub notes: Vec<String>,
    /// Objects in the schema kschema does not manage, so did not compare.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_compared: Vec<UnmanagedObject>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StepDocument {
    /// One line for people: `+ create table users (12 columns)`.
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<String>,
    pub transaction: TxMode,
    pub hazards: Vec<Hazard>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_by_annotation: Vec<HazardKind>,
    /// The statements, for this target's schema, in run order.
    pub statements: Vec<String>,
    /// Run before retrying the step after a lock timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_retry: Option<String>,
    /// A public step that runs after the tenant schemas (see
    /// `defer_shared_drops`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub after_tenants: bool,
    /// The change itself, structured (informational; apply runs `statements`).
    pub change: serde_json::Value,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LintDocument {
    pub kind: String,
    pub location: String,
    /// The index, constraint or table (what `[lint.allow]` names).
    #[serde(default)]
    pub object: String,
    pub message: String,
}

/// The plan as a document.
pub fn plan_document(
    plan: &Plan,
    database: &str,
    online: bool,
    policy: &HazardPolicy,
) -> PlanDocument {
    let mut first_with: HashMap<*const Vec<Step>, usize> = HashMap::new();
    let mut targets = Vec::new();
    let mut hazards: BTreeMap<HazardKind, usize> = BTreeMap::new();
    let not_compared: HashMap<&Target, &[UnmanagedObject]> = plan
        .unmanaged
        .iter()
        .flat_map(|g| g.targets.iter().map(|t| (t, g.objects.as_slice())))
        .collect();
    for (index, target) in plan.targets.iter().enumerate() {
        let key = Arc::as_ptr(&target.steps);
        let same_plan_as = *first_with.entry(key).or_insert(index);
        let steps: Vec<StepDocument> = target
            .steps
            .iter()
            .map(|step| {
                for hazard in &step.hazards {
                    *hazards.entry(hazard.kind).or_default() += 1;
                }
                let (sign, text) = describe(&step.change);
                StepDocument {
                    description: format!("{sign} {text}"),
                    part: step.part.clone(),
                    transaction: step.transaction,
                    hazards: step.hazards.clone(),
                    allowed_by_annotation: step.allowed_by_annotation.clone(),
                    statements: step.render(&target.target.schema),
                    before_retry: step
                        .before_retry
                        .as_ref()
                        .map(|s| s.render(&target.target.schema)),
                    after_tenants: step.after_tenants,
                    change: serde_json::to_value(&step.change).unwrap_or(serde_json::Value::Null),
                }
            })
            .collect();
        targets.push(TargetDocument {
            database: None,
            schema: target.target.schema.to_string(),
            tenant: target.target.tenant.as_ref().map(|t| t.to_string()),
            live_fingerprint: target.live_fingerprint.to_string(),
            same_plan_as,
            steps,
            notes: target.notes.as_ref().clone(),
            not_compared: not_compared
                .get(&target.target)
                .map(|list| list.to_vec())
                .unwrap_or_default(),
        });
    }
    let blocked_hazards = hazards
        .keys()
        .copied()
        .filter(|k| !policy.allows(*k))
        .collect();
    let with_changes = plan.targets.iter().filter(|t| !t.is_empty()).count();
    PlanDocument {
        format_version: FORMAT_VERSION,
        kschema_version: env!("CARGO_PKG_VERSION").to_string(),
        database: database.to_string(),
        online,
        summary: Summary {
            targets: plan.targets.len(),
            with_changes,
            up_to_date: plan.targets.len() - with_changes,
            changes: plan.change_count(),
            distinct_plans: first_with.len(),
            hazards,
            blocked_hazards,
            not_compared: plan.unmanaged_count(),
        },
        shards: BTreeMap::new(),
        targets,
        lints: plan.lints.iter().map(lint_document).collect(),
        mongo: None,
    }
}

/// One document for several databases: the main one first (name `None`),
/// then the shards, whose targets carry their name.
pub fn merge_documents(documents: Vec<(Option<String>, PlanDocument)>) -> PlanDocument {
    let mut merged: Option<PlanDocument> = None;
    for (name, mut document) in documents {
        let offset = merged.as_ref().map_or(0, |m| m.targets.len());
        for target in &mut document.targets {
            target.database = name.clone();
            target.same_plan_as += offset;
        }
        match (&mut merged, name) {
            (None, _) => merged = Some(document),
            (Some(all), name) => {
                if let Some(name) = name {
                    all.shards.insert(name, document.database.clone());
                }
                let (a, b) = (&mut all.summary, document.summary);
                a.targets += b.targets;
                a.with_changes += b.with_changes;
                a.up_to_date += b.up_to_date;
                a.changes += b.changes;
                a.distinct_plans += b.distinct_plans;
                a.not_compared += b.not_compared;
                for (kind, count) in b.hazards {
                    *a.hazards.entry(kind).or_default() += count;
                }
                for kind in b.blocked_hazards {
                    if !a.blocked_hazards.contains(&kind) {
                        a.blocked_hazards.push(kind);
                    }
                }
                a.blocked_hazards.sort();
                all.targets.extend(document.targets);
            }
        }
    }
    merged.unwrap_or_else(|| plan_document(&Plan::default(), "", true, &HazardPolicy::default()))
}

pub fn lint_document(lint: &Lint) -> LintDocument {
    LintDocument {
        kind: lint.kind.name().to_string(),
        location: lint.location.clone(),
        object: lint.object.as_str().to_string(),
        message: lint.message.clone(),
    }
}

/// Pretty JSON with a trailing newline.
pub fn render_json(document: &PlanDocument) -> String {
    let mut text = json_safe(&serde_json::to_string_pretty(document).unwrap_or_default());
    text.push('\n');
    text
}

/// serde_json escapes C0 controls but leaves DEL, C1 controls and the
/// bidirectional overrides raw; they can only sit inside strings (JSON's own
/// syntax is ASCII), where `\uXXXX` means the same character.
pub fn json_safe(text: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if crate::escape::is_unsafe_char(c) && !matches!(c, '\n' | '\t' | '\r') {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        } else {
            out.push(c);
        }
    }
    out
}
