//! `schema/mongo/<collection>.toml`: a MongoDB collection's validator,
//! validation level and action, and indexes. The validator may instead sit
//! in `<collection>.json` beside it, as copied from MongoDB's docs.
//!
//! ```toml
//! validation_level = "strict"       # optional: strict (default), moderate, off
//! validation_action = "error"       # optional: error (default), warn
//!
//! [validator."$jsonSchema"]
//! bsonType = "object"
//! required = ["organization_id"]
//!
//! [[index]]
//! keys = [["organization_id", 1], ["created_at", -1]]
//! # name, unique, sparse, partial_filter = { … }, expire_after_seconds = 3600
//! ```

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use miette::SourceSpan;
use serde::Deserialize;
use serde_json::Value as Json;
use toml::Spanned;

use super::parse_toml;
use crate::diagnostic::{Problem, SourceFile};
use crate::mongo::{canonical, Collection, MongoIndex, DEFAULT_ACTION, DEFAULT_LEVEL};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CollectionFile {
    name: Option<String>,
    validation_level: Option<Spanned<String>>,
    validation_action: Option<Spanned<String>>,
    validator: Option<Spanned<toml::Table>>,
    #[serde(default)]
    index: Vec<Spanned<IndexEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IndexEntry {
    keys: Spanned<Vec<(String, toml::Value)>>,
    name: Option<String>,
    #[serde(default)]
    unique: bool,
    #[serde(default)]
    sparse: bool,
    partial_filter: Option<toml::Table>,
    expire_after_seconds: Option<Spanned<i64>>,
}

/// Parses one collection file; `json` is the `<collection>.json` beside it.
pub fn parse_collection(
    file: &Arc<SourceFile>,
    json: Option<&Arc<SourceFile>>,
) -> Result<Collection, Problem> {
    let parsed: CollectionFile = parse_toml(file)?;
    let name = parsed.name.clone().unwrap_or_else(|| {
        Path::new(&file.name)
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default()
    });
    let mut problems = Vec::new();
    let choice = |value: &Option<Spanned<String>>,
                  allowed: &[&str],
                  default: &str,
                  what: &str,
                  problems: &mut Vec<Problem>| {
        match value {
            None => default.to_string(),
            Some(v) if allowed.contains(&v.get_ref().as_str()) => v.get_ref().clone(),
            Some(v) => {
                problems.push(
                    Problem::new(
                        "kschema::mongo::option",
                        format!("{what} {:?} is not one MongoDB knows", v.get_ref()),
                    )
                    .at(
                        file,
                        span(v.span()),
                        format!("expected one of {}", allowed.join(", ")),
                    )
                    .with_help(format!("leave it out for the default, {default}")),
                );
                default.to_string()
            }
        }
    };
    let level = choice(
        &parsed.validation_level,
        &["strict", "moderate", "off"],
        DEFAULT_LEVEL,
        "validation_level",
        &mut problems,
    );
    let action = choice(
        &parsed.validation_action,
        &["error", "warn"],
        DEFAULT_ACTION,
        "validation_action",
        &mut problems,
    );

    let validator = match (&parsed.validator, json) {
        (Some(inline), Some(json)) => {
            problems.push(
                Problem::new(
                    "kschema::mongo::validator",
                    format!("collection {name} has two validators"),
                )
                .at(
                    file,
                    span(inline.span()),
                    format!("one here, one in {}", json.name),
                )
                .with_help("keep the validator in one place"),
            );
            None
        }
        (Some(inline), None) => Some(canonical(&toml_to_json(&toml::Value::Table(
            inline.get_ref().clone(),
        )))),
        (None, Some(json)) => match serde_json::from_str::<Json>(json.text()) {
            Ok(value) if value.is_object() => Some(canonical(&value)),
            Ok(_) => {
                problems.push(
                    Problem::new(
                        "kschema::mongo::validator",
                        format!("{} is not a JSON object", json.name),
                    )
                    .at(
                        json,
                        json.span_at(1, 1, 1),
                        "a validator is an object, like {\"$jsonSchema\": {…}}",
                    ),
                );
                None
            }
            Err(e) => {
                problems.push(
                    Problem::new(
                        "kschema::mongo::json",
                        format!("{} is not valid JSON", json.name),
                    )
                    .at(
                        json,
                        json.span_at(e.line() as u64, e.column() as u64, 1),
                        e.to_string(),
                    )
                    .with_help(
                        "the file holds the validator document, e.g. {\"$jsonSchema\": {…}}",
                    ),
                );
                None
            }
        },
        (None, None) => None,
    };

    let mut indexes = Vec::new();
    let mut seen: BTreeMap<String, SourceSpan> = BTreeMap::new();
    for entry in &parsed.index {
        let entry_span = span(entry.span());
        let entry = entry.get_ref();
        if entry.keys.get_ref().is_empty() {
            problems.push(
                Problem::new("kschema::mongo::index", format!("an index of {name} has no keys"))
                    .at(file, span(entry.keys.span()), "empty")
                    .with_help("keys = [[\"field\", 1]] — 1 ascending, -1 descending, or \"text\", \"hashed\", \"2dsphere\""),
            );
            continue;
        }
        let mut keys = Vec::new();
        for (field, direction) in entry.keys.get_ref() {
            let direction = match direction {
                toml::Value::Integer(1) | toml::Value::Integer(-1) => {
                    Json::from(direction.as_integer().unwrap_or(1))
                }
                toml::Value::String(s)
                    if ["text", "hashed", "2d", "2dsphere"].contains(&s.as_str()) =>
                {
                    Json::String(s.clone())
                }
                other => {
                    problems.push(
                        Problem::new(
                            "kschema::mongo::index",
                            format!("index key {field} of {name} has direction {other}"),
                        )
                        .at(
                            file,
                            span(entry.keys.span()),
                            "1, -1, \"text\", \"hashed\", \"2d\" or \"2dsphere\"",
                        )
                        .with_help("keys = [[\"field\", 1], [\"other\", -1]]"),
                    );
                    continue;
                }
            };
            keys.push((field.clone(), direction));
        }
        if let Some(seconds) = &entry.expire_after_seconds {
            if *seconds.get_ref() < 0 || keys.len() != 1 {
                problems.push(
                    Problem::new(
                        "kschema::mongo::ttl",
                        format!("a TTL index of {name} needs one key and seconds ≥ 0"),
                    )
                    .at(file, span(seconds.span()), "here")
                    .with_help(
                        "expire_after_seconds applies to single-field indexes on a date field",
                    ),
                );
            }
        }
        let index = MongoIndex {
            name: entry.name.clone(),
            keys,
            unique: entry.unique,
            sparse: entry.sparse,
            partial_filter: entry
                .partial_filter
                .as_ref()
                .map(|f| canonical(&toml_to_json(&toml::Value::Table(f.clone())))),
            expire_after_seconds: entry.expire_after_seconds.as_ref().map(|s| *s.get_ref()),
        };
        let identity = serde_json::to_string(&(
            &index.keys,
            index.unique,
            index.sparse,
            &index.partial_filter,
            index.expire_after_seconds,
        ))
        .unwrap_or_default();
        if let Some(first) = seen.insert(identity, entry_span) {
            problems.push(
                Problem::new(
                    "kschema::mongo::duplicate_index",
                    format!("two indexes of {name} have the same keys and options"),
                )
                .at(file, entry_span, "declared again here")
                .also(first, "first declared here")
                .with_help("remove one of them"),
            );
        }
        indexes.push(index);
    }
    if let Some(problem) = Problem::combine(problems) {
        return Err(problem);
    }
    indexes.sort_by_key(|i| serde_json::to_string(&(&i.keys, &i.name)).unwrap_or_default());
    Ok(Collection {
        name,
        validator,
        validation_level: level,
        validation_action: action,
        indexes,
    })
}

fn toml_to_json(value: &toml::Value) -> Json {
    match value {
        toml::Value::String(s) => Json::String(s.clone()),
        toml::Value::Integer(n) => Json::from(*n),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(Json::Number)
            .unwrap_or(Json::Null),
        toml::Value::Boolean(b) => Json::Bool(*b),
        toml::Value::Datetime(d) => Json::String(d.to_string()),
        toml::Value::Array(items) => Json::Array(items.iter().map(toml_to_json).collect()),
        toml::Value::Table(table) => Json::Object(
            table
                .iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

fn span(range: std::ops::Range<usize>) -> SourceSpan {
    SourceSpan::new(range.start.into(), range.end.saturating_sub(range.start))
}
