//! A shared schema's change to a column (its type, or dropping it), a
//! table or view of it created again, or a function of it dropped and
//! created again, that another schema's live views, policies, defaults,
//! checks or indexes read or call: PostgreSQL refuses it ("cannot alter
//! type of a column used by a view or rule", "other objects depend on it")
//! in the shared schema's transaction, which runs first.
//!
//! Those are taken along: dropped (or taken off) before the change and
//! created again (put back) after it, as they are live, in the shared
//! schema's transaction (`foreign_readers`) — a materialized view with its
//! indexes, filling again. A change that cannot take them along (a column
//! dropped in the shared schema's own order) is said at plan time instead,
//! at the declaration, with the way out (`check_shared_readers`). A drop
//! that waits for the tenants (`defer_shared_drops`) is not refused: the
//! tenants drop their views first.

use std::collections::{BTreeMap, BTreeSet};

use super::type_users::names_shared_type;
use super::Plan;
use crate::catalog::LiveState;
use crate::diagnostic::{first_few, Problem};
use crate::diff::{
    partition_defaults_along, CallerAround, Change, ColumnChange, ForeignCallers, ForeignView,
};
use crate::ident::Ident;
use crate::load::{DesiredState, ObjectKey};
use crate::model::{
    in_reading_order, CallerKind, Commented, Dependent, FunctionCaller, GrantObject, SchemaModel,
    SchemaName, View,
};

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
                    kind: kind @ (ColumnChange::Type | ColumnChange::Generated),
                    ..
                } => {
                    let what = match kind {
                        ColumnChange::Type => "changes the type of",
                        _ => "drops and adds again",
                    };
                    disturbed.insert((table, Some(&from.name)), what);
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
            let mut problem = Problem::new(
                "kschema::plan::shared_reader",
                format!(
                    "{} {what} {object}, which views of other schemas read: {}",
                    shared.target,
                    first_few(&readers)
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

/// The functions of a shared schema that `changes` drop and create again.
fn recreated_functions(changes: &[Change]) -> BTreeSet<&Ident> {
    changes
        .iter()
        .filter_map(|change| change.function_recreated())
        .map(|function| &function.name)
        .collect()
}

/// Whether `view` (of another schema) calls one of `functions` of `schema`.
fn calls(view: &View, schema: &SchemaName, functions: &BTreeSet<&Ident>) -> bool {
    view.calls_outside
        .iter()
        .any(|(s, f)| s == schema && functions.contains(f))
}

/// `direct` and the views of `model` that read them, and those that read
/// those.
fn with_their_readers<'a>(model: &'a SchemaModel, direct: BTreeSet<&'a Ident>) -> Vec<&'a View> {
    let mut names = direct;
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
    names
        .iter()
        .filter_map(|name| model.views.get(*name))
        .collect()
}

/// The views of other schemas that read what `changes` (a shared schema's)
/// change in place — a column's type, a table or view created again, their
/// own columns of a shared type created again — or call a function it
/// drops and creates again (or one of their own it takes along: on a
/// shared type created again), and the views of their schema that read
/// those: dropped before, readers first, and created again after, as they
/// are live; and the policies, defaults, constraints and indexes of other
/// schemas calling such a function (the policies reading such a column
/// too), taken off before and put back after.
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
            // A generated column's new expression drops and adds it again.
            Change::AlterColumn {
                table,
                from,
                kind: ColumnChange::Type | ColumnChange::Generated,
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
    let recreated = recreated_functions(changes);
    // Other schemas' tables whose columns of a shared enum created again
    // convert: every view reading them goes along.
    let mut converted: BTreeMap<&SchemaName, BTreeSet<&Ident>> = BTreeMap::new();
    // And their functions on it, dropped and created again: what calls
    // them goes along too.
    let mut own_recreated: BTreeMap<&SchemaName, BTreeSet<&Ident>> = BTreeMap::new();
    // Views and policies naming the type (`'pro'::plan_tier`), or one of
    // their schema's types built on it, hold it too.
    let recreated_types: BTreeSet<&Ident> = changes
        .iter()
        .flat_map(Change::with_along)
        .filter_map(Change::type_recreated)
        .collect();
    let mut built_types: BTreeMap<&SchemaName, BTreeSet<&Ident>> = BTreeMap::new();
    for other in changes
        .iter()
        .flat_map(Change::with_along)
        .flat_map(Change::foreign)
    {
        // Their columns of their types built on it too.
        let built = other
            .along
            .iter()
            .flat_map(Change::with_along)
            .flat_map(Change::converted_columns);
        converted
            .entry(&other.schema)
            .or_default()
            .extend(other.columns.iter().chain(built).map(|c| &c.table));
        built_types.entry(&other.schema).or_default().extend(
            other
                .along
                .iter()
                .flat_map(Change::with_along)
                .filter_map(Change::type_recreated),
        );
        if !other.functions.is_empty() {
            own_recreated
                .entry(&other.schema)
                .or_default()
                .extend(other.functions.iter().map(|f| &f.function.name));
        }
    }
    if disturbed.is_empty()
        && recreated.is_empty()
        && converted.is_empty()
        && recreated_types.is_empty()
    {
        return Vec::new();
    }
    let mut taken: Vec<ForeignView> = Vec::new();
    let mut callers: Vec<ForeignCallers> = Vec::new();
    for (reader_schema, found) in &live.schemas {
        if reader_schema == schema {
            continue;
        }
        let model = &found.model;
        let own_converted = converted.get(reader_schema);
        let no_functions = BTreeSet::new();
        let own_functions = own_recreated.get(reader_schema).unwrap_or(&no_functions);
        let own_built = built_types.get(reader_schema).unwrap_or(&no_functions);
        let names_type = |dependent: &Dependent| {
            names_shared_type(
                model,
                dependent,
                schema,
                &|t| recreated_types.contains(t),
                &|t| own_built.contains(t),
            )
        };
        // The direct readers and callers, then the views of their schema
        // reading them.
        let direct: BTreeSet<&Ident> = model
            .views
            .values()
            .filter(|view| {
                disturbed
                    .iter()
                    .any(|(table, column)| reads(view, schema, table, *column))
                    || calls(view, schema, &recreated)
                    || own_converted
                        .is_some_and(|tables| view.reads.iter().any(|r| tables.contains(r)))
                    || view.calls.iter().any(|f| own_functions.contains(f))
                    || names_type(&Dependent::Relation(view.name.clone()))
            })
            .map(|view| &view.name)
            .collect();
        let views = with_their_readers(model, direct);
        for view in in_reading_order(views, |view| Some(*view)) {
            let object = GrantObject::Table {
                name: view.name.clone(),
            };
            taken.push(ForeignView {
                schema: reader_schema.clone(),
                view: view.clone(),
                grants: model.privileges.on(&object),
                comments: comments_of(model, view),
                indexes: match view.materialized {
                    true => model.indexes_of(&view.name).cloned().collect(),
                    false => Vec::new(),
                },
            });
        }
        if !recreated.is_empty()
            || !disturbed.is_empty()
            || !own_functions.is_empty()
            || !recreated_types.is_empty()
        {
            let found = callers_of(
                model,
                schema,
                &recreated,
                own_functions,
                &disturbed,
                &names_type,
            );
            if !found.policies.is_empty() || !found.around.is_empty() {
                callers.push(ForeignCallers {
                    schema: reader_schema.clone(),
                    ..found
                });
            }
        }
    }
    let mut around = Vec::new();
    if !callers.is_empty() {
        around.push(Change::DropForeignCallers {
            callers: callers.clone(),
        });
    }
    if !taken.is_empty() {
        let mut dropped = taken.clone();
        // Readers first, within each schema.
        dropped.reverse();
        around.push(Change::DropForeignViews { views: dropped });
        around.push(Change::CreateForeignViews { views: taken });
    }
    if !callers.is_empty() {
        around.push(Change::CreateForeignCallers { callers });
    }
    around
}

/// The comments on `view`, its columns and its indexes, as they are live.
fn comments_of(model: &SchemaModel, view: &View) -> Vec<(Commented, String)> {
    let indexes: BTreeSet<&Ident> = model.indexes_of(&view.name).map(|i| &i.name).collect();
    model
        .comments
        .iter()
        .filter(|(object, _)| match object {
            Commented::View { name } | Commented::MaterializedView { name } => name == &view.name,
            Commented::ViewColumn { view: of, .. } => of == &view.name,
            Commented::Index { name } => indexes.contains(name),
            _ => false,
        })
        .map(|(object, text)| (object.clone(), text.clone()))
        .collect()
}

/// The policies, defaults, constraints and indexes of `model` (another
/// schema's) that call one of `functions` of `schema` or of its own
/// `own_functions` (on a shared type created again), and the policies
/// that read one of `schema`'s `disturbed` columns (or tables) or name a
/// type created again (`names_type`), as they are live.
/// A partition's defaults, constraints and indexes are its parent's
/// copies: taken off and put back with the parent's (its policies and own
/// defaults are its own: `partition_defaults_along`). A generated column
/// calling one is refused at plan time (`plan::generated`).
fn callers_of(
    model: &SchemaModel,
    schema: &SchemaName,
    functions: &BTreeSet<&Ident>,
    own_functions: &BTreeSet<&Ident>,
    disturbed: &[(&Ident, Option<&Ident>)],
    names_type: &dyn Fn(&Dependent) -> bool,
) -> ForeignCallers {
    let calls_one = |caller: &FunctionCaller| match &caller.schema {
        Some(called) => called == schema && functions.contains(&caller.function),
        None => own_functions.contains(&caller.function),
    };
    let mut found = ForeignCallers {
        schema: schema.clone(),
        policies: Vec::new(),
        around: Vec::new(),
    };
    for (name, table) in &model.tables {
        for policy in &table.policies {
            let calls = policy
                .calls_outside
                .iter()
                .any(|(s, f)| s == schema && functions.contains(f))
                || policy.calls.iter().any(|f| own_functions.contains(f));
            let reads = policy.reads_outside.iter().any(|(s, t, c)| {
                s == schema
                    && disturbed.iter().any(|(table, column)| {
                        t == *table && (column.is_none() || c.is_none() || c.as_ref() == *column)
                    })
            });
            let names = names_type(&Dependent::Policy(name.clone(), policy.name.clone()));
            if calls || reads || names {
                found.policies.push((name.clone(), policy.clone()));
            }
        }
        if table.partition_of.is_some() {
            continue;
        }
        let calling = table.function_callers.iter().filter(|c| calls_one(c));
        for caller in calling {
            match caller.kind {
                CallerKind::Default => found.around.push(CallerAround::Default {
                    table: name.clone(),
                    column: caller.name.clone(),
                    put_back: table.column(&caller.name).and_then(|c| c.default.clone()),
                }),
                CallerKind::Constraint => {
                    if let Some(constraint) =
                        table.constraints.iter().find(|c| c.name == caller.name)
                    {
                        found.around.push(CallerAround::Constraint {
                            table: name.clone(),
                            constraint: constraint.clone(),
                            put_back: true,
                        });
                    }
                }
                CallerKind::Index => {
                    if let Some(index) = model.indexes.get(&caller.name) {
                        found.around.push(CallerAround::Index {
                            index: index.clone(),
                            put_back: true,
                        });
                    }
                }
                CallerKind::Generated => {}
            }
        }
    }
    found
        .around
        .extend(partition_defaults_along(model, calls_one));
    found
}

/// Whether a shared target's plan changes what other schemas may read or
/// call (in its own transaction, before the tenants): what the tenant
/// schemas have on it is taken along, so a run must read every tenant of
/// the database, not only those it converges.
pub fn takes_tenants_along(plan: &Plan) -> bool {
    plan.targets
        .iter()
        .filter(|t| t.target.is_shared())
        .flat_map(|t| t.steps.iter())
        .any(|step| {
            !step.after_tenants
                && (step.change.function_recreated().is_some()
                    || matches!(
                        step.change,
                        Change::AlterColumn {
                            kind: ColumnChange::Type | ColumnChange::Generated,
                            ..
                        } | Change::RecreateEnum { .. }
                            | Change::RecreateDomain { .. }
                            | Change::RecreateComposite { .. }
                            | Change::DropView { .. }
                            | Change::DropTable { .. }
                            | Change::DropTableToRepartition { .. }
                    ))
        })
}
