//! A shared schema's change to a column (its type, or dropping it), or a
//! table or view of it created again, that another schema's live view
//! reads: PostgreSQL refuses it ("cannot alter type of a column used by a
//! view or rule", "other objects depend on it") in the shared schema's
//! transaction, which runs first.
//!
//! A column's type change, and a table or view created again, take those
//! views along: dropped before the change and created again after it, as
//! they are live, in the shared schema's transaction (`foreign_readers`).
//! What cannot be taken along — a materialized view among the readers (its
//! rows and indexes) — is said at plan time instead, at the declaration,
//! with the way out (`check_shared_readers`). A drop that waits for the
//! tenants (`defer_shared_drops`) is not refused: the tenants drop their
//! views first.

use std::collections::{BTreeMap, BTreeSet};

use super::Plan;
use crate::catalog::LiveState;
use crate::diagnostic::Problem;
use crate::diff::{Change, ColumnChange, ForeignView};
use crate::ident::Ident;
use crate::load::{DesiredState, ObjectKey};
use crate::model::{in_reading_order, Commented, GrantObject, SchemaName, View};

/// How many readers a message names before "and N more".
const NAMED: usize = 5;

pub fn check_shared_readers(
    plan: &Plan,
    live: &LiveState,
    desired: &DesiredState,
) -> Result<(), Problem> {
    for shared in plan.targets.iter().filter(|t| t.target.is_shared()) {
        let schema = &shared.target.schema;
        // (table, column or None for the whole table) → what the change is.
        let mut disturbed: BTreeMap<(&Ident, Option<&Ident>), &str> = BTreeMap::new();
        for step in shared.steps.iter().filter(|s| !s.after_tenants) {
            match &step.change {
                Change::AlterColumn {
                    table,
                    from,
                    kind: ColumnChange::Type,
                    ..
                } => {
                    disturbed.insert((table, Some(&from.name)), "changes the type of");
                }
                Change::DropColumn { table, column } => {
                    disturbed.insert((table, Some(&column.name)), "drops");
                }
                Change::DropTable { table } | Change::DropTableToRepartition { table } => {
                    disturbed.insert((&table.name, None), "drops");
                }
                // A view created again in the shared schema's transaction
                // (a view dropped for good waits for the tenants).
                Change::DropView { view } => {
                    disturbed.insert((&view.name, None), "drops and creates again");
                }
                _ => {}
            }
        }
        if disturbed.is_empty() {
            continue;
        }
        let taken_along: BTreeSet<String> = shared
            .steps
            .iter()
            .filter_map(|step| match &step.change {
                Change::DropForeignViews { views } => Some(views),
                _ => None,
            })
            .flatten()
            .map(|foreign| format!("{}.{}", foreign.schema, foreign.view.name))
            .collect();
        for ((table, column), what) in &disturbed {
            let readers: Vec<String> = readers_of(live, schema, table, *column)
                .into_iter()
                .filter(|reader| !taken_along.contains(reader))
                .collect();
            if readers.is_empty() {
                continue;
            }
            let is_view = desired
                .scope_of(&shared.target)
                .model
                .views
                .contains_key(*table)
                || live
                    .get(schema)
                    .is_some_and(|s| s.model.views.contains_key(*table));
            let object = match column {
                Some(column) => format!("column {table}.{column}"),
                None if is_view => format!("view {table}"),
                None => format!("table {table}"),
            };
            let mut named: Vec<String> = readers.iter().take(NAMED).cloned().collect();
            if readers.len() > NAMED {
                named.push(format!("and {} more", readers.len() - NAMED));
            }
            let mut problem = Problem::new(
                "kschema::plan::shared_reader",
                format!(
                    "{} {what} {object}, which views of other schemas read: {}",
                    shared.target,
                    named.join(", ")
                ),
            )
            .with_help(
                "PostgreSQL refuses the change while they read it, in the first transaction of the apply: \
                 drop or change those views in their files and apply, then make this change in the next apply",
            );
            let key = match column {
                Some(column) => ObjectKey::Column((*table).clone(), (*column).clone()),
                None if is_view => ObjectKey::View((*table).clone()),
                None => ObjectKey::Table((*table).clone()),
            };
            let scope = desired.scope_of(&shared.target);
            // A dropped column is no longer in the files: its table is.
            let origin = match scope.origins.get(&key) {
                Some(origin) => Some((origin, format!("{object} declared here"))),
                None => scope
                    .origins
                    .get(&ObjectKey::Table((*table).clone()))
                    .map(|origin| (origin, format!("table {table}"))),
            };
            if let Some((origin, label)) = origin {
                problem = problem.at(&origin.file, origin.span, label);
            }
            return Err(problem);
        }
    }
    Ok(())
}

