//! The core engine on a real PostgreSQL: the shipped desired state, drift in
//! one tenant, and bad input that changes nothing.

use crate::support::{assert_cli_snapshot, kschema, Project, TestDb, TENANT_SCHEMAS};

/// The shipped schema applied by kschema gives exactly the catalog that
/// running the same SQL files by hand gives (public as is, each tenant with
/// search_path = org_x, public), then plans empty.
#[tokio::test]
async fn fresh_database_matches_the_design_document() {
    let project = Project::shipped();
    let db = TestDb::new().await;
    let apply = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    assert_cli_snapshot!("apply_fresh_database", apply);

    let reference = TestDb::new().await;
    for file in sql_files(&project, "schema/public") {
        reference.execute(&file).await;
    }
    for schema in TENANT_SCHEMAS {
        let mut script = format!("CREATE SCHEMA {schema}; SET search_path = {schema}, public;\n");
        for file in sql_files(&project, "schema/tenant") {
            script.push_str(&file);
        }
        script.push_str("RESET search_path;");
        reference.execute(&script).await;
    }

    // kschema's own schema holds the history of runs.
    assert_eq!(
        db.schemas().await,
        [
            "kschema",
            "org_abc123",
            "org_def456",
            "org_xyz789",
            "public"
        ]
    );
    let public = db.catalog("public").await;
    assert_eq!(public, reference.catalog("public").await);
    let tenant = db.catalog("org_abc123").await;
    for schema in TENANT_SCHEMAS {
        assert_eq!(
            db.catalog(schema).await,
            reference.catalog(schema).await,
            "{schema}"
        );
        assert_eq!(
            db.catalog(schema).await,
            tenant,
            "{schema} differs from org_abc123"
        );
    }
    // The document's 18 tables and 15 indexes; the tenant FK into public.
    let tables = |dump: &str| {
        dump.lines()
            .filter(|l| l.starts_with("constraint ") && l.ends_with("PRIMARY KEY (id)"))
            .count()
    };
    assert_eq!(tables(&public) + tables(&tenant), 18);
    let idx = |dump: &str| dump.lines().filter(|l| l.contains("INDEX idx_")).count();
    assert_eq!(idx(&public) + idx(&tenant), 15);
    assert!(tenant.contains("constraint roles.roles_default_role_id_fkey FOREIGN KEY (default_role_id) REFERENCES public.default_roles(id)"));
    assert!(tenant.contains("constraint trial_shares.trial_shares_trial_id_fkey FOREIGN KEY (trial_id) REFERENCES public.trials(id)"));
    insta::assert_snapshot!("catalog_public", public);
    insta::assert_snapshot!("catalog_tenant", tenant);

    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
    assert_cli_snapshot!("plan_after_apply", plan);
}

fn sql_files(project: &Project, folder: &str) -> Vec<String> {
    let mut paths: Vec<_> = std::fs::read_dir(project.path().join(folder))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    // The raw files in dependency order, as someone running them by hand would.
    let order = [
        "enterprises",
        "default_roles",
        "modules",
        "trials",
        "users",
        "projects",
        "roles",
    ];
    paths.sort_by_key(|p| {
        let stem = p.file_stem().unwrap().to_string_lossy().to_string();
        order.iter().position(|o| *o == stem).unwrap_or(order.len())
    });
    paths
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// A database converged to the shipped state, with a little data in the
/// tenant that drifts, so online statements meet real rows.
async fn converged() -> (Project, TestDb) {
    let project = Project::shipped();
    let db = TestDb::new().await;
    let apply = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    db.execute(
        "INSERT INTO org_def456.users (auth0_id, organization_id, email) VALUES ('auth0|1', 'def456', 'a@example.com');
         INSERT INTO org_def456.projects (organization_id, name) VALUES ('def456', 'P');
         INSERT INTO org_def456.roles (project_id, name, default_role_id)
              SELECT p.id, 'Owner', d.id FROM org_def456.projects p, public.default_roles d WHERE d.name = 'Admin';",
    )
    .await;
    (project, db)
}

/// Drift in org_def456 only: the plan names exactly that change for exactly
/// that tenant; apply converges it to what the other tenants have; re-plan
/// is empty.
async fn drift_case(snapshot: &str, drift: &str, apply_flags: &[&str]) {
    let (project, db) = converged().await;
    db.execute(drift).await;
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert_cli_snapshot!(format!("drift_{snapshot}_plan"), plan);

    let mut args = vec!["apply", "--tenant", "all"];
    args.extend_from_slice(apply_flags);
    let apply = kschema(&project, &db, &args);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());

    let replan = kschema(&project, &db, &["plan"]);
    assert_eq!(replan.code, 0, "{}", replan.snapshot());
    assert_same_objects(
        &db.catalog("org_def456").await,
        &db.catalog("org_abc123").await,
    );
}

