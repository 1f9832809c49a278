//! Statements for enum types.

use crate::definition::{constraint_sql, create_index, ExprStyle};
use crate::diff::{Change, ConvertedColumn, ForeignColumns};
use crate::hazard::{Hazard, HazardKind};
use crate::ident::{quote_literal, Ident};
use crate::model::{EnumAddition, EnumPlace, EnumType};
use crate::sql::Sql;

use super::ddl::{alter_table, in_schema, set_search_path};
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
    indexes: &[Ident],
    foreign: &[ForeignColumns],
) -> (Vec<Sql>, Vec<Hazard>) {
    let old = Ident::new(old_name(&from.name));
    let mut statements: Vec<Sql> = indexes
        .iter()
        .map(|index| Sql::new().text("DROP INDEX ").qualified(index))
        .collect();
    // Other schemas' checks and indexes reading their columns of it
    // compare with the old type's labels: off before the rename.
    statements.extend(drop_foreign_readers(foreign));
    statements.push(
        Sql::new()
            .text("ALTER TYPE ")
            .qualified(&from.name)
            .text(format!(" RENAME TO {}", old.quoted())),
    );
    statements.push(create_enum(to));
    let mut hazards = Vec::new();
    for column in columns {
        statements.extend(convert_column(alter_table(&column.table), column, &to.name));
        hazards.push(Hazard::new(
            HazardKind::RewritesTable,
            format!(
                "rewrites {} to convert column {} to the new {}; fails if a row holds a label that goes",
                column.table, column.column, to.name
            ),
        ));
    }
    let (converted, foreign_hazards) = convert_foreign(&to.name, foreign, "a label that goes");
    statements.extend(converted);
    hazards.extend(foreign_hazards);
    statements.push(Sql::new().text("DROP TYPE ").qualified(&old));
    (statements, hazards)
}

/// `column` converted to the new type `to` by `alter` (`ALTER TABLE t`),
/// through its text: its default off first (it may not cast), and the
/// files' put back.
pub(super) fn convert_column(alter: Sql, column: &ConvertedColumn, to: &Ident) -> Vec<Sql> {
    let alter = || {
        alter
            .clone()
            .text(format!(" ALTER COLUMN {} ", column.column.quoted()))
    };
    let mut statements = Vec::new();
    if column.had_default {
        statements.push(alter().text("DROP DEFAULT"));
    }
    let suffix = if column.array { "[]" } else { "" };
    statements.push(
        alter()
            .text("TYPE ")
            .qualified(to)
            .text(format!(
                "{suffix} USING {}::text{suffix}::",
                column.column.quoted()
            ))
            .qualified(to)
            .text(suffix),
    );
    if let Some(default) = &column.default {
        statements.push(alter().text(format!("SET DEFAULT {}", default.sql)));
    }
    statements
}

/// The checks and indexes of other schemas reading their columns of a
/// shared type created again: off before its rename (put back, as they
/// are live, once the columns are converted).
pub(super) fn drop_foreign_readers(foreign: &[ForeignColumns]) -> Vec<Sql> {
    let mut statements = Vec::new();
    for other in foreign {
        for index in &other.indexes {
            statements.push(in_schema(
                &other.schema,
                Sql::new().text("DROP INDEX ").qualified(&index.name),
            ));
        }
        for (table, check) in &other.checks {
            statements.push(in_schema(
                &other.schema,
                alter_table(table).text(format!(" DROP CONSTRAINT {}", check.name.quoted())),
            ));
        }
    }
    statements
}

/// Other schemas' columns of a shared type created again (`to`), converted
/// on their own schema's search path (their defaults, checks and index
/// expressions name their objects bare), then that path left again;
/// `fails_if` says what value the conversion refuses.
pub(super) fn convert_foreign(
    to: &Ident,
    foreign: &[ForeignColumns],
    fails_if: &str,
) -> (Vec<Sql>, Vec<Hazard>) {
    let mut statements = Vec::new();
    let (mut tables, mut checks, mut indexes) = (0, 0, 0);
    for other in foreign {
        let schema = &other.schema;
        statements.push(in_schema(schema, set_search_path()));
        let mut converted: Vec<&Ident> = Vec::new();
        for column in &other.columns {
            // The table is the other schema's, the type this one's.
            let table = in_schema(schema, alter_table(&column.table));
            statements.extend(convert_column(table, column, to));
            if !converted.contains(&&column.table) {
                converted.push(&column.table);
            }
        }
        tables += converted.len();
        for (table, check) in &other.checks {
            let add = constraint_sql(
                alter_table(table).text(" ADD "),
                check,
                true,
                ExprStyle::Authored,
            );
            statements.push(in_schema(
                schema,
                match check.validated {
                    true => add,
                    false => add.text(" NOT VALID"),
                },
            ));
            checks += usize::from(check.validated);
        }
        for index in &other.indexes {
            statements.push(in_schema(
                schema,
                create_index(index, false, ExprStyle::Authored),
            ));
            indexes += 1;
        }
    }
    if foreign.is_empty() {
        return (statements, Vec::new());
    }
    statements.push(set_search_path());
    let mut hazards = vec![Hazard::new(
        HazardKind::RewritesTable,
        format!(
            "rewrites {tables} table(s) of {} other schema(s) to convert their columns to the new {to}, in this transaction; fails if a row holds {fails_if}",
            foreign.len(),
        ),
    )];
    if checks > 0 {
        hazards.push(Hazard::new(
            HazardKind::ValidatesConstraint,
            format!("checks the rows of other schemas against {checks} check(s) reading those columns again, in this transaction"),
        ));
    }
    if indexes > 0 {
        hazards.push(Hazard::new(
            HazardKind::BuildsIndex,
            format!("builds {indexes} index(es) of other schemas reading those columns again, in this transaction, writes to their tables waiting"),
        ));
    }
    (statements, hazards)
}

/// The old type's name while the new one is built (at most 63 bytes).
pub(super) fn old_name(name: &Ident) -> String {
    crate::ident::with_suffix(name.as_str(), "_kschema_old")
}

pub(super) fn drop_enum(enum_type: &EnumType) -> Sql {
    Sql::new().text("DROP TYPE ").qualified(&enum_type.name)
}
