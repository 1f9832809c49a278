//! The example projects converge: `examples/saas` (the shipped tables with
//! an extension, enums, a shared trigger function with a trigger on every
//! table, a reporting view, a row-level security policy, the `app` role's
//! privileges and comments) applies to public and its tenants,
//! re-plans empty, and what `inspect` writes from it plans empty too.

use crate::support::{ensure_role, kschema, pg_dump, Project, TestDb};

#[tokio::test]
async fn the_saas_example_converges_and_inspects_back() {
    let project = Project::copy_of("examples/saas");
    let db = TestDb::new().await;
    ensure_role(&db, "app").await;
    let apply = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
    assert!(!plan.stdout.contains("Not compared"), "{}", plan.stdout);

    // The trigger on a tenant table runs the shared function.
    db.execute(
        "INSERT INTO org_acme.projects (organization_id, name, updated_at)
             VALUES ('acme', 'p', '2000-01-01');
         UPDATE org_acme.projects SET name = 'q';",
    )
    .await;
    let client = db.client().await;
    let fresh: bool = client
        .query_one(
            "SELECT updated_at > '2001-01-01' FROM org_acme.projects",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(fresh);

    let (out, _) = crate::support::inspect_into_new_project(&project, &db);
    let comments = out.read("schema/tenant/comments.sql");
    for expected in [
        "COMMENT ON POLICY own_bookmarks ON user_bookmarks IS",
        "COMMENT ON TYPE project_status IS",
        "COMMENT ON VIEW active_project_members IS",
    ] {
        assert!(comments.contains(expected), "{expected}\n{comments}");
    }
    let plan = kschema(&out, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
}

/// What pg_dump writes of the example — functions with `ALTER FUNCTION …
/// OWNER TO`, enums, views, triggers, policies, GRANTs, a tenant's schema
/// qualifying its own types and defaults — loads as the desired state and
/// plans empty against the database it came from (pg_dump -n leaves
/// extensions out: they are declared beside it).
#[tokio::test]
async fn a_dump_of_the_saas_example_is_its_desired_state() {
    let source = Project::copy_of("examples/saas");
    let db = TestDb::new().await;
    ensure_role(&db, "app").await;
    let apply = kschema(&source, &db, &["apply", "--tenant", "all"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());

    let dumped = Project::empty();
    dumped
        .write(
            "schema/public/dump.sql",
            &pg_dump(&db, &["--schema-only", "-n", "public"]),
        )
        .write(
            "schema/tenant/dump.sql",
            &pg_dump(&db, &["--schema-only", "-n", "org_acme"]),
        )
        .write("schema/public/extensions.sql", "CREATE EXTENSION citext;\n")
        .write("kschema.toml", "[roles]\nmanaged = [\"app\"]\n")
        .write("tenants.toml", &source.read("tenants.toml"));
    let plan = kschema(&dumped, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
    assert!(!plan.stdout.contains("Not compared"), "{}", plan.stdout);
}
