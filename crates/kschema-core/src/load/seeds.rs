//! `schema/seeds/*.toml`: rows kschema keeps in a table.
//!
//! ```toml
//! table = "default_roles"
//! scope = "public"        # or "tenant": every tenant schema gets the rows
//! key = ["id"]            # a primary key or unique constraint's columns
//! prune = false           # true: delete rows not declared here
//!
//! [[row]]
//! id = "5f0c2a52-6d3c-4c8e-9a51-0d1f3c9e0001"
//! name = "Admin"
//! ```
//!
//! The columns a row names are the ones kschema owns in that row; other
//! columns are never touched.

use std::collections::BTreeMap;
use std::sync::Arc;

use miette::SourceSpan;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::parse_toml;
use crate::diagnostic::{Problem, SourceFile};
use crate::ident::Ident;
use crate::model::{ConstraintKind, SchemaModel};
use crate::seed_value::{seed_value, SeedValue};

/// The rows declared for one table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seed {
    pub table: Ident,
    /// The columns that identify a row.
    pub key: Vec<Ident>,
    /// Delete live rows that are not declared.
    pub prune: bool,
    pub rows: Vec<SeedRow>,
    /// Where it was declared (`schema/seeds/roles.toml`).
    pub file: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedRow {
    pub values: BTreeMap<Ident, SeedValue>,
}

impl SeedRow {
    pub fn key_of(&self, key: &[Ident]) -> Vec<(Ident, SeedValue)> {
        key.iter()
            .filter_map(|k| self.values.get(k).map(|v| (k.clone(), v.clone())))
            .collect()
    }
}

/// Which schemas a seed file fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedScope {
    Public,
    Tenant,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    table: Spanned<String>,
    scope: Spanned<String>,
    key: Spanned<Vec<String>>,
    #[serde(default)]
    prune: bool,
    #[serde(default)]
    row: Vec<Spanned<BTreeMap<Spanned<String>, Spanned<toml::Value>>>>,
}

