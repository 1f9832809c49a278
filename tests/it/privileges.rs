//! Privileges of the roles kschema is told it manages (`[roles] managed`):
//! granted as the files say, in public and every tenant, revoked when the
//! files stop saying so (a hazard); other roles' privileges are listed and
//! never touched. After each apply the plan is empty and `pg_dump
//! --schema-only` (which prints every GRANT) equals that of the SQL run
//! directly.

use crate::support::{assert_converges, ensure_role, kschema, project_of, Project, TestDb};

const PUBLIC: &str = "CREATE TABLE plans (id INT PRIMARY KEY, name TEXT);
CREATE SEQUENCE counter;
CREATE FUNCTION price(plan INT) RETURNS INT LANGUAGE sql AS $$ SELECT plan * 10 $$;
GRANT SELECT ON plans TO kschema_test_app;
GRANT UPDATE (name) ON plans TO kschema_test_app;
GRANT USAGE ON SEQUENCE counter TO kschema_test_app;
GRANT EXECUTE ON FUNCTION price(int) TO kschema_test_app;
";

const TENANT: &str = "CREATE TABLE docs (id INT PRIMARY KEY, body TEXT);
CREATE VIEW doc_ids AS SELECT id FROM docs;
GRANT SELECT, INSERT, UPDATE, DELETE ON docs TO kschema_test_app;
GRANT SELECT ON doc_ids TO kschema_test_app WITH GRANT OPTION;
";

const TENANTS: &[&str] = &["p1", "p2"];

const CONFIG: &str = "[roles]\nmanaged = [\"kschema_test_app\"]\n";

/// The roles the cases grant to (roles are the cluster's, shared by tests).
async fn with_roles(db: &TestDb) {
    for role in ["kschema_test_app", "kschema_test_ro"] {
        ensure_role(db, role).await;
    }
}

