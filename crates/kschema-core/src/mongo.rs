//! MongoDB collections as desired state: `$jsonSchema` validators,
//! validation level and action, and indexes — loaded, compared semantically
//! with the live database, and planned as database commands.
//!
//! Semantic comparison: key order inside a validator does not matter,
//! `required` is a set, numbers compare by value (int, long and double
//! alike), an undeclared level/action means the server's default
//! (`strict`/`error`), and an index is its keys and options, not its name.
//!
//! Longer than ~600 lines: MongoDB's model, comparison and commands in one
//! room, on purpose isolated from the SQL side; splitting it by layer is
//! part of issue 11.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};

use crate::hazard::{Hazard, HazardKind};

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

    fn spec(&self) -> Json {
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

    fn describe(&self) -> String {
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

/// One difference, as a step: its description, the database command that
/// makes it, and its hazards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MongoStep {
    pub description: String,
    pub collection: String,
    /// The command document, for `db.runCommand`.
    pub command: Json,
    pub hazards: Vec<Hazard>,
}

/// The steps that take `live` (absent: the database is empty) to `desired`.
/// Collections the desired state does not declare are left alone: dropping
/// one is never planned.
pub fn plan_mongo(live: Option<&MongoState>, desired: &[Collection]) -> Vec<MongoStep> {
    let empty = MongoState::default();
    let live = live.unwrap_or(&empty);
    let mut steps = Vec::new();
    for want in desired {
        match live.collections.get(&want.name) {
            None => {
                let mut command = Map::new();
                command.insert("create".into(), Json::String(want.name.clone()));
                if let Some(validator) = &want.validator {
                    command.insert("validator".into(), validator.clone());
                }
                command.insert(
                    "validationLevel".into(),
                    Json::String(want.validation_level.clone()),
                );
                command.insert(
                    "validationAction".into(),
                    Json::String(want.validation_action.clone()),
                );
                steps.push(MongoStep {
                    description: format!(
                        "+ create collection {}{}",
                        want.name,
                        if want.validator.is_some() {
                            " with its validator"
                        } else {
                            ""
                        }
                    ),
                    collection: want.name.clone(),
                    command: Json::Object(command),
                    hazards: vec![],
                });
                for index in &want.indexes {
                    steps.push(create_index(&want.name, index, false));
                }
            }
            Some(have) => {
                if let Some(step) = modify(have, want) {
                    steps.push(step);
                }
                plan_indexes(have, want, &mut steps);
            }
        }
    }
    steps
}

fn modify(have: &Collection, want: &Collection) -> Option<MongoStep> {
    let validator_changes = have.validator != want.validator;
    let level_changes = have.validation_level != want.validation_level;
    let action_changes = have.validation_action != want.validation_action;
    if !validator_changes && !level_changes && !action_changes {
        return None;
    }
    let mut command = Map::new();
    command.insert("collMod".into(), Json::String(want.name.clone()));
    let mut what = Vec::new();
    let mut hazards = Vec::new();
    if validator_changes {
        command.insert(
            "validator".into(),
            want.validator
                .clone()
                .unwrap_or_else(|| Json::Object(Map::new())),
        );
        what.push(if want.validator.is_none() {
            "remove validator".to_string()
        } else {
            "change validator".to_string()
        });
        if want.validator.is_some() {
            hazards.push(Hazard::new(
                HazardKind::RejectsDocuments,
                format!("existing documents of {} may not satisfy the new validator; updates to them are then rejected", want.name),
            ));
        }
    }
    if level_changes {
        command.insert(
            "validationLevel".into(),
            Json::String(want.validation_level.clone()),
        );
        what.push(format!(
            "validationLevel {} → {}",
            have.validation_level, want.validation_level
        ));
        if want.validation_level == "strict" && !validator_changes && want.validator.is_some() {
            hazards.push(Hazard::new(
                HazardKind::RejectsDocuments,
                format!(
                    "strict validation applies the validator to every update of {}",
                    want.name
                ),
            ));
        }
    }
    if action_changes {
        command.insert(
            "validationAction".into(),
            Json::String(want.validation_action.clone()),
        );
        what.push(format!(
            "validationAction {} → {}",
            have.validation_action, want.validation_action
        ));
        if want.validation_action == "error" && !validator_changes && want.validator.is_some() {
            hazards.push(Hazard::new(
                HazardKind::RejectsDocuments,
                format!(
                    "invalid writes to {} are rejected instead of logged",
                    want.name
                ),
            ));
        }
    }
    Some(MongoStep {
        description: format!("~ modify collection {}: {}", want.name, what.join(", ")),
        collection: want.name.clone(),
        command: Json::Object(command),
        hazards,
    })
}

fn plan_indexes(have: &Collection, want: &Collection, steps: &mut Vec<MongoStep>) {
    let mut used = vec![false; have.indexes.len()];
    let mut creates = Vec::new();
    let mut drops = Vec::new();
    for index in &want.indexes {
        let same = have
            .indexes
            .iter()
            .enumerate()
            .position(|(i, h)| !used[i] && h.same_definition(index));
        match same {
            Some(i) => {
                used[i] = true;
                // A declared name that differs renames: build the new one,
                // then drop the old (MongoDB cannot rename an index).
                if let Some(name) = &index.name {
                    if have.indexes[i].effective_name() != *name {
                        creates.push(create_index(&want.name, index, true));
                        drops.push(drop_index(&want.name, &have.indexes[i], Some("renamed")));
                    }
                }
            }
            None => {
                // Same name, other keys or options: an option change.
                let replaced =
                    have.indexes.iter().enumerate().position(|(i, h)| {
                        !used[i] && h.effective_name() == index.effective_name()
                    });
                if let Some(i) = replaced {
                    used[i] = true;
                    drops.push(drop_index(
                        &want.name,
                        &have.indexes[i],
                        Some("its keys or options change: dropped and built again"),
                    ));
                }
                creates.push(create_index(&want.name, index, replaced.is_some()));
            }
        }
    }
    for (i, index) in have.indexes.iter().enumerate() {
        if !used[i] {
            drops.push(drop_index(&want.name, index, None));
        }
    }
    // Drops of a name that is built again go first; the rest after the builds.
    let (first, later): (Vec<MongoStep>, Vec<MongoStep>) = drops.into_iter().partition(|d| {
        creates
            .iter()
            .any(|c| c.command["indexes"][0]["name"] == d.command["index"])
    });
    steps.extend(first);
    steps.extend(creates);
    steps.extend(later);
}

fn create_index(collection: &str, index: &MongoIndex, replaces: bool) -> MongoStep {
    let mut hazards = vec![Hazard::new(
        HazardKind::BuildsIndex,
        format!(
            "builds index {} over every document of {collection}",
            index.effective_name()
        ),
    )];
    if let Some(seconds) = index.expire_after_seconds {
        hazards.push(Hazard::new(
            HazardKind::DeletesData,
            format!("the server deletes documents of {collection} older than {seconds}s"),
        ));
    }
    let mut command = Map::new();
    command.insert("createIndexes".into(), Json::String(collection.to_string()));
    command.insert("indexes".into(), Json::Array(vec![index.spec()]));
    MongoStep {
        description: format!(
            "+ create index {} on {collection}{}",
            index.describe(),
            if replaces { " (replacing)" } else { "" }
        ),
        collection: collection.to_string(),
        command: Json::Object(command),
        hazards,
    }
}

fn drop_index(collection: &str, index: &MongoIndex, why: Option<&str>) -> MongoStep {
    let name = index.effective_name();
    let mut hazards = vec![Hazard::new(
        HazardKind::DropsIndex,
        format!("queries on {collection} that use index {name} lose it"),
    )];
    if index.unique {
        hazards.push(Hazard::new(
            HazardKind::DeletesData,
            format!(
                "without unique index {name}, {collection} accepts duplicates it refused until now"
            ),
        ));
    }
    let mut command = Map::new();
    command.insert("dropIndexes".into(), Json::String(collection.to_string()));
    command.insert("index".into(), Json::String(name.clone()));
    MongoStep {
        description: format!(
            "- drop index {} on {collection}{}",
            index.describe(),
            why.map(|w| format!(" — {w}")).unwrap_or_default()
        ),
        collection: collection.to_string(),
        command: Json::Object(command),
        hazards,
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn collection(validator: Json, indexes: Vec<MongoIndex>) -> Collection {
        Collection {
            name: "c".into(),
            validator: Some(canonical(&validator)),
            validation_level: DEFAULT_LEVEL.into(),
            validation_action: DEFAULT_ACTION.into(),
            indexes,
        }
    }

    fn index(keys: &[(&str, i64)], name: Option<&str>) -> MongoIndex {
        MongoIndex {
            name: name.map(str::to_string),
            keys: keys
                .iter()
                .map(|(f, d)| (f.to_string(), json!(d)))
                .collect(),
            unique: false,
            sparse: false,
            partial_filter: None,
            expire_after_seconds: None,
        }
    }

    #[test]
    fn validators_compare_semantically() {
        let a = json!({"$jsonSchema": {"required": ["b", "a"], "bsonType": "object", "properties": {"n": {"minimum": 1.0}}}});
        let b = json!({"$jsonSchema": {"bsonType": "object", "properties": {"n": {"minimum": 1}}, "required": ["a", "b"]}});
        assert_eq!(canonical(&a), canonical(&b));
        let c = json!({"$jsonSchema": {"bsonType": "object", "required": ["a"]}});
        assert_ne!(canonical(&a), canonical(&c));
    }

    #[test]
    fn an_index_is_its_keys_and_options_not_its_name() {
        let live = collection(json!({}), vec![index(&[("org", 1)], Some("org_1"))]);
        // Unnamed desired index with the same keys: nothing to do.
        let same = collection(json!({}), vec![index(&[("org", 1)], None)]);
        assert!(plan_mongo(
            Some(&MongoState {
                collections: [("c".into(), live.clone())].into()
            }),
            &[same]
        )
        .is_empty());
        // Declared with another name: a rename (build, then drop).
        let renamed = collection(json!({}), vec![index(&[("org", 1)], Some("by_org"))]);
        let steps = plan_mongo(
            Some(&MongoState {
                collections: [("c".into(), live)].into(),
            }),
            &[renamed],
        );
        assert_eq!(steps.len(), 2);
        assert!(steps[0].description.starts_with("+ create index by_org"));
        assert!(steps[1].description.starts_with("- drop index org_1"));
    }
}

/// The steps for one MongoDB database.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MongoTargetPlan {
    pub database: String,
    /// The tenant, when each tenant has a database of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// [`MongoState::fingerprint`] of the database when the plan was made.
    pub live_fingerprint: String,
    pub steps: Vec<MongoStep>,
    /// `--count-invalid`: documents each tightened validator would reject.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invalid_documents: Vec<(String, u64)>,
}

/// The MongoDB part of a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MongoPlan {
    /// The deployment (password removed), or a snapshot.
    pub source: String,
    /// Why MongoDB was not planned (no URI given), if it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    pub targets: Vec<MongoTargetPlan>,
}