/// Parses one seed file against the scope models; returns its scope and
/// seed.
pub fn parse_seed(
    file: &Arc<SourceFile>,
    public: &SchemaModel,
    tenant: &SchemaModel,
) -> Result<(SeedScope, Seed), Problem> {
    let parsed: SeedFile = parse_toml(file)?;
    let scope = match parsed.scope.get_ref().as_str() {
        "public" => SeedScope::Public,
        "tenant" => SeedScope::Tenant,
        other => {
            return Err(Problem::new("kschema::seed::scope", format!("unknown seed scope {other:?}"))
                .at(file, span(parsed.scope.span()), "expected \"public\" or \"tenant\"")
                .with_help("scope = \"public\" fills the shared schema; scope = \"tenant\" fills every tenant schema"))
        }
    };
    let model = match scope {
        SeedScope::Public => public,
        SeedScope::Tenant => tenant,
    };
    let table_name = Ident::from_sql(parsed.table.get_ref(), false);
    let Some(table) = model.tables.get(&table_name) else {
        let folder = if scope == SeedScope::Public {
            "schema/public"
        } else {
            "schema/tenant"
        };
        return Err(Problem::new(
            "kschema::seed::table",
            format!("seed for table {table_name}, which is not defined in {folder}"),
        )
        .at(
            file,
            span(parsed.table.span()),
            "no such table in this scope",
        )
        .with_help("seed a table the desired state defines, in the scope that defines it"));
    };
    let key: Vec<Ident> = parsed
        .key
        .get_ref()
        .iter()
        .map(|k| Ident::from_sql(k, false))
        .collect();
    let key_is_unique = table.constraints.iter().any(|c| match &c.kind {
        ConstraintKind::PrimaryKey { columns, .. } | ConstraintKind::Unique { columns, .. } => {
            columns.len() == key.len() && key.iter().all(|k| columns.contains(k))
        }
        _ => false,
    });
    if key.is_empty() || !key_is_unique {
        return Err(Problem::new(
            "kschema::seed::key",
            format!(
                "key ({}) does not identify a row of {table_name}",
                key.iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .at(
            file,
            span(parsed.key.span()),
            "not a primary key or unique constraint",
        )
        .with_help(format!(
            "use the columns of {table_name}'s primary key or of one of its unique constraints"
        )));
    }

    let mut problems = Vec::new();
    let mut rows = Vec::new();
    let mut seen: BTreeMap<String, SourceSpan> = BTreeMap::new();
    for row in &parsed.row {
        let row_span = span(row.span());
        let mut values = BTreeMap::new();
        for (column, value) in row.get_ref() {
            let name = Ident::from_sql(column.get_ref(), false);
            let Some(def) = table.column(&name) else {
                problems.push(
                    Problem::new(
                        "kschema::seed::column",
                        format!("table {table_name} has no column {name}"),
                    )
                    .at(file, span(column.span()), "no such column")
                    .with_help(format!(
                        "columns of {table_name}: {}",
                        table
                            .columns
                            .iter()
                            .map(|c| c.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                );
                continue;
            };
            match seed_value(value.get_ref(), &def.data_type, def.not_null) {
                Ok(v) => {
                    values.insert(name, v);
                }
                Err(reason) => problems.push(
                    Problem::new(
                        "kschema::seed::value",
                        format!("value for {table_name}.{name} cannot be converted"),
                    )
                    .at(file, span(value.span()), reason)
                    .with_help(format!(
                        "write a value PostgreSQL accepts for {}",
                        def.data_type
                    )),
                ),
            }
        }
        for k in &key {
            if !row
                .get_ref()
                .keys()
                .any(|c| Ident::from_sql(c.get_ref(), false) == *k)
            {
                problems.push(
                    Problem::new(
                        "kschema::seed::missing_key",
                        format!("a {table_name} row has no {k}"),
                    )
                    .at(file, row_span, format!("{k} identifies the row"))
                    .with_help("every row sets every key column"),
                );
            }
        }
        // A NOT NULL column without a default must be set, or the insert fails.
        for column in table
            .columns
            .iter()
            .filter(|c| c.not_null && c.default.is_none() && c.identity.is_none())
        {
            if !values.contains_key(&column.name)
                && !key.contains(&column.name)
                && !row
                    .get_ref()
                    .keys()
                    .any(|c| Ident::from_sql(c.get_ref(), false) == column.name)
            {
                problems.push(
                    Problem::new(
                        "kschema::seed::not_null",
                        format!(
                            "a {table_name} row leaves out {}, which is NOT NULL without a default",
                            column.name
                        ),
                    )
                    .at(file, row_span, "this row")
                    .with_help(format!("set {} in every row", column.name)),
                );
            }
        }
        let seed_row = SeedRow { values };
        let identity: Vec<String> = seed_row
            .key_of(&key)
            .iter()
            .map(|(_, v)| v.canonical.to_string())
            .collect();
        if identity.len() == key.len() {
            let id = identity.join(",");
            if let Some(first) = seen.insert(id.clone(), row_span) {
                problems.push(
                    Problem::new(
                        "kschema::seed::duplicate",
                        format!("two {table_name} rows have the key {id}"),
                    )
                    .at(file, row_span, "declared again here")
                    .also(first, "first declared here")
                    .with_help("each key identifies one row"),
                );
            }
        }
        rows.push(seed_row);
    }
    if let Some(problem) = Problem::combine(problems) {
        return Err(problem);
    }
    Ok((
        scope,
        Seed {
            table: table_name,
            key,
            prune: parsed.prune,
            rows,
            file: file.name.clone(),
        },
    ))
}

fn span(range: std::ops::Range<usize>) -> SourceSpan {
    SourceSpan::new(range.start.into(), range.end.saturating_sub(range.start))
}
