//! The loader's side of schema dumps (`load::dump`): `ALTER TABLE`s folded
//! into their tables, serials written out as sequences folded back.

use super::*;

impl Loader {
    /// Folds a dump's `ALTER TABLE`s into their tables, and its serials
    /// (a sequence, its owner and a `nextval` default) back into serials.
    pub(super) fn fold_dump(&mut self) {
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
                    Ok(dump::Folded::Done) => continue,
                    Ok(dump::Folded::NotValid(constraint)) => {
                        if let Some(table_name) = &name {
                            self.not_valid.push((table_name.clone(), constraint));
                        }
                        continue;
                    }
                    Ok(dump::Folded::ReplicaIdentity(identity)) => {
                        if let Some(table_name) = &name {
                            self.replica_identities.push((table_name.clone(), identity));
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
                        "a desired state amends a table only with ADD CONSTRAINT, ALTER COLUMN … SET DEFAULT, SET NOT NULL or ADD GENERATED … AS IDENTITY, REPLICA IDENTITY FULL / NOTHING / DEFAULT, ENABLE / DISABLE TRIGGER and ENABLE / FORCE ROW LEVEL SECURITY; write the rest in its CREATE TABLE",
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
        // A serial of an unlogged table: its sequence is unlogged by itself.
        let table_unlogged = self.tables.iter().any(|t| {
            t.ast.unlogged
                && t.ast
                    .name
                    .0
                    .last()
                    .and_then(|p| p.as_ident())
                    .map(Ident::from_sqlparser)
                    .as_ref()
                    == Some(&owner.table)
        });
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
}
