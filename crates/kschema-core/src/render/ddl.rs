//! A schema as DDL text, for people to read and diff: every object in name
//! order, constraints named, expressions canonical — so two schemas that
//! plan as equal print as equal text.

use std::fmt::Write;

use crate::definition::{
    column_definition, comment_on, comment_on_object, constraint_sql, create_domain, create_enum,
    create_index, create_table_end, create_table_start, partition_column_items, replica_identity,
    sequence_options, ExprStyle,
};
use crate::ident::Ident;
use crate::model::{in_reading_order, Column, Identity, Index, SchemaModel, SchemaName, Table};
use crate::sql::Sql;

/// The whole schema.
pub fn schema_ddl(model: &SchemaModel, schema: &SchemaName) -> String {
    let mut out = String::new();
    for enum_type in model.enums.values() {
        let _ = writeln!(out, "{};\n", create_enum(enum_type).render(schema));
    }
    for sequence in model.sequences.values() {
        let sql = Sql::new()
            .text("CREATE SEQUENCE ")
            .qualified(&sequence.name)
            .text(sequence_options(sequence, true));
        let _ = writeln!(out, "{};\n", sql.render(schema));
    }
    for function in &model.functions {
        let _ = writeln!(out, "{};\n", function.definition.trim_end());
    }
    let by_table = model.indexes_by_table();
    for table in model.tables.values() {
        let indexes = by_table.get(&table.name).map_or(&[][..], Vec::as_slice);
        out.push_str(&table_ddl(table, indexes, schema));
        out.push('\n');
    }
    out
}

/// One table with its indexes, as a desired-state file writes it: names
/// relative to the schema, constraints named, expressions canonical.
pub fn table_file(table: &Table, indexes: &[&Index]) -> String {
    let mut out = format!("{};\n", table_sql(table).render_relative());
    for statement in after_create(table) {
        let _ = writeln!(out, "{};", statement.render_relative());
    }
    if !indexes.is_empty() {
        out.push('\n');
    }
    for index in indexes {
        let _ = writeln!(
            out,
            "{};",
            create_index(index, false, ExprStyle::Canonical).render_relative()
        );
    }
    if table.replica_identity.is_some() {
        let statement = replica_identity(&table.name, table.replica_identity.as_ref());
        let _ = writeln!(out, "{};", statement.render_relative());
    }
    if !table.triggers.is_empty() || !table.policies.is_empty() || !table.row_security.is_off() {
        out.push('\n');
    }
    for policy in &table.policies {
        let _ = writeln!(out, "{};", policy.sql);
    }
    if !table.row_security.is_off() {
        let _ = writeln!(
            out,
            "ALTER TABLE {} {};",
            table.name.quoted(),
            table.row_security.clauses()
        );
    }
    for trigger in &table.triggers {
        let _ = writeln!(out, "{};", trigger.sql);
        if !trigger.firing.is_default() {
            let _ = writeln!(
                out,
                "ALTER TABLE {} {} {};",
                table.name.quoted(),
                trigger.firing.clause(),
                trigger.name.quoted()
            );
        }
    }
    out
}

/// The functions and procedures of a schema, as PostgreSQL writes them
/// (own schema left out), as a desired-state file holds them.
pub fn functions_file(model: &SchemaModel) -> String {
    let mut out = String::new();
    for function in &model.functions {
        if !out.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(out, "{};", function.sql.trim_end());
    }
    out
}

/// The database's extensions, as public's desired-state files declare
/// them: by name, and schema when not public (any version will do).
/// The privileges `roles` hold in a schema, as GRANT and ALTER DEFAULT
/// PRIVILEGES statements written for `schema` (a tenant's files name the
/// template after a `CREATE SCHEMA` of it, as a dump of one tenant does:
/// that name stands for each tenant's schema). Empty when they hold none.
pub fn privileges_file(model: &SchemaModel, roles: &[Ident], schema: &SchemaName) -> String {
    use std::collections::BTreeMap;
    let mut by_object: BTreeMap<(&crate::model::GrantObject, &Ident, bool), Vec<String>> =
        BTreeMap::new();
    for grant in model
        .privileges
        .grants
        .iter()
        .filter(|g| roles.contains(&g.role) && !g.object.is_others_defaults())
    {
        by_object
            .entry((&grant.object, &grant.role, grant.grantable))
            .or_default()
            .push(grant.privilege.clone());
    }
    let mut out = String::new();
    // Defaults first: what the rest creates gets its grants from them.
    let (defaults, others): (Vec<_>, Vec<_>) =
        by_object.into_iter().partition(|((object, _, _), _)| {
            matches!(object, crate::model::GrantObject::Defaults { .. })
        });
    for ((object, role, grantable), privileges) in defaults.into_iter().chain(others) {
        let sql = crate::plan::privilege::grant(object, role, &privileges, grantable);
        let _ = writeln!(out, "{};", sql.render(schema));
    }
    out
}

