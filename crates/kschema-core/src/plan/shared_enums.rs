//! A shared enum created again (labels removed or reordered), a shared
//! domain on a new base type, or a shared composite type reordered, is
//! renamed aside, made anew, its columns
//! converted, and the old one dropped — in the shared schema's
//! transaction, which runs before the tenants'. The tenants' columns of
//! it hold the old type, so its drop would fail: they are converted in
//! that transaction too (`take_foreign_columns`), with their defaults and
//! the checks and indexes reading them; the tenant functions taking or
//! returning it are dropped and created again on the new type; and the
//! tenant views (materialized ones too) reading their tables, and what
//! calls those functions, are taken along
//! (`shared_readers::foreign_readers`); the tenant domains and composite
//! types built on it are created again on it as they are live, their
//! columns converted (`plan::foreign_types`). What cannot be taken along
//! is refused at plan time (`plan::shared_type_refusals`).

use super::type_users::names_shared_type;
use crate::catalog::LiveState;
use crate::diff::{
    foreign_builders_along, mentions, partitions_own_defaults, Change, ConvertedColumn,
    ForeignColumns, ForeignFunction,
};
use crate::ident::Ident;
use crate::load::DesiredState;
use crate::model::{
    ColumnType, Commented, ConstraintKind, Dependent, GrantObject, SchemaModel, SchemaName, SqlExpr,
};

/// How `schema`'s enum `name` is spelled in `other`'s columns and
/// signatures: qualified, or bare from public when `other` has no type of
/// that name of its own (the search path is `other, public`).
pub(super) fn spellings(schema: &SchemaName, name: &Ident, other: &SchemaModel) -> Vec<String> {
    let mut spelled = vec![format!("{}.{}", schema.ident().quoted(), name.quoted())];
    if schema == &SchemaName::public()
        && !other.enums.contains_key(name)
        && !other.domains.contains_key(name)
        && !other.composites.contains_key(name)
    {
        spelled.push(name.quoted().to_string());
    }
    spelled
}

/// Whether `other` spells the type bare too (`spellings`), as
/// `diff::built_on` finds the types built on it.
pub(super) fn goes_bare(spelled: &[String]) -> bool {
    spelled.len() == 2
}

fn of_type(data_type: &ColumnType, spelled: &[String]) -> bool {
    spelled.iter().any(|s| data_type.is_or_array_of(s))
}

/// Fills each shared enum, domain or composite type created again in
/// `changes` (the shared schema `schema`'s) with the other schemas'
/// columns of it, as they are live but for their defaults
/// (`files_default`), their functions taking or returning it and their
/// types built on it, as they are live.
pub fn take_foreign_columns(
    changes: &mut [Change],
    live: &LiveState,
    desired: &DesiredState,
    schema: &SchemaName,
) {
    for change in changes.iter_mut() {
        change.each_with_along_mut(&mut |change| {
            take_foreign_columns_of(change, live, desired, schema)
        });
    }
}

