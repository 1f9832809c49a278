//! Declarative partitioning: partitioned tables (RANGE, LIST, HASH),
//! partitions of them (sub-partitioned too), partitioned indexes; created,
//! attached, detached, dropped and partitioned anew, in public and in every
//! tenant, converging to what the SQL builds when run directly.

use crate::dumps::project_from_dumps;
use crate::support::{
    assert_converges, assert_same_dump, inspect_into_new_project, kschema, project_of, TestDb,
};

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

    // A partition's own default is compared: set by hand in one tenant, it
    // is that tenant's change, and apply takes it back.
    db.execute("ALTER TABLE org_abc.orders_us ALTER COLUMN total SET DEFAULT 0")
        .await;
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(
        plan.stdout.contains("tenant abc (org_abc): 1 change")
            && plan.stdout.contains(
                "~ columns of partition orders_us: their parent's defaults and NOT NULLs"
            ),
        "{}",
        plan.stdout
    );
    let apply = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    assert_eq!(kschema(&project, &db, &["plan", "--tenant", "all"]).code, 0);

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
/// them (with what a partition sets for its columns itself, and where a
/// partition and an index live), and its
/// files plan empty against the same database.
#[tokio::test]
async fn inspect_writes_partitioned_tables_that_plan_empty() {
    let public = V1_PUBLIC
        .replace(
            "events_2026_01 PARTITION OF events FOR",
            "events_2026_01 PARTITION OF events (payload DEFAULT '{}' NOT NULL) FOR",
        )
        .replace(
            "('2026-02-01') TO ('2026-03-01');",
            "('2026-02-01') TO ('2026-03-01') TABLESPACE kschema_case_space;",
        )
        .replace(
            "events (region);",
            "events (region) TABLESPACE kschema_case_space;",
        );
    let project = project_of(&public, V1_TENANT, TENANTS);
    let db = TestDb::new().await;
    crate::support::ensure_tablespace(&db, "kschema_case_space").await;
    let apply = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    let (inspected, run) = inspect_into_new_project(&project, &db);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    let events = inspected.read("schema/public/events_2026_01.sql");
    assert!(
        events.contains("CREATE TABLE events_2026_01 PARTITION OF events (\n    payload DEFAULT '{}' NOT NULL\n) FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');"),
        "{events}"
    );
    let february = inspected.read("schema/public/events_2026_02.sql");
    assert!(
        february.contains("TO ('2026-03-01') TABLESPACE kschema_case_space;"),
        "{february}"
    );
    let parent = inspected.read("schema/public/events.sql");
    assert!(
        parent.contains("ON events (region) TABLESPACE kschema_case_space;"),
        "{parent}"
    );
    let plan = kschema(&inspected, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
    assert!(!plan.stdout.contains("Not compared"), "{}", plan.stdout);
}

/// A partition of a table the files do not declare partitioned is refused
/// at the partition, before anything runs.
#[tokio::test]
async fn a_partition_of_a_table_not_partitioned_is_refused() {
    plan_refuses(
        "CREATE TABLE t (id int);\nCREATE TABLE t_1 PARTITION OF t DEFAULT;\n",
        &[
            "kschema::sql::partition_parent",
            "t_1 is a partition of t",
            "app.sql:2",
            "PARTITION BY RANGE",
        ],
    )
    .await;
}

/// A table refused (here for inheritance), or a file that does not parse,
/// is the one error: the index, trigger and policy on the table are not
/// reported again as on a table the files do not declare.
#[tokio::test]
async fn a_refused_table_is_one_error_not_one_per_object_on_it() {
    let db = TestDb::new().await;
    for (sql, error) in [
        (
            "CREATE TABLE base (id int);\nCREATE TABLE t (id int) INHERITS (base);\n",
            "table inheritance",
        ),
        (
            "CREATE TABLE t (id int GENERATED ALWAYS AS (1) VIRTUAL);\n",
            "is not valid SQL",
        ),
    ] {
        let public = format!(
            "{sql}CREATE INDEX t_id ON t (id);\n\
             CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n\
             CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch();\n\
             CREATE POLICY mine ON t USING (id > 0);\n"
        );
        let project = project_of(&public, "", &[]);
        let plan = kschema(&project, &db, &["plan"]);
        assert_eq!(plan.code, 1, "{}", plan.snapshot());
        assert!(plan.stderr.contains(error), "{}", plan.stderr);
        for echo in ["unknown_table", "trigger_table", "policy_table"] {
            assert!(!plan.stderr.contains(echo), "{echo}\n{}", plan.stderr);
        }
    }
}

/// `plan` of these public files fails, its diagnostic saying each of
/// `expected`.
async fn plan_refuses(public: &str, expected: &[&str]) {
    let project = project_of(public, "", &[]);
    let db = TestDb::new().await;
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 1, "{}", plan.snapshot());
    for expected in expected {
        assert!(
            plan.stderr.contains(expected),
            "{expected}\n{}",
            plan.stderr
        );
    }
}

