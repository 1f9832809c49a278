//! Live model vs desired model → the closed set of [`Change`]s between them.
//!
//! Matching rules:
//! - tables, columns and sequences match by name (a column's position is
//!   never a difference: PostgreSQL cannot reorder columns);
//! - constraints and indexes match by name and definition; one the desired
//!   state left unnamed matches a live one of the same definition whatever
//!   PostgreSQL called it; an explicitly named one whose definition exists
//!   live under another name is a rename;
//! - a live constraint `NOT VALID` is validated when the files say it holds
//!   (one declared `NOT VALID` is kept so), an index left invalid is
//!   rebuilt: neither is ignored.
//!
//! Longer than ~600 lines: tables, columns, constraints, indexes, sequences,
//! comments and seed rows are compared here; the other kinds have their own
//! files (`routine`, `enum_type`, `extension`, `view`, `policy`,
//! `privilege`), and the table parts split out next (issue 11).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::ident::Ident;
use crate::load::seeds::Seed;
use crate::load::{LoadedScope, ObjectKey};
use crate::model::{
    Column, Commented, CompositeType, Constraint, ConstraintKind, Domain, DomainCheck,
    EnumAddition, EnumType, EventTrigger, Extension, Function, GrantObject, Identity, Index,
    IndexExpr, Policy, ReplicaIdentity, RowSecurity, SchemaModel, SchemaRef, Sequence, Table,
    Trigger, TriggerFiring, View,
};

mod comment;
mod composite;
pub use composite::AttributeStep;
mod domain;
pub use domain::{domain_steps, DomainStep};
mod enum_type;
mod extension;
mod policy;
mod privilege;
mod routine;
mod view;
use crate::seed_value::{canonical_live, from_live, SeedValue};

