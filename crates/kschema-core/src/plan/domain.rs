//! Statements for domains.

use crate::hazard::{Hazard, HazardKind};
use crate::ident::Ident;
use crate::model::{Domain, DomainCheck};
use crate::sql::Sql;

/// As the files write it (on the files' search path).
pub(super) fn create_domain(domain: &Domain) -> Sql {
    Sql::new().text(&domain.sql)
}

pub(super) fn drop_domain(domain: &Domain) -> Sql {
    Sql::new().text("DROP DOMAIN ").qualified(&domain.name)
}

fn alter(name: &Ident, what: &str) -> Sql {
    Sql::new()
        .text("ALTER DOMAIN ")
        .qualified(name)
        .text(format!(" {what}"))
}

/// The `ALTER DOMAIN` statements, checks dropped before the new ones are
/// added; what reads every column of the domain is a hazard.
pub(super) fn alter_domain(
    name: &Ident,
    default: &Option<Option<String>>,
    not_null: Option<bool>,
    drop_checks: &[DomainCheck],
    add_checks: &[DomainCheck],
    validate_checks: &[DomainCheck],
) -> (Vec<Sql>, Vec<Hazard>) {
    let mut statements = Vec::new();
    let mut hazards = Vec::new();
    let scans = |what: String| {
        Hazard::new(
            HazardKind::ValidatesConstraint,
            format!("{what}: reads every column of domain {name}, in every table"),
        )
    };
    for check in drop_checks {
        statements.push(alter(
            name,
            &format!("DROP CONSTRAINT {}", check.name.quoted()),
        ));
    }
    match default {
        Some(Some(expr)) => statements.push(alter(name, &format!("SET DEFAULT {expr}"))),
        Some(None) => statements.push(alter(name, "DROP DEFAULT")),
        None => {}
    }
    match not_null {
        Some(true) => {
            statements.push(alter(name, "SET NOT NULL"));
            hazards.push(scans("SET NOT NULL".into()));
        }
        Some(false) => statements.push(alter(name, "DROP NOT NULL")),
        None => {}
    }
    for check in add_checks {
        statements.push(alter(
            name,
            &format!(
                "ADD CONSTRAINT {} {}",
                check.name.quoted(),
                check.definition
            ),
        ));
        hazards.push(scans(format!("adds check {}", check.name)));
    }
    for check in validate_checks {
        statements.push(alter(
            name,
            &format!("VALIDATE CONSTRAINT {}", check.name.quoted()),
        ));
        hazards.push(scans(format!("validates check {}", check.name)));
    }
    (statements, hazards)
}

pub(super) fn recreate_domain(from: &Domain, to: &Domain) -> (Vec<Sql>, Vec<Hazard>) {
    (
        vec![drop_domain(from), create_domain(to)],
        vec![Hazard::new(
            HazardKind::RecreatesObject,
            format!(
                "drops domain {} and creates it again (a new base type or collation: ALTER DOMAIN cannot change them); a column of the domain makes the drop fail and the target roll back",
                to.name
            ),
        )],
    )
}