/// A partition's column list may set a default and NOT NULL, nothing else:
/// anything more is refused at the column, before anything runs.
#[tokio::test]
async fn a_partition_column_option_other_than_default_or_not_null_is_refused() {
    plan_refuses(
        "CREATE TABLE t (id int, kind text) PARTITION BY LIST (kind);\nCREATE TABLE t_a PARTITION OF t (\n  id CHECK (id > 0)\n) FOR VALUES IN ('a');\n",
        &[
            "kschema::sql::unsupported",
            "partition t_a sets `CHECK (id > 0)` on column id",
            "app.sql:3",
            "may set a DEFAULT and NOT NULL",
        ],
    )
    .await;
}

/// What a partitioned table with more than keys carries: a default, a
/// stored generated column, a check, a unique key, an expression index.
const CARRYING_MORE: &str = "\
CREATE TABLE metrics (
  id bigint NOT NULL,
  at date NOT NULL,
  kind text DEFAULT 'x',
  doubled bigint GENERATED ALWAYS AS (id * 2) STORED,
  CONSTRAINT positive CHECK (id > 0),
  UNIQUE (id, at)
) PARTITION BY RANGE (at);
CREATE TABLE metrics_2026 PARTITION OF metrics (
  kind DEFAULT 'y' NOT NULL,
  CONSTRAINT metrics_2026_small CHECK (id < 1000000),
  FOREIGN KEY (kind) REFERENCES sources (name)
) FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX metrics_2026_kind ON metrics_2026 (kind) WHERE id > 10;
CREATE TABLE metrics_rest PARTITION OF metrics DEFAULT;
CREATE TABLE metrics_2025 PARTITION OF metrics (kind DEFAULT NULL) FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE INDEX metrics_lower ON metrics (lower(kind)) WHERE id > 5;
";

/// A partition's constraints and indexes of its own (not its parent's
/// copies: a foreign key, a check, a unique key, an index), as schemas
/// from before partitioned tables took foreign keys carry them: created,
/// changed and dropped, in public and in every tenant, converging to what
/// the SQL builds; `inspect` writes them back.
#[tokio::test]
async fn a_partitions_own_constraints_and_indexes_converge_and_evolve() {
    const V1: &str = "\
CREATE TABLE customer (id int PRIMARY KEY);
CREATE TABLE payment (
  id int NOT NULL, customer_id int NOT NULL, at date NOT NULL, amount numeric,
  PRIMARY KEY (at, id)
) PARTITION BY RANGE (at);
CREATE TABLE payment_2025 PARTITION OF payment (
  CONSTRAINT payment_2025_customer_fkey FOREIGN KEY (customer_id) REFERENCES customer (id),
  CHECK (amount > 0)
) FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE payment_2026 PARTITION OF payment FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX payment_2025_customer ON payment_2025 (customer_id);
CREATE INDEX payment_2025_big ON payment_2025 ((amount * 2)) WHERE amount > 100;
";
    const V2: &str = "\
CREATE TABLE customer (id int PRIMARY KEY);
CREATE TABLE payment (
  id int NOT NULL, customer_id int NOT NULL, at date NOT NULL, amount numeric,
  PRIMARY KEY (at, id)
) PARTITION BY RANGE (at);
CREATE TABLE payment_2025 PARTITION OF payment (
  CHECK (amount > 1),
  UNIQUE (customer_id, id)
) FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE payment_2026 PARTITION OF payment (
  FOREIGN KEY (customer_id) REFERENCES customer (id) ON DELETE CASCADE
) FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX payment_2025_big ON payment_2025 ((amount * 3)) WHERE amount > 100;
CREATE INDEX payment_2026_customer ON payment_2026 (customer_id);
";
    let project = project_of(V1, V1, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, (V1, V1), TENANTS, &[]).await;
    let lint = kschema(&project, &db, &["lint"]);
    assert!(
        !lint.stdout.contains("no primary key"),
        "a partition has its parent's key: {}",
        lint.snapshot()
    );
    db.execute(
        "INSERT INTO public.customer VALUES (1); INSERT INTO public.payment VALUES (1, 1, '2025-03-01', 5)",
    )
    .await;

    project.write("schema/public/app.sql", V2);
    project.write("schema/tenant/app.sql", V2);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    for expected in [
        "drop foreign key payment_2025_customer_fkey",
        "add unique constraint payment_2025_customer_id_id_key on payment_2025",
        "add foreign key payment_2026_customer_id_fkey on payment_2026",
        "drop index payment_2025_customer",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "{expected}\n{}",
            plan.stdout
        );
    }
    let allow = ["--allow-hazard", "access-exclusive-lock"];
    assert_converges(&project, &db, (V2, V2), TENANTS, &allow).await;

    let (inspected, run) = inspect_into_new_project(&project, &db);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    let written = inspected.read("schema/public/payment_2026.sql");
    assert!(
        written.contains("FOREIGN KEY (customer_id) REFERENCES customer (id) ON DELETE CASCADE"),
        "{written}"
    );
    let plan = kschema(&inspected, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
}

