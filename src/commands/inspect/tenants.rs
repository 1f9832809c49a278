//! Which schemas are tenants (`--tenant-pattern`), how their shapes group,
//! what inspect says about outliers, and the tenants.toml it writes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use kschema_core::catalog::{Fingerprint, LiveState};
use kschema_core::load::TenantId;
use kschema_core::model::{SchemaModel, SchemaName};
use kschema_core::plan::{plan_schema, PlanOptions};
use kschema_core::render::describe;
use kschema_core::Problem;

use super::plural;
use crate::commands::argument_problem;

/// `org_*`: a prefix and a suffix around the tenant id.
pub(super) struct TenantPattern {
    pub(super) prefix: String,
    pub(super) suffix: String,
}

impl TenantPattern {
    pub(super) fn parse(text: &str) -> Result<TenantPattern, Problem> {
        match text.split_once('*') {
            Some((prefix, suffix)) if !suffix.contains('*') => Ok(TenantPattern {
                prefix: prefix.to_string(),
                suffix: suffix.to_string(),
            }),
            _ => Err(argument_problem(
                "kschema::inspect::pattern",
                format!("tenant pattern {text:?} needs exactly one *"),
                &format!("--tenant-pattern {text}"),
                "one * stands for the tenant id",
                "for example --tenant-pattern 'org_*' or 'tenant_*_v2'".into(),
            )),
        }
    }

    /// `None` when the schema does not match; else the id, or why the part
    /// the `*` matched is not one.
    pub(super) fn id_of(&self, schema: &str) -> Option<Result<TenantId, String>> {
        let rest = schema
            .strip_prefix(&self.prefix)?
            .strip_suffix(&self.suffix)?;
        Some(TenantId::parse(rest))
    }
}

/// The database's schemas, sorted into tenants and the rest.
pub(super) struct Found {
    pub(super) all: Vec<String>,
    pub(super) tenants: Vec<(TenantId, SchemaName)>,
    pub(super) skipped: Vec<(String, String)>,
    pub(super) other: Vec<String>,
}

impl Found {
    pub(super) fn classify(all: &[String], pattern: &TenantPattern) -> Found {
        let mut found = Found {
            all: all.to_vec(),
            tenants: Vec::new(),
            skipped: Vec::new(),
            other: Vec::new(),
        };
        for schema in all.iter().filter(|s| *s != "public") {
            match pattern.id_of(schema) {
                Some(Ok(id)) => found.tenants.push((id, SchemaName::new(schema.clone()))),
                Some(Err(why)) => found.skipped.push((schema.clone(), why)),
                None => found.other.push(schema.clone()),
            }
        }
        found
    }
}

/// Tenant schemas with the same fingerprint, largest group first.
pub(super) struct ShapeGroup {
    pub(super) fingerprint: Fingerprint,
    pub(super) schemas: Vec<SchemaName>,
}

pub(super) fn shape_groups(
    live: &LiveState,
    tenants: &[(TenantId, SchemaName)],
) -> Vec<ShapeGroup> {
    let mut by_print: BTreeMap<Fingerprint, Vec<SchemaName>> = BTreeMap::new();
    for (_, schema) in tenants {
        if let Some(found) = live.get(schema) {
            by_print
                .entry(found.fingerprint)
                .or_default()
                .push(schema.clone());
        }
    }
    let mut groups: Vec<ShapeGroup> = by_print
        .into_iter()
        .map(|(fingerprint, schemas)| ShapeGroup {
            fingerprint,
            schemas,
        })
        .collect();
    groups.sort_by(|a, b| {
        b.schemas
            .len()
            .cmp(&a.schemas.len())
            .then_with(|| a.schemas[0].cmp(&b.schemas[0]))
    });
    groups
}

/// How the tenant schemas compare with the template: alike, or grouped by
/// shape with what `kschema plan` would change in each outlier group.
pub(super) fn describe_tenants(
    groups: &[ShapeGroup],
    template: Option<&SchemaName>,
    live: &LiveState,
    desired: &kschema_core::load::LoadedScope,
) -> String {
    let mut out = String::new();
    let count: usize = groups.iter().map(|g| g.schemas.len()).sum();
    let Some(template) = template else {
        return out;
    };
    let template_print = live.get(template).map(|s| s.fingerprint);
    let outliers: Vec<&ShapeGroup> = groups
        .iter()
        .filter(|g| Some(g.fingerprint) != template_print)
        .collect();
    if outliers.is_empty() {
        if count > 0 {
            let _ = writeln!(
                out,
                "\nTenant schemas: {count}, all alike (shape {}).",
                groups[0].fingerprint.short()
            );
        }
        return out;
    }
    let _ = writeln!(
        out,
        "\nTenant schemas: {count} in {} shapes. Template: {template}{}.",
        groups.len(),
        template_print
            .map(|p| format!(" (shape {})", p.short()))
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "Outliers — `kschema plan` will bring them to the template's shape:"
    );
    for group in outliers {
        let names: Vec<&str> = group.schemas.iter().map(|s| s.as_str()).collect();
        let _ = writeln!(
            out,
            "\n  {} ({} schema{}, shape {}):",
            names.join(", "),
            names.len(),
            plural(names.len()),
            group.fingerprint.short()
        );
        let model = live.get(&group.schemas[0]).map(|s| s.model.as_ref());
        for (sign, text) in changes(model, desired) {
            let _ = writeln!(out, "    {sign} {text}");
        }
    }
    out
}

/// What planning `live` towards `desired` would change, one line per
/// change (a change done in two steps is still one change).
pub(super) fn changes(
    live: Option<&SchemaModel>,
    desired: &kschema_core::load::LoadedScope,
) -> Vec<(char, String)> {
    let mut lines: Vec<(char, String)> = plan_schema(live, desired, PlanOptions::default())
        .steps
        .iter()
        .map(|step| describe(&step.change))
        .collect();
    lines.dedup();
    lines
}

pub(super) fn tenants_toml(tenants: &[(TenantId, SchemaName)]) -> String {
    let mut out = String::from(
        "# The tenant registry, written by `kschema inspect`: one [[tenant]] per\n# tenant schema. The schema defaults to org_<id>.\n",
    );
    for (id, schema) in tenants {
        let _ = write!(out, "\n[[tenant]]\nid = \"{id}\"\n");
        if *schema != id.default_schema() {
            let _ = writeln!(
                out,
                "schema = {}",
                crate::commands::tenant::toml_string(schema.as_str())
            );
        }
    }
    out
}
