//! The order changes run in. Each change belongs to a phase (the rule and
//! its reason sit next to each phase below); inside a phase, tables are
//! created in foreign-key order and dropped in reverse foreign-key order,
//! both by topological sort. A foreign-key cycle between new tables is
//! broken by creating the tables first and adding the cycle's keys after.

use std::collections::{BTreeMap, BTreeSet};

use crate::diff::{Change, ColumnChange};
use crate::ident::Ident;
use crate::model::{ConstraintKind, SchemaRef};

/// The phases, in run order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    /// Everything else lives in the schema.
    CreateSchema,
    /// Foreign keys go first: they depend on the keys, columns and tables
    /// that later phases change or drop.
    DropForeignKeys,
    /// Other constraints and indexes go before the columns they cover are
    /// changed or dropped (and before a same-named replacement is added).
    DropConstraintsAndIndexes,
    Renames,
    /// Sequences before the tables whose defaults call them.
    Sequences,
    CreateTables,
    /// A default goes before a type change (the old default may not cast),
    /// and comes back after it.
    DropDefaults,
    AddColumns,
    AlterColumns,
    SetDefaults,
    /// Primary keys, unique and check constraints before foreign keys, which
    /// may reference a new unique key.
    AddConstraints,
    AddForeignKeys,
    Validate,
    /// Indexes after the columns they cover exist.
    CreateIndexes,
    /// Seed rows once the tables and columns are in place; deletes first
    /// (children before parents), then inserts and updates (parents first).
    SeedRows,
    /// Nullability last among column changes: SET NOT NULL needs the
    /// default and type in place.
    Nullability,
    DropColumns,
    DropTables,
    /// A sequence outlives the columns and tables that used it.
    DropSequences,
}

fn phase(change: &Change) -> Phase {
    match change {
        Change::CreateSchema => Phase::CreateSchema,
        Change::DropConstraint { constraint, .. } => match constraint.kind {
            ConstraintKind::ForeignKey(_) => Phase::DropForeignKeys,
            _ => Phase::DropConstraintsAndIndexes,
        },
        Change::DropIndex { .. } => Phase::DropConstraintsAndIndexes,
        Change::RenameConstraint { .. }
        | Change::RenameIndex { .. }
        | Change::RenameTable { .. }
        | Change::RenameColumn { .. } => Phase::Renames,
        Change::CreateSequence { .. } | Change::AlterSequence { .. } => Phase::Sequences,
        Change::CreateTable { .. } => Phase::CreateTables,
        Change::AddColumn { .. } => Phase::AddColumns,
        Change::AlterColumn { kind, to, .. } => match kind {
            ColumnChange::Type | ColumnChange::Identity => Phase::AlterColumns,
            ColumnChange::Default if to.default.is_none() => Phase::DropDefaults,
            ColumnChange::Default => Phase::SetDefaults,
            ColumnChange::Nullability => Phase::Nullability,
        },
        Change::AddConstraint { constraint, .. } => match constraint.kind {
            ConstraintKind::ForeignKey(_) => Phase::AddForeignKeys,
            _ => Phase::AddConstraints,
        },
        Change::ValidateConstraint { .. } => Phase::Validate,
        Change::CreateIndex { .. } => Phase::CreateIndexes,
        Change::InsertRow { .. } | Change::UpdateRow { .. } | Change::DeleteRow { .. } => {
            Phase::SeedRows
        }
        Change::DropColumn { .. } => Phase::DropColumns,
        Change::DropTable { .. } => Phase::DropTables,
        Change::DropSequence { .. } => Phase::DropSequences,
    }
}

/// Orders changes for running. Deterministic: ties keep the diff's order,
/// which follows name order.
pub fn order_changes(changes: Vec<Change>) -> Vec<Change> {
    let changes = break_foreign_key_cycles(changes);
    let mut by_phase: BTreeMap<Phase, Vec<Change>> = BTreeMap::new();
    for change in changes {
        by_phase.entry(phase(&change)).or_default().push(change);
    }
    let mut ordered = Vec::new();
    for (phase, group) in by_phase {
        match phase {
            Phase::CreateTables => ordered.extend(topological(group, false)),
            Phase::DropTables => ordered.extend(topological(group, true)),
            _ => ordered.extend(group),
        }
    }
    ordered
}

/// Tables in the group that `table` references (same schema, not itself).
fn references_within(change: &Change, names: &BTreeSet<Ident>) -> BTreeSet<Ident> {
    let (Change::CreateTable { table } | Change::DropTable { table }) = change else {
        return BTreeSet::new();
    };
    table
        .foreign_keys()
        .filter(|(_, fk)| fk.references.schema == SchemaRef::Own)
        .map(|(_, fk)| fk.references.table.clone())
        .filter(|t| t != &table.name && names.contains(t))
        .collect()
}

/// Kahn's algorithm; referenced tables first (or last, for drops). Ties go
/// by name, so the result never depends on hash order.
fn topological(group: Vec<Change>, reverse: bool) -> Vec<Change> {
    let names: BTreeSet<Ident> = group.iter().filter_map(|c| c.table().cloned()).collect();
    let mut depends: BTreeMap<Ident, BTreeSet<Ident>> = BTreeMap::new();
    for change in &group {
        if let Some(name) = change.table() {
            depends.insert(name.clone(), references_within(change, &names));
        }
    }
    if reverse {
        // Dropping: a table goes after the tables that reference it.
        let mut reversed: BTreeMap<Ident, BTreeSet<Ident>> =
            names.iter().map(|n| (n.clone(), BTreeSet::new())).collect();
        for (table, refs) in &depends {
            for referenced in refs {
                reversed
                    .entry(referenced.clone())
                    .or_default()
                    .insert(table.clone());
            }
        }
        depends = reversed;
    }
    let mut by_name: BTreeMap<Ident, Change> = group
        .into_iter()
        .filter_map(|c| c.table().cloned().map(|n| (n, c)))
        .collect();
    let mut ordered = Vec::new();
    while !depends.is_empty() {
        let ready = depends
            .iter()
            .find(|(_, deps)| deps.is_empty())
            .map(|(name, _)| name.clone())
            // A cycle among drops: PostgreSQL drops the keys with the
            // tables, so any order works; take the first by name.
            .or_else(|| depends.keys().next().cloned());
        let Some(ready) = ready else { break };
        depends.remove(&ready);
        for deps in depends.values_mut() {
            deps.remove(&ready);
        }
        if let Some(change) = by_name.remove(&ready) {
            ordered.push(change);
        }
    }
    ordered
}

