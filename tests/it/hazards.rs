//! Each hazard and each online form, on a table holding rows: the
//! statements work, the hazard is reported, the gate blocks without the
//! allow, and the result converges.

use crate::support::{assert_cli_snapshot, kschema, Project, TestDb};

/// Every hazard blocks, so each case proves its own gate.
const STRICT: &str = r#"[apply]
blocking_hazards = ["deletes-data", "may-lose-data", "rewrites-table", "access-exclusive-lock",
                    "builds-index", "validates-constraint", "drops-index"]
"#;

const BASE: &str = "CREATE TABLE items (
    id SERIAL PRIMARY KEY,
    code VARCHAR(255) NOT NULL,
    qty INTEGER NOT NULL DEFAULT 1,
    note TEXT,
    legacy TEXT,
    owner_id INTEGER
);
CREATE TABLE owners (id INTEGER PRIMARY KEY);
CREATE INDEX items_qty ON items (qty);
";

/// Applies `BASE` to two tenants with rows, switches the tenant files to
/// `changed`, and checks plan, refusal, allowed apply and convergence.
async fn case(name: &str, changed: &str, expected: &[&str], allow: &[&str], no_online: bool) {
    let project = Project::empty();
    project
        .write("kschema.toml", STRICT)
        .write("schema/tenant/items.sql", BASE)
        .write(
            "tenants.toml",
            "[[tenant]]\nid = \"a\"\n\n[[tenant]]\nid = \"b\"\n",
        );
    let db = TestDb::new().await;
    let first = kschema(&project, &db, &["apply"]);
    assert_eq!(first.code, 0, "{}", first.snapshot());
    for schema in ["org_a", "org_b"] {
        db.execute(&format!(
            "INSERT INTO {schema}.owners VALUES (1), (2);
             INSERT INTO {schema}.items (code, qty, note, legacy, owner_id)
                  SELECT 'code-' || i, i, 'n' || i, 'l', 1 + i % 2 FROM generate_series(1, 200) i;"
        ))
        .await;
    }
    project.write("schema/tenant/items.sql", changed);
    let mut plan_args = vec!["plan"];
    let mut apply_args = vec!["apply"];
    if no_online {
        plan_args.push("--no-online");
        apply_args.push("--no-online");
    }
    let plan = kschema(&project, &db, &plan_args);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert_cli_snapshot!(format!("hazard_{name}"), plan);
    for hazard in expected {
        assert!(
            plan.stdout.contains(&format!("! {hazard}:")),
            "{hazard} not reported:\n{}",
            plan.stdout
        );
    }

    let before = db.catalog("org_a").await;
    let refused = kschema(&project, &db, &apply_args);
    assert_eq!(refused.code, 1, "{}", refused.snapshot());
    assert!(
        refused.stderr.contains("apply refused"),
        "{}",
        refused.snapshot()
    );
    for hazard in expected {
        assert!(
            refused.stderr.contains(hazard),
            "refusal does not name {hazard}:\n{}",
            refused.stderr
        );
    }
    assert_eq!(
        db.catalog("org_a").await,
        before,
        "a refused apply changed the database"
    );

    let allowed = allow.join(",");
    apply_args.extend(["--allow-hazard", allowed.as_str()]);
    let apply = kschema(&project, &db, &apply_args);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    let replan = kschema(&project, &db, &plan_args);
    assert_eq!(replan.code, 0, "{}", replan.snapshot());
    let rows = db
        .client()
        .await
        .query_one("SELECT count(*) FROM org_b.items", &[])
        .await
        .unwrap();
    assert_eq!(rows.get::<_, i64>(0), 200, "rows lost");
}

#[tokio::test]
async fn deletes_data_dropping_a_column() {
    let changed = BASE.replace("    legacy TEXT,\n", "");
    case(
        "deletes_data",
        &changed,
        &["deletes-data"],
        &["deletes-data"],
        false,
    )
    .await;
}

#[tokio::test]
async fn may_lose_data_narrowing_a_type() {
    let changed = BASE.replace("VARCHAR(255)", "VARCHAR(50)");
    case(
        "may_lose_data",
        &changed,
        &["may-lose-data", "rewrites-table"],
        &["may-lose-data", "rewrites-table"],
        false,
    )
    .await;
}

#[tokio::test]
async fn rewrites_table_widening_an_integer() {
    let changed = BASE.replace("qty INTEGER", "qty BIGINT");
    case(
        "rewrites_table",
        &changed,
        &["rewrites-table"],
        &["rewrites-table"],
        false,
    )
    .await;
}

#[tokio::test]
async fn access_exclusive_lock_adding_a_unique_constraint() {
    let changed = BASE.replace(
        "owner_id INTEGER\n",
        "owner_id INTEGER,\n    UNIQUE (code)\n",
    );
    case(
        "access_exclusive_lock",
        &changed,
        &["access-exclusive-lock", "builds-index"],
        &["access-exclusive-lock", "builds-index"],
        false,
    )
    .await;
}

#[tokio::test]
async fn builds_index_concurrently() {
    let changed = format!("{BASE}CREATE INDEX items_code ON items (code);\n");
    case(
        "builds_index",
        &changed,
        &["builds-index"],
        &["builds-index"],
        false,
    )
    .await;
}

#[tokio::test]
async fn validates_constraint_for_a_new_foreign_key_and_check() {
    let changed = BASE
        .replace(
            "owner_id INTEGER\n",
            "owner_id INTEGER REFERENCES owners (id)\n",
        )
        .replace(
            "qty INTEGER NOT NULL DEFAULT 1,",
            "qty INTEGER NOT NULL DEFAULT 1 CHECK (qty > 0),",
        );
    case(
        "validates_constraint",
        &changed,
        &["validates-constraint"],
        &["validates-constraint"],
        false,
    )
    .await;
}

