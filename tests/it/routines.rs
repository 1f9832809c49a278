//! Functions, procedures and triggers as desired state: created, replaced,
//! recreated and dropped, in public and in every tenant; after each apply
//! the plan is empty and `pg_dump --schema-only` equals that of the SQL run
//! directly.

use crate::support::{
    assert_converges, kschema, project_of, run_directly, tenants_toml, Project, TestDb,
};

const PUBLIC: &str = r#"
-- A check calls it: kschema creates functions before tables.
CREATE FUNCTION valid_name(n text) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT length(n) BETWEEN 1 AND 200 $$;

CREATE TABLE accounts (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL CHECK (valid_name(name)),
    updated_at TIMESTAMPTZ
);

CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

-- A body that reads a table declared above it in no particular order.
CREATE FUNCTION account_count() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) FROM accounts $$;

CREATE FUNCTION accounts_named(prefix text) RETURNS bigint
    LANGUAGE sql STABLE
    BEGIN ATOMIC
        SELECT count(*) FROM accounts WHERE name LIKE prefix || '%';
    END;

CREATE PROCEDURE rename_account(account bigint, new_name text)
    LANGUAGE sql
    AS $$ UPDATE accounts SET name = new_name WHERE id = account $$;

CREATE TRIGGER accounts_updated_at BEFORE UPDATE ON accounts
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
"#;

const TENANT: &str = r#"
CREATE TABLE projects (
    id BIGINT PRIMARY KEY,
    title TEXT,
    done BOOLEAN NOT NULL DEFAULT false,
    updated_at TIMESTAMPTZ
);

CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := clock_timestamp();
    RETURN NEW;
END
$$;

-- A tenant trigger calling a shared function, one calling its own, one
-- with a WHEN clause and columns, a constraint trigger, a disabled one.
CREATE TRIGGER projects_updated_at BEFORE UPDATE ON projects
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER projects_touch BEFORE INSERT ON projects
    FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TRIGGER projects_title AFTER UPDATE OF title ON projects
    FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title) EXECUTE FUNCTION touch();
CREATE CONSTRAINT TRIGGER projects_done AFTER UPDATE ON projects
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TRIGGER projects_paused BEFORE DELETE ON projects
    FOR EACH ROW EXECUTE FUNCTION touch();
ALTER TABLE projects DISABLE TRIGGER projects_paused;
"#;

const TENANTS: &[&str] = &["t1", "t2"];

#[tokio::test]
async fn functions_and_triggers_converge_in_public_and_tenants() {
    let project = project_of(PUBLIC, TENANT, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, (PUBLIC, TENANT), TENANTS, &[]).await;

    // The triggers work: a tenant trigger runs the shared function.
    db.execute(
        "INSERT INTO org_t1.projects (id, title) VALUES (1, 'a');
         UPDATE org_t1.projects SET title = 'b' WHERE id = 1;",
    )
    .await;
    let client = db.client().await;
    let row = client
        .query_one(
            "SELECT updated_at IS NOT NULL FROM org_t1.projects WHERE id = 1",
            &[],
        )
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0));
}

