//! The order changes run in. Each change belongs to a phase (the rule and
//! its reason sit next to each phase below); inside a phase, tables are
//! created in foreign-key order and dropped in reverse foreign-key order,
//! both by topological sort. A foreign-key cycle between new tables is
//! broken by creating the tables first and adding the cycle's keys after.
//! Then what a change needs goes before it whatever its kind, where the
//! phases would not put it there (`depends`, from what PostgreSQL
//! recorded: a function returning a table's rows after the table, a domain
//! after the function its check calls); a cycle keeps the phase order and
//! is reported.
//!
//! Over ~600 lines: each phase carries its rule and reason beside it, and
//! the two topological sorts (tables by foreign key, views by what they
//! read) with their cycle handling; read top to bottom, it is the run order.

use std::collections::{BTreeMap, BTreeSet};

use super::depends::{in_dependency_order, Catalogs, Cycle};
use crate::diff::{Change, ColumnChange};
use crate::ident::Ident;
use crate::model::{in_reading_order, ConstraintKind, SchemaRef};

/// The phases, in run order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    /// Everything else lives in the schema.
    CreateSchema,
    /// Extensions before anything that uses their types and functions.
    Extensions,
    /// Other schemas' views reading what a shared schema changes go before
    /// its own views (which they may read); what of theirs calls a shared
    /// function created again, before those views (a policy may read one).
    DropForeignViews,
    /// A view goes before the tables, columns and views it reads change
    /// (readers first), and comes back after them.
    DropViews,
    /// A trigger or policy goes before the table, column or function it
    /// uses changes.
    DropTriggers,
    /// Foreign keys go first: they depend on the keys, columns and tables
    /// that later phases change or drop.
    DropForeignKeys,
    /// Other constraints and indexes go before the columns they cover are
    /// changed or dropped (and before a same-named replacement is added).
    DropConstraintsAndIndexes,
    /// A function whose argument or result type is created again goes
    /// before it (after what calls the function), and comes back in
    /// `Functions`.
    DropFunctionsBeforeTypes,
    Renames,
    /// A table partitioned anew goes before it is created again (under its
    /// new name, when renamed too).
    DropRepartitioned,
    /// Sequences before the tables whose defaults call them.
    Sequences,
    /// Types before the functions and tables that use them; a type created
    /// again converts its columns here, before other column changes.
    Types,
    /// Functions before the tables whose defaults and checks call them
    /// (bodies are checked once everything exists; see `plan::routine`).
    Functions,
    CreateTables,
    /// A default goes before a type change (the old default may not cast),
    /// and comes back after it.
    DropDefaults,
    AddColumns,
    AlterColumns,
    /// A new generated column reads the others as they will be (a type
    /// change under it would be refused).
    AddGeneratedColumns,
    /// A table is attached as a partition once its parent exists and its
    /// columns match the parent's (detached in the same place).
    Partitions,
    /// A `BEGIN ATOMIC` body is resolved when created, whatever the
    /// settings: after the tables and columns it reads.
    AtomicFunctions,
    SetDefaults,
    /// Primary keys, unique and check constraints before foreign keys, which
    /// may reference a new unique key.
    AddConstraints,
    AddForeignKeys,
    Validate,
    /// Views once what they read exists (the views they read first).
    Views,
    /// Other schemas' views once the shared schema's are back; then what of
    /// theirs calls a shared function created again.
    ForeignViews,
    /// Indexes after the columns they cover exist (a materialized view's
    /// after the view).
    CreateIndexes,
    /// Triggers once their table, its columns and their function exist.
    Triggers,
    /// Policies likewise, then row security turned on (or off) with the
    /// policies already in place.
    Policies,
    /// Privileges once every object exists (revokes first, in diff order).
    Privileges,
    /// Comments once what they describe exists.
    Comments,
    /// Seed rows once the tables and columns are in place; deletes first
    /// (children before parents), then inserts and updates (parents first).
    SeedRows,
    /// Nullability last among column changes: SET NOT NULL needs the
    /// default and type in place.
    Nullability,
    /// What a partition's columns set themselves, once its parent's
    /// column changes (which PostgreSQL passes down to it) are done.
    PartitionColumns,
    /// `REPLICA IDENTITY USING INDEX` once the index exists and its
    /// columns are NOT NULL.
    ReplicaIdentityIndex,
    DropColumns,
    DropTables,
    /// A function outlives the triggers, columns and tables that used it.
    DropFunctions,
    /// A type outlives the functions, columns and tables that used it.
    DropTypes,
    /// A sequence outlives the columns and tables that used it.
    DropSequences,
    /// An extension outlives everything that used it.
    DropExtensions,
}

