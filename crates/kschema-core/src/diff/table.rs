//! Tables: columns, constraints, indexes and the comments on tables and
//! columns.

use std::collections::{BTreeMap, BTreeSet};

use crate::ident::Ident;
use crate::model::{Column, Constraint, Identity, Index, SchemaModel, Table};

use super::{Change, ColumnChange};

/// `COMMENT ON TABLE` and `COLUMN`: what the files say, for every table
/// and column they declare (a column added again to change its generated
/// expression loses its comment, so it is set again).
pub(super) fn diff_comments(live: &SchemaModel, desired: &SchemaModel, changes: &mut Vec<Change>) {
    for (name, table) in &desired.tables {
        let live_table = live.tables.get(name);
        if live_table.and_then(|t| t.comment.as_ref()) != table.comment.as_ref() {
            changes.push(Change::SetComment {
                table: name.clone(),
                column: None,
                comment: table.comment.clone(),
            });
        }
        for column in &table.columns {
            let live_column = live_table.and_then(|t| t.column(&column.name));
            let readded = live_column
                .is_some_and(|l| column.generated.is_some() && l.generated != column.generated);
            let live_comment = live_column.and_then(|c| c.comment.as_ref());
            if live_comment != column.comment.as_ref() || (readded && column.comment.is_some()) {
                changes.push(Change::SetComment {
                    table: name.clone(),
                    column: Some(column.name.clone()),
                    comment: column.comment.clone(),
                });
            }
        }
    }
}

pub(super) fn same_columns(a: &Table, b: &Table) -> bool {
    a.columns.len() == b.columns.len()
        && a.columns.iter().all(|c| {
            b.column(&c.name)
                .is_some_and(|d| d.data_type == c.data_type)
        })
}

pub(super) fn diff_table(live: &Table, desired: &Table, changes: &mut Vec<Change>) {
    let table = &desired.name;
    if live.partition_of != desired.partition_of {
        changes.push(Change::SetPartitionOf {
            table: table.clone(),
            from: live.partition_of.clone(),
            to: desired.partition_of.clone(),
        });
    }
    if live.replica_identity != desired.replica_identity {
        changes.push(Change::SetReplicaIdentity {
            table: table.clone(),
            identity: desired.replica_identity.clone(),
        });
    }
    if live.unlogged != desired.unlogged {
        changes.push(Change::SetPersistence {
            table: table.clone(),
            unlogged: desired.unlogged,
        });
    }
    if let Some(change) = storage_parameter_change(table, None, &live.options, &desired.options) {
        changes.push(change);
    }
    if live.tablespace != desired.tablespace {
        changes.push(Change::SetTablespace {
            table: table.clone(),
            index: None,
            tablespace: desired.tablespace.clone(),
            partitioned: desired.partition_key.is_some(),
        });
    }
    // A partition's columns are its parent's; a table about to be attached
    // keeps its own keys too, which ATTACH matches to the parent's.
    if desired.partition_of.is_some() {
        if live.partition_of.is_some() {
            diff_constraints(table, &live.constraints, &desired.constraints, changes);
        }
        return;
    }
    for column in &desired.columns {
        match live.column(&column.name) {
            None => changes.push(Change::AddColumn {
                table: table.clone(),
                column: column.clone(),
            }),
            Some(current) => diff_column(table, current, column, changes),
        }
    }
    for column in &live.columns {
        if desired.column(&column.name).is_none() {
            changes.push(Change::DropColumn {
                table: table.clone(),
                column: column.clone(),
            });
        }
    }
    diff_constraints(table, &live.constraints, &desired.constraints, changes);
}