#[tokio::test]
async fn changed_functions_and_triggers_converge() {
    let project = project_of(PUBLIC, TENANT, TENANTS);
    let db = TestDb::new().await;
    assert_eq!(
        kschema(&project, &db, &["apply", "--tenant", "all"]).code,
        0
    );

    // A new body (replace), a new result type (drop and create), a trigger
    // on other events (replace), one dropped, the disabled one enabled,
    // the procedure dropped; and drift: a function nobody declared.
    let public = PUBLIC
        .replace(
            "RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) FROM accounts $$",
            "RETURNS integer LANGUAGE sql STABLE AS $$ SELECT count(*)::int FROM accounts $$",
        )
        .replace(
            "NEW.updated_at := now();",
            "NEW.updated_at := statement_timestamp();",
        );
    let public = public[..public.find("CREATE PROCEDURE").unwrap()].to_string()
        + &public[public.find("CREATE TRIGGER").unwrap()..];
    let tenant = TENANT
        .replace("BEFORE INSERT ON projects", "BEFORE INSERT OR UPDATE ON projects")
        .replace("ALTER TABLE projects DISABLE TRIGGER projects_paused;", "")
        .replace(
            "CREATE TRIGGER projects_title AFTER UPDATE OF title ON projects\n    FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title) EXECUTE FUNCTION touch();\n",
            "",
        );
    project
        .write("schema/public/app.sql", &public)
        .write("schema/tenant/app.sql", &tenant);
    db.execute("CREATE FUNCTION org_t2.stray() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$")
        .await;

    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    for line in [
        "~ drop and create function account_count()",
        "~ replace function set_updated_at()",
        "- drop procedure rename_account(bigint, text)",
        "~ replace trigger projects_touch on projects",
        "- drop trigger projects_title on projects",
        "~ enable trigger projects_paused on projects",
        "- drop function stray()",
        "recreates-object",
    ] {
        assert!(plan.stdout.contains(line), "{line}\n{}", plan.stdout);
    }
    // Recreating a function is refused until allowed.
    let refused = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_ne!(refused.code, 0, "{}", refused.snapshot());
    let allow = ["--allow-hazard", "recreates-object"];
    assert_converges(&project, &db, (&public, &tenant), TENANTS, &allow).await;
}

/// A tenant trigger function replaced in place, then dropped and created
/// again once its trigger is gone (the trigger is dropped first).
#[tokio::test]
async fn a_recreated_function_takes_its_triggers_along() {
    let tenant = "CREATE TABLE t (id INT PRIMARY KEY, at TIMESTAMPTZ);
CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.at := now(); RETURN NEW; END $$;
CREATE TRIGGER t_stamp BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION stamp();
";
    let project = project_of("", tenant, TENANTS);
    let db = TestDb::new().await;
    assert_eq!(
        kschema(&project, &db, &["apply", "--tenant", "all"]).code,
        0
    );
    // An option CREATE OR REPLACE can change.
    let changed = tenant.replace(
        "stamp() RETURNS trigger LANGUAGE plpgsql AS",
        "stamp() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS",
    );
    project.write("schema/tenant/app.sql", &changed);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(
        plan.stdout.contains("~ replace function stamp()"),
        "{}",
        plan.stdout
    );
    assert_converges(&project, &db, ("", &changed), TENANTS, &[]).await;

    let recreated = changed.replace(
        "CREATE FUNCTION stamp() RETURNS trigger",
        "CREATE FUNCTION stamp(OUT ignored int) RETURNS int",
    );
    let recreated = recreated
        .replace(
            "BEGIN NEW.at := now(); RETURN NEW; END",
            "BEGIN ignored := 1; END",
        )
        .replace(
            "CREATE TRIGGER t_stamp BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION stamp();\n",
            "",
        );
    // The trigger is no longer declared and the function's result changes
    // (drop and create): the trigger must go first, or the drop fails.
    project.write("schema/tenant/app.sql", &recreated);
    let plan = kschema(
        &project,
        &db,
        &["plan", "--tenant", "all", "--format", "sql"],
    );
    let drop_trigger = plan
        .stdout
        .find("DROP TRIGGER t_stamp")
        .unwrap_or(usize::MAX);
    let drop_function = plan.stdout.find("DROP FUNCTION").unwrap_or(0);
    assert!(drop_trigger < drop_function, "{}", plan.stdout);
    let allow = ["--allow-hazard", "recreates-object"];
    assert_converges(&project, &db, ("", &recreated), TENANTS, &allow).await;
}

