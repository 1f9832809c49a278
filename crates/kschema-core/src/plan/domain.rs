//! Statements for domains.

use super::composite::{by_attribute_name, holders_around};
use super::convert::{old_name, recreate_under_name, through_text, Host, Recreation, Using};
use crate::diff::{ConvertedColumn, DomainStep, ForeignColumns};
use crate::hazard::{Hazard, HazardKind};
use crate::ident::Ident;
use crate::model::{Attribute, ColumnType, Domain};
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
/// its text — over a composite type created again, attribute by attribute
/// by name — (a rewrite of its table), then the old one dropped — a value
/// the new domain refuses fails the conversion, and the target rolls back.
pub(super) fn recreate_domain(
    from: &Domain,
    to: &Domain,
    columns: &[ConvertedColumn],
    foreign: &[ForeignColumns],
    holders: &[(Ident, Attribute)],
    along: (Vec<Sql>, Vec<Hazard>),
    within: Option<Host>,
) -> (Vec<Sql>, Vec<Hazard>) {
    let why = match within {
        Some(base) => format!("built on {}, created again", base.name),
        None => "a new base type or collation: ALTER DOMAIN cannot change them".to_string(),
    };
    let recreated = Hazard::new(
        HazardKind::RecreatesObject,
        format!("drops domain {} and creates it again ({why})", to.name),
    );
    if columns.is_empty() && foreign.is_empty() && holders.is_empty() && along.0.is_empty() {
        return (vec![drop_domain(from), create_domain(to)], vec![recreated]);
    }
    // Over a composite type created again, its values are the composite's
    // and convert as its columns do: by attribute name (through their text
    // they would be read by position).
    let by_name = within.is_some_and(|base| base.composite);
    let of_array = ColumnType::parse(&to.base).is_array();
    let value = |column: &ConvertedColumn| match by_name {
        true => by_attribute_name(column, &to.name, of_array),
        false => through_text(column, &to.name),
    };
    let (statements, mut hazards) = recreate_under_name(Recreation {
        name: &from.name,
        keyword: "DOMAIN",
        // Its checks' names leave with it: PostgreSQL names a domain's
        // checks uniquely in the schema, and the new one's would get a
        // number.
        before: from
            .checks
            .iter()
            .map(|check| {
                let away = Ident::new(old_name(&check.name));
                alter(
                    &from.name,
                    &format!(
                        "RENAME CONSTRAINT {} TO {}",
                        check.name.quoted(),
                        away.quoted()
                    ),
                )
            })
            .collect(),
        create: create_domain(to),
        columns,
        foreign,
        holders,
        around: match by_name {
            true => holders_around(columns, foreign, &to.name, of_array),
            false => (Vec::new(), Vec::new()),
        },
        using: Using {
            value: &value,
            how: match by_name {
                true => ", attribute by attribute by name",
                false => "",
            },
        },
        fails_if: "a value the new domain refuses",
        along,
    });
    hazards.insert(0, recreated);
    (statements, hazards)
}
