//! Shared schemas other than public: a folder per schema (`schema/audit/`
//! is schema `audit`), converged once per database before the tenants,
//! referenced from the tenant files by qualified names.

use crate::support::{assert_same_dump, kschema, pg_dump, tenants_toml, Project, TestDb};

const PUBLIC: &str = "CREATE TABLE plans (id int PRIMARY KEY, name text NOT NULL);\n";

const AUDIT: &str = r#"CREATE TYPE level AS ENUM ('info', 'warn');
CREATE TABLE events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id int REFERENCES public.plans (id),
    level level NOT NULL DEFAULT 'info',
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_at ON events (at);
CREATE FUNCTION note(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'audit: ' || t $$;
CREATE VIEW recent AS SELECT id, level FROM events WHERE at > now() - interval '1 day';
"#;

const TENANT: &str = r#"CREATE TABLE items (
    id serial PRIMARY KEY,
    event_id bigint REFERENCES audit.events (id),
    level audit.level
);
CREATE VIEW item_events AS
SELECT i.id, e.level FROM items i JOIN audit.events e ON e.id = i.event_id;
"#;

const TENANTS: [&str; 2] = ["a1", "b2"];

fn project() -> Project {
    let project = Project::empty();
    project
        .write("schema/public/app.sql", PUBLIC)
        .write("schema/audit/events.sql", AUDIT)
        .write("schema/tenant/app.sql", TENANT)
        .write("tenants.toml", &tenants_toml(&TENANTS));
    project
}

/// public, audit, then each tenant, by hand.
async fn run_directly(audit: &str) -> TestDb {
    let mut script =
        format!("{PUBLIC}\nCREATE SCHEMA audit; SET search_path = audit, public; {audit}\n");
    for id in TENANTS {
        script.push_str(&format!(
            "CREATE SCHEMA org_{id}; SET search_path = org_{id}, public; {TENANT}\n"
        ));
    }
    script.push_str("RESET search_path;");
    let db = TestDb::new().await;
    db.execute(&script).await;
    db
}

