//! A type created again — an enum whose labels go or move, a domain on a
//! new base type, a composite type reordered — renames the old type aside,
//! converts its columns and drops it. What is built on it goes along
//! (functions: `diff::routine`; composite types no column uses, turned in
//! place: `diff::composite::holders_of`; domains and the composite types
//! columns use, created again inside its change, as they are when the
//! files drop them, inside the last of two types created again they are
//! built on: `diff::built_on`). Should one not go along, it would still
//! hold the old type, the drop fail and the target roll back: said at
//! plan time instead, at the type's declaration, naming it and why, with
//! the way out.

use super::Plan;
use crate::catalog::LiveState;
use crate::diagnostic::{first_few, Problem};
use crate::diff::{holders_of, Change};
use crate::ident::Ident;
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
        let scope = desired.scope_of(&target.target);
        for step in target.steps.iter() {
            let Some(root) = step.change.type_recreated() else {
                continue;
            };
            for recreation in step.change.with_along() {
                let (name, code, why, help) = match recreation {
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
                // Inside it at any depth: a type built on two types created
                // again goes inside the inner one's recreation.
                let taken: Vec<&Ident> = recreation
                    .with_along()
                    .into_iter()
                    .skip(1)
                    .filter_map(Change::type_recreated)
                    .collect();
                // What the recreation neither turns in place nor takes along.
                let (_, builders) = holders_of(name, &schema.model, &scope.model);
                let left: Vec<String> = builders
                    .iter()
                    .filter(|b| !taken.contains(&&b.name))
                    .map(|b| {
                        let reason = match b.why {
                            "" => "built on another type created again too",
                            why => why,
                        };
                        match b.domain {
                            true => format!("domain {} ({reason})", b.name),
                            false => format!("type {} ({reason})", b.name),
                        }
                    })
                    .collect();
                if left.is_empty() {
                    continue;
                }
                let within = match name == root {
                    true => String::new(),
                    false => format!(" along with {root}"),
                };
                let mut problem = Problem::new(
                    code,
                    format!(
                        "{why} {name} is created again ({help}){within} in {}, but {} {} built on it: kschema does not convert {} with it, and PostgreSQL would refuse to drop the old {why}",
                        target.target,
                        left.join(" and "),
                        if left.len() == 1 { "is" } else { "are" },
                        if left.len() == 1 { "it" } else { "them" },
                    ),
                )
                .with_help(format!(
                    "in two applies: first give the domain or composite type another type (or drop it) and keep the {why} as it is, then change the {why}"
                ));
                if let Some(origin) = scope.origins.get(&ObjectKey::Type(root.clone())) {
                    problem = problem.at(&origin.file, origin.span, "created again");
                }
                return Err(problem);
            }
            let held =
                super::type_users::own_still_holding(&step.change, &target.steps, &schema.model);
            if !held.is_empty() {
                let mut problem = Problem::new(
                    "kschema::plan::type_users",
                    format!(
                        "type {root} is created again in {}, but what names it (or a type built on it) in an expression, as PostgreSQL records, cannot be taken along — {} — and PostgreSQL would refuse to drop the old type",
                        target.target,
                        first_few(&held)
                    ),
                )
                .with_help(
                    "in two applies: first change or drop those in the files and keep the type as it is, then change the type",
                );
                if let Some(origin) = scope.origins.get(&ObjectKey::Type(root.clone())) {
                    problem = problem.at(&origin.file, origin.span, "created again");
                }
                return Err(problem);
            }
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