#[tokio::test]
async fn managed_privileges_converge_and_others_are_left_alone() {
    let project = project_of(PUBLIC, TENANT, TENANTS);
    project.write("kschema.toml", CONFIG);
    let db = TestDb::new().await;
    with_roles(&db).await;
    assert_converges(&project, &db, (PUBLIC, TENANT), TENANTS, &[]).await;

    // Drift: a privilege nobody declared for a managed role is revoked (a
    // hazard); another role's is listed, not touched.
    db.execute(
        "GRANT TRUNCATE ON org_p1.docs TO kschema_test_app;
         GRANT SELECT ON org_p2.docs TO kschema_test_ro;",
    )
    .await;
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    for line in [
        "tenant p1 (org_p1): 1 change\n  - revoke TRUNCATE on table docs from kschema_test_app",
        "revokes-access",
        "1 object with granted privileges (table docs (kschema_test_ro: SELECT))",
    ] {
        assert!(plan.stdout.contains(line), "{line}\n{}", plan.stdout);
    }
    let refused = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_ne!(refused.code, 0, "{}", refused.snapshot());
    let apply = kschema(
        &project,
        &db,
        &[
            "apply",
            "--tenant",
            "all",
            "--allow-hazard",
            "revokes-access",
        ],
    );
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    let client = db.client().await;
    let kept: bool = client
        .query_one(
            "SELECT has_table_privilege('kschema_test_ro', 'org_p2.docs', 'SELECT')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(kept, "another role's privilege was touched");

    // A view created again gets its privileges again.
    let tenant = TENANT.replace(
        "SELECT id FROM docs",
        "SELECT id, body FROM docs WHERE id > 0",
    );
    let tenant = tenant.replace(
        "CREATE VIEW doc_ids AS SELECT id, body",
        "CREATE VIEW doc_ids AS SELECT body, id",
    );
    project.write("schema/tenant/app.sql", &tenant);
    db.execute("REVOKE SELECT ON org_p2.docs FROM kschema_test_ro")
        .await;
    assert_converges(&project, &db, (PUBLIC, &tenant), TENANTS, &[]).await;

    // inspect writes the managed role's privileges back (the tenant's as a
    // dump of the template writes them), declares the role, and its files
    // plan empty.
    let out = inspected_with_roles(&project, &db);
    let public = out.read("schema/public/privileges.sql");
    for expected in [
        "GRANT SELECT ON TABLE public.plans TO kschema_test_app;",
        "GRANT UPDATE (name) ON TABLE public.plans TO kschema_test_app;",
        "GRANT EXECUTE ON FUNCTION public.price(integer) TO kschema_test_app;",
    ] {
        assert!(public.contains(expected), "{expected}\n{public}");
    }
    let tenant = out.read("schema/tenant/privileges.sql");
    assert!(tenant.contains("CREATE SCHEMA org_p1;"), "{tenant}");
    assert!(
        tenant.contains(
            "GRANT DELETE, INSERT, SELECT, UPDATE ON TABLE org_p1.docs TO kschema_test_app;"
        ),
        "{tenant}"
    );
    assert!(
        out.read("kschema.toml")
            .contains("managed = [\"kschema_test_app\"]"),
        "{}",
        out.read("kschema.toml")
    );
}

/// `inspect --roles kschema_test_app` into a new project (with the
/// project's tenants.toml), which must succeed and plan empty.
fn inspected_with_roles(project: &Project, db: &TestDb) -> Project {
    let out = Project::empty();
    let out_dir = out.path().display().to_string();
    let inspect = kschema(
        project,
        db,
        &[
            "inspect",
            "--out",
            &out_dir,
            "--force",
            "--roles",
            "kschema_test_app",
        ],
    );
    assert_eq!(inspect.code, 0, "{}", inspect.snapshot());
    out.write("tenants.toml", &project.read("tenants.toml"));
    let plan = kschema(&out, db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
    out
}

#[tokio::test]
async fn a_grant_to_a_role_not_managed_is_refused() {
    let project = project_of(PUBLIC, "", TENANTS);
    project.write("kschema.toml", "[roles]\nmanaged = [\"kschema_test_ro\"]\n");
    let db = TestDb::new().await;
    with_roles(&db).await;
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 1, "{}", plan.snapshot());
    assert!(
        plan.stderr.contains("kschema::sql::unmanaged_role"),
        "{}",
        plan.stderr
    );
    assert!(plan.stderr.contains("[roles] managed"), "{}", plan.stderr);
}

/// In public's files `ALTER DEFAULT PRIVILEGES` speaks for the database
/// (no `IN SCHEMA`) or public; in the tenant files for each tenant's
/// schema. What the files create gets its grants from them, as on a
/// server that had them first.
const DEFAULTS_PUBLIC: &str =
    "ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO kschema_test_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO kschema_test_app;
CREATE TABLE plans (id INT PRIMARY KEY, name TEXT);
";

const DEFAULTS_TENANT: &str =
    "ALTER DEFAULT PRIVILEGES GRANT SELECT, INSERT ON TABLES TO kschema_test_app;
ALTER DEFAULT PRIVILEGES GRANT USAGE ON SEQUENCES TO kschema_test_app WITH GRANT OPTION;
CREATE TABLE docs (id SERIAL PRIMARY KEY, body TEXT);
";

/// DEFAULTS_TENANT as PostgreSQL is told it in each tenant's schema.
fn defaults_in_each_schema(tenant: &str) -> String {
    tenant
        .lines()
        .map(|line| match line.strip_prefix("ALTER DEFAULT PRIVILEGES ") {
            Some(rest) => format!(
                "DO $$ BEGIN EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I {}', current_schema()); END $$;",
                rest.trim_end_matches(';').replace('\'', "''")
            ),
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn default_privileges_converge_and_give_what_the_files_create_its_grants() {
    let project = project_of(DEFAULTS_PUBLIC, DEFAULTS_TENANT, TENANTS);
    project.write("kschema.toml", CONFIG);
    let db = TestDb::new().await;
    with_roles(&db).await;
    let plan = kschema(
        &project,
        &db,
        &["plan", "--tenant", "all", "--format", "sql"],
    );
    for expected in [
        "ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO kschema_test_app;",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO kschema_test_app;",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA org_p1 GRANT INSERT, SELECT ON TABLES TO kschema_test_app;",
        // What the files create is granted as the defaults say.
        "GRANT INSERT, SELECT ON TABLE org_p1.docs TO kschema_test_app;",
    ] {
        assert!(plan.stdout.contains(expected), "{expected}\n{}", plan.snapshot());
    }
    assert_converges(
        &project,
        &db,
        (DEFAULTS_PUBLIC, &defaults_in_each_schema(DEFAULTS_TENANT)),
        TENANTS,
        &[],
    )
    .await;

    // A default no longer wanted is revoked: no hazard (it takes nothing
    // that exists), and the grants it gave stay only if the files keep them.
    let fewer = DEFAULTS_TENANT.replace(
        "ALTER DEFAULT PRIVILEGES GRANT USAGE ON SEQUENCES TO kschema_test_app WITH GRANT OPTION;\n",
        "",
    );
    project.write("schema/tenant/app.sql", &fewer);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(
        plan.stdout
            .contains("- revoke USAGE on default privileges on sequences from kschema_test_app"),
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
            "revokes-access",
        ],
    );
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());

    // inspect writes the defaults back, first in each file.
    let out = inspected_with_roles(&project, &db);
    let public = out.read("schema/public/privileges.sql");
    assert!(public.starts_with("ALTER DEFAULT PRIVILEGES"), "{public}");
    assert!(
        public.contains("ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO kschema_test_app;"),
        "{public}"
    );
    let tenant = out.read("schema/tenant/privileges.sql");
    assert!(
        tenant.contains(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA org_p1 GRANT INSERT, SELECT ON TABLES TO kschema_test_app;"
        ),
        "{tenant}"
    );
}

#[tokio::test]
async fn default_privileges_in_another_schema_or_to_a_role_not_managed_are_refused() {
    let db = TestDb::new().await;
    with_roles(&db).await;
    let project = project_of(
        "",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA audit GRANT SELECT ON TABLES TO kschema_test_app;\n",
        TENANTS,
    );
    project.write("kschema.toml", CONFIG);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 1, "{}", plan.snapshot());
    for expected in [
        "kschema::sql::default_privileges_schema",
        "leave IN SCHEMA out",
        "app.sql:1",
    ] {
        assert!(
            plan.stderr.contains(expected),
            "{expected}\n{}",
            plan.stderr
        );
    }

    let project = project_of(
        "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO kschema_test_ro;\n",
        "",
        TENANTS,
    );
    project.write("kschema.toml", CONFIG);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 1, "{}", plan.snapshot());
    for expected in ["kschema::sql::unmanaged_role", "app.sql:1"] {
        assert!(
            plan.stderr.contains(expected),
            "{expected}\n{}",
            plan.stderr
        );
    }

    // What another role creates is that role's: refused in files, listed
    // (never revoked) live.
    let others = "ALTER DEFAULT PRIVILEGES FOR ROLE kschema_test_ro GRANT SELECT ON TABLES TO kschema_test_app;\n";
    let project = project_of(others, "", TENANTS);
    project.write("kschema.toml", CONFIG);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 1, "{}", plan.snapshot());
    for expected in [
        "kschema::sql::default_privileges_owner",
        "leave FOR ROLE out",
    ] {
        assert!(
            plan.stderr.contains(expected),
            "{expected}\n{}",
            plan.stderr
        );
    }
    db.execute(others).await;
    project.write("schema/public/app.sql", "");
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(
        plan.stdout.contains(
            "default privileges on tables for kschema_test_ro in every schema (kschema_test_app: SELECT)"
        ),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("revoke"), "{}", plan.stdout);
}

