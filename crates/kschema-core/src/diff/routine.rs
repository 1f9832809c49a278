//! Functions, procedures and triggers: matched by identity (a function by
//! name and argument types, a trigger by table and name) and compared by
//! what PostgreSQL stores for them.

use std::collections::BTreeSet;

use super::Change;
use crate::ident::Ident;
use crate::model::{Function, SchemaModel, TriggerFiring};

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
/// again (an enum whose labels go) is dropped before the type is and
/// created after it: the old type cannot be dropped while the function
/// holds it. The views and policies that call it go with it, as for any
/// function created again (`recreated_functions`).
pub(super) fn recreate_for_recreated_types(
    live: &SchemaModel,
    desired: &SchemaModel,
    changes: &mut Vec<Change>,
) {
    let recreated: BTreeSet<&Ident> = changes
        .iter()
        .filter_map(|change| match change {
            Change::RecreateEnum { to, .. } => Some(&to.name),
            _ => None,
        })
        .collect();
    if recreated.is_empty() {
        return;
    }
    let mut found = Vec::new();
    for function in &desired.functions {
        let Some(current) = live.function(&function.name, &function.arguments) else {
            continue;
        };
        let types: Vec<Ident> = current
            .types
            .iter()
            .filter(|t| recreated.contains(t))
            .cloned()
            .collect();
        if types.is_empty() {
            continue;
        }
        found.push(Change::DropFunction {
            function: current.clone(),
            before_types: types,
        });
        found.push(Change::CreateFunction {
            function: function.clone(),
        });
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

/// Whether `CREATE OR REPLACE` can turn `from` into `to`: same kind, same
/// result type, same argument names and defaults.
fn replaceable(from: &Function, to: &Function) -> bool {
    from.procedure == to.procedure && from.interface == to.interface
}
