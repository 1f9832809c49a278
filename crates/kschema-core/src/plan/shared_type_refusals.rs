//! What a shared enum, domain or composite type created again cannot
//! take along in the other schemas, refused at plan time with the way out
//! (two applies) instead of failing in the shared schema's transaction: a
//! domain or composite type built on it that the schema spells qualified,
//! a function on it that a generated column calls, a domain, check, index
//! or default (created again or put back as it is live) naming a label
//! that goes, and what names it in an expression that cannot be taken
//! off (a generated column, a domain's check: `plan::type_users`).

use super::shared_enums::{goes_bare, spellings};
use super::Plan;
use crate::catalog::LiveState;
use crate::diagnostic::{first_few, Problem};
use crate::diff::{Change, ForeignColumns};
use crate::ident::Ident;
use crate::load::{DesiredState, ObjectKey};
use crate::model::{CallerKind, ConstraintKind};

/// Refuses a plan whose shared schema creates an enum (a domain, a
/// composite type) again that another schema uses in a way its
/// transaction cannot take along: a domain or composite type built on it
/// that the schema spells qualified, a function on it that a generated
/// column calls, a domain, check, index or default (created again or put
/// back as it is live) naming a label that goes.
pub fn check_foreign_enum_users(
    plan: &Plan,
    live: &LiveState,
    desired: &DesiredState,
) -> Result<(), Problem> {
    for shared in plan.targets.iter().filter(|t| t.target.is_shared()) {
        let schema = &shared.target.schema;
        for recreation in shared.steps.iter().flat_map(|s| s.change.with_along()) {
            let (to, foreign, gone, kind) = match recreation {
                // Checks and indexes are put back as they are live: one
                // naming a label that goes would fail there.
                Change::RecreateEnum {
                    from, to, foreign, ..
                } => (
                    &to.name,
                    foreign,
                    from.labels
                        .iter()
                        .filter(|label| !to.labels.contains(label))
                        .map(|label| crate::ident::quote_literal(label))
                        .collect::<Vec<String>>(),
                    TypeKind::Enum,
                ),
                Change::RecreateDomain { to, foreign, .. } => {
                    (&to.name, foreign, Vec::new(), TypeKind::Domain)
                }
                Change::RecreateComposite { to, foreign, .. } => {
                    (&to.name, foreign, Vec::new(), TypeKind::Composite)
                }
                _ => continue,
            };
            let mut users: Vec<String> = Vec::new();
            let names_gone = |text: &str| gone.iter().any(|label| text.contains(label.as_str()));
            for other in foreign {
                for (table, check) in &other.checks {
                    if let ConstraintKind::Check { expr, .. } = &check.kind {
                        if names_gone(&expr.canonical) {
                            users.push(format!(
                                "check {}.{table}.{} (it names a label that goes)",
                                other.schema, check.name
                            ));
                        }
                    }
                }
                for index in &other.indexes {
                    if index.expressions().any(names_gone) {
                        users.push(format!(
                            "index {}.{} (it names a label that goes)",
                            other.schema, index.name
                        ));
                    }
                }
            }
            for other in foreign {
                users.extend(functions_not_taken_along(other, live, &names_gone));
                // Created again as they are live: one naming a label that
                // goes would fail.
                for built in other.along.iter().flat_map(Change::with_along) {
                    if let Change::RecreateDomain { to: domain, .. } = built {
                        if names_gone(&domain.sql) {
                            users.push(format!(
                                "domain {}.{} (it names a label that goes)",
                                other.schema, domain.name
                            ));
                        }
                    }
                }
            }
            for (other_schema, found) in live.schemas.iter().filter(|(s, _)| *s != schema) {
                let model = &found.model;
                // What names it in an expression and is not taken along.
                users.extend(super::type_users::foreign_still_holding(
                    model,
                    other_schema,
                    schema,
                    to,
                    foreign.iter().find(|f| &f.schema == other_schema),
                    &shared.steps,
                ));
                let spelled = spellings(schema, to, model);
                // Taken along (`take_foreign_columns`).
                if goes_bare(&spelled) {
                    continue;
                }
                users.extend(super::enum_dependents::built_on(
                    model,
                    &spelled,
                    &format!("{other_schema}."),
                ));
            }
            if users.is_empty() {
                continue;
            }
            let mut problem = match kind {
                TypeKind::Enum => Problem::new(
                    "kschema::plan::shared_enum_users",
                    format!(
                        "enum {to} is created again in {schema} (labels go or move), but other schemas use it in what its transaction cannot convert: {}",
                        first_few(&users)
                    ),
                )
                .with_help(
                    "in two applies: first move those off the enum (or off the label, or drop them) in their files and keep the labels, then remove or reorder the labels",
                ),
                TypeKind::Domain => Problem::new(
                    "kschema::plan::shared_domain_users",
                    format!(
                        "domain {to} is created again in {schema} (a new base type or collation), but other schemas use it in what its transaction cannot convert: {}",
                        first_few(&users)
                    ),
                )
                .with_help(
                    "in two applies: first move those off the domain in their files and keep its base type, then change the base type",
                ),
                TypeKind::Composite => Problem::new(
                    "kschema::plan::shared_composite_users",
                    format!(
                        "composite type {to} is created again in {schema} (attributes reordered or retyped), but other schemas use it in what its transaction cannot convert: {}",
                        first_few(&users)
                    ),
                )
                .with_help(
                    "in two applies: first move those off the type in their files and keep its attributes, then change them",
                ),
            };
            let scope = desired.scope_of(&shared.target);
            if let Some(origin) = scope.origins.get(&ObjectKey::Type(to.clone())) {
                problem = problem.at(&origin.file, origin.span, "created again");
            }
            return Err(problem);
        }
    }
    Ok(())
}