#[tokio::test]
async fn drops_index_concurrently() {
    let changed = BASE.replace("CREATE INDEX items_qty ON items (qty);\n", "");
    case(
        "drops_index",
        &changed,
        &["drops-index"],
        &["drops-index"],
        false,
    )
    .await;
}

#[tokio::test]
async fn set_not_null_online_through_a_check() {
    let changed = BASE.replace("note TEXT,", "note TEXT NOT NULL,");
    case(
        "set_not_null_online",
        &changed,
        &["validates-constraint"],
        &["validates-constraint"],
        false,
    )
    .await;
}

#[tokio::test]
async fn set_not_null_offline_takes_the_lock() {
    let changed = BASE.replace("note TEXT,", "note TEXT NOT NULL,");
    case(
        "set_not_null_offline",
        &changed,
        &["access-exclusive-lock"],
        &["access-exclusive-lock"],
        true,
    )
    .await;
}

/// A failed CREATE UNIQUE INDEX CONCURRENTLY leaves an invalid index; the
/// next plan drops and rebuilds it.
#[tokio::test]
async fn invalid_index_left_by_a_failed_build_is_rebuilt() {
    let project = Project::empty();
    project
        .write(
            "schema/public/t.sql",
            "CREATE TABLE t (id INT PRIMARY KEY, code TEXT);\n",
        )
        .write("tenants.toml", "");
    let db = TestDb::new().await;
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    db.execute("INSERT INTO t VALUES (1, 'x'), (2, 'x')").await;
    project.write(
        "schema/public/t.sql",
        "CREATE TABLE t (id INT PRIMARY KEY, code TEXT);\nCREATE UNIQUE INDEX t_code ON t (code);\n",
    );
    let failed = kschema(&project, &db, &["apply"]);
    assert_eq!(failed.code, 1, "{}", failed.snapshot());
    assert!(
        failed.stdout.contains("could not create unique index"),
        "{}",
        failed.stdout
    );
    let invalid = db
        .client()
        .await
        .query_one(
            "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = 't_code'::regclass",
            &[],
        )
        .await
        .unwrap();
    assert!(
        invalid.get::<_, bool>(0),
        "the failed build should leave an invalid index"
    );

    db.execute("DELETE FROM t WHERE id = 2").await;
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert_cli_snapshot!("invalid_index_rebuild_plan", plan);
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    assert_eq!(kschema(&project, &db, &["plan"]).code, 0);
}

/// An annotation allows a hazard for one table, without any flag.
#[tokio::test]
async fn annotation_allows_a_hazard_on_its_object() {
    let project = Project::empty();
    project
        .write(
            "schema/public/t.sql",
            "CREATE TABLE t (id INT PRIMARY KEY, old TEXT, qty INT);\n",
        )
        .write("tenants.toml", "");
    let db = TestDb::new().await;
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    project.write(
        "schema/public/t.sql",
        "-- kschema:allow-hazard deletes-data\nCREATE TABLE t (\n    id INT PRIMARY KEY,\n    qty BIGINT -- kschema:allow-hazard rewrites-table\n);\n",
    );
    let plan = kschema(&project, &db, &["plan"]);
    assert_cli_snapshot!("annotation_allows_plan", plan);
    let apply = kschema(&project, &db, &["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    assert_eq!(kschema(&project, &db, &["plan"]).code, 0);
}

/// A misspelt annotation is an error, not silently ignored.
#[tokio::test]
async fn misspelt_annotation_is_reported() {
    let project = Project::empty();
    project
        .write(
            "schema/public/t.sql",
            "-- kschema:allow-hazzard deletes-data\nCREATE TABLE t (id INT PRIMARY KEY);\n",
        )
        .write("tenants.toml", "");
    let db = TestDb::new().await;
    let run = kschema(&project, &db, &["plan"]);
    assert_eq!(run.code, 1);
    assert_cli_snapshot!("annotation_misspelt", run);
}

/// renamed-from turns drop + add into RENAME, keeping the data; without it
/// the plan warns that a drop and an add may be a rename.
#[tokio::test]
async fn renames_keep_data() {
    let project = Project::empty();
    project
        .write("schema/tenant/t.sql", "CREATE TABLE people (id INT PRIMARY KEY, mail TEXT NOT NULL);\nCREATE INDEX people_mail ON people (mail);\n")
        .write("tenants.toml", "[[tenant]]\nid = \"a\"\n");
    let db = TestDb::new().await;
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    db.execute("INSERT INTO org_a.people VALUES (1, 'a@x')")
        .await;

    project.write("schema/tenant/t.sql", "CREATE TABLE people (id INT PRIMARY KEY, email TEXT NOT NULL);\nCREATE INDEX people_mail ON people (email);\n");
    let unannotated = kschema(&project, &db, &["plan"]);
    assert!(
        unannotated.stdout.contains("if it is a rename"),
        "{}",
        unannotated.stdout
    );
    assert_cli_snapshot!("rename_hint", unannotated);

    project.write(
        "schema/tenant/t.sql",
        "-- kschema:renamed-from people\nCREATE TABLE persons (\n    id INT PRIMARY KEY,\n    email TEXT NOT NULL -- kschema:renamed-from mail\n);\nCREATE INDEX people_mail ON persons (email);\n",
    );
    let plan = kschema(&project, &db, &["plan"]);
    assert_cli_snapshot!("rename_plan", plan);
    let apply = kschema(&project, &db, &["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    assert_eq!(kschema(&project, &db, &["plan"]).code, 0);
    let row = db
        .client()
        .await
        .query_one("SELECT email FROM org_a.persons WHERE id = 1", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "a@x");
}
