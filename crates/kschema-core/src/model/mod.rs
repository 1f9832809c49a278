//! The schema model both sides are loaded into: the desired state from SQL
//! files and the live state from the catalog. Everything here is already
//! normalized, so two equivalent schemas are equal values.
//!
//! A [`SchemaModel`] describes one PostgreSQL schema *relative to itself*:
//! a reference to a table in the same schema is [`SchemaRef::Own`], so every
//! tenant schema of the same shape is the same value, whatever its name.
//!
//! Over ~600 lines: the table kinds' types (table, column, constraint,
//! index, sequence, rows) and the schema that holds every kind; the other
//! kinds have their own files beside it.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ident::Ident;

mod column_type;
mod comment;
mod composite;
mod dependency;
mod domain;
mod enum_type;
mod event_trigger;
mod extension;
mod privilege;
mod routine;
mod view;
pub use column_type::ColumnType;
pub use comment::Commented;
pub use composite::{Attribute, CompositeType};
pub use dependency::{Dependencies, Dependent, Needed, RawDependency};
pub use domain::{Domain, DomainCheck};
pub use enum_type::{EnumAddition, EnumPlace, EnumType};
pub use event_trigger::EventTrigger;
pub use extension::Extension;
pub use privilege::{DefaultObjects, Grant, GrantObject, Privileges};
pub use routine::{Function, Policy, RowSecurity, Trigger, TriggerFiring};
pub use view::{in_reading_order, View};

/// The name of a PostgreSQL schema (namespace): `public`, `org_abc123`, …
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SchemaName(pub Ident);

impl SchemaName {
    pub fn new(name: impl Into<String>) -> Self {
        SchemaName(Ident::new(name))
    }
    pub fn public() -> Self {
        SchemaName::new("public")
    }
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
    pub fn ident(&self) -> &Ident {
        &self.0
    }
}

impl fmt::Display for SchemaName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for SchemaName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// All objects of one schema. Maps are keyed by name, so iteration order is
/// deterministic.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaModel {
    #[serde(default)]
    pub tables: BTreeMap<Ident, Table>,
    /// Indexes that are not the implementation of a constraint (those belong
    /// to their constraint). Index names are unique within a schema.
    #[serde(default)]
    pub indexes: BTreeMap<Ident, Index>,
    /// Sequences that are not owned by a serial or identity column.
    #[serde(default)]
    pub sequences: BTreeMap<Ident, Sequence>,
    /// Live rows of seeded tables (their key and seeded columns only, as
    /// `to_jsonb` returns them), sorted. Empty on the desired side.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rows: BTreeMap<Ident, Vec<Row>>,
    /// Functions and procedures, sorted by name and arguments (overloads
    /// share a name).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<Function>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub enums: BTreeMap<Ident, EnumType>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub domains: BTreeMap<Ident, Domain>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub composites: BTreeMap<Ident, CompositeType>,
    /// The database's extensions (in public's model only: they are
    /// database-wide).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extensions: BTreeMap<Ident, Extension>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub views: BTreeMap<Ident, View>,
    /// The database's event triggers (in public's model only).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub event_triggers: BTreeMap<Ident, EventTrigger>,
    #[serde(default, skip_serializing_if = "Privileges::is_empty")]
    pub privileges: Privileges,
    /// Comments on what is not a table or column (those are on them).
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        with = "comment::as_pairs"
    )]
    pub comments: BTreeMap<Commented, String>,
    /// What its objects need of it, as PostgreSQL recorded it — when read
    /// from a database (the live one, or the one the desired state was
    /// built in). Not serialized: it follows from the definitions, so a
    /// fingerprint or a snapshot holds those only (a plan from a snapshot
    /// reads what objects name from their statements instead).
    #[serde(skip)]
    pub dependencies: Option<std::sync::Arc<Dependencies>>,
}

/// A row's values by column, as JSON.
pub type Row = BTreeMap<Ident, serde_json::Value>;