/// Foreign keys between new tables that form a cycle cannot be written
/// inline: the tables are created without them and the keys added after.
fn break_foreign_key_cycles(changes: Vec<Change>) -> Vec<Change> {
    let created: BTreeSet<Ident> = changes
        .iter()
        .filter_map(|c| match c {
            Change::CreateTable { table } => Some(table.name.clone()),
            _ => None,
        })
        .collect();
    let mut graph: BTreeMap<Ident, BTreeSet<Ident>> = BTreeMap::new();
    for change in &changes {
        if let Change::CreateTable { table } = change {
            graph.insert(table.name.clone(), references_within(change, &created));
        }
    }
    let cyclic = tables_on_cycles(&graph);
    if cyclic.is_empty() {
        return changes;
    }
    let mut out = Vec::new();
    let mut deferred = Vec::new();
    for change in changes {
        match change {
            Change::CreateTable { mut table } if cyclic.contains(&table.name) => {
                let (keep, defer): (Vec<_>, Vec<_>) =
                    table.constraints.into_iter().partition(|c| match &c.kind {
                        ConstraintKind::ForeignKey(fk) => {
                            !(fk.references.schema == SchemaRef::Own
                                && fk.references.table != table.name
                                && cyclic.contains(&fk.references.table))
                        }
                        _ => true,
                    });
                table.constraints = keep;
                deferred.extend(defer.into_iter().map(|constraint| Change::AddConstraint {
                    table: table.name.clone(),
                    constraint,
                }));
                out.push(Change::CreateTable { table });
            }
            other => out.push(other),
        }
    }
    out.extend(deferred);
    out
}

/// The tables that lie on a reference cycle.
fn tables_on_cycles(graph: &BTreeMap<Ident, BTreeSet<Ident>>) -> BTreeSet<Ident> {
    // Repeatedly strip tables nothing in the remainder depends on, or that
    // depend on nothing in it; what is left lies on or between cycles.
    let mut remaining: BTreeMap<Ident, BTreeSet<Ident>> = graph.clone();
    loop {
        let removable: Vec<Ident> = remaining
            .iter()
            .filter(|(name, deps)| {
                deps.iter().all(|d| !remaining.contains_key(d))
                    || !remaining.values().any(|other| other.contains(*name))
            })
            .map(|(name, _)| name.clone())
            .collect();
        if removable.is_empty() {
            return remaining.into_keys().collect();
        }
        for name in removable {
            remaining.remove(&name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Constraint, Deferrable, ForeignKey, ReferentialAction, Table, TableRef};

    fn table(name: &str, refs: &[&str]) -> Table {
        Table {
            name: Ident::new(name),
            columns: vec![],
            constraints: refs
                .iter()
                .map(|r| Constraint {
                    name: Ident::new(format!("{name}_{r}_fkey")),
                    kind: ConstraintKind::ForeignKey(ForeignKey {
                        columns: vec![Ident::new("x")],
                        references: TableRef {
                            schema: SchemaRef::Own,
                            table: Ident::new(*r),
                        },
                        referenced_columns: vec![Ident::new("id")],
                        on_delete: ReferentialAction::NoAction,
                        on_update: ReferentialAction::NoAction,
                        match_full: false,
                        deferrable: Deferrable::NotDeferrable,
                    }),
                    validated: true,
                    implicit_name: true,
                })
                .collect(),
        }
    }

    fn names(changes: &[Change]) -> Vec<String> {
        changes
            .iter()
            .map(|c| match c {
                Change::CreateTable { table } => format!("create {}", table.name),
                Change::DropTable { table } => format!("drop {}", table.name),
                Change::AddConstraint { constraint, .. } => format!("add {}", constraint.name),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn tables_are_created_referenced_first_and_dropped_referencing_first() {
        let creates = vec![
            Change::CreateTable {
                table: table("a_child", &["b_parent"]),
            },
            Change::CreateTable {
                table: table("b_parent", &[]),
            },
        ];
        assert_eq!(
            names(&order_changes(creates)),
            ["create b_parent", "create a_child"]
        );
        let drops = vec![
            Change::DropTable {
                table: table("b_parent", &[]),
            },
            Change::DropTable {
                table: table("a_child", &["b_parent"]),
            },
        ];
        assert_eq!(
            names(&order_changes(drops)),
            ["drop a_child", "drop b_parent"]
        );
    }

    #[test]
    fn cycles_are_broken_with_a_later_foreign_key() {
        let creates = vec![
            Change::CreateTable {
                table: table("a", &["b"]),
            },
            Change::CreateTable {
                table: table("b", &["a"]),
            },
            Change::CreateTable {
                table: table("c", &["a"]),
            },
        ];
        assert_eq!(
            names(&order_changes(creates)),
            [
                "create a",
                "create b",
                "create c",
                "add a_b_fkey",
                "add b_a_fkey"
            ]
        );
    }
}
