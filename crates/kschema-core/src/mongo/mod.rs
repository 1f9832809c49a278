//! MongoDB collections as desired state: `$jsonSchema` validators,
//! validation level and action, and indexes — loaded, compared semantically
//! with the live database, and planned as database commands.
//!
//! Semantic comparison: key order inside a validator does not matter,
//! `required` is a set, numbers compare by value (int, long and double
//! alike), an undeclared level/action means the server's default
//! (`strict`/`error`), and an index is its keys and options, not its name.
//!
//! A room of its own, isolated from the SQL side, with the SQL side's
//! layers inside it: the model and live reading here, `diff` (live against
//! declared → `MongoChange`s), `plan` (changes → commands and hazards),
//! `render` (the text plan's section) and `files` (what `inspect` writes).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};

mod diff;
mod files;
mod plan;
mod render;

pub use diff::{diff_mongo, MongoChange};
pub use files::collection_files;
pub use plan::{plan_mongo, MongoPlan, MongoStep, MongoTargetPlan};
pub use render::render_mongo_text;

/// One collection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collection {
    pub name: String,
    /// The validator document (`{"$jsonSchema": …}`), canonical.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator: Option<Json>,
    /// `strict`, `moderate` or `off`.
    pub validation_level: String,
    /// `error` or `warn`.
    pub validation_action: String,
    /// Secondary indexes (never `_id_`), sorted by their keys and options.
    #[serde(default)]
    pub indexes: Vec<MongoIndex>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MongoIndex {
    /// Declared or live name; not part of an index's identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// In order: field → 1, -1, "text", "2dsphere", …
    pub keys: Vec<(String, Json)>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub unique: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub sparse: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial_filter: Option<Json>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire_after_seconds: Option<i64>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl MongoIndex {
    /// Keys and options: what makes two indexes the same.
    pub fn same_definition(&self, other: &MongoIndex) -> bool {
        self.keys == other.keys
            && self.unique == other.unique
            && self.sparse == other.sparse
            && self.partial_filter == other.partial_filter
            && self.expire_after_seconds == other.expire_after_seconds
    }

    /// The name MongoDB gives an unnamed index: `field_1_other_-1`.
    pub fn default_name(&self) -> String {
        self.keys
            .iter()
            .map(|(field, direction)| {
                let d = match direction {
                    Json::Number(n) => n.to_string(),
                    Json::String(s) => s.clone(),
                    other => other.to_string(),
                };
                format!("{field}_{d}")
            })
            .collect::<Vec<_>>()
            .join("_")
    }

    pub fn effective_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.default_name())
    }

    pub(crate) fn spec(&self) -> Json {
        let mut spec = Map::new();
        let keys: Map<String, Json> = self.keys.iter().cloned().collect();
        spec.insert("key".into(), Json::Object(keys));
        spec.insert("name".into(), Json::String(self.effective_name()));
        if self.unique {
            spec.insert("unique".into(), Json::Bool(true));
        }
        if self.sparse {
            spec.insert("sparse".into(), Json::Bool(true));
        }
        if let Some(filter) = &self.partial_filter {
            spec.insert("partialFilterExpression".into(), filter.clone());
        }
        if let Some(seconds) = self.expire_after_seconds {
            spec.insert("expireAfterSeconds".into(), Json::from(seconds));
        }
        Json::Object(spec)
    }

    pub(crate) fn describe(&self) -> String {
        let keys: Vec<String> = self.keys.iter().map(|(f, d)| format!("{f}: {d}")).collect();
        let mut options = Vec::new();
        if self.unique {
            options.push("unique".to_string());
        }
        if self.sparse {
            options.push("sparse".to_string());
        }
        if let Some(seconds) = self.expire_after_seconds {
            options.push(format!("expires after {seconds}s"));
        }
        if self.partial_filter.is_some() {
            options.push("partial".to_string());
        }
        let options = if options.is_empty() {
            String::new()
        } else {
            format!(" ({})", options.join(", "))
        };
        format!("{} {{{}}}{options}", self.effective_name(), keys.join(", "))
    }
}

/// A database's collections, as introspected.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MongoState {
    pub collections: BTreeMap<String, Collection>,
}

impl MongoState {
    /// SHA-256 of the canonical state, for saved plans.
    pub fn fingerprint(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        Sha256::digest(&json)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Canonical JSON: object keys sorted, `required` arrays sorted, numbers
/// with an integral value written as integers.
pub fn canonical(value: &Json) -> Json {
    canonical_under(value, "")
}

fn canonical_under(value: &Json, key: &str) -> Json {
    match value {
        Json::Object(map) => {
            let sorted: BTreeMap<String, Json> = map
                .iter()
                .map(|(k, v)| (k.clone(), canonical_under(v, k)))
                .collect();
            Json::Object(sorted.into_iter().collect())
        }
        Json::Array(items) => {
            let mut items: Vec<Json> = items.iter().map(|v| canonical_under(v, "")).collect();
            if key == "required" {
                items.sort_by_key(|v| v.to_string());
                items.dedup();
            }
            Json::Array(items)
        }
        Json::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Json::from(f as i64),
            _ => value.clone(),
        },
        other => other.clone(),
    }
}

/// What the server assumes when a collection declares no level/action.
pub const DEFAULT_LEVEL: &str = "strict";
pub const DEFAULT_ACTION: &str = "error";

/// A live collection from `listCollections` and `listIndexes` (as JSON).
pub fn collection_from_live(name: &str, options: &Json, indexes: &[Json]) -> Collection {
    let validator = options
        .get("validator")
        .filter(|v| v.as_object().is_some_and(|m| !m.is_empty()))
        .map(canonical);
    let level = options
        .get("validationLevel")
        .and_then(|v| v.as_str())
        .unwrap_or(DEFAULT_LEVEL);
    let action = options
        .get("validationAction")
        .and_then(|v| v.as_str())
        .unwrap_or(DEFAULT_ACTION);
    let mut live_indexes: Vec<MongoIndex> = indexes
        .iter()
        .filter(|spec| spec.get("name").and_then(|n| n.as_str()) != Some("_id_"))
        .map(|spec| MongoIndex {
            name: spec
                .get("name")
                .and_then(|n| n.as_str())
                .map(str::to_string),
            keys: spec
                .get("key")
                .and_then(|k| k.as_object())
                .map(|k| k.iter().map(|(f, d)| (f.clone(), canonical(d))).collect())
                .unwrap_or_default(),
            unique: spec
                .get("unique")
                .and_then(|u| u.as_bool())
                .unwrap_or(false),
            sparse: spec
                .get("sparse")
                .and_then(|u| u.as_bool())
                .unwrap_or(false),
            partial_filter: spec.get("partialFilterExpression").map(canonical),
            expire_after_seconds: spec
                .get("expireAfterSeconds")
                .and_then(|n| n.as_f64())
                .map(|f| f as i64),
        })
        .collect();
    live_indexes.sort_by_key(|i| serde_json::to_string(&(&i.keys, &i.name)).unwrap_or_default());
    Collection {
        name: name.to_string(),
        validator,
        validation_level: level.to_string(),
        validation_action: action.to_string(),
        indexes: live_indexes,
    }
}