/// One difference between live and desired state, relative to one schema.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
// A plan holds a handful of changes per distinct shape, not millions:
// boxing `AlterColumn`'s two columns would save nothing measurable and
// cost every pattern that reads them.
#[allow(clippy::large_enum_variant)]
pub enum Change {
    CreateSchema,
    /// From a `-- kschema:renamed-from` annotation.
    RenameTable {
        from: Ident,
        to: Ident,
    },
    /// From a `-- kschema:renamed-from` annotation.
    RenameColumn {
        table: Ident,
        from: Ident,
        to: Ident,
    },
    CreateTable {
        table: Table,
    },
    DropTable {
        table: Table,
    },
    AddColumn {
        table: Ident,
        column: Column,
    },
    DropColumn {
        table: Ident,
        column: Column,
    },
    AlterColumn {
        table: Ident,
        from: Column,
        to: Column,
        kind: ColumnChange,
        /// For a type change: how to convert the values, from a
        /// `-- kschema:using` annotation on the column.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        using: Option<String>,
    },
    /// `SET LOGGED` / `SET UNLOGGED`.
    SetPersistence {
        table: Ident,
        unlogged: bool,
    },
    /// `COMMENT ON TABLE` (no column) or `COLUMN`; `None` removes it.
    SetComment {
        table: Ident,
        column: Option<Ident>,
        comment: Option<String>,
    },
    /// `REPLICA IDENTITY FULL`, `NOTHING` or `DEFAULT` (`None`).
    SetReplicaIdentity {
        table: Ident,
        identity: Option<ReplicaIdentity>,
    },
    /// `SET (…)` and `RESET (…)` of storage parameters.
    SetStorageParameters {
        table: Ident,
        set: Vec<(String, String)>,
        reset: Vec<String>,
    },
    AddConstraint {
        table: Ident,
        constraint: Constraint,
    },
    DropConstraint {
        table: Ident,
        constraint: Constraint,
    },
    ValidateConstraint {
        table: Ident,
        constraint: Constraint,
    },
    RenameConstraint {
        table: Ident,
        from: Ident,
        to: Ident,
    },
    CreateIndex {
        index: Index,
    },
    DropIndex {
        index: Index,
    },
    RenameIndex {
        from: Ident,
        to: Ident,
    },
    CreateSequence {
        sequence: Sequence,
    },
    DropSequence {
        sequence: Sequence,
    },
    AlterSequence {
        from: Sequence,
        to: Sequence,
    },
    /// A declared seed row that is missing.
    InsertRow {
        table: Ident,
        key: Vec<(Ident, SeedValue)>,
        values: Vec<(Ident, SeedValue)>,
    },
    /// A declared seed row whose seeded columns differ.
    UpdateRow {
        table: Ident,
        key: Vec<(Ident, SeedValue)>,
        set: Vec<RowUpdate>,
    },
    /// A live row a `prune = true` seed does not declare.
    DeleteRow {
        table: Ident,
        key: Vec<(Ident, SeedValue)>,
    },
    CreateFunction {
        function: Function,
    },
    /// `CREATE OR REPLACE`: same interface, another body or options.
    ReplaceFunction {
        from: Function,
        to: Function,
    },
    /// `DROP` and `CREATE`: `CREATE OR REPLACE` cannot change the result
    /// type or the argument names.
    RecreateFunction {
        from: Function,
        to: Function,
    },
    DropFunction {
        function: Function,
    },
    CreateTrigger {
        table: Ident,
        trigger: Trigger,
    },
    /// `CREATE OR REPLACE TRIGGER` (a constraint trigger: drop and create).
    ReplaceTrigger {
        table: Ident,
        from: Trigger,
        to: Trigger,
    },
    DropTrigger {
        table: Ident,
        trigger: Trigger,
    },
    /// `ENABLE` / `DISABLE TRIGGER`.
    SetTriggerFiring {
        table: Ident,
        trigger: Ident,
        firing: TriggerFiring,
    },
    CreateEnum {
        enum_type: EnumType,
    },
    /// `ALTER TYPE … ADD VALUE`, one per new label.
    AddEnumValues {
        name: Ident,
        additions: Vec<EnumAddition>,
    },
    /// Labels removed or reordered: the type is created again under its
    /// name and the columns that use it are converted to it.
    RecreateEnum {
        from: EnumType,
        to: EnumType,
        columns: Vec<EnumColumn>,
        /// Indexes whose expressions read those columns: dropped first,
        /// built again after (`CreateIndex`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        indexes: Vec<Ident>,
    },
    DropEnum {
        enum_type: EnumType,
    },
    CreateDomain {
        domain: Domain,
    },
    /// `ALTER DOMAIN`: the default (`Some(None)` drops it), NOT NULL, and
    /// checks dropped, added and validated.
    AlterDomain {
        name: Ident,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<Option<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        not_null: Option<bool>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        drop_checks: Vec<DomainCheck>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        add_checks: Vec<DomainCheck>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        validate_checks: Vec<DomainCheck>,
    },
    /// A new base type or collation: dropped and created again (a column
    /// of the domain makes the drop fail).
    RecreateDomain {
        from: Domain,
        to: Domain,
    },
    DropDomain {
        domain: Domain,
    },
    CreateComposite {
        composite: CompositeType,
    },
    /// `ALTER TYPE … DROP / ALTER / ADD ATTRIBUTE`, in that order.
    AlterComposite {
        name: Ident,
        steps: Vec<AttributeStep>,
        /// Live columns are of the type: a dropped attribute loses their
        /// values of it.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        in_use: bool,
    },
    /// Attributes reordered or inserted before others, or a type changed
    /// that a column uses: dropped and created again (a column or
    /// function of the type makes the drop fail).
    RecreateComposite {
        from: CompositeType,
        to: CompositeType,
    },
    DropComposite {
        composite: CompositeType,
    },
    CreateEventTrigger {
        trigger: EventTrigger,
    },
    /// `ALTER EVENT TRIGGER … ENABLE / DISABLE`.
    SetEventTriggerFiring {
        name: Ident,
        firing: TriggerFiring,
    },
    DropEventTrigger {
        trigger: EventTrigger,
    },
    CreateExtension {
        extension: Extension,
    },
    /// `ALTER EXTENSION … UPDATE TO` and/or `SET SCHEMA`.
    AlterExtension {
        name: Ident,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        version: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<Ident>,
    },
    DropExtension {
        extension: Extension,
    },
    CreateView {
        view: View,
    },
    /// `CREATE OR REPLACE VIEW`: the same columns, maybe more at the end.
    ReplaceView {
        from: View,
        to: View,
    },
    DropView {
        view: View,
    },
    CreatePolicy {
        table: Ident,
        policy: Policy,
    },
    DropPolicy {
        table: Ident,
        policy: Policy,
    },
    /// `ENABLE` / `DISABLE` and `FORCE` / `NO FORCE ROW LEVEL SECURITY`.
    SetRowSecurity {
        table: Ident,
        from: RowSecurity,
        to: RowSecurity,
    },
    /// `GRANT privileges ON object TO role [WITH GRANT OPTION]`.
    Grant {
        object: GrantObject,
        role: Ident,
        privileges: Vec<String>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        grantable: bool,
    },
    /// `REVOKE privileges ON object FROM role`.
    Revoke {
        object: GrantObject,
        role: Ident,
        privileges: Vec<String>,
    },
    /// `COMMENT ON` what is not a table or column; `None` removes it.
    CommentOn {
        object: Commented,
        comment: Option<String>,
    },
}

