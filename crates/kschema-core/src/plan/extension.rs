//! Statements for extensions.

use crate::ident::{quote_literal, Ident};
use crate::model::Extension;
use crate::sql::Sql;

/// `CREATE EXTENSION name [SCHEMA s] [VERSION 'v']`: not schema-qualified,
/// an extension is the database's.
pub(super) fn create_extension(extension: &Extension) -> Sql {
    let mut sql = Sql::new().text(format!("CREATE EXTENSION {}", extension.name.quoted()));
    if let Some(schema) = &extension.schema {
        sql = sql.text(format!(" SCHEMA {}", schema.quoted()));
    }
    if let Some(version) = &extension.version {
        sql = sql.text(format!(" VERSION {}", quote_literal(version)));
    }
    sql
}

pub(super) fn alter_extension(
    name: &Ident,
    version: &Option<String>,
    schema: &Option<Ident>,
) -> Vec<Sql> {
    let mut statements = Vec::new();
    if let Some(version) = version {
        statements.push(Sql::new().text(format!(
            "ALTER EXTENSION {} UPDATE TO {}",
            name.quoted(),
            quote_literal(version)
        )));
    }
    if let Some(schema) = schema {
        statements.push(Sql::new().text(format!(
            "ALTER EXTENSION {} SET SCHEMA {}",
            name.quoted(),
            schema.quoted()
        )));
    }
    statements
}

pub(super) fn drop_extension(extension: &Extension) -> Sql {
    Sql::new().text(format!("DROP EXTENSION {}", extension.name.quoted()))
}
