//! Statements for composite types.

use super::convert::{recreate_under_name, Host, Recreation, Using};
use crate::diff::{AttributeStep, ConvertedColumn, ForeignColumns};
use crate::hazard::{Hazard, HazardKind};
use crate::ident::Ident;
use crate::model::{Attribute, CompositeType};
use crate::sql::Sql;

pub(super) fn create_composite(composite: &CompositeType) -> Sql {
    Sql::new().text(composite.sql.trim_end().trim_end_matches(';'))
}

pub(super) fn drop_composite(composite: &CompositeType) -> Sql {
    Sql::new().text("DROP TYPE ").qualified(&composite.name)
}

/// One `ALTER TYPE` per attribute step; dropping an attribute a column's
/// values hold loses it.
pub(super) fn alter_composite(
    name: &Ident,
    steps: &[AttributeStep],
    in_use: bool,
) -> (Vec<Sql>, Vec<Hazard>) {
    let alter = || Sql::new().text("ALTER TYPE ").qualified(name);
    let mut hazards = Vec::new();
    let statements = steps
        .iter()
        .map(|step| match step {
            AttributeStep::Drop { name: attribute } => {
                if in_use {
                    hazards.push(Hazard::new(
                        HazardKind::DeletesData,
                        format!(
                            "drops attribute {attribute} of type {name}: the columns of the type lose its values"
                        ),
                    ));
                }
                alter().text(format!(" DROP ATTRIBUTE {}", attribute.quoted()))
            }
            AttributeStep::Alter { to } => {
                let collate = to
                    .collation
                    .as_ref()
                    .map(|c| format!(" COLLATE {c}"))
                    .unwrap_or_default();
                alter().text(format!(
                    " ALTER ATTRIBUTE {} TYPE {}{collate}",
                    to.name.quoted(),
                    to.data_type
                ))
            }
            AttributeStep::Add { attribute } => {
                alter().text(format!(" ADD ATTRIBUTE {}", attribute.definition()))
            }
        })
        .collect();
    (statements, hazards)
}

/// Temporary types of one attribute, `v`: of an array of the type created
/// again, and of the type itself (a domain over an array of a composite
/// type). `jsonb_populate_record` builds an array only as a record's
/// attribute, and `ALTER … USING` takes no subquery to build it otherwise.
const ARRAY_HOLDER: &str = "pg_temp.kschema_composite_array";
const VALUE_HOLDER: &str = "pg_temp.kschema_composite_value";

/// A column's value (of the old type) as the new `to` — a composite type,
/// or a domain over one or (`of_array`) over an array of one: attribute
/// by attribute, by name, through its JSON form (`to_jsonb`, then
/// `jsonb_populate_record`) — an attribute the old type lacks is NULL, one
/// retyped is read from its JSON as the new type; an array keeps its
/// dimensions and NULL elements. A NULL value stays NULL (`IS NULL` would
/// also take a value whose attributes are all NULL).
pub(super) fn by_attribute_name(column: &ConvertedColumn, to: &Ident, of_array: bool) -> Sql {
    let value = column.column.quoted();
    let holder = match (column.array, of_array) {
        (true, _) => ARRAY_HOLDER,
        (false, true) => VALUE_HOLDER,
        (false, false) => {
            return Sql::new()
                .text(format!(
                    "CASE WHEN {value}::text IS NULL THEN NULL ELSE jsonb_populate_record(NULL::"
                ))
                .qualified(to)
                .text(format!(", to_jsonb({value})) END"))
        }
    };
    Sql::new().text(format!(
        "CASE WHEN {value} IS NULL THEN NULL ELSE (jsonb_populate_record(NULL::{holder}, jsonb_build_object('v', to_jsonb({value})))).v END"
    ))
}

/// The holder types [`by_attribute_name`] reads `columns` through, made
/// before their conversions and dropped after.
pub(super) fn holders_around(
    columns: &[ConvertedColumn],
    foreign: &[ForeignColumns],
    to: &Ident,
    of_array: bool,
) -> (Vec<Sql>, Vec<Sql>) {
    let all: Vec<&ConvertedColumn> = columns
        .iter()
        .chain(foreign.iter().flat_map(|other| &other.columns))
        .collect();
    let mut around = (Vec::new(), Vec::new());
    let needed = [
        (ARRAY_HOLDER, "[]", all.iter().any(|c| c.array)),
        (VALUE_HOLDER, "", of_array && all.iter().any(|c| !c.array)),
    ];
    for (holder, suffix, _) in needed.into_iter().filter(|(_, _, needed)| *needed) {
        around.0.push(
            Sql::new()
                .text(format!("CREATE TYPE {holder} AS (v "))
                .qualified(to)
                .text(format!("{suffix})")),
        );
        around
            .1
            .push(Sql::new().text(format!("DROP TYPE {holder}")));
    }
    around
}

/// A composite type created again. Without columns of it, nor types with
/// an attribute of it: dropped and created again. Otherwise created again
/// under its name once the old one is renamed away; the other types'
/// attributes turned to it; each column — its schema's, and the tenants'
/// of a shared type — rebuilt from the old values by attribute name
/// (`by_attribute_name`); the old one dropped.
pub(super) fn recreate_composite(
    from: &CompositeType,
    to: &CompositeType,
    columns: &[ConvertedColumn],
    foreign: &[ForeignColumns],
    holders: &[(Ident, Attribute)],
    along: (Vec<Sql>, Vec<Hazard>),
    within: Option<Host>,
) -> (Vec<Sql>, Vec<Hazard>) {
    let why = match within {
        Some(held) => format!("it holds {}, created again", held.name),
        None => {
            "attributes reordered, or retyped while a column uses it: ALTER TYPE cannot".to_string()
        }
    };
    let recreated = Hazard::new(
        HazardKind::RecreatesObject,
        format!("drops type {} and creates it again ({why})", to.name),
    );
    if columns.is_empty() && foreign.is_empty() && holders.is_empty() && along.0.is_empty() {
        return (
            vec![drop_composite(from), create_composite(to)],
            vec![recreated],
        );
    }
    let around = holders_around(columns, foreign, &to.name, false);
    let value = |column: &ConvertedColumn| by_attribute_name(column, &to.name, false);
    let (statements, mut hazards) = recreate_under_name(Recreation {
        name: &from.name,
        keyword: "TYPE",
        before: Vec::new(),
        create: create_composite(to),
        columns,
        foreign,
        holders,
        around,
        using: Using {
            value: &value,
            how: ", attribute by attribute by name",
        },
        fails_if: "an attribute value the new attribute's type cannot read",
        along,
    });
    hazards.insert(0, recreated);
    (statements, hazards)
}