/// A live column of an enum type being created again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnumColumn {
    pub table: Ident,
    pub column: Ident,
    /// Of the enum's array type.
    pub array: bool,
    /// Whether it has a default, which it loses while it converts.
    pub had_default: bool,
    /// The default the files give it, set again after.
    pub default: Option<crate::model::SqlExpr>,
}

/// One column of an [`Change::UpdateRow`]: what it is, what it becomes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowUpdate {
    pub column: Ident,
    pub from: serde_json::Value,
    pub to: SeedValue,
}

/// Which property of a column an [`Change::AlterColumn`] changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnChange {
    /// Type or collation.
    Type,
    Default,
    Nullability,
    /// Serial, identity or neither.
    Identity,
    /// A stored generated column's expression: dropped (`DROP EXPRESSION`,
    /// the values stay), or new (the column is dropped and added again,
    /// which computes every row).
    Generated,
}

impl Change {
    /// The table the change is about, if any.
    pub fn table(&self) -> Option<&Ident> {
        match self {
            Change::CreateTable { table } | Change::DropTable { table } => Some(&table.name),
            Change::AddColumn { table, .. }
            | Change::DropColumn { table, .. }
            | Change::AlterColumn { table, .. }
            | Change::RenameColumn { table, .. }
            | Change::AddConstraint { table, .. }
            | Change::DropConstraint { table, .. }
            | Change::ValidateConstraint { table, .. }
            | Change::RenameConstraint { table, .. }
            | Change::SetPersistence { table, .. }
            | Change::SetReplicaIdentity { table, .. }
            | Change::SetComment { table, .. }
            | Change::SetStorageParameters { table, .. }
            | Change::CreateTrigger { table, .. }
            | Change::ReplaceTrigger { table, .. }
            | Change::DropTrigger { table, .. }
            | Change::SetTriggerFiring { table, .. }
            | Change::CreatePolicy { table, .. }
            | Change::DropPolicy { table, .. }
            | Change::SetRowSecurity { table, .. } => Some(table),
            Change::CreateIndex { index } | Change::DropIndex { index } => Some(&index.table),
            Change::RenameTable { to, .. } => Some(to),
            _ => None,
        }
    }
}

/// Renames the desired state declares (`-- kschema:renamed-from`).
#[derive(Clone, Debug, Default)]
pub struct Renames {
    /// New table name → old name.
    pub tables: BTreeMap<Ident, Ident>,
    /// (table, new column name) → old name.
    pub columns: BTreeMap<(Ident, Ident), Ident>,
}

impl Renames {
    /// The renames a scope's `-- kschema:renamed-from` annotations declare.
    pub fn declared(scope: &LoadedScope) -> Renames {
        let mut renames = Renames::default();
        for (key, origin) in &scope.origins {
            let Some(old) = &origin.annotations.renamed_from else {
                continue;
            };
            match key {
                ObjectKey::Table(table) => {
                    renames.tables.insert(table.clone(), old.clone());
                }
                ObjectKey::Column(table, column) => {
                    renames
                        .columns
                        .insert((table.clone(), column.clone()), old.clone());
                }
                _ => {}
            }
        }
        renames
    }
}