impl SchemaModel {
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
            && self.indexes.is_empty()
            && self.sequences.is_empty()
            && self.functions.is_empty()
            && self.enums.is_empty()
            && self.domains.is_empty()
            && self.composites.is_empty()
            && self.extensions.is_empty()
            && self.views.is_empty()
            && self.event_triggers.is_empty()
    }

    /// The function with this name and these (stored) argument types.
    pub fn function(&self, name: &Ident, arguments: &str) -> Option<&Function> {
        self.functions
            .iter()
            .find(|f| &f.name == name && f.arguments == arguments)
    }

    /// A table's columns; a partition's are its root parent's, which it
    /// has and the model keeps once. `None` for no such table (or a
    /// partition whose parents do not lead to one).
    pub fn columns_of(&self, table: &Ident) -> Option<&[Column]> {
        self.root_of(table).map(|root| &root.columns[..])
    }

    /// The table a partition's chain of parents ends in (a table that is
    /// no partition is its own). `None` where a parent is missing.
    pub fn root_of(&self, table: &Ident) -> Option<&Table> {
        let mut current = self.tables.get(table)?;
        // Bounded: a chain of parents cannot be longer than the tables.
        for _ in 0..=self.tables.len() {
            match &current.partition_of {
                None => return Some(current),
                Some(of) => current = self.tables.get(&of.parent)?,
            }
        }
        None
    }

    /// The model without its rows (the schema's shape alone).
    pub fn without_rows(&self) -> SchemaModel {
        SchemaModel {
            rows: BTreeMap::new(),
            ..self.clone()
        }
    }

    pub fn indexes_of<'a>(&'a self, table: &'a Ident) -> impl Iterator<Item = &'a Index> + 'a {
        self.indexes
            .values()
            .filter(move |index| &index.table == table)
    }

    /// Every table's indexes (in name order), in one pass: for loops over
    /// all tables, where `indexes_of` per table would be quadratic.
    pub fn indexes_by_table(&self) -> BTreeMap<&Ident, Vec<&Index>> {
        let mut by_table: BTreeMap<&Ident, Vec<&Index>> = BTreeMap::new();
        for index in self.indexes.values() {
            by_table.entry(&index.table).or_default().push(index);
        }
        by_table
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub name: Ident,
    /// In declaration order (PostgreSQL cannot reorder columns, so the diff
    /// matches them by name and never by position).
    pub columns: Vec<Column>,
    /// Sorted by name.
    #[serde(default)]
    pub constraints: Vec<Constraint>,
    /// `COMMENT ON TABLE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// `CREATE UNLOGGED TABLE`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub unlogged: bool,
    /// `REPLICA IDENTITY FULL` or `NOTHING`; `None` is PostgreSQL's default
    /// (the primary key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_identity: Option<ReplicaIdentity>,
    /// Storage parameters (`WITH (fillfactor = 70)`), (name, value) as
    /// PostgreSQL keeps them, in the order written (compared as a set).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<(String, String)>,
    /// Sorted by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<Trigger>,
    #[serde(default, skip_serializing_if = "RowSecurity::is_off")]
    pub row_security: RowSecurity,
    /// Sorted by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<Policy>,
    /// `PARTITION BY RANGE (created_at)`: the strategy and key, as
    /// `pg_get_partkeydef` writes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_key: Option<SqlExpr>,
    /// `PARTITION OF parent FOR VALUES …`: a partition. Its columns, and
    /// the constraints, indexes and triggers it gets from its parent, are
    /// the parent's: the model keeps only what the partition adds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_of: Option<PartitionOf>,
    /// A partition's columns with a default or `NOT NULL` of their own (not
    /// their parent's), by name: `PARTITION OF t (c DEFAULT 0 NOT NULL)`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partition_columns: Vec<PartitionColumn>,
    /// `TABLESPACE fast`; `None` is the database's default (PostgreSQL
    /// stores naming that one as not naming any). A partitioned table's
    /// is where its new partitions go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tablespace: Option<Ident>,
    /// What of it calls a function of its schema or another's (read
    /// live): taken off and put back around that function dropped and
    /// created again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub function_callers: Vec<FunctionCaller>,
}

/// A column default, generated column, constraint or index that calls a
/// function.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionCaller {
    pub function: Ident,
    /// The function's schema when not the table's own (a shared one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<SchemaName>,
    pub kind: CallerKind,
    /// The column, constraint or index.
    pub name: Ident,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallerKind {
    Default,
    Generated,
    Constraint,
    Index,
}

/// What a partition's column sets for itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionColumn {
    pub name: Ident,
    /// Its own default, where its parent's differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<SqlExpr>,
    /// `NOT NULL` where its parent's column is nullable.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_null: bool,
}

/// Where a partition sits in its parent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionOf {
    /// The partitioned table, in the same schema.
    pub parent: Ident,
    /// `FOR VALUES FROM ('2024-01-01') TO ('2024-02-01')`, `DEFAULT`.
    pub bound: SqlExpr,
}

