//! Extensions as desired state: declared with public (they are the
//! database's), created before what uses them, updated to a declared
//! version, dropped when undeclared (a hazard); after each apply the plan is
//! empty and `pg_dump --schema-only` equals that of the SQL run directly.

use crate::support::{assert_same_dump, kschema, project_of, run_directly, TestDb};

const TENANTS: &[&str] = &["t1"];

#[tokio::test]
async fn extensions_are_created_updated_and_dropped() {
    let public = "CREATE EXTENSION citext VERSION '1.5';
CREATE EXTENSION pgcrypto;
CREATE TABLE accounts (id BIGINT PRIMARY KEY, email citext NOT NULL UNIQUE);
";
    let tenant = "CREATE TABLE users (
    id BIGINT PRIMARY KEY,
    email citext NOT NULL,
    token TEXT NOT NULL DEFAULT encode(gen_random_bytes(8), 'hex')
);
";
    let project = project_of(public, tenant, TENANTS);
    let db = TestDb::new().await;
    let plan = kschema(
        &project,
        &db,
        &["plan", "--tenant", "all", "--format", "sql"],
    );
    let create = plan.stdout.find("CREATE EXTENSION citext VERSION '1.5'");
    let table = plan.stdout.find("CREATE TABLE public.accounts");
    assert!(create.is_some() && create < table, "{}", plan.stdout);
    let apply = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
    assert!(!plan.stdout.contains("Not compared"), "{}", plan.stdout);
    assert_same_dump(&db, &run_directly(public, tenant, TENANTS).await);

    // A declared version is kept to; pgcrypto goes once nothing uses it.
    let updated = "CREATE EXTENSION citext VERSION '1.6';
CREATE TABLE accounts (id BIGINT PRIMARY KEY, email citext NOT NULL UNIQUE);
";
    let tenant = "CREATE TABLE users (id BIGINT PRIMARY KEY, email citext NOT NULL, token TEXT);\n";
    project
        .write("schema/public/app.sql", updated)
        .write("schema/tenant/app.sql", tenant);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    for line in [
        "~ extension citext: update to 1.6",
        "- drop extension pgcrypto",
        "deletes-data",
    ] {
        assert!(plan.stdout.contains(line), "{line}\n{}", plan.stdout);
    }
    let apply = kschema(
        &project,
        &db,
        &["apply", "--tenant", "all", "--allow-hazard", "deletes-data"],
    );
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    assert_eq!(kschema(&project, &db, &["plan", "--tenant", "all"]).code, 0);
    assert_same_dump(&db, &run_directly(updated, tenant, TENANTS).await);
    let client = db.client().await;
    let version: String = client
        .query_one(
            "SELECT extversion FROM pg_extension WHERE extname = 'citext'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(version, "1.6");
}

#[tokio::test]
async fn an_extension_in_the_tenant_files_is_refused() {
    let project = project_of("", "CREATE EXTENSION citext;\n", TENANTS);
    let db = TestDb::new().await;
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 1, "{}", plan.snapshot());
    assert!(
        plan.stderr.contains("kschema::sql::tenant_extension"),
        "{}",
        plan.stderr
    );
}

/// pgcrypto's `gen_random_uuid()` in public and PostgreSQL's own (13 on)
/// share a name: a default calling one is not a default calling the
/// other. PostgreSQL qualifies public's only where the bare name would find
/// the built-in one, and that qualifier is kept — in public's tables and
/// in the tenants' — so the two compare apart, converge, and `inspect`
/// writes the one that is there.
#[tokio::test]
async fn a_call_of_an_extension_function_a_built_in_one_shadows_keeps_its_schema() {
    let public = "CREATE EXTENSION pgcrypto;
CREATE TABLE tokens (id uuid DEFAULT public.gen_random_uuid() NOT NULL);
";
    let tenant = "CREATE TABLE keys (id uuid DEFAULT public.gen_random_uuid() NOT NULL);\n";
    let project = project_of(public, tenant, TENANTS);
    let db = TestDb::new().await;
    crate::support::assert_converges(&project, &db, (public, tenant), TENANTS, &[]).await;
    let (inspected, _) = crate::support::inspect_into_new_project(&project, &db);
    for file in ["schema/public/tokens.sql", "schema/tenant/keys.sql"] {
        let written = inspected.read(file);
        assert!(
            written.contains("public.gen_random_uuid()"),
            "{file}: {written}"
        );
    }

    let built_in = public.replace("public.gen_random_uuid()", "gen_random_uuid()");
    let tenant_built_in = tenant.replace("public.gen_random_uuid()", "gen_random_uuid()");
    project.write("schema/public/app.sql", &built_in);
    project.write("schema/tenant/app.sql", &tenant_built_in);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    for expected in [
        "~ alter column tokens.id default public.gen_random_uuid() → gen_random_uuid()",
        "~ alter column keys.id default public.gen_random_uuid() → gen_random_uuid()",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "{expected}\n{}",
            plan.stdout
        );
    }
    crate::support::assert_converges(&project, &db, (&built_in, &tenant_built_in), TENANTS, &[])
        .await;
}
