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
    }
}

fn role(role: &Ident) -> String {
    if role.as_str() == "PUBLIC" {
        "PUBLIC".into()
    } else {
        role.quoted().to_string()
    }
}

pub(super) fn grant(
    object: &GrantObject,
    to: &Ident,
    privileges: &[String],
    grantable: bool,
) -> Sql {
    Sql::new()
        .text("GRANT ")
        .append(target(privileges, object))
        .text(format!(
            " TO {}{}",
            role(to),
            if grantable { " WITH GRANT OPTION" } else { "" }
        ))
}

pub(super) fn revoke(object: &GrantObject, from: &Ident, privileges: &[String]) -> Sql {
    Sql::new()
        .text("REVOKE ")
        .append(target(privileges, object))
        .text(format!(" FROM {}", role(from)))
}
