//! Warnings about the desired state itself. They never block a plan:
//! `kschema lint` lists them (plan counts them), less what kschema.toml's
//! `[lint.allow]` lets pass.

use serde::Serialize;

use crate::ident::Ident;
use crate::load::{shared_folder, DesiredState, LoadedScope, ObjectKey, TENANT_FOLDER};
use crate::model::{ConstraintKind, Index, IndexExpr, Table};

/// A kind of warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LintKind {
    /// An index on exactly the columns of a primary key, a unique constraint
    /// or another index: every write maintains it, no query needs it.
    RedundantIndex,
    /// A foreign key whose columns lead no index: deleting or updating a
    /// referenced row scans the whole referencing table, under lock.
    ForeignKeyWithoutIndex,
    /// A table without a primary key: rows cannot be addressed reliably,
    /// and logical replication cannot update or delete them.
    NoPrimaryKey,
}

impl LintKind {
    pub const ALL: [LintKind; 3] = [
        LintKind::RedundantIndex,
        LintKind::ForeignKeyWithoutIndex,
        LintKind::NoPrimaryKey,
    ];

    pub fn name(self) -> &'static str {
        match self {
            LintKind::RedundantIndex => "redundant-index",
            LintKind::ForeignKeyWithoutIndex => "foreign-key-without-index",
            LintKind::NoPrimaryKey => "no-primary-key",
        }
    }

    pub fn from_name(name: &str) -> Option<LintKind> {
        LintKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Lint {
    pub kind: LintKind,
    /// `schema/public/enterprises.sql:19`
    pub location: String,
    /// What it is about: the index, constraint or table, by name (what an
    /// allow list names).
    pub object: Ident,
    pub message: String,
}

/// A rule `[lint.allow]` names that does not exist (a typo would silently
/// allow nothing).
pub fn unknown_allowed_rule(desired: &DesiredState) -> Option<crate::diagnostic::Problem> {
    let rule = desired
        .config
        .lint
        .allow
        .keys()
        .find(|rule| LintKind::from_name(rule).is_none())?;
    Some(
        crate::diagnostic::Problem::new(
            "kschema::config::value",
            format!(
                "kschema.toml's [lint.allow] names {:?}, which is not a rule",
                crate::escape::printable(rule)
            ),
        )
        .with_help(format!(
            "the rules are {}",
            LintKind::ALL.map(|k| k.name()).join(", ")
        )),
    )
}

/// Every warning about the desired state that kschema.toml does not
/// allow, in file order.
pub fn lint(desired: &DesiredState) -> Vec<Lint> {
    let mut lints = Vec::new();
    for (schema, loaded) in desired.shared_scopes() {
        lint_scope(&shared_folder(schema.ident()), loaded, &mut lints);
    }
    lint_scope(TENANT_FOLDER, &desired.tenant, &mut lints);
    let allow = &desired.config.lint.allow;
    lints.retain(|l| {
        !allow
            .get(l.kind.name())
            .is_some_and(|objects| objects.iter().any(|o| o == "*" || o == l.object.as_str()))
    });
    lints.sort_by(|a, b| (&a.location, a.kind).cmp(&(&b.location, b.kind)));
    lints
}

fn lint_scope(folder: &str, loaded: &LoadedScope, lints: &mut Vec<Lint>) {
    let location = |key: ObjectKey| {
        loaded
            .origins
            .get(&key)
            .map(|o| format!("{}:{}", o.file.name, o.file.line_of(o.span.offset())))
            .unwrap_or_else(|| folder.to_string())
    };
    let by_table = loaded.model.indexes_by_table();
    for table in loaded.model.tables.values() {
        let indexes: Vec<&Index> = by_table.get(&table.name).cloned().unwrap_or_default();
        // A partition has its parent's key.
        let keyed = |t: &Table| t.primary_key().is_some();
        if !keyed(table) && !loaded.model.root_of(&table.name).is_some_and(keyed) {
            lints.push(Lint {
                kind: LintKind::NoPrimaryKey,
                location: location(ObjectKey::Table(table.name.clone())),
                object: table.name.clone(),
                message: format!("table {} has no primary key", table.name),
            });
        }
        for index in &indexes {
            if let Some(duplicate_of) = redundant_with(index, table, &indexes) {
                lints.push(Lint {
                    kind: LintKind::RedundantIndex,
                    location: location(ObjectKey::Index(index.name.clone())),
                    object: index.name.clone(),
                    message: format!(
                        "index {} on {} ({}) duplicates {duplicate_of}",
                        index.name,
                        table.name,
                        names(&plain_columns(index).unwrap_or_default())
                    ),
                });
            }
        }
        for (constraint, fk) in table.foreign_keys() {
            if !led_by(&fk.columns, table, &indexes) {
                lints.push(Lint {
                    kind: LintKind::ForeignKeyWithoutIndex,
                    location: location(ObjectKey::Constraint(
                        table.name.clone(),
                        constraint.name.clone(),
                    )),
                    object: constraint.name.clone(),
                    message: format!(
                        "foreign key {} on {} ({}) has no index on its columns",
                        constraint.name,
                        table.name,
                        names(&fk.columns)
                    ),
                });
            }
        }
    }
}

/// The plain-column keys of a simple b-tree index.
fn plain_columns(index: &Index) -> Option<Vec<Ident>> {
    if index.method.as_str() != "btree" || index.predicate.is_some() || !index.include.is_empty() {
        return None;
    }
    index
        .keys
        .iter()
        .map(|k| match &k.expr {
            IndexExpr::Column(c) if k.opclass.is_none() && k.collation.is_none() => Some(c.clone()),
            _ => None,
        })
        .collect()
}

/// What `index` duplicates, if anything: a key constraint with the same
/// columns, or an index with the same columns and a name sorting first.
fn redundant_with(index: &Index, table: &Table, indexes: &[&Index]) -> Option<String> {
    let columns = plain_columns(index)?;
    for constraint in &table.constraints {
        match &constraint.kind {
            ConstraintKind::PrimaryKey { columns: key, .. } if *key == columns => {
                return Some(format!("primary key {}", constraint.name))
            }
            ConstraintKind::Unique { columns: key, .. } if *key == columns => {
                return Some(format!("unique constraint {}", constraint.name))
            }
            _ => {}
        }
    }
    indexes
        .iter()
        .filter(|other| other.name < index.name && (other.unique || !index.unique))
        .find(|other| plain_columns(other).as_ref() == Some(&columns))
        .map(|other| format!("index {}", other.name))
}

/// Whether some index or key starts with exactly these columns (in any order).
fn led_by(columns: &[Ident], table: &Table, indexes: &[&Index]) -> bool {
    let leads = |key: &[Ident]| {
        key.len() >= columns.len() && columns.iter().all(|c| key[..columns.len()].contains(c))
    };
    let constraint_keys = table.constraints.iter().filter_map(|c| match &c.kind {
        ConstraintKind::PrimaryKey { columns, .. } | ConstraintKind::Unique { columns, .. } => {
            Some(columns.clone())
        }
        _ => None,
    });
    let index_keys = indexes.iter().map(|i| {
        i.keys
            .iter()
            .map_while(|k| match &k.expr {
                IndexExpr::Column(c) => Some(c.clone()),
                IndexExpr::Expression(_) => None,
            })
            .collect::<Vec<_>>()
    });
    constraint_keys.chain(index_keys).any(|key| leads(&key))
}

fn names(columns: &[Ident]) -> String {
    columns
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
