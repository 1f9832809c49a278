//! Views as desired state, shared and per tenant: created in the order
//! they read each other, replaced when their columns allow, dropped and
//! created again (with the views that read them) when not, or when a
//! column they read changes type; after each apply the plan is empty and
//! `pg_dump --schema-only` equals that of the SQL run directly.

use crate::support::{
    assert_converges, inspect_into_new_project, kschema, project_of, run_directly, tenants_toml,
    Project, TestDb,
};

const PUBLIC: &str =
    "CREATE TABLE plans (id INT PRIMARY KEY, name TEXT NOT NULL, price NUMERIC(10, 2));
-- Read by the tenant views; declared before the view it reads on purpose.
CREATE VIEW cheap_plan_names AS SELECT name FROM cheap_plans;
CREATE VIEW cheap_plans WITH (security_barrier = true) AS
    SELECT id, name, price FROM plans WHERE price < 10;
";

const TENANT: &str = "CREATE TABLE tasks (
    id BIGINT PRIMARY KEY,
    plan_id INT,
    title VARCHAR(100) NOT NULL,
    done BOOLEAN NOT NULL DEFAULT false
);
CREATE VIEW open_tasks AS SELECT id, title FROM tasks WHERE NOT done
    WITH CASCADED CHECK OPTION;
CREATE VIEW open_task_count AS SELECT count(*) AS n FROM open_tasks;
CREATE VIEW task_plans AS
    SELECT t.id, p.name AS plan FROM tasks t JOIN plans p ON p.id = t.plan_id;
";

const TENANTS: &[&str] = &["t1", "t2"];

/// PUBLIC in an order PostgreSQL accepts when run directly: the view that
/// reads another after it.
fn in_reading_order(public: &str) -> String {
    let reader = "CREATE VIEW cheap_plan_names AS SELECT name FROM cheap_plans;\n";
    public.replace(reader, "") + reader
}

#[tokio::test]
async fn views_converge_and_change() {
    let project = project_of(PUBLIC, TENANT, TENANTS);
    let db = TestDb::new().await;
    assert_converges(
        &project,
        &db,
        (&in_reading_order(PUBLIC), TENANT),
        TENANTS,
        &[],
    )
    .await;

    // A column at the end: replaced in place.
    let wider = TENANT.replace(
        "SELECT t.id, p.name AS plan FROM",
        "SELECT t.id, p.name AS plan, p.price FROM",
    );
    project.write("schema/tenant/app.sql", &wider);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(
        plan.stdout.contains("~ replace view task_plans"),
        "{}",
        plan.stdout
    );
    assert_converges(
        &project,
        &db,
        (&in_reading_order(PUBLIC), &wider),
        TENANTS,
        &[],
    )
    .await;

    // A column type under a view, and a view losing a column: dropped and
    // created again, with the view that reads it.
    let changed = wider
        .replace("title VARCHAR(100)", "title TEXT")
        .replace("SELECT id, title FROM tasks", "SELECT id FROM tasks");
    project.write("schema/tenant/app.sql", &changed);
    let plan = kschema(
        &project,
        &db,
        &["plan", "--tenant", "all", "--format", "sql"],
    );
    let order: Vec<usize> = [
        "DROP VIEW org_t1.open_task_count",
        "DROP VIEW org_t1.open_tasks",
        "ALTER TABLE org_t1.tasks ALTER COLUMN title TYPE text",
        "CREATE OR REPLACE VIEW open_tasks",
        "CREATE OR REPLACE VIEW open_task_count",
    ]
    .iter()
    .map(|s| {
        plan.stdout
            .find(s)
            .unwrap_or_else(|| panic!("{s}\n{}", plan.stdout))
    })
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{}", plan.stdout);
    assert_converges(
        &project,
        &db,
        (&in_reading_order(PUBLIC), &changed),
        TENANTS,
        &[],
    )
    .await;

    // Dropped: the reader first.
    let fewer = changed.replace(
        "CREATE VIEW open_task_count AS SELECT count(*) AS n FROM open_tasks;\n",
        "",
    );
    project.write("schema/tenant/app.sql", &fewer);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(
        plan.stdout.contains("- drop view open_task_count"),
        "{}",
        plan.stdout
    );
    assert_converges(
        &project,
        &db,
        (&in_reading_order(PUBLIC), &fewer),
        TENANTS,
        &[],
    )
    .await;
}

