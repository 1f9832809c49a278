//! Comments on every kind kschema manages, shared and per tenant: set,
//! changed, removed, and set again on an object created again; after each
//! apply the plan is empty and `pg_dump --schema-only` equals that of the
//! SQL run directly. Comments on kinds kschema does not manage are refused
//! in files.

use crate::support::{assert_converges, kschema, project_of, Project, TestDb};

const PUBLIC: &str = "CREATE EXTENSION IF NOT EXISTS citext;
COMMENT ON EXTENSION citext IS 'case-insensitive e-mail addresses';
CREATE TYPE plan_tier AS ENUM ('free', 'pro');
COMMENT ON TYPE plan_tier IS 'what a plan costs';
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
COMMENT ON FUNCTION touch() IS 'keeps updated_at current';
CREATE PROCEDURE noop(n int) LANGUAGE sql AS $$ SELECT 1 $$;
COMMENT ON PROCEDURE public.noop(integer) IS 'does nothing';
CREATE SEQUENCE invoice_numbers;
COMMENT ON SEQUENCE invoice_numbers IS 'invoice numbers, gapless enough';
";

const TENANT: &str = "CREATE TABLE tasks (
    id BIGINT PRIMARY KEY,
    title VARCHAR(100) NOT NULL CONSTRAINT title_not_blank CHECK (title <> ''),
    owner TEXT,
    updated_at TIMESTAMPTZ
);
CREATE INDEX tasks_owner ON tasks (owner);
COMMENT ON INDEX tasks_owner IS 'tasks by owner';
COMMENT ON CONSTRAINT title_not_blank ON tasks IS 'a title says something';
CREATE TRIGGER tasks_touch BEFORE UPDATE ON tasks FOR EACH ROW EXECUTE FUNCTION touch();
COMMENT ON TRIGGER tasks_touch ON tasks IS 'stamps each change';
ALTER TABLE tasks ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_tasks ON tasks USING (owner = current_user);
COMMENT ON POLICY own_tasks ON tasks IS 'each sees their own';
CREATE VIEW task_titles AS SELECT id, title FROM tasks;
COMMENT ON VIEW task_titles IS 'for the report';
COMMENT ON COLUMN task_titles.title IS 'as typed';
";

const TENANTS: &[&str] = &["t1", "t2"];

#[tokio::test]
async fn comments_on_every_kind_converge() {
    let project = project_of(PUBLIC, TENANT, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, (PUBLIC, TENANT), TENANTS, &[]).await;
    // kschema compares them: none is listed as not managed.
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(!plan.stdout.contains("comment"), "{}", plan.stdout);

    // Changed, removed, and a view created again (a column it reads changes
    // type), which takes its comments with it: set again.
    let changed = TENANT
        .replace("'tasks by owner'", "'tasks, by owner'")
        .replace(
            "COMMENT ON TRIGGER tasks_touch ON tasks IS 'stamps each change';\n",
            "",
        )
        .replace("title VARCHAR(100)", "title TEXT");
    let public = PUBLIC.replace("'what a plan costs'", "'what a plan costs, per month'");
    project.write("schema/tenant/app.sql", &changed);
    project.write("schema/public/app.sql", &public);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    for expected in [
        "~ set comment on index tasks_owner",
        "~ remove comment on trigger tasks_touch on tasks",
        "~ set comment on view task_titles",
        "~ set comment on column task_titles.title",
        "~ set comment on type plan_tier",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "{expected}\n{}",
            plan.stdout
        );
    }
    assert!(
        !plan.stdout.contains("comment on constraint"),
        "{}",
        plan.stdout
    );
    assert_converges(&project, &db, (&public, &changed), TENANTS, &[]).await;

    // The SQL plan says it as PostgreSQL reads it.
    project.write("schema/tenant/app.sql", TENANT);
    let sql = kschema(
        &project,
        &db,
        &["plan", "--tenant", "t1", "--format", "sql"],
    );
    assert!(
        sql.stdout
            .contains("COMMENT ON TRIGGER tasks_touch ON org_t1.tasks IS 'stamps each change';"),
        "{}",
        sql.stdout
    );
}

/// Comments are keyed by their object: a model holding them once failed to
/// serialize, which made every commented tenant share one fingerprint (a
/// drift in one was not seen) and wrote empty snapshots.
#[tokio::test]
async fn with_comments_a_tenant_drift_is_seen_and_a_snapshot_holds_them() {
    let project = project_of(PUBLIC, TENANT, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, (PUBLIC, TENANT), TENANTS, &[]).await;

    db.execute("DROP TRIGGER tasks_touch ON org_t2.tasks").await;
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(
        plan.stdout.contains("tenant t1 (org_t1): up to date"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("tenant t2 (org_t2): 2 changes"),
        "{}",
        plan.stdout
    );

    let snapshot = project.path().join("live.json");
    let snap = kschema(
        &project,
        &db,
        &["snapshot", "--out", snapshot.to_str().unwrap()],
    );
    assert_eq!(snap.code, 0, "{}", snap.snapshot());
    let document: serde_json::Value =
        serde_json::from_str(&project.read("live.json")).expect("the snapshot is JSON");
    assert!(
        document.to_string().contains("tasks by owner"),
        "{document}"
    );
    let against = kschema(
        &project,
        &db,
        &[
            "plan",
            "--tenant",
            "all",
            "--against",
            snapshot.to_str().unwrap(),
        ],
    );
    assert_eq!(against.code, 2, "{}", against.snapshot());
    assert!(
        against.stdout.contains("tenant t2 (org_t2): 2 changes"),
        "{}",
        against.stdout
    );
}

#[tokio::test]
async fn comments_on_kinds_not_managed_are_refused() {
    let project = Project::empty();
    project.write(
        "schema/public/app.sql",
        "CREATE TABLE plans (id INT PRIMARY KEY);\n",
    );
    project.write(
        "schema/tenant/app.sql",
        "CREATE TABLE tasks (id INT PRIMARY KEY);\nCOMMENT ON COLLATION task_order IS 'a task';\n\
         COMMENT ON EXTENSION citext IS 'no';\n",
    );
    project.write("tenants.toml", &crate::support::tenants_toml(&["t1"]));
    let db = TestDb::new().await;
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 1, "{}", plan.snapshot());
    for expected in [
        "COMMENT ON COLLATION is not part of a desired state",
        "COMMENT ON EXTENSION is not part of a desired state",
        "extensions and event triggers are database-wide",
        "app.sql:2:12]",
        "app.sql:3:12]",
    ] {
        assert!(
            plan.stderr.contains(expected),
            "{expected}\n{}",
            plan.stderr
        );
    }
}

/// A comment's text may be any string constant PostgreSQL takes: a
/// dollar-quoted one converges like a quoted one.
#[tokio::test]
async fn dollar_quoted_comments_converge() {
    const FILES: &str = "CREATE TABLE notes (id int PRIMARY KEY, body text);
COMMENT ON TABLE notes IS $$the team's notes$$;
COMMENT ON COLUMN notes.body IS $md$Markdown, 'quoted'$md$;
CREATE VIEW bodies AS SELECT body FROM notes;
COMMENT ON VIEW bodies IS $$what's written$$;
";
    let project = project_of(FILES, FILES, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, (FILES, FILES), TENANTS, &[]).await;
}
