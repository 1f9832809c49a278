//! `--tenant` values → the targets to plan or apply.

use std::collections::HashSet;
use std::sync::Arc;

use kschema_core::load::DesiredState;

use crate::cli::TenantSelection;
use kschema_core::plan::Target;
use kschema_core::{Problem, SourceFile};
use miette::SourceSpan;

/// The shared schemas (public first), then the chosen tenants in registry
/// order. `all` (or nothing)
/// means every tenant. An unknown id is a diagnostic pointing at it on the
/// command line.
pub fn select_targets(
    desired: &DesiredState,
    selection: &TenantSelection,
) -> Result<Vec<Target>, Problem> {
    let mut targets = desired.shared_targets();
    let requested: &[String] = match selection {
        TenantSelection::All => &[],
        TenantSelection::Only(ids) => ids,
    };
    let known: HashSet<&str> = desired.tenants.ids().map(|id| id.as_str()).collect();
    if let Some(id) = requested.iter().find(|r| !known.contains(r.as_str())) {
        return Err(unknown_tenant(desired, requested, id));
    }
    let requested: HashSet<&str> = requested.iter().map(String::as_str).collect();
    for tenant in &desired.tenants.tenants {
        if selection.is_all() || requested.contains(tenant.id.as_str()) {
            targets.push(Target {
                schema: tenant.schema.clone(),
                tenant: Some(tenant.id.clone()),
            });
        }
    }
    Ok(targets)
}

fn unknown_tenant(desired: &DesiredState, requested: &[String], id: &str) -> Problem {
    // Only the --tenant part of the command: the rest may hold a password.
    let line = format!("--tenant {}", requested.join(","));
    let span = find_tenant_value(&line, id)
        .map(|start| SourceSpan::new(start.into(), id.len()))
        .unwrap_or_else(|| SourceSpan::new(0.into(), line.len()));
    let file = SourceFile::new("command line", line);
    let known: Vec<&str> = desired.tenants.ids().map(|t| t.as_str()).collect();
    let mut help = match closest(id, &known) {
        Some(suggestion) => format!("did you mean `{suggestion}`? "),
        None => String::new(),
    };
    if known.is_empty() {
        help.push_str("tenants.toml lists no tenants");
    } else {
        help.push_str(&format!("tenants.toml lists: {}", known.join(", ")));
    }
    Problem::new("kschema::tenant::unknown", format!("unknown tenant `{id}`"))
        .at(&Arc::clone(&file), span, "not in tenants.toml")
        .with_help(help)
}

/// Where `id` is in `--tenant a,b,c`.
fn find_tenant_value(line: &str, id: &str) -> Option<usize> {
    let values = line.strip_prefix("--tenant ")?;
    let mut pos = "--tenant ".len();
    for part in values.split(',') {
        if part == id {
            return Some(pos);
        }
        pos += part.len() + 1;
    }
    None
}

/// The known id within two edits of `id`, if there is one.
fn closest<'a>(id: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (edit_distance(id, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_offending_value() {
        assert_eq!(find_tenant_value("--tenant abc123,nope", "nope"), Some(16));
        assert_eq!(find_tenant_value("--tenant nope", "nope"), Some(9));
    }

    #[test]
    fn suggests_near_misses_only() {
        assert_eq!(closest("abc124", &["abc123", "def456"]), Some("abc123"));
        assert_eq!(closest("zzzzzz", &["abc123"]), None);
    }
}