#[tokio::test]
async fn inspect_writes_views_in_reading_order() {
    let db = run_directly(&in_reading_order(PUBLIC), TENANT, TENANTS).await;
    let project = Project::empty();
    project.write("tenants.toml", &tenants_toml(TENANTS));
    let inspect = kschema(&project, &db, &["inspect", "--force"]);
    assert_eq!(inspect.code, 0, "{}", inspect.snapshot());
    let views = project.read("schema/public/views.sql");
    let reads = views.find("VIEW cheap_plan_names").unwrap();
    let read = views.find("VIEW cheap_plans").unwrap();
    assert!(read < reads, "{views}");
    assert!(views.contains("WITH (security_barrier=true)"), "{views}");
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
}

/// Identical tenants' views are deparsed once per signature (their query
/// trees with the tenant's own oids named), yet a tenant whose view reads
/// another enum label or another column is told apart.
#[tokio::test]
async fn a_view_drifted_in_one_tenant_is_seen_among_identical_ones() {
    let tenant = "CREATE TYPE state AS ENUM ('open', 'done');
CREATE TABLE jobs (id INT PRIMARY KEY, state state NOT NULL DEFAULT 'open', note TEXT);
CREATE VIEW open_jobs AS SELECT id, note FROM jobs WHERE state = 'open';
";
    let project = project_of("", tenant, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, ("", tenant), TENANTS, &[]).await;
    db.execute(
        "CREATE OR REPLACE VIEW org_t2.open_jobs AS SELECT id, note FROM org_t2.jobs WHERE state = 'done'",
    )
    .await;
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(
        plan.stdout
            .contains("tenant t2 (org_t2): 1 change\n  ~ replace view open_jobs"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("tenant t1 (org_t1): up to date"),
        "{}",
        plan.stdout
    );
}

/// Identical tenants' views are deparsed once per signature however their
/// trees name the tenant's own objects: enum constants, functions (in the
/// select list, in FROM, in a materialized view's index), a composite
/// type's field, arrays of an enum, a whole row, a domain, a view read by
/// a view.
#[tokio::test]
async fn identical_tenants_views_are_deparsed_once_whatever_they_name() {
    let tenant = "CREATE TYPE state AS ENUM ('open', 'done');
CREATE DOMAIN short_text AS TEXT CHECK (length(VALUE) < 50);
CREATE TYPE money_amount AS (currency TEXT, cents BIGINT);
CREATE TABLE jobs (
    id INT PRIMARY KEY,
    state state NOT NULL DEFAULT 'open',
    history state[] NOT NULL DEFAULT '{}',
    price money_amount,
    note TEXT
);
CREATE FUNCTION next_state(s state) RETURNS state IMMUTABLE LANGUAGE sql AS $$ SELECT 'done'::state $$;
CREATE FUNCTION bucket(i INT) RETURNS INT IMMUTABLE LANGUAGE sql AS $$ SELECT i / 10 $$;
CREATE FUNCTION open_jobs_of() RETURNS SETOF jobs STABLE LANGUAGE sql AS $$ SELECT * FROM jobs WHERE state = 'open' $$;
CREATE VIEW open_jobs AS SELECT id, note::short_text AS note FROM jobs WHERE state = 'open';
CREATE VIEW job_flow AS
    SELECT id, next_state(state) AS next, ARRAY['open'::state] AS first,
           (price).cents AS cents, 'done' = ANY (history) AS ever_done, j AS whole
      FROM jobs j;
CREATE VIEW listed AS SELECT id FROM open_jobs_of();
CREATE VIEW open_count AS SELECT count(*) AS n FROM open_jobs;
CREATE MATERIALIZED VIEW job_buckets AS SELECT id, state FROM jobs;
CREATE INDEX job_buckets_bucket ON job_buckets (bucket(id)) WHERE state = 'open';
";
    let tenants = &["t1", "t2", "t3"];
    let project = project_of("", tenant, tenants);
    let db = TestDb::new().await;
    assert_converges(&project, &db, ("", tenant), tenants, &[]).await;
    let plan = kschema(&project, &db, &["plan", "--tenant", "all", "-vv"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
    assert!(
        plan.stderr.contains("views: 5 of 15 deparsed"),
        "{}",
        plan.stderr
    );
}

#[tokio::test]
async fn materialized_views_converge_and_are_created_again_when_they_change() {
    let tenant = "CREATE TABLE tasks (id BIGINT PRIMARY KEY, title VARCHAR(100), done BOOLEAN NOT NULL DEFAULT false);
CREATE MATERIALIZED VIEW task_counts AS SELECT done, count(*) AS n FROM tasks GROUP BY done;
CREATE VIEW open_count AS SELECT n FROM task_counts WHERE NOT done;
";
    let project = project_of("", tenant, TENANTS);
    let db = TestDb::new().await;
    let apply = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert!(
        apply
            .stdout
            .contains("+ create materialized view task_counts"),
        "{}",
        apply.stdout
    );
    assert!(apply.stdout.contains("refills-view"), "{}", apply.stdout);
    assert_converges(&project, &db, ("", tenant), TENANTS, &[]).await;

    // A new query: dropped and created again (no CREATE OR REPLACE), with
    // the view that reads it; a column type under it does the same.
    let changed = tenant
        .replace("count(*) AS n", "count(*) AS n, max(id) AS last")
        .replace("title VARCHAR(100)", "title TEXT");
    project.write("schema/tenant/app.sql", &changed);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    for expected in [
        "- drop materialized view task_counts",
        "+ create materialized view task_counts",
        "- drop view open_count",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "{expected}\n{}",
            plan.stdout
        );
    }
    assert_converges(&project, &db, ("", &changed), TENANTS, &[]).await;

    // inspect writes it back as a materialized view; its files plan empty.
    let (out, _) = inspect_into_new_project(&project, &db);
    let views = out.read("schema/tenant/views.sql");
    assert!(
        views.contains("CREATE MATERIALIZED VIEW task_counts"),
        "{views}"
    );
    let plan = kschema(&out, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
}

#[tokio::test]
async fn indexes_and_comments_on_materialized_views_converge_and_come_back_with_them() {
    let tenant = "CREATE TABLE tasks (id BIGINT PRIMARY KEY, title TEXT, done BOOLEAN NOT NULL DEFAULT false);
CREATE MATERIALIZED VIEW task_counts AS SELECT done, count(*) AS n FROM tasks GROUP BY done;
";
    let indexed = format!(
        "{tenant}CREATE UNIQUE INDEX task_counts_done ON task_counts (done);
CREATE INDEX task_counts_busy ON task_counts (n DESC) WHERE n > 10;
COMMENT ON MATERIALIZED VIEW task_counts IS 'tasks per state';
COMMENT ON COLUMN task_counts.n IS 'how many';
COMMENT ON INDEX task_counts_done IS 'lets REFRESH run concurrently';
"
    );
    let project = project_of("", tenant, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, ("", tenant), TENANTS, &[]).await;

    // Indexes on a view that exists are built online, like a table's.
    project.write("schema/tenant/app.sql", &indexed);
    let plan = kschema(
        &project,
        &db,
        &["plan", "--tenant", "all", "--format", "sql"],
    );
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    for expected in [
        "COMMENT ON MATERIALIZED VIEW org_t1.task_counts IS 'tasks per state';",
        "COMMENT ON COLUMN org_t1.task_counts.n IS 'how many';",
        "-- outside a transaction:",
        "CREATE UNIQUE INDEX CONCURRENTLY task_counts_done ON org_t1.task_counts (done);",
        // Once the index is built.
        "(done);\nCOMMENT ON INDEX org_t1.task_counts_done IS 'lets REFRESH run concurrently';",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "{expected}\n{}",
            plan.stdout
        );
    }
    assert_converges(&project, &db, ("", &indexed), TENANTS, &[]).await;
    // REFRESH … CONCURRENTLY needs the unique index: it is there.
    db.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY org_t1.task_counts")
        .await;

    // A new query creates the view again: its indexes and comments come
    // back after it, in the same transaction.
    let changed = indexed.replace("count(*) AS n", "count(*) AS n, max(id) AS last");
    project.write("schema/tenant/app.sql", &changed);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    let text = &plan.stdout;
    let view_at = text
        .find("+ create materialized view task_counts")
        .unwrap_or_else(|| panic!("{text}"));
    let index_at = text
        .find("+ create unique index task_counts_done")
        .unwrap_or_else(|| panic!("{text}"));
    assert!(view_at < index_at, "{text}");
    assert!(!text.contains("- drop index"), "{text}");
    assert_converges(&project, &db, ("", &changed), TENANTS, &[]).await;

    // One tenant's index dropped by hand: only it gets the index again.
    db.execute("DROP INDEX org_t2.task_counts_busy").await;
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(
        plan.stdout.contains("tenant t1 (org_t1): up to date"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("+ create index task_counts_busy"),
        "{}",
        plan.stdout
    );
    assert_converges(&project, &db, ("", &changed), TENANTS, &[]).await;

    // An index the files drop goes online.
    let fewer = changed.replace(
        "CREATE INDEX task_counts_busy ON task_counts (n DESC) WHERE n > 10;\n",
        "",
    );
    project.write("schema/tenant/app.sql", &fewer);
    let plan = kschema(
        &project,
        &db,
        &["plan", "--tenant", "all", "--format", "sql"],
    );
    assert!(
        plan.stdout
            .contains("DROP INDEX CONCURRENTLY IF EXISTS org_t1.task_counts_busy"),
        "{}",
        plan.stdout
    );
    assert_converges(&project, &db, ("", &fewer), TENANTS, &[]).await;

    // inspect writes the indexes and comments back; its files plan empty.
    let (out, _) = inspect_into_new_project(&project, &db);
    let views = out.read("schema/tenant/views.sql");
    assert!(
        views.contains("CREATE UNIQUE INDEX task_counts_done ON task_counts USING btree (done)")
            || views.contains("CREATE UNIQUE INDEX task_counts_done ON task_counts (done)"),
        "{views}"
    );
    assert!(
        out.read("schema/tenant/comments.sql")
            .contains("COMMENT ON MATERIALIZED VIEW task_counts IS 'tasks per state'"),
        "{}",
        out.read("schema/tenant/comments.sql")
    );
    let plan = kschema(&out, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
    assert!(!plan.stdout.contains("not compared"), "{}", plan.stdout);
}

#[tokio::test]
async fn an_index_on_a_plain_view_is_refused_at_its_line() {
    let tenant = "CREATE TABLE tasks (id BIGINT PRIMARY KEY, done BOOLEAN);
CREATE VIEW open_tasks AS SELECT id FROM tasks WHERE NOT done;
CREATE INDEX open_tasks_id ON open_tasks (id);
";
    let project = project_of("", tenant, TENANTS);
    let db = TestDb::new().await;
    let refused = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(refused.code, 1, "{}", refused.snapshot());
    for expected in [
        "kschema::sql::index_on_view",
        "index on view open_tasks, which holds no rows",
        "app.sql:3",
        "CREATE MATERIALIZED VIEW",
    ] {
        assert!(
            refused.stderr.contains(expected),
            "{expected}\n{}",
            refused.stderr
        );
    }
}

/// A shared column's type change that tenant views read takes them along:
/// public's transaction drops them (and the tenant views reading those),
/// changes the column and creates them again as they were, with their
/// grants and comments; the result is what the SQL run directly builds. A
/// tenant materialized view among the readers (its rows and indexes) is
/// refused at plan time instead, at the column, naming it.
#[tokio::test]
async fn a_shared_change_under_tenant_views_takes_them_along() {
    const TENANTS: &[&str] = &["a", "b"];
    let public = "CREATE TABLE prices (id int PRIMARY KEY, amount int, note text);\n";
    let tenant = "CREATE TABLE local (id int PRIMARY KEY);
CREATE VIEW amounts AS SELECT p.id, p.amount FROM prices p JOIN local l ON l.id = p.id;
CREATE VIEW big AS SELECT id FROM amounts WHERE amount > 10;
GRANT SELECT ON amounts TO kschema_test_app;
COMMENT ON VIEW amounts IS 'what things cost';
";
    let project = crate::support::project_of(public, tenant, TENANTS);
    project.write(
        "kschema.toml",
        "[roles]\nmanaged = [\"kschema_test_app\"]\n",
    );
    let db = TestDb::new().await;
    crate::support::ensure_role(&db, "kschema_test_app").await;
    let apply = kschema(&project, &db, &["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());

    let retyped = public.replace("amount int", "amount bigint");
    project.write("schema/public/app.sql", &retyped);
    let plan = kschema(&project, &db, &["plan"]);
    for expected in [
        "- drop 4 views of other schemas that read what changes here, created again after it: org_b.big, org_b.amounts, org_a.big, org_a.amounts",
        "+ create again 4 views of other schemas: org_a.amounts, org_a.big, org_b.amounts, org_b.big",
    ] {
        assert!(plan.stdout.contains(expected), "{expected}\n{}", plan.stdout);
    }
    // A run over one tenant reads the other too: public's transaction
    // takes every tenant's views along, and the run converges public and
    // tenant a only.
    let one = kschema(&project, &db, &["plan", "--tenant", "a"]);
    assert!(
        one.stdout.contains("- drop 4 views of other schemas")
            && one.stdout.contains("org_b.amounts")
            && !one.stdout.contains("tenant b"),
        "{}",
        one.stdout
    );
    let allow = ["--allow-hazard", "rewrites-table,recreates-object"];
    let applied = kschema(
        &project,
        &db,
        &[&["apply", "--tenant", "a"][..], &allow[..]].concat(),
    );
    assert_eq!(applied.code, 0, "{}", applied.snapshot());
    let after = kschema(&project, &db, &["plan"]);
    assert!(after.stdout.contains("No changes"), "{}", after.stdout);
    crate::support::assert_converges(&project, &db, (&retyped, tenant), TENANTS, &allow).await;

    // A materialized view among the readers goes along too, with its
    // index and comments, and fills again.
    let materialized = format!(
        "{tenant}CREATE MATERIALIZED VIEW cheap AS SELECT id, amount FROM prices WHERE amount < 5;
CREATE INDEX cheap_id ON cheap (id);
COMMENT ON MATERIALIZED VIEW cheap IS 'the cheap ones';
COMMENT ON COLUMN cheap.amount IS 'what it costs';
"
    );
    project.write("schema/tenant/app.sql", &materialized);
    let apply = kschema(&project, &db, &["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    let numeric = public.replace("amount int", "amount numeric");
    project.write("schema/public/app.sql", &numeric);
    let plan = kschema(&project, &db, &["plan"]);
    assert!(
        plan.stdout.contains("org_a.cheap")
            && plan
                .stdout
                .contains("refills-view: fills 2 materialized view(s) of other schemas again"),
        "{}",
        plan.stdout
    );
    let allow = [
        "--allow-hazard",
        "rewrites-table,recreates-object,refills-view",
    ];
    crate::support::assert_converges(&project, &db, (&numeric, &materialized), TENANTS, &allow)
        .await;

    // Dropping the column with the views in the same change is fine:
    // public's drop waits for the tenants, which drop their views first.
    let dropped = "CREATE TABLE prices (id int PRIMARY KEY, note text);\n";
    project.write("schema/public/app.sql", dropped).write(
        "schema/tenant/app.sql",
        "CREATE TABLE local (id int PRIMARY KEY);\n",
    );
    let apply = kschema(&project, &db, &["apply", "--allow-destructive"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    assert_eq!(kschema(&project, &db, &["plan"]).code, 0);
}

/// A shared view that must be created again (a column left out, which
/// `CREATE OR REPLACE` cannot do) takes the tenant views reading it along,
/// as a column's type change does.
#[tokio::test]
async fn a_shared_view_created_again_takes_tenant_views_along() {
    const TENANTS: &[&str] = &["a"];
    let public = "CREATE TABLE prices (id int PRIMARY KEY, amount int, note text);
CREATE VIEW priced AS SELECT id, amount, note FROM prices;
";
    let tenant = "CREATE VIEW amounts AS SELECT id, amount FROM priced;\n";
    let project = crate::support::project_of(public, tenant, TENANTS);
    let db = TestDb::new().await;
    let apply = kschema(&project, &db, &["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());

    let without_note = public.replace("SELECT id, amount, note FROM", "SELECT id, amount FROM");
    project.write("schema/public/app.sql", &without_note);
    let plan = kschema(&project, &db, &["plan"]);
    assert!(
        plan.stdout.contains("- drop 1 view of other schemas that read what changes here, created again after it: org_a.amounts"),
        "{}",
        plan.stdout
    );
    let allow = ["--allow-hazard", "recreates-object"];
    crate::support::assert_converges(&project, &db, (&without_note, tenant), TENANTS, &allow).await;
}

/// A shared generated column given a new expression is dropped and added
/// again in public's own order (not after the tenants): the tenant views
/// reading it go along.
#[tokio::test]
async fn a_shared_generated_column_given_a_new_expression_takes_tenant_views_along() {
    const TENANTS: &[&str] = &["a"];
    let public = "CREATE TABLE prices (id int PRIMARY KEY, amount int, doubled int GENERATED ALWAYS AS (amount * 2) STORED);\n";
    let tenant = "CREATE VIEW doubled AS SELECT id, doubled FROM prices;\n";
    let project = crate::support::project_of(public, tenant, TENANTS);
    let db = TestDb::new().await;
    let apply = kschema(&project, &db, &["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());

    let tripled = public.replace("amount * 2", "amount * 3");
    project.write("schema/public/app.sql", &tripled);
    let plan = kschema(&project, &db, &["plan"]);
    assert!(
        plan.stdout.contains("- drop 1 view of other schemas that read what changes here, created again after it: org_a.doubled"),
        "{}",
        plan.stdout
    );
    let allow = [
        "--allow-hazard",
        "recreates-object,rewrites-table",
        "--allow-destructive",
    ];
    crate::support::assert_converges(&project, &db, (&tripled, tenant), TENANTS, &allow).await;
}
