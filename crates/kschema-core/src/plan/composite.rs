//! Statements for composite types.

use super::convert::{convert_column_using, old_name};
use super::ddl::alter_table;
use crate::diff::{AttributeStep, ConvertedColumn};
use crate::hazard::{Hazard, HazardKind};
use crate::ident::Ident;
use crate::model::CompositeType;
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

/// A composite type created again. Without columns of it (or with an
/// array column, which a conversion cannot take apart): dropped and
/// created again. With columns: created again under its name once the old
/// one is renamed away, each column rebuilt from the old value's
/// attributes by name (`ROW((c).b, (c).a)::t`; an attribute the old type
/// lacks is NULL), then the old one dropped.
pub(super) fn recreate_composite(
    from: &CompositeType,
    to: &CompositeType,
    columns: &[ConvertedColumn],
) -> (Vec<Sql>, Vec<Hazard>) {
    let recreated = |what: &str| {
        Hazard::new(
            HazardKind::RecreatesObject,
            format!(
                "drops type {} and creates it again (attributes reordered, or retyped while a column uses it: ALTER TYPE cannot); another composite type with an attribute of it makes the drop fail{what}",
                to.name
            ),
        )
    };
    if columns.is_empty() || columns.iter().any(|c| c.array) {
        let what = match columns.is_empty() {
            true => "",
            false => "; an array column of the type makes the drop fail and the target roll back",
        };
        return (
            vec![drop_composite(from), create_composite(to)],
            vec![recreated(what)],
        );
    }
    let old = Ident::new(old_name(&from.name));
    let mut statements = vec![
        Sql::new()
            .text("ALTER TYPE ")
            .qualified(&from.name)
            .text(format!(" RENAME TO {}", old.quoted())),
        create_composite(to),
    ];
    let mut hazards = vec![recreated("")];
    for column in columns {
        let value = column.column.quoted();
        let fields: Vec<String> = to
            .attributes
            .iter()
            .map(|attribute| {
                let kept = from.attributes.iter().any(|a| a.name == attribute.name);
                match kept {
                    true => format!(
                        "({value}).{}::{}",
                        attribute.name.quoted(),
                        attribute.data_type
                    ),
                    false => format!("NULL::{}", attribute.data_type),
                }
            })
            .collect();
        // A NULL value stays NULL (`IS NULL` would also take a value whose
        // attributes are all NULL).
        let using = Sql::new()
            .text(format!(
                "CASE WHEN {value}::text IS NULL THEN NULL ELSE ROW({})::",
                fields.join(", ")
            ))
            .qualified(&to.name)
            .text(" END");
        statements.extend(convert_column_using(
            alter_table(&column.table),
            column,
            &to.name,
            using,
        ));
        hazards.push(Hazard::new(
            HazardKind::RewritesTable,
            format!(
                "rewrites {} to convert column {} to the new {}, attribute by attribute",
                column.table, column.column, to.name
            ),
        ));
    }
    statements.push(Sql::new().text("DROP TYPE ").qualified(&old));
    (statements, hazards)
}
