//! Model objects as SQL definitions: `CREATE TABLE`, column definitions,
//! constraints, `CREATE INDEX`, sequence options. Plans use them with the
//! author's expressions; schema dumps (reviews, `inspect`) with the
//! canonical ones, so equal schemas print equal text.

use crate::ident::Ident;
use crate::model::{
    Column, Commented, Constraint, ConstraintKind, ForeignKey, Identity, Index, IndexExpr,
    ReferentialAction, ReplicaIdentity, SchemaRef, SqlExpr, Table,
};
use crate::sql::Sql;

mod sequence;

pub use sequence::*;

/// Which text of an expression to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExprStyle {
    /// As the author wrote it (desired) or PostgreSQL printed it (live).
    Authored,
    /// The normalized form both sides agree on.
    Canonical,
}

impl ExprStyle {
    pub fn of(self, expr: &SqlExpr) -> &str {
        match self {
            ExprStyle::Authored => &expr.sql,
            ExprStyle::Canonical => &expr.canonical,
        }
    }
}

/// `CREATE [UNLOGGED] TABLE name (`: what every rendering of a table
/// starts with. `listed`: a list of columns or constraints follows (a
/// partition has one only for what it sets itself).
pub fn create_table_start(table: &Table, listed: bool) -> Sql {
    let sql = Sql::new()
        .text(if table.unlogged {
            "CREATE UNLOGGED TABLE "
        } else {
            "CREATE TABLE "
        })
        .qualified(&table.name);
    match &table.partition_of {
        // A partition's columns are its parent's: a list only for
        // constraints of its own.
        Some(of) => {
            let sql = sql.text(" PARTITION OF ").qualified(&of.parent);
            if listed {
                sql.text(" (")
            } else {
                sql
            }
        }
        None => sql.text(" ("),
    }
}

/// `)`, a partition's bound, the partition key, the storage parameters and
/// the tablespace: what every rendering of a table ends with.
pub fn create_table_end(sql: Sql, table: &Table, listed: bool) -> Sql {
    let mut sql = match &table.partition_of {
        Some(of) if !listed => sql.text(format!(" {}", of.bound.sql)),
        Some(of) => sql.text(format!("\n) {}", of.bound.sql)),
        None => sql.text("\n)"),
    };
    if let Some(key) = &table.partition_key {
        sql = sql.text(format!(" PARTITION BY {}", key.sql));
    }
    if !table.options.is_empty() {
        sql = sql.text(format!(
            " WITH ({})",
            storage_parameter_list(&table.options)
        ));
    }
    sql.text(tablespace_clause(table.tablespace.as_ref()))
}

/// ` TABLESPACE fast`, or nothing for the database's default.
pub fn tablespace_clause(tablespace: Option<&Ident>) -> String {
    tablespace
        .map(|name| format!(" TABLESPACE {}", name.quoted()))
        .unwrap_or_default()
}

/// `COMMENT ON TABLE t` (no column) or `COLUMN t.c`, `IS '…'` or `IS NULL`.
pub fn comment_on(table: &Ident, column: Option<&Ident>, comment: Option<&str>) -> Sql {
    let target = match column {
        None => Sql::new().text("COMMENT ON TABLE ").qualified(table),
        Some(column) => Sql::new()
            .text("COMMENT ON COLUMN ")
            .qualified(table)
            .text(format!(".{}", column.quoted())),
    };
    let text = comment.map_or("NULL".to_string(), crate::ident::quote_literal);
    target.text(format!(" IS {text}"))
}

