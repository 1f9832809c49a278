//! Each change → the database command that makes it, its description and
//! its hazards; the plan for every MongoDB database of a run.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use super::diff::{diff_mongo, MongoChange};
use super::{Collection, MongoIndex, MongoState};
use crate::hazard::{Hazard, HazardKind};

/// One change, as a step: its description, the database command that
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
pub fn plan_mongo(live: Option<&MongoState>, desired: &[Collection]) -> Vec<MongoStep> {
    diff_mongo(live, desired).iter().map(step).collect()
}

fn step(change: &MongoChange) -> MongoStep {
    match change {
        MongoChange::CreateCollection { collection } => create_collection(collection),
        MongoChange::ModifyCollection { from, to } => modify(from, to),
        MongoChange::CreateIndex {
            collection,
            index,
            replaces,
        } => create_index(collection, index, *replaces),
        MongoChange::DropIndex {
            collection,
            index,
            why,
        } => drop_index(collection, index, *why),
    }
}

fn create_collection(want: &Collection) -> MongoStep {
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
    MongoStep {
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
    }
}

fn modify(have: &Collection, want: &Collection) -> MongoStep {
    let validator_changes = have.validator != want.validator;
    let level_changes = have.validation_level != want.validation_level;
    let action_changes = have.validation_action != want.validation_action;
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
    MongoStep {
        description: format!("~ modify collection {}: {}", want.name, what.join(", ")),
        collection: want.name.clone(),
        command: Json::Object(command),
        hazards,
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mongo::{canonical, DEFAULT_ACTION, DEFAULT_LEVEL};
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
        // Declared with another name: a rename (drop, then build: MongoDB
        // refuses a second index of the same keys).
        let renamed = collection(json!({}), vec![index(&[("org", 1)], Some("by_org"))]);
        let steps = plan_mongo(
            Some(&MongoState {
                collections: [("c".into(), live)].into(),
            }),
            &[renamed],
        );
        assert_eq!(steps.len(), 2);
        assert!(steps[0].description.starts_with("- drop index org_1"));
        assert!(steps[1].description.starts_with("+ create index by_org"));
        // As changes: the build replaces, the drop says why.
        let live = collection(json!({}), vec![index(&[("org", 1)], Some("org_1"))]);
        let changes = diff_mongo(
            Some(&MongoState {
                collections: [("c".into(), live)].into(),
            }),
            &[collection(
                json!({}),
                vec![index(&[("org", 1)], Some("by_org"))],
            )],
        );
        assert!(matches!(
            &changes[..],
            [
                MongoChange::DropIndex {
                    why: Some("renamed"),
                    ..
                },
                MongoChange::CreateIndex { replaces: true, .. },
            ]
        ));
    }
}