fn diff_column(table: &Ident, live: &Column, desired: &Column, changes: &mut Vec<Change>) {
    let mut alter = |kind| {
        changes.push(Change::AlterColumn {
            table: table.clone(),
            from: live.clone(),
            to: desired.clone(),
            kind,
            using: None,
        })
    };
    if live.generated != desired.generated {
        alter(ColumnChange::Generated);
        // Added again with its new expression: its type, nullability and
        // collation come with it.
        if desired.generated.is_some() {
            return;
        }
    }
    if live.data_type != desired.data_type || live.collation != desired.collation {
        alter(ColumnChange::Type);
    }
    if live.identity != desired.identity {
        alter(ColumnChange::Identity);
    }
    // A new identity or serial brings its options; one that stays may
    // change them. (An identity's sequence follows its column's type; a
    // serial's is set apart, its type with its options, and its name.)
    let serials = matches!(live.identity, Some(Identity::Serial { .. }))
        && matches!(desired.identity, Some(Identity::Serial { .. }));
    let identities = live.is_identity() && desired.is_identity();
    if (identities || serials)
        && (!desired.own_sequence_clauses_from(live).is_empty()
            || live.serial_sequence() != desired.serial_sequence())
    {
        alter(ColumnChange::IdentityOptions);
    }
    if live.default != desired.default {
        alter(ColumnChange::Default);
    }
    // An identity added to a nullable column sets NOT NULL itself, first
    // (PostgreSQL refuses the identity otherwise).
    let identity_sets_not_null = adds_identity(live, desired) && !live.not_null;
    if live.not_null != desired.not_null && !identity_sets_not_null {
        alter(ColumnChange::Nullability);
    }
}

/// Whether the change makes the column a `GENERATED … AS IDENTITY` one it
/// was not.
pub fn adds_identity(live: &Column, desired: &Column) -> bool {
    desired.is_identity() && !live.is_identity()
}

/// Pairs of (live, desired) that are the same object, by the matching rules
/// in the module docs; what is left over is dropped or added.
fn match_by_name_and_definition<'a, T>(
    live: &'a [T],
    desired: &'a [T],
    name: impl Fn(&T) -> &Ident,
    same: impl Fn(&T, &T) -> bool,
) -> Vec<(Option<&'a T>, Option<&'a T>)> {
    let mut used_live: BTreeSet<usize> = BTreeSet::new();
    let mut pairs: Vec<(Option<&T>, Option<&T>)> = Vec::new();
    let mut unmatched_desired: Vec<&T> = Vec::new();
    for d in desired {
        match live.iter().position(|l| name(l) == name(d)) {
            Some(i) => {
                used_live.insert(i);
                pairs.push((Some(&live[i]), Some(d)));
            }
            None => unmatched_desired.push(d),
        }
    }
    let desired_names: BTreeSet<&Ident> = desired.iter().map(&name).collect();
    for d in unmatched_desired {
        // A live object of the same definition that nothing desires by name.
        let candidate = live.iter().enumerate().position(|(i, l)| {
            !used_live.contains(&i) && !desired_names.contains(name(l)) && same(l, d)
        });
        match candidate {
            Some(i) => {
                used_live.insert(i);
                pairs.push((Some(&live[i]), Some(d)));
            }
            None => pairs.push((None, Some(d))),
        }
    }
    for (i, l) in live.iter().enumerate() {
        if !used_live.contains(&i) {
            pairs.push((Some(l), None));
        }
    }
    pairs
}

fn diff_constraints(
    table: &Ident,
    live: &[Constraint],
    desired: &[Constraint],
    changes: &mut Vec<Change>,
) {
    let pairs =
        match_by_name_and_definition(live, desired, |c| &c.name, Constraint::same_definition);
    for pair in pairs {
        match pair {
            (Some(l), Some(d)) if !l.same_definition(d) => {
                changes.push(Change::DropConstraint {
                    table: table.clone(),
                    constraint: l.clone(),
                });
                changes.push(Change::AddConstraint {
                    table: table.clone(),
                    constraint: d.clone(),
                });
            }
            (Some(l), Some(d)) => {
                if l.name != d.name && !d.implicit_name {
                    changes.push(Change::RenameConstraint {
                        table: table.clone(),
                        from: l.name.clone(),
                        to: d.name.clone(),
                    });
                }
                // A key's index storage parameters change in place, on its
                // index (named as the constraint is, once renamed).
                let index = if d.implicit_name { &l.name } else { &d.name };
                changes.extend(storage_parameter_change(
                    table,
                    Some(index.clone()),
                    &l.options,
                    &d.options,
                ));
                // NOT VALID in the files is kept as declared: a live
                // constraint is validated only when the files say it holds.
                if !l.validated && d.validated {
                    changes.push(Change::ValidateConstraint {
                        table: table.clone(),
                        constraint: Constraint {
                            name: if d.implicit_name {
                                l.name.clone()
                            } else {
                                d.name.clone()
                            },
                            ..d.clone()
                        },
                    });
                }
            }
            (None, Some(d)) => changes.push(Change::AddConstraint {
                table: table.clone(),
                constraint: d.clone(),
            }),
            (Some(l), None) => changes.push(Change::DropConstraint {
                table: table.clone(),
                constraint: l.clone(),
            }),
            (None, None) => {}
        }
    }
}