#[tokio::test]
async fn a_shared_schema_converges_before_the_tenants_that_use_it() {
    let project = project();
    let db = TestDb::new().await;
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    // Its own section, after public's and before the tenants'.
    let audit = plan.stdout.find("schema audit").expect("audit is planned");
    let public = plan.stdout.find("public").unwrap();
    let tenants = plan
        .stdout
        .find("2 tenants")
        .expect("the tenants are planned");
    assert!(public < audit && audit < tenants, "{}", plan.stdout);
    assert!(
        plan.stdout
            .contains("schema audit: 6 changes\n  + create schema\n"),
        "{}",
        plan.stdout
    );

    let apply = kschema(&project, &db, &["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    let again = kschema(&project, &db, &["plan"]);
    assert_eq!(again.code, 0, "{}", again.snapshot());
    assert!(
        again
            .stdout
            .contains("No changes: public, audit and 2 tenant schemas are up to date."),
        "{}",
        again.stdout
    );
    assert_same_dump(&db, &run_directly(AUDIT).await);

    // A snapshot holds the shared schema, and plans against it offline.
    let snapshot = project.path().join("snapshot.json");
    let snapshot = snapshot.display().to_string();
    let taken = kschema(&project, &db, &["snapshot", "--out", &snapshot]);
    assert_eq!(taken.code, 0, "{}", taken.snapshot());
    assert!(
        taken.stdout.contains("Snapshot of 4 schemas"),
        "{}",
        taken.stdout
    );
    let offline = kschema(&project, &db, &["plan", "--against", &snapshot]);
    assert_eq!(offline.code, 0, "{}", offline.snapshot());

    // A change to the shared schema is planned for it alone, once.
    let evolved = AUDIT.replace(
        "    at timestamptz NOT NULL DEFAULT now()\n",
        "    at timestamptz NOT NULL DEFAULT now(),\n    source text\n",
    );
    project.write("schema/audit/events.sql", &evolved);
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert!(
        plan.stdout.contains("schema audit")
            && plan.stdout.contains("add column events.source text"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("2 tenants (a1, b2): up to date"),
        "{}",
        plan.stdout
    );
    let apply = kschema(&project, &db, &["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    assert_eq!(kschema(&project, &db, &["plan"]).code, 0);
    assert_same_dump(&db, &run_directly(&evolved).await);

    // The history records it like any target, and shows it alone.
    let history = kschema(&project, &db, &["history", "--tenant", "audit"]);
    assert_eq!(history.code, 0, "{}", history.snapshot());
    assert!(history.stdout.contains("audit"), "{}", history.stdout);
    assert!(!history.stdout.contains("org_a1"), "{}", history.stdout);
}

/// `pg_dump --schema-only -n audit` is the shared schema's files as is,
/// and plans empty against the database it came from.
#[tokio::test]
async fn a_dump_of_a_shared_schema_loads_as_its_folder() {
    let direct = run_directly(AUDIT).await;
    let project = Project::empty();
    project
        .write(
            "schema/public/dump.sql",
            &pg_dump(&direct, &["--schema-only", "-n", "public"]),
        )
        .write(
            "schema/audit/dump.sql",
            &pg_dump(&direct, &["--schema-only", "-n", "audit"]),
        )
        .write(
            "schema/tenant/dump.sql",
            &pg_dump(&direct, &["--schema-only", "-n", "org_a1"]),
        )
        .write("tenants.toml", &tenants_toml(&TENANTS));
    let plan = kschema(&project, &direct, &["plan"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());

    // Applied to an empty database, the dumps give the same catalog.
    let db = TestDb::new().await;
    let apply = kschema(&project, &db, &["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    assert_same_dump(&db, &direct);
}

/// What a live shared schema holds that the files do not is planned away
/// like public's (a hazard), and an object of a kind kschema does not
/// manage is listed, not compared.
#[tokio::test]
async fn a_shared_schemas_drift_is_seen() {
    let project = project();
    let db = TestDb::new().await;
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    db.execute(
        "ALTER TABLE audit.events ADD COLUMN extra int; \
         CREATE TYPE audit.total AS RANGE (subtype = int4)",
    )
    .await;
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert!(
        plan.stdout.contains("drop column events.extra"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("schema audit") && plan.stdout.contains("total"),
        "the range type is listed: {}",
        plan.stdout
    );
    let refused = kschema(&project, &db, &["apply"]);
    assert_eq!(refused.code, 1, "{}", refused.snapshot());
    assert!(
        refused.stderr.contains("deletes-data"),
        "{}",
        refused.snapshot()
    );
    let apply = kschema(&project, &db, &["apply", "--allow-destructive"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
}

/// Files that put objects in another schema than their folder's, a folder
/// whose name cannot be a schema, and a tenant living in a shared schema
/// are refused before anything runs.
#[tokio::test]
async fn shared_schema_mistakes_are_diagnosed() {
    let db = TestDb::new().await;
    let wrong = project();
    wrong.write(
        "schema/audit/other.sql",
        "CREATE TABLE reports.daily (id int PRIMARY KEY);\n",
    );
    let run = kschema(&wrong, &db, &["plan"]);
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(
        run.stderr.contains("kschema::sql::wrong_schema")
            && run.stderr.contains("schema/audit/other.sql:1")
            && run
                .stderr
                .contains("files under schema/audit define objects in audit"),
        "{}",
        run.snapshot()
    );

    let badly_named = project();
    badly_named.write("schema/Audit-Log/x.sql", "CREATE TABLE t (id int);\n");
    let run = kschema(&badly_named, &db, &["plan"]);
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(
        run.stderr.contains("kschema::project::shared_schema"),
        "{}",
        run.snapshot()
    );

    let clash = project();
    clash.write(
        "tenants.toml",
        "[[tenant]]\nid = \"a1\"\nschema = \"audit\"\n",
    );
    let run = kschema(&clash, &db, &["plan"]);
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(
        run.stderr.contains("kschema::tenant::shared_schema"),
        "{}",
        run.snapshot()
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert_eq!(db.schemas().await, ["public"]);
}

/// `inspect --shared audit` writes the schema to its folder; the project
/// it writes plans empty against the database it came from.
#[tokio::test]
async fn inspect_writes_a_shared_schema_when_asked() {
    let direct = run_directly(AUDIT).await;
    let project = Project::empty();
    project.write("tenants.toml", &tenants_toml(&TENANTS));
    // The tenants reference audit: without it the files would not load.
    let without = kschema(&project, &direct, &["inspect", "--force"]);
    assert_eq!(without.code, 1, "{}", without.snapshot());
    assert!(
        without.stderr.contains("kschema::inspect::shared_needed")
            && without.stderr.contains("kschema inspect --shared audit"),
        "{}",
        without.snapshot()
    );
    assert!(!project.path().join("schema/tenant/items.sql").exists());

    let inspect = kschema(
        &project,
        &direct,
        &["inspect", "--shared", "audit", "--force"],
    );
    assert_eq!(inspect.code, 0, "{}", inspect.snapshot());
    assert!(
        inspect.stdout.contains("schema/audit: 1 table"),
        "{}",
        inspect.stdout
    );
    assert!(project.path().join("schema/audit/events.sql").exists());
    let plan = kschema(&project, &direct, &["plan"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());

    let unknown = kschema(
        &project,
        &direct,
        &["inspect", "--shared", "nope", "--force"],
    );
    assert_eq!(unknown.code, 1, "{}", unknown.snapshot());
    assert!(
        unknown.stderr.contains("kschema::inspect::shared"),
        "{}",
        unknown.snapshot()
    );
}

/// A shared table the tenants reference, dropped with the references in
/// one change: the tenants drop their keys first, the shared drop waits
/// for them; and a tenant trigger may call a shared schema's function.
#[tokio::test]
async fn shared_drops_wait_for_the_tenants_and_tenant_triggers_call_shared_functions() {
    let project = project();
    let db = TestDb::new().await;
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    let audit = r#"CREATE TYPE level AS ENUM ('info', 'warn');
CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.touched := now(); RETURN NEW; END $$;
"#;
    let tenant = r#"CREATE TABLE items (
    id serial PRIMARY KEY,
    level audit.level,
    touched timestamptz
);
CREATE TRIGGER items_stamp BEFORE UPDATE ON items FOR EACH ROW EXECUTE FUNCTION audit.stamp();
"#;
    project
        .write("schema/audit/events.sql", audit)
        .write("schema/tenant/app.sql", tenant);
    let apply = kschema(&project, &db, &["apply", "--allow-destructive"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
    db.execute(
        "INSERT INTO org_a1.items (level) VALUES ('warn'); UPDATE org_a1.items SET level = 'info'",
    )
    .await;
    let touched: bool = db
        .client()
        .await
        .query_one("SELECT touched IS NOT NULL FROM org_a1.items", &[])
        .await
        .unwrap()
        .get(0);
    assert!(touched, "the shared function ran for the tenant's trigger");
}
