//! SQL files → [`SchemaModel`]: `CREATE TABLE`, `CREATE INDEX` and
//! `CREATE SEQUENCE`, parsed with sqlparser, checked, and normalized with the
//! same code the live side uses.

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
    IndexExpr, IndexKey, ReferentialAction, SchemaModel, SchemaName, SchemaRef, Sequence, SqlExpr,
    Table, TableRef,
};
use crate::normalize::expr::{canonicalize, check_nesting_in, ExprContext, MAX_EXPRESSION_DEPTH};
use crate::normalize::names::{join_column_names, NameChooser};
use crate::normalize::types::normalize_type;

/// Which set of desired-state files is being loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// `schema/public/*.sql`
    Public,
    /// `schema/tenant/*.sql`: the template every tenant schema gets.
    Tenant,
}

impl Scope {
    pub fn folder(self) -> &'static str {
        match self {
            Scope::Public => "schema/public",
            Scope::Tenant => "schema/tenant",
        }
    }
}

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
}

/// A loaded scope: its model and where each object came from.
#[derive(Clone, Debug, Default)]
pub struct LoadedScope {
    pub model: SchemaModel,
    pub origins: BTreeMap<ObjectKey, Origin>,
    /// Rows kschema keeps in this scope's tables (`schema/seeds/*.toml`).
    pub seeds: Vec<super::seeds::Seed>,
}

/// Parses and checks the files of one scope. `public` is the already-loaded
/// public scope when loading the tenant template: unqualified references
/// that no tenant table satisfies resolve there, as `search_path = org_x,
/// public` would.
pub fn load_scope(
    scope: Scope,
    files: &[Arc<SourceFile>],
    public: Option<&SchemaModel>,
) -> Result<LoadedScope, Problem> {
    let mut loader = Loader {
        scope,
        problems: Vec::new(),
        tables: Vec::new(),
        indexes: Vec::new(),
        sequences: Vec::new(),
        amendments: Vec::new(),
        owners: Vec::new(),
        dump_schema: None,
    };
    for file in files {
        loader.read_file(file);
    }
    let loaded = loader.build(public);
    loader.problems.extend(relation_name_clashes(&loaded));
    match Problem::combine(loader.problems) {
        Some(problem) => Err(problem),
        None => Ok(loaded),
    }
}

struct Declared<T> {
    ast: T,
    file: Arc<SourceFile>,
    place: StatementPlace,
}

