//! Other schemas' part of a shared type created again (an enum, a
//! domain, a composite type): their columns of it converted, their
//! functions on it dropped and created again, their types built on it
//! created again — in the shared schema's transaction, each schema's on
//! its own search path, as they are live (their own plans, made before,
//! run after). What is taken off before the rename (their functions, the
//! checks and indexes reading those columns) is put back once every
//! column is converted.

use crate::definition::{comment_on_object, constraint_sql, create_index, ExprStyle};
use crate::diff::{ForeignColumns, ForeignFunction};
use crate::hazard::{Hazard, HazardKind};
use crate::ident::Ident;
use crate::model::{Commented, TriggerFiring};
use crate::sql::Sql;

use super::convert::{convert_column_using, recreate_within, turn_holders, Host, Using};
use super::ddl::{alter_table, in_schema, set_search_path};
use super::privilege::grant as grant_on;
use super::routine::{
    create_function, create_trigger, drop_function, drop_trigger, set_trigger_firing,
};

/// Other schemas' types built on a shared type created again (`within`),
/// created again inside its change on their schema's search path, as they
/// are live, with their composite types holding it turned in place, then
/// their functions on those types.
pub(super) fn recreate_foreign_along(
    within: Host,
    foreign: &[ForeignColumns],
) -> (Vec<Sql>, Vec<Hazard>) {
    let mut statements = Vec::new();
    let mut hazards = Vec::new();
    // A fleet's thousands of tables: one hazard for them all.
    let (mut types, mut tables, mut schemas) = (0, 0, 0);
    for other in foreign {
        if other.along.is_empty() && other.holders.is_empty() {
            continue;
        }
        let schema = &other.schema;
        schemas += 1;
        statements.push(in_schema(schema, set_search_path()));
        statements.extend(
            turn_holders(&other.holders)
                .into_iter()
                .map(|sql| in_schema(schema, sql)),
        );
        let mut converted: Vec<&Ident> = Vec::new();
        for inner in &other.along {
            let Some((more, _)) = recreate_within(inner, Some(within)) else {
                continue;
            };
            statements.extend(more.into_iter().map(|sql| in_schema(schema, sql)));
            for built in inner.with_along() {
                types += 1;
                converted.extend(built.converted_columns().iter().map(|c| &c.table));
            }
        }
        converted.sort();
        converted.dedup();
        tables += converted.len();
        statements.push(set_search_path());
    }
    if types > 0 {
        hazards.push(Hazard::new(
            HazardKind::RecreatesObject,
            format!(
                "drops {types} domain(s) or composite type(s) of {schemas} other schema(s) built on {} and creates them again on the new one, as they are live, in this transaction",
                within.name
            ),
        ));
    }
    if tables > 0 {
        hazards.push(Hazard::new(
            HazardKind::RewritesTable,
            format!(
                "rewrites {tables} table(s) of other schemas to convert their columns of those types, in this transaction; fails if a row holds a value the new type refuses"
            ),
        ));
    }
    statements.extend(create_foreign_functions(foreign, |f| f.on_builder));
    (statements, hazards)
}

/// The checks and indexes of other schemas reading their columns of a
/// shared type created again, and their defaults, checks, indexes and
/// triggers naming it: off before its rename (put back once the columns
/// are converted); and their functions on it, dropped on their schema's
/// search path (their argument types are written for it).
pub(super) fn drop_foreign_readers(foreign: &[ForeignColumns]) -> Vec<Sql> {
    let mut statements = Vec::new();
    for other in foreign.iter().filter(|other| !other.functions.is_empty()) {
        statements.push(in_schema(&other.schema, set_search_path()));
        for taken in &other.functions {
            statements.push(in_schema(&other.schema, drop_function(&taken.function)));
        }
        statements.push(set_search_path());
    }
    for other in foreign {
        let schema = &other.schema;
        for (table, trigger) in &other.triggers {
            statements.push(in_schema(schema, drop_trigger(table, &trigger.name)));
        }
        for index in &other.indexes {
            statements.push(in_schema(
                schema,
                Sql::new().text("DROP INDEX ").qualified(&index.name),
            ));
        }
        for (table, check) in &other.checks {
            statements.push(in_schema(
                schema,
                alter_table(table).text(format!(" DROP CONSTRAINT {}", check.name.quoted())),
            ));
        }
        for (table, column, _) in &other.defaults {
            statements.push(in_schema(
                schema,
                alter_table(table).text(format!(" ALTER COLUMN {} DROP DEFAULT", column.quoted())),
            ));
        }
    }
    statements
}

/// Other schemas' functions on a shared type created again (`which` of
/// them), as they are live, created again on their schema's search path,
/// with their grants and comment.
pub(super) fn create_foreign_functions(
    foreign: &[ForeignColumns],
    which: impl Fn(&ForeignFunction) -> bool,
) -> Vec<Sql> {
    let mut statements = Vec::new();
    for other in foreign {
        let schema = &other.schema;
        let mut taken = other.functions.iter().filter(|f| which(f)).peekable();
        if taken.peek().is_none() {
            continue;
        }
        statements.push(in_schema(schema, set_search_path()));
        for taken in taken {
            let function = &taken.function;
            statements.extend(
                create_function(function)
                    .into_iter()
                    .map(|sql| in_schema(schema, sql)),
            );
            for grant in &taken.grants {
                statements.push(in_schema(
                    schema,
                    grant_on(
                        &grant.object,
                        &grant.role,
                        std::slice::from_ref(&grant.privilege),
                        grant.grantable,
                    ),
                ));
            }
            if let Some(comment) = &taken.comment {
                let object = Commented::Function {
                    name: function.name.clone(),
                    arguments: function.arguments.clone(),
                    procedure: function.procedure,
                };
                statements.push(in_schema(schema, comment_on_object(&object, Some(comment))));
            }
        }
        statements.push(set_search_path());
    }
    statements
}

