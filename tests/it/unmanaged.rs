//! Nothing silent: objects of kinds kschema does not manage yet, in the
//! schemas it manages, are listed by plan (every format), check, diff and
//! inspect — never an "up to date" that hides them.

use crate::support::{ensure_tablespace, kschema, Project, TestDb};

/// One statement per kind, in tenant abc123's schema, and the line each
/// kind gets in the report.
const TENANT_OBJECTS: &[(&str, &str)] = &[
    // A trigger on a view is not a table's (which are managed).
    (
        "CREATE FUNCTION public.no_write() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$; \
         CREATE TRIGGER active_users_read_only INSTEAD OF INSERT ON org_abc123.active_users FOR EACH ROW EXECUTE FUNCTION public.no_write()",
        "1 trigger (active_users_read_only on active_users)",
    ),
    (
        "CREATE TYPE org_abc123.span AS RANGE (subtype = int4)",
        "1 range type (span)",
    ),
    (
        "COMMENT ON TYPE org_abc123.span IS 'from, to'",
        "1 comment (type span)",
    ),
    (
        "GRANT SELECT ON org_abc123.projects TO PUBLIC",
        "table projects (PUBLIC: SELECT)",
    ),
    (
        // An exclusion constraint's index: its storage parameters are not
        // managed (an index's and a key's are), nor a key's tablespace (a
        // table's and an index's are).
        "ALTER TABLE org_abc123.projects ADD CONSTRAINT projects_name_excl \
         EXCLUDE USING btree (name WITH =) WITH (fillfactor = 70) USING INDEX TABLESPACE kschema_case_space",
        "1 index with storage options (projects_name_excl (fillfactor=70, TABLESPACE kschema_case_space))",
    ),
    // USING INDEX an index dropped since: no statement says what it is.
    (
        "CREATE UNIQUE INDEX permissions_by_name ON org_abc123.permissions (name); \
         ALTER TABLE org_abc123.permissions REPLICA IDENTITY USING INDEX permissions_by_name; \
         DROP INDEX org_abc123.permissions_by_name",
        "1 replica identity (permissions (USING INDEX, the index dropped))",
    ),
    (
        "CREATE RULE no_delete AS ON DELETE TO org_abc123.trial_shares DO INSTEAD NOTHING",
        "1 rule (no_delete on trial_shares)",
    ),
    (
        "CREATE STATISTICS org_abc123.user_names ON first_name, last_name FROM org_abc123.users",
        "1 statistics object (user_names)",
    ),
    (
        "CREATE TABLE org_abc123.events (id int, at date); \
         CREATE TABLE org_abc123.events_2026 (note text) INHERITS (org_abc123.events)",
        "1 inheriting table (events_2026 (of events))",
    ),
    // Last: the tables above would otherwise get its grants. A role the
    // files do not speak for: listed with the other grants.
    (
        "ALTER DEFAULT PRIVILEGES IN SCHEMA org_abc123 GRANT SELECT ON TABLES TO PUBLIC",
        "2 objects with granted privileges (default privileges on tables (PUBLIC: SELECT), table projects (PUBLIC: SELECT))",
    ),
];