/// `COMMENT ON INDEX org_x.i IS '…'`, `… ON TRIGGER t ON org_x.tbl …`;
/// `None` is `IS NULL`, which removes it.
pub fn comment_on_object(object: &Commented, comment: Option<&str>) -> Sql {
    let target = match object {
        Commented::Index { name } => Sql::new().text("COMMENT ON INDEX ").qualified(name),
        Commented::Sequence { name } => Sql::new().text("COMMENT ON SEQUENCE ").qualified(name),
        Commented::View { name } => Sql::new().text("COMMENT ON VIEW ").qualified(name),
        Commented::MaterializedView { name } => Sql::new()
            .text("COMMENT ON MATERIALIZED VIEW ")
            .qualified(name),
        Commented::ViewColumn { view, column } => Sql::new()
            .text("COMMENT ON COLUMN ")
            .qualified(view)
            .text(format!(".{}", column.quoted())),
        Commented::TypeAttribute {
            type_name,
            attribute,
        } => Sql::new()
            .text("COMMENT ON COLUMN ")
            .qualified(type_name)
            .text(format!(".{}", attribute.quoted())),
        Commented::Type { name } => Sql::new().text("COMMENT ON TYPE ").qualified(name),
        Commented::Domain { name } => Sql::new().text("COMMENT ON DOMAIN ").qualified(name),
        Commented::Function {
            name,
            arguments,
            procedure,
        } => Sql::new()
            .text(if *procedure {
                "COMMENT ON PROCEDURE "
            } else {
                "COMMENT ON FUNCTION "
            })
            .qualified(name)
            .text(format!("({arguments})")),
        Commented::Constraint { table, name } => Sql::new()
            .text(format!("COMMENT ON CONSTRAINT {} ON ", name.quoted()))
            .qualified(table),
        Commented::Trigger { table, name } => Sql::new()
            .text(format!("COMMENT ON TRIGGER {} ON ", name.quoted()))
            .qualified(table),
        Commented::Policy { table, name } => Sql::new()
            .text(format!("COMMENT ON POLICY {} ON ", name.quoted()))
            .qualified(table),
        Commented::EventTrigger { name } => {
            Sql::new().text(format!("COMMENT ON EVENT TRIGGER {}", name.quoted()))
        }
        Commented::Extension { name } => {
            Sql::new().text(format!("COMMENT ON EXTENSION {}", name.quoted()))
        }
    };
    target.text(format!(
        " IS {}",
        comment.map_or("NULL".to_string(), crate::ident::quote_literal)
    ))
}

/// `CREATE DOMAIN s.d AS base [COLLATE c] [DEFAULT e] [NOT NULL] [CONSTRAINT
/// n CHECK (…) [NOT VALID]] …`: a domain as the catalog holds it (a NOT
/// VALID check is added after, as pg_dump does: CREATE cannot say it).
pub fn create_domain(domain: &crate::model::Domain) -> Sql {
    let mut sql = Sql::new()
        .text("CREATE DOMAIN ")
        .qualified(&domain.name)
        .text(format!(" AS {}", domain.base));
    if let Some(collation) = &domain.collation {
        sql = sql.text(format!(" COLLATE {collation}"));
    }
    if let Some(default) = &domain.default {
        sql = sql.text(format!(" DEFAULT {default}"));
    }
    if domain.not_null {
        sql = sql.text(" NOT NULL");
    }
    for check in domain.checks.iter().filter(|c| c.validated) {
        sql = sql.text(format!(
            " CONSTRAINT {} {}",
            check.name.quoted(),
            check.definition
        ));
    }
    sql
}

/// `CREATE TYPE s.t AS (a integer, b text COLLATE "C")`: a composite type
/// as the catalog holds it.
pub fn create_composite(composite: &crate::model::CompositeType) -> Sql {
    let attributes: Vec<String> = composite
        .attributes
        .iter()
        .map(|a| a.definition())
        .collect();
    Sql::new()
        .text("CREATE TYPE ")
        .qualified(&composite.name)
        .text(format!(" AS ({})", attributes.join(", ")))
}

