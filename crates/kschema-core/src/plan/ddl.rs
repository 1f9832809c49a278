//! One change → the statements that make it, the hazards they carry and
//! whether they can run inside the target's transaction.
//!
//! For tables that already exist (and hold data), the online forms are the
//! default: `CREATE INDEX CONCURRENTLY`, foreign keys and checks added `NOT
//! VALID` and validated after the transaction commits, `SET NOT NULL`
//! through a validated check so it does not scan under an exclusive lock.
//!
//! One `match` over every change kind; the kinds build their statements in
//! their own files (`column` for a column's changes and added constraints,
//! `routine`, `enum_type`, `view`, `privilege`, …).
//!
//! Over ~600 lines: the one `match` from change to statements, with the
//! table kinds' online forms inline; the other kinds already delegate.

use std::collections::{BTreeMap, BTreeSet};

use super::column::{add_constraint, alter_column, is_volatile};
pub use super::column::{type_change_effects, TypeChangeEffects};
use super::{
    composite, convert, domain, enum_type, extension, privilege, routine, view, Step, TxMode,
};
use crate::definition::{
    column_definition, comment_on, comment_on_object, constraint_sql, create_index,
    create_index_on, create_table, replica_identity, sequence_options, storage_parameter_list,
    ExprStyle,
};
use crate::diff::{domain_steps, CallerAround, Change};
use crate::hazard::{Hazard, HazardKind};
use crate::ident::Ident;
use crate::model::{IndexExpr, SchemaName};
use crate::normalize::names::{index_expression_name, join_column_names, NameChooser};
use crate::seed_value::SeedValue;
use crate::sql::Sql;

