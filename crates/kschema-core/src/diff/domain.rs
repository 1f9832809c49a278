//! Domains: matched by name; a default, NOT NULL or check changes in
//! place (`ALTER DOMAIN`), a new base type or collation means the domain
//! is created again.

use super::Change;
use crate::model::{DomainCheck, SchemaModel};

pub(super) fn diff_domains(live: &SchemaModel, desired: &SchemaModel, changes: &mut Vec<Change>) {
    for (name, wanted) in &desired.domains {
        let Some(current) = live.domains.get(name) else {
            changes.push(Change::CreateDomain {
                domain: wanted.clone(),
            });
            continue;
        };
        if current.same_as(wanted) {
            continue;
        }
        if current.needs_recreate(wanted) {
            changes.push(Change::RecreateDomain {
                from: current.clone(),
                to: wanted.clone(),
            });
            continue;
        }
        let same = |a: &DomainCheck, b: &DomainCheck| a.definition == b.definition;
        let dropped: Vec<DomainCheck> = current
            .checks
            .iter()
            .filter(|c| !wanted.checks.iter().any(|w| w.name == c.name && same(w, c)))
            .cloned()
            .collect();
        let added: Vec<DomainCheck> = wanted
            .checks
            .iter()
            .filter(|w| {
                !current
                    .checks
                    .iter()
                    .any(|c| c.name == w.name && same(w, c))
            })
            .cloned()
            .collect();
        // A check kept but validated now (it was NOT VALID).
        let validated: Vec<DomainCheck> = wanted
            .checks
            .iter()
            .filter(|w| {
                w.validated
                    && current
                        .checks
                        .iter()
                        .any(|c| c.name == w.name && same(w, c) && !c.validated)
            })
            .cloned()
            .collect();
        changes.push(Change::AlterDomain {
            name: name.clone(),
            default: (current.default != wanted.default).then(|| wanted.default.clone()),
            not_null: (current.not_null != wanted.not_null).then_some(wanted.not_null),
            drop_checks: dropped,
            add_checks: added,
            validate_checks: validated,
        });
    }
    for (name, current) in &live.domains {
        if !desired.domains.contains_key(name) {
            changes.push(Change::DropDomain {
                domain: current.clone(),
            });
        }
    }
}
