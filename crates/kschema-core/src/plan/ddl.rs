//! One change → the statements that make it, the hazards they carry and
//! whether they can run inside the target's transaction.
//!
//! For tables that already exist (and hold data), the online forms are the
//! default: `CREATE INDEX CONCURRENTLY`, foreign keys and checks added `NOT
//! VALID` and validated after the transaction commits, `SET NOT NULL`
//! through a validated check so it does not scan under an exclusive lock.
//!
//! Longer than ~600 lines: one `match` over every change kind; the kinds
//! beyond tables build their statements in their own files (`routine`,
//! `enum_type`, `extension`, `view`, `privilege`), the table arms split out
//! next (issue 11).

use std::collections::BTreeSet;

use super::{composite, domain, enum_type, extension, privilege, routine, view, Step, TxMode};
use crate::definition::{
    column_definition, comment_on, comment_on_object, constraint_sql, create_index, create_table,
    replica_identity, sequence_options, storage_parameter_list, ExprStyle,
};
use crate::diff::{adds_identity, domain_steps, Change, ColumnChange};
use crate::hazard::{Hazard, HazardKind};
use crate::ident::Ident;
use crate::model::{Column, ColumnType, Constraint, ConstraintKind, Identity};
use crate::normalize::names::make_object_name;
use crate::seed_value::SeedValue;
use crate::sql::Sql;

/// What the statement generator needs to know beyond the change itself.
pub struct DdlContext {
    /// Tables (and materialized views) created by this plan: nothing reads
    /// them yet, so no online forms and no data hazards apply to them.
    new_tables: BTreeSet<Ident>,
    /// Indexes this plan builds concurrently (after the transaction).
    online_indexes: BTreeSet<Ident>,
    /// Use the online forms for existing tables (`--no-online` turns them off).
    online: bool,
}

impl DdlContext {
    /// The context of a plan made of `changes`.
    pub fn for_changes<'a>(changes: impl IntoIterator<Item = &'a Change>, online: bool) -> Self {
        let changes: Vec<&Change> = changes.into_iter().collect();
        let new_tables = changes
            .iter()
            .filter_map(|c| match c {
                Change::CreateTable { table } => Some(table.name.clone()),
                // Indexes on a materialized view being filled are built with it.
                Change::CreateView { view } if view.materialized => Some(view.name.clone()),
                _ => None,
            })
            .collect();
        let mut ctx = DdlContext {
            new_tables,
            online_indexes: BTreeSet::new(),
            online,
        };
        ctx.online_indexes = changes
            .iter()
            .filter_map(|c| match c {
                Change::CreateIndex { index } if ctx.online_for(&index.table) => {
                    Some(index.name.clone())
                }
                _ => None,
            })
            .collect();
        ctx
    }
    fn existing(&self, table: &Ident) -> bool {
        !self.new_tables.contains(table)
    }
    fn online_for(&self, table: &Ident) -> bool {
        self.online && self.existing(table)
    }
}