/// Objects of kinds kschema manages, which the files do not declare: drift
/// to drop, not objects to list.
const MANAGED_DRIFT: &[(&str, &str)] = &[
    (
        "CREATE TYPE org_abc123.pair AS (a int, b int)",
        "- drop type pair",
    ),
    // Its index goes with it.
    (
        "CREATE MATERIALIZED VIEW org_abc123.user_count AS SELECT count(*) FROM org_abc123.users; \
         CREATE INDEX user_count_n ON org_abc123.user_count (count)",
        "- drop materialized view user_count",
    ),
    (
        "CREATE VIEW org_abc123.active_users AS SELECT id FROM org_abc123.users",
        "- drop view active_users",
    ),
    (
        "CREATE FUNCTION org_abc123.touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.updated_at = now(); RETURN NEW; END$$",
        "- drop function touch()",
    ),
    (
        "CREATE PROCEDURE org_abc123.tidy(days int) LANGUAGE sql AS 'SELECT 1'",
        "- drop procedure tidy(integer)",
    ),
    (
        "CREATE TRIGGER users_touch BEFORE UPDATE ON org_abc123.users FOR EACH ROW EXECUTE FUNCTION org_abc123.touch()",
        "- drop trigger users_touch on users",
    ),
    (
        "CREATE TYPE org_abc123.mood AS ENUM ('happy', 'sad')",
        "- drop enum mood",
    ),
    (
        "CREATE DOMAIN org_abc123.positive AS int CHECK (VALUE > 0)",
        "- drop domain positive",
    ),
    (
        "ALTER TABLE org_abc123.roles REPLICA IDENTITY USING INDEX roles_pkey",
        "~ set replica identity of roles to default",
    ),
    (
        "ALTER TABLE org_abc123.roles SET TABLESPACE kschema_case_space",
        "~ move table roles to the database's default tablespace",
    ),
    (
        "ALTER INDEX org_abc123.idx_users_org_email SET TABLESPACE kschema_case_space",
        "~ move index idx_users_org_email on users to the database's default tablespace",
    ),
    (
        "ALTER TABLE org_abc123.roles ENABLE ROW LEVEL SECURITY",
        "~ row-level security on roles: disabled",
    ),
    (
        "CREATE POLICY own_roles ON org_abc123.roles USING (true)",
        "- drop policy own_roles on roles",
    ),
    (
        "COMMENT ON INDEX org_abc123.idx_users_org_email IS 'lookup'",
        "~ remove comment on index idx_users_org_email",
    ),
    // Database-wide: public's, whatever schema its objects are in.
    (
        "CREATE EXTENSION citext SCHEMA org_abc123",
        "- drop extension citext",
    ),
];

async fn shipped_with_tenant_objects() -> (Project, TestDb) {
    let project = Project::shipped();
    let db = TestDb::new().await;
    ensure_tablespace(&db, "kschema_case_space").await;
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    for (sql, _) in MANAGED_DRIFT.iter().chain(TENANT_OBJECTS) {
        db.execute(sql).await;
    }
    db.execute("CREATE EXTENSION pgcrypto SCHEMA public").await;
    // What the database's own defaults take from PostgreSQL's built-in
    // ones is not a grant: listed with public.
    db.execute("ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC")
        .await;
    (project, db)
}

