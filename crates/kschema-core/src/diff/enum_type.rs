//! Enum types: matched by name; new labels are added in place, removed or
//! reordered ones mean the type is created again.

use super::{mentions, Change, ConvertedColumn};
use crate::ident::Ident;
use crate::model::{ConstraintKind, SchemaModel, SqlExpr};

pub(super) fn diff_enums(live: &SchemaModel, desired: &SchemaModel, changes: &mut Vec<Change>) {
    for (name, wanted) in &desired.enums {
        let Some(current) = live.enums.get(name) else {
            changes.push(Change::CreateEnum {
                enum_type: wanted.clone(),
            });
            continue;
        };
        match current.additions_to(wanted) {
            Some(additions) if additions.is_empty() => {}
            Some(additions) => changes.push(Change::AddEnumValues {
                name: name.clone(),
                additions,
            }),
            None => {
                let columns = columns_of(name, live, desired);
                let (dependents, indexes) = dependents_of(&columns, live, desired, changes);
                changes.push(Change::RecreateEnum {
                    from: current.clone(),
                    to: wanted.clone(),
                    columns,
                    indexes,
                    defaults: Vec::new(),
                    foreign: Vec::new(),
                    holders: super::composite::holders_of(name, live, desired).0,
                    along: Vec::new(),
                });
                changes.extend(dependents);
            }
        }
    }
    for (name, current) in &live.enums {
        if !desired.enums.contains_key(name) {
            changes.push(Change::DropEnum {
                enum_type: current.clone(),
            });
        }
    }
}

/// The live columns of the type `name` (or of its array type), with the
/// default the files give them (a live default may name a label that
/// goes, or cast to the old type).
pub(super) fn columns_of(
    name: &Ident,
    live: &SchemaModel,
    desired: &SchemaModel,
) -> Vec<ConvertedColumn> {
    let named = name.quoted().to_string();
    let mut columns = Vec::new();
    for table in live.tables.values() {
        for column in &table.columns {
            if !column.data_type.is_or_array_of(&named) {
                continue;
            }
            let is_array = column.data_type.is_array();
            let default = desired
                .tables
                .get(&table.name)
                .and_then(|t| t.column(&column.name))
                .and_then(|c| c.default.clone());
            // A partition's own default reads the old type too: the
            // table's `DROP DEFAULT` reaches it, and the diff sets it again
            // after (`diff_partition_columns`).
            let had_default = column.default.is_some()
                || !partitions_own_defaults(live, &table.name, &column.name).is_empty();
            columns.push(ConvertedColumn {
                table: table.name.clone(),
                column: column.name.clone(),
                array: is_array,
                had_default,
                default,
            });
        }
    }
    columns
}

/// The partitions of `table` (at any depth) with a default of their own
/// for `column`, and that default.
pub(crate) fn partitions_own_defaults(
    live: &SchemaModel,
    table: &Ident,
    column: &Ident,
) -> Vec<(Ident, SqlExpr)> {
    let mut found = Vec::new();
    for partition in live.tables.values() {
        if partition.partition_of.as_ref().map(|of| &of.parent) != Some(table) {
            continue;
        }
        found.extend(
            partition
                .partition_columns
                .iter()
                .filter(|c| &c.name == column)
                .filter_map(|c| c.default.clone())
                .map(|default| (partition.name.clone(), default)),
        );
        found.extend(partitions_own_defaults(live, &partition.name, column));
    }
    found
}

/// Checks and indexes whose expressions read a converted column compare
/// it with the old type's labels, and block its conversion: checks are
/// dropped before (their phase comes first), indexes in the conversion's
/// transaction (the names returned), and both are made again after from
/// the files — unless the diff drops them already (an index it builds
/// again online is still taken off here: its old form goes only after).
pub(super) fn dependents_of(
    columns: &[ConvertedColumn],
    live: &SchemaModel,
    desired: &SchemaModel,
    changes: &[Change],
) -> (Vec<Change>, Vec<Ident>) {
    let mut dependents = Vec::new();
    let mut indexes = Vec::new();
    let dropped_constraint = |table: &Ident, name: &Ident| {
        changes.iter().any(|c| matches!(c, Change::DropConstraint { table: t, constraint } if t == table && &constraint.name == name))
    };
    let dropped_index = |name: &Ident| {
        changes
            .iter()
            .any(|c| matches!(c, Change::DropIndex { index } if &index.name == name))
    };
    // An index the diff builds again online drops its old form only once
    // the new one is built, after the conversion's commit: the old form is
    // taken off in the conversion too, and the diff's own build stays.
    let rebuilt_index = |name: &Ident| {
        changes
            .iter()
            .any(|c| matches!(c, Change::CreateIndex { index } if &index.name == name))
    };
    for column in columns {
        let Some(table) = live.tables.get(&column.table) else {
            continue;
        };
        let reads = |text: &str| mentions(text, &column.column);
        for constraint in &table.constraints {
            let ConstraintKind::Check { expr, .. } = &constraint.kind else {
                continue;
            };
            if !reads(&expr.canonical) || dropped_constraint(&table.name, &constraint.name) {
                continue;
            }
            dependents.push(Change::DropConstraint {
                table: table.name.clone(),
                constraint: constraint.clone(),
            });
            let wanted = desired
                .tables
                .get(&table.name)
                .and_then(|t| t.constraints.iter().find(|c| c.name == constraint.name));
            if let Some(wanted) = wanted {
                dependents.push(Change::AddConstraint {
                    table: table.name.clone(),
                    constraint: wanted.clone(),
                });
            }
        }
        for index in live.indexes_of(&table.name) {
            let rebuilt = rebuilt_index(&index.name);
            if !index.expressions().any(reads) || dropped_index(&index.name) && !rebuilt {
                continue;
            }
            indexes.push(index.name.clone());
            if rebuilt {
                continue;
            }
            if let Some(wanted) = desired.indexes.get(&index.name) {
                dependents.push(Change::CreateIndex {
                    index: wanted.clone(),
                });
            }
        }
    }
    (dependents, indexes)
}
