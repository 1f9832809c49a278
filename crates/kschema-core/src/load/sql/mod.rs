//! SQL files → [`SchemaModel`]: `CREATE TABLE`, `CREATE INDEX` and
//! `CREATE SEQUENCE`, parsed with sqlparser, checked, and normalized with the
//! same code the live side uses; `CREATE FUNCTION`, `PROCEDURE` and
//! `TRIGGER`, identified from their tokens and left to PostgreSQL to read
//! (`routine`).

mod annotations;
mod build;
mod dump_fold;
mod enum_type;
mod extension;
mod index;
mod read;
mod routine;
mod scope;
mod sequence;
mod table;
mod tablespace;
mod text;
mod tokens;

use self::build::{named, relation_name_clashes};
pub use self::scope::{shared_folder, Neighbours, Scope, TENANT_FOLDER};
use self::table::{expression_column_name, literal_i64, sql_expr, PendingForeignKey};
pub(crate) use self::text::parse_problem;
use self::text::unsafe_text_problems;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use miette::SourceSpan;
use sqlparser::ast::{
    AlterTable, ColumnOption, ConstraintCharacteristics, ConstraintReferenceMatchKind, CreateIndex,
    CreateTable, CreateTableOptions, DataType, DeferrableInitial, Expr, GeneratedAs,
    Ident as SqlIdent, IndexColumn, NullsDistinctOption, ObjectName, OrderBySort,
    ReferentialAction as SqlAction, SequenceOptions, Spanned, Statement, TableConstraint,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::{Parser, ParserError};

use super::dump::{self, DumpStatement};
use super::statements::{statement_places_in, tokenize, Comment, StatementPlace};
use crate::diagnostic::{Problem, SourceFile};
use crate::hazard::HazardKind;
use crate::ident::Ident;
use crate::model::{
    Column, ColumnType, Constraint, ConstraintKind, Deferrable, ForeignKey, Identity, Index,
    IndexExpr, IndexKey, PartitionColumn, PartitionOf, ReferentialAction, SchemaModel, SchemaName,
    SchemaRef, Sequence, SqlExpr, Table, TableRef,
};
use crate::normalize::expr::{canonicalize, check_nesting_in, ExprContext, MAX_EXPRESSION_DEPTH};
use crate::normalize::names::{join_column_names, NameChooser};
use crate::normalize::types::normalize_type;

/// Where a desired object was written, for diagnostics and annotations.
#[derive(Clone, Debug)]
pub struct Origin {
    pub file: Arc<SourceFile>,
    pub span: SourceSpan,
    /// `-- kschema:…` annotations attached to the object.
    pub annotations: Annotations,
}

/// What `-- kschema:` comments say about an object. On a `CREATE TABLE`
/// they go on the lines right above it; on a column, at the end of its line
/// or on the lines right above it.
///
/// ```sql
/// -- kschema:allow-hazard deletes-data, rewrites-table
/// CREATE TABLE users (
///     email_address TEXT NOT NULL, -- kschema:renamed-from email
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Annotations {
    /// Hazards allowed for changes to this object (and, on a table, to its
    /// columns, constraints and indexes).
    pub allow_hazards: Vec<HazardKind>,
    /// The name the object had before: a rename instead of drop and add.
    pub renamed_from: Option<Ident>,
    /// On a column: how to convert its values when its type changes
    /// (`-- kschema:using (to_timestamp(created / 1000))`).
    pub using: Option<String>,
}

/// The key of an object inside one scope.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectKey {
    Table(Ident),
    Column(Ident, Ident),
    Constraint(Ident, Ident),
    Index(Ident),
    Sequence(Ident),
    /// A function or procedure by name and number of arguments (what tells
    /// overloads apart in the files).
    Function(Ident, usize),
    /// The n-th (from 1) overload after the first with that name and number
    /// of arguments.
    Overload(Ident, usize, usize),
    /// One of several overloads with as many arguments, once the desired
    /// state is built: by name and the argument types PostgreSQL gave it.
    Signature(Ident, String),
    /// (table, trigger)
    Trigger(Ident, Ident),
    /// An enum type.
    Type(Ident),
    Extension(Ident),
    View(Ident),
    /// (table, policy)
    Policy(Ident, Ident),
    /// The n-th `GRANT` / `REVOKE` of the scope.
    Grant(usize),
    /// The n-th `ALTER DEFAULT PRIVILEGES` of the scope.
    DefaultGrant(usize),
    EventTrigger(Ident),
    /// The n-th `COMMENT ON` of the scope kept as written (not a table's
    /// or column's).
    Comment(usize),
}