/// The database's event triggers, as the catalog holds them (a firing other
/// than the default set after, as pg_dump writes it).
pub fn event_triggers_file(model: &SchemaModel) -> String {
    let mut out = String::new();
    for trigger in model.event_triggers.values() {
        let _ = writeln!(out, "{};", crate::definition::create_event_trigger(trigger));
        if !trigger.firing.is_default() {
            let _ = writeln!(
                out,
                "ALTER EVENT TRIGGER {} {};",
                trigger.name.quoted(),
                trigger.firing.keyword()
            );
        }
    }
    out
}

pub fn extensions_file(model: &SchemaModel) -> String {
    let mut out = String::new();
    for extension in model.extensions.values() {
        let _ = write!(out, "CREATE EXTENSION {}", extension.name.quoted());
        match &extension.schema {
            Some(schema) if schema.as_str() != "public" => {
                let _ = writeln!(out, " SCHEMA {};", schema.quoted());
            }
            _ => out.push_str(";\n"),
        }
    }
    out
}

/// The views of a schema, as PostgreSQL writes their queries (own schema
/// left out), the views they read first.
pub fn views_file(model: &SchemaModel) -> String {
    let mut out = String::new();
    let by_view = model.indexes_by_table();
    for view in in_reading_order(model.views.values().collect(), |v| Some(*v)) {
        if !out.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(out, "{};", view.sql.trim_end());
        // A materialized view's indexes right after it.
        for index in by_view.get(&view.name).into_iter().flatten() {
            let _ = writeln!(
                out,
                "{};",
                create_index(index, false, ExprStyle::Canonical).render_relative()
            );
        }
    }
    out
}

/// The enum and composite types of a schema, as a desired-state file
/// writes them (kschema orders what runs).
pub fn types_file(model: &SchemaModel) -> String {
    let mut out = String::new();
    for enum_type in model.enums.values() {
        let _ = writeln!(out, "{};", create_enum(enum_type).render_relative());
    }
    for composite in model.composites.values() {
        let _ = writeln!(
            out,
            "{};",
            crate::definition::create_composite(composite).render_relative()
        );
    }
    out
}

/// The domains of a schema, as the catalog holds them (a NOT VALID check
/// added after, as pg_dump writes it).
pub fn domains_file(model: &SchemaModel) -> String {
    let mut out = String::new();
    for domain in model.domains.values() {
        let _ = writeln!(out, "{};", create_domain(domain).render_relative());
        for check in domain.checks.iter().filter(|c| !c.validated) {
            let sql = Sql::new()
                .text("ALTER DOMAIN ")
                .qualified(&domain.name)
                .text(format!(
                    " ADD CONSTRAINT {} {} NOT VALID",
                    check.name.quoted(),
                    check.definition
                ));
            let _ = writeln!(out, "{};", sql.render_relative());
        }
    }
    out
}

/// The comments on a schema's objects that are not tables or columns
/// (those are in the tables' files).
pub fn comments_file(model: &SchemaModel) -> String {
    let mut out = String::new();
    for (object, text) in &model.comments {
        let sql = comment_on_object(object, Some(text));
        let _ = writeln!(out, "{};", sql.render_relative());
    }
    out
}

/// The sequences of a schema, as a desired-state file writes them.
pub fn sequences_file(model: &SchemaModel) -> String {
    let mut out = String::new();
    for sequence in model.sequences.values() {
        let sql = Sql::new()
            .text("CREATE SEQUENCE ")
            .qualified(&sequence.name)
            .text(sequence_options(sequence, true));
        let _ = writeln!(out, "{};", sql.render_relative());
    }
    out
}