impl Table {
    pub fn column(&self, name: &Ident) -> Option<&Column> {
        self.columns.iter().find(|c| &c.name == name)
    }

    pub fn primary_key(&self) -> Option<&Constraint> {
        self.constraints
            .iter()
            .find(|c| matches!(c.kind, ConstraintKind::PrimaryKey { .. }))
    }

    pub fn foreign_keys(&self) -> impl Iterator<Item = (&Constraint, &ForeignKey)> {
        self.constraints.iter().filter_map(|c| match &c.kind {
            ConstraintKind::ForeignKey(fk) => Some((c, fk)),
            _ => None,
        })
    }
}

/// What logical replication sends to identify an updated or deleted row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplicaIdentity {
    /// The whole old row.
    Full,
    /// Nothing: updates and deletes cannot be replicated.
    Nothing,
    /// The columns of this unique index of the table (a key constraint's
    /// index has the constraint's name).
    UsingIndex(Ident),
}

impl ReplicaIdentity {
    /// `DEFAULT`, `FULL`, `NOTHING` or `USING INDEX name` (quoted as needed).
    pub fn sql(identity: Option<&ReplicaIdentity>) -> String {
        match identity {
            None => "DEFAULT".into(),
            Some(ReplicaIdentity::Full) => "FULL".into(),
            Some(ReplicaIdentity::Nothing) => "NOTHING".into(),
            Some(ReplicaIdentity::UsingIndex(index)) => format!("USING INDEX {}", index.quoted()),
        }
    }

    /// The index it names, if it names one.
    pub fn index(identity: Option<&ReplicaIdentity>) -> Option<&Ident> {
        match identity {
            Some(ReplicaIdentity::UsingIndex(index)) => Some(index),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: Ident,
    #[serde(rename = "type")]
    pub data_type: ColumnType,
    pub not_null: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<SqlExpr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    /// The column's own sequence's options (an identity's or a serial's),
    /// when any differs from PostgreSQL's defaults for the sequence's type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_options: Option<SequenceOptions>,
    /// A serial's sequence's type, when it is not the column's: a serial
    /// column retyped after it was made (`ALTER COLUMN id TYPE bigint`
    /// leaves its sequence an integer one), or a sequence declared apart
    /// and owned by the column. (An identity's sequence follows its
    /// column's type.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_type: Option<ColumnType>,
    /// Only a collation that differs from the type's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<Ident>,
    /// `GENERATED ALWAYS AS (expr) STORED`: the expression (a generated
    /// column has no default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<SqlExpr>,
    /// `COMMENT ON COLUMN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl Column {
    /// Whether the column is `GENERATED … AS IDENTITY`.
    pub fn is_identity(&self) -> bool {
        matches!(self.identity, Some(Identity::Always | Identity::ByDefault))
    }

    /// The column's own sequence's options (an identity's or a serial's),
    /// the defaults filled in.
    pub fn identity_sequence(&self) -> SequenceOptions {
        self.identity_options
            .unwrap_or_else(|| SequenceOptions::defaults(self.own_sequence_type(), 1))
    }

    /// A serial's sequence's name.
    pub fn serial_sequence(&self) -> Option<&Ident> {
        match &self.identity {
            Some(Identity::Serial { sequence }) => Some(sequence),
            _ => None,
        }
    }

    /// The type the column's own sequence counts in.
    pub fn own_sequence_type(&self) -> &ColumnType {
        self.sequence_type.as_ref().unwrap_or(&self.data_type)
    }

    /// What `ALTER SEQUENCE` says to take `from`'s own sequence (the same
    /// column, live) to this column's: `AS bigint` for a serial's new type
    /// (an identity's followed its column's), then the options that differ
    /// from what `AS` leaves — a bound at the old type's limit moves to the
    /// new one's.
    pub fn own_sequence_clauses_from(&self, from: &Column) -> Vec<String> {
        let (from_type, to_type) = (from.own_sequence_type(), self.own_sequence_type());
        let mut clauses = Vec::new();
        if from_type != to_type && !self.is_identity() {
            clauses.push(format!("AS {to_type}"));
        }
        clauses.extend(
            self.identity_sequence()
                .clauses_from(&from.identity_sequence().retyped(from_type, to_type)),
        );
        clauses
    }

    /// `(START WITH 10 INCREMENT BY 2)` after `AS IDENTITY`, or nothing for
    /// the defaults.
    pub fn identity_options_sql(&self) -> String {
        let clauses = self
            .identity_sequence()
            .clauses_from(&SequenceOptions::defaults(&self.data_type, 1));
        if clauses.is_empty() {
            String::new()
        } else {
            format!(" ({})", clauses.join(" "))
        }
    }
}

/// How a column generates its values.
#[derive(Clone, Debug, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Identity {
    /// `serial`/`bigserial`: a sequence owned by the column and a `nextval`
    /// default. The sequence's name is not part of this equality: a name
    /// of its own is the sequence's change (`ALTER SEQUENCE … RENAME TO`,
    /// `diff::table`), not the column's generation made anew.
    Serial { sequence: Ident },
    /// `GENERATED ALWAYS AS IDENTITY`
    Always,
    /// `GENERATED BY DEFAULT AS IDENTITY`
    ByDefault,
}

impl PartialEq for Identity {
    fn eq(&self, other: &Self) -> bool {
        matches!(
            (self, other),
            (Identity::Serial { .. }, Identity::Serial { .. })
                | (Identity::Always, Identity::Always)
                | (Identity::ByDefault, Identity::ByDefault)
        )
    }
}

/// An SQL expression (default, check, index key or predicate).
///
/// `canonical` is the normalized form both sides agree on and the only part
/// that is compared; `sql` is the text to put in generated statements (the
/// author's own expression for the desired state, PostgreSQL's deparse for
/// the live one).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SqlExpr {
    pub canonical: String,
    pub sql: String,
}

