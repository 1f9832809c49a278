//! The closed set of changes a diff finds, as plans record them.

use serde::{Deserialize, Serialize};

use crate::ident::Ident;
use crate::model::{
    Attribute, Column, Commented, CompositeType, Constraint, Domain, DomainCheck, EnumAddition,
    EnumType, EventTrigger, Extension, Function, GrantObject, Index, PartitionColumn, PartitionOf,
    Policy, ReplicaIdentity, RowSecurity, Sequence, SqlExpr, Table, Trigger, TriggerFiring, View,
};
use crate::seed_value::SeedValue;

use super::along::{CallerAround, ConvertedColumn, ForeignCallers, ForeignColumns, ForeignView};
use super::AttributeStep;

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
    /// A table whose partitioning changes (a new key, or partitioned ↔
    /// plain): PostgreSQL cannot alter it into the new one, so it is
    /// dropped with its partitions before it is created again.
    DropTableToRepartition {
        table: Table,
    },
    /// `ATTACH PARTITION` / `DETACH PARTITION`: a table becomes a
    /// partition, stops being one, or moves to another bound.
    SetPartitionOf {
        table: Ident,
        from: Option<PartitionOf>,
        to: Option<PartitionOf>,
    },
    /// What a partition's columns set themselves (`ALTER TABLE p ALTER
    /// COLUMN c SET DEFAULT …`, `SET NOT NULL`, and back): `from` as it
    /// will be when this runs, `to` as the files say. `inherited`: the
    /// parent's default, which a column giving up its own goes back to.
    SetPartitionColumns {
        table: Ident,
        from: Vec<PartitionColumn>,
        to: Vec<PartitionColumn>,
        inherited: Vec<(Ident, Option<SqlExpr>)>,
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
    /// `SET (…)` and `RESET (…)` of storage parameters: the table's, or
    /// those of its index `index`.
    SetStorageParameters {
        table: Ident,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        index: Option<Ident>,
        set: Vec<(String, String)>,
        reset: Vec<String>,
    },
    /// `SET TABLESPACE`: the table's (`index` none) or its index's; `None`
    /// is the database's default. A partitioned table moves nothing: its
    /// new partitions go there.
    SetTablespace {
        table: Ident,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        index: Option<Ident>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tablespace: Option<Ident>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        partitioned: bool,
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
        /// The defaults, constraints and indexes calling it: taken off
        /// before the drop, put back after the create.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        callers: Vec<CallerAround>,
    },
    /// Views of other schemas reading what this shared schema's plan
    /// changes (`ForeignView`), readers first.
    DropForeignViews {
        views: Vec<ForeignView>,
    },
    /// The same views created again once the change is made, read ones
    /// first.
    CreateForeignViews {
        views: Vec<ForeignView>,
    },
    /// Policies, defaults, constraints and indexes of other schemas that
    /// call a function this shared schema's plan drops and creates again,
    /// and policies reading a column it changes (`ForeignCallers`), taken
    /// off before.
    DropForeignCallers {
        callers: Vec<ForeignCallers>,
    },
    /// The same put back once the change is made.
    CreateForeignCallers {
        callers: Vec<ForeignCallers>,
    },
    DropFunction {
        function: Function,
        /// Types of its signature this plan creates again: it goes before
        /// them and is created again after (`CreateFunction`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        before_types: Vec<Ident>,
        /// The files drop it: it goes before those types (which cannot be
        /// dropped while it holds them) and is not created again.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        dropped: bool,
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
        columns: Vec<ConvertedColumn>,
        /// Indexes whose expressions read those columns or name it:
        /// dropped first, built again after (`CreateIndex`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        indexes: Vec<Ident>,
        /// Defaults (table, column) naming it in an expression, not of
        /// its columns: taken off before the old type goes, the files' set
        /// again after (`AlterColumn`; a partition's own,
        /// `SetPartitionColumns`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        defaults: Vec<(Ident, Ident)>,
        /// A shared enum's columns in other schemas (the tenants'),
        /// converted in the same transaction.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        foreign: Vec<ForeignColumns>,
        /// Composite types of its schema with an attribute of it (no
        /// column of theirs, and unchanged): the attribute turned to the
        /// new type.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        holders: Vec<(Ident, Attribute)>,
        /// The types of its schema built on it — a domain over it, a
        /// composite type holding it that a column uses or that changes
        /// too — created again inside this change, after it is made and
        /// before the old one goes (`diff::built_on`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        along: Vec<Change>,
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
    /// A new base type or collation: created again under its name, the
    /// columns of it converted, the old one dropped.
    RecreateDomain {
        from: Domain,
        to: Domain,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        columns: Vec<ConvertedColumn>,
        /// Indexes naming it in an expression: dropped first, built again
        /// after (`CreateIndex`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        indexes: Vec<Ident>,
        /// Defaults (table, column) naming it in an expression, not of
        /// its columns: taken off before the old type goes, the files' set
        /// again after (`AlterColumn`; a partition's own,
        /// `SetPartitionColumns`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        defaults: Vec<(Ident, Ident)>,
        /// A shared domain's columns in other schemas (the tenants'),
        /// converted in the same transaction.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        foreign: Vec<ForeignColumns>,
        /// Composite types of its schema with an attribute of it (no
        /// column of theirs, and unchanged): the attribute turned to the
        /// new type.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        holders: Vec<(Ident, Attribute)>,
        /// The types of its schema built on it — a domain over it, a
        /// composite type holding it that a column uses or that changes
        /// too — created again inside this change, after it is made and
        /// before the old one goes (`diff::built_on`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        along: Vec<Change>,
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
    /// that a column uses: created again under its name, its columns
    /// converted attribute by attribute, by name.
    RecreateComposite {
        from: CompositeType,
        to: CompositeType,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        columns: Vec<ConvertedColumn>,
        /// Indexes naming it in an expression: dropped first, built again
        /// after (`CreateIndex`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        indexes: Vec<Ident>,
        /// Defaults (table, column) naming it in an expression, not of
        /// its columns: taken off before the old type goes, the files' set
        /// again after (`AlterColumn`; a partition's own,
        /// `SetPartitionColumns`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        defaults: Vec<(Ident, Ident)>,
        /// A shared type's columns in other schemas (the tenants'),
        /// converted in the same transaction.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        foreign: Vec<ForeignColumns>,
        /// Composite types of its schema with an attribute of it (no
        /// column of theirs, and unchanged): the attribute turned to the
        /// new type.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        holders: Vec<(Ident, Attribute)>,
        /// The types of its schema built on it — a domain over it, a
        /// composite type holding it that a column uses or that changes
        /// too — created again inside this change, after it is made and
        /// before the old one goes (`diff::built_on`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        along: Vec<Change>,
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
    /// An identity column's sequence options (`SET INCREMENT BY 2`).
    IdentityOptions,
    /// A stored generated column's expression: dropped (`DROP EXPRESSION`,
    /// the values stay), or new (the column is dropped and added again,
    /// which computes every row).
    Generated,
}

impl Change {
    /// The live function this change drops to create it again: a
    /// `RecreateFunction`, or a drop before its types are created again
    /// (created after). What calls it goes and comes back with it.
    pub fn function_recreated(&self) -> Option<&Function> {
        match self {
            Change::RecreateFunction { from, .. } => Some(from),
            Change::DropFunction {
                function,
                before_types,
                dropped: false,
            } if !before_types.is_empty() => Some(function),
            _ => None,
        }
    }

    /// The table the change is about, if any.
    pub fn table(&self) -> Option<&Ident> {
        match self {
            Change::CreateTable { table }
            | Change::DropTable { table }
            | Change::DropTableToRepartition { table } => Some(&table.name),
            Change::SetPartitionOf { table, .. } | Change::SetPartitionColumns { table, .. } => {
                Some(table)
            }
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
            | Change::SetTablespace { table, .. }
            | Change::CreateTrigger { table, .. }
            | Change::ReplaceTrigger { table, .. }
            | Change::DropTrigger { table, .. }
            | Change::SetTriggerFiring { table, .. }
            | Change::CreatePolicy { table, .. }
            | Change::DropPolicy { table, .. }
            | Change::SetRowSecurity { table, .. } => Some(table),
            Change::CreateIndex { index } | Change::DropIndex { index } => Some(&index.table),
            Change::RenameTable { to, .. } => Some(to),
            // Seed rows are the seed file's, with their own allowances: a
            // table's annotations and ordering do not speak for them.
            Change::InsertRow { .. } | Change::UpdateRow { .. } | Change::DeleteRow { .. } => None,
            // Not about one table. Listed, not `_`: a new change kind says
            // here whether it is.
            Change::CreateSchema
            | Change::RenameIndex { .. }
            | Change::CreateSequence { .. }
            | Change::DropSequence { .. }
            | Change::AlterSequence { .. }
            | Change::CreateFunction { .. }
            | Change::ReplaceFunction { .. }
            | Change::RecreateFunction { .. }
            | Change::DropFunction { .. }
            | Change::CreateEnum { .. }
            | Change::AddEnumValues { .. }
            | Change::RecreateEnum { .. }
            | Change::DropEnum { .. }
            | Change::CreateDomain { .. }
            | Change::AlterDomain { .. }
            | Change::RecreateDomain { .. }
            | Change::DropDomain { .. }
            | Change::CreateComposite { .. }
            | Change::AlterComposite { .. }
            | Change::RecreateComposite { .. }
            | Change::DropComposite { .. }
            | Change::CreateEventTrigger { .. }
            | Change::SetEventTriggerFiring { .. }
            | Change::DropEventTrigger { .. }
            | Change::CreateExtension { .. }
            | Change::AlterExtension { .. }
            | Change::DropExtension { .. }
            | Change::CreateView { .. }
            | Change::ReplaceView { .. }
            | Change::DropView { .. }
            | Change::DropForeignViews { .. }
            | Change::CreateForeignViews { .. }
            | Change::DropForeignCallers { .. }
            | Change::CreateForeignCallers { .. }
            | Change::Grant { .. }
            | Change::Revoke { .. }
            | Change::CommentOn { .. } => None,
        }
    }
}
