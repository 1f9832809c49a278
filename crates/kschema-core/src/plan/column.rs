//! A column's changes (type, default, nullability, identity, generated
//! expression) and constraints added to a table: the statements, their
//! online forms for a table that holds rows, and the hazards of each.

use super::ddl::{alter_table, validate, DdlContext};
use super::TxMode;
use crate::definition::{alter_sequence, column_definition, constraint_sql, ExprStyle};
use crate::diff::{adds_identity, ColumnChange};
use crate::hazard::{Hazard, HazardKind};
use crate::ident::Ident;
use crate::model::{Column, ColumnType, Constraint, ConstraintKind, Identity};
use crate::normalize::names::make_object_name;
use crate::sql::Sql;

pub(super) fn alter_column(
    table: &Ident,
    (from, to): (&Column, &Column),
    kind: ColumnChange,
    using: Option<&str>,
    ctx: &DdlContext,
    step: &mut impl FnMut(Vec<Sql>, Vec<Hazard>, TxMode),
) {
    let column = to.name.quoted().to_string();
    let alter = |text: String| alter_table(table).text(format!(" ALTER COLUMN {column} {text}"));
    match kind {
        ColumnChange::Type => {
            let mut text = format!("TYPE {}", to.data_type);
            if let Some(collation) = &to.collation {
                text.push_str(&format!(" COLLATE {}", collation.quoted()));
            }
            let effects = type_change_effects(&from.data_type, &to.data_type);
            match using {
                Some(conversion) => text.push_str(&format!(" USING ({conversion})")),
                None if effects.needs_using => {
                    text.push_str(&format!(" USING {column}::{}", to.data_type))
                }
                None => {}
            }
            let mut hazards = Vec::new();
            if effects.lossy {
                hazards.push(Hazard::new(
                    HazardKind::MayLoseData,
                    format!(
                        "{table}.{} changes from {} to {}, which may not hold every value",
                        to.name, from.data_type, to.data_type
                    ),
                ));
            }
            if effects.rewrite && ctx.existing(table) {
                hazards.push(Hazard::new(
                    HazardKind::RewritesTable,
                    format!(
                        "changing {table}.{} to {} rewrites {table} under an ACCESS EXCLUSIVE lock",
                        to.name, to.data_type
                    ),
                ));
            }
            // A serial's sequence's type is its options' change (serial →
            // bigserial widens it there).
            step(vec![alter(text)], hazards, TxMode::Transactional)
        }
        ColumnChange::Default => {
            let sql = match &to.default {
                Some(default) => alter(format!("SET DEFAULT {}", default.sql)),
                None => alter("DROP DEFAULT".into()),
            };
            step(vec![sql], vec![], TxMode::Transactional)
        }
        ColumnChange::Nullability if !to.not_null => step(
            vec![alter("DROP NOT NULL".into())],
            vec![],
            TxMode::Transactional,
        ),
        ColumnChange::Nullability if ctx.online_for(table) => {
            // PostgreSQL 12+ skips the full scan of SET NOT NULL when a valid
            // CHECK (col IS NOT NULL) exists; the check is validated without
            // blocking writes, then dropped.
            let check = Ident::new(make_object_name(
                table.as_str(),
                Some(to.name.as_str()),
                "not_null",
            ));
            step(
                vec![alter_table(table).text(format!(
                    " ADD CONSTRAINT {} CHECK ({column} IS NOT NULL) NOT VALID",
                    check.quoted()
                ))],
                vec![],
                TxMode::Transactional,
            );
            step(
                vec![
                    validate(table, &check),
                    alter("SET NOT NULL".into()),
                    alter_table(table)
                        .text(format!(" DROP CONSTRAINT IF EXISTS {}", check.quoted())),
                ],
                vec![Hazard::new(
                    HazardKind::ValidatesConstraint,
                    format!("checks every row of {table} for NULL in {}", to.name),
                )],
                TxMode::NonTransactional,
            )
        }
        ColumnChange::Nullability => {
            let hazards = if ctx.existing(table) {
                vec![Hazard::new(
                    HazardKind::AccessExclusiveLock,
                    format!("SET NOT NULL scans {table} under an ACCESS EXCLUSIVE lock"),
                )]
            } else {
                vec![]
            };
            step(
                vec![alter("SET NOT NULL".into())],
                hazards,
                TxMode::Transactional,
            )
        }
        ColumnChange::Generated => match &to.generated {
            None => step(
                vec![alter("DROP EXPRESSION".into())],
                vec![],
                TxMode::Transactional,
            ),
            Some(_) => {
                let mut hazards = Vec::new();
                if ctx.existing(table) {
                    hazards.push(Hazard::new(
                        HazardKind::RewritesTable,
                        format!(
                            "{table}.{} is dropped and added again to compute its new expression: every row is rewritten under an ACCESS EXCLUSIVE lock",
                            to.name
                        ),
                    ));
                    if from.generated.is_none() {
                        hazards.push(Hazard::new(
                            HazardKind::MayLoseData,
                            format!(
                                "{table}.{}'s stored values are replaced by the generated ones",
                                to.name
                            ),
                        ));
                    }
                }
                step(
                    vec![alter_table(table).text(format!(
                        " DROP COLUMN {column}, ADD COLUMN {}",
                        column_definition(to, ExprStyle::Authored)
                    ))],
                    hazards,
                    TxMode::Transactional,
                )
            }
        },
        ColumnChange::Identity => {
            let mut statements = Vec::new();
            let mut hazards = Vec::new();
            if adds_identity(from, to) && !from.not_null {
                statements.push(alter("SET NOT NULL".into()));
                if ctx.existing(table) {
                    hazards.push(Hazard::new(
                        HazardKind::AccessExclusiveLock,
                        format!(
                            "an identity needs {table}.{} NOT NULL: every row is checked for NULL under an ACCESS EXCLUSIVE lock",
                            to.name
                        ),
                    ));
                }
            }
            match &from.identity {
                Some(Identity::Serial { sequence }) => {
                    statements.push(alter("DROP DEFAULT".into()));
                    statements.push(
                        Sql::new()
                            .text("DROP SEQUENCE IF EXISTS ")
                            .qualified(sequence),
                    );
                }
                _ if from.is_identity() && !to.is_identity() => {
                    statements.push(alter("DROP IDENTITY IF EXISTS".into()));
                }
                _ => {}
            }
            match (&from.identity, &to.identity) {
                (_, Some(Identity::Serial { sequence })) => {
                    // The column may own a sequence of that name already,
                    // one the model does not show: a default computed from
                    // it (`nextval(s) * 2`) is not a serial. It is taken
                    // over, its type and counter set as a new one's.
                    let owned_by = |sql: Sql| {
                        sql.qualified(sequence)
                            .text(format!(" AS {} OWNED BY ", to.own_sequence_type()))
                            .qualified(table)
                            .text(format!(".{column}"))
                    };
                    statements.push(owned_by(Sql::new().text("CREATE SEQUENCE IF NOT EXISTS ")));
                    if from.identity.is_none() {
                        statements.push(owned_by(Sql::new().text("ALTER SEQUENCE ")));
                    }
                    statements.extend(crate::definition::serial_sequence_options(sequence, to));
                    statements.push(
                        Sql::new()
                            .text("SELECT setval(")
                            .qualified_literal(sequence)
                            .text(format!(", coalesce(max({column}), 0) + 1, false) FROM "))
                            .qualified(table),
                    );
                    statements.push(
                        alter_table(table)
                            .text(format!(" ALTER COLUMN {column} SET DEFAULT nextval("))
                            .qualified_literal(sequence)
                            .text("::regclass)"),
                    );
                }
                (Some(Identity::Always | Identity::ByDefault), Some(Identity::Always)) => {
                    statements.push(alter("SET GENERATED ALWAYS".into()))
                }
                (Some(Identity::Always | Identity::ByDefault), Some(Identity::ByDefault)) => {
                    statements.push(alter("SET GENERATED BY DEFAULT".into()))
                }
                (_, Some(Identity::Always)) => statements.push(alter(format!(
                    "ADD GENERATED ALWAYS AS IDENTITY{}",
                    to.identity_options_sql()
                ))),
                (_, Some(Identity::ByDefault)) => statements.push(alter(format!(
                    "ADD GENERATED BY DEFAULT AS IDENTITY{}",
                    to.identity_options_sql()
                ))),
                (_, None) => {}
            }
            step(statements, hazards, TxMode::Transactional)
        }
        // Only what RESTART goes back to changes with START WITH: the
        // sequence carries on from where it is.
        ColumnChange::IdentityOptions => {
            let clauses = to.own_sequence_clauses_from(from);
            let mut statements = Vec::new();
            match (&from.identity, &to.identity) {
                // A serial's sequence is renamed as the files name it,
                // then altered by its own name.
                (Some(Identity::Serial { sequence: old }), Some(Identity::Serial { sequence })) => {
                    if old != sequence {
                        statements.push(alter_sequence(
                            old,
                            &format!("RENAME TO {}", sequence.quoted()),
                        ));
                    }
                    if !clauses.is_empty() {
                        statements.push(alter_sequence(sequence, &clauses.join(" ")));
                    }
                }
                _ => {
                    let set: Vec<String> = clauses.iter().map(|c| format!("SET {c}")).collect();
                    statements.push(alter(set.join(" ")));
                }
            }
            step(statements, vec![], TxMode::Transactional)
        }
    }
}