/// The changes that turn `live` into `desired`. `live` is `None` when the
/// schema does not exist yet.
pub fn diff(live: Option<&SchemaModel>, desired: &SchemaModel, renames: &Renames) -> Vec<Change> {
    let empty = SchemaModel::default();
    let mut changes = Vec::new();
    if live.is_none() {
        changes.push(Change::CreateSchema);
    }
    // Renames first: the rest of the diff then sees the live state as if
    // the objects already had their new names.
    let renamed;
    let live = match live {
        Some(live) => {
            renamed = apply_renames(live, desired, renames, &mut changes);
            &renamed
        }
        None => &empty,
    };

    for (name, sequence) in &desired.sequences {
        match live.sequences.get(name) {
            None => changes.push(Change::CreateSequence {
                sequence: sequence.clone(),
            }),
            Some(current) if current != sequence => changes.push(Change::AlterSequence {
                from: current.clone(),
                to: sequence.clone(),
            }),
            Some(_) => {}
        }
    }

    for (name, table) in &desired.tables {
        match live.tables.get(name) {
            // CREATE TABLE cannot say NOT VALID: such constraints follow it.
            None => {
                let (valid, not_valid): (Vec<Constraint>, Vec<Constraint>) =
                    table.constraints.iter().cloned().partition(|c| c.validated);
                changes.push(Change::CreateTable {
                    table: Table {
                        constraints: valid,
                        ..table.clone()
                    },
                });
                changes.extend(
                    not_valid
                        .into_iter()
                        .map(|constraint| Change::AddConstraint {
                            table: name.clone(),
                            constraint,
                        }),
                );
                // Nor REPLICA IDENTITY.
                if table.replica_identity.is_some() {
                    changes.push(Change::SetReplicaIdentity {
                        table: name.clone(),
                        identity: table.replica_identity,
                    });
                }
            }
            Some(current) => diff_table(current, table, &mut changes),
        }
    }
    for (name, table) in &live.tables {
        if !desired.tables.contains_key(name) {
            changes.push(Change::DropTable {
                table: table.clone(),
            });
        }
    }

    diff_indexes(live, desired, &mut changes);
    diff_comments(live, desired, &mut changes);
    routine::diff_routines(live, desired, &mut changes);
    enum_type::diff_enums(live, desired, &mut changes);
    domain::diff_domains(live, desired, &mut changes);
    composite::diff_composites(live, desired, &mut changes);
    extension::diff_extensions(live, desired, &mut changes);
    diff_event_triggers(live, desired, &mut changes);
    view::diff_views(live, desired, &mut changes);
    policy::diff_policies(live, desired, &mut changes);
    privilege::diff_privileges(live, desired, &mut changes);
    comment::diff_object_comments(live, desired, &mut changes);

    for (name, sequence) in &live.sequences {
        if !desired.sequences.contains_key(name) {
            changes.push(Change::DropSequence {
                sequence: sequence.clone(),
            });
        }
    }
    changes
}

/// `COMMENT ON TABLE` and `COLUMN`: what the files say, for every table
/// and column they declare (a column added again to change its generated
/// expression loses its comment, so it is set again).
fn diff_comments(live: &SchemaModel, desired: &SchemaModel, changes: &mut Vec<Change>) {
    for (name, table) in &desired.tables {
        let live_table = live.tables.get(name);
        if live_table.and_then(|t| t.comment.as_ref()) != table.comment.as_ref() {
            changes.push(Change::SetComment {
                table: name.clone(),
                column: None,
                comment: table.comment.clone(),
            });
        }
        for column in &table.columns {
            let live_column = live_table.and_then(|t| t.column(&column.name));
            let readded = live_column
                .is_some_and(|l| column.generated.is_some() && l.generated != column.generated);
            let live_comment = live_column.and_then(|c| c.comment.as_ref());
            if live_comment != column.comment.as_ref() || (readded && column.comment.is_some()) {
                changes.push(Change::SetComment {
                    table: name.clone(),
                    column: Some(column.name.clone()),
                    comment: column.comment.clone(),
                });
            }
        }
    }
}