#[tokio::test]
async fn a_body_postgresql_rejects_is_reported_at_its_line() {
    let public = "CREATE TABLE t (id INT PRIMARY KEY);

CREATE FUNCTION broken() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    RETURN (SELECT count(*) FROM t;
END
$$;
";
    let project = project_of(public, "", TENANTS);
    let db = TestDb::new().await;
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 1, "{}", plan.snapshot());
    assert!(
        plan.stderr.contains("kschema::desired::rejected"),
        "{}",
        plan.stderr
    );
    assert!(plan.stderr.contains("SQLSTATE 42601"), "{}", plan.stderr);
    assert!(plan.stderr.contains("app.sql:5:"), "{}", plan.stderr);
    assert!(db.schemas().await.iter().all(|s| s != "org_t1"));

    // A body that reads a table that does not exist.
    let missing =
        "CREATE FUNCTION f() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM nowhere $$;\n";
    project.write("schema/public/app.sql", missing);
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 1, "{}", plan.snapshot());
    assert!(
        plan.stderr.contains("\"nowhere\" does not exist"),
        "{}",
        plan.stderr
    );
}

/// A function returning a view's rows holds the view's row type: a view
/// dropped and created again (a column gone) takes the function along —
/// dropped before the view, created after it — and the view calling that
/// function too; in every tenant.
#[tokio::test]
async fn a_view_created_again_takes_the_functions_returning_its_rows_along() {
    let tenant = "CREATE TABLE orders (id bigint PRIMARY KEY, note text);
CREATE VIEW order_notes AS SELECT id, note FROM orders;
CREATE FUNCTION all_notes() RETURNS SETOF order_notes LANGUAGE sql STABLE
    AS $$ SELECT * FROM order_notes $$;
CREATE VIEW first_notes AS SELECT id FROM all_notes() LIMIT 10;
";
    let project = project_of("", tenant, TENANTS);
    let db = TestDb::new().await;
    let apply = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());

    let narrowed = tenant.replace("SELECT id, note FROM orders", "SELECT id FROM orders");
    project.write("schema/tenant/app.sql", &narrowed);
    let plan = kschema(
        &project,
        &db,
        &["plan", "--tenant", "all", "--format", "sql"],
    );
    let at = |text: &str| plan.stdout.find(text).unwrap_or(usize::MAX);
    // Readers first, then what they read; back in the other order.
    let order = [
        "DROP VIEW org_t1.first_notes",
        "DROP FUNCTION org_t1.all_notes()",
        "DROP VIEW org_t1.order_notes",
        "CREATE OR REPLACE VIEW order_notes",
        "CREATE OR REPLACE FUNCTION all_notes()",
        "CREATE OR REPLACE VIEW first_notes",
    ];
    assert!(
        order
            .windows(2)
            .all(|w| at(w[0]) < at(w[1]) && at(w[1]) != usize::MAX),
        "{}",
        plan.stdout
    );
    let allow = ["--allow-hazard", "recreates-object"];
    assert_converges(&project, &db, ("", &narrowed), TENANTS, &allow).await;
}

#[tokio::test]
async fn objects_naming_each_other_are_reported_as_a_cycle() {
    // The domain's check calls the function, whose argument is the domain:
    // PostgreSQL can create neither first.
    let public = "CREATE TABLE t (id INT PRIMARY KEY);

CREATE FUNCTION valid(x code) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT true $$;

CREATE DOMAIN code AS text CHECK (valid(VALUE));
";
    let project = project_of(public, "", TENANTS);
    let db = TestDb::new().await;
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 1, "{}", plan.snapshot());
    let stderr = &plan.stderr;
    assert!(stderr.contains("kschema::desired::rejected"), "{stderr}");
    // Folded onto one line: miette wraps the help.
    let help = stderr.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains(
            "a dependency cycle (function valid needs type code, which needs function valid)"
        ) || help
            .contains("a dependency cycle (type code needs function valid, which needs type code)"),
        "{stderr}"
    );
    assert!(stderr.contains("app.sql:"), "{stderr}");
    assert!(db.schemas().await.iter().all(|s| s != "org_t1"));
}

