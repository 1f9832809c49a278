//! Statements for enum types.

use crate::diff::EnumColumn;
use crate::hazard::{Hazard, HazardKind};
use crate::ident::{quote_literal, Ident};
use crate::model::{EnumAddition, EnumPlace, EnumType};
use crate::sql::Sql;

pub(super) use crate::definition::create_enum;

/// `ALTER TYPE … ADD VALUE` runs in the transaction (PostgreSQL 12 and
/// later), but the new label cannot be used before it commits.
pub(super) fn add_values(name: &Ident, additions: &[EnumAddition]) -> Vec<Sql> {
    additions
        .iter()
        .map(|addition| {
            let place = match &addition.place {
                EnumPlace::Before(label) => format!(" BEFORE {}", quote_literal(label)),
                EnumPlace::After(label) => format!(" AFTER {}", quote_literal(label)),
                EnumPlace::End => String::new(),
            };
            Sql::new().text("ALTER TYPE ").qualified(name).text(format!(
                " ADD VALUE {}{place}",
                quote_literal(&addition.label)
            ))
        })
        .collect()
}

/// The old type renamed out of the way, the new one created, each column
/// converted through text, the old type dropped.
pub(super) fn recreate_enum(
    from: &EnumType,
    to: &EnumType,
    columns: &[EnumColumn],
    indexes: &[Ident],
) -> (Vec<Sql>, Vec<Hazard>) {
    let old = Ident::new(old_name(&from.name));
    let mut statements: Vec<Sql> = indexes
        .iter()
        .map(|index| Sql::new().text("DROP INDEX ").qualified(index))
        .collect();
    statements.push(
        Sql::new()
            .text("ALTER TYPE ")
            .qualified(&from.name)
            .text(format!(" RENAME TO {}", old.quoted())),
    );
    statements.push(create_enum(to));
    let mut hazards = Vec::new();
    for column in columns {
        let alter = || {
            Sql::new()
                .text("ALTER TABLE ")
                .qualified(&column.table)
                .text(format!(" ALTER COLUMN {} ", column.column.quoted()))
        };
        if column.had_default {
            statements.push(alter().text("DROP DEFAULT"));
        }
        let suffix = if column.array { "[]" } else { "" };
        statements.push(
            alter()
                .text("TYPE ")
                .qualified(&to.name)
                .text(format!(
                    "{suffix} USING {}::text{suffix}::",
                    column.column.quoted()
                ))
                .qualified(&to.name)
                .text(suffix),
        );
        if let Some(default) = &column.default {
            statements.push(alter().text(format!("SET DEFAULT {}", default.sql)));
        }
        hazards.push(Hazard::new(
            HazardKind::RewritesTable,
            format!(
                "rewrites {} to convert column {} to the new {}; fails if a row holds a label that goes",
                column.table, column.column, to.name
            ),
        ));
    }
    statements.push(Sql::new().text("DROP TYPE ").qualified(&old));
    (statements, hazards)
}

/// The old type's name while the new one is built (at most 63 bytes).
fn old_name(name: &Ident) -> String {
    let mut old = format!("{}_kschema_old", name.as_str());
    while old.len() > 63 {
        let cut = old
            .char_indices()
            .rev()
            .nth("_kschema_old".len())
            .map_or(0, |(i, _)| i);
        old = format!("{}_kschema_old", &old[..cut]);
    }
    old
}

pub(super) fn drop_enum(enum_type: &EnumType) -> Sql {
    Sql::new().text("DROP TYPE ").qualified(&enum_type.name)
}
