//! User-defined aggregates (`CREATE AGGREGATE`) and window functions, in
//! public and in every tenant: created, replaced in place, dropped and
//! created again with the views that call them, commented, written back by
//! `inspect`.

use crate::support::{assert_converges, inspect_into_new_project, kschema, project_of, TestDb};

const TENANTS: &[&str] = &["a", "b"];

const PUBLIC: &str = "\
CREATE FUNCTION concat_step(acc text, item text) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT CASE WHEN acc IS NULL THEN item ELSE acc || ', ' || item END $$;
CREATE AGGREGATE group_concat(text) (SFUNC = concat_step, STYPE = text);
CREATE AGGREGATE how_many(*) (SFUNC = int8inc, STYPE = int8, INITCOND = '0');
COMMENT ON AGGREGATE group_concat(text) IS 'joins with commas';
";

/// A tenant aggregate of its own, and a view calling it and the shared
/// ones by their bare names.
const TENANT: &str = "\
CREATE TABLE tags (id int PRIMARY KEY, name text);
CREATE FUNCTION longer(acc int, item text) RETURNS int LANGUAGE sql IMMUTABLE
    AS $$ SELECT greatest(acc, length(item)) $$;
CREATE AGGREGATE longest(text) (SFUNC = longer, STYPE = int, INITCOND = '0', PARALLEL = SAFE);
CREATE VIEW tag_list AS SELECT group_concat(name ORDER BY id) AS names, longest(name) AS longest, how_many(*) AS n FROM tags;
";

/// group_concat's state function changes (replaced in place) and it gains
/// a final function returning another type (created again, with the
/// tenant views calling it); how_many goes; the tenant's aggregate gets
/// an initial state of its own.
const PUBLIC_V2: &str = "\
CREATE FUNCTION concat_step(acc text, item text) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT CASE WHEN acc IS NULL THEN item ELSE acc || '; ' || item END $$;
CREATE FUNCTION to_list(acc text) RETURNS text[] LANGUAGE sql IMMUTABLE
    AS $$ SELECT string_to_array(acc, '; ') $$;
CREATE AGGREGATE group_concat(text) (SFUNC = concat_step, STYPE = text, FINALFUNC = to_list);
COMMENT ON AGGREGATE group_concat(text) IS 'a list';
";
const TENANT_V2: &str = "\
CREATE TABLE tags (id int PRIMARY KEY, name text);
CREATE FUNCTION longer(acc int, item text) RETURNS int LANGUAGE sql IMMUTABLE
    AS $$ SELECT greatest(acc, length(item)) $$;
CREATE AGGREGATE longest(text) (SFUNC = longer, STYPE = int, INITCOND = '-1');
CREATE VIEW tag_list AS SELECT group_concat(name ORDER BY id) AS names, longest(name) AS longest FROM tags;
";

#[tokio::test]
async fn aggregates_converge_change_and_go_in_public_and_tenants() {
    let project = project_of(PUBLIC, TENANT, TENANTS);
    let db = TestDb::new().await;
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    for expected in [
        "+ create aggregate group_concat(text)",
        "+ create aggregate how_many(*)",
        "+ create aggregate longest(text)",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "{expected}\n{}",
            plan.stdout
        );
    }
    assert_converges(&project, &db, (PUBLIC, TENANT), TENANTS, &[]).await;
    db.execute("INSERT INTO org_a.tags VALUES (1, 'red'), (2, 'green')")
        .await;
    let (names, longest): (String, i32) = {
        let row = db
            .client()
            .await
            .query_one("SELECT names, longest FROM org_a.tag_list", &[])
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert_eq!((names.as_str(), longest), ("red, green", 5));

    project.write("schema/public/app.sql", PUBLIC_V2);
    project.write("schema/tenant/app.sql", TENANT_V2);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    for expected in [
        "- drop aggregate how_many(*)",
        "drop and create aggregate group_concat(text)",
        "~ replace aggregate longest(text)",
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
        (PUBLIC_V2, TENANT_V2),
        TENANTS,
        &["--allow-hazard", "recreates-object"],
    )
    .await;
    let names: Vec<String> = db
        .client()
        .await
        .query_one("SELECT names FROM org_a.tag_list", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(names, ["red", "green"], "the tenant view calls the new one");

    let (inspected, run) = inspect_into_new_project(&project, &db);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    let written = inspected.read("schema/public/functions.sql");
    assert!(
        written.contains("CREATE OR REPLACE AGGREGATE group_concat(text) (\n    SFUNC = concat_step,\n    STYPE = text,\n    FINALFUNC = to_list"),
        "{written}"
    );
    let plan = kschema(&inspected, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
    assert!(!plan.stdout.contains("Not compared"), "{}", plan.stdout);
}

/// An aggregate whose state function the files do not declare is
/// reported by PostgreSQL at its line, before anything runs.
#[tokio::test]
async fn an_aggregate_postgresql_rejects_is_reported_at_its_line() {
    let public = "CREATE TABLE t (id int);\nCREATE AGGREGATE broken(text) (SFUNC = no_such_step, STYPE = text);\n";
    let project = project_of(public, "", &[]);
    let db = TestDb::new().await;
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 1, "{}", plan.snapshot());
    for expected in ["no_such_step", "app.sql:2"] {
        assert!(
            plan.stderr.contains(expected),
            "{expected}\n{}",
            plan.stderr
        );
    }
    assert!(!db.catalog("public").await.contains("broken"));
}

/// A window function (`CREATE FUNCTION … WINDOW`: C or internal code) is
/// a function like any other: created, called by a tenant view, commented,
/// written back by `inspect`; made a plain function of the same
/// signature, it is dropped and created again (PostgreSQL cannot replace a
/// function's kind).
#[tokio::test]
async fn window_functions_converge_and_change_kind() {
    let public = "CREATE FUNCTION row_no() RETURNS bigint LANGUAGE internal WINDOW IMMUTABLE AS 'window_row_number';
COMMENT ON FUNCTION row_no() IS 'numbers the rows';
";
    let tenant = "CREATE TABLE tags (id int PRIMARY KEY, name text);
CREATE VIEW numbered AS SELECT id, row_no() OVER (ORDER BY id) AS n FROM tags;
";
    let project = project_of(public, tenant, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, (public, tenant), TENANTS, &[]).await;
    let unmanaged = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(
        !unmanaged.stdout.contains("Not compared"),
        "{}",
        unmanaged.stdout
    );
    let (inspected, _) = inspect_into_new_project(&project, &db);
    assert!(
        inspected
            .read("schema/public/functions.sql")
            .contains("WINDOW"),
        "{}",
        inspected.read("schema/public/functions.sql")
    );

    let plain =
        "CREATE FUNCTION row_no() RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT 1::bigint';
COMMENT ON FUNCTION row_no() IS 'numbers the rows';
";
    // A view calling it with OVER could not be put back over a plain
    // function: it goes first.
    let tenant_plain = "CREATE TABLE tags (id int PRIMARY KEY, name text);\n";
    project.write("schema/tenant/app.sql", tenant_plain);
    assert_converges(&project, &db, (public, tenant_plain), TENANTS, &[]).await;
    project.write("schema/public/app.sql", plain);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    for expected in [
        "~ drop and create function row_no()",
        "function row_no is dropped and created again: it was a window function, which CREATE OR REPLACE cannot change",
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
        (plain, tenant_plain),
        TENANTS,
        &["--allow-hazard", "recreates-object"],
    )
    .await;
}
