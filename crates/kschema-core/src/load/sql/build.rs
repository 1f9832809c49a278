//! From declarations to the scope's model: names chosen, tables, indexes
//! and sequences built, foreign keys resolved, clashes found.

use super::dump_fold::bare_name;
use super::*;

impl Loader {
    pub(super) fn build(&mut self, neighbours: Neighbours<'_>) -> LoadedScope {
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
        for declared in parents_first(&tables) {
            let Some((name, name_span)) =
                self.object_name(&declared.file, &declared.ast.name, "table")
            else {
                continue;
            };
            if let Some((first_file, first_span)) = first_seen.get(&name) {
                let mut problem = Problem::new(
                    "kschema::sql::duplicate_table",
                    format!("table {name} is defined twice in {}", self.folder()),
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
        let parsed_everything = !self.some_file_unparsed();
        for (table, fk) in pending_fks.into_iter().filter(|_| parsed_everything) {
            let place = (fk.file.clone(), fk.column_spans.first().copied());
            if let Some(constraint) =
                self.resolve_foreign_key(&table, fk, &loaded.model, neighbours, &mut names)
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
        self.check_partitions(&mut loaded);

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
        for (table, security) in std::mem::take(&mut self.row_security) {
            if let Some(found) = loaded.model.tables.get_mut(&table) {
                found.row_security = security;
            }
        }
        for (table, identity, file, span) in std::mem::take(&mut self.replica_identities) {
            if let Some(index) = crate::model::ReplicaIdentity::index(identity.as_ref()) {
                if let Some(problem) = replica_index_problem(&loaded.model, &table, index) {
                    self.problems.push(
                        Problem::new("kschema::sql::replica_index", problem)
                            .at(&file, span, "this replica identity")
                            .with_help("name a unique index of the table without a WHERE clause, or its primary key or unique constraint (the constraint's index has its name)"),
                    );
                    continue;
                }
            }
            if let Some(found) = loaded.model.tables.get_mut(&table) {
                found.replica_identity = identity;
            }
        }
        for DeclaredComment {
            file,
            span,
            table,
            column,
            text,
        } in std::mem::take(&mut self.comments)
        {
            let found = loaded.model.tables.get_mut(&table);
            let slot = match (found, &column) {
                (Some(t), None) => Some(&mut t.comment),
                (Some(t), Some(column)) => t
                    .columns
                    .iter_mut()
                    .find(|c| &c.name == column)
                    .map(|c| &mut c.comment),
                (None, _) => None,
            };
            // A view's column or a composite type's attribute: kept as
            // written, like other objects' comments.
            let on_view =
                column.is_some() && (self.declares_view(&table) || self.declares_composite(&table));
            match (slot, &column) {
                (Some(slot), _) => *slot = text,
                (None, Some(column)) if on_view => {
                    loaded.origins.insert(
                        ObjectKey::Comment(loaded.comments.len()),
                        Origin {
                            file: file.clone(),
                            span,
                            annotations: Default::default(),
                        },
                    );
                    loaded.comments.push(crate::sql::Sql::new().text(format!(
                        "COMMENT ON COLUMN {}.{} IS {}",
                        table.quoted(),
                        column.quoted(),
                        text.as_deref()
                            .map_or("NULL".to_string(), crate::ident::quote_literal)
                    )));
                }
                (None, _) => self.problems.push(
                    Problem::new(
                        "kschema::sql::comment_target",
                        match &column {
                            None => format!("COMMENT ON TABLE {table}: no such table"),
                            Some(column) => {
                                format!("COMMENT ON COLUMN {table}.{column}: no such column")
                            }
                        },
                    )
                    .at(&file, span, "this comment")
                    .with_help("comment on a table, a column, a view's column or a composite type's attribute the files declare"),
                ),
            }
        }
        // Constraints a dump added NOT VALID stay so (see `diff`).
        for (table, constraint) in std::mem::take(&mut self.not_valid) {
            if let Some(found) = loaded
                .model
                .tables
                .get_mut(&table)
                .and_then(|t| t.constraints.iter_mut().find(|c| c.name == constraint))
            {
                found.validated = false;
            }
        }
        self.build_routines(&mut loaded);
        self.build_enums(&mut loaded);
        self.build_extensions(&mut loaded);
        loaded
    }

    /// A file did not parse: what it declares is unknown.
    fn some_file_unparsed(&self) -> bool {
        self.problems
            .iter()
            .any(|p| p.code == "kschema::sql::parse")
    }

    /// Whether a table an index, trigger or policy is on is missing for a
    /// reason already reported: its `CREATE TABLE` was refused, or a file
    /// did not parse (it may hold the table). Saying so for each of them
    /// too would bury that one error under its echoes.
    pub(super) fn missing_table_explained(&self, table: &Ident) -> bool {
        self.some_file_unparsed()
            || self
                .tables
                .iter()
                .any(|t| bare_name(&t.ast.name).as_ref() == Some(table))
    }

    /// A partition's parent is a partitioned table of the same files; an
    /// index on a partitioned table is a partitioned index.
    fn check_partitions(&mut self, loaded: &mut LoadedScope) {
        let tables = &loaded.model.tables;
        for table in tables.values() {
            let Some(of) = &table.partition_of else {
                continue;
            };
            if tables
                .get(&of.parent)
                .is_some_and(|p| p.partition_key.is_some())
            {
                continue;
            }
            let mut problem = Problem::new(
                "kschema::sql::partition_parent",
                format!(
                    "{} is a partition of {}, which the files do not declare as a partitioned table",
                    table.name, of.parent
                ),
            )
            .with_help("declare the parent in the same folder with PARTITION BY RANGE (…), LIST (…) or HASH (…)");
            if let Some(origin) = loaded.origins.get(&ObjectKey::Table(table.name.clone())) {
                problem = problem.at(&origin.file, origin.span, "the partition");
            }
            self.problems.push(problem);
        }
        for index in loaded.model.indexes.values_mut() {
            index.partitioned = tables
                .get(&index.table)
                .is_some_and(|t| t.partition_key.is_some());
        }
    }

    /// The object's own name; a schema qualifier must match the scope.
    pub(super) fn object_name(
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
            (Scope::Shared, [schema, _]) if Ident::from_sqlparser(schema) == self.own => {}
            (Scope::Shared, [schema, _]) => {
                self.problems.push(
                    Problem::new(
                        "kschema::sql::wrong_schema",
                        format!("{what} {name} is not in schema {}", self.own),
                    )
                    .at(
                        file,
                        ident_span(file, Some(schema)),
                        format!(
                            "files under {} define objects in {}",
                            self.folder(),
                            self.own
                        ),
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
}

pub(super) fn named(
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
        options: Vec::new(),
    }
}

/// Tables, indexes (the ones behind primary keys and unique constraints
/// too) and sequences share one namespace per schema in PostgreSQL: two of
/// them under one name would fail in every target, so the plan refuses them.
pub(super) fn relation_name_clashes(loaded: &LoadedScope) -> Vec<Problem> {
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

/// Why `REPLICA IDENTITY USING INDEX index` cannot name `index` of
/// `table`, if it cannot. What PostgreSQL checks beyond this (columns NOT
/// NULL, not deferrable) it reports when the desired state is built.
fn replica_index_problem(model: &SchemaModel, table: &Ident, index: &Ident) -> Option<String> {
    if let Some(found) = model.indexes.get(index).filter(|i| i.table == *table) {
        return match (found.unique, &found.predicate) {
            (false, _) => Some(format!(
                "REPLICA IDENTITY USING INDEX {index}: the index is not unique"
            )),
            (_, Some(_)) => Some(format!(
                "REPLICA IDENTITY USING INDEX {index}: the index is partial"
            )),
            _ => None,
        };
    }
    let is_key = model.tables.get(table).is_some_and(|t| {
        t.constraints.iter().any(|c| {
            c.name == *index
                && matches!(
                    c.kind,
                    crate::model::ConstraintKind::PrimaryKey { .. }
                        | crate::model::ConstraintKind::Unique { .. }
                )
        })
    });
    (!is_key).then(|| {
        format!("REPLICA IDENTITY USING INDEX {index}: {table} has no index or key of that name")
    })
}

/// The declared tables, each partition after its parent (its constraints
/// and indexes name the parent's columns); otherwise as declared.
fn parents_first(tables: &[Declared<CreateTable>]) -> Vec<&Declared<CreateTable>> {
    let mut placed: std::collections::HashSet<Ident> = Default::default();
    let mut order = Vec::with_capacity(tables.len());
    let mut waiting: Vec<&Declared<CreateTable>> = tables.iter().collect();
    loop {
        let before = waiting.len();
        waiting.retain(|declared| {
            let ready = match &declared.ast.partition_of {
                None => true,
                Some(parent) => bare_name(parent).is_some_and(|p| placed.contains(&p)),
            };
            if ready {
                placed.extend(bare_name(&declared.ast.name));
                order.push(*declared);
            }
            !ready
        });
        if waiting.len() == before {
            // Parents the files do not declare (or a cycle): as declared,
            // for the problems `check_partitions` reports.
            order.extend(waiting);
            return order;
        }
    }
}