/// The steps for one change (most changes are one step; online forms split
/// into a transactional part and a part that runs after the commit).
pub fn steps_for(change: Change, ctx: &DdlContext) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut step = |statements: Vec<Sql>, hazards: Vec<Hazard>, transaction: TxMode| {
        steps.push(Step {
            change: change.clone(),
            part: None,
            statements,
            hazards,
            transaction,
            before_retry: None,
            index_build: false,
            allowed_by_annotation: Vec::new(),
            after_tenants: false,
        })
    };
    match &change {
        Change::CreateSchema => step(
            vec![Sql::new().text("CREATE SCHEMA ").schema()],
            vec![],
            TxMode::Transactional,
        ),
        Change::CreateTable { table } => step(
            vec![create_table(table, ExprStyle::Authored)],
            vec![],
            TxMode::Transactional,
        ),
        Change::RenameTable { from, to } => step(
            vec![alter_table(from).text(format!(" RENAME TO {}", to.quoted()))],
            vec![],
            TxMode::Transactional,
        ),
        Change::RenameColumn { table, from, to } => step(
            vec![alter_table(table).text(format!(
                " RENAME COLUMN {} TO {}",
                from.quoted(),
                to.quoted()
            ))],
            vec![],
            TxMode::Transactional,
        ),
        Change::DropTable { table } => step(
            vec![Sql::new().text("DROP TABLE ").qualified(&table.name)],
            vec![Hazard::new(
                HazardKind::DeletesData,
                format!("drops table {} and every row in it", table.name),
            )],
            TxMode::Transactional,
        ),
        Change::AddColumn { table, column } => {
            let mut hazards = Vec::new();
            if ctx.existing(table) {
                if let Some(default) = &column.default {
                    if is_volatile(&default.canonical) {
                        hazards.push(Hazard::new(
                            HazardKind::RewritesTable,
                            format!("the volatile default {} is computed for every existing row, rewriting {table}", default.sql),
                        ));
                    }
                }
            }
            step(
                vec![alter_table(table).text(format!(
                    " ADD COLUMN {}",
                    column_definition(column, ExprStyle::Authored)
                ))],
                hazards,
                TxMode::Transactional,
            )
        }
        Change::DropColumn { table, column } => step(
            vec![alter_table(table).text(format!(" DROP COLUMN {}", column.name.quoted()))],
            vec![Hazard::new(
                HazardKind::DeletesData,
                format!("drops column {table}.{} and its values", column.name),
            )],
            TxMode::Transactional,
        ),
        Change::AlterColumn {
            table,
            from,
            to,
            kind,
            using,
        } => alter_column(table, (from, to), *kind, using.as_deref(), ctx, &mut step),
        Change::AddConstraint { table, constraint } => {
            add_constraint(table, constraint, ctx, &mut step)
        }
        Change::DropConstraint { table, constraint } => step(
            vec![alter_table(table).text(format!(" DROP CONSTRAINT {}", constraint.name.quoted()))],
            vec![],
            TxMode::Transactional,
        ),
        Change::ValidateConstraint { table, constraint } => step(
            vec![validate(table, &constraint.name)],
            vec![Hazard::new(
                HazardKind::ValidatesConstraint,
                format!("checks every row of {table} against {}", constraint.name),
            )],
            TxMode::NonTransactional,
        ),
        Change::SetPersistence { table, unlogged } => {
            let mut hazards = Vec::new();
            if ctx.existing(table) {
                hazards.push(Hazard::new(
                    HazardKind::RewritesTable,
                    format!(
                        "SET {} rewrites {table} under an ACCESS EXCLUSIVE lock",
                        if *unlogged { "UNLOGGED" } else { "LOGGED" }
                    ),
                ));
            }
            step(
                vec![alter_table(table).text(if *unlogged {
                    " SET UNLOGGED"
                } else {
                    " SET LOGGED"
                })],
                hazards,
                TxMode::Transactional,
            )
        }
        Change::SetComment {
            table,
            column,
            comment,
        } => step(
            vec![comment_on(table, column.as_ref(), comment.as_deref())],
            vec![],
            TxMode::Transactional,
        ),
        Change::SetReplicaIdentity { table, identity } => step(
            vec![replica_identity(table, *identity)],
            vec![],
            TxMode::Transactional,
        ),
        // Storage parameters change the catalog only (new rows and the next
        // vacuum follow them).
        Change::SetStorageParameters { table, set, reset } => {
            let mut statements = Vec::new();
            if !set.is_empty() {
                statements.push(
                    alter_table(table).text(format!(" SET ({})", storage_parameter_list(set))),
                );
            }
            if !reset.is_empty() {
                statements.push(alter_table(table).text(format!(" RESET ({})", reset.join(", "))));
            }
            step(statements, vec![], TxMode::Transactional)
        }
        Change::RenameConstraint { table, from, to } => step(
            vec![alter_table(table).text(format!(
                " RENAME CONSTRAINT {} TO {}",
                from.quoted(),
                to.quoted()
            ))],
            vec![],
            TxMode::Transactional,
        ),
        Change::CreateIndex { index } => {
            let online = ctx.online_for(&index.table);
            let hazards = if ctx.existing(&index.table) {
                vec![Hazard::new(
                    HazardKind::BuildsIndex,
                    format!(
                        "builds index {} over every row of {}",
                        index.name, index.table
                    ),
                )]
            } else {
                vec![]
            };
            let mode = if online {
                TxMode::NonTransactional
            } else {
                TxMode::Transactional
            };
            step(
                vec![create_index(index, online, ExprStyle::Authored)],
                hazards,
                mode,
            )
        }
        Change::DropIndex { index } => {
            let online = ctx.online_for(&index.table);
            let keyword = if online {
                "DROP INDEX CONCURRENTLY IF EXISTS "
            } else {
                "DROP INDEX "
            };
            let hazards = if index.valid {
                vec![Hazard::new(
                    HazardKind::DropsIndex,
                    format!(
                        "queries on {} that use index {} lose it",
                        index.table, index.name
                    ),
                )]
            } else {
                vec![]
            };
            let mode = if online {
                TxMode::NonTransactional
            } else {
                TxMode::Transactional
            };
            step(
                vec![Sql::new().text(keyword).qualified(&index.name)],
                hazards,
                mode,
            )
        }
        Change::RenameIndex { from, to } => step(
            vec![Sql::new()
                .text("ALTER INDEX ")
                .qualified(from)
                .text(format!(" RENAME TO {}", to.quoted()))],
            vec![],
            TxMode::Transactional,
        ),
        Change::CreateSequence { sequence } => step(
            vec![Sql::new()
                .text("CREATE SEQUENCE ")
                .qualified(&sequence.name)
                .text(sequence_options(sequence, true))],
            vec![],
            TxMode::Transactional,
        ),
        // START WITH only sets what RESTART goes back to; the sequence
        // carries on from where it is.
        Change::AlterSequence { from, to } => step(
            vec![Sql::new()
                .text("ALTER SEQUENCE ")
                .qualified(&to.name)
                .text(sequence_options(to, from.start != to.start))],
            vec![],
            TxMode::Transactional,
        ),
        Change::InsertRow { table, values, .. } => {
            let columns: Vec<String> = values.iter().map(|(c, _)| c.quoted().to_string()).collect();
            let literals: Vec<&str> = values.iter().map(|(_, v)| v.sql.as_str()).collect();
            step(
                vec![Sql::new()
                    .text("INSERT INTO ")
                    .qualified(table)
                    .text(format!(
                        " ({}) VALUES ({})",
                        columns.join(", "),
                        literals.join(", ")
                    ))],
                vec![],
                TxMode::Transactional,
            )
        }
        Change::UpdateRow { table, key, set } => {
            let assignments: Vec<String> = set
                .iter()
                .map(|u| format!("{} = {}", u.column.quoted(), u.to.sql))
                .collect();
            step(
                vec![Sql::new().text("UPDATE ").qualified(table).text(format!(
                    " SET {} WHERE {}",
                    assignments.join(", "),
                    row_condition(key)
                ))],
                vec![],
                TxMode::Transactional,
            )
        }
        Change::DeleteRow { table, key } => step(
            vec![Sql::new()
                .text("DELETE FROM ")
                .qualified(table)
                .text(format!(" WHERE {}", row_condition(key)))],
            vec![Hazard::new(
                HazardKind::DeletesData,
                format!(
                    "deletes the {table} row that is not declared ({})",
                    key_text(key)
                ),
            )],
            TxMode::Transactional,
        ),
        Change::CreateFunction { function } | Change::ReplaceFunction { to: function, .. } => step(
            routine::create_function(function),
            vec![],
            TxMode::Transactional,
        ),
        Change::RecreateFunction { from, to } => {
            let (statements, hazards) = routine::recreate_function(from, to);
            step(statements, hazards, TxMode::Transactional)
        }
        Change::DropFunction { function } => step(
            vec![routine::drop_function(function)],
            vec![],
            TxMode::Transactional,
        ),
        Change::CreateTrigger { trigger, .. } => step(
            vec![routine::create_trigger(trigger)],
            vec![],
            TxMode::Transactional,
        ),
        Change::ReplaceTrigger { table, to, .. } => step(
            routine::replace_trigger(table, to),
            vec![],
            TxMode::Transactional,
        ),
        Change::DropTrigger { table, trigger } => step(
            vec![routine::drop_trigger(table, &trigger.name)],
            vec![],
            TxMode::Transactional,
        ),
        Change::SetTriggerFiring {
            table,
            trigger,
            firing,
        } => step(
            vec![routine::set_trigger_firing(table, trigger, *firing)],
            vec![],
            TxMode::Transactional,
        ),
        Change::CreateEnum { enum_type } => step(
            vec![enum_type::create_enum(enum_type)],
            vec![],
            TxMode::Transactional,
        ),
        Change::AddEnumValues { name, additions } => step(
            enum_type::add_values(name, additions),
            vec![],
            TxMode::Transactional,
        ),
        Change::RecreateEnum {
            from,
            to,
            columns,
            indexes,
        } => {
            let (statements, hazards) = enum_type::recreate_enum(from, to, columns, indexes);
            step(statements, hazards, TxMode::Transactional)
        }
        Change::CreateDomain { domain: to } => step(
            vec![domain::create_domain(to)],
            vec![],
            TxMode::Transactional,
        ),
        Change::AlterDomain {
            name,
            default,
            not_null,
            drop_checks,
            add_checks,
            validate_checks,
        } => {
            let steps =
                domain_steps(default, *not_null, drop_checks, add_checks, validate_checks);
            let (statements, hazards) = domain::alter_domain(name, &steps);
            step(statements, hazards, TxMode::Transactional)
        }
        Change::RecreateDomain { from, to } => {
            let (statements, hazards) = domain::recreate_domain(from, to);
            step(statements, hazards, TxMode::Transactional)
        }
        Change::DropDomain { domain: from } => step(
            vec![domain::drop_domain(from)],
            vec![],
            TxMode::Transactional,
        ),
        Change::CreateEventTrigger { trigger } => {
            let mut statements = vec![routine::create_event_trigger(trigger)];
            if !trigger.firing.is_default() {
                statements.push(routine::set_event_trigger_firing(
                    &trigger.name,
                    trigger.firing,
                ));
            }
            step(statements, vec![], TxMode::Transactional)
        }
        Change::SetEventTriggerFiring { name, firing } => step(
            vec![routine::set_event_trigger_firing(name, *firing)],
            vec![],
            TxMode::Transactional,
        ),
        Change::DropEventTrigger { trigger } => step(
            vec![Sql::new().text(format!("DROP EVENT TRIGGER {}", trigger.name.quoted()))],
            vec![],
            TxMode::Transactional,
        ),
        Change::CreateComposite { composite } => step(
            vec![composite::create_composite(composite)],
            vec![],
            TxMode::Transactional,
        ),
        Change::AlterComposite {
            name,
            steps,
            in_use,
        } => {
            let (statements, hazards) = composite::alter_composite(name, steps, *in_use);
            step(statements, hazards, TxMode::Transactional)
        }
        Change::RecreateComposite { from, to } => {
            let (statements, hazards) = composite::recreate_composite(from, to);
            step(statements, hazards, TxMode::Transactional)
        }
        Change::DropComposite { composite } => step(
            vec![composite::drop_composite(composite)],
            vec![],
            TxMode::Transactional,
        ),
        Change::DropEnum { enum_type } => step(
            vec![enum_type::drop_enum(enum_type)],
            vec![],
            TxMode::Transactional,
        ),
        Change::CreateExtension { extension } => step(
            vec![extension::create_extension(extension)],
            vec![],
            TxMode::Transactional,
        ),
        Change::AlterExtension {
            name,
            version,
            schema,
        } => step(
            extension::alter_extension(name, version, schema),
            vec![],
            TxMode::Transactional,
        ),
        Change::DropExtension { extension } => step(
            vec![extension::drop_extension(extension)],
            vec![Hazard::new(
                HazardKind::DeletesData,
                format!(
                    "drops extension {} and its types and functions (it fails while columns or objects kschema does not manage use them)",
                    extension.name
                ),
            )],
            TxMode::Transactional,
        ),
        Change::Grant {
            object,
            role,
            privileges,
            grantable,
        } => step(
            vec![privilege::grant(object, role, privileges, *grantable)],
            vec![],
            TxMode::Transactional,
        ),
        Change::Revoke {
            object,
            role,
            privileges,
        } => step(
            vec![privilege::revoke(object, role, privileges)],
            // A default revoked takes nothing that exists.
            match object {
                crate::model::GrantObject::Defaults { .. } => vec![],
                _ => vec![Hazard::new(
                    HazardKind::RevokesAccess,
                    format!(
                        "revokes {} from {role}: what it runs that needs them fails from then on",
                        privileges.join(", ")
                    ),
                )],
            },
            TxMode::Transactional,
        ),
        Change::CommentOn { object, comment } => {
            // An index built concurrently exists only after the transaction.
            let after_build = matches!(object, crate::model::Commented::Index { name } if ctx.online_indexes.contains(name));
            step(
                vec![comment_on_object(object, comment.as_deref())],
                vec![],
                match after_build {
                    true => TxMode::NonTransactional,
                    false => TxMode::Transactional,
                },
            )
        }
        Change::CreatePolicy { policy, .. } => step(
            vec![routine::create_policy(policy)],
            vec![],
            TxMode::Transactional,
        ),
        Change::DropPolicy { table, policy } => step(
            vec![routine::drop_policy(table, &policy.name)],
            vec![],
            TxMode::Transactional,
        ),
        Change::SetRowSecurity { table, from, to } => {
            let hazards = if to.enabled && !from.enabled && ctx.existing(table) {
                vec![Hazard::new(
                    HazardKind::HidesRows,
                    format!("enables row-level security on {table}: roles other than its owner see only the rows a policy lets them"),
                )]
            } else {
                vec![]
            };
            step(
                vec![routine::set_row_security(table, *to)],
                hazards,
                TxMode::Transactional,
            )
        }
        Change::CreateView { view: to } | Change::ReplaceView { to, .. } => step(
            vec![view::create_view(to)],
            match to.materialized {
                true => vec![Hazard::new(
                    HazardKind::RefillsView,
                    format!(
                        "fills materialized view {} by running its query over every row it reads",
                        to.name
                    ),
                )],
                false => vec![],
            },
            TxMode::Transactional,
        ),
        Change::DropView { view: current } => step(
            vec![view::drop_view(current)],
            vec![],
            TxMode::Transactional,
        ),
        Change::DropSequence { sequence } => step(
            vec![Sql::new().text("DROP SEQUENCE ").qualified(&sequence.name)],
            vec![Hazard::new(
                HazardKind::DeletesData,
                format!("drops sequence {} and its current value", sequence.name),
            )],
            TxMode::Transactional,
        ),
    }
    if let [first, second] = steps.as_mut_slice() {
        let (prepare, finish) = match &change {
            Change::AlterColumn { .. } => (
                "adds CHECK (… IS NOT NULL) NOT VALID, without a scan",
                "validates the check, sets NOT NULL without a scan, drops the check",
            ),
            _ => (
                "adds it NOT VALID, without a scan",
                "validates it while writes go on",
            ),
        };
        first.part = Some(prepare.into());
        second.part = Some(finish.into());
    }
    for step in &mut steps {
        if step.transaction != TxMode::NonTransactional {
            continue;
        }
        match &step.change {
            // A build that gave up (lock or statement timeout, cancel) leaves
            // an INVALID index under the name, and the retry would fail with
            // "already exists": drop it first.
            Change::CreateIndex { index } => {
                step.index_build = true;
                step.before_retry = Some(
                    Sql::new()
                        .text("DROP INDEX CONCURRENTLY IF EXISTS ")
                        .qualified(&index.name),
                );
            }
            Change::DropIndex { .. } => step.index_build = true,
            _ => {}
        }
    }
    steps
}

