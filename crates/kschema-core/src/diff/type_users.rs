//! What names a type created again in an expression — a default
//! (`'pro'::plan_tier`), a check, an index, a trigger's `WHEN`, a view, a
//! policy, a function's `BEGIN ATOMIC` body or argument default — holds
//! the old type, as PostgreSQL recorded it (`pg_depend`, read into
//! `SchemaModel::dependencies`): the old type's drop would fail. Each is
//! taken along from that record: views, policies and functions by their
//! own diffs (`TypeUsers::needs`); here defaults and indexes (taken off
//! inside the type's change, before its old type goes; the files' put
//! back after), checks and triggers (dropped before it, made again from
//! the files after). Where nothing was recorded (a plan from a snapshot
//! an older kschema wrote) only what reads the converted columns goes
//! along.

use std::collections::BTreeSet;

use super::{Change, ColumnChange};
use crate::ident::Ident;
use crate::model::{Dependencies, Dependent, Needed, SchemaModel, TriggerFiring};

/// The types a plan creates again (with the types built on them that go
/// along), and what the live schema's objects need.
pub(super) struct TypeUsers<'a> {
    types: BTreeSet<Needed>,
    needs: Option<&'a Dependencies>,
}

impl<'a> TypeUsers<'a> {
    pub(super) fn of(live: &'a SchemaModel, changes: &[Change]) -> Self {
        TypeUsers {
            types: recreated_types(changes.iter()),
            needs: live.dependencies.as_deref(),
        }
    }

    /// Whether the live object needs one of the types created again.
    pub(super) fn needs(&self, dependent: &Dependent) -> bool {
        !self.types_needed_by(dependent).is_empty()
    }

    /// The types created again that the live object needs.
    pub(super) fn types_needed_by(&self, dependent: &Dependent) -> Vec<Ident> {
        let Some(needs) = self.needs else {
            return Vec::new();
        };
        needs
            .of(dependent)
            .filter(|needed| self.types.contains(needed))
            .filter_map(|needed| match needed {
                Needed::Relation(name) => Some(name.clone()),
                _ => None,
            })
            .collect()
    }
}

/// The types `changes` create again, and those created again inside them.
fn recreated_types<'c>(changes: impl Iterator<Item = &'c Change>) -> BTreeSet<Needed> {
    changes
        .flat_map(Change::with_along)
        .filter_map(Change::type_recreated)
        .map(|name| Needed::Relation(name.clone()))
        .collect()
}