pub(super) fn diff_indexes(live: &SchemaModel, desired: &SchemaModel, changes: &mut Vec<Change>) {
    // Indexes of tables that are dropped go with them; those of tables that
    // are created are created after them. A materialized view's are the
    // view's (`view::diff_views`).
    let attached = |table: &Ident| {
        desired.tables[table].partition_of.is_some() && live.tables[table].partition_of.is_none()
    };
    let on_kept_table = |i: &&Index| {
        live.tables.contains_key(&i.table)
            && desired.tables.contains_key(&i.table)
            && !attached(&i.table)
    };
    let live_indexes: Vec<Index> = live
        .indexes
        .values()
        .filter(on_kept_table)
        .cloned()
        .collect();
    let desired_indexes: Vec<Index> = desired
        .indexes
        .values()
        .filter(|i| !desired.views.contains_key(&i.table))
        .cloned()
        .collect();
    diff_index_sets(&live_indexes, &desired_indexes, changes);
}

/// Drops, builds and renames that turn the `live` indexes into the
/// `desired` ones.
pub(super) fn diff_index_sets(live: &[Index], desired: &[Index], changes: &mut Vec<Change>) {
    let pairs = match_by_name_and_definition(live, desired, |i| &i.name, Index::same_definition);
    for pair in pairs {
        match pair {
            // A partitioned index's tablespace is where its partitions'
            // are built: moving it moves none of them, building it again
            // does.
            (Some(l), Some(d))
                if !l.same_definition(d)
                    || !l.valid
                    || (d.partitioned && l.tablespace != d.tablespace) =>
            {
                changes.push(Change::DropIndex { index: l.clone() });
                changes.push(Change::CreateIndex { index: d.clone() });
            }
            (Some(l), Some(d)) => {
                if l.name != d.name && !d.implicit_name {
                    changes.push(Change::RenameIndex {
                        from: l.name.clone(),
                        to: d.name.clone(),
                    });
                }
                // Storage parameters change in place: new pages follow them.
                let index = Some(d.name.clone());
                changes.extend(storage_parameter_change(
                    &d.table, index, &l.options, &d.options,
                ));
                if l.tablespace != d.tablespace {
                    changes.push(Change::SetTablespace {
                        table: d.table.clone(),
                        index: Some(d.name.clone()),
                        tablespace: d.tablespace.clone(),
                        partitioned: false,
                    });
                }
            }
            (None, Some(d)) => changes.push(Change::CreateIndex { index: d.clone() }),
            (Some(l), None) => changes.push(Change::DropIndex { index: l.clone() }),
            (None, None) => {}
        }
    }
}

/// The `SET (…)` / `RESET (…)` that turns the `live` storage parameters of
/// `table` (or of its index) into the `desired` ones, if they differ.
fn storage_parameter_change(
    table: &Ident,
    index: Option<Ident>,
    live: &[(String, String)],
    desired: &[(String, String)],
) -> Option<Change> {
    let (live_options, desired_options): (BTreeMap<_, _>, BTreeMap<_, _>) = (
        live.iter().cloned().collect(),
        desired.iter().cloned().collect(),
    );
    (live_options != desired_options).then(|| Change::SetStorageParameters {
        table: table.clone(),
        index,
        set: desired
            .iter()
            .filter(|(name, value)| live_options.get(name) != Some(value))
            .cloned()
            .collect(),
        reset: live
            .iter()
            .map(|(name, _)| name)
            .filter(|name| !desired_options.contains_key(*name))
            .cloned()
            .collect(),
    })
}
