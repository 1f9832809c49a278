//! `CREATE TABLE`: columns, their types, defaults and identities, and the
//! table's constraints — foreign keys resolved once every table is known.
//!
//! Longer than ~600 lines on purpose, for now: `Loader::table` reads a
//! `CREATE TABLE` in one pass whose column and constraint loops share what
//! they gather (keys, checks, foreign keys); giving it a `TableParts`
//! accumulator and a function per loop is the next step of issue 11.

use super::*;

impl Loader {
    pub(super) fn table(
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
            // Never dropped silently: kschema would create the table
            // without them and then call it converged.
            (
                storage_parameters(&ast.table_options).is_none(),
                "table options other than WITH (storage parameters) and TABLESPACE",
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

        let partition_key = match ast.partition_by.as_deref() {
            None => None,
            Some(key) => Some(self.partition_key(file, table_span, key)?),
        };
        let (partition_of, partition_columns) = match (&ast.partition_of, &ast.for_values) {
            (Some(parent), Some(bound)) => {
                let own = self.partition_columns(file, name, &ast.columns)?;
                let (parent, _) = self.object_name(file, parent, "table")?;
                let of = PartitionOf {
                    parent,
                    bound: SqlExpr::stored(bound.to_string()),
                };
                (Some(of), own)
            }
            _ => (None, Vec::new()),
        };
        // A partition's column list names its parent's columns, which its
        // own constraints name too (the parent is loaded first, `build`);
        // `None` where the parent is not loaded (reported on its own).
        let declared_columns = match partition_of {
            Some(_) => &[][..],
            None => &ast.columns[..],
        };
        let parent_columns: Option<Vec<Column>> = match &partition_of {
            Some(of) => loaded.model.columns_of(&of.parent).map(<[Column]>::to_vec),
            None => Some(Vec::new()),
        };

        let problems_before = self.problems.len();
        let mut columns: Vec<Column> = Vec::new();
        let mut column_spans: HashMap<Ident, SourceSpan> = HashMap::new();
        // (name, key columns, INCLUDE columns, where, deferrable, WITH (…))
        #[allow(clippy::type_complexity)]
        let mut primary_key: Option<(
            Option<Ident>,
            Vec<Ident>,
            Vec<Ident>,
            SourceSpan,
            Deferrable,
            Vec<(String, String)>,
        )> = None;
        // (name, key columns, INCLUDE columns, NULLS NOT DISTINCT, deferrable, WITH (…))
        #[allow(clippy::type_complexity)]
        let mut uniques: Vec<(
            Option<Ident>,
            Vec<Ident>,
            Vec<Ident>,
            bool,
            Deferrable,
            Vec<(String, String)>,
        )> = Vec::new();
        // EXCLUDE: its name, its text (the name left out), its first column.
        let mut exclusions: Vec<(Option<Ident>, String, Option<Ident>)> = Vec::new();
        let mut checks: Vec<(Option<Ident>, Expr, Option<Ident>, bool)> = Vec::new();
        let mut fks: Vec<PendingForeignKey> = Vec::new();

        for def in declared_columns {
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
                generated: None,
                identity_options: None,
                sequence_type: None,
                comment: None,
            };
            if normalized.serial {
                // A dump's serial keeps its sequence's name, type and
                // options; a `SERIAL` gets the name PostgreSQL gives it.
                let declared = self
                    .serial_sequences
                    .iter()
                    .find(|(table, column, _)| table == name && column == &column_name)
                    .map(|(_, _, sequence)| sequence);
                let sequence = match declared {
                    Some(sequence) => {
                        names.reserve(sequence.name.as_str());
                        sequence.name.clone()
                    }
                    None => {
                        Ident::new(names.choose(name.as_str(), Some(column_name.as_str()), "seq"))
                    }
                };
                column.identity = Some(Identity::Serial { sequence });
                if let Some(sequence) = declared {
                    column.sequence_type = (sequence.data_type != column.data_type)
                        .then(|| sequence.data_type.clone());
                    column.identity_options =
                        sequence.options.unless_default(column.own_sequence_type());
                }
            }
            let mut explicit_null = false;
            for option in &def.options {
                let constraint_name = option.name.as_ref().map(Ident::from_sqlparser);
                match &option.option {
                    ColumnOption::Null => explicit_null = true,
                    ColumnOption::NotNull => column.not_null = true,
                    ColumnOption::Default(expr) => {
                        if column.identity.is_some() || column.generated.is_some() {
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
                        let deferrable = self.deferrability(file, span, pk.characteristics.as_ref(), "primary key");
                        let include = pk.include.iter().map(Ident::from_sqlparser).collect();
                        primary_key = Some((constraint_name.or(pk.name.as_ref().map(Ident::from_sqlparser)), vec![column_name.clone()], include, span, deferrable, Vec::new()));
                    }
                    ColumnOption::Unique(unique) => {
                        let deferrable = self.deferrability(file, span, unique.characteristics.as_ref(), "unique constraint");
                        let not_distinct = matches!(unique.nulls_distinct, NullsDistinctOption::NotDistinct);
                        let include = unique.include.iter().map(Ident::from_sqlparser).collect();
                        uniques.push((constraint_name.or(unique.name.as_ref().map(Ident::from_sqlparser)), vec![column_name.clone()], include, not_distinct, deferrable, Vec::new()));
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
                    ColumnOption::Generated { generation_expr: Some(expr), generation_expr_mode, .. } => {
                        if column.identity.is_some() || column.default.is_some() {
                            self.unsupported(file, span, format!("column {name}.{column_name} has both a default and a generated value"), "keep either the DEFAULT or the GENERATED expression");
                            continue;
                        }
                        if !matches!(generation_expr_mode, Some(sqlparser::ast::GeneratedExpressionMode::Stored)) {
                            self.unsupported(
                                file,
                                span,
                                format!("generated column {name}.{column_name} is not STORED"),
                                "write GENERATED ALWAYS AS (…) STORED: virtual generated columns need PostgreSQL 18, which kschema does not manage yet",
                            );
                            continue;
                        }
                        column.generated = Some(sql_expr(expr, ExprContext { columns: None, assigned_to: Some(&column.data_type) }));
                    }
                    ColumnOption::Generated { generated_as, generation_expr: None, sequence_options, .. } => {
                        if column.identity.is_some() || column.default.is_some() {
                            self.unsupported(file, span, format!("column {name}.{column_name} has both a default and a generated value"), "keep either the DEFAULT or the IDENTITY");
                            continue;
                        }
                        // The sequence's type is the column's; its name is
                        // PostgreSQL's choice (a dump's SEQUENCE NAME is
                        // dropped before this).
                        if let Some(option) = sequence_options.iter().flatten().find(|o| {
                            matches!(o, SequenceOptions::DataType(_) | SequenceOptions::OwnedBy(_))
                        }) {
                            self.unsupported(
                                file,
                                span,
                                format!("identity option `{}` on {name}.{column_name} is not supported", option.to_string().trim()),
                                "leave AS out: an identity's sequence counts in its column's type",
                            );
                            continue;
                        }
                        let written = sequence_options.as_deref().unwrap_or_default();
                        let Some(options) = self.sequence_options(file, span, written, &column.data_type) else {
                            continue;
                        };
                        column.identity_options = options.unless_default(&column.data_type);
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
                    let deferrable =
                        self.deferrability(file, span, pk.characteristics.as_ref(), "primary key");
                    let options = self.key_options(file, span, &pk.index_options);
                    if let Some(cols) = self.key_columns(file, &pk.columns, name) {
                        primary_key = Some((
                            pk.name.as_ref().map(Ident::from_sqlparser),
                            cols,
                            pk.include.iter().map(Ident::from_sqlparser).collect(),
                            span,
                            deferrable,
                            options,
                        ));
                    }
                }
                TableConstraint::Unique(unique) => {
                    let deferrable = self.deferrability(
                        file,
                        span,
                        unique.characteristics.as_ref(),
                        "unique constraint",
                    );
                    if let Some(cols) = self.key_columns(file, &unique.columns, name) {
                        let not_distinct =
                            matches!(unique.nulls_distinct, NullsDistinctOption::NotDistinct);
                        let options = self.key_options(file, span, &unique.index_options);
                        uniques.push((
                            unique.name.as_ref().map(Ident::from_sqlparser),
                            cols,
                            unique.include.iter().map(Ident::from_sqlparser).collect(),
                            not_distinct,
                            deferrable,
                            options,
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
                TableConstraint::Exclude(exclude) => {
                    let first_column =
                        exclude
                            .elements
                            .first()
                            .and_then(|e| match &e.column.column.expr {
                                Expr::Identifier(ident) => Some(Ident::from_sqlparser(ident)),
                                _ => None,
                            });
                    let definition = sqlparser::ast::ExcludeConstraint {
                        name: None,
                        ..exclude.clone()
                    }
                    .to_string();
                    exclusions.push((
                        exclude.name.as_ref().map(Ident::from_sqlparser),
                        definition,
                        first_column,
                    ));
                }
                other => self.unsupported(
                    file,
                    span,
                    format!("table constraint `{other}` on {name} is not supported"),
                    "supported table constraints: PRIMARY KEY, UNIQUE, FOREIGN KEY, CHECK, EXCLUDE",
                ),
            }
        }

        // Every column a constraint names must exist.
        let mut constraint_columns: Vec<(&Ident, SourceSpan)> = Vec::new();
        if let Some((_, cols, include, span, _, _)) = &primary_key {
            constraint_columns.extend(cols.iter().chain(include).map(|c| (c, *span)));
        }
        for (_, cols, include, _, _, _) in &uniques {
            constraint_columns.extend(cols.iter().chain(include).map(|c| (c, table_span)));
        }
        for fk in &fks {
            constraint_columns.extend(
                fk.columns
                    .iter()
                    .zip(&fk.column_spans)
                    .map(|(c, s)| (c, *s)),
            );
        }
        let inherited = |column: &Ident| {
            parent_columns
                .as_ref()
                .is_none_or(|parent| parent.iter().any(|c| &c.name == column))
        };
        for (column, span) in constraint_columns {
            if !column_spans.contains_key(column) && !inherited(column) {
                self.problems.push(unknown_column(file, span, name, column));
            }
        }
        if self.problems.len() > problems_before {
            return None;
        }

        // A primary key implies NOT NULL on its columns, as in PostgreSQL.
        if let Some((_, cols, _, _, _, _)) = &primary_key {
            for column in columns.iter_mut().filter(|c| cols.contains(&c.name)) {
                column.not_null = true;
            }
        }

        let column_types: BTreeMap<Ident, ColumnType> = columns
            .iter()
            .chain(parent_columns.iter().flatten())
            .map(|c| (c.name.clone(), c.data_type.clone()))
            .collect();
        let ctx = ExprContext {
            columns: Some(&column_types),
            assigned_to: None,
        };
        let mut constraints = Vec::new();
        if let Some((explicit, cols, include, _, deferrable, options)) = primary_key {
            let kind = ConstraintKind::PrimaryKey {
                columns: cols,
                include,
                deferrable,
            };
            constraints.push(Constraint {
                options,
                ..named(explicit, || names.choose(name.as_str(), None, "pkey"), kind)
            });
        }
        for (explicit, cols, include, nulls_not_distinct, deferrable, options) in uniques {
            // PostgreSQL names a key by all its index's columns, INCLUDE's too.
            let joined = join_column_names(cols.iter().chain(&include).map(|c| c.as_str()));
            let kind = ConstraintKind::Unique {
                columns: cols,
                include,
                nulls_not_distinct,
                deferrable,
            };
            constraints.push(Constraint {
                options,
                ..named(
                    explicit,
                    || names.choose(name.as_str(), Some(&joined), "key"),
                    kind,
                )
            });
        }
        for (explicit, definition, column) in exclusions {
            constraints.push(named(
                explicit,
                || names.choose(name.as_str(), column.as_ref().map(|c| c.as_str()), "excl"),
                ConstraintKind::Exclusion {
                    definition: SqlExpr {
                        canonical: definition.clone(),
                        sql: definition,
                    },
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
                comment: None,
                unlogged: ast.unlogged,
                replica_identity: None,
                options: storage_parameters(&ast.table_options).unwrap_or_default(),
                triggers: Vec::new(),
                row_security: Default::default(),
                policies: Vec::new(),
                partition_key,
                partition_of,
                partition_columns,
                tablespace: self.tablespace_of(declared),
                function_callers: Vec::new(),
            },
            fks,
        ))
    }

    /// `PARTITION OF t (c DEFAULT 0 NOT NULL)`: what a partition sets for
    /// its parent's columns — a default and `NOT NULL`, nothing else.
    fn partition_columns(
        &mut self,
        file: &Arc<SourceFile>,
        table: &Ident,
        columns: &[sqlparser::ast::ColumnDef],
    ) -> Option<Vec<PartitionColumn>> {
        let mut own = Vec::with_capacity(columns.len());
        for def in columns {
            let mut column = PartitionColumn {
                name: Ident::from_sqlparser(&def.name),
                default: None,
                not_null: false,
            };
            for option in &def.options {
                match &option.option {
                    ColumnOption::NotNull => column.not_null = true,
                    ColumnOption::Default(expr) => {
                        column.default = Some(SqlExpr::stored(expr.to_string()))
                    }
                    other => {
                        self.unsupported(
                            file,
                            ident_span(file, Some(&def.name)),
                            format!(
                                "partition {table} sets `{other}` on column {}",
                                column.name
                            ),
                            "a partition's column may set a DEFAULT and NOT NULL of its own; write a constraint of the partition's own as a table constraint (PARTITION OF t (CONSTRAINT c CHECK (…)) FOR VALUES …), or declare it on the partitioned table",
                        );
                        return None;
                    }
                }
            }
            own.push(column);
        }
        Some(own)
    }

    /// `PARTITION BY RANGE (a)`, `LIST (a)` or `HASH (a)`: sqlparser reads
    /// the strategy and its keys as a call.
    fn partition_key(
        &mut self,
        file: &Arc<SourceFile>,
        span: SourceSpan,
        key: &Expr,
    ) -> Option<SqlExpr> {
        let strategy = match key {
            Expr::Function(call) => call.name.to_string().to_ascii_uppercase(),
            _ => String::new(),
        };
        if !matches!(strategy.as_str(), "RANGE" | "LIST" | "HASH") {
            self.unsupported(
                file,
                span,
                format!("partition key `{key}` is not RANGE (…), LIST (…) or HASH (…)"),
                "write PARTITION BY RANGE (column), LIST (column) or HASH (column)",
            );
            return None;
        }
        // The server's form (`pg_get_partkeydef`) is what is compared.
        Some(SqlExpr::stored(key.to_string()))
    }

    /// A key's `DEFERRABLE [INITIALLY …]`; `NOT ENFORCED` is refused.
    pub(super) fn deferrability(
        &mut self,
        file: &Arc<SourceFile>,
        span: SourceSpan,
        characteristics: Option<&ConstraintCharacteristics>,
        what: &str,
    ) -> Deferrable {
        if characteristics.is_some_and(|c| c.enforced.is_some()) {
            self.unsupported(
                file,
                span,
                format!("ENFORCED / NOT ENFORCED on a {what} is not supported"),
                "leave it out: PostgreSQL enforces keys",
            );
        }
        deferrable_of(characteristics)
    }

    pub(super) fn key_columns(
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

    pub(super) fn resolve_foreign_key(
        &mut self,
        table: &Ident,
        fk: PendingForeignKey,
        own: &SchemaModel,
        neighbours: Neighbours<'_>,
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
        // A table in a shared schema loaded after this scope is checked by
        // PostgreSQL when the desired state is built, not here.
        let mut unchecked = false;
        let (schema_ref, target) = match (self.scope, parts.as_slice()) {
            (Scope::Shared, [_]) => (SchemaRef::Own, own.tables.get(&target_name)),
            (Scope::Tenant, [_]) => match own.tables.get(&target_name) {
                Some(t) => (SchemaRef::Own, Some(t)),
                None => (
                    SchemaRef::Named(SchemaName::public()),
                    neighbours.public().and_then(|p| p.tables.get(&target_name)),
                ),
            },
            (Scope::Tenant, [schema, _])
                if self.dump_schema.as_ref() == Some(&Ident::from_sqlparser(schema)) =>
            {
                (SchemaRef::Own, own.tables.get(&target_name))
            }
            (Scope::Shared, [schema, _]) if Ident::from_sqlparser(schema) == self.own => {
                (SchemaRef::Own, own.tables.get(&target_name))
            }
            (_, [schema, _]) if self.is_other_shared(&Ident::from_sqlparser(schema)) => {
                let schema = Ident::from_sqlparser(schema);
                let model = neighbours.loaded.get(&schema);
                unchecked = model.is_none();
                (
                    SchemaRef::Named(SchemaName::new(schema.as_str())),
                    model.and_then(|m| m.tables.get(&target_name)),
                )
            }
            (_, [schema, _]) => {
                self.problems.push(
                    Problem::new("kschema::sql::foreign_schema", format!("foreign key on {table} references schema {}, which kschema does not manage", schema.value))
                        .at(&file, ident_span(&file, Some(schema)), "unmanaged schema")
                        .with_help("references may point into the same schema or into a shared schema the project keeps (a folder schema/<name>)"),
                );
                return None;
            }
            _ => return None,
        };
        if unchecked {
            if fk.referred_columns.is_empty() {
                self.problems.push(
                    Problem::new(
                        "kschema::sql::no_primary_key",
                        format!(
                            "foreign key on {table} references {} without naming its columns",
                            fk.foreign_table
                        ),
                    )
                    .at(&file, target_span, "name the referenced columns")
                    .with_help(format!(
                        "that schema's files are read after these: write REFERENCES {} (column)",
                        fk.foreign_table
                    )),
                );
                return None;
            }
            let referenced_columns = fk
                .referred_columns
                .iter()
                .map(Ident::from_sqlparser)
                .collect();
            return Some(foreign_key_constraint(
                table,
                fk,
                schema_ref,
                target_name,
                referenced_columns,
                names,
            ));
        }
        let Some(target) = target else {
            let folder = match (self.scope, &schema_ref, parts.len()) {
                // An unqualified name is looked for on the search path.
                (Scope::Tenant, _, 1) => "schema/tenant or schema/public".to_string(),
                (_, SchemaRef::Named(schema), _) => format!("schema/{schema}"),
                (_, SchemaRef::Own, _) => self.folder(),
            };
            self.problems.push(not_found(&folder));
            return None;
        };
        let referenced_columns: Vec<Ident> = if fk.referred_columns.is_empty() {
            match target.primary_key().map(|pk| &pk.kind) {
                Some(ConstraintKind::PrimaryKey { columns, .. }) => columns.clone(),
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
            ConstraintKind::PrimaryKey { columns, .. } | ConstraintKind::Unique { columns, .. } => {
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
                let from = own
                    .columns_of(&own_table.name)
                    .and_then(|columns| columns.iter().find(|c| &c.name == column));
                let (Some(from), Some(to)) = (from, target.column(referenced)) else {
                    continue;
                };
                let (Some(a), Some(b)) = (type_family(&from.data_type), type_family(&to.data_type))
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
        Some(foreign_key_constraint(
            table,
            fk,
            schema_ref,
            target_name,
            referenced_columns,
            names,
        ))
    }
}

pub(super) struct PendingForeignKey {
    pub(super) name: Option<Ident>,
    pub(super) columns: Vec<Ident>,
    pub(super) column_spans: Vec<SourceSpan>,
    pub(super) foreign_table: ObjectName,
    pub(super) referred_columns: Vec<SqlIdent>,
    pub(super) on_delete: Option<SqlAction>,
    pub(super) on_update: Option<SqlAction>,
    pub(super) match_full: bool,
    pub(super) characteristics: Option<ConstraintCharacteristics>,
    pub(super) file: Arc<SourceFile>,
}

/// The broad family of a built-in type, as far as comparing a foreign key
/// with its key goes: types of one family compare (`integer` with `bigint`,
/// `text` with `varchar`), types of two never do. `None` for anything else
/// (arrays, domains, enums, extension types), which is left to PostgreSQL.
pub(super) fn type_family(data_type: &ColumnType) -> Option<&'static str> {
    if data_type.is_array() {
        return None;
    }
    Some(match data_type.name() {
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

pub(super) fn action(action: Option<SqlAction>) -> ReferentialAction {
    match action {
        None | Some(SqlAction::NoAction) => ReferentialAction::NoAction,
        Some(SqlAction::Restrict) => ReferentialAction::Restrict,
        Some(SqlAction::Cascade) => ReferentialAction::Cascade,
        Some(SqlAction::SetNull) => ReferentialAction::SetNull,
        Some(SqlAction::SetDefault) => ReferentialAction::SetDefault,
    }
}

pub(super) fn sql_expr(expr: &Expr, ctx: ExprContext<'_>) -> SqlExpr {
    SqlExpr {
        canonical: canonicalize(expr.clone(), ctx),
        sql: expr.to_string(),
    }
}

pub(super) fn literal_i64(expr: &Expr) -> Option<i64> {
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
pub(super) fn single_column_of(
    expr: &Expr,
    columns: &BTreeMap<Ident, ColumnType>,
) -> Option<Ident> {
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
pub(super) fn expression_column_name(expr: &Expr) -> String {
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

pub(super) fn constraint_span(
    file: &Arc<SourceFile>,
    constraint: &TableConstraint,
) -> Option<SourceSpan> {
    let span = constraint.span();
    (span.start.line > 0).then(|| {
        file.span_between(
            (span.start.line, span.start.column),
            (span.end.line, span.end.column),
        )
    })
}

pub(super) fn multiple_primary_keys(
    file: &Arc<SourceFile>,
    span: SourceSpan,
    table: &Ident,
) -> Problem {
    Problem::new(
        "kschema::sql::multiple_primary_keys",
        format!("table {table} has more than one primary key"),
    )
    .at(file, span, "second primary key")
    .with_help("a table has one PRIMARY KEY; make the others UNIQUE")
}

/// `WITH (fillfactor = 70, autovacuum_enabled = false)` as name → value,
/// spelled as PostgreSQL keeps them (`fillfactor=70`); `None` for table
/// options that are not storage parameters (`TABLESPACE` is taken out
/// before parsing: see `tablespace`).
fn storage_parameters(options: &CreateTableOptions) -> Option<Vec<(String, String)>> {
    let list = match options {
        CreateTableOptions::None => return Some(Vec::new()),
        CreateTableOptions::With(list) => list,
        _ => return None,
    };
    list.iter()
        .map(|option| match option {
            sqlparser::ast::SqlOption::KeyValue { key, value } => {
                let value = storage_parameter_value(value).unwrap_or_else(|| value.to_string());
                Some((key.to_string().to_lowercase(), value))
            }
            _ => None,
        })
        .collect()
}

/// A storage parameter's value as PostgreSQL keeps it (`70`, `off`,
/// `true`); `None` when it is not a literal or a word.
pub(super) fn storage_parameter_value(value: &Expr) -> Option<String> {
    match value {
        Expr::Value(v) => Some(match &v.value {
            sqlparser::ast::Value::SingleQuotedString(text) => text.clone(),
            sqlparser::ast::Value::Boolean(b) => b.to_string(),
            other => other.to_string(),
        }),
        Expr::Identifier(ident) => Some(ident.value.to_lowercase()),
        _ => None,
    }
}

/// `DEFERRABLE [INITIALLY DEFERRED | IMMEDIATE]` as the model keeps it.
fn deferrable_of(characteristics: Option<&ConstraintCharacteristics>) -> Deferrable {
    match characteristics {
        Some(ConstraintCharacteristics {
            initially: Some(DeferrableInitial::Deferred),
            ..
        }) => Deferrable::InitiallyDeferred,
        Some(ConstraintCharacteristics {
            deferrable: Some(true),
            ..
        }) => Deferrable::InitiallyImmediate,
        _ => Deferrable::NotDeferrable,
    }
}

/// The constraint a resolved foreign key becomes.
fn foreign_key_constraint(
    table: &Ident,
    fk: PendingForeignKey,
    schema: SchemaRef,
    target: Ident,
    referenced_columns: Vec<Ident>,
    names: &mut NameChooser,
) -> Constraint {
    let deferrable = deferrable_of(fk.characteristics.as_ref());
    let joined = join_column_names(fk.columns.iter().map(|c| c.as_str()));
    named(
        fk.name,
        || names.choose(table.as_str(), Some(&joined), "fkey"),
        ConstraintKind::ForeignKey(ForeignKey {
            columns: fk.columns,
            references: TableRef {
                schema,
                table: target,
            },
            referenced_columns,
            on_delete: action(fk.on_delete),
            on_update: action(fk.on_update),
            match_full: fk.match_full,
            deferrable,
        }),
    )
}

impl Loader {
    /// A table key's index options as the parser read them: the storage
    /// parameters its `WITH (…)` was handed over as (see
    /// `tokens::KEY_OPTIONS_MARKER`); any other is not PostgreSQL's.
    pub(super) fn key_options(
        &mut self,
        file: &Arc<SourceFile>,
        span: SourceSpan,
        options: &[sqlparser::ast::IndexOption],
    ) -> Vec<(String, String)> {
        let mut parameters = Vec::new();
        for option in options {
            match option {
                sqlparser::ast::IndexOption::Comment(text)
                    if text.starts_with(super::tokens::KEY_OPTIONS_MARKER) =>
                {
                    let list = &text[super::tokens::KEY_OPTIONS_MARKER.len()..];
                    parameters.extend(list.split(';').filter_map(|pair| {
                        pair.split_once('=')
                            .map(|(name, value)| (name.to_string(), value.to_string()))
                    }));
                }
                other => self.unsupported(
                    file,
                    span,
                    format!("index option `{other}` on a key is not PostgreSQL's"),
                    "a key's index takes WITH (…) storage parameters and INCLUDE (…) only",
                ),
            }
        }
        parameters
    }
}