/// pg_dump writes partitions as plain tables with their parent's columns,
/// attached (`ATTACH PARTITION`), and their indexes attached to the
/// parent's (`CREATE INDEX … ON ONLY`, `ALTER INDEX … ATTACH PARTITION`):
/// dumps of public and of a tenant load, plan empty against the database
/// they came from, and build what the SQL built.
#[tokio::test]
async fn dumps_of_partitioned_schemas_load_and_plan_empty() {
    let db = TestDb::new().await;
    db.execute(&format!(
        "{V2_PUBLIC} {CARRYING_MORE} CREATE SCHEMA org_abc; SET search_path = org_abc; {V2_TENANT} RESET search_path;"
    ))
    .await;
    let project = project_from_dumps(&db, "[[tenant]]\nid = \"abc\"\n", "org_abc");
    let dump = project.read("schema/public/dump.sql");
    assert!(
        dump.contains("ATTACH PARTITION public.metrics_2026"),
        "{dump}"
    );
    assert!(dump.contains("ON ONLY public.metrics"), "{dump}");
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
    assert!(!plan.stdout.contains("Not compared"), "{}", plan.stdout);

    let fresh = TestDb::new().await;
    let apply = kschema(&project, &fresh, &["apply", "--tenant", "all"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    assert_eq!(
        kschema(&project, &fresh, &["plan", "--tenant", "all"]).code,
        0
    );
    assert_same_dump(&fresh, &db);
}

/// A dumped partition that is not its parent's copy (a column its parent
/// does not have), an index attached to a table that is no partition, and an index
/// `ON ONLY` a parent whose partition attaches nothing to it are refused
/// where they are said.
#[tokio::test]
async fn dumped_partitions_that_are_not_their_parents_copies_are_refused() {
    let parent = "CREATE TABLE t (id int NOT NULL, kind text) PARTITION BY LIST (id);\n";
    let cases: &[(String, &str, &str)] = &[
        (
            format!("{parent}CREATE TABLE t_1 (id int NOT NULL, kind varchar);\nALTER TABLE ONLY t ATTACH PARTITION t_1 FOR VALUES IN (1);\n"),
            "partition t_1 declares column `kind VARCHAR` where its parent declares `kind TEXT`",
            "app.sql:3",
        ),
        (
            format!("{parent}CREATE TABLE t_1 (id int NOT NULL, kind text);\nALTER TABLE ONLY t ATTACH PARTITION t_1 FOR VALUES IN (1);\nCREATE TABLE u (id int);\nCREATE INDEX t_kind ON ONLY t (kind);\nCREATE INDEX u_kind ON u (kind);\nALTER INDEX t_kind ATTACH PARTITION u_kind;\n"),
            "u is not attached as a partition of t",
            "app.sql:7",
        ),
        (
            format!("{parent}CREATE TABLE t_1 (id int NOT NULL, kind text);\nALTER TABLE ONLY t ATTACH PARTITION t_1 FOR VALUES IN (1);\nCREATE INDEX t_kind ON ONLY t (kind);\n"),
            "partition t_1 attaches no index to it",
            "app.sql:4",
        ),
    ];
    let db = TestDb::new().await;
    for (sql, expected, place) in cases {
        let project = project_of(sql, "", &[]);
        let plan = kschema(&project, &db, &["plan"]);
        assert_eq!(plan.code, 1, "{sql}\n{}", plan.snapshot());
        assert!(plan.stderr.contains(expected), "{sql}\n{}", plan.stderr);
        assert!(plan.stderr.contains(place), "{sql}\n{}", plan.stderr);
    }
}

/// A table partitioned anew is dropped and created again: the views that
/// read it (and the views that read those) go before it and come back
/// after, and a foreign key that references it is dropped first and added
/// again.
#[tokio::test]
async fn a_table_partitioned_anew_takes_its_views_and_references_along() {
    const BEFORE: &str = "\
CREATE TABLE logs (id int NOT NULL, at date NOT NULL, PRIMARY KEY (id, at));
CREATE VIEW recent_logs AS SELECT id, at FROM logs;
CREATE VIEW recent_ids AS SELECT id FROM recent_logs;
CREATE TABLE log_notes (log_id int, at date, note text, FOREIGN KEY (log_id, at) REFERENCES logs (id, at));
";
    const AFTER: &str = "\
CREATE TABLE logs (id int NOT NULL, at date NOT NULL, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE logs_rest PARTITION OF logs DEFAULT;
CREATE VIEW recent_logs AS SELECT id, at FROM logs;
CREATE VIEW recent_ids AS SELECT id FROM recent_logs;
CREATE TABLE log_notes (log_id int, at date, note text, FOREIGN KEY (log_id, at) REFERENCES logs (id, at));
";
    let project = project_of(BEFORE, "", TENANTS);
    let db = TestDb::new().await;
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    project.write("schema/public/app.sql", AFTER);
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert_converges(
        &project,
        &db,
        (AFTER, ""),
        TENANTS,
        &["--allow-destructive"],
    )
    .await;
}

/// A new index on an existing partitioned table is built without blocking
/// writes: the table's own index `ON ONLY`, then each partition's
/// concurrently, attached — under the names PostgreSQL gives them, so the
/// result is the catalog the SQL gives run directly, the index valid.
#[tokio::test]
async fn an_index_on_a_partitioned_table_is_built_partition_by_partition() {
    const BEFORE: &str = "\
CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, region text NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE events_2026_01 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE events_2026_02 PARTITION OF events FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
CREATE TABLE events_rest PARTITION OF events DEFAULT;
";
    let after = format!(
        "{BEFORE}CREATE INDEX events_by_region ON events (region, at);\n\
         CREATE INDEX events_lower_region ON events (lower(region)) INCLUDE (id);\n"
    );
    let project = project_of(BEFORE, BEFORE, TENANTS);
    let db = TestDb::new().await;
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    db.execute("INSERT INTO public.events VALUES (1, '2026-01-05', 'eu'), (2, '2026-07-01', 'us')")
        .await;
    project
        .write("schema/public/app.sql", &after)
        .write("schema/tenant/app.sql", &after);
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert!(
        plan.stdout.contains(
            "builds index events_by_region on each of the 3 partitions of events, concurrently"
        ) && plan.stdout.contains(
            "on partition events_2026_01 concurrently, as events_2026_01_region_at_idx, attached"
        ),
        "{}",
        plan.stdout
    );
    let sql = kschema(&project, &db, &["plan", "--format", "sql"]);
    for expected in [
        "CREATE INDEX events_by_region ON ONLY public.events (region, at);",
        "CREATE INDEX CONCURRENTLY events_2026_01_region_at_idx ON public.events_2026_01 (region, at);",
        "ALTER INDEX public.events_by_region ATTACH PARTITION public.events_2026_01_region_at_idx;",
        "CREATE INDEX CONCURRENTLY events_rest_lower_id_idx ON org_abc.events_rest",
    ] {
        assert!(sql.stdout.contains(expected), "{expected}\n{}", sql.stdout);
    }
    assert_converges(&project, &db, (&after, &after), TENANTS, &[]).await;
    let invalid = || async {
        db.client()
            .await
            .query_one("SELECT count(*) FROM pg_index WHERE NOT indisvalid", &[])
            .await
            .unwrap()
            .get::<_, i64>(0)
    };
    assert_eq!(invalid().await, 0);

    // A build interrupted after the table's own index: that index is
    // invalid, and the next apply builds it again.
    db.execute(
        "DROP INDEX public.events_by_region; \
         CREATE INDEX events_by_region ON ONLY public.events (region, at)",
    )
    .await;
    assert_eq!(invalid().await, 1);
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert_converges(&project, &db, (&after, &after), TENANTS, &[]).await;
    assert_eq!(invalid().await, 0);
}

/// The names kschema gives a partition's index are PostgreSQL's: checked
/// against the names the server chooses for unnamed indexes, from the
/// expression as written.
#[tokio::test]
async fn index_expression_names_are_the_servers() {
    let db = TestDb::new().await;
    let expressions = [
        "lower(region)",
        "(a + 1)",
        "((a + 1)::text)",
        "((a + 1)::integer)",
        "(region::text)",
        "(coalesce(a, b))",
        "(CASE WHEN a > 0 THEN 1 ELSE 2 END)",
        "(pg_catalog.abs(a))",
    ];
    let mut script = String::from("CREATE TABLE t (a int, b int, region text);\n");
    for (i, expr) in expressions.iter().enumerate() {
        script.push_str(&format!(
            "CREATE TABLE t{i} (a int, b int, region text);\nCREATE INDEX ON t{i} ({expr});\n"
        ));
    }
    db.execute(&script).await;
    let client = db.client().await;
    for (i, expr) in expressions.iter().enumerate() {
        let name: String = client
            .query_one(
                "SELECT c.relname FROM pg_index i \
                 JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = $1::text::regclass",
                &[&format!("t{i}")],
            )
            .await
            .unwrap()
            .get(0);
        let ours = kschema_core::normalize::names::index_expression_name(expr);
        assert_eq!(format!("t{i}_{ours}_idx"), name, "{expr}");
    }
}
