//! Snapshots: the introspected state of every target, saved as JSON so
//! plans can be made with no database at all (in CI, on a pull request).
//!
//! Each distinct schema shape is stored once, under its fingerprint, and
//! each schema names its shape: a fleet of identical tenants is one model
//! and a list of names. Deterministic and pretty-printed, so a snapshot
//! diffs well in version control.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::catalog::{share_lists, Fingerprint, LiveSchema, LiveState};
use crate::model::{Dependencies, SchemaModel, SchemaName};
use crate::unmanaged::UnmanagedObject;

pub const SNAPSHOT_FORMAT_VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Snapshot {
    pub format_version: u32,
    pub kschema_version: String,
    /// Where it was taken (password removed).
    pub database: String,
    /// The server's `server_version_num` (absent in older snapshots): the
    /// desired state is best built on the same major version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<i32>,
    /// Schema name → the fingerprint of its shape.
    pub schemas: BTreeMap<SchemaName, Fingerprint>,
    /// Fingerprint → the shape's model.
    pub shapes: BTreeMap<Fingerprint, SchemaModel>,
    /// Fingerprint → what the shape's objects need of their schema, as the
    /// catalog recorded it (absent in older snapshots: a plan from one
    /// reads it from the objects' statements).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dependencies: BTreeMap<Fingerprint, Dependencies>,
    /// MongoDB database → its collections, when a MongoDB URI was given.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mongo: BTreeMap<String, crate::mongo::MongoState>,
    /// Schema name → what it held that kschema does not manage.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unmanaged: BTreeMap<SchemaName, Vec<UnmanagedObject>>,
}

impl Snapshot {
    /// The MongoDB part of a plan against this snapshot (`None` when the
    /// project declares no collections; skipped, and said so, when the
    /// snapshot recorded no MongoDB state).
    pub fn mongo_plan(
        &self,
        desired: &crate::load::DesiredState,
        tenants: &[crate::load::TenantId],
    ) -> Option<crate::mongo::MongoPlan> {
        use crate::mongo::{plan_mongo, MongoPlan, MongoTargetPlan};
        if desired.mongo.is_empty() {
            return None;
        }
        if self.mongo.is_empty() {
            let declared = desired.mongo.len();
            return Some(MongoPlan::skipped(format!(
                "the snapshot holds no MongoDB state ({declared} collection{} declared in schema/mongo)",
                if declared == 1 { "" } else { "s" }
            )));
        }
        let targets = desired
            .mongo_databases(tenants)
            .into_iter()
            .map(|(database, tenant)| {
                let state = self.mongo.get(&database);
                MongoTargetPlan {
                    live_fingerprint: state.cloned().unwrap_or_default().fingerprint(),
                    steps: plan_mongo(state, &desired.mongo),
                    database,
                    tenant: tenant.map(|t| t.to_string()),
                    invalid_documents: Vec::new(),
                }
            })
            .collect();
        Some(MongoPlan {
            source: "snapshot".to_string(),
            skipped: None,
            targets,
        })
    }

    pub fn from_live(live: &LiveState, database: &str) -> Snapshot {
        let mut shapes = BTreeMap::new();
        let mut schemas = BTreeMap::new();
        let mut dependencies = BTreeMap::new();
        for (name, schema) in &live.schemas {
            schemas.insert(name.clone(), schema.fingerprint);
            shapes
                .entry(schema.fingerprint)
                .or_insert_with(|| schema.model.as_ref().clone());
            if let Some(needs) = &schema.model.dependencies {
                dependencies
                    .entry(schema.fingerprint)
                    .or_insert_with(|| needs.as_ref().clone());
            }
        }
        Snapshot {
            format_version: SNAPSHOT_FORMAT_VERSION,
            kschema_version: env!("CARGO_PKG_VERSION").to_string(),
            database: database.to_string(),
            server_version: live.server_version,
            schemas,
            shapes,
            dependencies,
            mongo: BTreeMap::new(),
            unmanaged: live
                .unmanaged
                .iter()
                .map(|(schema, list)| (schema.clone(), list.as_ref().clone()))
                .collect(),
        }
    }

    /// The live state it records. Fingerprints are recomputed from the
    /// models, so a hand-edited snapshot plans as what it says.
    pub fn to_live(&self) -> Result<LiveState, String> {
        if self.format_version != SNAPSHOT_FORMAT_VERSION {
            return Err(format!(
                "snapshot format {} is not supported (this kschema reads format {SNAPSHOT_FORMAT_VERSION})",
                self.format_version
            ));
        }
        let mut models: HashMap<Fingerprint, LiveSchema> = HashMap::new();
        let mut live = LiveState::default();
        for (name, fingerprint) in &self.schemas {
            let model = self.shapes.get(fingerprint).ok_or_else(|| {
                format!(
                    "schema {name} refers to shape {} which the snapshot lacks",
                    fingerprint.short()
                )
            })?;
            let schema = models
                .entry(*fingerprint)
                .or_insert_with(|| {
                    let mut model = model.clone();
                    model.dependencies = self.dependencies.get(fingerprint).cloned().map(Arc::new);
                    LiveSchema {
                        fingerprint: Fingerprint::of(&model),
                        model: Arc::new(model),
                    }
                })
                .clone();
            live.schemas.insert(name.clone(), schema);
        }
        live.unmanaged = share_lists(self.unmanaged.clone());
        live.server_version = self.server_version;
        Ok(live)
    }

    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        Ok(text)
    }
}