pub(super) fn add_constraint(
    table: &Ident,
    constraint: &Constraint,
    ctx: &DdlContext,
    step: &mut impl FnMut(Vec<Sql>, Vec<Hazard>, TxMode),
) {
    let add = constraint_sql(
        alter_table(table).text(" ADD "),
        constraint,
        true,
        ExprStyle::Authored,
    );
    if !constraint.validated {
        // Declared NOT VALID: added so, and left so.
        step(vec![add.text(" NOT VALID")], vec![], TxMode::Transactional);
        return;
    }
    // PostgreSQL (to 17) cannot add a foreign key NOT VALID to a
    // partitioned table.
    let online_form = ctx.online_for(table)
        && match constraint.kind {
            ConstraintKind::ForeignKey(_) => !ctx.partitioned(table),
            ConstraintKind::Check { .. } => true,
            _ => false,
        };
    if online_form {
        // NOT VALID takes the lock for a moment only; VALIDATE scans later
        // with a lock that lets reads and writes go on.
        step(vec![add.text(" NOT VALID")], vec![], TxMode::Transactional);
        step(
            vec![validate(table, &constraint.name)],
            vec![Hazard::new(
                HazardKind::ValidatesConstraint,
                format!(
                    "checks every row of {table} against {} {}",
                    constraint.kind.label(),
                    constraint.name
                ),
            )],
            TxMode::NonTransactional,
        );
        return;
    }
    let hazards = if ctx.existing(table) {
        match constraint.kind {
            ConstraintKind::PrimaryKey { .. }
            | ConstraintKind::Unique { .. }
            | ConstraintKind::Exclusion { .. } => vec![
                Hazard::new(
                    HazardKind::BuildsIndex,
                    format!("builds the index of {} on {table}", constraint.name),
                ),
                Hazard::new(
                    HazardKind::AccessExclusiveLock,
                    format!(
                        "{table} is locked while the index of {} is built",
                        constraint.name
                    ),
                ),
            ],
            _ => vec![Hazard::new(
                HazardKind::AccessExclusiveLock,
                format!("{table} is scanned under lock to check {}", constraint.name),
            )],
        }
    } else {
        vec![]
    };
    step(vec![add], hazards, TxMode::Transactional)
}

