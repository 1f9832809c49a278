//! Functions, procedures and triggers: matched by identity (a function by
//! name and argument types, a trigger by table and name) and compared by
//! what PostgreSQL stores for them.

use std::collections::BTreeSet;

use super::{CallerAround, Change};
use crate::ident::Ident;
use crate::model::{CallerKind, Dependent, Function, FunctionCaller, SchemaModel, TriggerFiring};

pub(super) fn diff_routines(live: &SchemaModel, desired: &SchemaModel, changes: &mut Vec<Change>) {
    // Functions whose drop and create takes their triggers with them.
    let mut recreated: BTreeSet<&Ident> = BTreeSet::new();
    for function in &desired.functions {
        match live.function(&function.name, &function.arguments) {
            None => changes.push(Change::CreateFunction {
                function: function.clone(),
            }),
            Some(current) if current.same_definition(function) => {}
            Some(current) if replaceable(current, function) => {
                changes.push(Change::ReplaceFunction {
                    from: current.clone(),
                    to: function.clone(),
                })
            }
            Some(current) => {
                recreated.insert(&function.name);
                changes.push(Change::RecreateFunction {
                    from: current.clone(),
                    to: function.clone(),
                    callers: Vec::new(),
                })
            }
        }
    }
    for function in &live.functions {
        if desired
            .function(&function.name, &function.arguments)
            .is_none()
        {
            changes.push(Change::DropFunction {
                function: function.clone(),
                before_types: Vec::new(),
                dropped: true,
            });
        }
    }

    for (name, table) in &desired.tables {
        // A new table's triggers are created with it; a dropped table's go
        // with it.
        let live_triggers = live.tables.get(name).map_or(&[][..], |t| &t.triggers[..]);
        for trigger in &table.triggers {
            let current = live_triggers.iter().find(|t| t.name == trigger.name);
            let calls_recreated = trigger
                .own_function
                .as_ref()
                .is_some_and(|f| recreated.contains(f));
            match current {
                None => changes.push(Change::CreateTrigger {
                    table: name.clone(),
                    trigger: trigger.clone(),
                }),
                // Dropped before its function is, created after.
                Some(current) if calls_recreated => {
                    changes.push(Change::DropTrigger {
                        table: name.clone(),
                        trigger: current.clone(),
                    });
                    changes.push(Change::CreateTrigger {
                        table: name.clone(),
                        trigger: trigger.clone(),
                    });
                }
                Some(current) if !current.same_definition(trigger) => {
                    changes.push(Change::ReplaceTrigger {
                        table: name.clone(),
                        from: current.clone(),
                        to: trigger.clone(),
                    })
                }
                Some(_) => {}
            }
            // Creating or replacing a trigger enables it.
            let firing = match current {
                Some(current) if current.same_definition(trigger) && !calls_recreated => {
                    current.firing
                }
                _ => TriggerFiring::Enabled,
            };
            if firing != trigger.firing {
                changes.push(Change::SetTriggerFiring {
                    table: name.clone(),
                    trigger: trigger.name.clone(),
                    firing: trigger.firing,
                });
            }
        }
        for trigger in live_triggers {
            if !table.triggers.iter().any(|t| t.name == trigger.name) {
                changes.push(Change::DropTrigger {
                    table: name.clone(),
                    trigger: trigger.clone(),
                });
            }
        }
    }
}

