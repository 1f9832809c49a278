//! One file of desired state: its text checked, tokenized, the forms the
//! parser does not read taken out (routines, tablespaces, a dump's
//! extras), parsed, and each statement declared to the loader by kind —
//! or refused, at the statement, with a way out.

use super::*;

impl Loader {
    pub(super) fn read_file(&mut self, file: &Arc<SourceFile>) {
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
                 ENUM, DOMAIN, FUNCTION, PROCEDURE, AGGREGATE, TRIGGER, VIEW and POLICY (and the ALTER TABLE … ADD CONSTRAINT / \
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