/// Functions whose value differs per row: a default calling one is computed
/// for every existing row when the column is added.
pub(super) fn is_volatile(canonical_default: &str) -> bool {
    const VOLATILE: [&str; 7] = [
        "random(",
        "gen_random_uuid(",
        "uuid_generate_v1(",
        "uuid_generate_v4(",
        "clock_timestamp(",
        "timeofday(",
        "nextval(",
    ];
    VOLATILE.iter().any(|f| canonical_default.contains(f))
}

/// What a column type change costs.
#[derive(Debug, PartialEq, Eq)]
pub struct TypeChangeEffects {
    /// Every row is rewritten.
    pub rewrite: bool,
    /// Some old values may not fit the new type.
    pub lossy: bool,
    /// There is no implicit cast, so the statement needs `USING col::type`.
    pub needs_using: bool,
}

/// Classifies a type change the way PostgreSQL's `ATColumnChangeRequiresRewrite`
/// would, for the common cases; anything else counts as a lossy rewrite.
pub fn type_change_effects(from: &ColumnType, to: &ColumnType) -> TypeChangeEffects {
    let (from_base, to_base) = (from.base(), to.base());
    let from_len = from.length();
    let to_len = to.length();
    let effects = |rewrite, lossy, needs_using| TypeChangeEffects {
        rewrite,
        lossy,
        needs_using,
    };
    if from == to {
        return effects(false, false, false);
    }
    let varchar = "character varying";
    match (from_base.as_str(), to_base.as_str()) {
        // Widening or lifting a length limit is a catalog change only.
        (f, t) if f == varchar && t == varchar => match (from_len, to_len) {
            (Some(a), Some(b)) if b >= a => effects(false, false, false),
            (_, None) => effects(false, false, false),
            _ => effects(true, true, false),
        },
        (f, "text") if f == varchar => effects(false, false, false),
        ("text", t) if t == varchar => match to_len {
            None => effects(false, false, false),
            Some(_) => effects(true, true, false),
        },
        ("numeric", "numeric") => match (from.precision_scale(), to.precision_scale()) {
            (Some((p1, s1)), Some((p2, s2))) if s1 == s2 && p2 >= p1 => {
                effects(false, false, false)
            }
            (_, None) => effects(false, false, false),
            _ => effects(true, true, false),
        },
        // Widening numbers: every value fits, but the storage changes.
        ("smallint", "integer" | "bigint" | "numeric")
        | ("integer", "bigint" | "numeric")
        | ("bigint", "numeric")
        | ("real", "double precision")
        | ("timestamp without time zone", "timestamp with time zone")
        | ("date", "timestamp without time zone" | "timestamp with time zone") => {
            effects(true, false, false)
        }
        (_, "text") => effects(true, false, false),
        _ if from.is_string() && to.is_string() => effects(true, true, false),
        _ => effects(true, true, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn effects(from: &str, to: &str) -> (bool, bool) {
        let e = type_change_effects(&ColumnType::parse(from), &ColumnType::parse(to));
        (e.rewrite, e.lossy)
    }

    #[test]
    fn type_changes_are_classified() {
        assert_eq!(
            effects("character varying(100)", "character varying(255)"),
            (false, false)
        );
        assert_eq!(
            effects("character varying(255)", "character varying(50)"),
            (true, true)
        );
        assert_eq!(effects("character varying(255)", "text"), (false, false));
        assert_eq!(effects("text", "integer"), (true, true));
        assert_eq!(effects("integer", "bigint"), (true, false));
        assert_eq!(effects("numeric(10,2)", "numeric(12,2)"), (false, false));
        assert_eq!(effects("numeric(10,2)", "numeric(10,1)"), (true, true));
    }
}
