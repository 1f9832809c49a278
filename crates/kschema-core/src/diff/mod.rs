//! Live model vs desired model → the closed set of [`Change`]s between them.
//!
//! Matching rules:
//! - tables, columns and sequences match by name (a column's position is
//!   never a difference: PostgreSQL cannot reorder columns);
//! - constraints and indexes match by name and definition; one the desired
//!   state left unnamed matches a live one of the same definition whatever
//!   PostgreSQL called it; an explicitly named one whose definition exists
//!   live under another name is a rename;
//! - a live constraint `NOT VALID` is validated when the files say it holds
//!   (one declared `NOT VALID` is kept so), an index left invalid is
//!   rebuilt: neither is ignored.
//!
//! Each kind has its file (`table` for columns, constraints and indexes,
//! `seed`, `routine`, `view`, …); this one calls them in the order later
//! kinds read earlier ones' changes (a view sees the columns converted).

use std::collections::BTreeSet;

use crate::ident::Ident;
use crate::model::{Constraint, ReplicaIdentity, SchemaModel, Table};

mod along;
mod built_on;
pub use built_on::{foreign_builders_along, Builder};
mod change;
pub use along::{
    CallerAround, ConvertedColumn, ForeignCallers, ForeignColumns, ForeignFunction, ForeignView,
};
pub use change::{Change, ColumnChange, RowUpdate};
mod comment;
mod composite;
pub use composite::{holders_of, AttributeStep};
mod domain;
pub use domain::{domain_steps, DomainStep};
mod enum_type;
mod event_trigger;
mod extension;
mod partition;
mod policy;
mod privilege;
mod rename;
pub(crate) use enum_type::partitions_own_defaults;
pub use rename::{possible_renames, Renames};
pub(crate) use routine::partition_defaults_along;
mod routine;
mod seed;
pub use seed::diff_seeds;
mod table;
mod type_users;
use event_trigger::diff_event_triggers;
use rename::apply_renames;
pub use table::adds_identity;
use table::{diff_comments, diff_index_sets, diff_indexes, diff_table};
mod view;

/// The changes that turn `live` into `desired`. `live` is `None` when the
/// schema does not exist yet.
pub fn diff(live: Option<&SchemaModel>, desired: &SchemaModel, renames: &Renames) -> Vec<Change> {
    let empty = SchemaModel::default();
    let mut changes = Vec::new();
    if live.is_none() {
        changes.push(Change::CreateSchema);
    }
    // Renames first: the rest of the diff then sees the live state as if
    // the objects already had their new names.
    let renamed;
    let live = match live {
        Some(live) => {
            renamed = apply_renames(live, desired, renames, &mut changes);
            &renamed
        }
        None => &empty,
    };
    let repartitioned;
    let live = match partition::without_repartitioned(live, desired, &mut changes) {
        Some(rest) => {
            repartitioned = rest;
            &repartitioned
        }
        None => live,
    };

    for (name, sequence) in &desired.sequences {
        match live.sequences.get(name) {
            None => changes.push(Change::CreateSequence {
                sequence: sequence.clone(),
            }),
            Some(current) if current != sequence => changes.push(Change::AlterSequence {
                from: current.clone(),
                to: sequence.clone(),
            }),
            Some(_) => {}
        }
    }

    for (name, table) in &desired.tables {
        match live.tables.get(name) {
            // CREATE TABLE cannot say NOT VALID: such constraints follow it.
            None => {
                let (valid, not_valid): (Vec<Constraint>, Vec<Constraint>) =
                    table.constraints.iter().cloned().partition(|c| c.validated);
                changes.push(Change::CreateTable {
                    table: Table {
                        constraints: valid,
                        ..table.clone()
                    },
                });
                changes.extend(
                    not_valid
                        .into_iter()
                        .map(|constraint| Change::AddConstraint {
                            table: name.clone(),
                            constraint,
                        }),
                );
                // Nor REPLICA IDENTITY.
                if table.replica_identity.is_some() {
                    changes.push(Change::SetReplicaIdentity {
                        table: name.clone(),
                        identity: table.replica_identity.clone(),
                    });
                }
            }
            Some(current) => diff_table(current, table, &mut changes),
        }
    }
    for (name, table) in &live.tables {
        if !desired.tables.contains_key(name) {
            changes.push(Change::DropTable {
                table: table.clone(),
            });
        }
    }

    diff_indexes(live, desired, &mut changes);
    replica_identities_of_rebuilt_indexes(desired, &mut changes);
    diff_comments(live, desired, &mut changes);
    routine::diff_routines(live, desired, &mut changes);
    enum_type::diff_enums(live, desired, &mut changes);
    domain::diff_domains(live, desired, &mut changes);
    composite::diff_composites(live, desired, &mut changes);
    built_on::take_builders_along(live, desired, &mut changes);
    type_users::take_type_users_along(live, desired, &mut changes);
    // After the type recreations: their conversions wipe partitions' own
    // defaults too.
    partition::diff_partition_columns(live, desired, &mut changes);
    extension::diff_extensions(live, desired, &mut changes);
    diff_event_triggers(live, desired, &mut changes);
    routine::recreate_for_recreated_types(live, desired, &mut changes);
    routine::take_callers_along(live, &mut changes);
    view::diff_views(live, desired, &mut changes);
    policy::diff_policies(live, desired, &mut changes);
    privilege::diff_privileges(live, desired, &mut changes);
    comment::diff_object_comments(live, desired, &mut changes);

    for (name, sequence) in &live.sequences {
        if !desired.sequences.contains_key(name) {
            changes.push(Change::DropSequence {
                sequence: sequence.clone(),
            });
        }
    }
    changes
}