/// A function whose arguments or result are of a type this plan creates
/// again — an enum whose labels go, a domain or composite type created
/// again, a table partitioned anew or a view dropped and created again
/// (`RETURNS SETOF orders`: a table's and a view's rows are types too) —
/// is dropped before the type is and created after it: the old type
/// cannot be dropped while the function holds it. The views and policies
/// that call it go with it, as for any function created again
/// (`recreated_functions`).
pub(super) fn recreate_for_recreated_types(
    live: &SchemaModel,
    desired: &SchemaModel,
    changes: &mut Vec<Change>,
) {
    let views = views_created_again(live, desired, changes);
    let recreated: BTreeSet<&Ident> = changes
        .iter()
        .flat_map(Change::with_along)
        .filter_map(|change| match change {
            Change::DropTableToRepartition { table } => Some(&table.name),
            other => other.type_recreated(),
        })
        .chain(&views)
        .collect();
    if recreated.is_empty() {
        return;
    }
    // A `BEGIN ATOMIC` body or an argument's default naming one holds it
    // too, as PostgreSQL recorded (by name: every overload goes).
    let type_users = super::type_users::TypeUsers::of(live, changes);
    let types_of = |function: &Function| -> Vec<Ident> {
        let mut types: Vec<Ident> = function
            .types
            .iter()
            .filter(|t| recreated.contains(t))
            .cloned()
            .collect();
        for named in type_users.types_needed_by(&Dependent::Function(function.name.clone())) {
            if !types.contains(&named) {
                types.push(named);
            }
        }
        types
    };
    let mut found = Vec::new();
    for function in &desired.functions {
        let Some(current) = live.function(&function.name, &function.arguments) else {
            continue;
        };
        let types = types_of(current);
        if types.is_empty() {
            continue;
        }
        found.push(Change::DropFunction {
            function: current.clone(),
            before_types: types,
            dropped: false,
        });
        found.push(Change::CreateFunction {
            function: function.clone(),
        });
    }
    // A function the files drop goes before its types too.
    let dropped_before: Vec<Vec<Ident>> = changes
        .iter()
        .map(|change| match change {
            Change::DropFunction {
                function,
                dropped: true,
                ..
            } => types_of(function),
            _ => Vec::new(),
        })
        .collect();
    for (change, types) in changes.iter_mut().zip(dropped_before) {
        if let Change::DropFunction {
            before_types,
            dropped: true,
            ..
        } = change
        {
            before_types.extend(types);
        }
    }
    let taken: BTreeSet<(&Ident, &str)> = found
        .iter()
        .filter_map(|change| match change {
            Change::CreateFunction { function } => {
                Some((&function.name, function.arguments.as_str()))
            }
            _ => None,
        })
        .collect();
    changes.retain(|change| match change {
        Change::ReplaceFunction { to, .. } | Change::RecreateFunction { to, .. } => {
            !taken.contains(&(&to.name, to.arguments.as_str()))
        }
        _ => true,
    });
    changes.extend(found);
}

/// The views the plan drops and creates again, as the views' diff will
/// find them (run here on a copy: which functions go with them decides
/// which views calling those go too, so the real diff runs after).
fn views_created_again(
    live: &SchemaModel,
    desired: &SchemaModel,
    changes: &[Change],
) -> BTreeSet<Ident> {
    if live.views.is_empty() || !live.functions.iter().any(|f| !f.types.is_empty()) {
        return BTreeSet::new();
    }
    let mut trial = changes.to_vec();
    super::view::diff_views(live, desired, &mut trial);
    let dropped: BTreeSet<&Ident> = trial
        .iter()
        .filter_map(|change| match change {
            Change::DropView { view } => Some(&view.name),
            _ => None,
        })
        .collect();
    trial
        .iter()
        .filter_map(|change| match change {
            Change::CreateView { view } if dropped.contains(&view.name) => Some(view.name.clone()),
            _ => None,
        })
        .collect()
}

