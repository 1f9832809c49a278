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
    /// built, its name and number of arguments after (an annotation on
    /// the first of same-count overloads speaks for them all).
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
        serial_options: Vec::new(),
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
    /// (table, column, options) of a dump's serial whose sequence has
    /// options of its own (`INCREMENT BY 10`).
    serial_options: Vec<(Ident, Ident, crate::model::SequenceOptions)>,
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
    fn read_file(&mut self, file: &Arc<SourceFile>) {
        if let Some(offset) = file.text().find('\0') {
            let span = SourceSpan::new(offset.into(), 1);
            self.problems.push(
                Problem::new(
                    "kschema::sql::nul",
                    format!("{} holds a NUL byte", file.name),
                )
                .at(file, span, "here")
                .with_help("PostgreSQL accepts no NUL in SQL text; remove it"),
            );
            return;
        }
        let unsafe_text = unsafe_text_problems(file);
        if !unsafe_text.is_empty() {
            self.problems.extend(unsafe_text);
            return;
        }
        // One tokenization serves the checks and the statements' places;
        // what schema dumps write that sqlparser cannot read is taken out
        // of it first (see `dump`).
        let tokens = tokenize(file.text()).map(|tokens| {
            let tokens = dump::without_sequence_names(dump::without_psql_guards(tokens));
            let tokens = tokens::comment_text_as_literal(tokens);
            let (tokens, key_parameters) = tokens::without_key_index_parameters(tokens);
            for (start, end) in key_parameters {
                self.unsupported(
                    file,
                    file.span_between(start, end),
                    "a constraint's USING INDEX TABLESPACE, a column constraint's WITH (…) or an exclusion constraint's WITH (…) is not managed yet".into(),
                    "write a key as a table constraint, PRIMARY KEY (id) WITH (fillfactor = 70), which is managed; an exclusion constraint's index parameters and tablespaces are listed as not compared when found live",
                );
            }
            let tokens = dump::without_ownership(tokens);
            let tokens = match self.scope {
                Scope::Tenant => dump::without_own_qualifier(tokens),
                Scope::Shared => tokens,
            };
            let (tokens, unlogged) = dump::without_unlogged_sequences(tokens);
            self.unlogged_sequences
                .extend(unlogged.into_iter().map(|place| (file.clone(), place)));
            let (tokens, routines) = routine::take_routines(tokens, file);
            self.routines.extend(routines);
            let (tokens, attachments) = dump::take_index_attachments(tokens);
            self.index_attachments
                .extend(attachments.into_iter().map(|a| (file.clone(), a)));
            let (tokens, only) = dump::without_index_only(tokens);
            self.only_indexes
                .extend(only.into_iter().map(|o| (file.clone(), o)));
            let (tokens, tablespaces) = tablespace::take_tablespaces(tokens);
            for clause in tablespaces.clauses {
                self.tablespaces
                    .insert((file.name.clone(), clause.statement), clause.name);
            }
            for (start, end) in tablespaces.key_indexes {
                self.unsupported(
                    file,
                    file.span_between(start, end),
                    "a key's index under SET default_tablespace is not managed yet".into(),
                    "declare the key's table with its own TABLESPACE clause and the key without a setting in force (SET default_tablespace = ''); tables and indexes in a tablespace are managed, a key's index stays in the database's default",
                );
            }
            let (tokens, sequences) = dump::take_alter_sequences(tokens);
            for sequence in sequences {
                match sequence {
                    Ok(owner) => self.owners.push((file.clone(), owner)),
                    Err((start, end)) => self.unsupported(
                        file,
                        file.span_between(start, end),
                        "ALTER SEQUENCE is not part of a desired state, except OWNED BY".into(),
                        "write the sequence's options in its CREATE SEQUENCE",
                    ),
                }
            }
            tokens
        });
        let nesting = tokens
            .as_deref()
            .map_or(Ok(()), |t| check_nesting_in(t, MAX_EXPRESSION_DEPTH));
        if let Err((line, column)) = nesting {
            self.problems.push(
                Problem::new(
                    "kschema::sql::too_deep",
                    format!(
                        "an expression in {} nests more than {MAX_EXPRESSION_DEPTH} operators deep",
                        file.name
                    ),
                )
                .at(
                    file,
                    file.span_at(line, column, 1),
                    "the limit is passed here",
                )
                .with_help(
                    "split the expression (a function, a generated column, or several CHECKs)",
                ),
            );
            return;
        }
        let places = tokens
            .as_deref()
            .map(statement_places_in)
            .unwrap_or_default();
        // A tablespace left after `tablespace` took the tables' and
        // indexes' out (a materialized view's) is not managed: say that,
        // not "invalid".
        let tablespace = tokens.as_deref().and_then(|tokens| {
            tokens.iter().find_map(|t| match &t.token {
                sqlparser::tokenizer::Token::Word(w)
                    if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("tablespace") =>
                {
                    Some((
                        (t.span.start.line, t.span.start.column),
                        (t.span.end.line, t.span.end.column),
                    ))
                }
                _ => None,
            })
        });
        let parser =
            Parser::new(&PostgreSqlDialect {}).with_recursion_limit(MAX_EXPRESSION_DEPTH + 50);
        let parsed = match tokens {
            Some(tokens) => parser.with_tokens_with_locations(tokens).parse_statements(),
            // Text that does not tokenize: the parser says why.
            None => parser
                .try_with_sql(file.text())
                .and_then(|mut parser| parser.parse_statements()),
        };
        let statements = match parsed {
            Ok(statements) => statements,
            Err(_) if tablespace.is_some() => {
                let (start, end) = tablespace.unwrap_or_default();
                self.unsupported(
                    file,
                    file.span_between(start, end),
                    "a tablespace is managed for tables and indexes only".into(),
                    "leave TABLESPACE out here (a materialized view's is listed as not compared when found live)",
                );
                return;
            }
            Err(error) => {
                self.problems.push(parse_problem(file, &error));
                return;
            }
        };
        if places.len() != statements.len() {
            // Cannot happen for text sqlparser accepted; report rather than guess.
            self.problems.push(
                Problem::new(
                    "kschema::sql::split",
                    format!("could not tell the statements of {} apart", file.name),
                )
                .at(file, file.span_at(1, 1, 1), "in this file")
                .with_help("end every statement with a semicolon"),
            );
            return;
        }
        for (statement, place) in statements.into_iter().zip(places) {
            match statement {
                Statement::CreateTable(table) => self.tables.push(Declared {
                    ast: table,
                    file: file.clone(),
                    place,
                }),
                Statement::CreateIndex(index) => self.indexes.push(Declared {
                    ast: index,
                    file: file.clone(),
                    place,
                }),
                sequence @ Statement::CreateSequence { .. } => self.sequences.push(Declared {
                    ast: sequence,
                    file: file.clone(),
                    place,
                }),
                Statement::CreateExtension(extension) => self.extensions.push(Declared {
                    ast: extension,
                    file: file.clone(),
                    place,
                }),
                Statement::CreateType {
                    name,
                    representation,
                } if enum_type::enum_labels(&representation).is_some() => {
                    self.enums.push(Declared {
                        ast: enum_type::DeclaredType {
                            name,
                            labels: enum_type::enum_labels(&representation).unwrap_or_default(),
                        },
                        file: file.clone(),
                        place,
                    })
                }
                other => match dump::classify(other) {
                    Ok(DumpStatement::Setting)
                    | Ok(DumpStatement::Ownership)
                    | Ok(DumpStatement::PublicSchemaComment) => {}
                    Ok(DumpStatement::CreateSchema(name)) => {
                        self.schema_declared(file, &place, name)
                    }
                    Ok(DumpStatement::Comment {
                        table,
                        column,
                        text,
                    }) => self.comments.push(DeclaredComment {
                        file: file.clone(),
                        span: statement_span(file, &place),
                        table,
                        column,
                        text,
                    }),
                    Ok(DumpStatement::AlterTable(alter)) => self.amendments.push(Declared {
                        ast: alter,
                        file: file.clone(),
                        place,
                    }),
                    Err(other) => self.refuse_statement(file, &place, &other),
                },
            }
        }
    }

    /// `CREATE SCHEMA` in a dump: a shared schema's files create that
    /// schema; a tenant dump names one schema, whose qualifier then means
    /// the template.
    fn schema_declared(&mut self, file: &Arc<SourceFile>, place: &StatementPlace, name: Ident) {
        let span = statement_span(file, place);
        match self.scope {
            Scope::Shared if name == self.own => {}
            Scope::Shared => self.problems.push(
                Problem::new(
                    "kschema::sql::wrong_schema",
                    format!("files under {} define {}, not schema {name}", self.folder(), self.own),
                )
                .at(file, span, "another schema")
                .with_help("a folder per shared schema (schema/public, schema/audit, …); dump one schema per folder (pg_dump -n)"),
            ),
            Scope::Tenant => match &self.dump_schema {
                Some(known) if *known != name => self.problems.push(
                    Problem::new(
                        "kschema::sql::wrong_schema",
                        format!("the tenant files create schema {name} and schema {known}"),
                    )
                    .at(file, span, "a second schema")
                    .with_help("the tenant files describe one schema, the template every tenant gets; dump one tenant's schema (pg_dump -n org_x)"),
                ),
                _ => self.dump_schema = Some(name),
            },
        }
    }

    fn refuse_statement(
        &mut self,
        file: &Arc<SourceFile>,
        place: &StatementPlace,
        other: &Statement,
    ) {
        let what = statement_kind(other);
        // What schema dumps hold that kschema does not manage yet gets a
        // way to leave it out of the dump.
        let help = match other {
            // Privileges on objects are taken out of the tokens before
            // (`routine`); what reaches here grants roles to roles.
            Statement::Grant { .. } | Statement::Revoke { .. } => {
                "kschema manages privileges on objects, not role membership; grant roles outside the desired state"
            }
            Statement::Comment { .. } => {
                "kschema manages comments on the objects of public and the tenant schemas, not on schemas, databases or roles; leave this one out (pg_dump --no-comments)"
            }
            _ => {
                "desired-state files hold CREATE EXTENSION, TABLE, INDEX, SEQUENCE, TYPE … AS \
                 ENUM, DOMAIN, FUNCTION, PROCEDURE, TRIGGER, VIEW and POLICY (and the ALTER TABLE … ADD CONSTRAINT / \
                 ALTER COLUMN … SET DEFAULT forms schema dumps write); kschema works out the other \
                 ALTERs and the DROPs itself"
            }
        };
        self.problems.push(
            Problem::new(
                "kschema::sql::unsupported_statement",
                format!("{what} is not part of a desired state"),
            )
            .at(file, statement_span(file, place), "this statement")
            .with_help(help),
        );
    }

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

fn statement_kind(statement: &Statement) -> String {
    let text = statement.to_string();
    // `CREATE EXTENSION`, `CREATE OR REPLACE FUNCTION`, `ALTER TABLE`: the
    // leading keywords up to the object's name (`IF NOT EXISTS` is not part
    // of what the statement is).
    let keywords: Vec<&str> = text
        .split_whitespace()
        .take_while(|w| *w != "IF" && w.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .take(4)
        .collect();
    if keywords.is_empty() {
        "this statement".into()
    } else {
        keywords.join(" ")
    }
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
