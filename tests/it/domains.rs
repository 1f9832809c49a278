//! Domains as desired state, shared and per tenant: created before the
//! tables that use them, altered in place (default, NOT NULL, checks),
//! created again for a new base type, dropped; after each apply the plan
//! is empty and `pg_dump --schema-only` equals that of the SQL run
//! directly.

use crate::support::{assert_converges, kschema, project_of, TestDb};

const PUBLIC: &str = "CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%');\n";

const TENANT: &str = "CREATE TABLE items (
    id int PRIMARY KEY,
    qty positive,
    contact email
);
CREATE DOMAIN positive AS integer NOT NULL DEFAULT 1 CONSTRAINT positive_check CHECK (VALUE > 0);
CREATE DOMAIN code AS varchar(10) COLLATE \"C\";
COMMENT ON DOMAIN positive IS 'above zero';
";

/// TENANT in an order PostgreSQL accepts when run directly.
fn in_order(tenant: &str) -> String {
    let table_end = tenant.find(");\n").unwrap() + 3;
    format!("{}{}", &tenant[table_end..], &tenant[..table_end])
}

const TENANTS: &[&str] = &["t1", "t2"];

#[tokio::test]
async fn domains_converge_and_change() {
    let project = project_of(PUBLIC, TENANT, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, (PUBLIC, &in_order(TENANT)), TENANTS, &[]).await;

    // In place: a new default, NOT NULL dropped, a check changed, one added.
    let altered = TENANT.replace(
        "NOT NULL DEFAULT 1 CONSTRAINT positive_check CHECK (VALUE > 0)",
        "DEFAULT 2 CONSTRAINT positive_check CHECK (VALUE >= 0) CONSTRAINT small CHECK (VALUE < 1000)",
    );
    project.write("schema/tenant/app.sql", &altered);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    for expected in [
        "~ alter domain positive: drop check positive_check, set default, drop not null, add check positive_check, add check small",
        "validates-constraint",
    ] {
        assert!(plan.stdout.contains(expected), "{expected}\n{}", plan.stdout);
    }
    assert_converges(&project, &db, (PUBLIC, &in_order(&altered)), TENANTS, &[]).await;

    // A new base type: created again, a blocking hazard.
    let wider = altered.replace("varchar(10)", "varchar(20)");
    project.write("schema/tenant/app.sql", &wider);
    let refused = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_eq!(refused.code, 1, "{}", refused.snapshot());
    assert!(
        refused.stdout.contains("~ recreate domain code"),
        "{}",
        refused.stdout
    );
    assert!(
        refused.stderr.contains("recreates-object"),
        "{}",
        refused.stderr
    );
    assert_converges(
        &project,
        &db,
        (PUBLIC, &in_order(&wider)),
        TENANTS,
        &["--allow-hazard", "recreates-object"],
    )
    .await;

    // inspect writes them back, and its files plan empty.
    let (out, _) = crate::support::inspect_into_new_project(&project, &db);
    let domains = out.read("schema/tenant/domains.sql");
    assert!(
        domains.contains("CREATE DOMAIN code AS character varying(20) COLLATE \"C\""),
        "{domains}"
    );
    assert!(
        out.read("schema/public/domains.sql")
            .contains("CREATE DOMAIN email AS text"),
        "written"
    );
    let plan = kschema(&out, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());

    // Dropped.
    let fewer = wider.replace("CREATE DOMAIN code AS varchar(20) COLLATE \"C\";\n", "");
    project.write("schema/tenant/app.sql", &fewer);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(
        plan.stdout.contains("- drop domain code"),
        "{}",
        plan.stdout
    );
    assert_converges(&project, &db, (PUBLIC, &in_order(&fewer)), TENANTS, &[]).await;
}