/// The live model with the declared renames done, plus the rename changes.
/// A rename applies only while the old name exists and the new one does not
/// (after it ran, the annotation is a no-op).
fn apply_renames(
    live: &SchemaModel,
    desired: &SchemaModel,
    renames: &Renames,
    changes: &mut Vec<Change>,
) -> SchemaModel {
    let mut model = live.clone();
    for (new, old) in &renames.tables {
        if model.tables.contains_key(new) || desired.tables.contains_key(old) {
            continue;
        }
        let Some(mut table) = model.tables.remove(old) else {
            continue;
        };
        changes.push(Change::RenameTable {
            from: old.clone(),
            to: new.clone(),
        });
        table.name = new.clone();
        model.tables.insert(new.clone(), table);
        for index in model.indexes.values_mut().filter(|i| &i.table == old) {
            index.table = new.clone();
        }
        for table in model.tables.values_mut() {
            for constraint in &mut table.constraints {
                if let ConstraintKind::ForeignKey(fk) = &mut constraint.kind {
                    if fk.references.schema == SchemaRef::Own && &fk.references.table == old {
                        fk.references.table = new.clone();
                    }
                }
            }
        }
    }
    for ((table_name, new), old) in &renames.columns {
        let Some(table) = model.tables.get_mut(table_name) else {
            continue;
        };
        if table.column(new).is_some() || table.column(old).is_none() {
            continue;
        }
        if desired
            .tables
            .get(table_name)
            .is_some_and(|t| t.column(old).is_some())
        {
            continue;
        }
        changes.push(Change::RenameColumn {
            table: table_name.clone(),
            from: old.clone(),
            to: new.clone(),
        });
        for column in table.columns.iter_mut().filter(|c| &c.name == old) {
            column.name = new.clone();
        }
        let rename = |columns: &mut Vec<Ident>| {
            for c in columns.iter_mut().filter(|c| *c == old) {
                *c = new.clone();
            }
        };
        for constraint in &mut table.constraints {
            match &mut constraint.kind {
                ConstraintKind::PrimaryKey { columns, .. }
                | ConstraintKind::Unique { columns, .. } => rename(columns),
                ConstraintKind::ForeignKey(fk) => rename(&mut fk.columns),
                ConstraintKind::Check { .. } | ConstraintKind::Exclusion { .. } => {}
            }
        }
        for index in model
            .indexes
            .values_mut()
            .filter(|i| &i.table == table_name)
        {
            for key in &mut index.keys {
                if key.expr == IndexExpr::Column(old.clone()) {
                    key.expr = IndexExpr::Column(new.clone());
                }
            }
            rename(&mut index.include);
        }
        // Foreign keys elsewhere that point at the renamed column.
        for other in model.tables.values_mut() {
            for constraint in &mut other.constraints {
                if let ConstraintKind::ForeignKey(fk) = &mut constraint.kind {
                    if fk.references.schema == SchemaRef::Own && &fk.references.table == table_name
                    {
                        rename(&mut fk.referenced_columns);
                    }
                }
            }
        }
    }
    model
}

/// Seed rows: missing ones inserted, differing seeded columns updated,
/// undeclared ones deleted when the seed prunes. Tables referenced by other
/// seeded tables come first (and, for deletes, last).
pub fn diff_seeds(
    live: Option<&SchemaModel>,
    desired: &SchemaModel,
    seeds: &[Seed],
) -> Vec<Change> {
    let order = seed_order(desired, seeds);
    let mut writes = Vec::new();
    let mut deletes = Vec::new();
    for seed in order {
        let Some(table) = desired.tables.get(&seed.table) else {
            continue;
        };
        let type_of = |column: &Ident| table.column(column).map(|c| c.data_type.clone());
        let live_rows: &[crate::model::Row] = live
            .and_then(|l| l.rows.get(&seed.table))
            .map(|rows| rows.as_slice())
            .unwrap_or(&[]);
        let canonical_key =
            |values: &dyn Fn(&Ident) -> Option<serde_json::Value>| -> Vec<serde_json::Value> {
                seed.key
                    .iter()
                    .map(|k| values(k).unwrap_or(serde_json::Value::Null))
                    .collect()
            };
        let live_by_key: Vec<(Vec<serde_json::Value>, &crate::model::Row)> = live_rows
            .iter()
            .map(|row| {
                let key = canonical_key(&|k| {
                    let t = type_of(k)?;
                    Some(canonical_live(
                        row.get(k).unwrap_or(&serde_json::Value::Null),
                        &t,
                    ))
                });
                (key, row)
            })
            .collect();
        let mut matched = vec![false; live_by_key.len()];
        for row in &seed.rows {
            let key = canonical_key(&|k| row.values.get(k).map(|v| v.canonical.clone()));
            match live_by_key.iter().position(|(k, _)| *k == key) {
                None => writes.push(Change::InsertRow {
                    table: seed.table.clone(),
                    key: row.key_of(&seed.key),
                    values: row
                        .values
                        .iter()
                        .map(|(c, v)| (c.clone(), v.clone()))
                        .collect(),
                }),
                Some(i) => {
                    matched[i] = true;
                    let live_row = live_by_key[i].1;
                    let set: Vec<RowUpdate> = row
                        .values
                        .iter()
                        .filter(|(column, _)| !seed.key.contains(column))
                        .filter_map(|(column, value)| {
                            let t = type_of(column)?;
                            let current = live_row
                                .get(column)
                                .cloned()
                                .unwrap_or(serde_json::Value::Null);
                            (canonical_live(&current, &t) != value.canonical).then(|| RowUpdate {
                                column: column.clone(),
                                from: current,
                                to: value.clone(),
                            })
                        })
                        .collect();
                    if !set.is_empty() {
                        writes.push(Change::UpdateRow {
                            table: seed.table.clone(),
                            key: row.key_of(&seed.key),
                            set,
                        });
                    }
                }
            }
        }
        if seed.prune {
            for ((_, row), matched) in live_by_key.iter().zip(&matched) {
                if !matched {
                    let key = seed
                        .key
                        .iter()
                        .filter_map(|k| Some((k.clone(), from_live(row.get(k)?, &type_of(k)?))))
                        .collect();
                    deletes.insert(
                        0,
                        Change::DeleteRow {
                            table: seed.table.clone(),
                            key,
                        },
                    );
                }
            }
        }
    }
    deletes.extend(writes);
    deletes
}