impl SqlExpr {
    /// Text PostgreSQL wrote, compared as it is (both sides are read back
    /// from the catalog).
    pub fn stored(text: String) -> Self {
        SqlExpr {
            canonical: text.clone(),
            sql: text,
        }
    }
}

impl PartialEq for SqlExpr {
    fn eq(&self, other: &Self) -> bool {
        self.canonical == other.canonical
    }
}
impl Eq for SqlExpr {}

impl fmt::Display for SqlExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sql)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constraint {
    pub name: Ident,
    #[serde(flatten)]
    pub kind: ConstraintKind,
    /// `false` for a constraint added `NOT VALID` and not validated yet.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub validated: bool,
    /// The desired state did not name it; PostgreSQL will choose the name.
    /// Such a constraint matches a live one of the same definition whatever
    /// its name. Always `false` on the live side.
    #[serde(default, skip_serializing_if = "is_false")]
    pub implicit_name: bool,
    /// A primary key's or unique constraint's index storage parameters
    /// (`WITH (fillfactor = 70)`), as PostgreSQL keeps them: changed in
    /// place on the index, not by a rebuild.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<(String, String)>,
}

fn yes() -> bool {
    true
}
fn is_true(b: &bool) -> bool {
    *b
}
fn is_false(b: &bool) -> bool {
    !*b
}