fn phase(change: &Change) -> Phase {
    match change {
        Change::CreateSchema => Phase::CreateSchema,
        Change::DropForeignViews { .. } => Phase::DropForeignViews,
        Change::CreateForeignViews { .. } => Phase::ForeignViews,
        Change::DropForeignCallers { .. } => Phase::DropForeignViews,
        Change::CreateForeignCallers { .. } => Phase::ForeignViews,
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
        Change::DropTableToRepartition { .. } => Phase::DropRepartitioned,
        Change::SetPartitionOf { .. } => Phase::Partitions,
        Change::SetPartitionColumns { .. } => Phase::PartitionColumns,
        Change::SetReplicaIdentity {
            identity: Some(crate::model::ReplicaIdentity::UsingIndex(_)),
            ..
        } => Phase::ReplicaIdentityIndex,
        Change::SetPersistence { .. }
        | Change::SetStorageParameters { .. }
        | Change::SetTablespace { .. }
        | Change::SetReplicaIdentity { .. } => Phase::AlterColumns,
        Change::SetComment { .. } | Change::CommentOn { .. } => Phase::Comments,
        Change::AddColumn { column, .. } if column.generated.is_some() => {
            Phase::AddGeneratedColumns
        }
        Change::AddColumn { .. } => Phase::AddColumns,
        Change::AlterColumn { kind, to, .. } => match kind {
            ColumnChange::Type
            | ColumnChange::Identity
            | ColumnChange::IdentityOptions
            | ColumnChange::Generated => Phase::AlterColumns,
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
        Change::CreateFunction { function: to }
        | Change::ReplaceFunction { to, .. }
        | Change::RecreateFunction { to, .. } => match to.atomic_body {
            true => Phase::AtomicFunctions,
            false => Phase::Functions,
        },
        Change::DropFunction { before_types, .. } if !before_types.is_empty() => {
            Phase::DropFunctionsBeforeTypes
        }
        Change::DropFunction { .. } => Phase::DropFunctions,
        Change::CreateEnum { .. }
        | Change::AddEnumValues { .. }
        | Change::RecreateEnum { .. }
        | Change::CreateDomain { .. }
        | Change::CreateComposite { .. }
        | Change::AlterComposite { .. }
        | Change::RecreateComposite { .. }
        | Change::AlterDomain { .. }
        | Change::RecreateDomain { .. } => Phase::Types,
        Change::DropEnum { .. } | Change::DropDomain { .. } | Change::DropComposite { .. } => {
            Phase::DropTypes
        }
        Change::CreateExtension { .. } | Change::AlterExtension { .. } => Phase::Extensions,
        Change::DropExtension { .. } => Phase::DropExtensions,
        Change::CreateView { .. } | Change::ReplaceView { .. } => Phase::Views,
        Change::DropPolicy { .. } => Phase::DropTriggers,
        Change::CreatePolicy { .. } | Change::SetRowSecurity { .. } => Phase::Policies,
        Change::Grant { .. } | Change::Revoke { .. } => Phase::Privileges,
        Change::DropView { .. } => Phase::DropViews,
        Change::DropTrigger { .. } | Change::DropEventTrigger { .. } => Phase::DropTriggers,
        Change::CreateEventTrigger { .. } | Change::SetEventTriggerFiring { .. } => Phase::Triggers,
        Change::CreateTrigger { .. }
        | Change::ReplaceTrigger { .. }
        | Change::SetTriggerFiring { .. } => Phase::Triggers,
    }
}

/// Orders changes for running: by phase, then each after what it needs
/// across kinds (`depends`); what depends on itself through others is
/// returned too. Deterministic: ties keep the diff's order, which follows
/// name order.
pub fn order_changes(changes: Vec<Change>, catalogs: Catalogs<'_>) -> (Vec<Change>, Vec<Cycle>) {
    in_dependency_order(in_phase_order(changes), catalogs)
}

fn in_phase_order(changes: Vec<Change>) -> Vec<Change> {
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
            Phase::Views => ordered.extend(views_in_order(group, false)),
            Phase::DropViews => ordered.extend(views_in_order(group, true)),
            _ => ordered.extend(group),
        }
    }
    ordered
}