#[tokio::test]
async fn plan_lists_every_unmanaged_kind_instead_of_saying_up_to_date() {
    let (project, db) = shipped_with_tenant_objects().await;

    let plan = kschema(&project, &db, &["plan"]);
    let text = &plan.stdout;
    assert!(
        text.contains("Not compared — kschema does not manage these yet"),
        "{}",
        plan.snapshot()
    );
    for (_, line) in TENANT_OBJECTS.iter().chain(MANAGED_DRIFT) {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    assert!(
        text.contains("on functions (PUBLIC EXECUTE revoked))"),
        "{text}"
    );
    // Extensions are the database's: public's plan drops those the files
    // do not declare.
    assert!(text.contains("- drop extension pgcrypto"), "{text}");
    // The tenant's block names it alone: the others hold nothing unmanaged.
    assert!(
        text.contains("\n  tenant abc123 (org_abc123):\n    1 range type (span)\n"),
        "{text}"
    );
    assert!(!text.contains("def456 (org_def456):"), "{text}");
    // The events table itself is a table kschema would drop (it is not in
    // the files), and says so.
    assert!(text.contains("- drop table events"), "{text}");
    assert!(
        text.contains("it does not manage were not compared (listed above)."),
        "{text}"
    );

    // JSON: per target, with a count in the summary.
    let json = kschema(&project, &db, &["plan", "--format", "json"]);
    let document: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let targets = document["targets"].as_array().unwrap();
    let abc = targets
        .iter()
        .find(|t| t["tenant"] == "abc123")
        .expect("tenant abc123 in the plan");
    let kinds: Vec<&str> = abc["not_compared"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "trigger",
        "range_type",
        "comment",
        "privileges",
        "index_options",
        "replica_identity",
        "rule",
        "statistics",
        "inherited_table",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    let def = targets.iter().find(|t| t["tenant"] == "def456").unwrap();
    assert!(def.get("not_compared").is_none(), "{def}");
    let public = targets.iter().find(|t| t["schema"] == "public").unwrap();
    assert_eq!(
        public["not_compared"][0]["kind"], "default_privileges",
        "{public}"
    );
    assert_eq!(
        document["summary"]["not_compared"].as_u64().unwrap() as usize,
        kinds.len() + 1
    );

    // Markdown and SQL say it too.
    let markdown = kschema(&project, &db, &["plan", "--format", "markdown"]).stdout;
    assert!(markdown.contains("**Not compared"), "{markdown}");
    assert!(markdown.contains("  - 1 range type (span)"), "{markdown}");
    let sql = kschema(&project, &db, &["plan", "--format", "sql"]).stdout;
    assert!(
        sql.contains("--   tenant abc123 (org_abc123):\n--     1 range type (span)"),
        "{sql}"
    );
}

#[tokio::test]
async fn check_diff_inspect_and_snapshots_list_unmanaged_objects() {
    let project = Project::shipped();
    let db = TestDb::new().await;
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    for schema in ["org_abc123", "org_def456"] {
        db.execute(&format!(
            "CREATE TYPE {schema}.span AS RANGE (subtype = int4); \
             CREATE STATISTICS {schema}.names ON first_name, last_name FROM {schema}.users"
        ))
        .await;
    }

    // check: in sync in what it manages, and what it did not compare.
    let check = kschema(&project, &db, &["check"]);
    assert_eq!(check.code, 0, "{}", check.snapshot());
    assert!(
        check.stdout.contains(
            "match the desired state in what kschema manages; 4 objects it does not manage were not compared (listed below)."
        ),
        "{}",
        check.stdout
    );
    // Two tenants with the same objects are one line.
    assert!(
        check.stdout.contains(
            "2 tenants (abc123, def456): 1 range type (span), 1 statistics object (names)"
        ),
        "{}",
        check.stdout
    );

    // A plain plan: no changes, but not a bare "up to date".
    let plan = kschema(&project, &db, &["plan"]);
    assert!(
        plan.stdout.contains(
            "No changes: public and 3 tenant schemas are up to date in what kschema manages; 4 objects it does not manage were not compared (listed above)."
        ),
        "{}",
        plan.stdout
    );

    // A snapshot records them, and a plan against it lists them.
    let snapshot = project.path().join("live.json");
    let snapshot_path = snapshot.display().to_string();
    let taken = kschema(&project, &db, &["snapshot", "--out", &snapshot_path]);
    assert_eq!(taken.code, 0, "{}", taken.snapshot());
    let offline = kschema(
        &project,
        &db,
        &["plan", "--against", &snapshot_path, "--dev-url", &db.url()],
    );
    assert!(
        offline
            .stdout
            .contains("1 range type (span), 1 statistics object (names)"),
        "{}",
        offline.snapshot()
    );

    // diff, database against project.
    let diff = kschema(
        &project,
        &db,
        &["diff", &db.url(), &project.path().display().to_string()],
    );
    assert!(
        diff.stdout.contains(
            "2 tenants (abc123, def456): 1 range type (span), 1 statistics object (names)"
        ),
        "{}",
        diff.snapshot()
    );

    // inspect: what it did not write.
    let (_, inspect) = crate::support::inspect_into_new_project(&project, &db);
    assert!(
        inspect
            .stdout
            .contains("Not written — kschema does not manage these yet (4 objects):"),
        "{}",
        inspect.stdout
    );
    assert!(
        inspect.stdout.contains(
            "finds nothing to change in public or the template in what kschema manages; 4 objects it does not manage were not written (listed above)."
        ),
        "{}",
        inspect.stdout
    );
}

#[tokio::test]
async fn live_generated_columns_and_serial_options_are_read_and_exclusion_constraints_listed() {
    let project = Project::empty();
    project.write(
        "schema/public/things.sql",
        "CREATE TABLE things (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n serial, name text, during tstzrange);\n",
    );
    let db = TestDb::new().await;
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    db.execute(
        "CREATE EXTENSION btree_gist; \
         ALTER TABLE public.things ADD COLUMN shout text GENERATED ALWAYS AS (upper(name)) STORED; \
         ALTER TABLE public.things ADD CONSTRAINT no_overlap EXCLUDE USING gist (during WITH &&); \
         ALTER TABLE public.things ALTER COLUMN id SET CACHE 20; \
         ALTER SEQUENCE public.things_n_seq CACHE 20; \
         CREATE INDEX things_name ON public.things (name) WITH (fillfactor = 50)",
    )
    .await;
    let plan = kschema(&project, &db, &["plan"]);
    // Reading the generated column used to fail ("expression contains
    // variables"); now it is read and managed like any column (the files
    // do not have it).
    assert!(
        plan.stdout.contains("- drop column things.shout text"),
        "{}",
        plan.snapshot()
    );
    assert!(!plan.stdout.contains("generated column"), "{}", plan.stdout);
    // So is the exclusion constraint (the files do not have it either).
    assert!(
        plan.stdout
            .contains("- drop exclusion constraint no_overlap on things"),
        "{}",
        plan.stdout
    );
    for line in [
        // An identity's options are managed, and a serial's.
        "~ alter column things.id identity CACHE 1",
        "~ alter column things.n serial's sequence CACHE 1",
        // An index's storage parameters are managed (the files do not
        // have the index).
        "- drop index things_name",
        "- drop extension btree_gist",
    ] {
        assert!(plan.stdout.contains(line), "{line}\n{}", plan.stdout);
    }
}

/// A serial's sequence options and type set by hand in one tenant of
/// several are planned back for that tenant alone (the fleet signatures
/// sign a column's own sequence).
#[tokio::test]
async fn serial_options_drifted_in_one_tenant_are_seen_in_that_tenant() {
    let project = crate::support::project_of(
        "",
        "CREATE TABLE notes (id SERIAL PRIMARY KEY, body TEXT);\n",
        &["a1", "b2", "c3"],
    );
    let db = TestDb::new().await;
    let apply = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    db.execute(
        "ALTER SEQUENCE org_b2.notes_id_seq CACHE 20; ALTER SEQUENCE org_c3.notes_id_seq AS bigint",
    )
    .await;
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    for expected in [
        "~ alter column notes.id serial's sequence CACHE 1",
        "~ alter column notes.id serial's sequence AS integer",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "{expected}: {}",
            plan.stdout
        );
    }
    assert!(
        !plan.stdout.contains("tenant a1 (org_a1): 1"),
        "{}",
        plan.stdout
    );
}

/// A table or index moved to another tablespace in one tenant of a fleet
/// is that tenant's change (the fleet signatures sign where each lives).
#[tokio::test]
async fn a_tablespace_drifted_in_one_tenant_is_that_tenants_change() {
    let project = crate::support::project_of(
        "",
        "CREATE TABLE notes (id int PRIMARY KEY, body text) TABLESPACE kschema_case_space;\n\
         CREATE INDEX notes_body ON notes (body) TABLESPACE kschema_case_space;\n",
        &["a1", "b2", "c3"],
    );
    let db = TestDb::new().await;
    ensure_tablespace(&db, "kschema_case_space").await;
    let apply = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    db.execute(
        "ALTER TABLE org_b2.notes SET TABLESPACE pg_default; \
         ALTER INDEX org_c3.notes_body SET TABLESPACE pg_default",
    )
    .await;
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    for expected in [
        "tenant b2 (org_b2): 1 change\n  ~ move table notes to tablespace kschema_case_space",
        "tenant c3 (org_c3): 1 change\n  ~ move index notes_body on notes to tablespace kschema_case_space",
    ] {
        assert!(plan.stdout.contains(expected), "{expected}: {}", plan.stdout);
    }
    assert!(
        plan.stdout.contains("tenant a1 (org_a1): up to date"),
        "{}",
        plan.stdout
    );
    let apply = kschema(
        &project,
        &db,
        &[
            "apply",
            "--tenant",
            "all",
            "--allow-hazard",
            "access-exclusive-lock",
        ],
    );
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
}
