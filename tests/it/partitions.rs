//! Declarative partitioning: partitioned tables (RANGE, LIST, HASH),
//! partitions of them (sub-partitioned too), partitioned indexes; created,
//! attached, detached, dropped and partitioned anew, in public and in every
//! tenant, converging to what the SQL builds when run directly.

use crate::support::{assert_converges, inspect_into_new_project, kschema, project_of, TestDb};

const TENANTS: &[&str] = &["abc", "def"];

const V1_PUBLIC: &str = "\
CREATE TABLE events (
  id bigint GENERATED ALWAYS AS IDENTITY,
  at date NOT NULL,
  region text NOT NULL,
  payload jsonb,
  PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE TABLE events_2026_01 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE events_2026_02 PARTITION OF events FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
CREATE TABLE events_default PARTITION OF events DEFAULT;
CREATE INDEX events_region ON events (region);
CREATE TABLE logs (id int, at date);
";

const V1_TENANT: &str = "\
CREATE TABLE orders (id int NOT NULL, region text NOT NULL, total numeric) PARTITION BY LIST (region);
CREATE TABLE orders_eu PARTITION OF orders FOR VALUES IN ('eu', 'uk') PARTITION BY HASH (id);
CREATE TABLE orders_eu_0 PARTITION OF orders_eu FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE orders_eu_1 PARTITION OF orders_eu FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE TABLE orders_us PARTITION OF orders FOR VALUES IN ('us');
";

