//! `tenants.toml`: the tenant registry.
//!
//! ```toml
//! [[tenant]]
//! id = "abc123"              # [a-z0-9_]{1,48}
//! schema = "org_abc123"      # optional, this is the default
//! database = "eu"            # optional: a shard declared below
//!
//! [databases.eu]
//! url_env = "DATABASE_URL_EU"  # the variable holding the shard's URL
//! ```
//!
//! Or, instead of listing tenants: `source = "enterprises"` reads them from
//! `public.enterprises.organization_id` in the main database.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use miette::SourceSpan;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::parse_toml;
use crate::diagnostic::{Problem, SourceFile};
use crate::ident::MAX_IDENT_BYTES;
use crate::model::SchemaName;

/// A tenant's id: `[a-z0-9_]{1,48}`, so `org_<id>` is always a valid,
/// unquoted schema name.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TenantId(String);

impl TenantId {
    pub const MAX_LEN: usize = 48;

    /// Checks the id's form; `Err` says what is wrong with it.
    pub fn parse(id: &str) -> Result<Self, String> {
        if id.is_empty() {
            return Err("a tenant id cannot be empty".into());
        }
        if id.len() > Self::MAX_LEN {
            return Err(format!(
                "a tenant id has at most {} characters; this one has {}",
                Self::MAX_LEN,
                id.chars().count()
            ));
        }
        if let Some(bad) = id
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
        {
            return Err(format!(
                "a tenant id may contain only a-z, 0-9 and _, not {bad:?}"
            ));
        }
        Ok(TenantId(id.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The schema a tenant gets unless `tenants.toml` says otherwise.
    pub fn default_schema(&self) -> SchemaName {
        SchemaName::new(format!("org_{}", self.0))
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub schema: SchemaName,
    /// The shard it lives in; `None` for the main database.
    pub database: Option<String>,
    /// Labels a rollout can pick tenants by (`canary = ["tag:beta"]`).
    pub tags: Vec<String>,
}

/// Where the tenant list comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TenantSource {
    /// `[[tenant]]` entries.
    #[default]
    Listed,
    /// `public.enterprises.organization_id` of the main database.
    Enterprises,
}

/// A shard: another PostgreSQL database holding some tenants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shard {
    pub name: String,
    /// The environment variable holding its URL (never the URL itself, so
    /// no password is written in the file).
    pub url_env: String,
    /// Its own limits (a smaller server, say), over `[apply]`'s.
    pub concurrency: Option<u16>,
    pub heavy_concurrency: Option<u16>,
}

/// The tenants kschema manages, in file order.
#[derive(Clone, Debug, Default)]
pub struct TenantRegistry {
    pub tenants: Vec<Tenant>,
    pub source: TenantSource,
    /// Declared shards, by name.
    pub shards: Vec<Shard>,
    /// The file they came from, for diagnostics that point into it.
    pub file: Option<Arc<SourceFile>>,
}

impl TenantRegistry {
    /// Tenants read from the database (`source = "enterprises"`): ids that
    /// are not valid tenant ids are returned as problems, not silently
    /// dropped.
    pub fn with_tenants_from(&self, ids: &[String]) -> (TenantRegistry, Vec<String>) {
        let mut registry = self.clone();
        let mut rejected = Vec::new();
        registry.tenants.clear();
        let mut seen = std::collections::HashSet::new();
        for raw in ids {
            match TenantId::parse(raw) {
                Ok(id) => {
                    if seen.insert(id.as_str().to_string()) {
                        registry.tenants.push(Tenant {
                            schema: id.default_schema(),
                            id,
                            database: None,
                            tags: Vec::new(),
                        });
                    }
                }
                Err(reason) => rejected.push(format!("{raw:?}: {reason}")),
            }
        }
        (registry, rejected)
    }

    pub fn shard(&self, name: &str) -> Option<&Shard> {
        self.shards.iter().find(|s| s.name == name)
    }

    pub fn get(&self, id: &str) -> Option<&Tenant> {
        self.tenants.iter().find(|t| t.id.as_str() == id)
    }

    pub fn ids(&self) -> impl Iterator<Item = &TenantId> {
        self.tenants.iter().map(|t| &t.id)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryFile {
    #[serde(default)]
    tenant: Vec<Spanned<TenantEntry>>,
    #[serde(default)]
    source: Option<Spanned<String>>,
    #[serde(default)]
    databases: std::collections::BTreeMap<String, Spanned<DatabaseEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantEntry {
    id: Spanned<String>,
    #[serde(default)]
    schema: Option<Spanned<String>>,
    #[serde(default)]
    database: Option<Spanned<String>>,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DatabaseEntry {
    url_env: String,
    #[serde(default)]
    concurrency: Option<u16>,
    #[serde(default)]
    heavy_concurrency: Option<u16>,
}

/// Parses `tenants.toml`. Every problem in the file is reported at once.
pub fn parse_tenants(file: &Arc<SourceFile>) -> Result<TenantRegistry, Problem> {
    let parsed: RegistryFile = parse_toml(file)?;
    let mut problems = Vec::new();
    let mut tenants = Vec::new();
    let source = match &parsed.source {
        None => TenantSource::Listed,
        Some(value) if value.get_ref() == "enterprises" => TenantSource::Enterprises,
        Some(value) => {
            problems.push(
                Problem::new("kschema::tenants::source", format!("unknown tenant source {:?}", value.get_ref()))
                    .at(file, span(value.span()), "not a tenant source")
                    .with_help("leave `source` out to list tenants as [[tenant]] entries, or write source = \"enterprises\""),
            );
            TenantSource::Listed
        }
    };
    if source == TenantSource::Enterprises {
        if let Some(first) = parsed.tenant.first() {
            problems.push(
                Problem::new(
                    "kschema::tenants::source",
                    "tenants are read from enterprises, so [[tenant]] entries are not allowed",
                )
                .at(file, span(first.span()), "listed here")
                .with_help("remove the [[tenant]] entries, or remove `source`"),
            );
        }
    }
    let shards: Vec<Shard> = parsed
        .databases
        .iter()
        .map(|(name, entry)| Shard {
            name: name.clone(),
            url_env: entry.get_ref().url_env.clone(),
            concurrency: entry.get_ref().concurrency,
            heavy_concurrency: entry.get_ref().heavy_concurrency,
        })
        .collect();
    for (name, entry) in &parsed.databases {
        let limits = entry.get_ref();
        if limits.concurrency == Some(0) || limits.heavy_concurrency == Some(0) {
            problems.push(
                Problem::new(
                    "kschema::tenants::database",
                    format!("database {name:?} allows 0 of something at once"),
                )
                .at(file, span(entry.span()), "in this database")
                .with_help("concurrency and heavy_concurrency are at least 1 (leave them out for [apply]'s)"),
            );
        }
    }
    let mut seen_ids: BTreeMap<String, SourceSpan> = BTreeMap::new();
    let mut seen_schemas: BTreeMap<String, SourceSpan> = BTreeMap::new();

    for entry in parsed.tenant {
        let entry_span = entry.span();
        let entry = entry.into_inner();
        let id_span = span(entry.id.span());
        let id = match TenantId::parse(entry.id.get_ref()) {
            Ok(id) => id,
            Err(reason) => {
                problems.push(
                    Problem::new("kschema::tenants::invalid_id", format!("invalid tenant id {:?}", entry.id.get_ref()))
                        .at(file, id_span, reason)
                        .with_help("tenant ids are 1 to 48 characters of a-z, 0-9 and _ (the schema is org_<id>)"),
                );
                continue;
            }
        };
        if let Some(first) = seen_ids.insert(id.to_string(), id_span) {
            problems.push(
                Problem::new(
                    "kschema::tenants::duplicate_id",
                    format!("tenant {id} is listed twice"),
                )
                .at(file, id_span, "listed again here")
                .also(first, "first listed here")
                .with_help("remove one of the two entries"),
            );
            continue;
        }
        let (schema, schema_span) = match &entry.schema {
            Some(schema) => {
                let schema_span = span(schema.span());
                if let Err(reason) = check_schema_name(schema.get_ref()) {
                    problems.push(
                        Problem::new(
                            "kschema::tenants::invalid_schema",
                            format!(
                                "invalid schema name \"{}\" for tenant {id}",
                                crate::escape::printable(schema.get_ref())
                            ),
                        )
                        .at(file, schema_span, reason)
                        .with_help("leave `schema` out to use the default, org_<id>"),
                    );
                    continue;
                }
                (SchemaName::new(schema.get_ref().clone()), schema_span)
            }
            None => (id.default_schema(), span(entry_span)),
        };
        if let Some(first) = seen_schemas.insert(schema.to_string(), schema_span) {
            problems.push(
                Problem::new(
                    "kschema::tenants::duplicate_schema",
                    format!("two tenants share the schema {schema}"),
                )
                .at(file, schema_span, "this tenant's schema")
                .also(first, "is already this tenant's")
                .with_help("every tenant needs a schema of its own"),
            );
            continue;
        }
        let database = match &entry.database {
            Some(name) if parsed.databases.contains_key(name.get_ref()) => {
                Some(name.get_ref().clone())
            }
            Some(name) => {
                let known: Vec<&str> = parsed.databases.keys().map(|k| k.as_str()).collect();
                problems.push(
                    Problem::new(
                        "kschema::tenants::database",
                        format!(
                            "tenant {id} is in database {:?}, which is not declared",
                            name.get_ref()
                        ),
                    )
                    .at(
                        file,
                        span(name.span()),
                        "no [databases.…] entry with this name",
                    )
                    .with_help(if known.is_empty() {
                        format!(
                            "declare it: [databases.{}] url_env = \"DATABASE_URL_…\"",
                            name.get_ref()
                        )
                    } else {
                        format!("declared databases: {}", known.join(", "))
                    }),
                );
                continue;
            }
            None => None,
        };
        tenants.push(Tenant {
            id,
            schema,
            database,
            tags: entry.tags.clone(),
        });
    }
    match Problem::combine(problems) {
        Some(problem) => Err(problem),
        None => Ok(TenantRegistry {
            tenants,
            source,
            shards,
            file: Some(file.clone()),
        }),
    }
}

fn check_schema_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a schema name cannot be empty".into());
    }
    if name.len() > MAX_IDENT_BYTES {
        return Err(format!(
            "PostgreSQL names have at most {MAX_IDENT_BYTES} bytes; this one has {}",
            name.len()
        ));
    }
    if let Some(c) = name.chars().find(|&c| crate::escape::is_unsafe_char(c)) {
        return Err(format!(
            "schema names cannot hold control or invisible characters (this one has {})",
            crate::escape::printable(&c.to_string())
        ));
    }
    if name.starts_with("pg_") {
        return Err("names starting with pg_ are reserved for PostgreSQL".into());
    }
    if matches!(name, "public" | "information_schema" | "kschema") {
        return Err(format!("{name} is not a tenant schema"));
    }
    Ok(())
}

fn span(range: std::ops::Range<usize>) -> SourceSpan {
    SourceSpan::new(range.start.into(), range.end.saturating_sub(range.start))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<TenantRegistry, Problem> {
        parse_tenants(&SourceFile::new("tenants.toml", text))
    }

    #[test]
    fn every_unknown_key_is_reported_at_once() {
        let problem = parse(
            "[[tenant]]\nid = \"abc\"\nshcema = \"x\"\n\n[[tenant]]\nid = \"def\"\ndatabse = \"eu\"\n",
        )
        .unwrap_err();
        let lines: Vec<usize> = std::iter::once(&problem)
            .chain(&problem.related)
            .filter_map(Problem::line)
            .collect();
        assert_eq!(lines, [3, 7], "{problem:?}");
        assert!(problem.labels[0].text.contains("shcema"), "{problem:?}");
        assert!(problem.related[0].labels[0].text.contains("databse"));
    }

    #[test]
    fn schema_defaults_to_org_id() {
        let registry =
            parse("[[tenant]]\nid = \"abc123\"\n\n[[tenant]]\nid = \"x\"\nschema = \"custom\"\n")
                .unwrap();
        let schemas: Vec<_> = registry
            .tenants
            .iter()
            .map(|t| t.schema.to_string())
            .collect();
        assert_eq!(schemas, ["org_abc123", "custom"]);
    }

    #[test]
    fn bad_ids_are_rejected_at_their_line() {
        let problem =
            parse("[[tenant]]\nid = \"ok\"\n\n[[tenant]]\nid = \"Bad-Id\"\n").unwrap_err();
        assert_eq!(problem.code, "kschema::tenants::invalid_id");
        assert_eq!(problem.line(), Some(5));
        let long = "a".repeat(49);
        assert!(parse(&format!("[[tenant]]\nid = \"{long}\"\n")).is_err());
        assert!(parse(&format!("[[tenant]]\nid = \"{}\"\n", &long[..48])).is_ok());
    }

    #[test]
    fn duplicates_and_unknown_keys_are_rejected() {
        let dup = parse("[[tenant]]\nid = \"a\"\n[[tenant]]\nid = \"a\"\n").unwrap_err();
        assert_eq!(dup.code, "kschema::tenants::duplicate_id");
        let unknown = parse("[[tenant]]\nid = \"a\"\nshema = \"x\"\n").unwrap_err();
        assert_eq!(unknown.code, "kschema::toml");
        assert_eq!(unknown.line(), Some(3));
    }
}