/// A domain on a new base type with columns of it (one with a default, an
/// array, a check and an index on them, a view reading them, a function
/// taking it): created again under its name, the columns converted through
/// their text with their rows, the view and function taken along; the old
/// checks' names are kept. In every tenant.
#[tokio::test]
async fn a_domain_on_a_new_base_type_converts_its_columns() {
    let tenant = "CREATE DOMAIN code AS text CHECK (length(VALUE) < 10);
CREATE TABLE items (
    id int PRIMARY KEY,
    c code DEFAULT 'x',
    tags code[],
    CONSTRAINT items_c_check CHECK (c <> '')
);
CREATE INDEX items_c ON items (c);
CREATE VIEW item_codes AS SELECT id, c FROM items;
CREATE FUNCTION norm(x code) RETURNS code LANGUAGE sql IMMUTABLE AS $$ SELECT x $$;
";
    let project = project_of("", tenant, TENANTS);
    let db = TestDb::new().await;
    let apply = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    for schema in ["org_t1", "org_t2"] {
        db.execute(&format!(
            "INSERT INTO {schema}.items VALUES (1, 'abc', '{{a,b}}')"
        ))
        .await;
    }

    let widened = tenant.replace("AS text CHECK", "AS varchar(20) CHECK");
    project.write("schema/tenant/app.sql", &widened);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    for expected in [
        "rewrites items to convert column c to the new code",
        "rewrites items to convert column tags to the new code",
        "drop function norm(code) before its type code is created again",
        "- drop view item_codes",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "{expected}\n{}",
            plan.stdout
        );
    }
    let allow = ["--allow-hazard", "recreates-object,rewrites-table"];
    assert_converges(&project, &db, ("", &widened), TENANTS, &allow).await;
    assert_eq!(
        db.texts("SELECT c::text || ' ' || tags::text FROM org_t2.items")
            .await,
        ["abc {a,b}"]
    );
}

/// A shared domain on a new base type converts the tenants' columns of it
/// in public's transaction (their views taken along), rows kept; a tenant
/// function taking it is dropped and created again on the new domain
/// there.
#[tokio::test]
async fn a_shared_domain_on_a_new_base_type_converts_the_tenants_columns() {
    let public = "CREATE DOMAIN code AS text CHECK (length(VALUE) < 10);\n";
    let tenant = "CREATE TABLE items (id int PRIMARY KEY, c code DEFAULT 'x');
CREATE VIEW item_codes AS SELECT id, c FROM items;
";
    let project = project_of(public, tenant, TENANTS);
    let db = TestDb::new().await;
    let apply = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    db.execute("INSERT INTO org_t1.items VALUES (1, 'abc')")
        .await;

    let widened = public.replace("AS text CHECK", "AS varchar(20) CHECK");
    project.write("schema/public/app.sql", &widened);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(
        plan.stdout.contains(
            "rewrites 2 table(s) of 2 other schema(s) to convert their columns to the new code"
        ),
        "{}",
        plan.stdout
    );
    let allow = ["--allow-hazard", "recreates-object,rewrites-table"];
    assert_converges(&project, &db, (&widened, tenant), TENANTS, &allow).await;
    assert_eq!(db.texts("SELECT c::text FROM org_t1.items").await, ["abc"]);

    // A tenant function on the shared domain goes along: dropped and
    // created again on the new domain in public's transaction.
    let with_function = format!(
        "{tenant}CREATE FUNCTION norm(x code) RETURNS text LANGUAGE sql AS $$ SELECT upper(x) $$;\n"
    );
    project.write("schema/tenant/app.sql", &with_function);
    let apply = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    project.write("schema/public/app.sql", public);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(
        plan.stdout.contains(
            "~ recreate domain code, with 2 functions of other schemas on it dropped and created again: org_t1.norm, org_t2.norm"
        ),
        "{}",
        plan.stdout
    );
    assert_converges(&project, &db, (public, &with_function), TENANTS, &allow).await;
    assert_eq!(
        db.texts("SELECT org_t1.norm(c) FROM org_t1.items").await,
        ["ABC"]
    );
}

