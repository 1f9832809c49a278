//! `kschema inspect`: desired-state files from a live database, whose plan
//! against that database is empty.

use std::path::Path;

use crate::support::{
    assert_cli_snapshot, command, kschema, kschema_with, run, MongoServer, Project, TestDb,
};

fn files_under(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// A project in a folder of its own (the --out of inspect).
fn inspected() -> Project {
    let project = Project::empty();
    std::fs::remove_dir_all(project.path().join("schema")).unwrap();
    project
}

#[tokio::test]
async fn inspect_of_the_shipped_database_reproduces_files_whose_plan_is_empty() {
    let shipped = Project::shipped();
    let db = TestDb::new().await;
    assert_eq!(kschema(&shipped, &db, &["apply"]).code, 0);

    let out = inspected();
    let out_dir = out.path().display().to_string();
    let run = kschema(&shipped, &db, &["inspect", "--out", &out_dir]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    assert!(
        run.stdout
            .contains("Checked: `kschema plan` against this database finds nothing"),
        "{}",
        run.stdout
    );

    let expected = |dir: &str| files_under(&shipped.path().join(dir));
    assert_eq!(
        files_under(&out.path().join("schema/public")),
        expected("schema/public")
    );
    assert_eq!(
        files_under(&out.path().join("schema/tenant")),
        expected("schema/tenant")
    );
    let tenants = out.read("tenants.toml");
    for id in ["abc123", "def456", "xyz789"] {
        assert!(tenants.contains(&format!("id = \"{id}\"")), "{tenants}");
    }
    // Each table's file holds its indexes, in kschema's normalized style.
    let users = out.read("schema/tenant/users.sql");
    assert!(users.starts_with("CREATE TABLE users ("), "{users}");
    assert!(
        users.contains("CREATE INDEX idx_users_org_email ON users"),
        "{users}"
    );

    // The independent check: plan (a separate run, loading the files) is empty.
    let plan = kschema(&out, &db, &["plan"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
    // And the files build the same catalog on a fresh database.
    let fresh = TestDb::new().await;
    assert_eq!(kschema(&out, &fresh, &["apply"]).code, 0);
    for schema in ["public", "org_abc123"] {
        assert_eq!(
            fresh.catalog(schema).await,
            db.catalog(schema).await,
            "{schema}"
        );
    }
}

#[tokio::test]
async fn inspect_reports_tenant_schemas_that_differ() {
    let db = TestDb::new().await;
    db.execute(
        "CREATE TABLE public.accounts (id bigint PRIMARY KEY, name text NOT NULL);
         CREATE SCHEMA org_a; CREATE SCHEMA org_b; CREATE SCHEMA org_c; CREATE SCHEMA reporting;
         CREATE TABLE org_a.items (id int PRIMARY KEY, title text NOT NULL,
                                   account_id bigint REFERENCES public.accounts(id));
         CREATE TABLE org_b.items (id int PRIMARY KEY, title text NOT NULL,
                                   account_id bigint REFERENCES public.accounts(id));
         CREATE TABLE org_c.items (id int PRIMARY KEY, title text NOT NULL,
                                   account_id bigint REFERENCES public.accounts(id),
                                   legacy_code text);
         CREATE INDEX idx_items_title ON org_c.items (title);
         CREATE TABLE reporting.daily (day date PRIMARY KEY);",
    )
    .await;
    let out = inspected();
    let run = kschema(&out, &db, &["inspect"]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    assert_cli_snapshot!("inspect_outliers", run);

    // The majority shape is the template; every tenant is registered.
    let items = out.read("schema/tenant/items.sql");
    assert!(!items.contains("legacy_code"), "{items}");
    assert!(!items.contains("idx_items_title"), "{items}");
    let tenants = out.read("tenants.toml");
    for id in ["a", "b", "c"] {
        assert!(tenants.contains(&format!("id = \"{id}\"")), "{tenants}");
    }
    assert!(!tenants.contains("reporting"), "{tenants}");

    // Planning with the files converges the outlier and nothing else.
    let plan = kschema(&out, &db, &["plan"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert!(plan.stdout.contains("org_c"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("org_a:"), "{}", plan.stdout);

    // --tenant-template picks the outlier instead.
    let forced = kschema(
        &out,
        &db,
        &["inspect", "--tenant-template", "org_c", "--force"],
    );
    assert_eq!(forced.code, 0, "{}", forced.snapshot());
    assert!(out.read("schema/tenant/items.sql").contains("legacy_code"));
}

#[tokio::test]
async fn inspect_does_not_overwrite_files_without_force() {
    let shipped = Project::shipped();
    let db = TestDb::new().await;
    assert_eq!(kschema(&shipped, &db, &["apply"]).code, 0);
    shipped.write(
        "schema/public/zz_extra.sql",
        "CREATE TABLE zz_extra (id int);\n",
    );
    let before = shipped.read("schema/tenant/users.sql");

    let refused = kschema(&shipped, &db, &["inspect"]);
    assert_eq!(refused.code, 1, "{}", refused.snapshot());
    assert!(refused.stderr.contains("--force"), "{}", refused.stderr);
    assert!(refused.stderr.contains("20 file(s)"), "{}", refused.stderr);
    assert_eq!(shipped.read("schema/tenant/users.sql"), before);
    assert!(shipped.path().join("schema/public/zz_extra.sql").exists());

    // With --force the folder is replaced, the stale file removed.
    let forced = kschema(&shipped, &db, &["inspect", "--force"]);
    assert_eq!(forced.code, 0, "{}", forced.snapshot());
    assert!(!shipped.path().join("schema/public/zz_extra.sql").exists());
    assert_eq!(kschema(&shipped, &db, &["plan"]).code, 0);
}

#[tokio::test]
async fn inspect_rejects_bad_arguments_clearly() {
    let db = TestDb::new().await;
    let out = inspected();
    let template = kschema(&out, &db, &["inspect", "--tenant-template", "org_nope"]);
    assert_eq!(template.code, 1, "{}", template.snapshot());
    assert!(
        template.stderr.contains("schema org_nope does not exist"),
        "{}",
        template.stderr
    );
    let schema = kschema(&out, &db, &["inspect", "--schema", "shared"]);
    assert_eq!(schema.code, 1, "{}", schema.snapshot());
    assert!(
        schema.stderr.contains("--schema shared"),
        "{}",
        schema.stderr
    );
    assert!(!out.path().join("schema").exists(), "nothing written");
    let unreachable = kschema_with(
        &out,
        Some("postgres://kschema:s3cret@127.0.0.1:1/x"),
        &["inspect"],
    );
    assert_eq!(unreachable.code, 1, "{}", unreachable.snapshot());
    assert!(
        !unreachable.stderr.contains("s3cret"),
        "{}",
        unreachable.stderr
    );
}

#[tokio::test]
async fn inspect_writes_mongo_collections_that_round_trip() {
    let shipped = Project::shipped();
    let db = TestDb::new().await;
    let server = MongoServer::start();
    let applied =
        run(command(&shipped, Some(&db.url()), &["apply"]).env("MONGODB_URI", &server.uri));
    assert_eq!(applied.code, 0, "{}", applied.snapshot());

    let out = inspected();
    let inspect = run(command(&out, Some(&db.url()), &["inspect"]).env("MONGODB_URI", &server.uri));
    assert_eq!(inspect.code, 0, "{}", inspect.snapshot());
    // One .toml per collection (indexes), its validator as .json.
    assert_eq!(
        files_under(&out.path().join("schema/mongo")),
        [
            "execution_records.json",
            "execution_records.toml",
            "patient_records.json",
            "patient_records.toml"
        ]
    );
    let plan = run(command(&out, Some(&db.url()), &["plan"]).env("MONGODB_URI", &server.uri));
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
}

/// What inspect writes for the table features a CREATE TABLE cannot say
/// alone — comments, NOT VALID, replica identity — and the ones it can
/// (unlogged, storage parameters, generated columns, identity options)
/// plans empty again.
#[tokio::test]
async fn inspect_writes_comments_options_and_not_valid_constraints() {
    let db = TestDb::new().await;
    db.execute(
        "CREATE UNLOGGED TABLE cache (k text PRIMARY KEY, v text) WITH (fillfactor = 60);
         ALTER TABLE cache REPLICA IDENTITY USING INDEX cache_pkey;
         CREATE INDEX cache_v ON cache (v) WITH (fillfactor = 50);
         CREATE TABLE people (id int GENERATED ALWAYS AS IDENTITY (START WITH 10 INCREMENT BY 5 MAXVALUE 1000) PRIMARY KEY, first text, shout text GENERATED ALWAYS AS (upper(first)) STORED, age int);
         ALTER TABLE people ADD CONSTRAINT people_age CHECK (age >= 0) NOT VALID;
         ALTER TABLE people REPLICA IDENTITY FULL;
         COMMENT ON TABLE people IS 'who is who';
         COMMENT ON COLUMN people.first IS 'given name';",
    )
    .await;
    let project = Project::empty();
    project.write("tenants.toml", "");
    let out = inspected();
    let out_dir = out.path().display().to_string();
    let run = kschema(&project, &db, &["inspect", "--out", &out_dir]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    assert!(
        run.stdout.contains("Checked: `kschema plan`"),
        "{}",
        run.stdout
    );
    let people = out.read("schema/public/people.sql");
    for expected in [
        "GENERATED ALWAYS AS (upper(first)) STORED",
        "GENERATED ALWAYS AS IDENTITY (INCREMENT BY 5 MAXVALUE 1000 START WITH 10)",
        "ADD CONSTRAINT people_age CHECK",
        "NOT VALID;",
        "REPLICA IDENTITY FULL;",
        "COMMENT ON TABLE people IS 'who is who';",
        "COMMENT ON COLUMN people.first IS 'given name';",
    ] {
        assert!(people.contains(expected), "{expected}\n{people}");
    }
    let cache = out.read("schema/public/cache.sql");
    assert!(cache.starts_with("CREATE UNLOGGED TABLE cache"), "{cache}");
    assert!(cache.contains("WITH (fillfactor = '60')"), "{cache}");
    for expected in [
        "CREATE INDEX cache_v ON cache (v) WITH (fillfactor = '50');",
        "ALTER TABLE cache REPLICA IDENTITY USING INDEX cache_pkey;",
    ] {
        assert!(
            cache.contains(expected),
            "{expected}
{cache}"
        );
    }
    let plan = kschema(&out, &db, &["plan"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
}

/// Index keys as PostgreSQL deparses them, written back by `inspect` so
/// that they build the same index: `COALESCE(…)`, `GREATEST(…)`,
/// `LEAST(…)` are the grammar's (quoted, they would name functions that do
/// not exist), and a `citext` column cast to `text` is an expression (case
/// matters after it), not the column. The written files, applied to an
/// empty database, give the same `pg_dump`.
#[tokio::test]
async fn inspect_writes_index_expressions_that_build_the_same_indexes() {
    let sql = "CREATE EXTENSION IF NOT EXISTS citext;
CREATE TABLE jobs (id bigint PRIMARY KEY, queued_at timestamptz NOT NULL, process_after timestamptz,
    name citext NOT NULL, score int);
CREATE INDEX jobs_order ON jobs ((COALESCE(process_after, queued_at)), id);
CREATE INDEX jobs_name_text ON jobs (((name)::text));
CREATE INDEX jobs_bounded ON jobs ((GREATEST(LEAST(score, 10), NULLIF(score, 0))));
";
    let source = TestDb::new().await;
    source.execute(sql).await;
    let project = Project::empty();
    project.write("tenants.toml", "");
    let (written, run) = crate::support::inspect_into_new_project(&project, &source);
    assert!(
        run.stdout.contains("finds nothing to change"),
        "{}",
        run.stdout
    );
    let indexes = written.read("schema/public/jobs.sql");
    assert!(
        indexes.contains("coalesce(process_after, queued_at)") && !indexes.contains("\"coalesce\""),
        "{indexes}"
    );
    let target = TestDb::new().await;
    let apply = kschema(&written, &target, &["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    crate::support::assert_same_dump(&source, &target);
}
