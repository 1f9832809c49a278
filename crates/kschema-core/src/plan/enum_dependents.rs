//! A type created again — an enum whose labels go or move, a domain on a
//! new base type, a composite type reordered — renames the old type aside,
//! converts its columns and drops it. A live domain or composite type
//! built on it that the recreation does not take along still holds the
//! old type, so the drop would fail and the target roll back: said at plan
//! time instead, at the type's declaration, with the way out. (Functions
//! taking or returning it are dropped and created around it:
//! `diff::routine`; a composite type with an attribute of the type, and
//! no column of its own, is turned to the new one in place:
//! `diff::composite::holders_of`.)

use super::Plan;
use crate::catalog::LiveState;
use crate::diagnostic::Problem;
use crate::diff::{holders_of, Change};
use crate::load::{DesiredState, ObjectKey};
use crate::model::{ColumnType, SchemaModel};

pub fn check_type_dependents(
    plan: &Plan,
    live: &LiveState,
    desired: &DesiredState,
) -> Result<(), Problem> {
    for target in &plan.targets {
        let Some(schema) = live.get(&target.target.schema) else {
            continue;
        };
        for step in target.steps.iter() {
            let (name, code, why, help) = match &step.change {
                Change::RecreateEnum { to, .. } => (
                    &to.name,
                    "kschema::plan::enum_dependents",
                    "enum",
                    "labels go or move",
                ),
                Change::RecreateDomain { to, .. } => (
                    &to.name,
                    "kschema::plan::domain_dependents",
                    "domain",
                    "a new base type or collation",
                ),
                Change::RecreateComposite { to, .. } => (
                    &to.name,
                    "kschema::plan::composite_dependents",
                    "composite type",
                    "attributes reordered, or retyped while a column uses it",
                ),
                _ => continue,
            };
            // What the recreation does not turn in place, as the diff found.
            let scope = desired.scope_of(&target.target);
            let (_, builders) = holders_of(name, &schema.model, &scope.model);
            if builders.is_empty() {
                continue;
            }
            let mut problem = Problem::new(
                code,
                format!(
                    "{why} {name} is created again ({help}) in {}, but {} {} built on it: kschema does not convert {} yet, and PostgreSQL would refuse to drop the old {why}",
                    target.target,
                    builders.join(" and "),
                    if builders.len() == 1 { "is" } else { "are" },
                    if builders.len() == 1 { "it" } else { "them" },
                ),
            )
            .with_help(format!(
                "in two applies: first give the domain or composite type another type (or drop it) and keep the {why} as it is, then change the {why}"
            ));
            if let Some(origin) = scope.origins.get(&ObjectKey::Type(name.clone())) {
                problem = problem.at(&origin.file, origin.span, "created again");
            }
            return Err(problem);
        }
    }
    Ok(())
}

/// The domains and composite types of `model` whose base or attribute is
/// the enum (or an array of it) as `model` spells it (`spelled`: bare in
/// its own schema, qualified in another's), named after `prefix`.
pub(super) fn built_on(model: &SchemaModel, spelled: &[String], prefix: &str) -> Vec<String> {
    let is_it = |data_type: &ColumnType| spelled.iter().any(|s| data_type.element().name() == s);
    let mut builders: Vec<String> = model
        .domains
        .values()
        .filter(|d| is_it(&ColumnType::parse(&d.base)))
        .map(|d| format!("domain {prefix}{}", d.name))
        .collect();
    builders.extend(
        model
            .composites
            .values()
            .filter(|c| c.attributes.iter().any(|a| is_it(&a.data_type)))
            .map(|c| format!("composite type {prefix}{}", c.name)),
    );
    builders
}
