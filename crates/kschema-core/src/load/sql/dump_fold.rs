//! The loader's side of schema dumps (`load::dump`): `ALTER TABLE`s folded
//! into their tables, serials written out as sequences folded back,
//! partitions written as plain tables attached folded into `PARTITION OF`.

use super::*;

/// `ALTER TABLE parent ATTACH PARTITION child FOR VALUES …` in a dump.
pub(super) struct DeclaredAttachment {
    parent: ObjectName,
    child: ObjectName,
    bound: sqlparser::ast::ForValues,
    file: Arc<SourceFile>,
    span: SourceSpan,
}

/// The bare name a statement gives a table or index.
pub(super) fn bare_name(name: &ObjectName) -> Option<Ident> {
    name.0
        .last()
        .and_then(|p| p.as_ident())
        .map(Ident::from_sqlparser)
}

impl Loader {
    /// Folds a dump's `ALTER TABLE`s into their tables, and its serials
    /// (a sequence, its owner and a `nextval` default) back into serials.
    pub(super) fn fold_dump(&mut self) {
        let amendments = std::mem::take(&mut self.amendments);
        for amendment in amendments {
            let file = &amendment.file;
            let span = statement_span(file, &amendment.place);
            let name = bare_name(&amendment.ast.name);
            let Some(table) = self
                .tables
                .iter_mut()
                .find(|t| bare_name(&t.ast.name) == name)
            else {
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
                    Ok(dump::Folded::Done) => continue,
                    Ok(dump::Folded::NotValid(constraint)) => {
                        if let Some(table_name) = &name {
                            self.not_valid.push((table_name.clone(), constraint));
                        }
                        continue;
                    }
                    Ok(dump::Folded::ReplicaIdentity(identity)) => {
                        if let Some(table_name) = &name {
                            self.replica_identities.push((
                                table_name.clone(),
                                identity,
                                file.clone(),
                                span,
                            ));
                        }
                        continue;
                    }
                    Ok(dump::Folded::RowSecurity { enable, force }) => {
                        if let Some(table_name) = &name {
                            use crate::model::RowSecurity;
                            let current = self
                                .row_security
                                .iter()
                                .rev()
                                .find(|(t, _)| t == table_name)
                                .map_or(RowSecurity::default(), |(_, r)| *r);
                            self.row_security.push((
                                table_name.clone(),
                                RowSecurity {
                                    enabled: enable.unwrap_or(current.enabled),
                                    forced: force.unwrap_or(current.forced),
                                },
                            ));
                        }
                        continue;
                    }
                    Ok(dump::Folded::AttachPartition(child, bound)) => {
                        self.partition_attachments.push(DeclaredAttachment {
                            parent: amendment.ast.name.clone(),
                            child,
                            bound,
                            file: file.clone(),
                            span,
                        });
                        continue;
                    }
                    Ok(dump::Folded::TriggerFiring(trigger, firing)) => {
                        if let Some(table_name) = &name {
                            self.trigger_firings.push(routine::DeclaredFiring {
                                table: table_name.clone(),
                                trigger,
                                firing,
                                file: file.clone(),
                                span,
                            });
                        }
                        continue;
                    }
                    Err(dump::NotFolded::NotValid) => (
                        "only a named CHECK or FOREIGN KEY constraint can be NOT VALID".to_string(),
                        "name the constraint (ADD CONSTRAINT name …), or leave NOT VALID out",
                    ),
                    Err(dump::NotFolded::UnknownColumn(column)) => (
                        format!("ALTER TABLE {} names column {column}, which the table does not have", amendment.ast.name),
                        "fix the column's name",
                    ),
                    Err(dump::NotFolded::Other(what)) => (
                        format!("ALTER TABLE … {what} is not part of a desired state"),
                        "a desired state amends a table only with ADD CONSTRAINT, ALTER COLUMN … SET DEFAULT, SET NOT NULL or ADD GENERATED … AS IDENTITY, REPLICA IDENTITY FULL / NOTHING / DEFAULT / USING INDEX, ENABLE / DISABLE TRIGGER, ENABLE / FORCE ROW LEVEL SECURITY and ATTACH PARTITION; write the rest in its CREATE TABLE",
                    ),
                };
                refusals.push(refused);
            }
            for (what, help) in refusals {
                self.unsupported(file, span, what, help);
            }
        }
        // Indexes first: a partition's copies of its parent's keys go
        // before its columns and constraints are compared with the parent's.
        self.fold_index_attachments();
        self.fold_partition_attachments();
        let owners = std::mem::take(&mut self.owners);
        for (file, owner) in owners {
            self.fold_serial(&file, owner);
        }
        for (file, (line, column)) in std::mem::take(&mut self.unlogged_sequences) {
            self.unsupported(
                &file,
                file.span_at(line, column, 6),
                "unlogged sequences are not supported, except a serial's of an unlogged table"
                    .into(),
                "leave UNLOGGED out of CREATE SEQUENCE",
            );
        }
    }

    /// A sequence `OWNED BY` a column whose default is its `nextval`, with
    /// the options a serial's sequence has: the column is a serial.
    pub(super) fn fold_serial(&mut self, file: &Arc<SourceFile>, owner: dump::SequenceOwner) {
        let span = file.span_between(owner.place.0, owner.place.1);
        let Some(at) = self.sequences.iter().position(|d| match &d.ast {
            Statement::CreateSequence { name, .. } => {
                bare_name(name).as_ref() == Some(&owner.sequence)
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
        // A serial of an unlogged table: its sequence is unlogged by itself.
        let table_unlogged = self
            .tables
            .iter()
            .any(|t| t.ast.unlogged && bare_name(&t.ast.name).as_ref() == Some(&owner.table));
        if table_unlogged {
            let start = statement_span(&declared.file, &declared.place);
            self.unlogged_sequences.retain(|(file, place)| {
                !(Arc::ptr_eq(file, &declared.file)
                    && declared.file.span_at(place.0, place.1, 1).offset() == start.offset())
            });
        }
        let Some(sequence) = self.sequence(&declared) else {
            return;
        };
        let column = self
            .tables
            .iter_mut()
            .filter(|t| bare_name(&t.ast.name).as_ref() == Some(&owner.table))
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
        // A serial's column is NOT NULL (a nullable one drawing from a
        // sequence is a default of its own, which kschema does not keep).
        let not_null = column
            .options
            .iter()
            .any(|o| matches!(o.option, ColumnOption::NotNull));
        // Its options and type are the serial's own (a column retyped
        // after it was made keeps its old sequence's type).
        match dump::serial_type(&column.data_type).filter(|_| draws && not_null) {
            Some(serial) => {
                column.data_type = dump::serial_data_type(serial);
                column.options.retain(|o| !matches!(o.option, ColumnOption::Default(_)));
                self.serial_sequences
                    .push((owner.table, owner.column, sequence));
            }
            None => self.unsupported(
                file,
                span,
                format!("sequence {} owned by {}.{} is not a serial's", owner.sequence, owner.table, owner.column),
                "kschema keeps an owned sequence only as a serial column (an integer column, NOT NULL, whose default is the sequence's nextval); write the column as SERIAL or use an identity column",
            ),
        }
    }
}

impl Loader {
    /// `ALTER INDEX parent ATTACH PARTITION child`: the child index (a
    /// `CREATE INDEX`, or the index of a key constraint) is the partition's
    /// copy of its parent's, which PostgreSQL makes by itself for a
    /// partition: it is left out. Then every partition attached in the
    /// files must have attached an index to each index created `ON ONLY`
    /// its parent, or that index was invalid where the dump came from.
    fn fold_index_attachments(&mut self) {
        let mut attached: Vec<(Ident, Ident)> = Vec::new();
        for (file, attachment) in std::mem::take(&mut self.index_attachments) {
            let span = file.span_between(attachment.place.0, attachment.place.1);
            let Some(parent_table) = self.index_table(&attachment.parent) else {
                self.unsupported(
                    &file,
                    span,
                    format!(
                        "ALTER INDEX attaches {} to {}, which the files do not declare",
                        attachment.child, attachment.parent
                    ),
                    "declare the partitioned table's index (CREATE INDEX … ON ONLY t, or its key constraint) in the same folder",
                );
                continue;
            };
            let Some(child_table) = self.take_index(&attachment.child) else {
                self.unsupported(
                    &file,
                    span,
                    format!(
                        "ALTER INDEX attaches {}, which the files do not declare, to {}",
                        attachment.child, attachment.parent
                    ),
                    "declare the partition's index (CREATE INDEX … ON partition, or its key constraint) in the same folder",
                );
                continue;
            };
            let is_partition = self.partition_attachments.iter().any(|a| {
                bare_name(&a.parent).as_ref() == Some(&parent_table)
                    && bare_name(&a.child).as_ref() == Some(&child_table)
            });
            if !is_partition {
                self.unsupported(
                    &file,
                    span,
                    format!(
                        "ALTER INDEX attaches {} (on {child_table}) to {} (on {parent_table}), but {child_table} is not attached as a partition of {parent_table}",
                        attachment.child, attachment.parent
                    ),
                    "attach the table first (ALTER TABLE parent ATTACH PARTITION …), as pg_dump writes it",
                );
                continue;
            }
            attached.push((attachment.parent.clone(), child_table));
        }
        for (file, only) in std::mem::take(&mut self.only_indexes) {
            let Some(table) = self.index_table(&only.name) else {
                continue;
            };
            let unattached: Vec<Ident> = self
                .partition_attachments
                .iter()
                .filter(|a| bare_name(&a.parent).as_ref() == Some(&table))
                .filter_map(|a| bare_name(&a.child))
                .filter(|child| !attached.iter().any(|(i, t)| *i == only.name && t == child))
                .collect();
            if let Some(partition) = unattached.first() {
                self.unsupported(
                    &file,
                    file.span_between(only.place.0, only.place.1),
                    format!(
                        "index {} is created ON ONLY {table}, and partition {partition} attaches no index to it: the index is invalid",
                        only.name
                    ),
                    "attach the partition's index (ALTER INDEX … ATTACH PARTITION …), or leave ONLY out to build the index on every partition",
                );
            }
        }
    }

    /// The table of an index the files declare: a `CREATE INDEX`, or a
    /// primary key, unique or exclusion constraint (its index has its name).
    fn index_table(&self, index: &Ident) -> Option<Ident> {
        let created = self
            .indexes
            .iter()
            .find(|i| i.ast.name.as_ref().and_then(bare_name).as_ref() == Some(index))
            .and_then(|i| bare_name(&i.ast.table_name));
        created.or_else(|| {
            self.tables
                .iter()
                .find(|t| {
                    t.ast
                        .constraints
                        .iter()
                        .any(|c| key_constraint_name(c).as_ref() == Some(index))
                })
                .and_then(|t| bare_name(&t.ast.name))
        })
    }

    /// Takes a partition's index out of the declarations; its table.
    fn take_index(&mut self, index: &Ident) -> Option<Ident> {
        if let Some(at) = self
            .indexes
            .iter()
            .position(|i| i.ast.name.as_ref().and_then(bare_name).as_ref() == Some(index))
        {
            return bare_name(&self.indexes.remove(at).ast.table_name);
        }
        let table = self.tables.iter_mut().find(|t| {
            t.ast
                .constraints
                .iter()
                .any(|c| key_constraint_name(c).as_ref() == Some(index))
        })?;
        table
            .ast
            .constraints
            .retain(|c| key_constraint_name(c).as_ref() != Some(index));
        bare_name(&table.ast.name)
    }

    /// `ALTER TABLE parent ATTACH PARTITION child FOR VALUES …`: the child,
    /// written as a table of its own with its parent's columns and checks,
    /// becomes `CREATE TABLE child PARTITION OF parent (c DEFAULT …) FOR
    /// VALUES …`, keeping the defaults and `NOT NULL`s it sets itself. A
    /// column or constraint that is not its parent's stays, and the
    /// partition is refused for it as it would be in `PARTITION OF`.
    fn fold_partition_attachments(&mut self) {
        // The parents as declared: a partition that is a parent too loses
        // its columns to its own attachment.
        let declared: Vec<_> = self
            .tables
            .iter()
            .map(|t| {
                let ast = &t.ast;
                (
                    bare_name(&ast.name),
                    ast.columns.clone(),
                    ast.constraints.clone(),
                )
            })
            .collect();
        for attachment in std::mem::take(&mut self.partition_attachments) {
            let parent_name = bare_name(&attachment.parent);
            let child_name = bare_name(&attachment.child);
            let Some((_, parent_columns, parent_constraints)) =
                declared.iter().find(|(name, ..)| *name == parent_name)
            else {
                continue;
            };
            let Some(child) = self
                .tables
                .iter_mut()
                .find(|t| bare_name(&t.ast.name) == child_name)
            else {
                self.unsupported(
                    &attachment.file,
                    attachment.span,
                    format!(
                        "ALTER TABLE {} attaches {}, which no CREATE TABLE declares",
                        attachment.parent, attachment.child
                    ),
                    "declare the partition in the same folder",
                );
                continue;
            };
            if child.ast.partition_of.is_some() {
                let (file, span) = (attachment.file.clone(), attachment.span);
                self.unsupported(
                    &file,
                    span,
                    format!("{} is attached as a partition twice", attachment.child),
                    "attach a partition once: ATTACH PARTITION, or PARTITION OF in its CREATE TABLE",
                );
                continue;
            }
            let own = match partition_own_columns(parent_columns, &child.ast.columns) {
                Ok(own) => own,
                Err(what) => {
                    let (file, span) = (attachment.file.clone(), attachment.span);
                    self.unsupported(
                        &file,
                        span,
                        format!("partition {} {what}", attachment.child),
                        "a partition has its parent's columns, in its parent's order, and may set a default and NOT NULL of its own",
                    );
                    continue;
                }
            };
            child.ast.constraints.retain(|c| {
                !parent_constraints
                    .iter()
                    .any(|p| p.to_string() == c.to_string())
            });
            child.ast.columns = own;
            child.ast.partition_of = Some(attachment.parent);
            child.ast.for_values = Some(attachment.bound);
        }
    }
}

/// The name of a key constraint's index: a primary key's, a unique's or
/// an exclusion's is the constraint's name.
fn key_constraint_name(constraint: &sqlparser::ast::TableConstraint) -> Option<Ident> {
    use sqlparser::ast::TableConstraint;
    match constraint {
        TableConstraint::PrimaryKey(key) => key.name.as_ref(),
        TableConstraint::Unique(key) => key.name.as_ref(),
        TableConstraint::Exclude(key) => key.name.as_ref(),
        _ => None,
    }
    .map(Ident::from_sqlparser)
}

/// What a partition's columns set themselves (`c DEFAULT 0 NOT NULL`,
/// as `PARTITION OF` lists them), or how they differ from its parent's
/// otherwise. An identity is the parent's alone (its partitions draw from
/// its sequence).
fn partition_own_columns(
    parent: &[sqlparser::ast::ColumnDef],
    child: &[sqlparser::ast::ColumnDef],
) -> Result<Vec<sqlparser::ast::ColumnDef>, String> {
    use sqlparser::ast::{ColumnDef, ColumnOptionDef, DataType};
    let is = |column: &ColumnDef, test: fn(&ColumnOption) -> bool| {
        column.options.iter().find(|o| test(&o.option)).cloned()
    };
    let default = |o: &ColumnOption| matches!(o, ColumnOption::Default(_));
    let not_null = |o: &ColumnOption| matches!(o, ColumnOption::NotNull);
    let shape = |column: &ColumnDef| {
        let mut column = column.clone();
        column.options.retain(|o| {
            !matches!(
                o.option,
                ColumnOption::Generated {
                    generation_expr: None,
                    ..
                } | ColumnOption::Default(_)
                    | ColumnOption::NotNull
                    | ColumnOption::Null
            )
        });
        column.to_string()
    };
    if parent.len() != child.len() {
        return Err(format!(
            "has {} columns and its parent {}",
            child.len(),
            parent.len()
        ));
    }
    let mut own = Vec::new();
    for (p, c) in parent.iter().zip(child) {
        if shape(p) != shape(c) {
            return Err(format!(
                "declares column `{}` where its parent declares `{}`",
                shape(c),
                shape(p)
            ));
        }
        let (parent_default, child_default) = (is(p, default), is(c, default));
        let mut options: Vec<ColumnOptionDef> = Vec::new();
        match (&parent_default, &child_default) {
            // It dropped its parent's default: `c DEFAULT NULL` says so.
            (Some(_), None) => options.push(ColumnOptionDef {
                name: None,
                option: ColumnOption::Default(sqlparser::ast::Expr::value(
                    sqlparser::ast::Value::Null,
                )),
            }),
            (_, Some(own_default))
                if parent_default.as_ref().map(|d| d.to_string())
                    != Some(own_default.to_string()) =>
            {
                options.push(own_default.clone())
            }
            _ => {}
        }
        if let (None, Some(own_not_null)) = (is(p, not_null), is(c, not_null)) {
            options.push(own_not_null);
        }
        if !options.is_empty() {
            own.push(ColumnDef {
                name: c.name.clone(),
                data_type: DataType::Unspecified,
                options,
            });
        }
    }
    Ok(own)
}