/// Seeds in foreign-key order: a table after the seeded tables it references.
fn seed_order<'a>(desired: &SchemaModel, seeds: &'a [Seed]) -> Vec<&'a Seed> {
    let mut remaining: Vec<&Seed> = seeds.iter().collect();
    remaining.sort_by(|a, b| a.table.cmp(&b.table));
    let mut ordered = Vec::new();
    while !remaining.is_empty() {
        let ready = remaining
            .iter()
            .position(|seed| {
                desired.tables.get(&seed.table).is_none_or(|t| {
                    t.foreign_keys().all(|(_, fk)| {
                        fk.references.schema != SchemaRef::Own
                            || fk.references.table == seed.table
                            || !remaining
                                .iter()
                                .any(|other| other.table == fk.references.table)
                    })
                })
            })
            .unwrap_or(0);
        ordered.push(remaining.remove(ready));
    }
    ordered
}

/// Drops and adds that look like renames nobody declared: a note for the
/// reviewer, since the drop loses the data.
pub fn possible_renames(changes: &[Change]) -> Vec<String> {
    let mut notes = Vec::new();
    for change in changes {
        if let Change::DropColumn {
            table,
            column: dropped,
        } = change
        {
            for added in changes.iter().filter_map(|c| match c {
                Change::AddColumn { table: t, column }
                    if t == table && column.data_type == dropped.data_type =>
                {
                    Some(column)
                }
                _ => None,
            }) {
                notes.push(format!(
                    "{table}.{} is dropped and {table}.{} added with the same type: if it is a rename, add `-- kschema:renamed-from {}` to the column to keep its data",
                    dropped.name, added.name, dropped.name.quoted()
                ));
            }
        }
        if let Change::DropTable { table: dropped } = change {
            for added in changes.iter().filter_map(|c| match c {
                Change::CreateTable { table } if same_columns(table, dropped) => Some(table),
                _ => None,
            }) {
                notes.push(format!(
                    "table {} is dropped and {} created with the same columns: if it is a rename, add `-- kschema:renamed-from {}` above its CREATE TABLE to keep its rows",
                    dropped.name, added.name, dropped.name.quoted()
                ));
            }
        }
    }
    notes
}

fn same_columns(a: &Table, b: &Table) -> bool {
    a.columns.len() == b.columns.len()
        && a.columns.iter().all(|c| {
            b.column(&c.name)
                .is_some_and(|d| d.data_type == c.data_type)
        })
}

fn diff_table(live: &Table, desired: &Table, changes: &mut Vec<Change>) {
    let table = &desired.name;
    if live.replica_identity != desired.replica_identity {
        changes.push(Change::SetReplicaIdentity {
            table: table.clone(),
            identity: desired.replica_identity,
        });
    }
    if live.unlogged != desired.unlogged {
        changes.push(Change::SetPersistence {
            table: table.clone(),
            unlogged: desired.unlogged,
        });
    }
    let (live_options, desired_options): (BTreeMap<_, _>, BTreeMap<_, _>) = (
        live.options.iter().cloned().collect(),
        desired.options.iter().cloned().collect(),
    );
    if live_options != desired_options {
        changes.push(Change::SetStorageParameters {
            table: table.clone(),
            set: desired
                .options
                .iter()
                .filter(|(name, value)| live_options.get(name) != Some(value))
                .cloned()
                .collect(),
            reset: live
                .options
                .iter()
                .map(|(name, _)| name)
                .filter(|name| !desired_options.contains_key(*name))
                .cloned()
                .collect(),
        });
    }
    for column in &desired.columns {
        match live.column(&column.name) {
            None => changes.push(Change::AddColumn {
                table: table.clone(),
                column: column.clone(),
            }),
            Some(current) => diff_column(table, current, column, changes),
        }
    }
    for column in &live.columns {
        if desired.column(&column.name).is_none() {
            changes.push(Change::DropColumn {
                table: table.clone(),
                column: column.clone(),
            });
        }
    }
    diff_constraints(table, &live.constraints, &desired.constraints, changes);
}