/// Views after the views they read (for drops, the reverse: readers
/// first); a cycle — which PostgreSQL cannot hold — keeps name order.
fn views_in_order(group: Vec<Change>, reverse: bool) -> Vec<Change> {
    let mut ordered = in_reading_order(group, |change| match change {
        Change::CreateView { view } | Change::DropView { view } => Some(view),
        Change::ReplaceView { to, .. } => Some(to),
        _ => None,
    });
    if reverse {
        ordered.reverse();
    }
    ordered
}

/// Tables in the group that `table` references or is a partition of
/// (same schema, not itself).
fn references_within(change: &Change, names: &BTreeSet<Ident>) -> BTreeSet<Ident> {
    let (Change::CreateTable { table } | Change::DropTable { table }) = change else {
        return BTreeSet::new();
    };
    table
        .foreign_keys()
        .filter(|(_, fk)| fk.references.schema == SchemaRef::Own)
        .map(|(_, fk)| fk.references.table.clone())
        .chain(table.partition_of.iter().map(|of| of.parent.clone()))
        .filter(|t| t != &table.name && names.contains(t))
        .collect()
}

/// Kahn's algorithm; referenced tables first (or last, for drops). Ties go
/// by name, so the result never depends on hash order. O(n log n) in the
/// tables and their keys: a schema of thousands of tables in one
/// foreign-key chain plans as fast as thousands of unrelated ones.
fn topological(group: Vec<Change>, reverse: bool) -> Vec<Change> {
    let names: BTreeSet<Ident> = group.iter().filter_map(|c| c.table().cloned()).collect();
    // For each table, the tables that must come before it.
    let mut before: BTreeMap<Ident, BTreeSet<Ident>> =
        names.iter().map(|n| (n.clone(), BTreeSet::new())).collect();
    for change in &group {
        let Some(name) = change.table() else { continue };
        for referenced in references_within(change, &names) {
            if reverse {
                // Dropping: a table goes after the tables that reference it.
                before.entry(referenced).or_default().insert(name.clone());
            } else {
                before.entry(name.clone()).or_default().insert(referenced);
            }
        }
    }
    let mut unmet: BTreeMap<Ident, usize> = BTreeMap::new();
    let mut unblocks: BTreeMap<Ident, Vec<Ident>> = BTreeMap::new();
    for (name, deps) in &before {
        unmet.insert(name.clone(), deps.len());
        for dep in deps {
            unblocks.entry(dep.clone()).or_default().push(name.clone());
        }
    }
    let mut ready: BTreeSet<Ident> = unmet
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(name, _)| name.clone())
        .collect();
    let mut remaining = names;
    let mut by_name: BTreeMap<Ident, Change> = group
        .into_iter()
        .filter_map(|c| c.table().cloned().map(|n| (n, c)))
        .collect();
    let mut ordered = Vec::new();
    loop {
        let next = match ready.pop_first() {
            Some(name) => name,
            // A cycle among drops: PostgreSQL drops the keys with the
            // tables, so any order works; take the first by name.
            None => match remaining.first() {
                Some(name) => name.clone(),
                None => break,
            },
        };
        if !remaining.remove(&next) {
            continue;
        }
        for waiting in unblocks.get(&next).into_iter().flatten() {
            if !remaining.contains(waiting) {
                continue;
            }
            if let Some(count) = unmet.get_mut(waiting) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    ready.insert(waiting.clone());
                }
            }
        }
        if let Some(change) = by_name.remove(&next) {
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

/// The tables that lie on a reference cycle: the members of strongly
/// connected components with more than one table (Tarjan's algorithm,
/// iterative, so a chain of thousands of tables neither recurses that deep
/// nor takes quadratic time). Keys between two such tables are deferred;
/// what remains is acyclic.
fn tables_on_cycles(graph: &BTreeMap<Ident, BTreeSet<Ident>>) -> BTreeSet<Ident> {
    let nodes: Vec<&Ident> = graph.keys().collect();
    let index_of: BTreeMap<&Ident, usize> =
        nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let edges: Vec<Vec<usize>> = nodes
        .iter()
        .map(|n| {
            graph[*n]
                .iter()
                .filter_map(|d| index_of.get(d).copied())
                .collect()
        })
        .collect();
    let count = nodes.len();
    let mut index = vec![usize::MAX; count];
    let mut low = vec![0; count];
    let mut on_stack = vec![false; count];
    let mut stack = Vec::new();
    let mut next_index = 0;
    let mut cyclic = BTreeSet::new();
    for root in 0..count {
        if index[root] != usize::MAX {
            continue;
        }
        // (node, position in its edge list)
        let mut work = vec![(root, 0usize)];
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (node, ref mut edge)) = work.last_mut() {
            if let Some(&next) = edges[node].get(*edge) {
                *edge += 1;
                if index[next] == usize::MAX {
                    index[next] = next_index;
                    low[next] = next_index;
                    next_index += 1;
                    stack.push(next);
                    on_stack[next] = true;
                    work.push((next, 0));
                } else if on_stack[next] {
                    low[node] = low[node].min(index[next]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if low[node] == index[node] {
                let mut component = Vec::new();
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    component.push(member);
                    if member == node {
                        break;
                    }
                }
                if component.len() > 1 {
                    cyclic.extend(component.into_iter().map(|m| nodes[m].clone()));
                }
            }
        }
    }
    cyclic
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
                    options: Vec::new(),
                })
                .collect(),
            comment: None,
            unlogged: false,
            replica_identity: None,
            options: Vec::new(),
            triggers: Vec::new(),
            row_security: Default::default(),
            policies: Vec::new(),
            partition_key: None,
            partition_of: None,
            partition_columns: Vec::new(),
            tablespace: None,
            function_callers: Vec::new(),
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
            names(&order_changes(creates, Catalogs::default()).0),
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
            names(&order_changes(drops, Catalogs::default()).0),
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
            names(&order_changes(creates, Catalogs::default()).0),
            [
                "create a",
                "create b",
                "create c",
                "add a_b_fkey",
                "add b_a_fkey"
            ]
        );
    }

    #[test]
    fn a_long_chain_is_created_parents_first_and_dropped_children_first() {
        let name = |i: usize| format!("t{i:05}");
        // Listed children first, the worst case for a naive order.
        let chain: Vec<Table> = (0..5000)
            .rev()
            .map(|i| {
                let parent = (i > 0).then(|| name(i - 1));
                table(
                    &name(i),
                    &parent.iter().map(String::as_str).collect::<Vec<_>>(),
                )
            })
            .collect();
        let creates: Vec<Change> = chain
            .iter()
            .cloned()
            .map(|table| Change::CreateTable { table })
            .collect();
        let created = names(&order_changes(creates, Catalogs::default()).0);
        let expected: Vec<String> = (0..5000).map(|i| format!("create {}", name(i))).collect();
        assert_eq!(created, expected);
        let drops: Vec<Change> = chain
            .into_iter()
            .map(|table| Change::DropTable { table })
            .collect();
        let dropped = names(&order_changes(drops, Catalogs::default()).0);
        let expected: Vec<String> = (0..5000)
            .rev()
            .map(|i| format!("drop {}", name(i)))
            .collect();
        assert_eq!(dropped, expected);
    }

    #[test]
    fn only_keys_inside_a_cycle_are_deferred() {
        // a <-> b, and x between b and c <-> d: x's keys stay inline.
        let creates = vec![
            Change::CreateTable {
                table: table("a", &["b"]),
            },
            Change::CreateTable {
                table: table("b", &["a", "x"]),
            },
            Change::CreateTable {
                table: table("c", &["d"]),
            },
            Change::CreateTable {
                table: table("d", &["c"]),
            },
            Change::CreateTable {
                table: table("x", &["c"]),
            },
        ];
        assert_eq!(
            names(&order_changes(creates, Catalogs::default()).0),
            [
                "create a",
                "create c",
                "create d",
                "create x",
                "create b",
                "add a_b_fkey",
                "add b_a_fkey",
                "add c_d_fkey",
                "add d_c_fkey"
            ]
        );
    }

    #[test]
    fn partitions_are_created_after_their_parent_and_dropped_before_it() {
        let partition = |name: &str, parent: &str| Table {
            partition_of: Some(crate::model::PartitionOf {
                parent: Ident::new(parent),
                bound: crate::model::SqlExpr::stored("DEFAULT".into()),
            }),
            ..table(name, &[])
        };
        let (created, _) = order_changes(
            vec![
                Change::CreateTable {
                    table: partition("a_child", "z_parent"),
                },
                Change::CreateTable {
                    table: table("z_parent", &[]),
                },
            ],
            Catalogs::default(),
        );
        assert_eq!(names(&created), ["create z_parent", "create a_child"]);
        let (dropped, _) = order_changes(
            vec![
                Change::DropTable {
                    table: table("a_parent", &[]),
                },
                Change::DropTable {
                    table: partition("z_child", "a_parent"),
                },
            ],
            Catalogs::default(),
        );
        assert_eq!(names(&dropped), ["drop z_child", "drop a_parent"]);
    }
}
