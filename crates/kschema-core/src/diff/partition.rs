//! Partitioning: a table's key and a partition's place in its parent.
//!
//! A key cannot be altered: a table whose partitioning changes is dropped
//! (with the partitions it holds) and created again, and the rest of the
//! diff sees it as absent — so the foreign keys that reference it are
//! dropped before and added after, and the views that read it are created
//! again (`view::diff_views`). A partition's parent or bound can: `DETACH`,
//! then `ATTACH` with the new bound (`table::diff_table`).

use std::collections::BTreeSet;

use crate::ident::Ident;
use crate::model::{ConstraintKind, PartitionColumn, SchemaModel, SchemaRef};

use super::Change;

/// The live state without the tables whose partitioning changes (and the
/// partitions and indexes that go with them), and the changes that drop
/// them first.
pub(super) fn without_repartitioned(
    live: &SchemaModel,
    desired: &SchemaModel,
    changes: &mut Vec<Change>,
) -> Option<SchemaModel> {
    let repartitioned: Vec<&Ident> = live
        .tables
        .iter()
        .filter(|(name, table)| {
            desired.tables.get(*name).is_some_and(|wanted| {
                wanted.partition_key != table.partition_key
                    && (wanted.partition_key.is_some() || table.partition_key.is_some())
            })
        })
        .map(|(name, _)| name)
        .collect();
    if repartitioned.is_empty() {
        return None;
    }
    // What a dropped table takes with it: its partitions, theirs, …
    let mut gone: BTreeSet<Ident> = repartitioned.iter().map(|n| (*n).clone()).collect();
    loop {
        let more: Vec<Ident> = live
            .tables
            .values()
            .filter(|t| {
                !gone.contains(&t.name)
                    && t.partition_of
                        .as_ref()
                        .is_some_and(|of| gone.contains(&of.parent))
            })
            .map(|t| t.name.clone())
            .collect();
        if more.is_empty() {
            break;
        }
        gone.extend(more);
    }
    for name in &repartitioned {
        // A partition whose parent goes too goes with it.
        let parent_goes = live.tables[*name]
            .partition_of
            .as_ref()
            .is_some_and(|of| gone.contains(&of.parent));
        if !parent_goes {
            changes.push(Change::DropTableToRepartition {
                table: live.tables[*name].clone(),
            });
        }
    }
    let mut rest = live.clone();
    rest.tables.retain(|name, _| !gone.contains(name));
    rest.indexes.retain(|_, index| !gone.contains(&index.table));
    // A foreign key on a table that stays, referencing one that goes,
    // would stop the drop: it goes first, and the rest of the diff adds it
    // back once the table exists again.
    for table in rest.tables.values_mut() {
        let (dropped, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut table.constraints)
            .into_iter()
            .partition(|c| match &c.kind {
                ConstraintKind::ForeignKey(fk) => {
                    fk.references.schema == SchemaRef::Own && gone.contains(&fk.references.table)
                }
                _ => false,
            });
        table.constraints = kept;
        changes.extend(
            dropped
                .into_iter()
                .map(|constraint| Change::DropConstraint {
                    table: table.name.clone(),
                    constraint,
                }),
        );
    }
    Some(rest)
}

/// What each live partition's columns set themselves, against the files.
/// A parent's column whose default or nullability the plan changes passes
/// the change down to every partition (PostgreSQL recurses), wiping what
/// the partition had set: counted as gone, so it is set again after.
pub(super) fn diff_partition_columns(
    live: &SchemaModel,
    desired: &SchemaModel,
    changes: &mut Vec<Change>,
) {
    use crate::diff::ColumnChange;
    let mut passed_down: BTreeSet<(&Ident, &Ident, bool)> = BTreeSet::new();
    for change in changes.iter() {
        if let Change::AlterColumn {
            table, to, kind, ..
        } = change
        {
            match kind {
                ColumnChange::Default => passed_down.insert((table, &to.name, true)),
                ColumnChange::Nullability => passed_down.insert((table, &to.name, false)),
                _ => false,
            };
        }
    }
    // A type created again converts its columns with their defaults off.
    for column in changes
        .iter()
        .flat_map(Change::with_along)
        .flat_map(Change::converted_columns)
        .filter(|column| column.had_default)
    {
        passed_down.insert((&column.table, &column.column, true));
    }
    // And one naming it in an expression is taken off (a partition's own
    // too: off its partition alone).
    for (table, column) in changes.iter().flat_map(|c| c.taken_off().1) {
        passed_down.insert((table, column, true));
    }
    let mut found = Vec::new();
    for (name, wanted) in &desired.tables {
        let Some(of) = &wanted.partition_of else {
            continue;
        };
        let parent = desired.tables.get(&of.parent);
        // A table this plan attaches is no partition yet when its parent's
        // columns change, and keeps the defaults and NOT NULLs it had.
        let attached_now = live
            .tables
            .get(name)
            .is_some_and(|t| t.partition_of.as_ref().map(|o| &o.parent) != Some(&of.parent));
        let current = match live.tables.get(name) {
            // A new partition is created with what it sets.
            None => wanted.partition_columns.clone(),
            Some(table) if attached_now && table.partition_of.is_none() => {
                set_against(table, parent)
            }
            // Moved from another parent: compared once it is in its place.
            Some(_) if attached_now => continue,
            Some(table) => table.partition_columns.clone(),
        };
        let wiped = |column: &Ident, default: bool| {
            !attached_now
                && (passed_down.contains(&(&of.parent, column, default))
                    || default && passed_down.contains(&(name, column, true)))
        };
        let from: Vec<PartitionColumn> = current
            .iter()
            .map(|column| PartitionColumn {
                name: column.name.clone(),
                default: column
                    .default
                    .clone()
                    .filter(|_| !wiped(&column.name, true)),
                not_null: column.not_null && !wiped(&column.name, false),
            })
            .filter(|column| column.default.is_some() || column.not_null)
            .collect();
        let mut sorted_from = from.clone();
        let mut sorted_to = wanted.partition_columns.clone();
        sorted_from.sort_by(|a, b| a.name.cmp(&b.name));
        sorted_to.sort_by(|a, b| a.name.cmp(&b.name));
        if sorted_from == sorted_to {
            continue;
        }
        let inherited = from
            .iter()
            .filter(|column| column.default.is_some())
            .map(|column| {
                let default = parent
                    .and_then(|p| p.column(&column.name))
                    .and_then(|c| c.default.clone());
                (column.name.clone(), default)
            })
            .collect();
        found.push(Change::SetPartitionColumns {
            table: name.clone(),
            from,
            to: wanted.partition_columns.clone(),
            inherited,
        });
    }
    changes.extend(found);
}

/// What a plain table's columns set beyond `parent`'s (as the files
/// declare it): what it keeps as its own once attached.
fn set_against(
    table: &crate::model::Table,
    parent: Option<&crate::model::Table>,
) -> Vec<PartitionColumn> {
    table
        .columns
        .iter()
        .filter_map(|column| {
            let inherited = parent.and_then(|p| p.column(&column.name));
            let default = column.default.clone().filter(|own| {
                inherited.and_then(|c| c.default.as_ref()).map(|d| &d.sql) != Some(&own.sql)
            });
            let not_null = column.not_null && !inherited.is_some_and(|c| c.not_null);
            (default.is_some() || not_null).then(|| PartitionColumn {
                name: column.name.clone(),
                default,
                not_null,
            })
        })
        .collect()
}