impl Constraint {
    /// Whether two constraints enforce the same thing (names aside).
    pub fn same_definition(&self, other: &Constraint) -> bool {
        self.kind == other.kind
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConstraintKind {
    PrimaryKey {
        columns: Vec<Ident>,
        /// `INCLUDE (…)`: columns its index carries, not part of the key.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        include: Vec<Ident>,
        #[serde(default, skip_serializing_if = "Deferrable::is_not")]
        deferrable: Deferrable,
    },
    Unique {
        columns: Vec<Ident>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        include: Vec<Ident>,
        #[serde(default, skip_serializing_if = "is_false")]
        nulls_not_distinct: bool,
        #[serde(default, skip_serializing_if = "Deferrable::is_not")]
        deferrable: Deferrable,
    },
    Check {
        expr: SqlExpr,
        #[serde(default, skip_serializing_if = "is_false")]
        no_inherit: bool,
    },
    ForeignKey(ForeignKey),
    /// `EXCLUDE USING gist (during WITH &&)`: compared as the whole
    /// definition PostgreSQL stores (`pg_get_constraintdef`).
    Exclusion {
        definition: SqlExpr,
    },
}

impl ConstraintKind {
    pub fn label(&self) -> &'static str {
        match self {
            ConstraintKind::PrimaryKey { .. } => "primary key",
            ConstraintKind::Unique { .. } => "unique constraint",
            ConstraintKind::Check { .. } => "check constraint",
            ConstraintKind::ForeignKey(_) => "foreign key",
            ConstraintKind::Exclusion { .. } => "exclusion constraint",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignKey {
    pub columns: Vec<Ident>,
    pub references: TableRef,
    pub referenced_columns: Vec<Ident>,
    pub on_delete: ReferentialAction,
    pub on_update: ReferentialAction,
    #[serde(default, skip_serializing_if = "is_false")]
    pub match_full: bool,
    pub deferrable: Deferrable,
}

/// A table, possibly in another schema.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TableRef {
    pub schema: SchemaRef,
    pub table: Ident,
}

/// Which schema a reference points into, relative to the referencing schema.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchemaRef {
    /// The same schema as the object holding the reference.
    Own,
    Named(SchemaName),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferentialAction {
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

impl ReferentialAction {
    pub fn sql(self) -> &'static str {
        match self {
            ReferentialAction::NoAction => "NO ACTION",
            ReferentialAction::Restrict => "RESTRICT",
            ReferentialAction::Cascade => "CASCADE",
            ReferentialAction::SetNull => "SET NULL",
            ReferentialAction::SetDefault => "SET DEFAULT",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deferrable {
    #[default]
    NotDeferrable,
    InitiallyImmediate,
    InitiallyDeferred,
}

impl Deferrable {
    fn is_not(&self) -> bool {
        *self == Deferrable::NotDeferrable
    }

    /// From `condeferrable` and `condeferred`.
    pub fn from_catalog(deferrable: bool, deferred: bool) -> Deferrable {
        match (deferrable, deferred) {
            (false, _) => Deferrable::NotDeferrable,
            (true, false) => Deferrable::InitiallyImmediate,
            (true, true) => Deferrable::InitiallyDeferred,
        }
    }

    /// ` DEFERRABLE`, ` DEFERRABLE INITIALLY DEFERRED` or nothing.
    pub fn sql(self) -> &'static str {
        match self {
            Deferrable::NotDeferrable => "",
            Deferrable::InitiallyImmediate => " DEFERRABLE",
            Deferrable::InitiallyDeferred => " DEFERRABLE INITIALLY DEFERRED",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub name: Ident,
    pub table: Ident,
    #[serde(default, skip_serializing_if = "is_false")]
    pub unique: bool,
    /// Access method: `btree`, `gin`, `gist`, `hash`, `brin`, …
    pub method: Ident,
    pub keys: Vec<IndexKey>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<Ident>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicate: Option<SqlExpr>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub nulls_not_distinct: bool,
    /// `false` for an index left invalid by a failed `CREATE INDEX
    /// CONCURRENTLY`; it must be rebuilt.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub valid: bool,
    /// See [`Constraint::implicit_name`].
    #[serde(default, skip_serializing_if = "is_false")]
    pub implicit_name: bool,
    /// On a partitioned table: PostgreSQL builds it on every partition,
    /// and cannot build it concurrently.
    #[serde(default, skip_serializing_if = "is_false")]
    pub partitioned: bool,
    /// Storage parameters (`WITH (fillfactor = 70)`) as PostgreSQL keeps
    /// them (`fillfactor`, `70`): changed in place, not by a rebuild.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<(String, String)>,
    /// `TABLESPACE fast`; `None` is the database's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tablespace: Option<Ident>,
}

impl Index {
    /// Whether two indexes are built the same way (names aside).
    pub fn same_definition(&self, other: &Index) -> bool {
        self.table == other.table
            && self.unique == other.unique
            && self.method == other.method
            && self.keys == other.keys
            && self.include == other.include
            && self.predicate == other.predicate
            && self.nulls_not_distinct == other.nulls_not_distinct
    }

    /// The text PostgreSQL stores for its key expressions and predicate.
    pub fn expressions(&self) -> impl Iterator<Item = &str> {
        self.keys
            .iter()
            .filter_map(|k| match &k.expr {
                IndexExpr::Expression(expr) => Some(expr.canonical.as_str()),
                IndexExpr::Column(_) => None,
            })
            .chain(self.predicate.as_ref().map(|p| p.canonical.as_str()))
    }

    /// The plain column names among its keys (expressions left out).
    pub fn key_columns(&self) -> impl Iterator<Item = &Ident> {
        self.keys.iter().filter_map(|k| match &k.expr {
            IndexExpr::Column(c) => Some(c),
            IndexExpr::Expression(_) => None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexKey {
    #[serde(flatten)]
    pub expr: IndexExpr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opclass: Option<Ident>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<Ident>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub descending: bool,
    /// Always explicit: the default (`NULLS LAST` ascending, `NULLS FIRST`
    /// descending) is filled in by normalization.
    pub nulls_first: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexExpr {
    Column(Ident),
    Expression(SqlExpr),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sequence {
    pub name: Ident,
    #[serde(rename = "type")]
    pub data_type: ColumnType,
    #[serde(flatten)]
    pub options: SequenceOptions,
}

impl Sequence {
    /// A sequence with PostgreSQL's defaults for the given type.
    pub fn with_defaults(name: Ident, data_type: ColumnType) -> Self {
        let options = SequenceOptions::defaults(&data_type, 1);
        Sequence {
            name,
            data_type,
            options,
        }
    }
}

/// What a sequence counts: a standalone sequence's or an identity column's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequenceOptions {
    pub start: i64,
    pub increment: i64,
    pub min_value: i64,
    pub max_value: i64,
    pub cache: i64,
    pub cycle: bool,
}

/// The values a sequence of `data_type` can reach.
fn integer_bounds(data_type: &ColumnType) -> (i64, i64) {
    match data_type.name() {
        "smallint" => (i16::MIN as i64, i16::MAX as i64),
        "integer" => (i32::MIN as i64, i32::MAX as i64),
        _ => (i64::MIN, i64::MAX),
    }
}

impl SequenceOptions {
    /// PostgreSQL's defaults for a sequence of `data_type` counting by
    /// `increment`: an ascending one runs from 1 to the type's maximum, a
    /// descending one from -1 down to the type's minimum.
    pub fn defaults(data_type: &ColumnType, increment: i64) -> Self {
        let (type_min, type_max) = integer_bounds(data_type);
        let (min_value, max_value, start) = if increment < 0 {
            (type_min, -1, -1)
        } else {
            (1, type_max, 1)
        };
        SequenceOptions {
            start,
            increment,
            min_value,
            max_value,
            cache: 1,
            cycle: false,
        }
    }

    /// `None` when every option is PostgreSQL's default for the type (what
    /// an identity column keeps: most have no options of their own).
    pub fn unless_default(self, data_type: &ColumnType) -> Option<Self> {
        (self != Self::defaults(data_type, 1)).then_some(self)
    }

    /// The options after `ALTER SEQUENCE … AS to` from `from`: a bound
    /// that was the old type's limit becomes the new type's (as PostgreSQL
    /// does), every other option stays.
    pub fn retyped(self, from: &ColumnType, to: &ColumnType) -> Self {
        let (old_min, old_max) = integer_bounds(from);
        let (new_min, new_max) = integer_bounds(to);
        SequenceOptions {
            min_value: if self.min_value == old_min {
                new_min
            } else {
                self.min_value
            },
            max_value: if self.max_value == old_max {
                new_max
            } else {
                self.max_value
            },
            ..self
        }
    }

    /// The options that differ from `from`, as the clauses `CREATE`,
    /// `ALTER SEQUENCE` and an identity's `( … )` take: `INCREMENT BY 2`,
    /// `START WITH 10`.
    pub fn clauses_from(&self, from: &SequenceOptions) -> Vec<String> {
        let mut clauses = Vec::new();
        if self.increment != from.increment {
            clauses.push(format!("INCREMENT BY {}", self.increment));
        }
        if self.min_value != from.min_value {
            clauses.push(format!("MINVALUE {}", self.min_value));
        }
        if self.max_value != from.max_value {
            clauses.push(format!("MAXVALUE {}", self.max_value));
        }
        if self.start != from.start {
            clauses.push(format!("START WITH {}", self.start));
        }
        if self.cache != from.cache {
            clauses.push(format!("CACHE {}", self.cache));
        }
        if self.cycle != from.cycle {
            clauses.push(if self.cycle { "CYCLE" } else { "NO CYCLE" }.to_string());
        }
        clauses
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_options_default_by_type_and_direction() {
        let int = ColumnType::parse("integer");
        let down = SequenceOptions::defaults(&int, -1);
        assert_eq!(
            (down.min_value, down.max_value, down.start),
            (i32::MIN as i64, -1, -1)
        );
        assert_eq!(
            SequenceOptions::defaults(&int, 1).unless_default(&int),
            None
        );
        let mut options = SequenceOptions::defaults(&int, 1);
        options.start = 10;
        options.cycle = true;
        assert_eq!(
            options.clauses_from(&SequenceOptions::defaults(&int, 1)),
            ["START WITH 10", "CYCLE"]
        );
        assert_eq!(options.unless_default(&int), Some(options));
    }
}

/// Rows introspection reads: the seeded columns of a seeded table, in
/// public or in every tenant schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowRead {
    pub table: Ident,
    pub columns: Vec<Ident>,
    pub tenant_scope: bool,
}