/// A month added and one dropped, a column, a foreign key and an index
/// added to the partitioned table, a partition's bound moved, a plain
/// table partitioned anew.
const V2_PUBLIC: &str = "\
CREATE TABLE sources (name text PRIMARY KEY);
CREATE TABLE events (
  id bigint GENERATED ALWAYS AS IDENTITY,
  at date NOT NULL,
  region text NOT NULL,
  payload jsonb,
  source text REFERENCES sources (name),
  PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE TABLE events_2026_02 PARTITION OF events FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
CREATE TABLE events_2026_03 PARTITION OF events FOR VALUES FROM ('2026-03-01') TO ('2026-04-01');
CREATE TABLE events_default PARTITION OF events DEFAULT;
CREATE INDEX events_region ON events (region);
CREATE INDEX events_source ON events (source);
CREATE TABLE logs (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE logs_rest PARTITION OF logs DEFAULT;
";

const V2_TENANT: &str = "\
CREATE TABLE orders (id int NOT NULL, region text NOT NULL, total numeric) PARTITION BY LIST (region);
CREATE TABLE orders_eu PARTITION OF orders FOR VALUES IN ('eu', 'uk') PARTITION BY HASH (id);
CREATE TABLE orders_eu_0 PARTITION OF orders_eu FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE orders_eu_1 PARTITION OF orders_eu FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE TABLE orders_us PARTITION OF orders FOR VALUES IN ('us', 'ca');
";

#[tokio::test]
async fn partitioned_tables_converge_and_evolve() {
    let project = project_of(V1_PUBLIC, V1_TENANT, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, (V1_PUBLIC, V1_TENANT), TENANTS, &[]).await;
    db.execute(
        "INSERT INTO public.events (at, region) VALUES ('2026-02-10', 'eu'); \
         INSERT INTO org_abc.orders VALUES (1, 'us', 10), (2, 'eu', 20)",
    )
    .await;

    project.write("schema/public/app.sql", V2_PUBLIC);
    project.write("schema/tenant/app.sql", V2_TENANT);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    for expected in [
        "+ create partition events_2026_03 of events FOR VALUES FROM ('2026-03-01') TO ('2026-04-01')",
        "- drop table events_2026_01",
        "+ add column events.source text",
        "builds index events_source over every partition of events",
        "- drop table logs to create it again with its new partitioning",
        "+ create table logs (2 columns) partitioned by RANGE (at)",
        "+ create partition logs_rest of logs DEFAULT",
        "~ move partition orders_us: orders FOR VALUES IN ('us') → orders FOR VALUES IN ('us', 'ca')",
        "scans it under an ACCESS EXCLUSIVE lock",
    ] {
        assert!(plan.stdout.contains(expected), "{expected}\n{}", plan.stdout);
    }
    let sql = kschema(
        &project,
        &db,
        &["plan", "--tenant", "all", "--format", "sql"],
    );
    for expected in [
        // A partitioned table's index is built in the transaction: never
        // concurrently, which PostgreSQL refuses for one.
        "CREATE INDEX events_source ON public.events",
        "ALTER TABLE org_abc.orders DETACH PARTITION org_abc.orders_us;\nALTER TABLE org_abc.orders ATTACH PARTITION org_abc.orders_us FOR VALUES IN ('us', 'ca');",
    ] {
        assert!(sql.stdout.contains(expected), "{expected}\n{}", sql.stdout);
    }
    assert!(
        !sql.stdout.contains("CONCURRENTLY events_source"),
        "{}",
        sql.stdout
    );
    // Nor can a foreign key be added NOT VALID to one.
    assert!(
        sql.stdout.contains("FOREIGN KEY (source)"),
        "{}",
        sql.stdout
    );
    assert!(!sql.stdout.contains("NOT VALID"), "{}", sql.stdout);
    assert_converges(
        &project,
        &db,
        (V2_PUBLIC, V2_TENANT),
        TENANTS,
        &[
            "--allow-destructive",
            "--allow-hazard",
            "access-exclusive-lock",
        ],
    )
    .await;
    // The rows stayed where their partitions stayed.
    let client = db.client().await;
    for (query, rows) in [
        ("SELECT count(*) FROM public.events", 1),
        ("SELECT count(*) FROM org_abc.orders", 2),
    ] {
        let count: i64 = client.query_one(query, &[]).await.unwrap().get(0);
        assert_eq!(count, rows, "{query}");
    }

    // A partition's own default is listed, never silently passed over.
    db.execute("ALTER TABLE org_abc.orders_us ALTER COLUMN total SET DEFAULT 0")
        .await;
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(
        plan.stdout
            .contains("1 partition column with a default or NOT NULL of its own (orders_us.total)"),
        "{}",
        plan.stdout
    );
    db.execute("ALTER TABLE org_abc.orders_us ALTER COLUMN total DROP DEFAULT")
        .await;

    // One tenant's partition drifting is that tenant's change alone.
    db.execute("ALTER TABLE org_def.orders DETACH PARTITION org_def.orders_us")
        .await;
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert!(
        plan.stdout.contains("tenant def (org_def): 1 change")
            && plan
                .stdout
                .contains("~ attach orders_us to orders FOR VALUES IN ('us', 'ca')"),
        "{}",
        plan.stdout
    );
}

/// `inspect` writes partitioned tables and partitions as PostgreSQL keeps
/// them, and its files plan empty against the same database.
#[tokio::test]
async fn inspect_writes_partitioned_tables_that_plan_empty() {
    let project = project_of(V1_PUBLIC, V1_TENANT, TENANTS);
    let db = TestDb::new().await;
    let apply = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    let (inspected, run) = inspect_into_new_project(&project, &db);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    let events = inspected.read("schema/public/events_2026_01.sql");
    assert!(
        events.contains("CREATE TABLE events_2026_01 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');"),
        "{events}"
    );
    let plan = kschema(&inspected, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
    assert!(!plan.stdout.contains("Not compared"), "{}", plan.stdout);
}

/// A partition of a table the files do not declare partitioned is refused
/// at the partition, before anything runs.
#[tokio::test]
async fn a_partition_of_a_table_not_partitioned_is_refused() {
    let project = project_of(
        "CREATE TABLE t (id int);\nCREATE TABLE t_1 PARTITION OF t DEFAULT;\n",
        "",
        &[],
    );
    let db = TestDb::new().await;
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 1, "{}", plan.snapshot());
    for expected in [
        "kschema::sql::partition_parent",
        "t_1 is a partition of t",
        "app.sql:2",
        "PARTITION BY RANGE",
    ] {
        assert!(
            plan.stderr.contains(expected),
            "{expected}\n{}",
            plan.stderr
        );
    }
}
