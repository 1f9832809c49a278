//! Statements for domains.

use crate::diff::DomainStep;
use crate::hazard::{Hazard, HazardKind};
use crate::ident::Ident;
use crate::model::Domain;
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