fn table_sql(table: &Table) -> Sql {
    let validated: Vec<_> = table.constraints.iter().filter(|c| c.validated).collect();
    let listed = table.partition_of.is_none()
        || !table.partition_columns.is_empty()
        || !validated.is_empty();
    let mut sql = create_table_start(table, listed);
    let mut lines = 0;
    for column in &table.columns {
        let definition = match serial_with_options(&table.name, column) {
            // Its sequence and default follow, as pg_dump writes them.
            Some(_) => format!("{} {} NOT NULL", column.name.quoted(), column.data_type),
            None => column_definition(column, ExprStyle::Canonical),
        };
        sql = sql
            .text(if lines == 0 { "\n    " } else { ",\n    " })
            .text(definition);
        lines += 1;
    }
    for item in partition_column_items(table, ExprStyle::Canonical) {
        sql = sql
            .text(if lines == 0 { "\n    " } else { ",\n    " })
            .text(item);
        lines += 1;
    }
    for constraint in validated {
        sql = sql.text(if lines == 0 { "\n    " } else { ",\n    " });
        sql = constraint_sql(sql, constraint, true, ExprStyle::Canonical);
        lines += 1;
    }
    create_table_end(sql, table, listed)
}

/// What a `CREATE TABLE` cannot say, as the statements after it: `NOT
/// VALID` constraints, comments (`REPLICA IDENTITY` comes after the
/// indexes, one of which it may name).
fn after_create(table: &Table) -> Vec<Sql> {
    let mut statements = Vec::new();
    // A serial with options, a type or a name of its own: its sequence,
    // owner and default as pg_dump writes them (a file can declare them no
    // other way).
    for column in &table.columns {
        let Some(name) = serial_with_options(&table.name, column) else {
            continue;
        };
        statements.push(crate::definition::create_serial_sequence(name, column));
        statements.push(crate::definition::sequence_owned_by(
            name,
            &table.name,
            &column.name,
        ));
        statements.push(
            Sql::new()
                .text("ALTER TABLE ONLY ")
                .qualified(&table.name)
                .text(format!(
                    " ALTER COLUMN {} SET DEFAULT nextval(",
                    column.name.quoted()
                ))
                .qualified_literal(name)
                .text("::regclass)"),
        );
    }
    for constraint in table.constraints.iter().filter(|c| !c.validated) {
        let add = Sql::new()
            .text("ALTER TABLE ")
            .qualified(&table.name)
            .text(" ADD ");
        statements
            .push(constraint_sql(add, constraint, true, ExprStyle::Canonical).text(" NOT VALID"));
    }
    if let Some(comment) = &table.comment {
        statements.push(comment_on(&table.name, None, Some(comment)));
    }
    for column in &table.columns {
        if let Some(comment) = &column.comment {
            statements.push(comment_on(&table.name, Some(&column.name), Some(comment)));
        }
    }
    statements
}

/// A serial column's sequence, when it has options, a type or a name of
/// its own.
fn serial_with_options<'a>(table: &Ident, column: &'a Column) -> Option<&'a Ident> {
    match &column.identity {
        Some(Identity::Serial { sequence })
            if column.identity_options.is_some()
                || column.sequence_type.is_some()
                || crate::definition::serial_named_apart(table, column).is_some() =>
        {
            Some(sequence)
        }
        _ => None,
    }
}

/// One table with its indexes.
pub fn table_ddl(table: &Table, indexes: &[&Index], schema: &SchemaName) -> String {
    let mut out = format!("{};\n", table_sql(table).render(schema));
    for statement in after_create(table) {
        let _ = writeln!(out, "{};", statement.render(schema));
    }
    for index in indexes {
        let _ = writeln!(
            out,
            "{};",
            create_index(index, false, ExprStyle::Canonical).render(schema)
        );
    }
    if table.replica_identity.is_some() {
        let statement = replica_identity(&table.name, table.replica_identity.as_ref());
        let _ = writeln!(out, "{};", statement.render(schema));
    }
    for trigger in &table.triggers {
        let _ = writeln!(out, "{};", trigger.definition);
    }
    out
}