/// A domain over a domain created again is created again with it, its
/// columns converted: values kept, its checks the files'.
#[tokio::test]
async fn a_domain_over_a_domain_created_again_goes_along() {
    let tenant = "CREATE DOMAIN code AS text;
CREATE DOMAIN short_code AS code CHECK (length(VALUE) < 5);
CREATE TABLE items (id int PRIMARY KEY, c code, s short_code DEFAULT 'x');
CREATE FUNCTION shout(v short_code) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT upper(v) $$;
";
    let project = project_of("", tenant, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, ("", tenant), TENANTS, &[]).await;
    db.execute("INSERT INTO org_t1.items VALUES (1, 'long code', 'ab'), (2, NULL, DEFAULT)")
        .await;
    let widened = tenant.replace("code AS text", "code AS varchar(20)");
    project.write("schema/tenant/app.sql", &widened);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    for expected in [
        "~ recreate domain code, and built on it: recreate domain short_code",
        "drops domain short_code and creates it again (built on code, created again)",
        "rewrites items to convert column s to the new short_code",
        "- drop function shout(short_code) before its type short_code is created again",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "{expected}\n{}",
            plan.stdout
        );
    }
    assert_converges(
        &project,
        &db,
        ("", &widened),
        TENANTS,
        &[
            "--allow-hazard",
            "rewrites-table",
            "--allow-hazard",
            "recreates-object",
        ],
    )
    .await;
    let rows: Vec<(Option<String>, Option<String>)> = db
        .client()
        .await
        .query("SELECT c::text, s::text FROM org_t1.items ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        rows,
        [
            (Some("long code".to_string()), Some("ab".to_string())),
            (None, Some("x".to_string()))
        ]
    );
}

/// A shared domain over a shared domain created again goes along in the
/// shared schema's transaction: the tenants' columns of it converted
/// there, the tenant views reading them taken along.
#[tokio::test]
async fn a_shared_domain_over_a_shared_domain_created_again_converts_the_tenants_columns() {
    let public = "CREATE DOMAIN code AS text;
CREATE DOMAIN short_code AS code CHECK (length(VALUE) < 5);
";
    let tenant = "CREATE TABLE items (id int PRIMARY KEY, s short_code DEFAULT 'x');
CREATE VIEW item_codes AS SELECT id, s FROM items;
";
    let project = project_of(public, tenant, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, (public, tenant), TENANTS, &[]).await;
    db.execute("INSERT INTO org_t2.items VALUES (1, 'abc')")
        .await;
    let widened = public.replace("code AS text", "code AS varchar(20)");
    project.write("schema/public/app.sql", &widened);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    for expected in [
        "~ recreate domain code, and built on it: recreate domain short_code",
        "rewrites 2 table(s) of 2 other schema(s) to convert their columns to the new short_code",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "{expected}\n{}",
            plan.stdout
        );
    }
    let allow = ["--allow-hazard", "recreates-object,rewrites-table"];
    assert_converges(&project, &db, (&widened, tenant), TENANTS, &allow).await;
    assert_eq!(
        db.texts("SELECT s::text FROM org_t2.item_codes").await,
        ["abc"]
    );
}

/// A tenant column given another of the tenant's own types (a domain's
/// column given its base enum): the plan asks the server whether the
/// value converts with the tenant's types in reach, as the apply has them,
/// instead of refusing a conversion from a type it could not find.
#[tokio::test]
async fn a_tenant_column_given_another_tenant_type_converts() {
    let tenant = "CREATE TYPE state AS ENUM ('open', 'done');
CREATE DOMAIN open_state AS state CHECK (VALUE <> 'done');
CREATE TABLE reviews (id int PRIMARY KEY, s open_state NOT NULL);
";
    let project = project_of("", tenant, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, ("", tenant), TENANTS, &[]).await;
    db.execute("INSERT INTO org_t1.reviews VALUES (1, 'open')")
        .await;

    let retyped = tenant.replace("s open_state", "s state");
    project.write("schema/tenant/app.sql", &retyped);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert!(
        plan.stdout
            .contains("~ alter column reviews.s type open_state → state"),
        "{}",
        plan.stdout
    );
    let allow = [
        "--allow-hazard",
        "may-lose-data",
        "--allow-hazard",
        "rewrites-table",
    ];
    assert_converges(&project, &db, ("", &retyped), TENANTS, &allow).await;
    assert_eq!(
        db.texts("SELECT s::text FROM org_t1.reviews").await,
        ["open"]
    );
}