/// What dropping and creating again other schemas' functions on a shared
/// type created again (`to`) costs: privileges given again, calls waiting.
pub(super) fn foreign_functions_hazard(foreign: &[ForeignColumns], to: &Ident) -> Option<Hazard> {
    let functions: usize = foreign.iter().map(|other| other.functions.len()).sum();
    (functions > 0).then(|| {
        Hazard::new(
            HazardKind::RecreatesObject,
            format!(
                "drops {functions} function(s) of {} other schema(s) taking or returning {to} and creates them again on the new {to}, in this transaction, as they are live (their grants and comments given again); calls to them wait meanwhile",
                foreign.iter().filter(|other| !other.functions.is_empty()).count()
            ),
        )
    })
}

/// Other schemas' columns of a shared type created again (`to`), converted
/// by `using` on their own schema's search path (their defaults, checks
/// and index expressions name their objects bare), then that path left
/// again; `fails_if` says what value the conversion refuses.
pub(super) fn convert_foreign(
    to: &Ident,
    foreign: &[ForeignColumns],
    fails_if: &str,
    using: &Using<'_>,
) -> (Vec<Sql>, Vec<Hazard>) {
    let mut statements = Vec::new();
    let mut tables = 0;
    // A schema may have only functions on the type (created again apart).
    let foreign: Vec<&ForeignColumns> = foreign.iter().filter(|o| !o.columns.is_empty()).collect();
    for other in &foreign {
        let schema = &other.schema;
        statements.push(in_schema(schema, set_search_path()));
        let mut converted: Vec<&Ident> = Vec::new();
        for column in &other.columns {
            // The table is the other schema's, the type this one's.
            let table = in_schema(schema, alter_table(&column.table));
            statements.extend(convert_column_using(
                table,
                column,
                to,
                (using.value)(column),
            ));
            if !converted.contains(&&column.table) {
                converted.push(&column.table);
            }
        }
        tables += converted.len();
    }
    if foreign.is_empty() {
        return (statements, Vec::new());
    }
    statements.push(set_search_path());
    let hazards = vec![Hazard::new(
        HazardKind::RewritesTable,
        format!(
            "rewrites {tables} table(s) of {} other schema(s) to convert their columns to the new {to}{}, in this transaction; fails if a row holds {fails_if}",
            foreign.len(),
            using.how,
        ),
    )];
    (statements, hazards)
}

/// Other schemas' partitions' own defaults on their columns of a shared
/// type created again (or of their types built on it), which their
/// tables' `DROP DEFAULT` took off, the checks and indexes reading those
/// columns, and the defaults, checks, indexes and triggers naming the
/// type, put back once every one is converted.
pub(super) fn put_back_foreign_readers(foreign: &[ForeignColumns]) -> (Vec<Sql>, Vec<Hazard>) {
    let mut statements = Vec::new();
    let (mut checks, mut indexes) = (0, 0);
    // On their schema's search path: their expressions name its objects
    // bare.
    for other in foreign.iter().filter(|o| {
        !o.checks.is_empty()
            || !o.indexes.is_empty()
            || !o.partition_defaults.is_empty()
            || !o.defaults.is_empty()
            || !o.triggers.is_empty()
    }) {
        let schema = &other.schema;
        statements.push(in_schema(schema, set_search_path()));
        // A table's default before its partitions' own, which it reaches.
        for (table, column, default) in &other.defaults {
            if let Some(default) = default {
                statements.push(in_schema(
                    schema,
                    alter_table(table).text(format!(
                        " ALTER COLUMN {} SET DEFAULT {}",
                        column.quoted(),
                        default.sql
                    )),
                ));
            }
        }
        for (partition, column, default) in &other.partition_defaults {
            statements.push(in_schema(
                schema,
                alter_table(partition).text(format!(
                    " ALTER COLUMN {} SET DEFAULT {}",
                    column.quoted(),
                    default.sql
                )),
            ));
        }
        for (table, check) in &other.checks {
            let add = constraint_sql(
                alter_table(table).text(" ADD "),
                check,
                true,
                ExprStyle::Authored,
            );
            statements.push(in_schema(
                schema,
                match check.validated {
                    true => add,
                    false => add.text(" NOT VALID"),
                },
            ));
            checks += usize::from(check.validated);
        }
        for index in &other.indexes {
            statements.push(in_schema(
                schema,
                create_index(index, false, ExprStyle::Authored),
            ));
            indexes += 1;
        }
        for (table, trigger) in &other.triggers {
            statements.push(in_schema(schema, create_trigger(trigger)));
            if trigger.firing != TriggerFiring::Enabled {
                statements.push(in_schema(
                    schema,
                    set_trigger_firing(table, &trigger.name, trigger.firing),
                ));
            }
        }
    }
    if !statements.is_empty() {
        statements.push(set_search_path());
    }
    let mut hazards = Vec::new();
    if checks > 0 {
        hazards.push(Hazard::new(
            HazardKind::ValidatesConstraint,
            format!("checks the rows of other schemas against {checks} check(s) reading those columns or naming the type again, in this transaction"),
        ));
    }
    if indexes > 0 {
        hazards.push(Hazard::new(
            HazardKind::BuildsIndex,
            format!("builds {indexes} index(es) of other schemas reading those columns or naming the type again, in this transaction, writes to their tables waiting"),
        ));
    }
    (statements, hazards)
}
