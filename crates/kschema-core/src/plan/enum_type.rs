//! Statements for enum types.

use crate::diff::{Change, ConvertedColumn, ForeignColumns};
use crate::hazard::Hazard;
use crate::ident::{quote_literal, Ident};
use crate::model::{Attribute, EnumAddition, EnumPlace, EnumType};
use crate::sql::Sql;

use super::convert::{recreate_under_name, through_text, Recreation, Using};
use super::{Step, TxMode};

pub(super) use crate::definition::create_enum;

/// `ALTER TYPE … ADD VALUE` runs in the transaction (PostgreSQL 12 and
/// later), but the new label cannot be used before it commits: see
/// `commit_used_labels_first`. `IF NOT EXISTS` when it runs on its own,
/// ahead of a transaction that may roll back and be tried again.
pub(super) fn add_values(
    name: &Ident,
    additions: &[EnumAddition],
    if_not_exists: bool,
) -> Vec<Sql> {
    let verb = if if_not_exists {
        " ADD VALUE IF NOT EXISTS "
    } else {
        " ADD VALUE "
    };
    additions
        .iter()
        .map(|addition| {
            let place = match &addition.place {
                EnumPlace::Before(label) => format!(" BEFORE {}", quote_literal(label)),
                EnumPlace::After(label) => format!(" AFTER {}", quote_literal(label)),
                EnumPlace::End => String::new(),
            };
            Sql::new()
                .text("ALTER TYPE ")
                .qualified(name)
                .text(format!("{verb}{}{place}", quote_literal(&addition.label)))
        })
        .collect()
}

/// Labels that a later statement of the target's transaction names (a
/// default, a check, a view, a seed row) are added in a transaction of
/// their own, committed first: PostgreSQL refuses a label before the
/// transaction that added it commits ("unsafe use of new value"). Other
/// additions stay in the transaction, all or nothing with the rest. A
/// label named by accident (another type's label of the same spelling)
/// only costs that separation. Decided again from scratch on every call,
/// so a saved plan's steps can be checked against it.
pub(crate) fn commit_used_labels_first(steps: &mut [Step]) {
    for at in 0..steps.len() {
        let Change::AddEnumValues { name, additions } = &steps[at].change else {
            continue;
        };
        let labels: Vec<String> = additions
            .iter()
            .map(|addition| quote_literal(&addition.label))
            .collect();
        let used_later = steps[at + 1..]
            .iter()
            .filter(|later| {
                later.transaction == TxMode::Transactional
                    && !matches!(later.change, Change::AddEnumValues { .. })
            })
            .flat_map(|later| later.statements.iter())
            .map(Sql::render_relative)
            .any(|statement| {
                labels
                    .iter()
                    .any(|label| statement.contains(label.as_str()))
            });
        let statements = add_values(name, additions, used_later);
        let step = &mut steps[at];
        step.statements = statements;
        step.transaction = match used_later {
            true => TxMode::BeforeTransaction,
            false => TxMode::Transactional,
        };
    }
}

/// The old type renamed out of the way, the new one created, each column
/// converted through text, the old type dropped.
pub(super) fn recreate_enum(
    from: &EnumType,
    to: &EnumType,
    columns: &[ConvertedColumn],
    foreign: &[ForeignColumns],
    holders: &[(Ident, Attribute)],
    along: (Vec<Sql>, Vec<Hazard>),
) -> (Vec<Sql>, Vec<Hazard>) {
    let value = |column: &ConvertedColumn| through_text(column, &to.name);
    recreate_under_name(Recreation {
        name: &from.name,
        keyword: "TYPE",
        // Indexes comparing the old labels are off before it
        // (`convert::recreate_within`).
        before: Vec::new(),
        create: create_enum(to),
        columns,
        foreign,
        holders,
        around: (Vec::new(), Vec::new()),
        using: Using {
            value: &value,
            how: "",
        },
        fails_if: "a label that goes",
        along,
    })
}

pub(super) fn drop_enum(enum_type: &EnumType) -> Sql {
    Sql::new().text("DROP TYPE ").qualified(&enum_type.name)
}