struct Loader {
    scope: Scope,
    problems: Vec<Problem>,
    tables: Vec<Declared<CreateTable>>,
    indexes: Vec<Declared<CreateIndex>>,
    sequences: Vec<Declared<sqlparser::ast::Statement>>,
    /// `ALTER TABLE`s of a dump, folded into their tables before building.
    amendments: Vec<Declared<Box<AlterTable>>>,
    /// `ALTER SEQUENCE … OWNED BY` of a dump.
    owners: Vec<(Arc<SourceFile>, dump::SequenceOwner)>,
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
        // sqlparser cannot read `WITH (…) TABLESPACE x` though PostgreSQL
        // can; kschema refuses tablespaces anyway, so say that, not "invalid".
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
                    "tablespaces are not supported in the desired state".into(),
                    "leave TABLESPACE out: kschema would create the object in the default tablespace and call it converged",
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
                other => match dump::classify(other) {
                    Ok(DumpStatement::Setting)
                    | Ok(DumpStatement::Ownership)
                    | Ok(DumpStatement::PublicSchemaComment) => {}
                    Ok(DumpStatement::CreateSchema(name)) => {
                        self.schema_declared(file, &place, name)
                    }
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

    /// `CREATE SCHEMA` in a dump: public's files create public; a tenant
    /// dump names one schema, whose qualifier then means the template.
    fn schema_declared(&mut self, file: &Arc<SourceFile>, place: &StatementPlace, name: Ident) {
        let span = statement_span(file, place);
        match self.scope {
            Scope::Public if name.as_str() == "public" => {}
            Scope::Public => self.problems.push(
                Problem::new(
                    "kschema::sql::wrong_schema",
                    format!("files under schema/public define public, not schema {name}"),
                )
                .at(file, span, "another schema")
                .with_help("kschema manages public and the tenant schemas; dump one schema per folder (pg_dump -n)"),
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
            Statement::Grant { .. } | Statement::Revoke { .. } => {
                "kschema does not manage privileges yet; leave them out (pg_dump --no-privileges)"
            }
            Statement::Comment { .. } => {
                "kschema does not manage comments yet; leave them out (pg_dump --no-comments)"
            }
            _ => {
                "desired-state files hold CREATE TABLE, CREATE INDEX and CREATE SEQUENCE (and the \
                 ALTER TABLE … ADD CONSTRAINT / ALTER COLUMN … SET DEFAULT forms schema dumps \
                 write); kschema works out the other ALTERs and the DROPs itself"
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

    /// Folds a dump's `ALTER TABLE`s into their tables, and its serials
    /// (a sequence, its owner and a `nextval` default) back into serials.
    fn fold_dump(&mut self) {
        let amendments = std::mem::take(&mut self.amendments);
        for amendment in amendments {
            let file = &amendment.file;
            let span = statement_span(file, &amendment.place);
            let name = amendment
                .ast
                .name
                .0
                .last()
                .and_then(|p| p.as_ident())
                .map(Ident::from_sqlparser);
            let Some(table) = self.tables.iter_mut().find(|t| {
                t.ast
                    .name
                    .0
                    .last()
                    .and_then(|p| p.as_ident())
                    .map(Ident::from_sqlparser)
                    == name
            }) else {
                self.problems.push(
                    Problem::new(
                        "kschema::sql::unknown_table",
                        format!("ALTER TABLE {} names a table no CREATE TABLE declares", amendment.ast.name),
                    )
                    .at(file, span, "this statement")
                    .with_help("declare the table (the ALTER TABLE forms of a dump amend a CREATE TABLE of the same files)"),
                );
                continue;
            };
            if !Arc::ptr_eq(&table.file, file) {
                self.problems.push(
                    Problem::new(
                        "kschema::sql::amendment_elsewhere",
                        format!(
                            "ALTER TABLE {} is not in the file of its CREATE TABLE ({})",
                            amendment.ast.name, table.file.name
                        ),
                    )
                    .at(file, span, "this statement")
                    .with_help("keep a table's ALTER TABLE statements in the file that creates it"),
                );
                continue;
            }
            let mut refusals = Vec::new();
            for operation in &amendment.ast.operations {
                let refused = match dump::fold(&mut table.ast, operation) {
                    Ok(()) => continue,
                    Err(dump::NotFolded::NotValid) => (
                        "a NOT VALID constraint in the desired state is not supported yet".to_string(),
                        "validate it (or leave NOT VALID out): the desired state says what holds",
                    ),
                    Err(dump::NotFolded::UnknownColumn(column)) => (
                        format!("ALTER TABLE {} names column {column}, which the table does not have", amendment.ast.name),
                        "fix the column's name",
                    ),
                    Err(dump::NotFolded::Other(what)) => (
                        format!("ALTER TABLE … {what} is not part of a desired state"),
                        "a desired state amends a table only with ADD CONSTRAINT, ALTER COLUMN … SET DEFAULT, SET NOT NULL or ADD GENERATED … AS IDENTITY; write the rest in its CREATE TABLE",
                    ),
                };
                refusals.push(refused);
            }
            for (what, help) in refusals {
                self.unsupported(file, span, what, help);
            }
        }
        let owners = std::mem::take(&mut self.owners);
        for (file, owner) in owners {
            self.fold_serial(&file, owner);
        }
    }

    /// A sequence `OWNED BY` a column whose default is its `nextval`, with
    /// the options a serial's sequence has: the column is a serial.
    fn fold_serial(&mut self, file: &Arc<SourceFile>, owner: dump::SequenceOwner) {
        let span = file.span_between(owner.place.0, owner.place.1);
        let Some(at) = self.sequences.iter().position(|d| match &d.ast {
            Statement::CreateSequence { name, .. } => {
                name.0
                    .last()
                    .and_then(|p| p.as_ident())
                    .map(Ident::from_sqlparser)
                    .as_ref()
                    == Some(&owner.sequence)
            }
            _ => false,
        }) else {
            self.unsupported(
                file,
                span,
                format!(
                    "sequence {} is owned by {}.{} but not declared",
                    owner.sequence, owner.table, owner.column
                ),
                "declare it with CREATE SEQUENCE, or write the column as SERIAL",
            );
            return;
        };
        let declared = self.sequences.remove(at);
        let Some(sequence) = self.sequence(&declared) else {
            return;
        };
        let column = self
            .tables
            .iter_mut()
            .filter(|t| {
                t.ast
                    .name
                    .0
                    .last()
                    .and_then(|p| p.as_ident())
                    .map(Ident::from_sqlparser)
                    .as_ref()
                    == Some(&owner.table)
            })
            .flat_map(|t| t.ast.columns.iter_mut())
            .find(|c| Ident::from_sqlparser(&c.name) == owner.column);
        let Some(column) = column else {
            self.unsupported(
                file,
                span,
                format!(
                    "sequence {} is owned by {}.{}, which is not declared",
                    owner.sequence, owner.table, owner.column
                ),
                "fix the owner's name",
            );
            return;
        };
        let draws = column.options.iter().any(|o| {
            matches!(&o.option, ColumnOption::Default(expr) if dump::nextval_sequence(expr).as_ref() == Some(&owner.sequence))
        });
        let serial = dump::serial_type(&column.data_type)
            .filter(|_| draws)
            .filter(|_| {
                normalize_type(&column.data_type).is_ok_and(|t| {
                    sequence == Sequence::with_defaults(sequence.name.clone(), t.data_type)
                })
            });
        match serial {
            Some(serial) => {
                column.data_type = dump::serial_data_type(serial);
                column.options.retain(|o| !matches!(o.option, ColumnOption::Default(_)));
            }
            None => self.unsupported(
                file,
                span,
                format!("sequence {} owned by {}.{} is not a plain serial's", owner.sequence, owner.table, owner.column),
                "kschema keeps an owned sequence only as a serial column (its default drawing from it, the default options, the column's type); write the column as SERIAL or use an identity column",
            ),
        }
    }

    fn build(&mut self, public: Option<&SchemaModel>) -> LoadedScope {
        self.fold_dump();
        let mut loaded = LoadedScope::default();
        let mut names = NameChooser::default();
        let mut first_seen: HashMap<Ident, (Arc<SourceFile>, SourceSpan)> = HashMap::new();

        // Explicit names first: implicit ones must not take them.
        for declared in &self.tables {
            if let Some(name) = declared.ast.name.0.last().and_then(|p| p.as_ident()) {
                names.reserve(Ident::from_sqlparser(name).as_str());
            }
        }
        for declared in &self.indexes {
            if let Some(name) = declared
                .ast
                .name
                .as_ref()
                .and_then(|n| n.0.last())
                .and_then(|p| p.as_ident())
            {
                names.reserve(Ident::from_sqlparser(name).as_str());
            }
        }

        let tables = std::mem::take(&mut self.tables);
        let mut pending_fks: Vec<(Ident, PendingForeignKey)> = Vec::new();
        for declared in &tables {
            let Some((name, name_span)) =
                self.object_name(&declared.file, &declared.ast.name, "table")
            else {
                continue;
            };
            if let Some((first_file, first_span)) = first_seen.get(&name) {
                let mut problem = Problem::new(
                    "kschema::sql::duplicate_table",
                    format!("table {name} is defined twice in {}", self.scope.folder()),
                )
                .at(&declared.file, name_span, "defined again here")
                .with_help("keep one definition: each table is declared exactly once");
                if Arc::ptr_eq(first_file, &declared.file) {
                    problem = problem.also(*first_span, "first defined here");
                } else {
                    problem.related.push(
                        Problem::new(
                            "kschema::sql::duplicate_table",
                            format!("table {name} is first defined here"),
                        )
                        .at(first_file, *first_span, "first definition"),
                    );
                }
                self.problems.push(problem);
                continue;
            }
            first_seen.insert(name.clone(), (declared.file.clone(), name_span));
            if let Some((table, fks)) = self.table(declared, &name, &mut names, &mut loaded) {
                pending_fks.extend(fks.into_iter().map(|fk| (name.clone(), fk)));
                let leading: Vec<&Comment> = declared.place.leading_comments.iter().collect();
                let annotations = self.annotations(&declared.file, &leading);
                loaded.origins.insert(
                    ObjectKey::Table(name.clone()),
                    Origin {
                        file: declared.file.clone(),
                        span: statement_span(&declared.file, &declared.place),
                        annotations,
                    },
                );
                loaded.model.tables.insert(name, table);
            }
        }
        self.tables = tables;

        // A file that did not parse may hold the referenced tables: checking
        // references now would only add noise to the parse error.
        let parsed_everything = !self
            .problems
            .iter()
            .any(|p| p.code == "kschema::sql::parse");
        for (table, fk) in pending_fks.into_iter().filter(|_| parsed_everything) {
            let place = (fk.file.clone(), fk.column_spans.first().copied());
            if let Some(constraint) =
                self.resolve_foreign_key(&table, fk, &loaded.model, public, &mut names)
            {
                if let (file, Some(span)) = place {
                    loaded.origins.insert(
                        ObjectKey::Constraint(table.clone(), constraint.name.clone()),
                        Origin {
                            file,
                            span,
                            annotations: Annotations::default(),
                        },
                    );
                }
                if let Some(t) = loaded.model.tables.get_mut(&table) {
                    t.constraints.push(constraint);
                }
            }
        }
        for table in loaded.model.tables.values_mut() {
            table.constraints.sort_by(|a, b| a.name.cmp(&b.name));
        }

        let indexes = std::mem::take(&mut self.indexes);
        for declared in &indexes {
            if let Some(index) = self.index(declared, &loaded.model, &mut names) {
                if let Some(existing) = loaded.model.indexes.get(&index.name) {
                    let span = declared
                        .ast
                        .name
                        .as_ref()
                        .map(|n| ident_span(&declared.file, n.0.last().and_then(|p| p.as_ident())))
                        .unwrap_or_else(|| statement_span(&declared.file, &declared.place));
                    self.problems.push(
                        Problem::new(
                            "kschema::sql::duplicate_index",
                            format!(
                                "index {} is defined twice (also on table {})",
                                index.name, existing.table
                            ),
                        )
                        .at(&declared.file, span, "defined again here")
                        .with_help("index names are unique within a schema; rename one of them"),
                    );
                    continue;
                }
                let leading: Vec<&Comment> = declared.place.leading_comments.iter().collect();
                let annotations = self.annotations(&declared.file, &leading);
                loaded.origins.insert(
                    ObjectKey::Index(index.name.clone()),
                    Origin {
                        file: declared.file.clone(),
                        span: statement_span(&declared.file, &declared.place),
                        annotations,
                    },
                );
                loaded.model.indexes.insert(index.name.clone(), index);
            }
        }
        self.indexes = indexes;

        let sequences = std::mem::take(&mut self.sequences);
        for declared in &sequences {
            if let Some(sequence) = self.sequence(declared) {
                let leading: Vec<&Comment> = declared.place.leading_comments.iter().collect();
                let annotations = self.annotations(&declared.file, &leading);
                loaded.origins.insert(
                    ObjectKey::Sequence(sequence.name.clone()),
                    Origin {
                        file: declared.file.clone(),
                        span: statement_span(&declared.file, &declared.place),
                        annotations,
                    },
                );
                loaded
                    .model
                    .sequences
                    .insert(sequence.name.clone(), sequence);
            }
        }
        self.sequences = sequences;
        loaded
    }

    /// The object's own name; a schema qualifier must match the scope.
    fn object_name(
        &mut self,
        file: &Arc<SourceFile>,
        name: &ObjectName,
        what: &str,
    ) -> Option<(Ident, SourceSpan)> {
        let parts: Vec<&SqlIdent> = name.0.iter().filter_map(|p| p.as_ident()).collect();
        let last = parts.last()?;
        let span = ident_span(file, Some(last));
        match (self.scope, parts.as_slice()) {
            (_, [_]) => {}
            (Scope::Public, [schema, _]) if Ident::from_sqlparser(schema).as_str() == "public" => {}
            (Scope::Public, [schema, _]) => {
                self.problems.push(
                    Problem::new(
                        "kschema::sql::wrong_schema",
                        format!("{what} {name} is not in schema public"),
                    )
                    .at(
                        file,
                        ident_span(file, Some(schema)),
                        "files under schema/public define objects in public",
                    )
                    .with_help("drop the qualifier, or move the file to the folder of its schema"),
                );
                return None;
            }
            // A tenant dump's own qualifier is the template's.
            (Scope::Tenant, [schema, _])
                if self.dump_schema.as_ref() == Some(&Ident::from_sqlparser(schema)) => {}
            (Scope::Tenant, [schema, _]) => {
                self.problems.push(
                    Problem::new("kschema::sql::qualified_tenant_object", format!("tenant {what} {name} is schema-qualified"))
                        .at(file, ident_span(file, Some(schema)), "tenant objects are written without a schema")
                        .with_help("every tenant gets its own schema; write the bare name and kschema qualifies it per tenant"),
                );
                return None;
            }
            _ => {
                self.problems.push(
                    Problem::new(
                        "kschema::sql::bad_name",
                        format!("{name} is not a {what} name"),
                    )
                    .at(file, span, "expected `name` or `schema.name`"),
                );
                return None;
            }
        }
        Some((Ident::from_sqlparser(last), span))
    }

    /// Parses the `-- kschema:` comments among `comments`; a misspelt one is
    /// an error, not silently ignored.
    fn annotations(&mut self, file: &Arc<SourceFile>, comments: &[&Comment]) -> Annotations {
        let mut annotations = Annotations::default();
        for comment in comments {
            let Some(directive) = comment.text.strip_prefix("kschema:") else {
                continue;
            };
            let span = file.span_at(
                comment.line,
                comment.column,
                comment.text.chars().count() + 3,
            );
            let (name, argument) = directive
                .split_once(char::is_whitespace)
                .unwrap_or((directive, ""));
            let argument = argument.trim();
            match name {
                "allow-hazard" | "allow-hazards" => {
                    for hazard in argument.split(',').map(str::trim).filter(|h| !h.is_empty()) {
                        match hazard.parse::<HazardKind>() {
                            Ok(kind) => annotations.allow_hazards.push(kind),
                            Err(reason) => self.problems.push(
                                Problem::new("kschema::annotation::hazard", format!("unknown hazard `{hazard}` in an annotation"))
                                    .at(file, span, reason)
                                    .with_help("write `-- kschema:allow-hazard deletes-data, rewrites-table`"),
                            ),
                        }
                    }
                    if argument.is_empty() {
                        self.problems.push(
                            Problem::new("kschema::annotation::hazard", "allow-hazard names no hazard")
                                .at(file, span, "which hazards?")
                                .with_help("write `-- kschema:allow-hazard deletes-data, rewrites-table`"),
                        );
                    }
                }
                "renamed-from" => {
                    let old = argument.split_whitespace().next().unwrap_or("");
                    if old.is_empty() {
                        self.problems.push(
                            Problem::new("kschema::annotation::rename", "renamed-from names no old name")
                                .at(file, span, "renamed from what?")
                                .with_help("write `-- kschema:renamed-from old_name`"),
                        );
                    } else {
                        let quoted = old.len() >= 2 && old.starts_with('"') && old.ends_with('"');
                        let bare = if quoted { old[1..old.len() - 1].replace("\"\"", "\"") } else { old.to_string() };
                        annotations.renamed_from = Some(Ident::from_sql(&bare, quoted));
                    }
                }
                "using" => match crate::normalize::expr::parse_expr(argument) {
                    Ok(_) if !argument.is_empty() => annotations.using = Some(argument.to_string()),
                    _ => self.problems.push(
                        Problem::new("kschema::annotation::using", "using needs the expression that converts the column's values")
                            .at(file, span, "not an expression")
                            .with_help("write `-- kschema:using (to_timestamp(created / 1000))` at the end of the column's line"),
                    ),
                },
                other => self.problems.push(
                    Problem::new("kschema::annotation::unknown", format!("unknown annotation `kschema:{other}`"))
                        .at(file, span, "kschema does not know this annotation")
                        .with_help("known annotations: `-- kschema:allow-hazard <hazards>`, `-- kschema:renamed-from <old name>`, `-- kschema:using <conversion>`"),
                ),
            }
        }
        annotations
    }

    fn unsupported(&mut self, file: &Arc<SourceFile>, span: SourceSpan, what: String, help: &str) {
        self.problems.push(
            Problem::new("kschema::sql::unsupported", what)
                .at(file, span, "not supported")
                .with_help(help.to_string()),
        );
    }

    fn table(
        &mut self,
        declared: &Declared<CreateTable>,
        name: &Ident,
        names: &mut NameChooser,
        loaded: &mut LoadedScope,
    ) -> Option<(Table, Vec<PendingForeignKey>)> {
        let ast = &declared.ast;
        let file = &declared.file;
        let table_span = ident_span(file, ast.name.0.last().and_then(|p| p.as_ident()));
        let refusals = [
            (ast.temporary, "temporary tables"),
            (ast.query.is_some(), "CREATE TABLE … AS"),
            (ast.like.is_some(), "CREATE TABLE … LIKE"),
            (ast.inherits.is_some(), "table inheritance"),
            (
                ast.partition_of.is_some() || ast.partition_by.is_some(),
                "partitioned tables",
            ),
            (ast.unlogged, "unlogged tables"),
            // Never dropped silently: kschema would create the table
            // without them and then call it converged.
            (
                !matches!(ast.table_options, CreateTableOptions::None),
                "storage parameters and tablespaces (WITH (…), TABLESPACE) on tables",
            ),
            (ast.on_commit.is_some(), "ON COMMIT clauses"),
        ];
        if let Some((_, what)) = refusals.iter().find(|(refused, _)| *refused) {
            self.unsupported(
                file,
                table_span,
                format!("{what} are not supported in the desired state"),
                "declare a plain CREATE TABLE",
            );
            return None;
        }

        let problems_before = self.problems.len();
        let mut columns: Vec<Column> = Vec::new();
        let mut column_spans: HashMap<Ident, SourceSpan> = HashMap::new();
        let mut primary_key: Option<(Option<Ident>, Vec<Ident>, SourceSpan)> = None;
        let mut uniques: Vec<(Option<Ident>, Vec<Ident>, bool)> = Vec::new();
        let mut checks: Vec<(Option<Ident>, Expr, Option<Ident>, bool)> = Vec::new();
        let mut fks: Vec<PendingForeignKey> = Vec::new();

        for def in &ast.columns {
            let column_name = Ident::from_sqlparser(&def.name);
            let span = ident_span(file, Some(&def.name));
            if column_spans.insert(column_name.clone(), span).is_some() {
                self.problems.push(
                    Problem::new(
                        "kschema::sql::duplicate_column",
                        format!("column {column_name} appears twice in table {name}"),
                    )
                    .at(file, span, "declared again here")
                    .with_help("remove or rename one of the two columns"),
                );
                continue;
            }
            let normalized = match normalize_type(&def.data_type) {
                Ok(t) => t,
                Err(reason) => {
                    self.problems.push(
                        Problem::new("kschema::sql::type", format!("column {name}.{column_name}: {reason}"))
                            .at(file, span, "this column's type")
                            .with_help("use a PostgreSQL type: text, varchar(n), integer, bigint, uuid, jsonb, timestamp, …"),
                    );
                    continue;
                }
            };
            let mut column = Column {
                name: column_name.clone(),
                data_type: normalized.data_type.clone(),
                not_null: normalized.serial,
                default: None,
                identity: None,
                collation: normalized.collation.clone(),
            };
            if normalized.serial {
                let sequence = names.choose(name.as_str(), Some(column_name.as_str()), "seq");
                column.identity = Some(Identity::Serial {
                    sequence: Ident::new(sequence),
                });
            }
            let mut explicit_null = false;
            for option in &def.options {
                let constraint_name = option.name.as_ref().map(Ident::from_sqlparser);
                match &option.option {
                    ColumnOption::Null => explicit_null = true,
                    ColumnOption::NotNull => column.not_null = true,
                    ColumnOption::Default(expr) => {
                        if column.identity.is_some() {
                            self.unsupported(file, span, format!("column {name}.{column_name} has both a default and a generated value"), "keep either the DEFAULT or the SERIAL/IDENTITY");
                            continue;
                        }
                        column.default = Some(sql_expr(expr, ExprContext { columns: None, assigned_to: Some(&column.data_type) }));
                    }
                    ColumnOption::PrimaryKey(pk) => {
                        if primary_key.is_some() {
                            self.problems.push(multiple_primary_keys(file, span, name));
                            continue;
                        }
                        self.refuse_characteristics(file, span, pk.characteristics.as_ref(), "primary key");
                        primary_key = Some((constraint_name.or(pk.name.as_ref().map(Ident::from_sqlparser)), vec![column_name.clone()], span));
                    }
                    ColumnOption::Unique(unique) => {
                        self.refuse_characteristics(file, span, unique.characteristics.as_ref(), "unique constraint");
                        let not_distinct = matches!(unique.nulls_distinct, NullsDistinctOption::NotDistinct);
                        uniques.push((constraint_name.or(unique.name.as_ref().map(Ident::from_sqlparser)), vec![column_name.clone()], not_distinct));
                    }
                    ColumnOption::ForeignKey(fk) => fks.push(PendingForeignKey {
                        name: constraint_name.or(fk.name.as_ref().map(Ident::from_sqlparser)),
                        columns: vec![column_name.clone()],
                        column_spans: vec![span],
                        foreign_table: fk.foreign_table.clone(),
                        referred_columns: fk.referred_columns.clone(),
                        on_delete: fk.on_delete,
                        on_update: fk.on_update,
                        match_full: matches!(fk.match_kind, Some(ConstraintReferenceMatchKind::Full)),
                        characteristics: fk.characteristics,
                        file: file.clone(),
                    }),
                    ColumnOption::Check(check) => checks.push((
                        constraint_name.or(check.name.as_ref().map(Ident::from_sqlparser)),
                        (*check.expr).clone(),
                        Some(column_name.clone()),
                        check.no_inherit,
                    )),
                    ColumnOption::Generated { generated_as, generation_expr: None, .. } => {
                        if column.identity.is_some() || column.default.is_some() {
                            self.unsupported(file, span, format!("column {name}.{column_name} has both a default and a generated value"), "keep either the DEFAULT or the IDENTITY");
                            continue;
                        }
                        column.identity = Some(match generated_as {
                            GeneratedAs::ByDefault => Identity::ByDefault,
                            _ => Identity::Always,
                        });
                        column.not_null = true;
                    }
                    ColumnOption::Collation(collation) => {
                        column.collation = collation.0.last().and_then(|p| p.as_ident()).map(Ident::from_sqlparser);
                    }
                    other => self.unsupported(
                        file,
                        span,
                        format!("column option `{other}` on {name}.{column_name} is not supported"),
                        "supported column options: NOT NULL, NULL, DEFAULT, PRIMARY KEY, UNIQUE, REFERENCES, CHECK, COLLATE, GENERATED … AS IDENTITY",
                    ),
                }
            }
            if explicit_null && column.not_null {
                self.problems.push(
                    Problem::new(
                        "kschema::sql::null_and_not_null",
                        format!("column {name}.{column_name} is declared both NULL and NOT NULL"),
                    )
                    .at(file, span, "conflicting nullability")
                    .with_help("keep one of NULL and NOT NULL"),
                );
            }
            let line = def.name.span.start.line;
            let annotations = self.annotations(file, &declared.place.comments_for_line(line));
            loaded.origins.insert(
                ObjectKey::Column(name.clone(), column_name.clone()),
                Origin {
                    file: file.clone(),
                    span,
                    annotations,
                },
            );
            columns.push(column);
        }

        for constraint in &ast.constraints {
            let span = constraint_span(file, constraint).unwrap_or(table_span);
            match constraint {
                TableConstraint::PrimaryKey(pk) => {
                    if primary_key.is_some() {
                        self.problems.push(multiple_primary_keys(file, span, name));
                        continue;
                    }
                    self.refuse_characteristics(
                        file,
                        span,
                        pk.characteristics.as_ref(),
                        "primary key",
                    );
                    if let Some(cols) = self.key_columns(file, &pk.columns, name) {
                        primary_key =
                            Some((pk.name.as_ref().map(Ident::from_sqlparser), cols, span));
                    }
                }
                TableConstraint::Unique(unique) => {
                    self.refuse_characteristics(
                        file,
                        span,
                        unique.characteristics.as_ref(),
                        "unique constraint",
                    );
                    if let Some(cols) = self.key_columns(file, &unique.columns, name) {
                        let not_distinct =
                            matches!(unique.nulls_distinct, NullsDistinctOption::NotDistinct);
                        uniques.push((
                            unique.name.as_ref().map(Ident::from_sqlparser),
                            cols,
                            not_distinct,
                        ));
                    }
                }
                TableConstraint::ForeignKey(fk) => fks.push(PendingForeignKey {
                    name: fk.name.as_ref().map(Ident::from_sqlparser),
                    columns: fk.columns.iter().map(Ident::from_sqlparser).collect(),
                    column_spans: fk
                        .columns
                        .iter()
                        .map(|c| ident_span(file, Some(c)))
                        .collect(),
                    foreign_table: fk.foreign_table.clone(),
                    referred_columns: fk.referred_columns.clone(),
                    on_delete: fk.on_delete,
                    on_update: fk.on_update,
                    match_full: matches!(fk.match_kind, Some(ConstraintReferenceMatchKind::Full)),
                    characteristics: fk.characteristics,
                    file: file.clone(),
                }),
                TableConstraint::Check(check) => checks.push((
                    check.name.as_ref().map(Ident::from_sqlparser),
                    (*check.expr).clone(),
                    None,
                    check.no_inherit,
                )),
                other => self.unsupported(
                    file,
                    span,
                    format!("table constraint `{other}` on {name} is not supported"),
                    "supported table constraints: PRIMARY KEY, UNIQUE, FOREIGN KEY, CHECK",
                ),
            }
        }

        // Every column a constraint names must exist.
        let mut constraint_columns: Vec<(&Ident, SourceSpan)> = Vec::new();
        if let Some((_, cols, span)) = &primary_key {
            constraint_columns.extend(cols.iter().map(|c| (c, *span)));
        }
        for (_, cols, _) in &uniques {
            constraint_columns.extend(cols.iter().map(|c| (c, table_span)));
        }
        for fk in &fks {
            constraint_columns.extend(
                fk.columns
                    .iter()
                    .zip(&fk.column_spans)
                    .map(|(c, s)| (c, *s)),
            );
        }
        for (column, span) in constraint_columns {
            if !column_spans.contains_key(column) {
                self.problems.push(unknown_column(file, span, name, column));
            }
        }
        if self.problems.len() > problems_before {
            return None;
        }

        // A primary key implies NOT NULL on its columns, as in PostgreSQL.
        if let Some((_, cols, _)) = &primary_key {
            for column in columns.iter_mut().filter(|c| cols.contains(&c.name)) {
                column.not_null = true;
            }
        }

        let column_types: BTreeMap<Ident, ColumnType> = columns
            .iter()
            .map(|c| (c.name.clone(), c.data_type.clone()))
            .collect();
        let ctx = ExprContext {
            columns: Some(&column_types),
            assigned_to: None,
        };
        let mut constraints = Vec::new();
        if let Some((explicit, cols, _)) = primary_key {
            constraints.push(named(
                explicit,
                || names.choose(name.as_str(), None, "pkey"),
                ConstraintKind::PrimaryKey { columns: cols },
            ));
        }
        for (explicit, cols, nulls_not_distinct) in uniques {
            let joined = join_column_names(cols.iter().map(|c| c.as_str()));
            constraints.push(named(
                explicit,
                || names.choose(name.as_str(), Some(&joined), "key"),
                ConstraintKind::Unique {
                    columns: cols,
                    nulls_not_distinct,
                },
            ));
        }
        for (explicit, expr, column, no_inherit) in checks {
            // PostgreSQL names a check after its column when it mentions one
            // column only, whether it was written on the column or the table.
            let column = column.or_else(|| single_column_of(&expr, &column_types));
            let kind = ConstraintKind::Check {
                expr: sql_expr(&expr, ctx),
                no_inherit,
            };
            constraints.push(named(
                explicit,
                || names.choose(name.as_str(), column.as_ref().map(|c| c.as_str()), "check"),
                kind,
            ));
        }
        for constraint in &constraints {
            loaded.origins.insert(
                ObjectKey::Constraint(name.clone(), constraint.name.clone()),
                Origin {
                    file: file.clone(),
                    span: table_span,
                    annotations: Annotations::default(),
                },
            );
        }
        Some((
            Table {
                name: name.clone(),
                columns,
                constraints,
            },
            fks,
        ))
    }

    fn refuse_characteristics(
        &mut self,
        file: &Arc<SourceFile>,
        span: SourceSpan,
        characteristics: Option<&ConstraintCharacteristics>,
        what: &str,
    ) {
        if characteristics.is_some_and(|c| {
            c.deferrable.is_some() || c.initially.is_some() || c.enforced.is_some()
        }) {
            self.unsupported(
                file,
                span,
                format!("deferrable {what}s are not supported"),
                "only foreign keys may be DEFERRABLE",
            );
        }
    }

    fn key_columns(
        &mut self,
        file: &Arc<SourceFile>,
        columns: &[IndexColumn],
        table: &Ident,
    ) -> Option<Vec<Ident>> {
        let mut out = Vec::new();
        for column in columns {
            match &column.column.expr {
                Expr::Identifier(ident)
                    if column.operator_class.is_none() && column.column.options.sort.is_none() =>
                {
                    out.push(Ident::from_sqlparser(ident))
                }
                other => {
                    let span = file.span_between(
                        (other.span().start.line, other.span().start.column),
                        (other.span().end.line, other.span().end.column),
                    );
                    self.unsupported(
                        file,
                        span,
                        format!("constraint key `{other}` on {table} is not a plain column"),
                        "constraint keys are column names; use a unique index for expressions",
                    );
                    return None;
                }
            }
        }
        Some(out)
    }

    fn resolve_foreign_key(
        &mut self,
        table: &Ident,
        fk: PendingForeignKey,
        own: &SchemaModel,
        public: Option<&SchemaModel>,
        names: &mut NameChooser,
    ) -> Option<Constraint> {
        let file = fk.file.clone();
        let parts: Vec<&SqlIdent> = fk
            .foreign_table
            .0
            .iter()
            .filter_map(|p| p.as_ident())
            .collect();
        let target_span = ident_span(&file, parts.last().copied());
        let target_name = Ident::from_sqlparser(parts.last()?);
        let not_found = |folder: &str| {
            Problem::new(
                "kschema::sql::unknown_table",
                format!("foreign key on {table} references table {target_name}, which is not defined anywhere"),
            )
            .at(&file, target_span, format!("no table {target_name} in {folder}"))
            .with_help("define the table in the desired state, or fix the name")
        };
        let (schema_ref, target) = match (self.scope, parts.as_slice()) {
            (Scope::Public, [_]) => (SchemaRef::Own, own.tables.get(&target_name)),
            (Scope::Tenant, [_]) => match own.tables.get(&target_name) {
                Some(t) => (SchemaRef::Own, Some(t)),
                None => (
                    SchemaRef::Named(SchemaName::public()),
                    public.and_then(|p| p.tables.get(&target_name)),
                ),
            },
            (Scope::Tenant, [schema, _])
                if self.dump_schema.as_ref() == Some(&Ident::from_sqlparser(schema)) =>
            {
                (SchemaRef::Own, own.tables.get(&target_name))
            }
            (scope, [schema, _]) if Ident::from_sqlparser(schema).as_str() == "public" => {
                match scope {
                    Scope::Public => (SchemaRef::Own, own.tables.get(&target_name)),
                    Scope::Tenant => (
                        SchemaRef::Named(SchemaName::public()),
                        public.and_then(|p| p.tables.get(&target_name)),
                    ),
                }
            }
            (_, [schema, _]) => {
                self.problems.push(
                    Problem::new("kschema::sql::foreign_schema", format!("foreign key on {table} references schema {}, which kschema does not manage", schema.value))
                        .at(&file, ident_span(&file, Some(schema)), "unmanaged schema")
                        .with_help("references may point into the same schema or into public"),
                );
                return None;
            }
            _ => return None,
        };
        let Some(target) = target else {
            let folder = match self.scope {
                Scope::Public => "schema/public",
                Scope::Tenant => "schema/tenant or schema/public",
            };
            self.problems.push(not_found(folder));
            return None;
        };
        let referenced_columns: Vec<Ident> = if fk.referred_columns.is_empty() {
            match target.primary_key().map(|pk| &pk.kind) {
                Some(ConstraintKind::PrimaryKey { columns }) => columns.clone(),
                _ => {
                    self.problems.push(
                        Problem::new("kschema::sql::no_primary_key", format!("table {target_name} has no primary key for {table}'s foreign key to use"))
                            .at(&file, target_span, "referenced here without columns")
                            .with_help(format!("name the referenced columns: REFERENCES {target_name} (column)")),
                    );
                    return None;
                }
            }
        } else {
            fk.referred_columns
                .iter()
                .map(Ident::from_sqlparser)
                .collect()
        };
        for (i, column) in referenced_columns.iter().enumerate() {
            if target.column(column).is_none() {
                let span = fk
                    .referred_columns
                    .get(i)
                    .map(|c| ident_span(&file, Some(c)))
                    .unwrap_or(target_span);
                self.problems
                    .push(unknown_column(&file, span, &target_name, column));
                return None;
            }
        }
        if referenced_columns.len() != fk.columns.len() {
            self.problems.push(
                Problem::new(
                    "kschema::sql::foreign_key_arity",
                    format!(
                        "foreign key on {table} has {} column(s) but references {}",
                        fk.columns.len(),
                        referenced_columns.len()
                    ),
                )
                .at(&file, target_span, "here")
                .with_help("list as many referenced columns as referencing ones"),
            );
            return None;
        }
        let backed_by_key = target.constraints.iter().any(|c| match &c.kind {
            ConstraintKind::PrimaryKey { columns } | ConstraintKind::Unique { columns, .. } => {
                columns.len() == referenced_columns.len()
                    && referenced_columns.iter().all(|r| columns.contains(r))
            }
            _ => false,
        });
        if !backed_by_key {
            self.problems.push(
                Problem::new("kschema::sql::foreign_key_without_key", format!("{target_name}({}) is neither a primary key nor unique, so {table} cannot reference it", join_column_names(referenced_columns.iter().map(|c| c.as_str()))))
                    .at(&file, target_span, "referenced here")
                    .with_help(format!("add a PRIMARY KEY or UNIQUE constraint on those columns of {target_name}")),
            );
            return None;
        }
        // PostgreSQL refuses a key whose types it cannot compare (an integer
        // column referencing a uuid): caught here rather than in every tenant.
        if let Some(own_table) = own.tables.get(table) {
            for (i, (column, referenced)) in fk.columns.iter().zip(&referenced_columns).enumerate()
            {
                let (Some(from), Some(to)) = (own_table.column(column), target.column(referenced))
                else {
                    continue;
                };
                let (Some(a), Some(b)) =
                    (type_family(&from.data_type.0), type_family(&to.data_type.0))
                else {
                    continue;
                };
                if a != b {
                    let span = fk.column_spans.get(i).copied().unwrap_or(target_span);
                    self.problems.push(
                        Problem::new(
                            "kschema::sql::foreign_key_types",
                            format!(
                                "foreign key on {table}: column {column} is {}, but {target_name}.{referenced} is {}",
                                from.data_type, to.data_type
                            ),
                        )
                        .at(&file, span, "this column")
                        .with_help(format!(
                            "PostgreSQL cannot compare {a} and {b} values; give {column} the type of {target_name}.{referenced}"
                        )),
                    );
                    return None;
                }
            }
        }
        let deferrable = match fk.characteristics {
            Some(ConstraintCharacteristics {
                initially: Some(DeferrableInitial::Deferred),
                ..
            }) => Deferrable::InitiallyDeferred,
            Some(ConstraintCharacteristics {
                deferrable: Some(true),
                ..
            }) => Deferrable::InitiallyImmediate,
            _ => Deferrable::NotDeferrable,
        };
        let joined = join_column_names(fk.columns.iter().map(|c| c.as_str()));
        Some(named(
            fk.name,
            || names.choose(table.as_str(), Some(&joined), "fkey"),
            ConstraintKind::ForeignKey(ForeignKey {
                columns: fk.columns,
                references: TableRef {
                    schema: schema_ref,
                    table: target_name,
                },
                referenced_columns,
                on_delete: action(fk.on_delete),
                on_update: action(fk.on_update),
                match_full: fk.match_full,
                deferrable,
            }),
        ))
    }

    fn index(
        &mut self,
        declared: &Declared<CreateIndex>,
        model: &SchemaModel,
        names: &mut NameChooser,
    ) -> Option<Index> {
        let ast = &declared.ast;
        let file = &declared.file;
        let (table_name, table_span) = self.object_name(file, &ast.table_name, "index table")?;
        let Some(table) = model.tables.get(&table_name) else {
            self.problems.push(
                Problem::new("kschema::sql::unknown_table", format!("index on table {table_name}, which is not defined in {}", self.scope.folder()))
                    .at(file, table_span, "no such table here")
                    .with_help("indexes live beside their table: declare the index in the same folder as the table"),
            );
            return None;
        };
        if !ast.with.is_empty() {
            self.unsupported(
                file,
                table_span,
                "index storage parameters (WITH …) are not supported".into(),
                "remove the WITH clause",
            );
            return None;
        }
        let column_types: BTreeMap<Ident, ColumnType> = table
            .columns
            .iter()
            .map(|c| (c.name.clone(), c.data_type.clone()))
            .collect();
        let ctx = ExprContext {
            columns: Some(&column_types),
            assigned_to: None,
        };
        let mut keys = Vec::new();
        let mut name_parts = Vec::new();
        for column in &ast.columns {
            let expr = &column.column.expr;
            let key_expr = match expr {
                Expr::Identifier(ident) => {
                    let col = Ident::from_sqlparser(ident);
                    if table.column(&col).is_none() {
                        self.problems.push(unknown_column(
                            file,
                            ident_span(file, Some(ident)),
                            &table_name,
                            &col,
                        ));
                        return None;
                    }
                    name_parts.push(col.to_string());
                    IndexExpr::Column(col)
                }
                other => {
                    name_parts.push(expression_column_name(other));
                    IndexExpr::Expression(sql_expr(other, ctx))
                }
            };
            let descending = matches!(column.column.options.sort, Some(OrderBySort::Desc));
            keys.push(IndexKey {
                expr: key_expr,
                opclass: column
                    .operator_class
                    .as_ref()
                    .and_then(|o| o.0.last())
                    .and_then(|p| p.as_ident())
                    .map(Ident::from_sqlparser),
                collation: None,
                descending,
                // PostgreSQL's default: NULLS LAST ascending, NULLS FIRST descending.
                nulls_first: column.column.options.nulls_first.unwrap_or(descending),
            });
        }
        let explicit = ast
            .name
            .as_ref()
            .and_then(|n| n.0.last())
            .and_then(|p| p.as_ident())
            .map(Ident::from_sqlparser);
        let implicit_name = explicit.is_none();
        let name = explicit.unwrap_or_else(|| {
            Ident::new(names.choose(
                table_name.as_str(),
                Some(&join_column_names(name_parts.iter().map(|s| s.as_str()))),
                "idx",
            ))
        });
        Some(Index {
            name,
            table: table_name,
            unique: ast.unique,
            method: Ident::new(
                ast.using
                    .as_ref()
                    .map(|u| u.to_string().to_ascii_lowercase())
                    .unwrap_or_else(|| "btree".into()),
            ),
            keys,
            include: ast.include.iter().map(Ident::from_sqlparser).collect(),
            predicate: ast.predicate.as_ref().map(|p| sql_expr(p, ctx)),
            nulls_not_distinct: ast.nulls_distinct == Some(false),
            valid: true,
            implicit_name,
        })
    }

    fn sequence(&mut self, declared: &Declared<Statement>) -> Option<Sequence> {
        let Statement::CreateSequence {
            name,
            sequence_options,
            temporary,
            ..
        } = &declared.ast
        else {
            return None;
        };
        let file = &declared.file;
        let (seq_name, span) = self.object_name(file, name, "sequence")?;
        let owned = sequence_options
            .iter()
            .any(|o| matches!(o, SequenceOptions::OwnedBy(Some(_))));
        if *temporary || owned {
            self.unsupported(
                file,
                span,
                "temporary or OWNED BY sequences are not supported".into(),
                "use a serial or identity column for a column's own sequence",
            );
            return None;
        }
        let declared_type = sequence_options.iter().find_map(|o| match o {
            SequenceOptions::DataType(t) => Some(t),
            _ => None,
        });
        let data_type = match declared_type.map(normalize_type) {
            None => ColumnType::new("bigint"),
            Some(Ok(t))
                if matches!(t.data_type.as_str(), "smallint" | "integer" | "bigint")
                    && !t.serial =>
            {
                t.data_type
            }
            Some(_) => {
                self.unsupported(
                    file,
                    span,
                    format!(
                        "sequence {seq_name} has a type other than smallint, integer or bigint"
                    ),
                    "use AS smallint, AS integer or AS bigint",
                );
                return None;
            }
        };
        let mut sequence = Sequence::with_defaults(seq_name, data_type);
        let mut explicit_min = false;
        let mut explicit_start = None;
        for option in sequence_options {
            let value = |e: &Expr| literal_i64(e);
            let parsed = match option {
                SequenceOptions::IncrementBy(e, _) => value(e).map(|v| sequence.increment = v),
                SequenceOptions::MinValue(Some(e)) => value(e).map(|v| {
                    sequence.min_value = v;
                    explicit_min = true;
                }),
                SequenceOptions::MaxValue(Some(e)) => value(e).map(|v| sequence.max_value = v),
                SequenceOptions::MinValue(None) | SequenceOptions::MaxValue(None) => Some(()),
                SequenceOptions::StartWith(e, _) => value(e).map(|v| explicit_start = Some(v)),
                SequenceOptions::Cache(e) => value(e).map(|v| sequence.cache = v),
                SequenceOptions::Cycle(no) => {
                    sequence.cycle = !*no;
                    Some(())
                }
                SequenceOptions::DataType(_) | SequenceOptions::OwnedBy(_) => Some(()),
            };
            if parsed.is_none() {
                self.unsupported(
                    file,
                    span,
                    format!("sequence option `{option}` is not a whole number"),
                    "sequence options take integer literals",
                );
                return None;
            }
        }
        if sequence.increment < 0 {
            // Descending sequences count down from -1 by default.
            if !explicit_min {
                sequence.min_value = match sequence.data_type.as_str() {
                    "smallint" => i16::MIN as i64,
                    "integer" => i32::MIN as i64,
                    _ => i64::MIN,
                };
            }
            sequence.max_value = sequence.max_value.min(-1);
            sequence.start = explicit_start.unwrap_or(sequence.max_value);
        } else {
            sequence.start = explicit_start.unwrap_or(sequence.min_value);
        }
        Some(sequence)
    }
}

struct PendingForeignKey {
    name: Option<Ident>,
    columns: Vec<Ident>,
    column_spans: Vec<SourceSpan>,
    foreign_table: ObjectName,
    referred_columns: Vec<SqlIdent>,
    on_delete: Option<SqlAction>,
    on_update: Option<SqlAction>,
    match_full: bool,
    characteristics: Option<ConstraintCharacteristics>,
    file: Arc<SourceFile>,
}

fn named(
    explicit: Option<Ident>,
    implicit: impl FnOnce() -> String,
    kind: ConstraintKind,
) -> Constraint {
    let implicit_name = explicit.is_none();
    Constraint {
        name: explicit.unwrap_or_else(|| Ident::new(implicit())),
        kind,
        validated: true,
        implicit_name,
    }
}

/// Tables, indexes (the ones behind primary keys and unique constraints
/// too) and sequences share one namespace per schema in PostgreSQL: two of
/// them under one name would fail in every target, so the plan refuses them.
fn relation_name_clashes(loaded: &LoadedScope) -> Vec<Problem> {
    let model = &loaded.model;
    let mut relations: Vec<(&Ident, String, ObjectKey)> = Vec::new();
    for table in model.tables.values() {
        relations.push((
            &table.name,
            "table".into(),
            ObjectKey::Table(table.name.clone()),
        ));
        for constraint in &table.constraints {
            if matches!(
                constraint.kind,
                ConstraintKind::PrimaryKey { .. } | ConstraintKind::Unique { .. }
            ) {
                relations.push((
                    &constraint.name,
                    format!("the index of {}'s {}", table.name, constraint.kind.label()),
                    ObjectKey::Table(table.name.clone()),
                ));
            }
        }
    }
    for index in model.indexes.values() {
        relations.push((
            &index.name,
            "index".into(),
            ObjectKey::Index(index.name.clone()),
        ));
    }
    for sequence in model.sequences.values() {
        relations.push((
            &sequence.name,
            "sequence".into(),
            ObjectKey::Sequence(sequence.name.clone()),
        ));
    }
    let mut first: HashMap<&Ident, &(&Ident, String, ObjectKey)> = HashMap::new();
    let mut problems = Vec::new();
    for relation in &relations {
        let Some(earlier) = first.get(relation.0) else {
            first.insert(relation.0, relation);
            continue;
        };
        let (name, what, key) = relation;
        let mut problem = Problem::new(
            "kschema::sql::name_taken",
            format!("{what} {name} has the name of {} {name}", earlier.1),
        )
        .with_help(
            "tables, indexes and sequences share one namespace in a schema; rename one of them",
        );
        if let Some(origin) = loaded.origins.get(key) {
            problem = problem.at(&origin.file, origin.span, "declared here");
        }
        problems.push(problem);
    }
    problems
}

/// The broad family of a built-in type, as far as comparing a foreign key
/// with its key goes: types of one family compare (`integer` with `bigint`,
/// `text` with `varchar`), types of two never do. `None` for anything else
/// (arrays, domains, enums, extension types), which is left to PostgreSQL.
fn type_family(data_type: &str) -> Option<&'static str> {
    if data_type.ends_with(']') {
        return None;
    }
    let base = data_type.split('(').next().unwrap_or(data_type).trim();
    Some(match base {
        "smallint" | "integer" | "bigint" | "numeric" | "real" | "double precision" => "numeric",
        "text" | "character varying" | "character" | "name" | "\"char\"" => "text",
        "uuid" => "uuid",
        "boolean" => "boolean",
        "json" | "jsonb" => "json",
        "bytea" => "bytea",
        "date" | "timestamp without time zone" | "timestamp with time zone" => "timestamp",
        _ => return None,
    })
}

fn action(action: Option<SqlAction>) -> ReferentialAction {
    match action {
        None | Some(SqlAction::NoAction) => ReferentialAction::NoAction,
        Some(SqlAction::Restrict) => ReferentialAction::Restrict,
        Some(SqlAction::Cascade) => ReferentialAction::Cascade,
        Some(SqlAction::SetNull) => ReferentialAction::SetNull,
        Some(SqlAction::SetDefault) => ReferentialAction::SetDefault,
    }
}

fn sql_expr(expr: &Expr, ctx: ExprContext<'_>) -> SqlExpr {
    SqlExpr {
        canonical: canonicalize(expr.clone(), ctx),
        sql: expr.to_string(),
    }
}

fn literal_i64(expr: &Expr) -> Option<i64> {
    match expr {
        Expr::Value(v) => match &v.value {
            sqlparser::ast::Value::Number(n, _) => n.parse().ok(),
            _ => None,
        },
        Expr::UnaryOp {
            op: sqlparser::ast::UnaryOperator::Minus,
            expr,
        } => literal_i64(expr).map(|v| -v),
        _ => None,
    }
}

/// The column a check mentions, if it mentions exactly one.
fn single_column_of(expr: &Expr, columns: &BTreeMap<Ident, ColumnType>) -> Option<Ident> {
    use std::ops::ControlFlow;
    let mut found: Vec<Ident> = Vec::new();
    let _ = sqlparser::ast::visit_expressions(expr, |e| {
        if let Expr::Identifier(ident) = e {
            let name = Ident::from_sqlparser(ident);
            if columns.contains_key(&name) && !found.contains(&name) {
                found.push(name);
            }
        }
        ControlFlow::<()>::Continue(())
    });
    (found.len() == 1).then(|| found.remove(0))
}

/// The name PostgreSQL's `FigureColname` gives an index expression, used in
/// implicit index names: a function's name, a cast's type, else `expr`.
fn expression_column_name(expr: &Expr) -> String {
    match expr {
        Expr::Function(f) => f
            .name
            .0
            .last()
            .and_then(|p| p.as_ident())
            .map(|i| Ident::from_sqlparser(i).to_string())
            .unwrap_or_else(|| "expr".into()),
        Expr::Nested(inner) => expression_column_name(inner),
        Expr::Cast {
            data_type: DataType::Custom(name, _),
            ..
        } => name.to_string().to_ascii_lowercase(),
        _ => "expr".into(),
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

fn constraint_span(file: &Arc<SourceFile>, constraint: &TableConstraint) -> Option<SourceSpan> {
    let span = constraint.span();
    (span.start.line > 0).then(|| {
        file.span_between(
            (span.start.line, span.start.column),
            (span.end.line, span.end.column),
        )
    })
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

fn multiple_primary_keys(file: &Arc<SourceFile>, span: SourceSpan, table: &Ident) -> Problem {
    Problem::new(
        "kschema::sql::multiple_primary_keys",
        format!("table {table} has more than one primary key"),
    )
    .at(file, span, "second primary key")
    .with_help("a table has one PRIMARY KEY; make the others UNIQUE")
}

/// sqlparser reports positions inside its message (`… at Line: 3, Column: 23`).
/// What no plan could show faithfully: a quoted name holding a control or
/// invisible character (PostgreSQL would take it), and such a character
/// outside any string or comment (where it means nothing to PostgreSQL).
fn unsafe_text_problems(file: &Arc<SourceFile>) -> Vec<Problem> {
    use crate::escape::{is_unsafe_char, printable, sql_pieces, unicode_identifier, PieceKind};
    let text = file.text();
    let mut problems = Vec::new();
    for piece in sql_pieces(text) {
        let body = &text[piece.start..piece.end];
        match piece.kind {
            PieceKind::Quoted { quote: '"', .. } if crate::escape::has_unsafe_chars(body) => {
                let inner = body.strip_prefix('"').unwrap_or(body);
                let name = inner
                    .strip_suffix('"')
                    .unwrap_or(inner)
                    .replace("\"\"", "\"");
                problems.push(
                    Problem::new(
                        "kschema::sql::unsafe_name",
                        format!(
                            "the name {} holds a control or invisible character",
                            unicode_identifier(&name)
                        ),
                    )
                    .at(
                        file,
                        SourceSpan::new(piece.start.into(), body.len()),
                        "this quoted name",
                    )
                    .with_help(
                        "names may not hold newlines, tabs, escape sequences or bidirectional \
                         overrides: they would be unreadable or misleading in every plan",
                    ),
                );
            }
            PieceKind::Code => {
                let stray = body
                    .char_indices()
                    .find(|&(_, c)| is_unsafe_char(c) && !matches!(c, '\n' | '\t' | '\r'));
                if let Some((at, c)) = stray {
                    problems.push(
                        Problem::new(
                            "kschema::sql::unsafe_character",
                            format!(
                                "{} holds the invisible or control character {} outside any string",
                                file.name,
                                printable(&c.to_string())
                            ),
                        )
                        .at(
                            file,
                            SourceSpan::new((piece.start + at).into(), c.len_utf8()),
                            "here",
                        )
                        .with_help("remove it: it is not SQL, and no plan could show it"),
                    );
                }
            }
            _ => {}
        }
    }
    problems
}

/// The byte offset of the first string, quoted name, dollar-quoted body or
/// block comment that never closes.
fn unterminated_opening(text: &str) -> Option<usize> {
    crate::escape::sql_pieces(text)
        .into_iter()
        .find(|piece| !piece.closed)
        .map(|piece| piece.start)
}

pub(crate) fn parse_problem(file: &Arc<SourceFile>, error: &ParserError) -> Problem {
    let message = match error {
        ParserError::ParserError(m) | ParserError::TokenizerError(m) => m.clone(),
        ParserError::RecursionLimitExceeded => "statement nests too deeply".to_string(),
    };
    let (text, location) = match message.rsplit_once(" at Line: ") {
        Some((text, position)) => {
            let mut numbers = position
                .split(", Column: ")
                .map(|n| n.trim().parse::<u64>().ok());
            match (numbers.next().flatten(), numbers.next().flatten()) {
                (Some(line), Some(column)) => (text.to_string(), Some((line, column))),
                _ => (message.clone(), None),
            }
        }
        None => (message.clone(), None),
    };
    let unterminated = text.starts_with("Unterminated");
    let span = match (location, unterminated) {
        // The tokenizer reports where it gave up (the end of the file);
        // the reader needs where the string or name began.
        (_, true) => match unterminated_opening(file.text()) {
            Some(offset) => SourceSpan::new(offset.into(), 1),
            None => file.span_at_end(),
        },
        (Some((line, column)), false) => file.span_at(line, column, 1),
        (None, false) => file.span_at_end(),
    };
    let found_end = text.ends_with("found: EOF");
    let label = if unterminated {
        format!("{}: it opens here and never closes", text.to_lowercase())
    } else if found_end {
        "the file ends here".to_string()
    } else {
        text.replace("Expected: ", "expected ")
    };
    Problem::new(
        "kschema::sql::parse",
        format!("{} is not valid SQL", file.name),
    )
    .at(file, span, label)
    .with_help(if unterminated {
        "close the quote (`'`, `\"` or the same `$tag$` that opened it)"
    } else if found_end {
        "a statement is not finished: check for a missing `)` or `;`"
    } else {
        "fix the statement so PostgreSQL would accept it"
    })
}