/// [`take_foreign_columns`] for one type created again.
fn take_foreign_columns_of(
    change: &mut Change,
    live: &LiveState,
    desired: &DesiredState,
    schema: &SchemaName,
) {
    let (type_name, foreign) = match change {
        Change::RecreateEnum { to, foreign, .. } => (&to.name, foreign),
        Change::RecreateDomain { to, foreign, .. } => (&to.name, foreign),
        Change::RecreateComposite { to, foreign, .. } => (&to.name, foreign),
        _ => return,
    };
    for (other_schema, found) in live.schemas.iter().filter(|(s, _)| *s != schema) {
        let model = &found.model;
        let files = &desired
            .shared_scope(other_schema)
            .unwrap_or(&desired.tenant)
            .model;
        let spelled = spellings(schema, type_name, model);
        let mut other = ForeignColumns {
            schema: other_schema.clone(),
            columns: Vec::new(),
            checks: Vec::new(),
            indexes: Vec::new(),
            partition_defaults: Vec::new(),
            defaults: Vec::new(),
            triggers: Vec::new(),
            functions: Vec::new(),
            along: Vec::new(),
            holders: Vec::new(),
        };
        // Its types built on the type go along, as they are live.
        if goes_bare(&spelled) {
            (other.holders, other.along) = foreign_builders_along(type_name, model);
        }
        let mut builders: Vec<String> = Vec::new();
        let mut built_types: Vec<Ident> = Vec::new();
        let mut built_columns: Vec<(Ident, Ident)> = Vec::new();
        let mut built_partitions = Vec::new();
        for change in &mut other.along {
            change.each_with_along_mut(&mut |change| {
                builders.extend(change.type_recreated().map(|n| n.quoted().to_string()));
                built_types.extend(change.type_recreated().cloned());
                let (Change::RecreateDomain { columns, .. }
                | Change::RecreateComposite { columns, .. }) = change
                else {
                    return;
                };
                // A partition's columns convert with its parent's; the
                // files' defaults, as for the columns of the type itself.
                columns.retain(|c| {
                    model
                        .tables
                        .get(&c.table)
                        .is_some_and(|t| t.partition_of.is_none())
                });
                for column in columns.iter_mut() {
                    column.default =
                        files_default(files, &column.table, &column.column, &column.default);
                    built_columns.push((column.table.clone(), column.column.clone()));
                    built_partitions.extend(partition_defaults(
                        model,
                        files,
                        &column.table,
                        &column.column,
                    ));
                }
            });
        }
        other.partition_defaults.extend(built_partitions);
        // What names the type (or one built on it) in an expression, as
        // PostgreSQL recorded it.
        let needs_it = |dependent: &Dependent| {
            names_shared_type(model, dependent, schema, &|t| t == type_name, &|t| {
                built_types.contains(t)
            })
        };
        let uses = |text: &str, spelled: &[String]| spelled.iter().any(|s| names(text, s));
        for function in model.functions.iter().filter(|f| {
            [&spelled, &builders]
                .iter()
                .any(|spelled| uses(&f.arguments, spelled) || uses(&f.interface, spelled))
                || needs_it(&Dependent::Function(f.name.clone()))
        }) {
            let object = GrantObject::Function {
                name: function.name.clone(),
                arguments: function.arguments.clone(),
                procedure: function.procedure,
            };
            let commented = Commented::Function {
                name: function.name.clone(),
                arguments: function.arguments.clone(),
                procedure: function.procedure,
            };
            other.functions.push(ForeignFunction {
                function: function.clone(),
                on_builder: uses(&function.arguments, &builders)
                    || uses(&function.interface, &builders),
                grants: model.privileges.on(&object),
                comment: model.comments.get(&commented).cloned(),
            });
        }
        // A partition's columns convert with its parent's.
        for (name, table) in model
            .tables
            .iter()
            .filter(|(_, t)| t.partition_of.is_none())
        {
            let columns: Vec<&Ident> = table
                .columns
                .iter()
                .filter(|c| of_type(&c.data_type, &spelled))
                .map(|c| &c.name)
                .collect();
            let built: Vec<&Ident> = built_columns
                .iter()
                .filter(|(table, _)| table == name)
                .map(|(_, column)| column)
                .collect();
            // (A table with none of them may still have a check or index
            // naming the type: `needs_it`.)
            for column in table.columns.iter().filter(|c| columns.contains(&&c.name)) {
                let default = files_default(files, name, &column.name, &column.default);
                // The table's `DROP DEFAULT` takes its partitions' own off
                // too (one would block the conversion): set again after.
                let partitions = partition_defaults(model, files, name, &column.name);
                let had_default = column.default.is_some() || !partitions.is_empty();
                other.partition_defaults.extend(partitions);
                other.columns.push(ConvertedColumn {
                    table: name.clone(),
                    column: column.name.clone(),
                    array: column.data_type.is_array(),
                    had_default,
                    default,
                });
            }
            let reads = |text: &str| columns.iter().chain(&built).any(|c| mentions(text, c));
            // One calling a function taken along goes with its callers
            // (`shared_readers::foreign_readers`), put back once the
            // function is back.
            let calls_taken = |caller: &Ident| {
                table.function_callers.iter().any(|c| {
                    &c.name == caller
                        && c.schema.is_none()
                        && other
                            .functions
                            .iter()
                            .any(|f| f.function.name == c.function)
                })
            };
            for constraint in &table.constraints {
                if let ConstraintKind::Check { expr, .. } = &constraint.kind {
                    let names_it = needs_it(&Dependent::Constraint(
                        name.clone(),
                        constraint.name.clone(),
                    ));
                    if (reads(&expr.canonical) || names_it) && !calls_taken(&constraint.name) {
                        other.checks.push((name.clone(), constraint.clone()));
                    }
                }
            }
            for index in model.indexes_of(name) {
                let names_it = needs_it(&Dependent::Index(index.name.clone()));
                if (index.expressions().any(reads) || names_it) && !calls_taken(&index.name) {
                    other.indexes.push(index.clone());
                }
            }
        }
        take_expression_users(&mut other, model, files, &needs_it, &built_columns);
        if !other.columns.is_empty()
            || !other.functions.is_empty()
            || !other.along.is_empty()
            || !other.holders.is_empty()
            || !other.checks.is_empty()
            || !other.indexes.is_empty()
            || !other.defaults.is_empty()
            || !other.triggers.is_empty()
        {
            foreign.push(other);
        }
    }
}