/// What the statement generator needs to know beyond the change itself.
pub struct DdlContext {
    /// Tables (and materialized views) created by this plan: nothing reads
    /// them yet, so no online forms and no data hazards apply to them.
    new_tables: BTreeSet<Ident>,
    /// Indexes this plan builds concurrently (after the transaction).
    online_indexes: BTreeSet<Ident>,
    /// Indexes this plan drops and builds again under the same name (a
    /// changed definition, or left invalid by an interrupted build).
    rebuilt_indexes: BTreeSet<Ident>,
    /// Use the online forms for existing tables (`--no-online` turns them off).
    online: bool,
    /// The partitioned tables of the desired state.
    partitioned: BTreeSet<Ident>,
    /// Each partitioned table's partitions, by name.
    partitions: BTreeMap<Ident, Vec<Ident>>,
    /// The desired state's relation names (tables, views, sequences,
    /// indexes): the names a partition's index must not take.
    relation_names: BTreeSet<String>,
    /// The desired state's indexes on partitioned tables.
    partitioned_indexes: Vec<crate::model::Index>,
    /// Partitioned tables a partition leaves in this plan (dropped or
    /// detached): an index built partition by partition would stay
    /// invalid, the leaving one never getting its own.
    losing_partitions: BTreeSet<Ident>,
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
        let dropped_indexes: BTreeSet<&Ident> = changes
            .iter()
            .filter_map(|c| match c {
                Change::DropIndex { index } => Some(&index.name),
                _ => None,
            })
            .collect();
        let rebuilt_indexes = changes
            .iter()
            .filter_map(|c| match c {
                Change::CreateIndex { index } if dropped_indexes.contains(&index.name) => {
                    Some(index.name.clone())
                }
                _ => None,
            })
            .collect();
        let mut ctx = DdlContext {
            new_tables,
            online_indexes: BTreeSet::new(),
            rebuilt_indexes,
            online,
            partitioned: BTreeSet::new(),
            partitions: BTreeMap::new(),
            relation_names: BTreeSet::new(),
            partitioned_indexes: Vec::new(),
            losing_partitions: changes
                .iter()
                .filter_map(|c| match c {
                    Change::DropTable { table } => table.partition_of.as_ref(),
                    Change::SetPartitionOf { from, .. } => from.as_ref(),
                    _ => None,
                })
                .map(|of| of.parent.clone())
                .collect(),
        };
        ctx.online_indexes = changes
            .iter()
            .filter_map(|c| match c {
                Change::CreateIndex { index } if ctx.online_for_index(index) => {
                    Some(index.name.clone())
                }
                _ => None,
            })
            .collect();
        ctx
    }
    pub(super) fn existing(&self, table: &Ident) -> bool {
        !self.new_tables.contains(table)
    }
    pub(super) fn online_for(&self, table: &Ident) -> bool {
        self.online && self.existing(table)
    }
    /// The context that knows which of the desired state's tables are
    /// partitioned (some online forms do not exist for them).
    pub fn with_partitioned(mut self, model: &crate::model::SchemaModel) -> Self {
        self.partitioned = model
            .tables
            .values()
            .filter(|t| t.partition_key.is_some())
            .map(|t| t.name.clone())
            .collect();
        for table in model.tables.values() {
            if let Some(of) = &table.partition_of {
                self.partitions
                    .entry(of.parent.clone())
                    .or_default()
                    .push(table.name.clone());
            }
        }
        self.relation_names = model
            .tables
            .keys()
            .chain(model.views.keys())
            .chain(model.sequences.keys())
            .chain(model.indexes.keys())
            .map(|name| name.as_str().to_string())
            .chain(
                model
                    .tables
                    .values()
                    .flat_map(|t| &t.constraints)
                    .map(|c| c.name.as_str().to_string()),
            )
            .collect();
        self.partitioned_indexes = model
            .indexes
            .values()
            .filter(|i| i.partitioned)
            .cloned()
            .collect();
        self
    }

    /// How a new index on an existing partitioned table is built without
    /// blocking writes: each partition's index (under the name PostgreSQL
    /// would give it), to build concurrently and attach. `None` where that
    /// cannot be done safely — a partition partitioned itself, or another
    /// index of the table whose partitions' names could clash — and the
    /// index is built the blocking way.
    fn partition_builds(&self, index: &crate::model::Index) -> Option<Vec<(Ident, Ident)>> {
        if !self.online_for(&index.table) || !index.partitioned {
            return None;
        }
        let partitions = self.partitions.get(&index.table)?;
        if partitions.iter().any(|p| self.partitioned.contains(p))
            || self.losing_partitions.contains(&index.table)
        {
            return None;
        }
        let addition = index_name_addition(index);
        let clash = self.partitioned_indexes.iter().any(|other| {
            other.name != index.name
                && other.table == index.table
                && index_name_addition(other) == addition
        });
        if clash {
            return None;
        }
        let mut names = NameChooser::default();
        for taken in &self.relation_names {
            names.reserve(taken);
        }
        Some(
            partitions
                .iter()
                .map(|partition| {
                    let name = names.choose(partition.as_str(), Some(&addition), "idx");
                    (partition.clone(), Ident::new(name))
                })
                .collect(),
        )
    }
    pub(super) fn partitioned(&self, table: &Ident) -> bool {
        self.partitioned.contains(table)
    }
    /// PostgreSQL builds and drops an index of a partitioned table on every
    /// partition at once, never concurrently.
    fn online_for_index(&self, index: &crate::model::Index) -> bool {
        self.online_for(&index.table) && !index.partitioned
    }
    /// The name an index rebuilt online is built under, beside the one it
    /// replaces, so queries never go without it: the old one is dropped
    /// once the new one is ready, and the new one takes its name.
    pub(super) fn building_name(&self, index: &crate::model::Index) -> Option<Ident> {
        (self.rebuilt_indexes.contains(&index.name) && self.online_for_index(index)).then(|| {
            Ident::new(crate::ident::with_suffix(
                index.name.as_str(),
                "_kschema_new",
            ))
        })
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
        Change::CreateTable { table } => {
            let (before, after) = crate::definition::serial_sequences_around(table);
            step(
                before
                    .into_iter()
                    .chain(std::iter::once(create_table(table, ExprStyle::Authored)))
                    .chain(after)
                    .collect(),
                vec![],
                TxMode::Transactional,
            )
        }
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
        Change::DropTableToRepartition { table } => step(
            vec![Sql::new().text("DROP TABLE ").qualified(&table.name)],
            vec![Hazard::new(
                HazardKind::DeletesData,
                format!(
                    "drops table {} and every row in it (and in its partitions): PostgreSQL cannot change how a table is partitioned",
                    table.name
                ),
            )],
            TxMode::Transactional,
        ),
        Change::SetPartitionColumns {
            table,
            from,
            to,
            inherited,
        } => {
            let (statements, hazards) = partition_column_statements(table, from, to, inherited);
            step(statements, hazards, TxMode::Transactional)
        }
        Change::SetPartitionOf { table, from, to } => {
            let mut statements = Vec::new();
            let mut hazards = Vec::new();
            if let Some(from) = from {
                statements.push(
                    alter_table(&from.parent)
                        .text(" DETACH PARTITION ")
                        .qualified(table),
                );
            }
            if let Some(to) = to {
                statements.push(
                    alter_table(&to.parent)
                        .text(" ATTACH PARTITION ")
                        .qualified(table)
                        .text(format!(" {}", to.bound.sql)),
                );
                hazards.push(Hazard::new(
                    HazardKind::ValidatesConstraint,
                    format!(
                        "attaching {table} to {} scans it under an ACCESS EXCLUSIVE lock to check every row is {} (and a default partition of {} is scanned too)",
                        to.parent, to.bound.sql, to.parent
                    ),
                ));
            }
            step(statements, hazards, TxMode::Transactional)
        }
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
            let mut statements: Vec<Sql> = crate::definition::serial_sequence_before(table, column)
                .into_iter()
                .collect();
            let add = alter_table(table).text(" ADD COLUMN ");
            statements.push(match crate::definition::serial_named_apart(table, column) {
                Some(sequence) => crate::definition::serial_apart_definition(add, column, sequence),
                None => add.text(column_definition(column, ExprStyle::Authored)),
            });
            statements.extend(crate::definition::serial_sequence_after(table, column));
            step(statements, hazards, TxMode::Transactional)
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
        Change::SetReplicaIdentity { table, identity } => {
            // An index built concurrently exists only after the transaction.
            let after_build = crate::model::ReplicaIdentity::index(identity.as_ref())
                .is_some_and(|index| ctx.online_indexes.contains(index));
            step(
                vec![replica_identity(table, identity.as_ref())],
                vec![],
                match after_build {
                    true => TxMode::NonTransactional,
                    false => TxMode::Transactional,
                },
            )
        }
        // A table or index is copied, file by file, to its new tablespace
        // under an ACCESS EXCLUSIVE lock (a partitioned table's only says
        // where its new partitions go). `pg_default` for the database's
        // default: see the README's limits.
        Change::SetTablespace {
            table,
            index,
            tablespace,
            partitioned,
        } => {
            let to = tablespace
                .as_ref()
                .map_or_else(|| "pg_default".to_string(), |name| name.quoted().to_string());
            let (sql, what) = match index {
                Some(index) => (
                    Sql::new().text("ALTER INDEX ").qualified(index),
                    format!("index {index}"),
                ),
                None => (alter_table(table), table.to_string()),
            };
            let mut hazards = Vec::new();
            if !*partitioned && ctx.existing(table) {
                hazards.push(Hazard::new(
                    HazardKind::AccessExclusiveLock,
                    format!(
                        "copies {what} to tablespace {to} under an ACCESS EXCLUSIVE lock on {table}: reads and writes wait until it is done"
                    ),
                ));
            }
            step(
                vec![sql.text(format!(" SET TABLESPACE {to}"))],
                hazards,
                TxMode::Transactional,
            )
        }
        // Storage parameters change the catalog only (new rows and the next
        // vacuum follow them).
        Change::SetStorageParameters {
            table,
            index,
            set,
            reset,
        } => {
            let alter = || match index {
                Some(index) => Sql::new().text("ALTER INDEX ").qualified(index),
                None => alter_table(table),
            };
            let mut statements = Vec::new();
            if !set.is_empty() {
                statements.push(alter().text(format!(" SET ({})", storage_parameter_list(set))));
            }
            if !reset.is_empty() {
                statements.push(alter().text(format!(" RESET ({})", reset.join(", "))));
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
            if let Some(children) = ctx.partition_builds(index) {
                return partitioned_index_builds(&change, index, &children);
            }
            let online = ctx.online_for_index(index);
            let hazards = if ctx.existing(&index.table) && index.partitioned {
                vec![Hazard::new(
                    HazardKind::BuildsIndex,
                    format!(
                        "builds index {} over every partition of {}, blocking writes to them meanwhile (a partitioned table's index cannot be built concurrently)",
                        index.name, index.table
                    ),
                )]
            } else if ctx.existing(&index.table) {
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
            let statements = match ctx.building_name(index) {
                // What an interrupted rebuild left under the working name
                // goes first.
                Some(building) => vec![
                    Sql::new()
                        .text("DROP INDEX CONCURRENTLY IF EXISTS ")
                        .qualified(&building),
                    create_index(
                        &crate::model::Index {
                            name: building,
                            ..index.clone()
                        },
                        online,
                        ExprStyle::Authored,
                    ),
                ],
                None => vec![create_index(index, online, ExprStyle::Authored)],
            };
            step(statements, hazards, mode)
        }
        Change::DropIndex { index } => {
            if let Some(building) = ctx.building_name(index) {
                // Its replacement is built by then (`replacement_first`).
                step(
                    vec![
                        Sql::new()
                            .text("DROP INDEX CONCURRENTLY IF EXISTS ")
                            .qualified(&index.name),
                        Sql::new()
                            .text("ALTER INDEX IF EXISTS ")
                            .qualified(&building)
                            .text(format!(" RENAME TO {}", index.name.quoted())),
                    ],
                    vec![],
                    TxMode::NonTransactional,
                );
                return finish_steps(steps, &change, ctx);
            }
            let online = ctx.online_for_index(index);
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
                .text(sequence_options(to, from.options.start != to.options.start))],
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
        Change::RecreateFunction { from, to, callers } => {
            let (recreate, mut hazards) = routine::recreate_function(from, to);
            let (take_off, put_back, caller_hazards) = callers_around(callers);
            hazards.extend(caller_hazards);
            let statements = take_off.into_iter().chain(recreate).chain(put_back).collect();
            step(statements, hazards, TxMode::Transactional)
        }
        Change::DropFunction {
            function,
            before_types,
            dropped,
        } => {
            let hazards = match before_types.is_empty() || *dropped {
                true => vec![],
                false => vec![Hazard::new(
                    HazardKind::RecreatesObject,
                    format!(
                        "{} {} is dropped before its types are created again ({}) and created after them; privileges of roles that are not managed go with it",
                        function.kind(),
                        function.name,
                        before_types
                            .iter()
                            .map(|t| t.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )],
            };
            step(
                vec![routine::drop_function(function)],
                hazards,
                TxMode::Transactional,
            )
        }
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
            enum_type::add_values(name, additions, false),
            vec![],
            TxMode::Transactional,
        ),
        Change::RecreateEnum { .. }
        | Change::RecreateDomain { .. }
        | Change::RecreateComposite { .. } => {
            let (statements, hazards) = convert::recreate_type(&change).unwrap_or_default();
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
        Change::DropForeignViews { views } => {
            let statements = views
                .iter()
                .map(|foreign| {
                    Sql::new().text(view::drop_view(&foreign.view).render(&foreign.schema))
                })
                .collect();
            let mut hazards = vec![Hazard::new(
                HazardKind::RecreatesObject,
                format!(
                    "drops {} view(s) of other schemas that read what this schema changes and creates them again after it, in this transaction; their grants and comments are given again, queries on them wait meanwhile",
                    views.len()
                ),
            )];
            let materialized = views.iter().filter(|f| f.view.materialized).count();
            if materialized > 0 {
                let indexes = match views.iter().map(|f| f.indexes.len()).sum::<usize>() {
                    0 => String::new(),
                    n => format!(" and builds their {n} index(es) again"),
                };
                hazards.push(Hazard::new(
                    HazardKind::RefillsView,
                    format!(
                        "fills {materialized} materialized view(s) of other schemas again by running their queries over every row they read{indexes}, in this transaction"
                    ),
                ));
            }
            step(statements, hazards, TxMode::Transactional)
        }
        Change::CreateForeignViews { views } => {
            let mut statements = Vec::new();
            for foreign in views {
                let schema = &foreign.schema;
                statements.push(in_schema(schema, set_search_path()));
                statements.push(in_schema(schema, view::create_view(&foreign.view)));
                for index in &foreign.indexes {
                    statements.push(in_schema(
                        schema,
                        create_index(index, false, ExprStyle::Authored),
                    ));
                }
                for grant in &foreign.grants {
                    statements.push(in_schema(
                        schema,
                        privilege::grant(
                            &grant.object,
                            &grant.role,
                            std::slice::from_ref(&grant.privilege),
                            grant.grantable,
                        ),
                    ));
                }
                for (object, comment) in &foreign.comments {
                    statements.push(in_schema(schema, comment_on_object(object, Some(comment))));
                }
            }
            statements.push(set_search_path());
            step(statements, vec![], TxMode::Transactional)
        }
        Change::DropForeignCallers { callers } => {
            let mut statements = Vec::new();
            // A fleet's thousands of checks and indexes: one line each kind.
            let (mut checks, mut indexes) = (0, 0);
            for foreign in callers {
                let schema = &foreign.schema;
                for (table, policy) in &foreign.policies {
                    statements.push(in_schema(schema, routine::drop_policy(table, &policy.name)));
                }
                let (take_off, _, caller_hazards) = callers_around(&foreign.around);
                statements.extend(take_off.into_iter().map(|sql| in_schema(schema, sql)));
                for hazard in caller_hazards {
                    match hazard.kind {
                        HazardKind::ValidatesConstraint => checks += 1,
                        _ => indexes += 1,
                    }
                }
            }
            let mut hazards = Vec::new();
            if checks > 0 {
                hazards.push(Hazard::new(
                    HazardKind::ValidatesConstraint,
                    format!("checks the rows of other schemas against {checks} check(s) again, inside the transaction (their function is created again)"),
                ));
            }
            if indexes > 0 {
                hazards.push(Hazard::new(
                    HazardKind::BuildsIndex,
                    format!("builds {indexes} index(es) of other schemas again inside the transaction, writes to their tables waiting (their function is created again)"),
                ));
            }
            hazards.push(Hazard::new(
                HazardKind::RecreatesObject,
                format!(
                    "takes off {} object(s) of other schemas that call or read what changes here and puts them back after it, in this transaction; queries on their tables wait meanwhile",
                    callers.iter().map(|c| c.policies.len() + c.around.len()).sum::<usize>()
                ),
            ));
            step(statements, hazards, TxMode::Transactional)
        }
        Change::CreateForeignCallers { callers } => {
            let mut statements = Vec::new();
            for foreign in callers {
                let schema = &foreign.schema;
                statements.push(in_schema(schema, set_search_path()));
                let (_, put_back, _) = callers_around(&foreign.around);
                statements.extend(put_back.into_iter().map(|sql| in_schema(schema, sql)));
                for (_, policy) in &foreign.policies {
                    statements.push(in_schema(schema, routine::create_policy(policy)));
                }
            }
            statements.push(set_search_path());
            step(statements, vec![], TxMode::Transactional)
        }
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
    finish_steps(steps, &change, ctx)
}

/// `ALTER TABLE p ALTER COLUMN c …` for each of a partition's columns whose
/// own default or `NOT NULL` changes; a default given up goes back to the
/// parent's (`inherited`).
fn partition_column_statements(
    table: &Ident,
    from: &[crate::model::PartitionColumn],
    to: &[crate::model::PartitionColumn],
    inherited: &[(Ident, Option<crate::model::SqlExpr>)],
) -> (Vec<Sql>, Vec<Hazard>) {
    let mut names: Vec<&Ident> = from.iter().chain(to).map(|c| &c.name).collect();
    names.sort();
    names.dedup();
    let mut statements = Vec::new();
    let mut hazards = Vec::new();
    for name in names {
        let was = from.iter().find(|c| &c.name == name);
        let will = to.iter().find(|c| &c.name == name);
        let alter = || {
            Sql::new()
                .text("ALTER TABLE ")
                .qualified(table)
                .text(format!(" ALTER COLUMN {} ", name.quoted()))
        };
        let was_default = was.and_then(|c| c.default.as_ref());
        let will_default = will.and_then(|c| c.default.as_ref());
        if was_default != will_default {
            let default = will_default.or_else(|| {
                inherited
                    .iter()
                    .find(|(column, _)| column == name)
                    .and_then(|(_, default)| default.as_ref())
            });
            // `DEFAULT NULL` is how a partition drops its parent's.
            statements.push(match default {
                Some(default) if default.sql != "NULL" => {
                    alter().text(format!("SET DEFAULT {}", default.sql))
                }
                _ => alter().text("DROP DEFAULT"),
            });
        }
        let was_not_null = was.is_some_and(|c| c.not_null);
        let will_not_null = will.is_some_and(|c| c.not_null);
        if was_not_null != will_not_null {
            statements.push(alter().text(if will_not_null {
                "SET NOT NULL"
            } else {
                "DROP NOT NULL"
            }));
        }
        if will_not_null && !was_not_null {
            hazards.push(Hazard::new(
                HazardKind::AccessExclusiveLock,
                format!("scans every row of partition {table} to set NOT NULL on {name}, blocking its reads and writes meanwhile"),
            ));
        }
    }
    (statements, hazards)
}

/// An index rebuilt online is built before the old one is dropped (see
/// `DdlContext::building_name`): its build moves up to the drop's place.
pub(super) fn replacement_first(steps: &mut Vec<Step>, ctx: &DdlContext) {
    let mut at = 0;
    while at < steps.len() {
        if let Change::DropIndex { index } = &steps[at].change {
            if ctx.building_name(index).is_some() {
                let build = steps[at + 1..].iter().position(|later| {
                    matches!(&later.change, Change::CreateIndex { index: built } if built.name == index.name)
                });
                if let Some(offset) = build {
                    let step = steps.remove(at + 1 + offset);
                    steps.insert(at, step);
                    at += 1;
                }
            }
        }
        at += 1;
    }
}

/// What every change's steps get once made: the parts of an index built
/// beside the one it replaces, the lock budget and cleanup of what runs
/// after the commit.
fn finish_steps(mut steps: Vec<Step>, change: &Change, ctx: &DdlContext) -> Vec<Step> {
    let rebuilt = match change {
        Change::CreateIndex { index } | Change::DropIndex { index } => ctx.building_name(index),
        _ => None,
    };
    if let (Some(building), [only]) = (rebuilt, steps.as_mut_slice()) {
        only.part = Some(match change {
            Change::CreateIndex { .. } => format!("built as {building} beside the old one"),
            _ => "drops the old one once the new one is built; the new one takes its name".into(),
        });
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
                let built = ctx
                    .building_name(index)
                    .unwrap_or_else(|| index.name.clone());
                step.before_retry = Some(
                    Sql::new()
                        .text("DROP INDEX CONCURRENTLY IF EXISTS ")
                        .qualified(&built),
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

/// What calls a function dropped and created again: the statements that
/// take it off before the drop (`IF EXISTS`: the plan may have dropped it
/// already) and put it back after the create, as it is live, and what
/// putting it back costs.
fn callers_around(callers: &[CallerAround]) -> (Vec<Sql>, Vec<Sql>, Vec<Hazard>) {
    let (mut take_off, mut put_back, mut hazards) = (Vec::new(), Vec::new(), Vec::new());
    for caller in callers {
        match caller {
            CallerAround::Default {
                table,
                column,
                put_back: default,
            } => {
                let alter =
                    || alter_table(table).text(format!(" ALTER COLUMN {} ", column.quoted()));
                take_off.push(alter().text("DROP DEFAULT"));
                if let Some(default) = default {
                    put_back.push(alter().text(format!("SET DEFAULT {}", default.sql)));
                }
            }
            CallerAround::Constraint {
                table,
                constraint,
                put_back: again,
            } => {
                take_off.push(alter_table(table).text(format!(
                    " DROP CONSTRAINT IF EXISTS {}",
                    constraint.name.quoted()
                )));
                if *again {
                    let add = constraint_sql(
                        alter_table(table).text(" ADD "),
                        constraint,
                        true,
                        ExprStyle::Authored,
                    );
                    put_back.push(match constraint.validated {
                        true => add,
                        false => add.text(" NOT VALID"),
                    });
                    if constraint.validated {
                        hazards.push(Hazard::new(
                            HazardKind::ValidatesConstraint,
                            format!(
                                "checks every row of {table} against {} again, inside the transaction (its function is created again)",
                                constraint.name
                            ),
                        ));
                    }
                }
            }
            CallerAround::Index {
                index,
                put_back: again,
            } => {
                take_off.push(
                    Sql::new()
                        .text("DROP INDEX IF EXISTS ")
                        .qualified(&index.name),
                );
                if *again {
                    put_back.push(create_index(index, false, ExprStyle::Authored));
                    hazards.push(Hazard::new(
                        HazardKind::BuildsIndex,
                        format!(
                            "builds index {} on {} again inside the transaction, writes to it waiting (its function is created again)",
                            index.name, index.table
                        ),
                    ));
                }
            }
        }
    }
    (take_off, put_back, hazards)
}

/// `SET LOCAL search_path TO` the path of the schema the statement is
/// rendered for: before another schema's statements (their text names its
/// objects bare, as its path resolves them), and after them, back to the
/// target's own.
pub(super) fn set_search_path() -> Sql {
    Sql::new().text("SET LOCAL search_path TO ").search_path()
}

/// `sql` rendered for `schema`, another than the target's.
pub(super) fn in_schema(schema: &SchemaName, sql: Sql) -> Sql {
    Sql::new().text(sql.render(schema))
}

pub(super) fn alter_table(table: &Ident) -> Sql {
    Sql::new().text("ALTER TABLE ").qualified(table)
}

pub(super) fn validate(table: &Ident, constraint: &Ident) -> Sql {
    alter_table(table).text(format!(" VALIDATE CONSTRAINT {}", constraint.quoted()))
}

/// PostgreSQL's `ChooseIndexNameAddition` of an index's columns (keys,
/// then `INCLUDE`): their names joined by `_`, `expr` for an expression,
/// a repeated name numbered (`a`, `a1`).
fn index_name_addition(index: &crate::model::Index) -> String {
    let mut names: Vec<String> = Vec::new();
    let given = index
        .keys
        .iter()
        .map(|key| match &key.expr {
            IndexExpr::Column(column) => column.as_str().to_string(),
            // As written: PostgreSQL names by the expression it was given
            // (`(a + 1)::integer` is `int4`, though stored as `(a + 1)`).
            IndexExpr::Expression(expr) => index_expression_name(&expr.sql),
        })
        .chain(index.include.iter().map(|c| c.as_str().to_string()));
    for name in given {
        let mut candidate = name.clone();
        let mut n = 1;
        while names.contains(&candidate) {
            candidate = format!("{name}{n}");
            n += 1;
        }
        names.push(candidate);
    }
    join_column_names(names.iter().map(String::as_str))
}

/// A new index on an existing partitioned table, built without blocking
/// writes: the parent's index alone (`ON ONLY`, in the transaction; it is
/// invalid until every partition's is attached), then each partition's
/// built concurrently and attached, a step each (a build that gives up
/// leaves an invalid index, dropped before the retry).
fn partitioned_index_builds(
    change: &Change,
    index: &crate::model::Index,
    children: &[(Ident, Ident)],
) -> Vec<Step> {
    let step = |part: String, statements: Vec<Sql>, transaction: TxMode| Step {
        change: change.clone(),
        part: Some(part),
        statements,
        hazards: Vec::new(),
        transaction,
        before_retry: None,
        index_build: transaction == TxMode::NonTransactional,
        allowed_by_annotation: Vec::new(),
        after_tenants: false,
    };
    let mut first = step(
        format!(
            "on {} alone, valid once each partition's is attached",
            index.table
        ),
        vec![create_index_on(index, false, true, ExprStyle::Authored)],
        TxMode::Transactional,
    );
    first.hazards.push(Hazard::new(
        HazardKind::BuildsIndex,
        format!(
            "builds index {} on each of the {} partitions of {}, concurrently, one after the other (writes go on)",
            index.name,
            children.len(),
            index.table
        ),
    ));
    let mut steps = vec![first];
    for (partition, child) in children {
        let own = crate::model::Index {
            name: child.clone(),
            table: partition.clone(),
            ..index.clone()
        };
        let mut build = step(
            format!("on partition {partition} concurrently, as {child}, attached"),
            vec![
                create_index(&own, true, ExprStyle::Authored),
                Sql::new()
                    .text("ALTER INDEX ")
                    .qualified(&index.name)
                    .text(" ATTACH PARTITION ")
                    .qualified(child),
            ],
            TxMode::NonTransactional,
        );
        build.before_retry = Some(
            Sql::new()
                .text("DROP INDEX CONCURRENTLY IF EXISTS ")
                .qualified(child),
        );
        steps.push(build);
    }
    steps
}