/// The defaults, indexes, checks and triggers of the live schema that name
/// a type created again without reading one of its converted columns (or
/// reading one in a way the conversion does not take care of): a default
/// or an index is taken off inside each type recreation it names (`DROP
/// DEFAULT`, `DROP INDEX IF EXISTS`) and the files' made again after; a
/// check or trigger is dropped before the types change and made again
/// from the files after. One the files drop goes, and does not come back.
/// A generated column naming one is left: refused at plan time
/// (`plan::type_users`).
pub(super) fn take_type_users_along(
    live: &SchemaModel,
    desired: &SchemaModel,
    changes: &mut Vec<Change>,
) {
    let Some(needs) = live.dependencies.clone() else {
        return;
    };
    if !changes.iter().any(|c| c.type_recreated().is_some()) {
        return;
    }
    // Each recreation's types, by its place in `changes`.
    let roots: Vec<(usize, BTreeSet<Needed>)> = changes
        .iter()
        .enumerate()
        .filter(|(_, c)| c.type_recreated().is_some())
        .map(|(at, c)| (at, recreated_types(std::iter::once(c))))
        .collect();
    let naming = |dependent: &Dependent| -> Vec<usize> {
        let needed: Vec<&Needed> = needs.of(dependent).collect();
        roots
            .iter()
            .filter(|(_, types)| needed.iter().any(|n| types.contains(*n)))
            .map(|(at, _)| *at)
            .collect()
    };
    let converted: BTreeSet<(Ident, Ident)> = changes
        .iter()
        .flat_map(Change::with_along)
        .flat_map(Change::converted_columns)
        .map(|c| (c.table.clone(), c.column.clone()))
        .collect();
    let already = Already::of(changes);
    let mut defaults: Vec<(usize, Ident, Ident)> = Vec::new();
    let mut indexes: Vec<(usize, Ident)> = Vec::new();
    let mut more: Vec<Change> = Vec::new();
    for (name, table) in &live.tables {
        let wanted = desired.tables.get(name);
        // Its defaults, and a partition's own (its columns are its
        // parent's): a generated column is refused at plan time instead.
        let with_default = table
            .columns
            .iter()
            .filter(|c| c.generated.is_none() && c.default.is_some())
            .map(|c| &c.name)
            .chain(
                table
                    .partition_columns
                    .iter()
                    .filter(|c| c.default.is_some())
                    .map(|c| &c.name),
            );
        for column in with_default {
            let key = (name.clone(), column.clone());
            // A converted column's defaults (its partitions' too) are
            // taken off by its conversion.
            let parent = table.partition_of.as_ref().map(|of| &of.parent);
            if converted.contains(&key)
                || parent.is_some_and(|p| converted.contains(&(p.clone(), column.clone())))
            {
                continue;
            }
            let roots = naming(&Dependent::Column(key.0.clone(), key.1.clone()));
            if roots.is_empty() {
                continue;
            }
            defaults.extend(roots.iter().map(|&at| (at, name.clone(), column.clone())));
            // The files' default set again after (a partition's own by
            // `diff_partition_columns`, which sees it taken off).
            let files = wanted.and_then(|t| t.column(column));
            if let (Some(live), Some(files)) = (table.column(column), files) {
                if files.default.is_some() {
                    more.push(Change::AlterColumn {
                        table: name.clone(),
                        from: crate::model::Column {
                            default: None,
                            ..live.clone()
                        },
                        to: files.clone(),
                        kind: ColumnChange::Default,
                        using: None,
                    });
                }
            }
        }
        // A partition's checks are its parent's copies.
        if table.partition_of.is_none() {
            for constraint in &table.constraints {
                let key = (name.clone(), constraint.name.clone());
                if already.constraints.contains(&key)
                    || naming(&Dependent::Constraint(key.0.clone(), key.1.clone())).is_empty()
                {
                    continue;
                }
                more.push(Change::DropConstraint {
                    table: name.clone(),
                    constraint: constraint.clone(),
                });
                let files = wanted.and_then(|t| t.constraints.iter().find(|c| c.name == key.1));
                if let Some(files) = files {
                    more.push(Change::AddConstraint {
                        table: name.clone(),
                        constraint: files.clone(),
                    });
                }
            }
        }
        for trigger in &table.triggers {
            let key = (name.clone(), trigger.name.clone());
            if already.triggers.contains(&key)
                || naming(&Dependent::Trigger(key.0.clone(), key.1.clone())).is_empty()
            {
                continue;
            }
            more.push(Change::DropTrigger {
                table: name.clone(),
                trigger: trigger.clone(),
            });
            let files = wanted.and_then(|t| t.triggers.iter().find(|t| t.name == key.1));
            if let Some(files) = files {
                more.push(Change::CreateTrigger {
                    table: name.clone(),
                    trigger: files.clone(),
                });
                // Created enabled; the files' firing set after.
                if files.firing != TriggerFiring::Enabled {
                    more.push(Change::SetTriggerFiring {
                        table: name.clone(),
                        trigger: files.name.clone(),
                        firing: files.firing,
                    });
                }
            }
        }
    }
    for (name, index) in &live.indexes {
        // A partition's index goes with its parent's.
        let on_partition = live
            .tables
            .get(&index.table)
            .is_some_and(|t| t.partition_of.is_some());
        if on_partition || already.indexes.contains(name) {
            continue;
        }
        let roots = naming(&Dependent::Index(name.clone()));
        if roots.is_empty() {
            continue;
        }
        indexes.extend(roots.iter().map(|&at| (at, name.clone())));
        let rebuilt = changes
            .iter()
            .any(|c| matches!(c, Change::CreateIndex { index } if &index.name == name));
        if let (Some(files), false) = (desired.indexes.get(name), rebuilt) {
            more.push(Change::CreateIndex {
                index: files.clone(),
            });
        }
    }
    // The files' default replaces a change of it the diff made (set after
    // the types, it would come too late to take the old one off); a
    // trigger made again replaces the diff's change of it.
    let reset: BTreeSet<(Ident, Ident)> = defaults
        .iter()
        .map(|(_, table, column)| (table.clone(), column.clone()))
        .collect();
    let remade: BTreeSet<(Ident, Ident)> = more
        .iter()
        .filter_map(|change| match change {
            Change::DropTrigger { table, trigger } => Some((table.clone(), trigger.name.clone())),
            _ => None,
        })
        .collect();
    changes.retain(|change| match change {
        Change::AlterColumn {
            table,
            to,
            kind: ColumnChange::Default,
            ..
        } => !reset.contains(&(table.clone(), to.name.clone())),
        Change::ReplaceTrigger { table, to, .. } => {
            !remade.contains(&(table.clone(), to.name.clone()))
        }
        Change::SetTriggerFiring { table, trigger, .. } => {
            !remade.contains(&(table.clone(), trigger.clone()))
        }
        _ => true,
    });
    for (at, table, column) in defaults {
        if let Some((_, taken)) = changes[at].taken_off_mut() {
            taken.push((table, column));
        }
    }
    for (at, index) in indexes {
        if let Some((taken, _)) = changes[at].taken_off_mut() {
            if !taken.contains(&index) {
                taken.push(index);
            }
        }
    }
    changes.extend(more);
}

/// What the diff drops already, in its own place before the types
/// change: not taken off again. (An index it builds again online drops
/// its old form only after the new one is built: taken off here too.)
struct Already {
    constraints: BTreeSet<(Ident, Ident)>,
    triggers: BTreeSet<(Ident, Ident)>,
    indexes: BTreeSet<Ident>,
}

impl Already {
    fn of(changes: &[Change]) -> Self {
        let mut already = Already {
            constraints: BTreeSet::new(),
            triggers: BTreeSet::new(),
            indexes: BTreeSet::new(),
        };
        let built: BTreeSet<&Ident> = changes
            .iter()
            .filter_map(|change| match change {
                Change::CreateIndex { index } => Some(&index.name),
                _ => None,
            })
            .collect();
        for change in changes {
            match change {
                Change::DropConstraint { table, constraint } => {
                    already
                        .constraints
                        .insert((table.clone(), constraint.name.clone()));
                }
                Change::DropTrigger { table, trigger } => {
                    already
                        .triggers
                        .insert((table.clone(), trigger.name.clone()));
                }
                Change::DropIndex { index } if !built.contains(&index.name) => {
                    already.indexes.insert(index.name.clone());
                }
                _ => {}
            }
        }
        already
    }
}