impl ObjectKey {
    /// A function's key: its overload's place while the desired state is
    /// built, its name and number of arguments after (overloads of the
    /// same count are then also keyed by their types: `Signature`).
    pub fn of_function(function: &crate::model::Function) -> ObjectKey {
        match function
            .arguments
            .strip_prefix('#')
            .and_then(|n| n.parse().ok())
        {
            Some(n) => ObjectKey::Overload(function.name.clone(), function.inputs, n),
            None => ObjectKey::Function(function.name.clone(), function.inputs),
        }
    }
}

/// A loaded scope: its model and where each object came from.
#[derive(Clone, Debug, Default)]
pub struct LoadedScope {
    pub model: SchemaModel,
    pub origins: BTreeMap<ObjectKey, Origin>,
    /// Rows kschema keeps in this scope's tables (`schema/seeds/*.toml`).
    pub seeds: Vec<super::seeds::Seed>,
    /// `GRANT` / `REVOKE` statements, in order: run after everything else
    /// when the desired state is built.
    pub grants: Vec<crate::sql::Sql>,
    /// `ALTER DEFAULT PRIVILEGES` statements, in order: run before the
    /// scope's objects when the desired state is built.
    pub default_grants: Vec<crate::sql::Sql>,
    /// `COMMENT ON` what is not a table or column, in order: run after the
    /// grants.
    pub comments: Vec<crate::sql::Sql>,
}

/// Parses and checks the files of one scope: a shared schema (`own` is
/// its name) or the tenant template. Unqualified references in the tenant
/// files that no tenant table satisfies resolve in public, as
/// `search_path = org_x, public` would; qualified ones may name any shared
/// schema of the project.
pub fn load_scope(
    scope: Scope,
    own: &Ident,
    files: &[Arc<SourceFile>],
    neighbours: Neighbours<'_>,
) -> Result<LoadedScope, Problem> {
    let mut loader = Loader {
        scope,
        own: own.clone(),
        shared: neighbours.shared.to_vec(),
        problems: Vec::new(),
        tables: Vec::new(),
        indexes: Vec::new(),
        sequences: Vec::new(),
        amendments: Vec::new(),
        owners: Vec::new(),
        not_valid: Vec::new(),
        comments: Vec::new(),
        replica_identities: Vec::new(),
        unlogged_sequences: Vec::new(),
        serial_sequences: Vec::new(),
        routines: Vec::new(),
        trigger_firings: Vec::new(),
        row_security: Vec::new(),
        enums: Vec::new(),
        extensions: Vec::new(),
        partition_attachments: Vec::new(),
        index_attachments: Vec::new(),
        only_indexes: Vec::new(),
        tablespaces: HashMap::new(),
        dump_schema: None,
    };
    for file in files {
        loader.read_file(file);
    }
    let loaded = loader.build(neighbours);
    loader.problems.extend(relation_name_clashes(&loaded));
    match Problem::combine(loader.problems) {
        Some(problem) => Err(problem),
        None => Ok(loaded),
    }
}

/// A `COMMENT ON TABLE t` (no column) or `COLUMN t.c`, and where it is.
struct DeclaredComment {
    file: Arc<SourceFile>,
    span: SourceSpan,
    table: Ident,
    column: Option<Ident>,
    text: Option<String>,
}

struct Declared<T> {
    ast: T,
    file: Arc<SourceFile>,
    place: StatementPlace,
}