fn diff_column(table: &Ident, live: &Column, desired: &Column, changes: &mut Vec<Change>) {
    let mut alter = |kind| {
        changes.push(Change::AlterColumn {
            table: table.clone(),
            from: live.clone(),
            to: desired.clone(),
            kind,
            using: None,
        })
    };
    if live.generated != desired.generated {
        alter(ColumnChange::Generated);
        // Added again with its new expression: its type, nullability and
        // collation come with it.
        if desired.generated.is_some() {
            return;
        }
    }
    if live.data_type != desired.data_type || live.collation != desired.collation {
        alter(ColumnChange::Type);
    }
    if live.identity != desired.identity {
        alter(ColumnChange::Identity);
    }
    if live.default != desired.default {
        alter(ColumnChange::Default);
    }
    // An identity added to a nullable column sets NOT NULL itself, first
    // (PostgreSQL refuses the identity otherwise).
    let identity_sets_not_null = adds_identity(live, desired) && !live.not_null;
    if live.not_null != desired.not_null && !identity_sets_not_null {
        alter(ColumnChange::Nullability);
    }
}

/// Whether the change makes the column a `GENERATED … AS IDENTITY` one it
/// was not.
pub fn adds_identity(live: &Column, desired: &Column) -> bool {
    matches!(
        desired.identity,
        Some(Identity::Always | Identity::ByDefault)
    ) && !matches!(live.identity, Some(Identity::Always | Identity::ByDefault))
}

/// Pairs of (live, desired) that are the same object, by the matching rules
/// in the module docs; what is left over is dropped or added.
fn match_by_name_and_definition<'a, T>(
    live: &'a [T],
    desired: &'a [T],
    name: impl Fn(&T) -> &Ident,
    same: impl Fn(&T, &T) -> bool,
) -> Vec<(Option<&'a T>, Option<&'a T>)> {
    let mut used_live: BTreeSet<usize> = BTreeSet::new();
    let mut pairs: Vec<(Option<&T>, Option<&T>)> = Vec::new();
    let mut unmatched_desired: Vec<&T> = Vec::new();
    for d in desired {
        match live.iter().position(|l| name(l) == name(d)) {
            Some(i) => {
                used_live.insert(i);
                pairs.push((Some(&live[i]), Some(d)));
            }
            None => unmatched_desired.push(d),
        }
    }
    let desired_names: BTreeSet<&Ident> = desired.iter().map(&name).collect();
    for d in unmatched_desired {
        // A live object of the same definition that nothing desires by name.
        let candidate = live.iter().enumerate().position(|(i, l)| {
            !used_live.contains(&i) && !desired_names.contains(name(l)) && same(l, d)
        });
        match candidate {
            Some(i) => {
                used_live.insert(i);
                pairs.push((Some(&live[i]), Some(d)));
            }
            None => pairs.push((None, Some(d))),
        }
    }
    for (i, l) in live.iter().enumerate() {
        if !used_live.contains(&i) {
            pairs.push((Some(l), None));
        }
    }
    pairs
}

fn diff_constraints(
    table: &Ident,
    live: &[Constraint],
    desired: &[Constraint],
    changes: &mut Vec<Change>,
) {
    let pairs =
        match_by_name_and_definition(live, desired, |c| &c.name, Constraint::same_definition);
    for pair in pairs {
        match pair {
            (Some(l), Some(d)) if !l.same_definition(d) => {
                changes.push(Change::DropConstraint {
                    table: table.clone(),
                    constraint: l.clone(),
                });
                changes.push(Change::AddConstraint {
                    table: table.clone(),
                    constraint: d.clone(),
                });
            }
            (Some(l), Some(d)) => {
                if l.name != d.name && !d.implicit_name {
                    changes.push(Change::RenameConstraint {
                        table: table.clone(),
                        from: l.name.clone(),
                        to: d.name.clone(),
                    });
                }
                // NOT VALID in the files is kept as declared: a live
                // constraint is validated only when the files say it holds.
                if !l.validated && d.validated {
                    changes.push(Change::ValidateConstraint {
                        table: table.clone(),
                        constraint: Constraint {
                            name: if d.implicit_name {
                                l.name.clone()
                            } else {
                                d.name.clone()
                            },
                            ..d.clone()
                        },
                    });
                }
            }
            (None, Some(d)) => changes.push(Change::AddConstraint {
                table: table.clone(),
                constraint: d.clone(),
            }),
            (Some(l), None) => changes.push(Change::DropConstraint {
                table: table.clone(),
                constraint: l.clone(),
            }),
            (None, None) => {}
        }
    }
}