/// A table's `REPLICA IDENTITY USING INDEX i` is lost with `i`: when the
/// plan drops `i` to build it again (a changed definition, a key's new
/// columns), it names `i` again once built.
fn replica_identities_of_rebuilt_indexes(desired: &SchemaModel, changes: &mut Vec<Change>) {
    let rebuilt: Vec<(Ident, Ident)> = changes
        .iter()
        .filter_map(|change| match change {
            Change::DropIndex { index } => Some((index.table.clone(), index.name.clone())),
            Change::DropConstraint { table, constraint } => {
                Some((table.clone(), constraint.name.clone()))
            }
            _ => None,
        })
        .collect();
    for (table, index) in rebuilt {
        let Some(desired_table) = desired.tables.get(&table) else {
            continue;
        };
        let names_it =
            ReplicaIdentity::index(desired_table.replica_identity.as_ref()) == Some(&index);
        let set_already = changes
            .iter()
            .any(|c| matches!(c, Change::SetReplicaIdentity { table: t, .. } if *t == table));
        if names_it && !set_already {
            changes.push(Change::SetReplicaIdentity {
                table,
                identity: desired_table.replica_identity.clone(),
            });
        }
    }
}

/// The functions dropped and created again, whose `DROP FUNCTION` a view
/// or policy calling them would block: by name (one calling another
/// overload is created again too, which costs only that).
fn recreated_functions(changes: &[Change]) -> BTreeSet<Ident> {
    changes
        .iter()
        .filter_map(|change| change.function_recreated())
        .map(|function| function.name.clone())
        .collect()
}

/// The table columns whose changes objects reading them block (a view, a
/// policy): a type or generated expression changed, or the column dropped.
fn disturbed_columns(changes: &[Change]) -> BTreeSet<(Ident, Ident)> {
    changes
        .iter()
        .filter_map(|change| match change {
            Change::AlterColumn {
                table,
                to,
                kind: ColumnChange::Type | ColumnChange::Generated,
                ..
            } => Some((table.clone(), to.name.clone())),
            Change::DropColumn { table, column } => Some((table.clone(), column.name.clone())),
            _ => None,
        })
        .collect()
}

/// Whether `text` names `column` as an identifier (bare or quoted).
pub(crate) fn mentions(text: &str, column: &Ident) -> bool {
    let quoted = column.quoted().to_string();
    let is_name = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    text.match_indices(quoted.as_str()).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + quoted.len()..].chars().next();
        !before.is_some_and(is_name) && !after.is_some_and(is_name)
    })
}
