//! Composite types: matched by name; attributes dropped, retyped and
//! added at the end change in place (`ALTER TYPE`), anything else means
//! the type is created again.

use serde::{Deserialize, Serialize};

use super::built_on::Builder;
use super::Change;
use crate::ident::Ident;
use crate::model::{Attribute, CompositeType, SchemaModel};

/// One attribute's part of an [`Change::AlterComposite`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum AttributeStep {
    Drop {
        name: Ident,
    },
    /// A new type or collation.
    Alter {
        to: Attribute,
    },
    Add {
        attribute: Attribute,
    },
}

pub(super) fn diff_composites(
    live: &SchemaModel,
    desired: &SchemaModel,
    changes: &mut Vec<Change>,
) {
    let mut created = Vec::new();
    for (name, wanted) in &desired.composites {
        let Some(current) = live.composites.get(name) else {
            created.push(wanted);
            continue;
        };
        if current.same_as(wanted) {
            continue;
        }
        let steps = attribute_steps(current, wanted);
        // A column of the type blocks ALTER ATTRIBUTE … TYPE.
        let retypes = steps
            .iter()
            .any(|s| matches!(s, AttributeStep::Alter { .. }));
        let in_use = used_by_columns(live, name);
        if current.alterable_to(wanted) && !(retypes && in_use) {
            changes.push(Change::AlterComposite {
                name: name.clone(),
                steps,
                in_use,
            });
        } else {
            changes.push(Change::RecreateComposite {
                from: current.clone(),
                to: wanted.clone(),
                columns: super::enum_type::columns_of(name, live, desired),
                indexes: Vec::new(),
                defaults: Vec::new(),
                foreign: Vec::new(),
                holders: holders_of(name, live, desired).0,
                along: Vec::new(),
            });
        }
    }
    // A type whose attributes are of another new one comes after it.
    for composite in in_dependency_order(created) {
        changes.push(Change::CreateComposite {
            composite: composite.clone(),
        });
    }
    for (name, current) in &live.composites {
        if !desired.composites.contains_key(name) {
            changes.push(Change::DropComposite {
                composite: current.clone(),
            });
        }
    }
}

/// Drops, then type changes, then additions (appended in their order).
fn attribute_steps(from: &CompositeType, to: &CompositeType) -> Vec<AttributeStep> {
    let mut steps: Vec<AttributeStep> = from
        .attributes
        .iter()
        .filter(|a| to.attribute(&a.name).is_none())
        .map(|a| AttributeStep::Drop {
            name: a.name.clone(),
        })
        .collect();
    for wanted in &to.attributes {
        match from.attribute(&wanted.name) {
            Some(current) if current != wanted => {
                steps.push(AttributeStep::Alter { to: wanted.clone() })
            }
            Some(_) => {}
            None => {}
        }
    }
    steps.extend(
        to.attributes
            .iter()
            .filter(|a| from.attribute(&a.name).is_none())
            .map(|a| AttributeStep::Add {
                attribute: a.clone(),
            }),
    );
    steps
}

/// The live composite types with an attribute of `name` (or an array of
/// it) that a recreation turns to the new type in place — unchanged in
/// the files, no column of theirs (`ALTER ATTRIBUTE … TYPE` refuses a
/// type a column uses) — and the types built on it that it cannot turn
/// so: the other such types, and domains over it (taken along when they
/// can be, `diff::built_on`). For an enum, a domain or a composite type.
pub fn holders_of(
    name: &Ident,
    live: &SchemaModel,
    desired: &SchemaModel,
) -> (Vec<(Ident, Attribute)>, Vec<Builder>) {
    let named = name.quoted().to_string();
    let mut holders = Vec::new();
    let mut builders = Vec::new();
    for (holder, current) in live.composites.iter().filter(|(n, _)| *n != name) {
        let of_it: Vec<&Attribute> = current
            .attributes
            .iter()
            .filter(|a| a.data_type.is_or_array_of(&named))
            .collect();
        if of_it.is_empty() {
            continue;
        }
        let wanted = desired.composites.get(holder);
        let why = match wanted {
            None => "it is dropped",
            Some(wanted) if !wanted.same_as(current) => "it changes too",
            Some(_) if used_by_columns(live, holder) => "a column uses it",
            Some(_) => {
                holders.extend(of_it.into_iter().map(|a| (holder.clone(), a.clone())));
                continue;
            }
        };
        builders.push(Builder {
            name: holder.clone(),
            domain: false,
            why,
        });
    }
    for domain in live.domains.values() {
        if crate::model::ColumnType::parse(&domain.base).is_or_array_of(&named) {
            builders.push(Builder {
                name: domain.name.clone(),
                domain: true,
                why: match desired.domains.contains_key(&domain.name) {
                    true => "",
                    false => "it is dropped",
                },
            });
        }
    }
    (holders, builders)
}

/// Whether a live table column is of the type (or an array of it).
fn used_by_columns(live: &SchemaModel, name: &Ident) -> bool {
    let named = name.quoted().to_string();
    live.tables
        .values()
        .any(|t| t.columns.iter().any(|c| c.data_type.is_or_array_of(&named)))
}

/// The types `composite` is built of, by the names they may go by: its
/// attributes' types, or — before PostgreSQL has read it (the desired
/// state being built) — every word of its statement.
fn built_of(composite: &CompositeType) -> Vec<String> {
    if !composite.attributes.is_empty() {
        return composite
            .attributes
            .iter()
            .map(|a| a.data_type.element().to_string())
            .collect();
    }
    composite
        .sql
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '"'))
        .map(|word| match word.strip_prefix('"') {
            Some(quoted) => format!("\"{quoted}"),
            None => word.to_lowercase(),
        })
        .collect()
}

fn in_dependency_order(mut pending: Vec<&CompositeType>) -> Vec<&CompositeType> {
    let mut ordered: Vec<&CompositeType> = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let names: Vec<String> = pending
            .iter()
            .map(|c| c.name.quoted().to_string())
            .collect();
        let (ready, waiting): (Vec<&CompositeType>, Vec<&CompositeType>) =
            pending.into_iter().partition(|c| {
                let own = c.name.quoted().to_string();
                !built_of(c).iter().any(|t| *t != own && names.contains(t))
            });
        if ready.is_empty() {
            // A cycle PostgreSQL cannot hold: the order given.
            ordered.extend(waiting);
            break;
        }
        ordered.extend(ready);
        pending = waiting;
    }
    ordered
}

#[cfg(test)]
mod tests {
    use super::*;

    fn composite(name: &str, sql: &str) -> CompositeType {
        CompositeType {
            name: Ident::new(name),
            attributes: Vec::new(),
            sql: sql.to_string(),
        }
    }

    #[test]
    fn a_type_built_of_another_comes_after_it() {
        let contact = composite(
            "a_contact",
            "CREATE TYPE a_contact AS (name text, home B_Address)",
        );
        let address = composite("b_address", "CREATE TYPE b_address AS (street text)");
        let ordered = in_dependency_order(vec![&contact, &address]);
        let names: Vec<&str> = ordered.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["b_address", "a_contact"]);
    }
}