/// Whether `view` (of another schema) reads the column (any column, for
/// `None`) of `schema`'s `table`.
fn reads(view: &View, schema: &SchemaName, table: &Ident, column: Option<&Ident>) -> bool {
    view.reads_outside.iter().any(|(s, t, c)| {
        s == schema && t == table && (column.is_none() || c.is_none() || c.as_ref() == column)
    })
}

/// `schema.view` of every live view outside `schema` that reads the
/// column (any column, for `None`) of `schema`'s `table`.
fn readers_of(
    live: &LiveState,
    schema: &SchemaName,
    table: &Ident,
    column: Option<&Ident>,
) -> Vec<String> {
    let mut readers = Vec::new();
    for (reader_schema, found) in &live.schemas {
        if reader_schema == schema {
            continue;
        }
        for view in found.model.views.values() {
            if reads(view, schema, table, column) {
                readers.push(format!("{reader_schema}.{}", view.name));
            }
        }
    }
    readers
}

/// The views of other schemas that read what `changes` (a shared schema's)
/// change in place — a column's type, a table or view created again — and
/// the views of their schema that read those: dropped before, readers
/// first, and created again after, as they are live. None when there are
/// none, or when a materialized view is among them (its rows and indexes
/// cannot be taken along: `check_shared_readers` refuses the plan).
pub fn foreign_readers(changes: &[Change], live: &LiveState, schema: &SchemaName) -> Vec<Change> {
    let created: BTreeSet<&Ident> = changes
        .iter()
        .filter_map(|change| match change {
            Change::CreateView { view } => Some(&view.name),
            Change::CreateTable { table } => Some(&table.name),
            _ => None,
        })
        .collect();
    let mut disturbed: Vec<(&Ident, Option<&Ident>)> = Vec::new();
    for change in changes {
        match change {
            Change::AlterColumn {
                table,
                from,
                kind: ColumnChange::Type,
                ..
            } => disturbed.push((table, Some(&from.name))),
            Change::DropView { view } if created.contains(&view.name) => {
                disturbed.push((&view.name, None))
            }
            Change::DropTable { table } | Change::DropTableToRepartition { table }
                if created.contains(&table.name) =>
            {
                disturbed.push((&table.name, None))
            }
            _ => {}
        }
    }
    if disturbed.is_empty() {
        return Vec::new();
    }
    let mut taken: Vec<ForeignView> = Vec::new();
    for (reader_schema, found) in &live.schemas {
        if reader_schema == schema {
            continue;
        }
        let model = &found.model;
        // The direct readers, then the views of their schema reading them.
        let mut names: BTreeSet<&Ident> = model
            .views
            .values()
            .filter(|view| {
                disturbed
                    .iter()
                    .any(|(table, column)| reads(view, schema, table, *column))
            })
            .map(|view| &view.name)
            .collect();
        loop {
            let more: Vec<&Ident> = model
                .views
                .values()
                .filter(|view| {
                    !names.contains(&view.name) && view.reads.iter().any(|r| names.contains(r))
                })
                .map(|view| &view.name)
                .collect();
            if more.is_empty() {
                break;
            }
            names.extend(more);
        }
        let views: Vec<&View> = names
            .iter()
            .filter_map(|name| model.views.get(*name))
            .collect();
        if views.iter().any(|view| view.materialized) {
            return Vec::new();
        }
        for view in in_reading_order(views, |view| Some(*view)) {
            let object = GrantObject::Table {
                name: view.name.clone(),
            };
            taken.push(ForeignView {
                schema: reader_schema.clone(),
                view: view.clone(),
                grants: model
                    .privileges
                    .grants
                    .iter()
                    .filter(|grant| grant.object == object)
                    .cloned()
                    .collect(),
                comment: model
                    .comments
                    .get(&Commented::View {
                        name: view.name.clone(),
                    })
                    .cloned(),
            });
        }
    }
    if taken.is_empty() {
        return Vec::new();
    }
    let mut dropped = taken.clone();
    // Readers first, within each schema.
    dropped.reverse();
    vec![
        Change::DropForeignViews { views: dropped },
        Change::CreateForeignViews { views: taken },
    ]
}
