//! Row-level security as desired state: a table's ENABLE / FORCE flags and
//! its policies, in public and in every tenant; after each apply the plan
//! is empty and `pg_dump --schema-only` equals that of the SQL run
//! directly.

use crate::support::{
    assert_converges, ensure_role, kschema, project_of, run_directly, tenants_toml, Project, TestDb,
};

const TENANT: &str = "CREATE TABLE docs (
    id BIGINT PRIMARY KEY,
    owner TEXT NOT NULL DEFAULT current_user,
    body VARCHAR(100)
);
CREATE POLICY docs_owner ON docs USING (owner = current_user) WITH CHECK (owner = current_user);
CREATE POLICY docs_visible ON docs AS RESTRICTIVE FOR SELECT TO kschema_test_app
    USING (body IS NOT NULL);
ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
";

const TENANTS: &[&str] = &["r1", "r2"];

/// The role the policies name; roles are the cluster's, shared by tests.
async fn with_role(db: &TestDb) {
    ensure_role(db, "kschema_test_app").await;
}

#[tokio::test]
async fn row_security_and_policies_converge_and_change() {
    let project = project_of("", TENANT, TENANTS);
    let db = TestDb::new().await;
    with_role(&db).await;
    assert_converges(&project, &db, ("", TENANT), TENANTS, &[]).await;

    // A column a policy reads changes type: the policy goes and comes
    // back around it; FORCE is added; a policy is dropped.
    let changed = TENANT
        .replace("body VARCHAR(100)", "body TEXT")
        .replace(
            "ENABLE ROW LEVEL SECURITY;",
            "ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;",
        )
        .replace(
            "CREATE POLICY docs_owner ON docs USING (owner = current_user) WITH CHECK (owner = current_user);\n",
            "",
        );
    project.write("schema/tenant/app.sql", &changed);
    let plan = kschema(
        &project,
        &db,
        &["plan", "--tenant", "all", "--format", "sql"],
    );
    let order: Vec<usize> = [
        "DROP POLICY docs_visible ON org_r1.docs",
        "ALTER TABLE org_r1.docs ALTER COLUMN body TYPE text",
        "CREATE POLICY docs_visible ON docs",
        "FORCE ROW LEVEL SECURITY",
    ]
    .iter()
    .map(|s| {
        plan.stdout
            .find(s)
            .unwrap_or_else(|| panic!("{s}\n{}", plan.stdout))
    })
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{}", plan.stdout);
    assert!(
        plan.stdout
            .contains("DROP POLICY docs_owner ON org_r1.docs"),
        "{}",
        plan.stdout
    );
    assert_converges(&project, &db, ("", &changed), TENANTS, &[]).await;
}

/// Turning row security on for a table that holds rows hides them from
/// every role without a policy: a hazard apply refuses until allowed.
#[tokio::test]
async fn enabling_row_security_on_a_table_with_rows_is_a_hazard() {
    let plain = "CREATE TABLE notes (id INT PRIMARY KEY, body TEXT);\n";
    let project = project_of("", plain, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, ("", plain), TENANTS, &[]).await;
    let secured = format!("{plain}ALTER TABLE notes ENABLE ROW LEVEL SECURITY;\n");
    project.write("schema/tenant/app.sql", &secured);
    let refused = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_ne!(refused.code, 0, "{}", refused.snapshot());
    assert!(refused.stdout.contains("hides-rows"), "{}", refused.stdout);
    assert_converges(
        &project,
        &db,
        ("", &secured),
        TENANTS,
        &["--allow-hazard", "hides-rows"],
    )
    .await;
}

#[tokio::test]
async fn a_policy_on_a_table_the_folder_lacks_is_refused() {
    let project = project_of("", "CREATE POLICY p ON nowhere USING (true);\n", TENANTS);
    let db = TestDb::new().await;
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 1, "{}", plan.snapshot());
    assert!(
        plan.stderr.contains("kschema::sql::policy_table"),
        "{}",
        plan.stderr
    );
}

#[tokio::test]
async fn inspect_writes_row_security_and_policies() {
    let db = TestDb::new().await;
    with_role(&db).await;
    let db = {
        let direct = run_directly("", TENANT, TENANTS).await;
        drop(db);
        direct
    };
    let project = Project::empty();
    project.write("tenants.toml", &tenants_toml(TENANTS));
    let inspect = kschema(&project, &db, &["inspect", "--force"]);
    assert_eq!(inspect.code, 0, "{}", inspect.snapshot());
    let docs = project.read("schema/tenant/docs.sql");
    assert!(
        docs.contains(
            "CREATE POLICY docs_visible ON docs AS RESTRICTIVE FOR SELECT TO kschema_test_app"
        ),
        "{docs}"
    );
    assert!(docs.contains("ENABLE ROW LEVEL SECURITY"), "{docs}");
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
}

/// A shared column whose type changes under tenant policies reading it
/// (PostgreSQL: "cannot alter type of a column used in a policy
/// definition") takes them along in public's transaction, as they are
/// live; so does a shared table created again.
#[tokio::test]
async fn a_shared_change_under_tenant_policies_takes_them_along() {
    const TENANTS: &[&str] = &["a", "b"];
    let public = "CREATE TABLE orgs (id int PRIMARY KEY, code text NOT NULL);\n";
    let tenant = "CREATE TABLE notes (id int PRIMARY KEY, org int NOT NULL, body text);
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY mine ON notes USING (org IN (SELECT id FROM orgs WHERE code = current_user));
";
    let project = project_of(public, tenant, TENANTS);
    let db = TestDb::new().await;
    let apply = kschema(&project, &db, &["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());

    let widened = public.replace("id int PRIMARY KEY", "id bigint PRIMARY KEY");
    project.write("schema/public/app.sql", &widened);
    let plan = kschema(&project, &db, &["plan"]);
    assert!(
        plan.stdout.contains("- take off 2 defaults, constraints, indexes or policies of other schemas that call or read what changes here, put back after it: org_a.notes policy mine, org_b.notes policy mine"),
        "{}",
        plan.stdout
    );
    let allow = ["--allow-hazard", "rewrites-table,recreates-object"];
    assert_converges(&project, &db, (&widened, tenant), TENANTS, &allow).await;
}