#[tokio::test]
async fn routines_in_the_wrong_place_are_refused() {
    let cases = [
        (
            "",
            "CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;",
            "kschema::sql::qualified_tenant_object",
        ),
        (
            "CREATE TRIGGER x BEFORE UPDATE ON nowhere FOR EACH ROW EXECUTE FUNCTION f();",
            "",
            "kschema::sql::trigger_table",
        ),
        // The same function twice (argument names and spellings aside).
        (
            "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS $$ SELECT a $$;
             CREATE FUNCTION f(a integer) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;",
            "",
            "kschema::sql::duplicate_function",
        ),
        (
            "CREATE TABLE t (id int); ALTER TABLE t DISABLE TRIGGER nope;",
            "",
            "kschema::sql::unknown_trigger",
        ),
    ];
    let db = TestDb::new().await;
    for (public, tenant, code) in cases {
        let project = project_of(public, tenant, TENANTS);
        let plan = kschema(&project, &db, &["plan"]);
        assert_eq!(plan.code, 1, "{}", plan.snapshot());
        assert!(plan.stderr.contains(code), "{code}\n{}", plan.stderr);
    }
}

/// `inspect` writes functions and triggers; what it writes plans empty
/// against the database it came from.
#[tokio::test]
async fn inspect_writes_functions_and_triggers() {
    let db = run_directly(PUBLIC, TENANT, TENANTS).await;
    let project = Project::empty();
    project.write("tenants.toml", &tenants_toml(TENANTS));
    let inspect = kschema(&project, &db, &["inspect", "--force"]);
    assert_eq!(inspect.code, 0, "{}", inspect.snapshot());
    let functions = project.read("schema/public/functions.sql");
    assert!(functions.contains("set_updated_at()"), "{functions}");
    let projects = project.read("schema/tenant/projects.sql");
    assert!(
        projects.contains("ALTER TABLE projects DISABLE TRIGGER projects_paused;"),
        "{projects}"
    );
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
}