/// `CREATE EVENT TRIGGER e ON event [WHEN TAG IN ('…')] EXECUTE FUNCTION
/// f()`: an event trigger as the catalog holds it (its firing is set
/// apart).
pub fn create_event_trigger(trigger: &crate::model::EventTrigger) -> String {
    let when = match trigger.tags.is_empty() {
        true => String::new(),
        false => format!(
            " WHEN TAG IN ({})",
            trigger
                .tags
                .iter()
                .map(|t| crate::ident::quote_literal(t))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    format!(
        "CREATE EVENT TRIGGER {} ON {}{when} EXECUTE FUNCTION {}()",
        trigger.name.quoted(),
        trigger.event,
        trigger.function
    )
}

/// `ALTER TABLE t REPLICA IDENTITY FULL | NOTHING | DEFAULT | USING INDEX i`.
pub fn replica_identity(table: &Ident, identity: Option<&ReplicaIdentity>) -> Sql {
    Sql::new()
        .text("ALTER TABLE ")
        .qualified(table)
        .text(format!(
            " REPLICA IDENTITY {}",
            ReplicaIdentity::sql(identity)
        ))
}

/// `CREATE TABLE` with its columns and constraints inline.
pub fn create_table(table: &Table, style: ExprStyle) -> Sql {
    let listed = table.partition_of.is_none()
        || !table.partition_columns.is_empty()
        || !table.constraints.is_empty();
    let mut sql = create_table_start(table, listed);
    let mut first = true;
    for column in &table.columns {
        sql = sql.text(if first { "\n    " } else { ",\n    " });
        sql = match serial_named_apart(&table.name, column) {
            Some(sequence) => serial_apart_definition(sql, column, sequence),
            None => sql.text(column_definition(column, style)),
        };
        first = false;
    }
    for item in partition_column_items(table, style) {
        sql = sql
            .text(if first { "\n    " } else { ",\n    " })
            .text(item);
        first = false;
    }
    // Primary key first, then unique, check and foreign keys, as people write them.
    let mut constraints: Vec<&Constraint> = table.constraints.iter().collect();
    constraints.sort_by_key(|c| match c.kind {
        ConstraintKind::PrimaryKey { .. } => 0,
        ConstraintKind::Unique { .. } => 1,
        ConstraintKind::Check { .. } => 2,
        ConstraintKind::Exclusion { .. } => 3,
        ConstraintKind::ForeignKey(_) => 4,
    });
    for constraint in constraints {
        sql = sql.text(if first { "\n    " } else { ",\n    " });
        sql = constraint_sql(sql, constraint, !constraint.implicit_name, style);
        first = false;
    }
    create_table_end(sql, table, listed)
}

/// A partition's `c DEFAULT 0 NOT NULL`, one per column it sets itself.
pub fn partition_column_items(table: &Table, style: ExprStyle) -> Vec<String> {
    table
        .partition_columns
        .iter()
        .map(|column| {
            let mut item = column.name.quoted().to_string();
            if let Some(default) = &column.default {
                item.push_str(&format!(" DEFAULT {}", style.of(default)));
            }
            if column.not_null {
                item.push_str(" NOT NULL");
            }
            item
        })
        .collect()
}

/// `name type [COLLATE c] [GENERATED …] [DEFAULT …] [NOT NULL]`
pub fn column_definition(column: &Column, style: ExprStyle) -> String {
    let data_type = match (&column.identity, column.data_type.is_integer()) {
        (Some(Identity::Serial { .. }), true) => match column.data_type.name() {
            "integer" => "serial".to_string(),
            "bigint" => "bigserial".to_string(),
            _ => "smallserial".to_string(),
        },
        _ => column.data_type.to_string(),
    };
    let mut text = format!("{} {data_type}", column.name.quoted());
    if let Some(collation) = &column.collation {
        text.push_str(&format!(" COLLATE {}", collation.quoted()));
    }
    match column.identity {
        Some(Identity::Always) => text.push_str(" GENERATED ALWAYS AS IDENTITY"),
        Some(Identity::ByDefault) => text.push_str(" GENERATED BY DEFAULT AS IDENTITY"),
        _ => {}
    }
    if column.is_identity() {
        text.push_str(&column.identity_options_sql());
    }
    if let Some(default) = &column.default {
        text.push_str(&format!(" DEFAULT {}", style.of(default)));
    }
    if let Some(generated) = &column.generated {
        text.push_str(&format!(
            " GENERATED ALWAYS AS ({}) STORED",
            style.of(generated)
        ));
    }
    if column.not_null {
        text.push_str(" NOT NULL");
    }
    text
}

/// Appends a constraint's definition (`[CONSTRAINT name] PRIMARY KEY (…)`).
pub fn constraint_sql(mut sql: Sql, constraint: &Constraint, named: bool, style: ExprStyle) -> Sql {
    if named {
        sql = sql.text(format!("CONSTRAINT {} ", constraint.name.quoted()));
    }
    match &constraint.kind {
        ConstraintKind::PrimaryKey {
            columns,
            include,
            deferrable,
        } => sql.text(format!(
            "PRIMARY KEY ({}){}{}{}",
            column_list(columns),
            include_clause(include),
            with_clause(&constraint.options),
            deferrable.sql()
        )),
        ConstraintKind::Unique {
            columns,
            include,
            nulls_not_distinct,
            deferrable,
        } => sql.text(format!(
            "UNIQUE {}({}){}{}{}",
            if *nulls_not_distinct {
                "NULLS NOT DISTINCT "
            } else {
                ""
            },
            column_list(columns),
            include_clause(include),
            with_clause(&constraint.options),
            deferrable.sql()
        )),
        ConstraintKind::Check { expr, no_inherit } => sql.text(format!(
            "CHECK ({}){}",
            style.of(expr),
            if *no_inherit { " NO INHERIT" } else { "" }
        )),
        ConstraintKind::ForeignKey(fk) => foreign_key_sql(sql, fk),
        ConstraintKind::Exclusion { definition } => sql.text(style.of(definition)),
    }
}

fn foreign_key_sql(sql: Sql, fk: &ForeignKey) -> Sql {
    let sql = sql.text(format!(
        "FOREIGN KEY ({}) REFERENCES ",
        column_list(&fk.columns)
    ));
    let sql = match &fk.references.schema {
        SchemaRef::Own => sql.qualified(&fk.references.table),
        SchemaRef::Named(schema) => sql.text(format!(
            "{}.{}",
            schema.ident().quoted(),
            fk.references.table.quoted()
        )),
    };
    let mut tail = format!(" ({})", column_list(&fk.referenced_columns));
    if fk.match_full {
        tail.push_str(" MATCH FULL");
    }
    if fk.on_delete != ReferentialAction::NoAction {
        tail.push_str(&format!(" ON DELETE {}", fk.on_delete.sql()));
    }
    if fk.on_update != ReferentialAction::NoAction {
        tail.push_str(&format!(" ON UPDATE {}", fk.on_update.sql()));
    }
    tail.push_str(fk.deferrable.sql());
    sql.text(tail)
}

pub fn create_index(index: &Index, concurrently: bool, style: ExprStyle) -> Sql {
    create_index_on(index, concurrently, false, style)
}

/// `CREATE INDEX … ON ONLY t …` (`only`): a partitioned table's index
/// without its partitions', invalid until each partition's is attached.
pub fn create_index_on(index: &Index, concurrently: bool, only: bool, style: ExprStyle) -> Sql {
    let mut head = String::from("CREATE ");
    if index.unique {
        head.push_str("UNIQUE ");
    }
    head.push_str("INDEX ");
    if concurrently {
        head.push_str("CONCURRENTLY ");
    }
    head.push_str(&format!("{} ON ", index.name.quoted()));
    if only {
        head.push_str("ONLY ");
    }
    let keys: Vec<String> = index
        .keys
        .iter()
        .map(|key| {
            let mut text = match &key.expr {
                IndexExpr::Column(column) => column.quoted().to_string(),
                IndexExpr::Expression(expr) => format!("({})", style.of(expr)),
            };
            if let Some(collation) = &key.collation {
                text.push_str(&format!(" COLLATE {}", collation.quoted()));
            }
            if let Some(opclass) = &key.opclass {
                text.push_str(&format!(" {}", opclass.quoted()));
            }
            if key.descending {
                text.push_str(" DESC");
            }
            // Only the non-default null ordering is written.
            if key.nulls_first != key.descending {
                text.push_str(if key.nulls_first {
                    " NULLS FIRST"
                } else {
                    " NULLS LAST"
                });
            }
            text
        })
        .collect();
    let mut tail = String::new();
    if index.method.as_str() != "btree" {
        tail.push_str(&format!(" USING {}", index.method.quoted()));
    }
    tail.push_str(&format!(" ({})", keys.join(", ")));
    if !index.include.is_empty() {
        tail.push_str(&format!(" INCLUDE ({})", column_list(&index.include)));
    }
    if index.nulls_not_distinct {
        tail.push_str(" NULLS NOT DISTINCT");
    }
    if !index.options.is_empty() {
        tail.push_str(&format!(
            " WITH ({})",
            storage_parameter_list(&index.options)
        ));
    }
    tail.push_str(&tablespace_clause(index.tablespace.as_ref()));
    if let Some(predicate) = &index.predicate {
        tail.push_str(&format!(" WHERE {}", style.of(predicate)));
    }
    Sql::new().text(head).qualified(&index.table).text(tail)
}

/// `fillfactor = 70, autovacuum_enabled = false`: each value quoted as a
/// literal (PostgreSQL accepts every storage parameter so).
pub fn storage_parameter_list(options: &[(String, String)]) -> String {
    options
        .iter()
        .map(|(name, value)| format!("{name} = {}", crate::ident::quote_literal(value)))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn column_list(columns: &[Ident]) -> String {
    columns
        .iter()
        .map(|c| c.quoted().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `CREATE TYPE … AS ENUM (…)`.
pub fn create_enum(enum_type: &crate::model::EnumType) -> Sql {
    let labels: Vec<String> = enum_type
        .labels
        .iter()
        .map(|l| crate::ident::quote_literal(l))
        .collect();
    Sql::new()
        .text("CREATE TYPE ")
        .qualified(&enum_type.name)
        .text(format!(" AS ENUM ({})", labels.join(", ")))
}

/// ` WITH (fillfactor = '70')`, or nothing.
fn with_clause(options: &[(String, String)]) -> String {
    if options.is_empty() {
        String::new()
    } else {
        format!(" WITH ({})", storage_parameter_list(options))
    }
}

/// ` INCLUDE (a, b)`, or nothing.
fn include_clause(include: &[Ident]) -> String {
    if include.is_empty() {
        String::new()
    } else {
        format!(" INCLUDE ({})", column_list(include))
    }
}
