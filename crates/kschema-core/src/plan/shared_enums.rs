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
//! — a type built on it that the tenant spells qualified, a function a
//! generated column calls, a live domain, check, index or default naming
//! a label that goes — is refused at plan time
//! (`check_foreign_enum_users`).

use super::Plan;
use crate::catalog::LiveState;
use crate::diagnostic::{first_few, Problem};
use crate::diff::{
    foreign_builders_along, mentions, partitions_own_defaults, Change, ConvertedColumn,
    ForeignColumns, ForeignFunction,
};
use crate::ident::Ident;
use crate::load::{DesiredState, ObjectKey};
use crate::model::{
    CallerKind, ColumnType, Commented, ConstraintKind, Dependent, GrantObject, Needed, SchemaModel,
    SchemaName, SqlExpr,
};

/// How `schema`'s enum `name` is spelled in `other`'s columns and
/// signatures: qualified, or bare from public when `other` has no type of
/// that name of its own (the search path is `other, public`).
fn spellings(schema: &SchemaName, name: &Ident, other: &SchemaModel) -> Vec<String> {
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
fn goes_bare(spelled: &[String]) -> bool {
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
            model.dependencies.as_deref().is_some_and(|needs| {
                needs.of(dependent).any(|needed| match needed {
                    Needed::OtherType(s, t) => s == schema && t == type_name,
                    Needed::Relation(t) => built_types.contains(t),
                    Needed::Function(_) => false,
                })
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
        take_expression_users(&mut other, model, files, &needs_it);
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
) {
    let converted = |table: &Ident, column: &Ident| {
        let built = other
            .along
            .iter()
            .flat_map(Change::with_along)
            .flat_map(Change::converted_columns);
        other
            .columns
            .iter()
            .chain(built)
            .any(|c| &c.table == table && &c.column == column)
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
            let put_back = match parent {
                Some(_) => Some(
                    files
                        .tables
                        .get(name)
                        .map(|t| {
                            t.partition_columns
                                .iter()
                                .find(|c| &c.name == column)
                                .and_then(|c| c.default.clone())
                        })
                        .unwrap_or_else(|| Some(live.clone())),
                )
                .flatten(),
                None => files_default(files, name, column, &Some(live.clone())),
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

/// Refuses a plan whose shared schema creates an enum (a domain, a
/// composite type) again that another schema uses in a way its
/// transaction cannot take along: a domain or composite type built on it
/// that the schema spells qualified, a function on it that a generated
/// column calls, a domain, check, index or default (created again or put
/// back as it is live) naming a label that goes.
pub fn check_foreign_enum_users(
    plan: &Plan,
    live: &LiveState,
    desired: &DesiredState,
) -> Result<(), Problem> {
    for shared in plan.targets.iter().filter(|t| t.target.is_shared()) {
        let schema = &shared.target.schema;
        for recreation in shared.steps.iter().flat_map(|s| s.change.with_along()) {
            let (to, foreign, gone, kind) = match recreation {
                // Checks and indexes are put back as they are live: one
                // naming a label that goes would fail there.
                Change::RecreateEnum {
                    from, to, foreign, ..
                } => (
                    &to.name,
                    foreign,
                    from.labels
                        .iter()
                        .filter(|label| !to.labels.contains(label))
                        .map(|label| crate::ident::quote_literal(label))
                        .collect::<Vec<String>>(),
                    TypeKind::Enum,
                ),
                Change::RecreateDomain { to, foreign, .. } => {
                    (&to.name, foreign, Vec::new(), TypeKind::Domain)
                }
                Change::RecreateComposite { to, foreign, .. } => {
                    (&to.name, foreign, Vec::new(), TypeKind::Composite)
                }
                _ => continue,
            };
            let mut users: Vec<String> = Vec::new();
            let names_gone = |text: &str| gone.iter().any(|label| text.contains(label.as_str()));
            for other in foreign {
                for (table, check) in &other.checks {
                    if let ConstraintKind::Check { expr, .. } = &check.kind {
                        if names_gone(&expr.canonical) {
                            users.push(format!(
                                "check {}.{table}.{} (it names a label that goes)",
                                other.schema, check.name
                            ));
                        }
                    }
                }
                for index in &other.indexes {
                    if index.expressions().any(names_gone) {
                        users.push(format!(
                            "index {}.{} (it names a label that goes)",
                            other.schema, index.name
                        ));
                    }
                }
            }
            for other in foreign {
                users.extend(functions_not_taken_along(other, live, &names_gone));
                // Created again as they are live: one naming a label that
                // goes would fail.
                for built in other.along.iter().flat_map(Change::with_along) {
                    if let Change::RecreateDomain { to: domain, .. } = built {
                        if names_gone(&domain.sql) {
                            users.push(format!(
                                "domain {}.{} (it names a label that goes)",
                                other.schema, domain.name
                            ));
                        }
                    }
                }
            }
            for (other_schema, found) in live.schemas.iter().filter(|(s, _)| *s != schema) {
                let model = &found.model;
                // What names it in an expression and is not taken along.
                users.extend(super::type_users::foreign_still_holding(
                    model,
                    other_schema,
                    schema,
                    to,
                    foreign.iter().find(|f| &f.schema == other_schema),
                    &shared.steps,
                ));
                let spelled = spellings(schema, to, model);
                // Taken along (`take_foreign_columns`).
                if goes_bare(&spelled) {
                    continue;
                }
                users.extend(super::enum_dependents::built_on(
                    model,
                    &spelled,
                    &format!("{other_schema}."),
                ));
            }
            if users.is_empty() {
                continue;
            }
            let mut problem = match kind {
                TypeKind::Enum => Problem::new(
                    "kschema::plan::shared_enum_users",
                    format!(
                        "enum {to} is created again in {schema} (labels go or move), but other schemas use it in what its transaction cannot convert: {}",
                        first_few(&users)
                    ),
                )
                .with_help(
                    "in two applies: first move those off the enum (or off the label, or drop them) in their files and keep the labels, then remove or reorder the labels",
                ),
                TypeKind::Domain => Problem::new(
                    "kschema::plan::shared_domain_users",
                    format!(
                        "domain {to} is created again in {schema} (a new base type or collation), but other schemas use it in what its transaction cannot convert: {}",
                        first_few(&users)
                    ),
                )
                .with_help(
                    "in two applies: first move those off the domain in their files and keep its base type, then change the base type",
                ),
                TypeKind::Composite => Problem::new(
                    "kschema::plan::shared_composite_users",
                    format!(
                        "composite type {to} is created again in {schema} (attributes reordered or retyped), but other schemas use it in what its transaction cannot convert: {}",
                        first_few(&users)
                    ),
                )
                .with_help(
                    "in two applies: first move those off the type in their files and keep its attributes, then change them",
                ),
            };
            let scope = desired.scope_of(&shared.target);
            if let Some(origin) = scope.origins.get(&ObjectKey::Type(to.clone())) {
                problem = problem.at(&origin.file, origin.span, "created again");
            }
            return Err(problem);
        }
    }
    Ok(())
}

/// The functions of `other` on a shared type created again that its
/// transaction cannot drop and create again — one a generated column
/// calls (PostgreSQL refuses the drop), one whose argument defaults or
/// `BEGIN ATOMIC` body name a label that goes (its creation would fail) —
/// and the checks, indexes and defaults calling them that cannot be put
/// back as they are live (they name such a label).
fn functions_not_taken_along(
    other: &ForeignColumns,
    live: &LiveState,
    names_gone: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    let model = live.get(&other.schema).map(|found| found.model.as_ref());
    let mut refused = Vec::new();
    for taken in &other.functions {
        let function = &taken.function;
        let generated = model.and_then(|model| {
            model.tables.iter().find_map(|(table, t)| {
                t.function_callers
                    .iter()
                    .find(|c| {
                        c.kind == CallerKind::Generated
                            && c.schema.is_none()
                            && c.function == function.name
                    })
                    .map(|c| format!("{table}.{}", c.name))
            })
        });
        let why = match generated {
            Some(column) => format!("the generated column {column} calls it"),
            None if names_gone(&function.interface)
                || (function.atomic_body && names_gone(&function.definition)) =>
            {
                "it names a label that goes".to_string()
            }
            None => continue,
        };
        refused.push(format!(
            "{} {}.{}({}) ({why})",
            function.kind(),
            other.schema,
            function.name,
            function.arguments
        ));
    }
    // What calls them is put back as it is live, like the checks and
    // indexes reading the columns.
    let taken = |name: &Ident| other.functions.iter().any(|f| &f.function.name == name);
    let index = |name: &Ident| {
        model
            .and_then(|model| model.indexes.get(name))
            .map(|index| index.expressions().collect::<Vec<_>>().join(" "))
    };
    for (table_name, table) in model.iter().flat_map(|model| &model.tables) {
        for caller in table
            .function_callers
            .iter()
            .filter(|c| c.schema.is_none() && taken(&c.function))
        {
            let text = match caller.kind {
                CallerKind::Index => index(&caller.name),
                CallerKind::Constraint => table
                    .constraints
                    .iter()
                    .find(|c| c.name == caller.name)
                    .and_then(|c| match &c.kind {
                        ConstraintKind::Check { expr, .. } => Some(expr.canonical.clone()),
                        _ => None,
                    }),
                CallerKind::Default => table
                    .column(&caller.name)
                    .and_then(|c| c.default.as_ref())
                    .map(|d| d.canonical.clone()),
                CallerKind::Generated => None,
            };
            if text.is_some_and(|text| names_gone(&text)) {
                refused.push(format!(
                    "{} of {}.{table_name} (it names a label that goes)",
                    caller.name, other.schema
                ));
            }
        }
    }
    refused
}

/// The kinds of shared type whose columns a recreation converts.
enum TypeKind {
    Enum,
    Domain,
    Composite,
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