/// The defaults, constraints and indexes of the schema's tables that call
/// a function dropped and created again go on its change: taken off before
/// the drop, put back after (`CallerAround`). One the plan drops or
/// changes itself is only taken off. (A generated column calling it is
/// refused at plan time: `plan::generated`.) A partition's own defaults
/// are put back after its parent's.
pub(super) fn take_callers_along(live: &SchemaModel, changes: &mut [Change]) {
    let mut changed_defaults: BTreeSet<(Ident, Ident)> = BTreeSet::new();
    let mut changed_constraints: BTreeSet<(Ident, Ident)> = BTreeSet::new();
    let mut changed_indexes: BTreeSet<Ident> = BTreeSet::new();
    let mut dropped_tables: BTreeSet<Ident> = BTreeSet::new();
    for change in changes.iter() {
        match change {
            Change::AlterColumn {
                table,
                to,
                kind: super::ColumnChange::Default,
                ..
            } => {
                changed_defaults.insert((table.clone(), to.name.clone()));
            }
            Change::DropColumn { table, column } => {
                changed_defaults.insert((table.clone(), column.name.clone()));
            }
            Change::DropConstraint { table, constraint } => {
                changed_constraints.insert((table.clone(), constraint.name.clone()));
            }
            Change::DropIndex { index } => {
                changed_indexes.insert(index.name.clone());
            }
            Change::DropTable { table } | Change::DropTableToRepartition { table } => {
                dropped_tables.insert(table.name.clone());
            }
            _ => {}
        }
    }
    for change in changes.iter_mut() {
        let Change::RecreateFunction { from, callers, .. } = change else {
            continue;
        };
        // A partition's defaults, constraints and indexes are its
        // parent's copies: taken off and put back with the parent's.
        for (name, table) in live.tables.iter().filter(|(_, t)| t.partition_of.is_none()) {
            let kept = !dropped_tables.contains(name);
            for caller in table
                .function_callers
                .iter()
                .filter(|c| c.function == from.name && c.schema.is_none())
            {
                let key = (name.clone(), caller.name.clone());
                match caller.kind {
                    CallerKind::Default => callers.push(CallerAround::Default {
                        table: name.clone(),
                        column: caller.name.clone(),
                        put_back: table
                            .column(&caller.name)
                            .and_then(|c| c.default.clone())
                            .filter(|_| kept && !changed_defaults.contains(&key)),
                    }),
                    CallerKind::Constraint => {
                        if let Some(constraint) =
                            table.constraints.iter().find(|c| c.name == caller.name)
                        {
                            callers.push(CallerAround::Constraint {
                                table: name.clone(),
                                constraint: constraint.clone(),
                                put_back: kept && !changed_constraints.contains(&key),
                            });
                        }
                    }
                    CallerKind::Index => {
                        if let Some(index) = live.indexes.get(&caller.name) {
                            callers.push(CallerAround::Index {
                                index: index.clone(),
                                put_back: kept && !changed_indexes.contains(&caller.name),
                            });
                        }
                    }
                    CallerKind::Generated => {}
                }
            }
        }
        let calls =
            |caller: &FunctionCaller| caller.function == from.name && caller.schema.is_none();
        callers.extend(
            partition_defaults_along(live, calls)
                .into_iter()
                .filter(|caller| !matches!(caller, CallerAround::Default { table, .. } if dropped_tables.contains(table))),
        );
    }
}

/// The partitions' own defaults that go with a function's callers: each
/// one whose default `calls` the function itself, or whose parent's (or
/// an ancestor's) does — `ALTER TABLE parent … DROP / SET DEFAULT` reaches
/// every partition. Put back after the parents' (callers are put back in
/// order).
pub(crate) fn partition_defaults_along(
    model: &SchemaModel,
    calls: impl Fn(&FunctionCaller) -> bool,
) -> Vec<CallerAround> {
    let default_calls = |table: &Ident, column: &Ident| {
        model.tables.get(table).is_some_and(|t| {
            t.function_callers
                .iter()
                .any(|c| c.kind == CallerKind::Default && &c.name == column && calls(c))
        })
    };
    let mut along = Vec::new();
    for (name, table) in model
        .tables
        .iter()
        .filter(|(_, t)| t.partition_of.is_some())
    {
        for own in &table.partition_columns {
            let Some(default) = &own.default else {
                continue;
            };
            let mut ancestor = table.partition_of.as_ref().map(|p| &p.parent);
            let mut reached = default_calls(name, &own.name);
            while let (false, Some(parent)) = (reached, ancestor) {
                reached = default_calls(parent, &own.name);
                ancestor = model
                    .tables
                    .get(parent)
                    .and_then(|t| t.partition_of.as_ref())
                    .map(|p| &p.parent);
            }
            if reached {
                along.push(CallerAround::Default {
                    table: name.clone(),
                    column: own.name.clone(),
                    put_back: Some(default.clone()),
                });
            }
        }
    }
    along
}

/// Whether `CREATE OR REPLACE` can turn `from` into `to`: same kind, same
/// result type, same argument names and defaults.
fn replaceable(from: &Function, to: &Function) -> bool {
    from.same_kind(to) && from.interface == to.interface
}
