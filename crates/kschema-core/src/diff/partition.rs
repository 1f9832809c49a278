//! Partitioning: a table's key and a partition's place in its parent.
//!
//! A key cannot be altered: a table whose partitioning changes is dropped
//! (with the partitions it holds) and created again, and the rest of the
//! diff sees it as absent. A partition's parent or bound can: `DETACH`,
//! then `ATTACH` with the new bound (`table::diff_table`).

use std::collections::BTreeSet;

use crate::ident::Ident;
use crate::model::SchemaModel;

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
    Some(rest)
}
