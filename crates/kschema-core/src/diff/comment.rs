//! Comments on what is not a table or column: what the files say (as
//! PostgreSQL stored it) against what the live objects carry. A comment
//! goes with its object: one dropped needs no removal, one dropped and
//! created again needs its comment set anew.

use std::collections::{BTreeMap, BTreeSet};

use super::Change;
use crate::ident::Ident;
use crate::model::{Commented, SchemaModel};

pub(super) fn diff_object_comments(
    live: &SchemaModel,
    desired: &SchemaModel,
    changes: &mut Vec<Change>,
) {
    let held = renamed(&live.comments, changes);
    let dropped = dropped_objects(live, &held, changes);
    let mut comments = Vec::new();
    for (object, text) in &desired.comments {
        let current = held.get(object).filter(|_| !dropped.contains(object));
        if current != Some(text) {
            comments.push(Change::CommentOn {
                object: object.clone(),
                comment: Some(text.clone()),
            });
        }
    }
    for object in held.keys() {
        if !desired.comments.contains_key(object)
            && !dropped.contains(object)
            && declared(desired, object)
        {
            comments.push(Change::CommentOn {
                object: object.clone(),
                comment: None,
            });
        }
    }
    changes.extend(comments);
}

/// The live comments under the names the renames before give their
/// objects.
fn renamed(
    comments: &BTreeMap<Commented, String>,
    changes: &[Change],
) -> BTreeMap<Commented, String> {
    let tables: BTreeMap<&Ident, &Ident> = changes
        .iter()
        .filter_map(|c| match c {
            Change::RenameTable { from, to } => Some((from, to)),
            _ => None,
        })
        .collect();
    let table = |name: &Ident| tables.get(name).map_or(name, |to| *to).clone();
    comments
        .iter()
        .map(|(object, text)| {
            let object = match object {
                Commented::Index { name } => Commented::Index {
                    name: changes
                        .iter()
                        .find_map(|c| match c {
                            Change::RenameIndex { from, to } if from == name => Some(to.clone()),
                            _ => None,
                        })
                        .unwrap_or_else(|| name.clone()),
                },
                Commented::Constraint { table: on, name } => {
                    let on = table(on);
                    let name = changes
                        .iter()
                        .find_map(|c| match c {
                            Change::RenameConstraint { table, from, to }
                                if *table == on && from == name =>
                            {
                                Some(to.clone())
                            }
                            _ => None,
                        })
                        .unwrap_or_else(|| name.clone());
                    Commented::Constraint { table: on, name }
                }
                Commented::Trigger { table: on, name } => Commented::Trigger {
                    table: table(on),
                    name: name.clone(),
                },
                Commented::Policy { table: on, name } => Commented::Policy {
                    table: table(on),
                    name: name.clone(),
                },
                other => other.clone(),
            };
            (object, text.clone())
        })
        .collect()
}

/// Whether the files declare the object (else it is dropped, and its
/// comment with it).
fn declared(desired: &SchemaModel, object: &Commented) -> bool {
    let table = |name: &Ident| desired.tables.get(name);
    match object {
        Commented::Index { name } => desired.indexes.contains_key(name),
        Commented::Constraint { table: on, name } => {
            table(on).is_some_and(|t| t.constraints.iter().any(|c| &c.name == name))
        }
        Commented::Sequence { name } => desired.sequences.contains_key(name),
        Commented::View { name } => desired.views.get(name).is_some_and(|v| !v.materialized),
        Commented::MaterializedView { name } => {
            desired.views.get(name).is_some_and(|v| v.materialized)
        }
        Commented::ViewColumn { view, column } => desired
            .views
            .get(view)
            .is_some_and(|v| v.columns.iter().any(|(c, _)| c == column)),
        Commented::TypeAttribute {
            type_name,
            attribute,
        } => desired
            .composites
            .get(type_name)
            .is_some_and(|t| t.attributes.iter().any(|a| &a.name == attribute)),
        Commented::Function {
            name, arguments, ..
        } => desired.function(name, arguments).is_some(),
        Commented::Type { name } => {
            desired.enums.contains_key(name) || desired.composites.contains_key(name)
        }
        Commented::Domain { name } => desired.domains.contains_key(name),
        Commented::Trigger { table: on, name } => {
            table(on).is_some_and(|t| t.triggers.iter().any(|g| &g.name == name))
        }
        Commented::Policy { table: on, name } => {
            table(on).is_some_and(|t| t.policies.iter().any(|p| &p.name == name))
        }
        Commented::Extension { name } => desired.extensions.contains_key(name),
        Commented::EventTrigger { name } => desired.event_triggers.contains_key(name),
    }
}

