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
                columns: super::enum_type::columns_of(name, live, desired),
                indexes: Vec::new(),
                defaults: Vec::new(),
                foreign: Vec::new(),
                holders: super::composite::holders_of(name, live, desired).0,
                along: Vec::new(),
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

/// One part of an [`Change::AlterDomain`], in the order it runs: checks
/// dropped first, then the default and NOT NULL, then checks added and
/// validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DomainStep<'a> {
    DropCheck(&'a DomainCheck),
    SetDefault(&'a str),
    DropDefault,
    SetNotNull,
    DropNotNull,
    AddCheck(&'a DomainCheck),
    ValidateCheck(&'a DomainCheck),
}

/// The parts of an `AlterDomain` change, in run order.
pub fn domain_steps<'a>(
    default: &'a Option<Option<String>>,
    not_null: Option<bool>,
    drop_checks: &'a [DomainCheck],
    add_checks: &'a [DomainCheck],
    validate_checks: &'a [DomainCheck],
) -> Vec<DomainStep<'a>> {
    let mut steps: Vec<DomainStep> = drop_checks.iter().map(DomainStep::DropCheck).collect();
    match default {
        Some(Some(expr)) => steps.push(DomainStep::SetDefault(expr)),
        Some(None) => steps.push(DomainStep::DropDefault),
        None => {}
    }
    match not_null {
        Some(true) => steps.push(DomainStep::SetNotNull),
        Some(false) => steps.push(DomainStep::DropNotNull),
        None => {}
    }
    steps.extend(add_checks.iter().map(DomainStep::AddCheck));
    steps.extend(validate_checks.iter().map(DomainStep::ValidateCheck));
    steps
}
