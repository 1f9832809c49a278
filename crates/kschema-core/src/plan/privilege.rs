//! `GRANT` and `REVOKE` statements for the managed roles' privileges.

use crate::ident::Ident;
use crate::model::GrantObject;
use crate::sql::Sql;

/// `ON TABLE org_x.t`, `(c) ON TABLE org_x.t`, `ON FUNCTION org_x.f(integer)`,
/// `ON SCHEMA org_x`: the privileges go before a column's list.
fn target(privileges: &[String], object: &GrantObject) -> Sql {
    let list = privileges.join(", ");
    match object {
        GrantObject::Schema => Sql::new().text(format!("{list} ON SCHEMA ")).schema(),
        GrantObject::Table { name } => Sql::new().text(format!("{list} ON TABLE ")).qualified(name),
        GrantObject::Sequence { name } => Sql::new()
            .text(format!("{list} ON SEQUENCE "))
            .qualified(name),
        GrantObject::Column { table, column } => {
            let each: Vec<String> = privileges
                .iter()
                .map(|p| format!("{p} ({})", column.quoted()))
                .collect();
            Sql::new()
                .text(format!("{} ON TABLE ", each.join(", ")))
                .qualified(table)
        }
        GrantObject::Function {
            name,
            arguments,
            procedure,
        } => Sql::new()
            .text(format!(
                "{list} ON {} ",
                if *procedure { "PROCEDURE" } else { "FUNCTION" }
            ))
            .qualified(name)
            .text(format!("({arguments})")),
        GrantObject::Defaults { objects, .. } => {
            Sql::new().text(format!("{list} ON {}", objects.keyword()))
        }
    }
}

fn role(role: &Ident) -> String {
    if role.as_str() == "PUBLIC" {
        "PUBLIC".into()
    } else {
        role.quoted().to_string()
    }
}

/// `ALTER DEFAULT PRIVILEGES [FOR ROLE o] [IN SCHEMA s] `, for default
/// privileges.
fn defaults_prefix(object: &GrantObject) -> Option<Sql> {
    let GrantObject::Defaults { owner, global, .. } = object else {
        return None;
    };
    let mut sql = Sql::new().text("ALTER DEFAULT PRIVILEGES ");
    if let Some(owner) = owner {
        sql = sql.text(format!("FOR ROLE {} ", owner.quoted()));
    }
    if !global {
        sql = sql.text("IN SCHEMA ").schema().text(" ");
    }
    Some(sql)
}

pub(crate) fn grant(
    object: &GrantObject,
    to: &Ident,
    privileges: &[String],
    grantable: bool,
) -> Sql {
    defaults_prefix(object)
        .unwrap_or_default()
        .text("GRANT ")
        .append(target(privileges, object))
        .text(format!(
            " TO {}{}",
            role(to),
            if grantable { " WITH GRANT OPTION" } else { "" }
        ))
}

pub(super) fn revoke(object: &GrantObject, from: &Ident, privileges: &[String]) -> Sql {
    defaults_prefix(object)
        .unwrap_or_default()
        .text("REVOKE ")
        .append(target(privileges, object))
        .text(format!(" FROM {}", role(from)))
}
