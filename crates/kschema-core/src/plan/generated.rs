//! A column whose type the plan changes while a live stored generated
//! column reads it: PostgreSQL refuses the type change ("cannot alter
//! type of a column used by a generated column"), so every such target
//! would fail at apply. Likewise a function dropped and created again
//! that a live generated column calls (its expression cannot be taken off
//! and put back, as a default's can). Said at plan time instead, with the
//! way out.

use std::collections::BTreeSet;

use super::Plan;
use crate::diagnostic::Problem;
use crate::diff::{mentions, Change, ColumnChange};
use crate::ident::Ident;
use crate::load::{DesiredState, ObjectKey};
use crate::model::{Column, SchemaName};

/// Refuses a plan that changes the type of a column a live generated
/// column reads — one the files keep, or one the plan drops (drops come
/// after type changes, so it still blocks).
pub fn check_generated_readers(plan: &Plan, desired: &DesiredState) -> Result<(), Problem> {
    for target in &plan.targets {
        let scope = desired.scope_of(&target.target);
        // A generated column the plan adds is added after the type change
        // (`plan::order`); one that exists live blocks it, even when the
        // plan drops it or gives it a new expression (both come later).
        // Likewise a live plain column the plan makes generated.
        let added: BTreeSet<(&Ident, &Ident)> = target
            .steps
            .iter()
            .filter_map(|step| match &step.change {
                Change::AddColumn { table, column } => Some((table, &column.name)),
                Change::AlterColumn {
                    table,
                    from,
                    kind: ColumnChange::Generated,
                    ..
                } if from.generated.is_none() => Some((table, &from.name)),
                _ => None,
            })
            .collect();
        for step in target.steps.iter() {
            let Change::AlterColumn {
                table,
                to: changed,
                kind: ColumnChange::Type,
                ..
            } = &step.change
            else {
                continue;
            };
            let reads = |column: &Column| {
                column.name != changed.name
                    && column
                        .generated
                        .as_ref()
                        .is_some_and(|expr| mentions(&expr.canonical, &changed.name))
            };
            // One the files keep (and that exists), or one the plan drops:
            // drops come after type changes, so it still blocks.
            let kept = scope.model.tables.get(table).and_then(|model| {
                model
                    .columns
                    .iter()
                    .find(|c| reads(c) && !added.contains(&(table, &c.name)))
            });
            let dropped = || {
                target.steps.iter().find_map(|step| match &step.change {
                    Change::DropColumn { table: t, column } if t == table && reads(column) => {
                        Some(column)
                    }
                    _ => None,
                })
            };
            let reader = kept.or_else(dropped);
            if let Some(reader) = reader {
                let mut problem = Problem::new(
                    "kschema::plan::generated_reader",
                    format!(
                        "the plan changes the type of {table}.{} in {}, but the generated column {table}.{} reads it: PostgreSQL refuses the change",
                        changed.name, target.target, reader.name
                    ),
                )
                .with_help(format!(
                    "in two applies: first without {} in the files and with {}'s type unchanged, then the new type (and {} declared again, computed anew)",
                    reader.name, changed.name, reader.name
                ));
                let key = ObjectKey::Column(table.clone(), changed.name.clone());
                if let Some(origin) = scope.origins.get(&key) {
                    problem = problem.at(&origin.file, origin.span, "its type changes here");
                }
                return Err(problem);
            }
        }
    }
    Ok(())
}

/// Refuses a plan that drops and creates again a function a live
/// generated column calls (its own schema's, or another schema's calling a
/// shared function): PostgreSQL refuses the drop.
pub fn check_generated_callers(
    plan: &Plan,
    live: &crate::catalog::LiveState,
    desired: &DesiredState,
) -> Result<(), Problem> {
    for target in &plan.targets {
        for step in target.steps.iter() {
            let Some(function) = step.change.function_recreated() else {
                continue;
            };
            // Its own schema's generated columns, and (a shared
            // function) other schemas' calling it.
            let calls = |caller_schema: &SchemaName, c: &crate::model::FunctionCaller| {
                c.function == function.name
                    && c.kind == crate::model::CallerKind::Generated
                    && match &c.schema {
                        None => caller_schema == &target.target.schema,
                        Some(called) => called == &target.target.schema,
                    }
            };
            let caller = live
                .schemas
                .iter()
                .filter(|(name, _)| *name == &target.target.schema || target.target.is_shared())
                .find_map(|(caller_schema, found)| {
                    found.model.tables.iter().find_map(|(table, t)| {
                        t.function_callers
                            .iter()
                            .find(|c| calls(caller_schema, c))
                            .map(|c| match caller_schema == &target.target.schema {
                                true => format!("{table}.{}", c.name),
                                false => format!("{caller_schema}.{table}.{}", c.name),
                            })
                    })
                });
            let Some(column) = caller else {
                continue;
            };
            let mut problem = Problem::new(
                "kschema::plan::generated_caller",
                format!(
                    "the plan drops and creates again {} {} in {}, but the generated column {column} calls it: PostgreSQL refuses the drop",
                    function.kind(),
                    function.name,
                    target.target
                ),
            )
            .with_help(format!(
                "in two applies: first without {column} in the files (or computed without {}), then the function's new form",
                function.name
            ));
            let scope = desired.scope_of(&target.target);
            let key = ObjectKey::Function(function.name.clone(), function.inputs);
            if let Some(origin) = scope.origins.get(&key) {
                problem = problem.at(&origin.file, origin.span, "created again");
            }
            return Err(problem);
        }
    }
    Ok(())
}