struct Loader {
    scope: Scope,
    /// The tablespace of a `CREATE TABLE` or `CREATE INDEX`, by file and
    /// the statement's start (see `tablespace`).
    tablespaces: HashMap<(String, (u64, u64)), Ident>,
    /// A shared scope's schema name (`public`, `audit`).
    own: Ident,
    /// Every shared schema the project keeps, `public` among them.
    shared: Vec<Ident>,
    problems: Vec<Problem>,
    tables: Vec<Declared<CreateTable>>,
    indexes: Vec<Declared<CreateIndex>>,
    sequences: Vec<Declared<sqlparser::ast::Statement>>,
    /// `ALTER TABLE`s of a dump, folded into their tables before building.
    amendments: Vec<Declared<Box<AlterTable>>>,
    /// `ALTER SEQUENCE … OWNED BY` of a dump.
    owners: Vec<(Arc<SourceFile>, dump::SequenceOwner)>,
    /// `COMMENT ON TABLE` / `COLUMN`, applied once the tables are built.
    comments: Vec<DeclaredComment>,
    /// (table, constraint) a dump added `NOT VALID`.
    not_valid: Vec<(Ident, Ident)>,
    /// Where a `CREATE UNLOGGED SEQUENCE` was: fine for a serial of an
    /// unlogged table (its sequence is unlogged anyway), refused otherwise.
    unlogged_sequences: Vec<(Arc<SourceFile>, (u64, u64))>,
    /// (table, column, sequence) of a dump's serial: its sequence's
    /// options (`INCREMENT BY 10`) and type may be other than a new
    /// serial's.
    serial_sequences: Vec<(Ident, Ident, crate::model::Sequence)>,
    /// `ALTER TABLE … REPLICA IDENTITY`, by table, and where it is said.
    replica_identities: Vec<(
        Ident,
        Option<crate::model::ReplicaIdentity>,
        Arc<SourceFile>,
        SourceSpan,
    )>,
    /// `CREATE FUNCTION`, `PROCEDURE` and `TRIGGER` statements.
    routines: Vec<routine::DeclaredRoutine>,
    /// `ALTER TABLE … DISABLE TRIGGER` and its kin.
    trigger_firings: Vec<routine::DeclaredFiring>,
    /// `ALTER TABLE … ENABLE / FORCE ROW LEVEL SECURITY`, by table.
    row_security: Vec<(Ident, crate::model::RowSecurity)>,
    /// `CREATE TYPE … AS ENUM`.
    enums: Vec<Declared<enum_type::DeclaredType>>,
    extensions: Vec<Declared<sqlparser::ast::CreateExtension>>,
    /// A dump's `ALTER TABLE parent ATTACH PARTITION child …`.
    partition_attachments: Vec<dump_fold::DeclaredAttachment>,
    /// A dump's `ALTER INDEX parent ATTACH PARTITION child`.
    index_attachments: Vec<(Arc<SourceFile>, dump::IndexAttachment)>,
    /// A dump's `CREATE INDEX … ON ONLY t`.
    only_indexes: Vec<(Arc<SourceFile>, dump::OnlyIndex)>,
    /// The schema a dump of tenant files names (`CREATE SCHEMA org_x`):
    /// its qualifier is the template's own.
    dump_schema: Option<Ident>,
}

impl Loader {
    /// The tablespace a table's or index's statement names or sets.
    fn tablespace_of<T>(&self, declared: &Declared<T>) -> Option<Ident> {
        self.tablespaces
            .get(&(declared.file.name.clone(), declared.place.start))
            .cloned()
    }

    fn unsupported(&mut self, file: &Arc<SourceFile>, span: SourceSpan, what: String, help: &str) {
        self.problems.push(
            Problem::new("kschema::sql::unsupported", what)
                .at(file, span, "not supported")
                .with_help(help.to_string()),
        );
    }
}

fn ident_span(file: &Arc<SourceFile>, ident: Option<&SqlIdent>) -> SourceSpan {
    match ident {
        Some(ident) if ident.span.start.line > 0 => {
            let quotes = if ident.quote_style.is_some() { 2 } else { 0 };
            file.span_at(
                ident.span.start.line,
                ident.span.start.column,
                ident.value.chars().count() + quotes,
            )
        }
        _ => file.span_at(1, 1, 1),
    }
}

fn statement_span(file: &Arc<SourceFile>, place: &StatementPlace) -> SourceSpan {
    // The first line of the statement is enough to say which one it is.
    let end = if place.end.0 == place.start.0 {
        place.end
    } else {
        (place.start.0, u64::MAX)
    };
    file.span_between(place.start, end)
}

fn unknown_column(
    file: &Arc<SourceFile>,
    span: SourceSpan,
    table: &Ident,
    column: &Ident,
) -> Problem {
    Problem::new(
        "kschema::sql::unknown_column",
        format!("table {table} has no column {column}"),
    )
    .at(file, span, "no such column")
    .with_help(format!(
        "check the spelling, or add column {column} to {table}"
    ))
}