/// Overloads with as many arguments, told apart by their types as
/// PostgreSQL reads them (a tenant's own enum among them): each is
/// created, replaced and dropped on its own, with its comment.
#[tokio::test]
async fn overloads_of_the_same_count_are_told_apart_by_their_types() {
    let public = "CREATE FUNCTION describe(n int) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'number' $$;
CREATE FUNCTION describe(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'text' $$;
COMMENT ON FUNCTION describe(text) IS 'for text';
";
    let tenant = "CREATE TYPE priority AS ENUM ('low', 'high');
CREATE FUNCTION weight(p priority) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT 1 $$;
CREATE FUNCTION weight(p varchar) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT 2 $$;
";
    let project = project_of(public, tenant, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, (public, tenant), TENANTS, &[]).await;

    // One overload's body changes: only it is replaced.
    let replaced = public.replace("SELECT 'text'", "SELECT 'words'");
    project.write("schema/public/app.sql", &replaced);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(
        plan.stdout.contains("~ replace function describe(text)"),
        "{}",
        plan.stdout
    );
    assert!(
        !plan.stdout.contains("describe(integer)"),
        "{}",
        plan.stdout
    );
    assert_converges(&project, &db, (&replaced, tenant), TENANTS, &[]).await;

    // One overload left out: only it is dropped.
    let fewer = tenant.replace(
        "CREATE FUNCTION weight(p varchar) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT 2 $$;\n",
        "",
    );
    project.write("schema/tenant/app.sql", &fewer);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(
        plan.stdout
            .contains("- drop function weight(character varying)"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("weight(priority)"), "{}", plan.stdout);
    assert_converges(&project, &db, (&replaced, &fewer), TENANTS, &[]).await;

    // Each overload keeps its own annotations: the second's allowance
    // does not reach the first.
    let renamed = replaced
        .replace("describe(n int)", "describe(num int)")
        .replace(
            "CREATE FUNCTION describe(t text)",
            "-- kschema:allow-hazard recreates-object\nCREATE FUNCTION describe(words text)",
        );
    project.write("schema/public/app.sql", &renamed);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    let line_after = |marker: &str| {
        let at = plan
            .stdout
            .find(marker)
            .unwrap_or_else(|| panic!("{marker}: {}", plan.stdout));
        plan.stdout[at..]
            .lines()
            .nth(1)
            .unwrap_or_default()
            .to_string()
    };
    let integer = line_after("drop and create function describe(integer)");
    let text = line_after("drop and create function describe(text)");
    assert!(integer.contains("[blocked"), "{integer}\n{}", plan.stdout);
    assert!(!text.contains("[blocked"), "{text}\n{}", plan.stdout);
}

/// `-- kschema:` annotations above a function, view, trigger or policy
/// count as above a table: an allowed hazard is allowed for that object
/// alone, a misspelt or misplaced one is refused at the comment.
#[tokio::test]
async fn annotations_above_routines_and_views_are_read() {
    let public = "CREATE TABLE events (id int PRIMARY KEY, kind text);
CREATE MATERIALIZED VIEW kinds AS SELECT DISTINCT kind FROM events;
";
    let project = project_of(public, "", &[]);
    let db = TestDb::new().await;
    assert_converges(&project, &db, (public, ""), &[], &[]).await;

    // A new query refills the view: allowed by its own annotation.
    let annotated = "CREATE TABLE events (id int PRIMARY KEY, kind text);
-- kschema:allow-hazard refills-view
CREATE MATERIALIZED VIEW kinds AS SELECT DISTINCT lower(kind) AS kind FROM events;
";
    project.write("schema/public/app.sql", annotated);
    let plan = kschema(&project, &db, &["plan"]);
    assert!(plan.stdout.contains("refills-view"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("[blocked"), "{}", plan.stdout);
    assert_converges(&project, &db, (annotated, ""), &[], &[]).await;

    for (annotation, expected) in [
        (
            "-- kschema:allow-hazzard refills-view",
            "kschema::annotation::unknown",
        ),
        (
            "-- kschema:renamed-from old_kinds",
            "kschema::annotation::misplaced",
        ),
    ] {
        project.write(
            "schema/public/app.sql",
            &annotated.replace("-- kschema:allow-hazard refills-view", annotation),
        );
        let plan = kschema(&project, &db, &["plan"]);
        assert_eq!(plan.code, 1, "{}", plan.snapshot());
        assert!(
            plan.stderr.contains(expected),
            "{expected}: {}",
            plan.stderr
        );
        assert!(plan.stderr.contains("app.sql:"), "{}", plan.stderr);
    }
}

/// A function dropped and created again that a generated column calls is
/// refused at plan time (its expression cannot be taken off and put back
/// as a default's, check's or index's can), before anything runs.
#[tokio::test]
async fn a_function_a_generated_column_calls_is_not_dropped_under_it() {
    let public = "CREATE FUNCTION norm(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(t) $$;
CREATE TABLE people (id int PRIMARY KEY, email text, normal text GENERATED ALWAYS AS (norm(email)) STORED);
";
    let project = project_of(public, "", &[]);
    let db = TestDb::new().await;
    assert_converges(&project, &db, (public, ""), &[], &[]).await;
    project.write(
        "schema/public/app.sql",
        &public
            .replace("norm(t text)", "norm(s text)")
            .replace("lower(t)", "lower(s)"),
    );
    let before = db.catalog("public").await;
    let apply = kschema(
        &project,
        &db,
        &["apply", "--allow-hazard", "recreates-object"],
    );
    assert_eq!(apply.code, 1, "{}", apply.snapshot());
    for expected in [
        "kschema::plan::generated_caller",
        "people.normal",
        "app.sql:1",
    ] {
        assert!(
            apply.stderr.contains(expected),
            "{expected}: {}",
            apply.stderr
        );
    }
    assert_eq!(db.catalog("public").await, before);
}

/// A shared function dropped and created again (its arguments renamed)
/// takes along what the tenants have that calls it — a default, a check,
/// an index, a policy, a view and the view reading that view — in
/// public's transaction, and puts them back as they were (a tenant
/// materialized view too, filling again); a tenant generated column
/// calling it is refused at plan time, nothing changed.
#[tokio::test]
async fn a_shared_function_created_again_takes_tenant_callers_along() {
    const TENANTS: &[&str] = &["a", "b"];
    let public = "CREATE FUNCTION current_org(fallback text) RETURNS text LANGUAGE sql STABLE
    AS $$ SELECT coalesce(current_setting('app.org', true), fallback) $$;
CREATE FUNCTION norm(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(t) $$;
";
    let tenant = "CREATE TABLE notes (
    id int PRIMARY KEY,
    org text DEFAULT current_org('none'),
    body text,
    CONSTRAINT body_set CHECK (norm(body) <> '')
);
CREATE INDEX notes_body ON notes (norm(body));
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY same_org ON notes USING (org = current_org('none'));
CREATE VIEW mine AS SELECT id, body FROM notes WHERE org = current_org('none');
CREATE VIEW mine_count AS SELECT count(*) AS n FROM mine;
";
    let project = project_of(public, tenant, TENANTS);
    let db = TestDb::new().await;
    let apply = kschema(&project, &db, &["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    db.execute("INSERT INTO org_a.notes (id, body) VALUES (1, 'Hello')")
        .await;

    let renamed = public
        .replace("(fallback text)", "(otherwise text)")
        .replace(", fallback)", ", otherwise)")
        .replace("norm(t text)", "norm(value text)")
        .replace("lower(t)", "lower(value)");
    project.write("schema/public/app.sql", &renamed);
    let plan = kschema(&project, &db, &["plan"]);
    for expected in [
        "- take off 8 defaults, constraints, indexes or policies of other schemas that call or read what changes here, put back after it: org_a.notes policy same_org, org_a.notes constraint body_set, org_a.notes.org default, org_a.notes_body index, org_b.notes policy same_org, and 3 more",
        "- drop 4 views of other schemas that read what changes here, created again after it: org_b.mine_count, org_b.mine, org_a.mine_count, org_a.mine",
        "+ put back 8 defaults, constraints, indexes or policies of other schemas:",
        "validates-constraint: checks the rows of other schemas against 2 check(s) again",
    ] {
        assert!(plan.stdout.contains(expected), "{expected}\n{}", plan.stdout);
    }
    let hazards = "recreates-object,validates-constraint,builds-index";
    assert_converges(
        &project,
        &db,
        (&renamed, tenant),
        TENANTS,
        &["--allow-hazard", hazards],
    )
    .await;
    let kept: i64 = db
        .client()
        .await
        .query_one("SELECT count(*) FROM org_a.notes WHERE org = 'none'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(kept, 1, "the tenant's rows stay");

    // A tenant materialized view calling it goes along too, and fills
    // again.
    let materialized =
        format!("{tenant}CREATE MATERIALIZED VIEW counted AS SELECT norm('X') AS x;\n");
    project.write("schema/tenant/app.sql", &materialized);
    let apply = kschema(&project, &db, &["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    project.write("schema/public/app.sql", public);
    let hazards = "recreates-object,validates-constraint,builds-index,refills-view";
    assert_converges(
        &project,
        &db,
        (public, &materialized),
        TENANTS,
        &["--allow-hazard", hazards],
    )
    .await;

    // A tenant generated column calling it: refused, nothing changed.
    let generated = format!(
        "{tenant}CREATE TABLE tags (name text, normal text GENERATED ALWAYS AS (norm(name)) STORED);\n"
    );
    project.write("schema/tenant/app.sql", &generated);
    let apply = kschema(&project, &db, &["apply", "--allow-destructive"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    project.write("schema/public/app.sql", &renamed);
    let before = db.catalog("org_a").await;
    let apply = kschema(&project, &db, &["apply", "--allow-hazard", hazards]);
    assert_eq!(apply.code, 1, "{}", apply.snapshot());
    for expected in ["kschema::plan::generated_caller", "org_a.tags.normal"] {
        assert!(
            apply.stderr.contains(expected),
            "{expected}: {}",
            apply.snapshot()
        );
    }
    assert_eq!(db.catalog("org_a").await, before);
}

/// A function partitions' defaults call, and its argument renamed (which
/// drops and creates it again).
const REGION_CODE: &str = "CREATE FUNCTION region_code(r text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT upper(r) $$;\n";
const REGION_CODE_RENAMED: &str = "CREATE FUNCTION region_code(region_name text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT upper(region_name) $$;\n";
/// A partitioned table whose default calls it, a partition with its own
/// default calling it, one with the parent's, one with its own constant.
const EVENTS: &str = "CREATE TABLE events (id int, region text, code text DEFAULT region_code('eu')) PARTITION BY LIST (region);
CREATE TABLE events_us PARTITION OF events (code DEFAULT region_code('us')) FOR VALUES IN ('us');
CREATE TABLE events_eu PARTITION OF events FOR VALUES IN ('eu');
CREATE TABLE events_ap PARTITION OF events (code DEFAULT 'AP') FOR VALUES IN ('ap');
";

/// A function created again under a partitioned table's default: the
/// parent's default is taken off and put back (which reaches every
/// partition), and then each partition's own default — one calling the
/// function, one not — is set again.
#[tokio::test]
async fn a_function_created_again_keeps_partitions_own_defaults() {
    let public = format!("{REGION_CODE}{EVENTS}");
    let project = project_of(&public, "", &[]);
    let db = TestDb::new().await;
    assert_converges(&project, &db, (&public, ""), &[], &[]).await;
    let renamed = format!("{REGION_CODE_RENAMED}{EVENTS}");
    project.write("schema/public/app.sql", &renamed);
    assert_converges(
        &project,
        &db,
        (&renamed, ""),
        &[],
        &["--allow-hazard", "recreates-object"],
    )
    .await;
}

/// The same for a shared function under a tenant's partitioned table:
/// public's transaction puts the parent's default back, then each
/// partition's own.
#[tokio::test]
async fn a_shared_function_created_again_keeps_tenant_partitions_own_defaults() {
    const TENANTS: &[&str] = &["a"];
    let project = project_of(REGION_CODE, EVENTS, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, (REGION_CODE, EVENTS), TENANTS, &[]).await;
    project.write("schema/public/app.sql", REGION_CODE_RENAMED);
    assert_converges(
        &project,
        &db,
        (REGION_CODE_RENAMED, EVENTS),
        TENANTS,
        &["--allow-hazard", "recreates-object"],
    )
    .await;
}

#[tokio::test]
async fn words_that_read_as_a_cycle_do_not_stop_the_desired_state() {
    // The function's alias is the domain's name: read word by word they
    // need each other, and the domain is tried first. PostgreSQL records
    // only the domain needing the function: the domain (and the overload
    // taking it, whose argument types are read from the catalog right
    // after it is made) waits for the function, and the plan runs in the
    // order PostgreSQL recorded.
    let public = "CREATE FUNCTION positive(n numeric) RETURNS boolean LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
    SELECT n > 0 AS amount;
END;
CREATE DOMAIN amount AS numeric CHECK (positive(VALUE));
CREATE FUNCTION show(a amount) RETURNS text LANGUAGE sql AS $$ SELECT 'amount' $$;
CREATE FUNCTION show(a text) RETURNS text LANGUAGE sql AS $$ SELECT a $$;
";
    let project = project_of(public, "", TENANTS);
    let db = TestDb::new().await;
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert!(!plan.stdout.contains("dependency cycle"), "{}", plan.stdout);
    let function = plan.stdout.find("+ create function positive").unwrap();
    let domain = plan.stdout.find("+ create domain amount").unwrap();
    assert!(function < domain, "{}", plan.stdout);
    assert_converges(&project, &db, (public, ""), TENANTS, &[]).await;
}