/// The live objects the changes drop (some to create again), whose
/// comments go with them.
fn dropped_objects(
    live: &SchemaModel,
    held: &BTreeMap<Commented, String>,
    changes: &[Change],
) -> BTreeSet<Commented> {
    let mut dropped = BTreeSet::new();
    let mut dropped_tables = BTreeSet::new();
    let mut dropped_types = BTreeSet::new();
    // A type created again takes its comment along, and so do the types
    // created again inside its change.
    for change in changes.iter().flat_map(Change::with_along) {
        match change {
            Change::DropIndex { index } => {
                dropped.insert(Commented::Index {
                    name: index.name.clone(),
                });
            }
            Change::DropConstraint { table, constraint } => {
                dropped.insert(Commented::Constraint {
                    table: table.clone(),
                    name: constraint.name.clone(),
                });
            }
            Change::DropTable { table } => {
                dropped_tables.insert(&table.name);
            }
            Change::DropSequence { sequence } => {
                dropped.insert(Commented::Sequence {
                    name: sequence.name.clone(),
                });
            }
            Change::DropView { view } => {
                let name = view.name.clone();
                dropped.insert(match view.materialized {
                    true => Commented::MaterializedView { name },
                    false => Commented::View { name },
                });
                dropped_tables.insert(&view.name);
            }
            Change::DropFunction { function: from, .. } | Change::RecreateFunction { from, .. } => {
                dropped.insert(Commented::Function {
                    name: from.name.clone(),
                    arguments: from.arguments.clone(),
                    procedure: from.procedure,
                });
            }
            Change::DropDomain { domain: from } | Change::RecreateDomain { from, .. } => {
                dropped.insert(Commented::Domain {
                    name: from.name.clone(),
                });
            }
            Change::DropComposite { composite: from } | Change::RecreateComposite { from, .. } => {
                dropped.insert(Commented::Type {
                    name: from.name.clone(),
                });
                dropped_types.insert(&from.name);
            }
            Change::AlterComposite { name, steps, .. } => {
                dropped.extend(steps.iter().filter_map(|step| match step {
                    super::composite::AttributeStep::Drop { name: attribute } => {
                        Some(Commented::TypeAttribute {
                            type_name: name.clone(),
                            attribute: attribute.clone(),
                        })
                    }
                    _ => None,
                }));
            }
            Change::DropEnum { enum_type: from } => {
                dropped.insert(Commented::Type {
                    name: from.name.clone(),
                });
            }
            Change::RecreateEnum { from, indexes, .. } => {
                dropped.insert(Commented::Type {
                    name: from.name.clone(),
                });
                dropped.extend(
                    indexes
                        .iter()
                        .map(|name| Commented::Index { name: name.clone() }),
                );
            }
            Change::DropTrigger { table, trigger } => {
                dropped.insert(Commented::Trigger {
                    table: table.clone(),
                    name: trigger.name.clone(),
                });
            }
            // A constraint trigger cannot be replaced: it is dropped.
            Change::ReplaceTrigger { table, from, .. } if from.constraint => {
                dropped.insert(Commented::Trigger {
                    table: table.clone(),
                    name: from.name.clone(),
                });
            }
            Change::DropPolicy { table, policy } => {
                dropped.insert(Commented::Policy {
                    table: table.clone(),
                    name: policy.name.clone(),
                });
            }
            Change::DropEventTrigger { trigger } => {
                dropped.insert(Commented::EventTrigger {
                    name: trigger.name.clone(),
                });
            }
            Change::DropExtension { extension } => {
                dropped.insert(Commented::Extension {
                    name: extension.name.clone(),
                });
            }
            _ => {}
        }
    }
    // What belongs to a dropped table or view goes with it.
    for object in held.keys() {
        let on_dropped = match object {
            Commented::Index { name } => live
                .indexes
                .get(name)
                .is_some_and(|i| dropped_tables.contains(&i.table)),
            Commented::TypeAttribute { type_name, .. } => dropped_types.contains(type_name),
            other => other.table().is_some_and(|t| dropped_tables.contains(t)),
        };
        if on_dropped {
            dropped.insert(object.clone());
        }
    }
    dropped
}