/// The functions of `other` on a shared type created again that its
/// transaction cannot drop and create again — one a generated column
/// calls (PostgreSQL refuses the drop), one whose argument defaults or
/// `BEGIN ATOMIC` body name a label that goes (its creation would fail) —
/// and the checks, indexes and defaults calling them that cannot be put
/// back as they are live (they name such a label).
fn functions_not_taken_along(
    other: &ForeignColumns,
    live: &LiveState,
    names_gone: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    let model = live.get(&other.schema).map(|found| found.model.as_ref());
    let mut refused = Vec::new();
    for taken in &other.functions {
        let function = &taken.function;
        let generated = model.and_then(|model| {
            model.tables.iter().find_map(|(table, t)| {
                t.function_callers
                    .iter()
                    .find(|c| {
                        c.kind == CallerKind::Generated
                            && c.schema.is_none()
                            && c.function == function.name
                    })
                    .map(|c| format!("{table}.{}", c.name))
            })
        });
        let why = match generated {
            Some(column) => format!("the generated column {column} calls it"),
            None if names_gone(&function.interface)
                || (function.atomic_body && names_gone(&function.definition)) =>
            {
                "it names a label that goes".to_string()
            }
            None => continue,
        };
        refused.push(format!(
            "{} {}.{}({}) ({why})",
            function.kind(),
            other.schema,
            function.name,
            function.arguments
        ));
    }
    // What calls them is put back as it is live, like the checks and
    // indexes reading the columns.
    let taken = |name: &Ident| other.functions.iter().any(|f| &f.function.name == name);
    let index = |name: &Ident| {
        model
            .and_then(|model| model.indexes.get(name))
            .map(|index| index.expressions().collect::<Vec<_>>().join(" "))
    };
    for (table_name, table) in model.iter().flat_map(|model| &model.tables) {
        for caller in table
            .function_callers
            .iter()
            .filter(|c| c.schema.is_none() && taken(&c.function))
        {
            let text = match caller.kind {
                CallerKind::Index => index(&caller.name),
                CallerKind::Constraint => table
                    .constraints
                    .iter()
                    .find(|c| c.name == caller.name)
                    .and_then(|c| match &c.kind {
                        ConstraintKind::Check { expr, .. } => Some(expr.canonical.clone()),
                        _ => None,
                    }),
                CallerKind::Default => table
                    .column(&caller.name)
                    .and_then(|c| c.default.as_ref())
                    .map(|d| d.canonical.clone()),
                CallerKind::Generated => None,
            };
            if text.is_some_and(|text| names_gone(&text)) {
                refused.push(format!(
                    "{} of {}.{table_name} (it names a label that goes)",
                    caller.name, other.schema
                ));
            }
        }
    }
    refused
}

/// The kinds of shared type whose columns a recreation converts.
enum TypeKind {
    Enum,
    Domain,
    Composite,
}