/// `k1 = lit AND k2 = lit`
fn row_condition(key: &[(Ident, SeedValue)]) -> String {
    key.iter()
        .map(|(c, v)| format!("{} = {}", c.quoted(), v.sql))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// `name = "Admin"`, for messages.
pub fn key_text(key: &[(Ident, SeedValue)]) -> String {
    key.iter()
        .map(|(c, v)| format!("{c} = {}", v.display()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn alter_table(table: &Ident) -> Sql {
    Sql::new().text("ALTER TABLE ").qualified(table)
}

fn validate(table: &Ident, constraint: &Ident) -> Sql {
    alter_table(table).text(format!(" VALIDATE CONSTRAINT {}", constraint.quoted()))
}

fn alter_column(
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
            let mut statements = vec![alter(text)];
            // A serial's sequence follows its column's type (serial →
            // bigserial), or it would stop at the old type's limit.
            if let (Some(Identity::Serial { sequence }), Some(Identity::Serial { .. })) =
                (&from.identity, &to.identity)
            {
                if matches!(to.data_type.as_str(), "smallint" | "integer" | "bigint") {
                    statements.push(
                        Sql::new()
                            .text("ALTER SEQUENCE ")
                            .qualified(sequence)
                            .text(format!(" AS {}", to.data_type)),
                    );
                }
            }
            step(statements, hazards, TxMode::Transactional)
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
                Some(Identity::Always | Identity::ByDefault)
                    if !matches!(to.identity, Some(Identity::Always | Identity::ByDefault)) =>
                {
                    statements.push(alter("DROP IDENTITY IF EXISTS".into()));
                }
                _ => {}
            }
            match (&from.identity, &to.identity) {
                (_, Some(Identity::Serial { sequence })) => {
                    statements.push(
                        Sql::new()
                            .text("CREATE SEQUENCE ")
                            .qualified(sequence)
                            .text(format!(" AS {} OWNED BY ", to.data_type))
                            .qualified(table)
                            .text(format!(".{column}")),
                    );
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
                (_, Some(Identity::Always)) => {
                    statements.push(alter("ADD GENERATED ALWAYS AS IDENTITY".into()))
                }
                (_, Some(Identity::ByDefault)) => {
                    statements.push(alter("ADD GENERATED BY DEFAULT AS IDENTITY".into()))
                }
                (_, None) => {}
            }
            step(statements, hazards, TxMode::Transactional)
        }
    }
}

fn add_constraint(
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
    let online_form = ctx.online_for(table)
        && matches!(
            constraint.kind,
            ConstraintKind::ForeignKey(_) | ConstraintKind::Check { .. }
        );
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
fn is_volatile(canonical_default: &str) -> bool {
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
    let from_len = first_modifier(from);
    let to_len = first_modifier(to);
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
        ("numeric", "numeric") => match (numeric_modifiers(from), numeric_modifiers(to)) {
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
        (f, t) if ColumnType::new(f).is_string() && ColumnType::new(t).is_string() => {
            effects(true, true, false)
        }
        _ => effects(true, true, true),
    }
}

fn first_modifier(t: &ColumnType) -> Option<u64> {
    let text = t.as_str();
    let open = text.find('(')?;
    let close = text[open..].find(')')? + open;
    text[open + 1..close].split(',').next()?.trim().parse().ok()
}

fn numeric_modifiers(t: &ColumnType) -> Option<(u64, u64)> {
    let text = t.as_str();
    let open = text.find('(')?;
    let close = text[open..].find(')')? + open;
    let mut parts = text[open + 1..close].split(',');
    let p = parts.next()?.trim().parse().ok()?;
    let s = parts
        .next()
        .map(|s| s.trim().parse().ok())
        .unwrap_or(Some(0))?;
    Some((p, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn effects(from: &str, to: &str) -> (bool, bool) {
        let e = type_change_effects(&ColumnType::new(from), &ColumnType::new(to));
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