/// The defaults and triggers of `other`'s schema (`model`, as it is live)
/// that name the type in an expression (`needs_it`), on columns it does
/// not convert: taken off before the rename, put back after — a default
/// as the files (`files`) say, or as it is live where they do not have
/// it; a partitioned table's `DROP DEFAULT` takes its partitions' own
/// off too, set again after. A generated column naming it is refused at
/// plan time (`check_foreign_enum_users`).
fn take_expression_users(
    other: &mut ForeignColumns,
    model: &SchemaModel,
    files: &SchemaModel,
    needs_it: &dyn Fn(&Dependent) -> bool,
    built_columns: &[(Ident, Ident)],
) {
    // Its columns of the type and of its types built on it.
    let converted = |table: &Ident, column: &Ident| {
        other
            .columns
            .iter()
            .any(|c| &c.table == table && &c.column == column)
            || built_columns.contains(&(table.clone(), column.clone()))
    };
    let mut defaults = Vec::new();
    let mut partitions = Vec::new();
    let mut triggers = Vec::new();
    for (name, table) in &model.tables {
        let parent = table.partition_of.as_ref().map(|of| &of.parent);
        let with_default = table
            .columns
            .iter()
            .filter(|c| c.generated.is_none())
            .filter_map(|c| Some((&c.name, c.default.as_ref()?)))
            .chain(
                table
                    .partition_columns
                    .iter()
                    .filter_map(|c| Some((&c.name, c.default.as_ref()?))),
            );
        for (column, live) in with_default {
            if converted(name, column)
                || parent.is_some_and(|p| converted(p, column))
                || !needs_it(&Dependent::Column(name.clone(), column.clone()))
            {
                continue;
            }
            let put_back = match (parent, files.tables.get(name)) {
                (Some(_), Some(declared)) => declared
                    .partition_columns
                    .iter()
                    .find(|c| &c.name == column)
                    .and_then(|c| c.default.clone()),
                (Some(_), None) => Some(live.clone()),
                (None, _) => files_default(files, name, column, &Some(live.clone())),
            };
            defaults.push((name.clone(), column.clone(), put_back));
            if parent.is_none() {
                partitions.extend(partition_defaults(model, files, name, column));
            }
        }
        for trigger in &table.triggers {
            if needs_it(&Dependent::Trigger(name.clone(), trigger.name.clone())) {
                triggers.push((name.clone(), trigger.clone()));
            }
        }
    }
    // A partition's own default both naming it and under its parent's
    // is set again once.
    partitions.retain(|(p, c, _)| !defaults.iter().any(|(t, d, _)| t == p && d == c));
    other.defaults.extend(defaults);
    other.partition_defaults.extend(partitions);
    other.triggers.extend(triggers);
}

/// The default a converted column of another schema gets back: the
/// files' where they have the column (a live one may name a label that
/// goes; that schema's own plan, made before, sets the files' anyway),
/// else the live one.
fn files_default(
    files: &SchemaModel,
    table: &Ident,
    column: &Ident,
    live: &Option<SqlExpr>,
) -> Option<SqlExpr> {
    match files.tables.get(table).and_then(|t| t.column(column)) {
        Some(declared) => declared.default.clone(),
        None => live.clone(),
    }
}

/// The partitions of `table` (of another schema, `model` as it is live)
/// with a default of their own on `column`, which the table's `DROP
/// DEFAULT` takes off too: set again after the conversion, as the files
/// (`files`) or — where they do not have the partition — the live one
/// say.
fn partition_defaults(
    model: &SchemaModel,
    files: &SchemaModel,
    table: &Ident,
    column: &Ident,
) -> Vec<(Ident, Ident, SqlExpr)> {
    let mut found = Vec::new();
    for (partition, live_default) in partitions_own_defaults(model, table, column) {
        let declared = files.tables.get(&partition).map(|t| {
            t.partition_columns
                .iter()
                .find(|c| &c.name == column)
                .and_then(|c| c.default.clone())
        });
        if let Some(default) = declared.unwrap_or(Some(live_default)) {
            found.push((partition, column.clone(), default));
        }
    }
    found
}

/// Whether `text` (a signature) names the type `spelled` there: not as
/// part of a longer name, nor of another schema's (`x.` before it).
fn names(text: &str, spelled: &str) -> bool {
    let is_name = |c: char| c.is_alphanumeric() || c == '_' || c == '$' || c == '"';
    text.match_indices(spelled).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + spelled.len()..].chars().next();
        !before.is_some_and(|c| is_name(c) || c == '.') && !after.is_some_and(is_name)
    })
}
