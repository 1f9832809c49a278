//! Statements for domains.

use super::convert::{
    convert_all, drop_foreign_readers, old_name, through_text, turn_holders, Using,
};
use crate::diff::{ConvertedColumn, DomainStep, ForeignColumns};
use crate::hazard::{Hazard, HazardKind};
use crate::ident::Ident;
use crate::model::{Attribute, Domain};
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

/// The `ALTER DOMAIN` statements, one per step; what reads every column
/// of the domain is a hazard.
pub(super) fn alter_domain(name: &Ident, steps: &[DomainStep]) -> (Vec<Sql>, Vec<Hazard>) {
    let mut statements = Vec::new();
    let mut hazards = Vec::new();
    let scans = |what: String| {
        Hazard::new(
            HazardKind::ValidatesConstraint,
            format!("{what}: reads every column of domain {name}, in every table"),
        )
    };
    for step in steps {
        let what = match step {
            DomainStep::DropCheck(check) => format!("DROP CONSTRAINT {}", check.name.quoted()),
            DomainStep::SetDefault(expr) => format!("SET DEFAULT {expr}"),
            DomainStep::DropDefault => "DROP DEFAULT".into(),
            DomainStep::SetNotNull => {
                hazards.push(scans("SET NOT NULL".into()));
                "SET NOT NULL".into()
            }
            DomainStep::DropNotNull => "DROP NOT NULL".into(),
            DomainStep::AddCheck(check) => {
                hazards.push(scans(format!("adds check {}", check.name)));
                format!(
                    "ADD CONSTRAINT {} {}",
                    check.name.quoted(),
                    check.definition
                )
            }
            DomainStep::ValidateCheck(check) => {
                hazards.push(scans(format!("validates check {}", check.name)));
                format!("VALIDATE CONSTRAINT {}", check.name.quoted())
            }
        };
        statements.push(alter(name, &what));
    }
    (statements, hazards)
}

/// A domain on a new base type or collation. Without columns of it:
/// dropped and created again. With some: created again under its name
/// once the old one is renamed away, each column converted to it through
/// its text (a rewrite of its table), then the old one dropped — a value
/// the new domain refuses fails the conversion, and the target rolls back.
pub(super) fn recreate_domain(
    from: &Domain,
    to: &Domain,
    columns: &[ConvertedColumn],
    foreign: &[ForeignColumns],
    holders: &[(Ident, Attribute)],
) -> (Vec<Sql>, Vec<Hazard>) {
    let recreated = Hazard::new(
        HazardKind::RecreatesObject,
        format!(
            "drops domain {} and creates it again (a new base type or collation: ALTER DOMAIN cannot change them)",
            to.name
        ),
    );
    if columns.is_empty() && foreign.is_empty() && holders.is_empty() {
        return (vec![drop_domain(from), create_domain(to)], vec![recreated]);
    }
    let old = Ident::new(old_name(&from.name));
    let mut statements = drop_foreign_readers(foreign);
    // Its checks' names leave with it: PostgreSQL names a domain's checks
    // uniquely in the schema, and the new one's would get a number.
    statements.extend(from.checks.iter().map(|check| {
        let away = Ident::new(old_name(&check.name));
        alter(
            &from.name,
            &format!(
                "RENAME CONSTRAINT {} TO {}",
                check.name.quoted(),
                away.quoted()
            ),
        )
    }));
    statements.push(alter(&from.name, &format!("RENAME TO {}", old.quoted())));
    statements.push(create_domain(to));
    statements.extend(turn_holders(holders));
    let mut hazards = vec![recreated];
    let fails_if = "a value the new domain refuses";
    let value = |column: &ConvertedColumn| through_text(column, &to.name);
    let using = Using {
        value: &value,
        how: "",
    };
    let (converted, conversion_hazards) = convert_all(columns, foreign, &to.name, fails_if, &using);
    statements.extend(converted);
    hazards.extend(conversion_hazards);
    statements.push(Sql::new().text("DROP DOMAIN ").qualified(&old));
    (statements, hazards)
}
