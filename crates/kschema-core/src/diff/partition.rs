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
use crate::model::{ConstraintKind, SchemaModel, SchemaRef};

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