/// `diff` between two databases compares every role's privileges (there
/// is no project to say which roles are managed): a grant one has and the
/// other lacks is a difference, not silence.
#[tokio::test]
async fn diff_between_databases_compares_privileges() {
    let db = TestDb::new().await;
    with_roles(&db).await;
    let other = TestDb::new().await;
    for side in [&db, &other] {
        side.execute("CREATE TABLE public.plans (id int PRIMARY KEY)")
            .await;
    }
    db.execute("GRANT SELECT ON public.plans TO kschema_test_ro")
        .await;
    let project = Project::empty();
    project.write("tenants.toml", "");
    let diff = kschema(&project, &db, &["diff", &db.url(), &other.url()]);
    assert_eq!(diff.code, 2, "{}", diff.snapshot());
    assert!(
        diff.stdout
            .contains("- revoke SELECT on table plans from kschema_test_ro"),
        "{}",
        diff.stdout
    );
    let same = kschema(&project, &db, &["diff", &db.url(), &db.url()]);
    assert_eq!(same.code, 0, "{}", same.snapshot());
}

#[tokio::test]
async fn hand_written_tenant_files_grant_on_each_tenant_s_schema() {
    // No CREATE SCHEMA: the files name the tenant's schema as a dump of
    // one tenant would, and mean every tenant's.
    let tenant = "CREATE TABLE docs (id INT PRIMARY KEY);
GRANT USAGE ON SCHEMA org_p1 TO kschema_test_app;
GRANT SELECT ON docs TO kschema_test_app;
";
    let project = project_of("", tenant, TENANTS);
    project.write("kschema.toml", CONFIG);
    let db = TestDb::new().await;
    with_roles(&db).await;
    // Run directly, each tenant grants on its own schema.
    let direct = tenant.replace(
        "GRANT USAGE ON SCHEMA org_p1 TO kschema_test_app;",
        "DO $$ BEGIN EXECUTE format('GRANT USAGE ON SCHEMA %I TO kschema_test_app', current_schema()); END $$;",
    );
    assert_converges(&project, &db, ("", &direct), TENANTS, &[]).await;
    let granted: bool = db
        .client()
        .await
        .query_one(
            "SELECT has_schema_privilege('kschema_test_app', 'org_p2', 'USAGE')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(granted);

    // A schema that is not the tenant's: refused at its line, nothing run.
    let public_grant = tenant.replace("SCHEMA org_p1", "SCHEMA public");
    project.write("schema/tenant/app.sql", &public_grant);
    let refused = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(refused.code, 1, "{}", refused.snapshot());
    for expected in [
        "kschema::sql::tenant_schema_grant",
        "app.sql:2",
        "org_<any tenant's id>",
    ] {
        assert!(
            refused.stderr.contains(expected),
            "{expected}\n{}",
            refused.stderr
        );
    }
}
