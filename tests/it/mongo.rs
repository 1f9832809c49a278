//! MongoDB collections against a real wire-protocol server (secantusd-rs,
//! one per test): created from nothing, converged after each kind of
//! drift, validators enforced by the server, bad files rejected.

use mongodb::bson::{doc, Document};
use mongodb::Client;

use crate::support::{assert_cli_snapshot, command, run, MongoServer, Project, Run, TestDb};

struct Setup {
    project: Project,
    db: TestDb,
    server: MongoServer,
}

impl Setup {
    async fn new() -> Setup {
        Setup {
            project: Project::shipped(),
            db: TestDb::new().await,
            server: MongoServer::start(),
        }
    }

    fn kschema(&self, args: &[&str]) -> Run {
        run(command(&self.project, Some(&self.db.url()), args).env("MONGODB_URI", &self.server.uri))
    }

    async fn database(&self) -> mongodb::Database {
        Client::with_uri_str(&self.server.uri)
            .await
            .unwrap()
            .database("kolate_db")
    }
}

async fn index_names(db: &mongodb::Database, collection: &str) -> Vec<String> {
    let reply = db
        .run_command(doc! {"listIndexes": collection})
        .await
        .unwrap();
    let mut names: Vec<String> = reply
        .get_document("cursor")
        .unwrap()
        .get_array("firstBatch")
        .unwrap()
        .iter()
        .filter_map(|i| i.as_document()?.get_str("name").ok().map(str::to_string))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn collections_are_created_and_enforce_their_validators() {
    let s = Setup::new().await;
    let plan = s.kschema(&["plan"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    let mongo_part = plan
        .stdout
        .split("MongoDB: ")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    assert!(
        mongo_part.contains("+ create collection patient_records with its validator"),
        "{}",
        plan.stdout
    );
    assert_eq!(
        mongo_part.matches("+ create index").count(),
        5,
        "{}",
        plan.stdout
    );

    let apply = s.kschema(&["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    assert!(
        apply.stdout.contains("✓ kolate_db: 7 commands"),
        "{}",
        apply.stdout
    );
    let replan = s.kschema(&["plan"]);
    assert_eq!(replan.code, 0, "{}", replan.snapshot());
    assert!(
        replan.stdout.contains("database kolate_db: up to date"),
        "{}",
        replan.stdout
    );

    let db = s.database().await;
    assert_eq!(
        index_names(&db, "patient_records").await,
        [
            "_id_",
            "organization_id_1",
            "organization_id_1_created_at_-1"
        ]
    );
    assert_eq!(
        index_names(&db, "execution_records").await,
        [
            "_id_",
            "organization_id_1",
            "organization_id_1_status_1",
            "started_at_1"
        ]
    );
    // The server enforces the applied validator: code 121 for a document
    // missing required fields, a valid one goes in.
    let records = db.collection::<Document>("execution_records");
    let rejected = records
        .insert_one(doc! {"organization_id": "abc123"})
        .await
        .unwrap_err();
    assert!(
        format!("{rejected:?}").contains("code: 121"),
        "{rejected:?}"
    );
    records
        .insert_one(doc! {"organization_id": "abc123", "execution_type": "etl", "status": "done"})
        .await
        .unwrap();
}

/// Each kind of drift: the plan names it, apply converges, re-plan is empty.
#[tokio::test]
async fn each_kind_of_drift_converges() {
    let s = Setup::new().await;
    assert_eq!(s.kschema(&["apply"]).code, 0);
    let db = s.database().await;
    let drifts: Vec<(&str, Document, &str)> = vec![
        (
            "validator changed",
            doc! {"collMod": "patient_records", "validator": {"$jsonSchema": {"bsonType": "object", "required": ["organization_id"]}}},
            "~ modify collection patient_records: change validator",
        ),
        (
            "level and action changed",
            doc! {"collMod": "execution_records", "validationLevel": "moderate", "validationAction": "warn"},
            "validationLevel moderate → strict, validationAction warn → error",
        ),
        (
            "index missing",
            doc! {"dropIndexes": "execution_records", "index": "started_at_1"},
            "+ create index started_at_1 {started_at: 1} on execution_records",
        ),
        (
            "extra index",
            doc! {"createIndexes": "patient_records", "indexes": [{"key": {"metadata.source": 1}, "name": "by_source"}]},
            "- drop index by_source",
        ),
    ];
    for (what, drift, expected) in drifts {
        db.run_command(drift).await.unwrap();
        let plan = s.kschema(&["plan"]);
        assert_eq!(plan.code, 2, "{what}: {}", plan.snapshot());
        assert!(
            plan.stdout.contains(expected),
            "{what}: expected {expected:?} in\n{}",
            plan.stdout
        );
        let apply = s.kschema(&["apply"]);
        assert_eq!(apply.code, 0, "{what}: {}", apply.snapshot());
        let replan = s.kschema(&["plan"]);
        assert_eq!(replan.code, 0, "{what}: {}", replan.snapshot());
    }

    // An option changed on an existing index: dropped and built again.
    db.run_command(doc! {"dropIndexes": "patient_records", "index": "organization_id_1"})
        .await
        .unwrap();
    db.run_command(doc! {"createIndexes": "patient_records", "indexes": [{"key": {"organization_id": 1}, "name": "organization_id_1", "sparse": true}]})
        .await
        .unwrap();
    let plan = s.kschema(&["plan"]);
    let mongo_part = plan.stdout.split("MongoDB: ").nth(1).unwrap_or_default();
    // After the first line, which names the server (a random port).
    insta::assert_snapshot!(
        "mongo_option_change",
        mongo_part
            .split_once('\n')
            .map(|(_, rest)| rest)
            .unwrap_or_default()
    );
    assert_eq!(s.kschema(&["apply"]).code, 0);
    assert_eq!(s.kschema(&["plan"]).code, 0);
}

#[tokio::test]
async fn counting_documents_a_tighter_validator_would_reject() {
    let s = Setup::new().await;
    assert_eq!(s.kschema(&["apply"]).code, 0);
    let db = s.database().await;
    db.run_command(doc! {"collMod": "patient_records", "validator": {}, "validationLevel": "off"})
        .await
        .unwrap();
    let records = db.collection::<Document>("patient_records");
    records
        .insert_one(doc! {"organization_id": "a"})
        .await
        .unwrap();
    records
        .insert_one(doc! {"organization_id": "b"})
        .await
        .unwrap();
    let plan = s.kschema(&["plan", "--count-invalid"]);
    assert!(
        plan.stdout.contains("! rejects-documents"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("2 documents of kolate_db.patient_records would not pass the new validator"),
        "{}",
        plan.stdout
    );
}

#[tokio::test]
async fn one_database_per_tenant() {
    let s = Setup::new().await;
    s.project
        .write("kschema.toml", "[mongo]\ndatabase = \"kolate_{tenant}\"\n");
    let apply = s.kschema(&["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    for tenant in ["abc123", "def456", "xyz789"] {
        assert!(
            apply
                .stdout
                .contains(&format!("✓ kolate_{tenant}: 7 commands")),
            "{}",
            apply.stdout
        );
    }
    let plan = s.kschema(&["plan"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
    assert!(
        plan.stdout
            .contains("3 databases (kolate_abc123, kolate_def456, kolate_xyz789): up to date"),
        "{}",
        plan.stdout
    );
}

#[tokio::test]
async fn saved_plans_and_snapshots_cover_mongo() {
    let s = Setup::new().await;
    let plan_file = s.project.path().join("plan.json");
    let plan = s.kschema(&["plan", "--out", plan_file.to_str().unwrap()]);
    assert_eq!(plan.code, 2);
    let document: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_file).unwrap()).unwrap();
    assert_eq!(
        document["mongo"]["targets"][0]["steps"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
    // An edited command (here: another collection) is refused, nothing runs.
    let original = std::fs::read_to_string(&plan_file).unwrap();
    let mut edited = document.clone();
    edited["mongo"]["targets"][0]["steps"][0]["command"] =
        serde_json::json!({"drop": "patient_records"});
    std::fs::write(&plan_file, edited.to_string()).unwrap();
    let refused = s.kschema(&["apply", plan_file.to_str().unwrap()]);
    assert_eq!(refused.code, 1, "{}", refused.snapshot());
    assert!(
        refused.stderr.contains("kschema::apply::edited_plan"),
        "{}",
        refused.snapshot()
    );
    assert_eq!(s.kschema(&["plan"]).code, 2, "nothing was applied");
    std::fs::write(&plan_file, original).unwrap();

    let apply = s.kschema(&["apply", plan_file.to_str().unwrap()]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    assert_eq!(s.kschema(&["plan"]).code, 0);

    let snapshot = s.project.path().join("snap.json");
    assert_eq!(
        s.kschema(&["snapshot", "--out", snapshot.to_str().unwrap()])
            .code,
        0
    );
    let offline = run(&mut command(
        &s.project,
        None,
        &[
            "plan",
            "--against",
            snapshot.to_str().unwrap(),
            "--dev-url",
            &s.db.url(),
        ],
    ));
    assert_eq!(offline.code, 0, "{}", offline.snapshot());
    assert!(
        offline.stdout.contains("database kolate_db: up to date"),
        "{}",
        offline.stdout
    );
}

#[tokio::test]
async fn without_a_uri_mongo_is_skipped_plainly() {
    let project = Project::shipped();
    let db = TestDb::new().await;
    let plan = run(&mut command(&project, Some(&db.url()), &["plan"]));
    assert!(plan.stdout.contains("MongoDB: skipped — no --mongodb-uri or MONGODB_URI given (2 collections declared in schema/mongo)"), "{}", plan.stdout);
}

#[tokio::test]
async fn bad_collection_files_change_nothing() {
    let s = Setup::new().await;
    s.project.write(
        "schema/mongo/execution_records.json",
        "{\n  \"$jsonSchema\": {\n    \"bsonType\": \"object\",\n  }\n}\n",
    );
    let bad_json = s.kschema(&["apply"]);
    assert_eq!(bad_json.code, 1);
    assert_cli_snapshot!("mongo_bad_json", bad_json);
    s.project.write(
        "schema/mongo/execution_records.json",
        "{\"$jsonSchema\": {\"bsonType\": \"object\"}}\n",
    );
    s.project.write(
        "schema/mongo/patient_records.toml",
        "validation_level = \"strictest\"\n\n[[index]]\nkeys = [[\"organization_id\", 2]]\n",
    );
    let bad_toml = s.kschema(&["apply"]);
    assert_eq!(bad_toml.code, 1);
    assert_cli_snapshot!("mongo_bad_toml", bad_toml);
    let names = s.database().await.list_collection_names().await.unwrap();
    assert!(names.is_empty(), "nothing was created: {names:?}");
}
