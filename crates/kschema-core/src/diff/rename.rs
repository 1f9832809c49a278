//! Renames: the ones the files declare (`-- kschema:renamed-from`),
//! done on the live model before it is compared, and the drops and adds
//! that look like renames nobody declared.

use std::collections::BTreeMap;

use crate::ident::Ident;
use crate::load::{LoadedScope, ObjectKey};
use crate::model::{ConstraintKind, IndexExpr, SchemaModel, SchemaRef};

use super::{table::same_columns, Change};

/// Renames the desired state declares (`-- kschema:renamed-from`).
#[derive(Clone, Debug, Default)]
pub struct Renames {
    /// New table name → old name.
    pub tables: BTreeMap<Ident, Ident>,
    /// (table, new column name) → old name.
    pub columns: BTreeMap<(Ident, Ident), Ident>,
}

impl Renames {
    /// The renames a scope's `-- kschema:renamed-from` annotations declare.
    pub fn declared(scope: &LoadedScope) -> Renames {
        let mut renames = Renames::default();
        for (key, origin) in &scope.origins {
            let Some(old) = &origin.annotations.renamed_from else {
                continue;
            };
            match key {
                ObjectKey::Table(table) => {
                    renames.tables.insert(table.clone(), old.clone());
                }
                ObjectKey::Column(table, column) => {
                    renames
                        .columns
                        .insert((table.clone(), column.clone()), old.clone());
                }
                _ => {}
            }
        }
        renames
    }
}

/// The live model with the declared renames done, plus the rename changes.
/// A rename applies only while the old name exists and the new one does not
/// (after it ran, the annotation is a no-op).
pub(super) fn apply_renames(
    live: &SchemaModel,
    desired: &SchemaModel,
    renames: &Renames,
    changes: &mut Vec<Change>,
) -> SchemaModel {
    let mut model = live.clone();
    for (new, old) in &renames.tables {
        if model.tables.contains_key(new) || desired.tables.contains_key(old) {
            continue;
        }
        let Some(mut table) = model.tables.remove(old) else {
            continue;
        };
        changes.push(Change::RenameTable {
            from: old.clone(),
            to: new.clone(),
        });
        table.name = new.clone();
        model.tables.insert(new.clone(), table);
        for index in model.indexes.values_mut().filter(|i| &i.table == old) {
            index.table = new.clone();
        }
        for table in model.tables.values_mut() {
            for constraint in &mut table.constraints {
                if let ConstraintKind::ForeignKey(fk) = &mut constraint.kind {
                    if fk.references.schema == SchemaRef::Own && &fk.references.table == old {
                        fk.references.table = new.clone();
                    }
                }
            }
        }
    }
    for ((table_name, new), old) in &renames.columns {
        let Some(table) = model.tables.get_mut(table_name) else {
            continue;
        };
        if table.column(new).is_some() || table.column(old).is_none() {
            continue;
        }
        if desired
            .tables
            .get(table_name)
            .is_some_and(|t| t.column(old).is_some())
        {
            continue;
        }
        changes.push(Change::RenameColumn {
            table: table_name.clone(),
            from: old.clone(),
            to: new.clone(),
        });
        for column in table.columns.iter_mut().filter(|c| &c.name == old) {
            column.name = new.clone();
        }
        let rename = |columns: &mut Vec<Ident>| {
            for c in columns.iter_mut().filter(|c| *c == old) {
                *c = new.clone();
            }
        };
        for constraint in &mut table.constraints {
            match &mut constraint.kind {
                ConstraintKind::PrimaryKey { columns, .. }
                | ConstraintKind::Unique { columns, .. } => rename(columns),
                ConstraintKind::ForeignKey(fk) => rename(&mut fk.columns),
                ConstraintKind::Check { .. } | ConstraintKind::Exclusion { .. } => {}
            }
        }
        for index in model
            .indexes
            .values_mut()
            .filter(|i| &i.table == table_name)
        {
            for key in &mut index.keys {
                if key.expr == IndexExpr::Column(old.clone()) {
                    key.expr = IndexExpr::Column(new.clone());
                }
            }
            rename(&mut index.include);
        }
        // Foreign keys elsewhere that point at the renamed column.
        for other in model.tables.values_mut() {
            for constraint in &mut other.constraints {
                if let ConstraintKind::ForeignKey(fk) = &mut constraint.kind {
                    if fk.references.schema == SchemaRef::Own && &fk.references.table == table_name
                    {
                        rename(&mut fk.referenced_columns);
                    }
                }
            }
        }
    }
    model
}

/// Drops and adds that look like renames nobody declared: a note for the
/// reviewer, since the drop loses the data.
pub fn possible_renames(changes: &[Change]) -> Vec<String> {
    let mut notes = Vec::new();
    for change in changes {
        if let Change::DropColumn {
            table,
            column: dropped,
        } = change
        {
            for added in changes.iter().filter_map(|c| match c {
                Change::AddColumn { table: t, column }
                    if t == table && column.data_type == dropped.data_type =>
                {
                    Some(column)
                }
                _ => None,
            }) {
                notes.push(format!(
                    "{table}.{} is dropped and {table}.{} added with the same type: if it is a rename, add `-- kschema:renamed-from {}` to the column to keep its data",
                    dropped.name, added.name, dropped.name.quoted()
                ));
            }
        }
        if let Change::DropTable { table: dropped } = change {
            for added in changes.iter().filter_map(|c| match c {
                // A partition's columns are its parent's: none to compare.
                Change::CreateTable { table }
                    if same_columns(table, dropped) && !table.columns.is_empty() =>
                {
                    Some(table)
                }
                _ => None,
            }) {
                notes.push(format!(
                    "table {} is dropped and {} created with the same columns: if it is a rename, add `-- kschema:renamed-from {}` above its CREATE TABLE to keep its rows",
                    dropped.name, added.name, dropped.name.quoted()
                ));
            }
        }
    }
    notes
}
