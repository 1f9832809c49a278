//! A fleet on a real PostgreSQL: faults in one tenant, SIGKILL mid-apply,
//! concurrent applies, shards, tenants from `enterprises`, tenant add and
//! remove, and the history that records it all.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::support::{assert_cli_snapshot, command, kschema, kschema_with, run, Project, TestDb};

const ITEMS_V1: &str = "CREATE TABLE items (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL
);
";

/// V2 adds a column (in the transaction) and an index (after it).
const ITEMS_V2: &str = "CREATE TABLE items (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    sku TEXT
);
CREATE INDEX items_name ON items (name);
";

fn registry(count: usize) -> String {
    (0..count)
        .map(|i| format!("[[tenant]]\nid = \"t{i:02}\"\n\n"))
        .collect()
}

async fn fleet(count: usize) -> (Project, TestDb) {
    let project = Project::empty();
    project
        .write("schema/tenant/items.sql", ITEMS_V1)
        .write("tenants.toml", &registry(count));
    let db = TestDb::new().await;
    let first = kschema(&project, &db, &["apply"]);
    assert_eq!(first.code, 0, "{}", first.snapshot());
    (project, db)
}

/// `outcome` of each schema's latest history row.
async fn latest_outcomes(db: &TestDb) -> BTreeMap<String, String> {
    db.client()
        .await
        .query(
            "SELECT DISTINCT ON (target_schema) target_schema, outcome FROM kschema.history ORDER BY target_schema, id DESC",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[tokio::test]
async fn one_failing_tenant_does_not_stop_the_others_and_retry_only_failed_works() {
    let (project, db) = fleet(6).await;
    // t03's rows make the new NOT NULL column impossible.
    db.execute("INSERT INTO org_t03.items (name) VALUES ('x')")
        .await;
    project.write(
        "schema/tenant/items.sql",
        "CREATE TABLE items (\n    id SERIAL PRIMARY KEY,\n    name TEXT NOT NULL,\n    price INTEGER NOT NULL\n);\n",
    );
    let apply = kschema(&project, &db, &["apply"]);
    assert_eq!(apply.code, 1, "{}", apply.snapshot());
    assert_cli_snapshot!("fault_one_tenant", apply);
    assert!(
        apply.stderr.contains("kschema apply --tenant t03"),
        "{}",
        apply.stderr
    );
    let outcomes = latest_outcomes(&db).await;
    assert_eq!(outcomes["org_t03"], "failed");
    assert_eq!(
        outcomes.values().filter(|o| *o == "applied").count(),
        5,
        "{outcomes:?}"
    );

    let plan = kschema(&project, &db, &["plan"]);
    assert!(
        plan.stdout.contains("tenant t03 (org_t03): 1 change"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("5 tenants"), "{}", plan.stdout);

    db.execute("DELETE FROM org_t03.items").await;
    let retry = kschema(&project, &db, &["apply", "--only-failed"]);
    assert_eq!(retry.code, 0, "{}", retry.snapshot());
    assert!(
        retry.stdout.contains("tenant t03 (org_t03)"),
        "{}",
        retry.stdout
    );
    assert!(
        !retry.stdout.contains("org_t04"),
        "only the failed tenant is retried:\n{}",
        retry.stdout
    );
    assert_eq!(kschema(&project, &db, &["plan"]).code, 0);
    assert_eq!(latest_outcomes(&db).await["org_t03"], "applied");

    let history = kschema(&project, &db, &["history", "--tenant", "t03"]);
    assert_eq!(history.code, 0);
    assert!(
        history.stdout.contains("failed") && history.stdout.contains("applied"),
        "{}",
        history.stdout
    );
}

#[tokio::test]
async fn fail_fast_stops_scheduling() {
    let (project, db) = fleet(8).await;
    db.execute("INSERT INTO org_t00.items (name) VALUES ('x')")
        .await;
    project.write(
        "schema/tenant/items.sql",
        "CREATE TABLE items (\n    id SERIAL PRIMARY KEY,\n    name TEXT NOT NULL,\n    price INTEGER NOT NULL\n);\n",
    );
    let apply = kschema(
        &project,
        &db,
        &["apply", "--fail-fast", "--concurrency", "1"],
    );
    assert_eq!(apply.code, 1, "{}", apply.snapshot());
    assert!(
        apply
            .stdout
            .contains("not started: --fail-fast after a failure"),
        "{}",
        apply.stdout
    );
}

/// SIGKILL at several moments of an apply over 50 tenants: afterwards every
/// tenant is either untouched or fully migrated (or, for the index built
/// after the commit, resumable), the history agrees, and a re-run converges.
#[tokio::test]
async fn sigkill_mid_apply_leaves_every_tenant_consistent() {
    for delay_ms in [150u64, 400, 900] {
        let (project, db) = fleet(50).await;
        let old = db.catalog("org_t00").await;
        project.write("schema/tenant/items.sql", ITEMS_V2);
        let mut child = command(&project, Some(&db.url()), &["apply", "--concurrency", "4"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        child.kill().unwrap(); // SIGKILL
        let _ = child.wait();
        // The server notices the dead connections and rolls them back.
        tokio::time::sleep(Duration::from_millis(300)).await;

        let outcomes = latest_outcomes(&db).await;
        for i in 0..50 {
            let schema = format!("org_t{i:02}");
            let now = db.catalog(&schema).await;
            let has_column = now.contains("column items.sku text");
            let has_index = now.contains("INDEX items_name ON");
            match outcomes.get(&schema).map(String::as_str) {
                // First apply's row: this run never committed here.
                Some("applied") if !has_column => {
                    assert_eq!(now, old, "{schema} half-changed (delay {delay_ms})")
                }
                Some("applied") => assert!(
                    has_index,
                    "{schema}: recorded applied without its index (delay {delay_ms})"
                ),
                // Committed, the index after it interrupted: resumable.
                Some("committed") => assert!(
                    has_column,
                    "{schema}: history claims a commit that did not happen"
                ),
                other => panic!("{schema}: unexpected history {other:?}"),
            }
        }
        let rerun = kschema(&project, &db, &["apply"]);
        assert_eq!(rerun.code, 0, "delay {delay_ms}: {}", rerun.snapshot());
        let plan = kschema(&project, &db, &["plan"]);
        assert_eq!(plan.code, 0, "delay {delay_ms}: {}", plan.snapshot());
        let outcomes = latest_outcomes(&db).await;
        assert!(outcomes.values().all(|o| o == "applied"), "{outcomes:?}");
    }
}

/// Two applies at once never interleave: the second waits for the first,
/// then finds nothing left to do; with no wait it names the holder.
#[tokio::test]
async fn concurrent_applies_serialize_on_the_run_lock() {
    let (project, db) = fleet(20).await;
    project.write("schema/tenant/items.sql", ITEMS_V2);
    let first = command(&project, Some(&db.url()), &["apply"]).output_async();
    let second = command(&project, Some(&db.url()), &["apply"]).output_async();
    let (first, second) = (first.await, second.await);
    assert!(
        first.status.success() && second.status.success(),
        "{first:?}\n{second:?}"
    );
    let runs: i64 = db
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM kschema.history WHERE 'ALTER TABLE ' || target_schema || '.items ADD COLUMN sku text' = ANY (statements)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(runs, 20, "each tenant migrated exactly once");

    // Hold the run lock the way a running apply does, and try without waiting.
    let holder = db.client().await;
    holder
        .batch_execute("SET application_name = 'kschema apply (run other)'")
        .await
        .unwrap();
    holder
        .query_one("SELECT pg_advisory_lock(1802724200, 1)", &[])
        .await
        .unwrap();
    project.write("schema/tenant/items.sql", ITEMS_V1);
    let refused = kschema(
        &project,
        &db,
        &["apply", "--allow-destructive", "--lock-wait", "0"],
    );
    assert_eq!(refused.code, 1, "{}", refused.snapshot());
    assert!(
        refused
            .stderr
            .contains("another kschema apply is running on this database"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("kschema apply (run other)"),
        "{}",
        refused.stderr
    );
}

trait OutputAsync {
    async fn output_async(self) -> std::process::Output;
}

impl OutputAsync for std::process::Command {
    async fn output_async(mut self) -> std::process::Output {
        tokio::task::spawn_blocking(move || self.output().unwrap())
            .await
            .unwrap()
    }
}

/// Tenants in two databases (two clusters): one plan and one apply cover
/// both, each with its own public.
#[tokio::test]
async fn two_shards_plan_and_apply_together() {
    let main = TestDb::new().await;
    let eu = TestDb::on_second_cluster().await;
    let project = Project::empty();
    project
        .write("schema/public/regions.sql", "CREATE TABLE regions (id INT PRIMARY KEY, name TEXT);\n")
        .write("schema/tenant/items.sql", "CREATE TABLE items (id INT PRIMARY KEY, region_id INT REFERENCES regions (id));\n")
        .write(
            "tenants.toml",
            "[databases.eu]\nurl_env = \"KSCHEMA_TEST_EU_URL\"\n\n[[tenant]]\nid = \"home\"\n\n[[tenant]]\nid = \"paris\"\ndatabase = \"eu\"\n\n[[tenant]]\nid = \"berlin\"\ndatabase = \"eu\"\n",
        );
    let with_eu = |args: &[&str]| {
        run(command(&project, Some(&main.url()), args).env("KSCHEMA_TEST_EU_URL", eu.url()))
    };
    let plan = with_eu(&["plan"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert!(plan.stdout.contains("=== main database"), "{}", plan.stdout);
    assert!(plan.stdout.contains("=== database eu"), "{}", plan.stdout);
    let apply = with_eu(&["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    assert_eq!(main.schemas().await, ["kschema", "org_home", "public"]);
    assert_eq!(
        eu.schemas().await,
        ["kschema", "org_berlin", "org_paris", "public"]
    );
    assert_eq!(
        eu.catalog("org_paris").await,
        main.catalog("org_home").await
    );
    assert_eq!(with_eu(&["plan"]).code, 0);

    // Without the shard's URL: a diagnostic pointing into tenants.toml.
    let missing = kschema(&project, &main, &["plan"]);
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.contains("KSCHEMA_TEST_EU_URL"),
        "{}",
        missing.stderr
    );
}

/// `source = "enterprises"`: the tenants are the organizations in
/// public.enterprises.
#[tokio::test]
async fn tenants_from_the_enterprises_table() {
    let project = Project::shipped();
    project.write("tenants.toml", "source = \"enterprises\"\n");
    let db = TestDb::new().await;
    let first = kschema(&project, &db, &["apply"]);
    assert_eq!(first.code, 0, "{}", first.snapshot());
    assert_eq!(db.schemas().await, ["kschema", "public"]);
    db.execute(
        "INSERT INTO enterprises (organization_id, name, admin_email) VALUES
             ('acme', 'Acme', 'a@acme'), ('globex', 'Globex', 'g@globex'), ('Bad Id!', 'Bad', 'b@bad')",
    )
    .await;
    let apply = kschema(&project, &db, &["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    assert!(
        apply.stderr.contains("not a tenant id, skipped"),
        "{}",
        apply.stderr
    );
    assert_eq!(
        db.schemas().await,
        ["kschema", "org_acme", "org_globex", "public"]
    );
    assert_eq!(kschema(&project, &db, &["plan"]).code, 0);
}

/// `tenant remove newco`, its data's loss allowed, without asking.
const REMOVE_NEWCO: [&str; 6] = [
    "tenant",
    "remove",
    "newco",
    "--allow-hazard",
    "deletes-data",
    "--yes",
];

#[tokio::test]
async fn tenant_add_and_remove() {
    let (project, db) = fleet(2).await;
    let added = kschema(&project, &db, &["tenant", "add", "newco"]);
    assert_eq!(added.code, 0, "{}", added.snapshot());
    assert!(project.read("tenants.toml").contains("id = \"newco\""));
    assert_eq!(db.catalog("org_newco").await, db.catalog("org_t00").await);

    let bad = kschema(&project, &db, &["tenant", "add", "New-Co"]);
    assert_eq!(bad.code, 1);
    assert_cli_snapshot!("tenant_add_invalid", bad);

    db.execute("INSERT INTO org_newco.items (name) VALUES ('keep?')")
        .await;
    let refused = kschema(&project, &db, &["tenant", "remove", "newco", "--yes"]);
    assert_eq!(refused.code, 1, "{}", refused.snapshot());
    assert!(
        refused.stderr.contains("--allow-hazard deletes-data"),
        "{}",
        refused.stderr
    );
    assert!(db.schemas().await.contains(&"org_newco".to_string()));

    // A drop that cannot get its lock fails like any apply target: the
    // cause, a retry of the same command, and the tenant stays registered.
    project.write(
        "kschema.toml",
        "[apply]\nlock_timeout = 0.2\nlock_attempts = 1\n",
    );
    let holder = db.client().await;
    holder
        .batch_execute("BEGIN; LOCK TABLE org_newco.items IN ACCESS SHARE MODE")
        .await
        .unwrap();
    let blocked = kschema(&project, &db, &REMOVE_NEWCO);
    assert_eq!(blocked.code, 1, "{}", blocked.snapshot());
    assert!(blocked.stdout.contains("lock"), "{}", blocked.snapshot());
    assert!(
        blocked.stderr.contains("kschema tenant remove newco"),
        "{}",
        blocked.snapshot()
    );
    holder.batch_execute("ROLLBACK").await.unwrap();
    assert!(db.schemas().await.contains(&"org_newco".to_string()));
    assert!(project.read("tenants.toml").contains("newco"));

    let removed = kschema(&project, &db, &REMOVE_NEWCO);
    assert_eq!(removed.code, 0, "{}", removed.snapshot());
    assert!(!db.schemas().await.contains(&"org_newco".to_string()));
    assert!(!project.read("tenants.toml").contains("newco"));
    assert_eq!(kschema(&project, &db, &["plan"]).code, 0);
    let history = kschema_with(
        &project,
        Some(&db.url()),
        &["history", "--tenant", "newco", "--statements"],
    );
    assert!(
        history
            .stdout
            .contains("DROP SCHEMA IF EXISTS org_newco CASCADE"),
        "{}",
        history.stdout
    );
}
