//! Statements for composite types.

use crate::diff::AttributeStep;
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

pub(super) fn recreate_composite(
    from: &CompositeType,
    to: &CompositeType,
) -> (Vec<Sql>, Vec<Hazard>) {
    (
        vec![drop_composite(from), create_composite(to)],
        vec![Hazard::new(
            HazardKind::RecreatesObject,
            format!(
                "drops type {} and creates it again (attributes reordered, or retyped while a column uses it: ALTER TYPE cannot); a column or function of the type makes the drop fail and the target roll back",
                to.name
            ),
        )],
    )
}