fn diff_indexes(live: &SchemaModel, desired: &SchemaModel, changes: &mut Vec<Change>) {
    // Indexes of tables that are dropped go with them; those of tables that
    // are created are created after them. A materialized view's are the
    // view's (`view::diff_views`).
    let on_kept_table =
        |i: &&Index| live.tables.contains_key(&i.table) && desired.tables.contains_key(&i.table);
    let live_indexes: Vec<Index> = live
        .indexes
        .values()
        .filter(on_kept_table)
        .cloned()
        .collect();
    let desired_indexes: Vec<Index> = desired
        .indexes
        .values()
        .filter(|i| !desired.views.contains_key(&i.table))
        .cloned()
        .collect();
    diff_index_sets(&live_indexes, &desired_indexes, changes);
}

/// Drops, builds and renames that turn the `live` indexes into the
/// `desired` ones.
fn diff_index_sets(live: &[Index], desired: &[Index], changes: &mut Vec<Change>) {
    let pairs = match_by_name_and_definition(live, desired, |i| &i.name, Index::same_definition);
    for pair in pairs {
        match pair {
            (Some(l), Some(d)) if !l.same_definition(d) || !l.valid => {
                changes.push(Change::DropIndex { index: l.clone() });
                changes.push(Change::CreateIndex { index: d.clone() });
            }
            (Some(l), Some(d)) => {
                if l.name != d.name && !d.implicit_name {
                    changes.push(Change::RenameIndex {
                        from: l.name.clone(),
                        to: d.name.clone(),
                    });
                }
            }
            (None, Some(d)) => changes.push(Change::CreateIndex { index: d.clone() }),
            (Some(l), None) => changes.push(Change::DropIndex { index: l.clone() }),
            (None, None) => {}
        }
    }
}

/// Event triggers: matched by name; a new event, tag list or function
/// means dropped and created again, a new firing is set in place.
fn diff_event_triggers(live: &SchemaModel, desired: &SchemaModel, changes: &mut Vec<Change>) {
    for (name, wanted) in &desired.event_triggers {
        match live.event_triggers.get(name) {
            Some(current) if current.same_definition(wanted) => {
                if current.firing != wanted.firing {
                    changes.push(Change::SetEventTriggerFiring {
                        name: name.clone(),
                        firing: wanted.firing,
                    });
                }
            }
            Some(current) => {
                changes.push(Change::DropEventTrigger {
                    trigger: current.clone(),
                });
                changes.push(Change::CreateEventTrigger {
                    trigger: wanted.clone(),
                });
            }
            None => changes.push(Change::CreateEventTrigger {
                trigger: wanted.clone(),
            }),
        }
    }
    for (name, current) in &live.event_triggers {
        if !desired.event_triggers.contains_key(name) {
            changes.push(Change::DropEventTrigger {
                trigger: current.clone(),
            });
        }
    }
}

/// The table columns whose changes objects reading them block (a view, a
/// policy): a type or generated expression changed, or the column dropped.
fn disturbed_columns(changes: &[Change]) -> BTreeSet<(Ident, Ident)> {
    changes
        .iter()
        .filter_map(|change| match change {
            Change::AlterColumn {
                table,
                to,
                kind: ColumnChange::Type | ColumnChange::Generated,
                ..
            } => Some((table.clone(), to.name.clone())),
            Change::DropColumn { table, column } => Some((table.clone(), column.name.clone())),
            _ => None,
        })
        .collect()
}

/// Whether `text` names `column` as an identifier (bare or quoted).
pub(crate) fn mentions(text: &str, column: &Ident) -> bool {
    let quoted = column.quoted().to_string();
    let is_name = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    text.match_indices(quoted.as_str()).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + quoted.len()..].chars().next();
        !before.is_some_and(is_name) && !after.is_some_and(is_name)
    })
}