#[tokio::test]
async fn drift_missing_table() {
    drift_case("missing_table", "DROP TABLE org_def456.user_bookmarks", &[]).await;
}

#[tokio::test]
async fn drift_missing_column() {
    drift_case(
        "missing_column",
        "ALTER TABLE org_def456.users DROP COLUMN job_title",
        &[],
    )
    .await;
}

#[tokio::test]
async fn drift_extra_column_needs_allow_destructive() {
    let (project, db) = converged().await;
    db.execute("ALTER TABLE org_def456.users ADD COLUMN nickname text")
        .await;
    let before = db.catalog("org_def456").await;
    let refused = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_eq!(refused.code, 1, "{}", refused.snapshot());
    assert_cli_snapshot!("drift_extra_column_refused", refused);
    assert_eq!(
        db.catalog("org_def456").await,
        before,
        "a refused apply changed the database"
    );
    drift_case_on(&project, &db, "extra_column", &["--allow-destructive"]).await;
}

/// The tail of [`drift_case`] for a database already drifted.
async fn drift_case_on(project: &Project, db: &TestDb, snapshot: &str, apply_flags: &[&str]) {
    let plan = kschema(project, db, &["plan"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert_cli_snapshot!(format!("drift_{snapshot}_plan"), plan);
    let mut args = vec!["apply", "--tenant", "all"];
    args.extend_from_slice(apply_flags);
    let apply = kschema(project, db, &args);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    let replan = kschema(project, db, &["plan"]);
    assert_eq!(replan.code, 0, "{}", replan.snapshot());
    assert_same_objects(
        &db.catalog("org_def456").await,
        &db.catalog("org_abc123").await,
    );
}

#[tokio::test]
async fn drift_changed_type() {
    drift_case(
        "changed_type",
        "ALTER TABLE org_def456.users ALTER COLUMN email TYPE varchar(100)",
        &[],
    )
    .await;
}

#[tokio::test]
async fn drift_changed_default() {
    drift_case(
        "changed_default",
        "ALTER TABLE org_def456.projects ALTER COLUMN status SET DEFAULT 'DRAFT'",
        &[],
    )
    .await;
}

#[tokio::test]
async fn drift_dropped_not_null() {
    drift_case(
        "dropped_not_null",
        "ALTER TABLE org_def456.users ALTER COLUMN email DROP NOT NULL",
        &[],
    )
    .await;
}

#[tokio::test]
async fn drift_missing_index() {
    drift_case(
        "missing_index",
        "DROP INDEX org_def456.idx_users_org_id",
        &[],
    )
    .await;
}

#[tokio::test]
async fn drift_extra_index() {
    drift_case(
        "extra_index",
        "CREATE INDEX idx_users_last_name ON org_def456.users (last_name)",
        &[],
    )
    .await;
}

#[tokio::test]
async fn drift_missing_foreign_key() {
    drift_case(
        "missing_foreign_key",
        "ALTER TABLE org_def456.roles DROP CONSTRAINT roles_default_role_id_fkey",
        &[],
    )
    .await;
}

#[tokio::test]
async fn new_tenant_in_registry_is_provisioned() {
    let (project, db) = converged().await;
    let registry = project.read("tenants.toml");
    project.write(
        "tenants.toml",
        &format!("{registry}\n[[tenant]]\nid = \"new001\"\n"),
    );
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert_cli_snapshot!("new_tenant_plan", plan);
    let apply = kschema(&project, &db, &["apply", "--tenant", "new001"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    assert_eq!(
        db.catalog("org_new001").await,
        db.catalog("org_abc123").await
    );
    let replan = kschema(&project, &db, &["plan"]);
    assert_eq!(replan.code, 0, "{}", replan.snapshot());
}

/// The same columns, constraints and indexes; column order aside (PostgreSQL
/// appends a re-added column at the end and cannot reorder).
fn assert_same_objects(left: &str, right: &str) {
    let sorted = |text: &str| {
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort();
        lines.join("\n")
    };
    assert_eq!(sorted(left), sorted(right));
}

/// Introspection describes one table per distinct signature; tables that
/// differ only in what their foreign keys' referenced columns are called, or
/// in whether their default uses the sequence the column owns, must not share
/// one. The snapshot shows each tenant's own tables.
#[tokio::test]
async fn tables_that_differ_only_by_reference_are_told_apart() {
    let (project, db) = converged().await;
    db.execute(
        "ALTER TABLE org_def456.users RENAME COLUMN id TO user_uuid;
         CREATE SEQUENCE org_def456.other_seq;
         ALTER TABLE org_def456.notifications ALTER COLUMN id SET DEFAULT nextval('org_def456.other_seq');",
    )
    .await;
    let out = project.path().join("live.json");
    let snapshot = kschema(&project, &db, &["snapshot", "--out", out.to_str().unwrap()]);
    assert_eq!(snapshot.code, 0, "{}", snapshot.snapshot());
    let live: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let table = |schema: &str, table: &str| {
        let shape = live["schemas"][schema].as_str().unwrap();
        live["shapes"][shape]["tables"][table].clone()
    };
    let referenced = |schema: &str| {
        let constraints = table(schema, "user_bookmarks")["constraints"].clone();
        constraints
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["kind"] == "foreign_key")
            .map(|c| c["referenced_columns"].clone())
            .unwrap()
    };
    assert_eq!(referenced("org_abc123"), serde_json::json!(["id"]));
    assert_eq!(referenced("org_def456"), serde_json::json!(["user_uuid"]));

    let id_column = |schema: &str| table(schema, "notifications")["columns"][0].clone();
    assert_eq!(
        id_column("org_abc123")["identity"]["serial"]["sequence"],
        "notifications_id_seq"
    );
    assert!(
        id_column("org_def456")["identity"].is_null(),
        "{}",
        id_column("org_def456")
    );
    assert!(
        id_column("org_def456")["default"]["sql"]
            .as_str()
            .unwrap()
            .contains("other_seq"),
        "{}",
        id_column("org_def456")
    );
}

/// Every type this server has, with and without the modifiers people
/// declare, as `format_type` spells it: kschema's `ColumnType` takes the
/// spelling apart and puts it back exactly, so both sides of a comparison
/// stay PostgreSQL's own text.
#[tokio::test]
async fn column_types_round_trip_every_spelling_postgresql_writes() {
    let db = TestDb::new().await;
    db.execute(
        r#"CREATE TYPE "we(ird[]" AS ENUM ('a');
           CREATE TABLE modifiers (a varchar(64), b numeric(10,2), c numeric(7),
             d timestamp(3), e timestamptz(0)[], f time(6) with time zone, g interval day to second(3),
             h interval(2), i bit(8), j varbit(5), k char(3)[], l "we(ird[]"[], m "char", n int[][])"#,
    )
    .await;
    let rows = db
        .client()
        .await
        .query(
            "SELECT format_type(t.oid, NULL) FROM pg_type t WHERE t.typtype <> 'p'
             UNION ALL
             SELECT format_type(atttypid, atttypmod) FROM pg_attribute
             WHERE attrelid = 'modifiers'::regclass AND attnum > 0",
            &[],
        )
        .await
        .unwrap();
    assert!(rows.len() > 100, "{} types", rows.len());
    for row in rows {
        let text: String = row.get(0);
        let parsed = kschema_core::model::ColumnType::parse(&text);
        assert_eq!(parsed.to_string(), text, "{parsed:?}");
        if text.contains('(') && !text.starts_with('"') {
            assert!(
                !parsed.modifiers().is_empty(),
                "{text}: modifiers not found"
            );
        }
    }
}