impl MongoPlan {
    pub fn skipped(reason: impl Into<String>) -> MongoPlan {
        MongoPlan {
            source: String::new(),
            skipped: Some(reason.into()),
            targets: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.targets.iter().all(|t| t.steps.is_empty())
    }

    pub fn change_count(&self) -> usize {
        self.targets.iter().map(|t| t.steps.len()).sum()
    }

    /// Hazards the policy does not allow, with the database they are in.
    pub fn blocked(&self, policy: &crate::hazard::HazardPolicy) -> Vec<(String, Vec<&Hazard>)> {
        self.targets
            .iter()
            .filter_map(|t| {
                let hazards: Vec<&Hazard> = t
                    .steps
                    .iter()
                    .flat_map(|s| &s.hazards)
                    .filter(|h| !policy.allows(h.kind))
                    .collect();
                (!hazards.is_empty()).then(|| (format!("MongoDB {}", t.database), hazards))
            })
            .collect()
    }

    /// Groups of databases with the same steps, in order.
    pub fn groups(&self) -> Vec<(Vec<&MongoTargetPlan>, &[MongoStep])> {
        let mut groups: Vec<(Vec<&MongoTargetPlan>, &[MongoStep])> = Vec::new();
        for target in &self.targets {
            match groups
                .iter_mut()
                .find(|(_, steps)| *steps == target.steps.as_slice())
            {
                Some((targets, _)) => targets.push(target),
                None => groups.push((vec![target], &target.steps)),
            }
        }
        groups
    }
}

/// The MongoDB section of a text plan.
pub fn render_mongo_text(plan: &MongoPlan, policy: &crate::hazard::HazardPolicy) -> String {
    use crate::escape::printable;
    use std::fmt::Write;
    let mut out = String::new();
    if let Some(reason) = &plan.skipped {
        let _ = writeln!(out, "MongoDB: skipped — {}\n", printable(reason));
        return out;
    }
    let _ = writeln!(out, "MongoDB: {}\n", printable(&plan.source));
    for (targets, steps) in plan.groups() {
        let title = match targets.as_slice() {
            [one] => format!("database {}", one.database),
            many => format!(
                "{} databases ({})",
                many.len(),
                many.iter()
                    .take(10)
                    .map(|t| t.database.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let title = printable(&title);
        if steps.is_empty() {
            let _ = writeln!(out, "{title}: up to date");
            continue;
        }
        let _ = writeln!(
            out,
            "{title}: {} change{}",
            steps.len(),
            if steps.len() == 1 { "" } else { "s" }
        );
        for step in steps {
            let _ = writeln!(out, "  {}", printable(&step.description));
            for hazard in &step.hazards {
                let gate = if policy.allows(hazard.kind) {
                    String::new()
                } else {
                    format!("  [blocked: needs --allow-hazard {}]", hazard.kind)
                };
                let _ = writeln!(
                    out,
                    "      ! {}: {}{gate}",
                    hazard.kind,
                    printable(&hazard.message)
                );
            }
        }
        for target in &targets {
            for (collection, count) in &target.invalid_documents {
                let _ = writeln!(
                    out,
                    "  {} document{} of {} would not pass the new validator",
                    count,
                    if *count == 1 { "" } else { "s" },
                    printable(&format!("{}.{collection}", target.database))
                );
            }
        }
    }
    out.push('\n');
    out
}

/// A collection as desired-state files, for `kschema inspect`:
/// `<name>.toml` (levels, indexes) and, when it has a validator,
/// `<name>.json` holding it (JSON keeps every validator exactly, TOML
/// cannot hold a null).
pub fn collection_files(collection: &Collection) -> Result<(String, Option<String>), String> {
    let mut out = String::new();
    if collection.validation_level != DEFAULT_LEVEL {
        out.push_str(&format!(
            "validation_level = {:?}\n",
            collection.validation_level
        ));
    }
    if collection.validation_action != DEFAULT_ACTION {
        out.push_str(&format!(
            "validation_action = {:?}\n",
            collection.validation_action
        ));
    }
    for index in &collection.indexes {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str("[[index]]\n");
        let keys: Vec<String> = index
            .keys
            .iter()
            .map(|(field, direction)| format!("[{}, {direction}]", Json::String(field.clone())))
            .collect();
        out.push_str(&format!("keys = [{}]\n", keys.join(", ")));
        if let Some(name) = index.name.as_ref().filter(|n| **n != index.default_name()) {
            out.push_str(&format!("name = {}\n", Json::String(name.clone())));
        }
        if index.unique {
            out.push_str("unique = true\n");
        }
        if index.sparse {
            out.push_str("sparse = true\n");
        }
        if let Some(filter) = &index.partial_filter {
            let value = toml::Value::try_from(filter).map_err(|e| {
                format!(
                    "the partial filter of index {} cannot be written as TOML: {e}",
                    index.effective_name()
                )
            })?;
            // Display writes a value inline: `{ status = { "$exists" = true } }`.
            out.push_str(&format!("partial_filter = {value}\n"));
        }
        if let Some(seconds) = index.expire_after_seconds {
            out.push_str(&format!("expire_after_seconds = {seconds}\n"));
        }
    }
    let json = collection
        .validator
        .as_ref()
        .map(|v| serde_json::to_string_pretty(v).map(|text| text + "\n"))
        .transpose()
        .map_err(|e| e.to_string())?;
    Ok((out, json))
}
