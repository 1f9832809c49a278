//! The convergence property over a corpus of constructs that PostgreSQL
//! stores differently from how they are written: apply, re-plan, and the
//! second plan is empty. Each case is a folder-free project written here.

use crate::support::{
    assert_cli_snapshot, assert_converges, assert_same_dump, kschema, project_of, run_directly,
    run_psql, Project, TestDb,
};

const PUBLIC: &str = r#"
CREATE TABLE "Accounts" (
    "ID" BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "user" TEXT NOT NULL,                       -- a reserved word as a name
    email VARCHAR(320) NOT NULL CHECK (email LIKE '%@%'),
    status VARCHAR(20) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'closed', 'banned')),
    score NUMERIC(10, 2) DEFAULT 0 CHECK (score >= 0),
    balance DECIMAL(12) NOT NULL DEFAULT -1,
    ratio FLOAT DEFAULT 1.5,
    tiny REAL,
    flags INT[] DEFAULT '{}',
    tags TEXT[] NOT NULL DEFAULT '{}'::text[],
    settings JSONB NOT NULL DEFAULT '{}',
    born DATE DEFAULT '2000-01-01',
    seen_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
    created TIMESTAMP(3) NOT NULL DEFAULT now(),
    duration INTERVAL DEFAULT '1 day',
    code CHAR(3) COLLATE "C",
    active BOOL NOT NULL DEFAULT TRUE,
    level SMALLINT CHECK (level BETWEEN 1 AND 10),
    note TEXT DEFAULT 'it''s',
    CONSTRAINT accounts_email_lower CHECK (email = lower(email)),
    UNIQUE (email)
);

CREATE UNIQUE INDEX accounts_user_lower ON "Accounts" (lower("user"));
CREATE INDEX accounts_recent ON "Accounts" (created DESC NULLS LAST, "ID") WHERE active;
CREATE INDEX accounts_tags ON "Accounts" USING gin (tags);
CREATE INDEX accounts_status_covering ON "Accounts" (status) INCLUDE (score);
CREATE INDEX accounts_code_pattern ON "Accounts" (code bpchar_pattern_ops);
CREATE INDEX accounts_score_nulls ON "Accounts" (score NULLS FIRST);
CREATE INDEX ON "Accounts" (born);

CREATE SEQUENCE invoice_numbers AS integer START WITH 1000 INCREMENT BY 10;

CREATE TABLE parents (
    a INTEGER,
    b INTEGER,
    PRIMARY KEY (a, b)
);

CREATE TABLE children (
    id SMALLSERIAL PRIMARY KEY,
    a INTEGER,
    b INTEGER,
    owner_id BIGINT REFERENCES "Accounts" ("ID") ON UPDATE SET NULL ON DELETE SET NULL,
    FOREIGN KEY (a, b) REFERENCES parents MATCH FULL ON DELETE RESTRICT DEFERRABLE INITIALLY DEFERRED
);

-- A foreign-key cycle: created first, keys added after.
CREATE TABLE chicken (id INT PRIMARY KEY, egg_id INT REFERENCES egg (id) DEFERRABLE);
CREATE TABLE egg (id INT PRIMARY KEY, chicken_id INT REFERENCES chicken (id));
"#;

const TENANT: &str = r#"
CREATE TABLE items (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES "Accounts" ("ID") ON DELETE CASCADE,
    name TEXT NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    price NUMERIC(10,2) NOT NULL CHECK (price > 0),
    kind TEXT CHECK (kind NOT IN ('x', 'y')),
    parent_id BIGINT REFERENCES items (id),
    UNIQUE NULLS NOT DISTINCT (account_id, name)
);

CREATE INDEX items_name_trgm ON items (lower(name) text_pattern_ops);
CREATE INDEX items_cheap ON items (price) WHERE price < 10 AND kind IS NOT NULL;
"#;

#[tokio::test]
async fn tricky_constructs_converge_with_no_false_diffs() {
    let project = Project::empty();
    project
        .write("schema/public/all.sql", PUBLIC)
        .write("schema/tenant/items.sql", TENANT)
        .write(
            "tenants.toml",
            "[[tenant]]\nid = \"t1\"\n\n[[tenant]]\nid = \"t2\"\nschema = \"Tenant Two\"\n",
        );
    let db = TestDb::new().await;
    let apply = kschema(&project, &db, &["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(
        plan.code,
        0,
        "false diffs after apply:\n{}",
        plan.snapshot()
    );

    // The same holds when the live objects were made by hand, not by kschema.
    let by_hand = TestDb::new().await;
    by_hand
        .execute(&format!(
            "{}\nCREATE SCHEMA org_t1; SET search_path = org_t1, public; {TENANT}
             CREATE SCHEMA \"Tenant Two\"; SET search_path = \"Tenant Two\", public; {TENANT} RESET search_path;",
            PUBLIC.replace(
                "CREATE TABLE chicken (id INT PRIMARY KEY, egg_id INT REFERENCES egg (id) DEFERRABLE);\nCREATE TABLE egg (id INT PRIMARY KEY, chicken_id INT REFERENCES chicken (id));",
                "CREATE TABLE chicken (id INT PRIMARY KEY, egg_id INT);
                 CREATE TABLE egg (id INT PRIMARY KEY, chicken_id INT REFERENCES chicken (id));
                 ALTER TABLE chicken ADD FOREIGN KEY (egg_id) REFERENCES egg (id) DEFERRABLE;"
            )
        ))
        .await;
    let plan = kschema(&project, &by_hand, &["plan"]);
    assert_eq!(
        plan.code,
        0,
        "false diffs against hand-made schema:\n{}",
        plan.snapshot()
    );
    // And PostgreSQL agrees: what apply built is what the SQL builds.
    assert_same_dump(&db, &by_hand);
}

/// What PostgreSQL stores differently from how it is written, in the forms
/// a guessing normalizer missed (now PostgreSQL itself normalizes the
/// desired side): typed literals, `DEFAULT NULL`, `SOME`, row comparisons,
/// implicit casts, variadic calls, default operator classes, collations in
/// index keys, and PostgreSQL's own names for unnamed checks.
const STORED_DIFFERENTLY: &str = r#"
CREATE TABLE guesses (
    id BIGINT PRIMARY KEY,
    wait INTERVAL DEFAULT INTERVAL '2 days',
    flag BOOLEAN DEFAULT BOOLEAN 'true',
    price MONEY DEFAULT '12.50',
    bits BIT(4) DEFAULT B'1010',
    nothing TEXT DEFAULT NULL,
    a INT,
    b INT,
    kind TEXT CHECK (kind = SOME (ARRAY['x', 'y'])),
    body JSONB,
    seen_at TIMESTAMPTZ DEFAULT to_timestamp(0),
    CHECK (a < b),
    CHECK ((a, b) < (10, 20))
);
CREATE INDEX guesses_kind ON guesses (kind text_ops);
CREATE INDEX guesses_kind_c ON guesses (kind COLLATE "C");
CREATE INDEX guesses_body ON guesses (jsonb_extract_path_text(body, 'foo'));
CREATE INDEX guesses_epoch ON guesses (to_timestamp(id));
"#;

#[tokio::test]
async fn forms_postgresql_stores_differently_converge_and_dump_the_same() {
    let project = Project::empty();
    project
        .write("schema/public/guesses.sql", STORED_DIFFERENTLY)
        .write("schema/tenant/guesses.sql", STORED_DIFFERENTLY)
        .write("tenants.toml", "[[tenant]]\nid = \"g1\"\n");
    let db = TestDb::new().await;
    let apply = kschema(&project, &db, &["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(
        plan.code,
        0,
        "false diffs after apply:\n{}",
        plan.snapshot()
    );

    let direct = TestDb::new().await;
    direct
        .execute(&format!(
            "{STORED_DIFFERENTLY} CREATE SCHEMA org_g1; SET search_path = org_g1, public; {STORED_DIFFERENTLY} RESET search_path;"
        ))
        .await;
    let plan = kschema(&project, &direct, &["plan"]);
    assert_eq!(
        plan.code,
        0,
        "false diffs against the SQL run directly:\n{}",
        plan.snapshot()
    );
    assert_same_dump(&db, &direct);
}

#[tokio::test]
async fn sql_format_runs_in_psql_and_converges() {
    let project = Project::shipped();
    let db = TestDb::new().await;
    let plan = kschema(&project, &db, &["plan", "--format", "sql"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert_cli_snapshot!("plan_sql_fresh", plan);
    let script = project.path().join("plan.sql");
    std::fs::write(&script, &plan.stdout).unwrap();
    run_psql(&script, &db);
    let replan = kschema(&project, &db, &["plan"]);
    assert_eq!(replan.code, 0, "{}", replan.snapshot());
}

const V1: &str = r#"
CREATE TABLE orders (
    id SERIAL PRIMARY KEY,
    code TEXT NOT NULL,
    qty INTEGER NOT NULL CHECK (qty > 0),
    price NUMERIC(10,2),
    note VARCHAR(50),
    legacy TEXT,
    ref INTEGER GENERATED ALWAYS AS IDENTITY,
    customer_id INTEGER
);
CREATE INDEX orders_code ON orders (code);
CREATE INDEX orders_price ON orders (price) WHERE price > 100;
CREATE SEQUENCE order_numbers INCREMENT BY 1;
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT);
"#;

const V2: &str = r#"
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    code VARCHAR(40) NOT NULL,
    qty BIGINT NOT NULL CHECK (qty > 1),
    price NUMERIC(12,2) NOT NULL DEFAULT 0,
    note TEXT,
    ref INTEGER GENERATED BY DEFAULT AS IDENTITY,
    customer_id INTEGER REFERENCES customers (id) ON DELETE SET NULL,
    status TEXT NOT NULL DEFAULT 'new',
    UNIQUE (code)
);
CREATE INDEX orders_code_lower ON orders (lower(code));
CREATE INDEX orders_price ON orders (price) WHERE price > 200;
CREATE SEQUENCE order_numbers INCREMENT BY 5;
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT UNIQUE);
"#;

/// A desired state that changes almost everything about a table holding
/// rows: every kind of ALTER runs for real and the result converges.
#[tokio::test]
async fn evolving_a_populated_table_converges() {
    let project = Project::empty();
    project
        .write("schema/public/orders.sql", V1)
        .write("tenants.toml", "");
    let db = TestDb::new().await;
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    db.execute(
        "INSERT INTO customers VALUES (1, 'a@x'), (2, 'b@x');
         INSERT INTO orders (code, qty, price, note, legacy, customer_id)
              VALUES ('A', 2, 150, 'n', 'l', 1), ('B', 3, 20, NULL, NULL, 2);",
    )
    .await;

    project.write("schema/public/orders.sql", V2);
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert_cli_snapshot!("evolve_plan", plan);

    let refused = kschema(&project, &db, &["apply"]);
    assert_eq!(refused.code, 1, "{}", refused.snapshot());
    let apply = kschema(
        &project,
        &db,
        &[
            "apply",
            "--allow-destructive",
            "--allow-hazard",
            "rewrites-table,access-exclusive-lock",
        ],
    );
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    let replan = kschema(&project, &db, &["plan"]);
    assert_eq!(replan.code, 0, "{}", replan.snapshot());

    // The rows survived the changes.
    let rows = db
        .client()
        .await
        .query(
            "SELECT code, qty, price::text FROM orders ORDER BY code",
            &[],
        )
        .await
        .unwrap();
    let rows: Vec<(String, i64, String)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        rows,
        [
            ("A".into(), 2, "150.00".into()),
            ("B".into(), 3, "20.00".into())
        ]
    );
}

/// Dropping a public table that tenant tables reference: the tenants drop
/// their foreign keys first, public's drop waits for them — in apply and in
/// the SQL a reviewer runs by hand.
#[tokio::test]
async fn public_drops_wait_for_the_tenant_foreign_keys() {
    let project = Project::empty();
    project
        .write(
            "tenants.toml",
            "[[tenant]]\nid = \"a1\"\n\n[[tenant]]\nid = \"b2\"\n",
        )
        .write(
            "schema/public/plans.sql",
            "CREATE TABLE plans (id INT PRIMARY KEY, code TEXT NOT NULL UNIQUE);\n",
        )
        .write(
            "schema/tenant/subscriptions.sql",
            "CREATE TABLE subscriptions (
                id INT PRIMARY KEY,
                plan_code TEXT REFERENCES plans(code),
                plan_id INT REFERENCES plans(id)
            );\n",
        );
    let db = TestDb::new().await;
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);

    std::fs::remove_file(project.path().join("schema/public/plans.sql")).unwrap();
    project.write(
        "schema/tenant/subscriptions.sql",
        "CREATE TABLE subscriptions (id INT PRIMARY KEY);\n",
    );
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert!(
        plan.stdout
            .contains("drop table plans — after the tenant schemas"),
        "{}",
        plan.stdout
    );
    let sql = kschema(&project, &db, &["plan", "--format", "sql"]);
    let drop_table = sql
        .stdout
        .find("DROP TABLE public.plans")
        .expect(&sql.stdout);
    let last_tenant_drop = sql.stdout.rfind("DROP COLUMN plan_id").expect(&sql.stdout);
    assert!(last_tenant_drop < drop_table, "{}", sql.stdout);

    let applied = kschema(&project, &db, &["apply", "--allow-destructive"]);
    assert_eq!(applied.code, 0, "{}", applied.snapshot());
    assert!(!db.catalog("public").await.contains("plans"));
    assert_eq!(kschema(&project, &db, &["plan"]).code, 0);
}

/// Changes PostgreSQL accepts only in a certain form: an identity added to
/// a nullable column (NOT NULL first), a sequence's new START WITH (kept,
/// not a false diff forever after).
#[tokio::test]
async fn identity_on_a_nullable_column_and_a_new_sequence_start_converge() {
    let project = Project::empty();
    project
        .write(
            "schema/public/t.sql",
            "CREATE TABLE t (id INT, n INT);\nCREATE SEQUENCE s START WITH 100 INCREMENT BY 2;\n",
        )
        .write("tenants.toml", "");
    let db = TestDb::new().await;
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    db.execute("INSERT INTO t VALUES (1, 1), (2, 2)").await;
    project.write(
        "schema/public/t.sql",
        "CREATE TABLE t (id INT GENERATED BY DEFAULT AS IDENTITY, n INT);\nCREATE SEQUENCE s START WITH 200 INCREMENT BY 3;\n",
    );
    let plan = kschema(&project, &db, &["plan", "--format", "sql"]);
    assert!(
        plan.stdout.contains("SET NOT NULL;\nALTER TABLE public.t ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("START WITH 200"), "{}", plan.stdout);
    let apply = kschema(
        &project,
        &db,
        &["apply", "--allow-hazard", "access-exclusive-lock"],
    );
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    let replan = kschema(&project, &db, &["plan"]);
    assert_eq!(replan.code, 0, "{}", replan.snapshot());
}

/// A type change PostgreSQL has no cast for is refused at plan time, at the
/// column, and converges once the files say how to convert.
#[tokio::test]
async fn a_type_change_without_a_cast_needs_a_using_annotation() {
    let project = Project::empty();
    project
        .write(
            "schema/public/events.sql",
            "CREATE TABLE events (\n    id INT PRIMARY KEY,\n    created BIGINT\n);\n",
        )
        .write("tenants.toml", "");
    let db = TestDb::new().await;
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    db.execute("INSERT INTO events VALUES (1, 1700000000000)")
        .await;

    project.write(
        "schema/public/events.sql",
        "CREATE TABLE events (\n    id INT PRIMARY KEY,\n    created TIMESTAMP\n);\n",
    );
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 1, "{}", plan.snapshot());
    assert!(
        plan.stderr.contains("kschema::plan::no_conversion"),
        "{}",
        plan.stderr
    );
    assert!(plan.stderr.contains("events.sql:3"), "{}", plan.stderr);
    assert!(plan.stderr.contains("kschema:using"), "{}", plan.stderr);

    project.write(
        "schema/public/events.sql",
        "CREATE TABLE events (\n    id INT PRIMARY KEY,\n    created TIMESTAMP -- kschema:using (to_timestamp(created / 1000) AT TIME ZONE 'UTC')\n);\n",
    );
    let plan = kschema(&project, &db, &["plan", "--format", "sql"]);
    assert!(
        plan.stdout
            .contains("USING ((to_timestamp(created / 1000) AT TIME ZONE 'UTC'))"),
        "{}",
        plan.snapshot()
    );
    let apply = kschema(
        &project,
        &db,
        &["apply", "--allow-hazard", "may-lose-data,rewrites-table"],
    );
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    assert_eq!(kschema(&project, &db, &["plan"]).code, 0);
    let row = db
        .client()
        .await
        .query_one("SELECT created::text FROM events", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "2023-11-14 22:13:20");
}

const GENERATED: &str = "CREATE TABLE people (
    id INT PRIMARY KEY,
    first TEXT,
    last TEXT,
    full_name TEXT GENERATED ALWAYS AS (first || ' ' || last) STORED,
    shout TEXT GENERATED ALWAYS AS (upper(first)) STORED
);
";

/// Stored generated columns: created, read back (a live one used to break
/// the catalog read), compared, re-expressed and turned into plain columns.
#[tokio::test]
async fn stored_generated_columns_converge() {
    let project = Project::empty();
    project
        .write("schema/public/people.sql", GENERATED)
        .write("tenants.toml", "");
    let db = TestDb::new().await;
    let apply = kschema(&project, &db, &["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    assert_eq!(kschema(&project, &db, &["plan"]).code, 0);
    let direct = TestDb::new().await;
    direct.execute(GENERATED).await;
    let plan = kschema(&project, &direct, &["plan"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
    assert_same_dump(&db, &direct);

    db.execute("INSERT INTO people (id, first, last) VALUES (1, 'Ada', 'Lovelace')")
        .await;
    // A new expression for one, none for the other (its values stay).
    project.write(
        "schema/public/people.sql",
        &GENERATED
            .replace("(first || ' ' || last)", "(last || ', ' || first)")
            .replace(" GENERATED ALWAYS AS (upper(first)) STORED", ""),
    );
    let plan = kschema(&project, &db, &["plan", "--format", "sql"]);
    assert!(
        plan.stdout.contains("ALTER COLUMN shout DROP EXPRESSION"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("DROP COLUMN full_name, ADD COLUMN full_name text GENERATED ALWAYS AS"),
        "{}",
        plan.stdout
    );
    let apply = kschema(
        &project,
        &db,
        &["apply", "--allow-hazard", "rewrites-table"],
    );
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    let replan = kschema(&project, &db, &["plan"]);
    assert_eq!(replan.code, 0, "{}", replan.snapshot());
    let row = db
        .client()
        .await
        .query_one("SELECT full_name, shout FROM people", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "Lovelace, Ada");
    assert_eq!(row.get::<_, String>(1), "ADA");
}

/// serial → bigserial: the owned sequence's type follows the column's, as
/// the desired SQL run directly would have it.
#[tokio::test]
async fn a_serial_widened_to_bigserial_widens_its_sequence() {
    let project = Project::empty();
    project
        .write(
            "schema/public/s.sql",
            "CREATE TABLE s (id SERIAL PRIMARY KEY, n INT);\n",
        )
        .write("tenants.toml", "");
    let db = TestDb::new().await;
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    let widened = "CREATE TABLE s (id BIGSERIAL PRIMARY KEY, n INT);\n";
    project.write("schema/public/s.sql", widened);
    let apply = kschema(
        &project,
        &db,
        &["apply", "--allow-hazard", "rewrites-table"],
    );
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    let replan = kschema(&project, &db, &["plan"]);
    assert_eq!(replan.code, 0, "{}", replan.snapshot());
    assert!(!replan.stdout.contains("Not compared"), "{}", replan.stdout);
    let direct = TestDb::new().await;
    direct.execute(widened).await;
    assert_same_dump(&db, &direct);
}

/// Unlogged tables and storage parameters: created, compared as
/// PostgreSQL keeps them, changed (SET / RESET, SET LOGGED).
#[tokio::test]
async fn unlogged_tables_and_storage_parameters_converge() {
    let first = "CREATE UNLOGGED TABLE cache (k TEXT PRIMARY KEY, v JSONB);\n\
                 CREATE TABLE busy (id INT PRIMARY KEY, n INT) WITH (fillfactor = 70, autovacuum_enabled = false);\n";
    let project = Project::empty();
    project
        .write("schema/public/t.sql", first)
        .write("tenants.toml", "");
    let db = TestDb::new().await;
    let apply = kschema(&project, &db, &["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
    assert!(!plan.stdout.contains("Not compared"), "{}", plan.stdout);
    let direct = TestDb::new().await;
    direct.execute(first).await;
    assert_same_dump(&db, &direct);

    let second = "CREATE TABLE cache (k TEXT PRIMARY KEY, v JSONB);\n\
                  CREATE TABLE busy (id INT PRIMARY KEY, n INT) WITH (fillfactor = 80);\n";
    project.write("schema/public/t.sql", second);
    let plan = kschema(&project, &db, &["plan", "--format", "sql"]);
    for statement in [
        "ALTER TABLE public.cache SET LOGGED;",
        "ALTER TABLE public.busy SET (fillfactor = '80');",
        "ALTER TABLE public.busy RESET (autovacuum_enabled);",
    ] {
        assert!(
            plan.stdout.contains(statement),
            "{statement}\n{}",
            plan.stdout
        );
    }
    let apply = kschema(
        &project,
        &db,
        &["apply", "--allow-hazard", "rewrites-table"],
    );
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    assert_eq!(kschema(&project, &db, &["plan"]).code, 0);
    let direct = TestDb::new().await;
    direct.execute(second).await;
    assert_same_dump(&db, &direct);
}

/// Comments on tables and columns: set with the tables, changed, removed,
/// and what the SQL run directly builds.
#[tokio::test]
async fn comments_on_tables_and_columns_converge() {
    let first = "CREATE TABLE notes (id INT PRIMARY KEY, body TEXT);
COMMENT ON TABLE notes IS 'what people wrote';
COMMENT ON COLUMN notes.body IS 'markdown; it''s shown as is';
";
    let project = Project::empty();
    project
        .write("schema/public/notes.sql", first)
        .write("tenants.toml", "[[tenant]]\nid = \"n1\"\n")
        .write("schema/tenant/notes.sql", first);
    let db = TestDb::new().await;
    let apply = kschema(&project, &db, &["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
    assert!(!plan.stdout.contains("Not compared"), "{}", plan.stdout);
    let direct = TestDb::new().await;
    direct
        .execute(&format!(
            "{first} CREATE SCHEMA org_n1; SET search_path = org_n1; {first} RESET search_path;"
        ))
        .await;
    assert_eq!(kschema(&project, &direct, &["plan"]).code, 0);
    assert_same_dump(&db, &direct);

    let second = "CREATE TABLE notes (id INT PRIMARY KEY, body TEXT);
COMMENT ON COLUMN notes.id IS 'the key';
";
    project
        .write("schema/public/notes.sql", second)
        .write("schema/tenant/notes.sql", second);
    let plan = kschema(&project, &db, &["plan", "--format", "sql"]);
    for statement in [
        "COMMENT ON TABLE public.notes IS NULL;",
        "COMMENT ON COLUMN public.notes.body IS NULL;",
        "COMMENT ON COLUMN public.notes.id IS 'the key';",
    ] {
        assert!(
            plan.stdout.contains(statement),
            "{statement}\n{}",
            plan.stdout
        );
    }
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    assert_eq!(kschema(&project, &db, &["plan"]).code, 0);
}

/// Deferrable primary keys and unique constraints: created, read back,
/// and changed (drop and add: PostgreSQL alters deferrability of foreign
/// keys only).
#[tokio::test]
async fn deferrable_keys_converge() {
    let first = "CREATE TABLE slots (
    id INT PRIMARY KEY DEFERRABLE INITIALLY DEFERRED,
    position INT NOT NULL,
    code TEXT,
    CONSTRAINT slots_position_key UNIQUE (position) DEFERRABLE,
    UNIQUE (code)
);
";
    let project = Project::empty();
    project
        .write("schema/public/slots.sql", first)
        .write("tenants.toml", "");
    let db = TestDb::new().await;
    let apply = kschema(&project, &db, &["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    assert_eq!(kschema(&project, &db, &["plan"]).code, 0);
    let direct = TestDb::new().await;
    direct.execute(first).await;
    assert_eq!(kschema(&project, &direct, &["plan"]).code, 0);
    assert_same_dump(&db, &direct);

    let second = first
        .replace("UNIQUE (position) DEFERRABLE", "UNIQUE (position)")
        .replace(
            "UNIQUE (code)",
            "UNIQUE (code) DEFERRABLE INITIALLY DEFERRED",
        );
    project.write("schema/public/slots.sql", &second);
    let apply = kschema(
        &project,
        &db,
        &[
            "apply",
            "--allow-hazard",
            "builds-index,access-exclusive-lock",
        ],
    );
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    assert_eq!(kschema(&project, &db, &["plan"]).code, 0);
    let direct = TestDb::new().await;
    direct.execute(&second).await;
    assert_same_dump(&db, &direct);
}

/// Exclusion constraints, named and unnamed, compared as PostgreSQL stores
/// their definition; a new definition drops and adds the constraint.
#[tokio::test]
async fn exclusion_constraints_converge() {
    let first = "CREATE TABLE bookings (
    id INT PRIMARY KEY,
    room INT NOT NULL,
    during TSTZRANGE NOT NULL,
    CONSTRAINT bookings_no_overlap EXCLUDE USING gist (during WITH &&),
    EXCLUDE USING btree (id WITH =) WHERE (room > 0)
);
";
    let project = Project::empty();
    project
        .write("schema/public/bookings.sql", first)
        .write("tenants.toml", "");
    let db = TestDb::new().await;
    let apply = kschema(&project, &db, &["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
    assert!(!plan.stdout.contains("Not compared"), "{}", plan.stdout);
    let direct = TestDb::new().await;
    direct.execute(first).await;
    assert_eq!(kschema(&project, &direct, &["plan"]).code, 0);
    assert_same_dump(&db, &direct);

    let second = first.replace("WHERE (room > 0)", "WHERE (room > 1)");
    project.write("schema/public/bookings.sql", &second);
    let apply = kschema(
        &project,
        &db,
        &[
            "apply",
            "--allow-hazard",
            "builds-index,access-exclusive-lock",
        ],
    );
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    assert_eq!(kschema(&project, &db, &["plan"]).code, 0);
}

/// Tenants that differ only in a comment are not one shape: the fleet's
/// signatures see comments too.
#[tokio::test]
async fn a_comment_on_one_tenant_is_planned_for_that_tenant_only() {
    let project = Project::empty();
    project
        .write(
            "schema/tenant/notes.sql",
            "CREATE TABLE notes (id INT PRIMARY KEY, body TEXT);\n",
        )
        .write(
            "tenants.toml",
            "[[tenant]]\nid = \"a1\"\n\n[[tenant]]\nid = \"b2\"\n",
        );
    let db = TestDb::new().await;
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    db.execute("COMMENT ON COLUMN org_b2.notes.body IS 'by hand'")
        .await;
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert!(
        plan.stdout
            .contains("tenant b2 (org_b2): 1 change\n  ~ remove comment on column notes.body"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("tenant a1 (org_a1): up to date"),
        "{}",
        plan.stdout
    );
}

/// Every statement runs on the files' search path: a tenant default naming
/// a tenant-local sequence by its bare name converges in each tenant.
#[tokio::test]
async fn a_tenant_default_naming_its_own_sequence_converges() {
    let tenant = "CREATE SEQUENCE counter START WITH 100;
CREATE TABLE tickets (id BIGINT DEFAULT nextval('counter') PRIMARY KEY, code TEXT);
";
    let project = Project::empty();
    project.write("schema/tenant/t.sql", tenant).write(
        "tenants.toml",
        "[[tenant]]\nid = \"s1\"\n\n[[tenant]]\nid = \"s2\"\n",
    );
    let db = TestDb::new().await;
    let apply = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
    let direct = TestDb::new().await;
    direct
        .execute(&format!(
            "CREATE SCHEMA org_s1; SET search_path = org_s1; {tenant}
             CREATE SCHEMA org_s2; SET search_path = org_s2; {tenant} RESET search_path;"
        ))
        .await;
    assert_same_dump(&db, &direct);
}

/// An identity's sequence options (START, INCREMENT, MINVALUE, MAXVALUE,
/// CACHE, CYCLE) are desired state: created with the column, changed in
/// place (`SET INCREMENT BY …`), brought by an identity added to a column,
/// kept through a widened type, in public and in every tenant.
#[tokio::test]
async fn identity_options_converge() {
    const TENANTS: &[&str] = &["abc", "def"];
    let v1_public = "CREATE TABLE orders (\n  id int GENERATED ALWAYS AS IDENTITY (START WITH 1000 INCREMENT BY 10 CACHE 20) PRIMARY KEY,\n  n int\n);\n";
    let v1_tenant = "CREATE TABLE items (\n  id bigint GENERATED BY DEFAULT AS IDENTITY (MINVALUE 5 MAXVALUE 900000 CYCLE),\n  down int GENERATED BY DEFAULT AS IDENTITY (INCREMENT BY -1),\n  ref int\n);\n";
    let project = crate::support::project_of(v1_public, v1_tenant, TENANTS);
    let db = TestDb::new().await;
    crate::support::assert_converges(&project, &db, (v1_public, v1_tenant), TENANTS, &[]).await;

    // Options change in place; an identity added to a column brings its
    // own; a widened column keeps its (and its sequence widens).
    let v2_public = "CREATE TABLE orders (\n  id bigint GENERATED ALWAYS AS IDENTITY (START WITH 1000 INCREMENT BY 5) PRIMARY KEY,\n  n int\n);\n";
    let v2_tenant = "CREATE TABLE items (\n  id bigint GENERATED ALWAYS AS IDENTITY (MINVALUE 5 NO CYCLE),\n  down int GENERATED BY DEFAULT AS IDENTITY (INCREMENT BY -2 MINVALUE -1000),\n  ref int GENERATED BY DEFAULT AS IDENTITY (START WITH 50) NOT NULL\n);\n";
    project.write("schema/public/app.sql", v2_public);
    project.write("schema/tenant/app.sql", v2_tenant);
    let plan = kschema(
        &project,
        &db,
        &["plan", "--tenant", "all", "--format", "sql"],
    );
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    for expected in [
        "ALTER COLUMN id SET INCREMENT BY 5 SET CACHE 1",
        "ALTER COLUMN id SET MAXVALUE 9223372036854775807 SET NO CYCLE",
        "ALTER COLUMN down SET INCREMENT BY -2 SET MINVALUE -1000",
        "ALTER COLUMN ref ADD GENERATED BY DEFAULT AS IDENTITY (START WITH 50)",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "{expected}\n{}",
            plan.stdout
        );
    }
    let text = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(
        text.stdout
            .contains("~ alter column orders.id identity INCREMENT BY 5, CACHE 1"),
        "{}",
        text.stdout
    );
    crate::support::assert_converges(
        &project,
        &db,
        (v2_public, v2_tenant),
        TENANTS,
        &["--allow-hazard", "rewrites-table,access-exclusive-lock"],
    )
    .await;

    // One tenant's options drifting is seen (they join the fleet's
    // signatures), in that tenant only.
    db.execute("ALTER TABLE org_def.items ALTER COLUMN ref SET CACHE 30")
        .await;
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert!(
        plan.stdout.contains("tenant def (org_def): 1 change")
            && plan.stdout.contains("identity CACHE 1"),
        "{}",
        plan.stdout
    );
}

/// `REPLICA IDENTITY USING INDEX`: a unique index or a key named, in public
/// and per tenant; moved to another index, to a new index built online
/// (named once built), and kept across its index being built again.
#[tokio::test]
async fn replica_identity_using_index_converges() {
    const TENANTS: &[&str] = &["abc", "def"];
    let v1_public = "CREATE TABLE accounts (\n  id int PRIMARY KEY,\n  email text NOT NULL\n);\nCREATE UNIQUE INDEX accounts_email ON accounts (email);\nALTER TABLE accounts REPLICA IDENTITY USING INDEX accounts_email;\n";
    let v1_tenant = "CREATE TABLE items (\n  id int NOT NULL,\n  code text NOT NULL,\n  CONSTRAINT items_code UNIQUE (code)\n);\nALTER TABLE items REPLICA IDENTITY USING INDEX items_code;\nCREATE TABLE tags (\n  id int PRIMARY KEY\n);\n";
    let project = crate::support::project_of(v1_public, v1_tenant, TENANTS);
    let db = TestDb::new().await;
    crate::support::assert_converges(&project, &db, (v1_public, v1_tenant), TENANTS, &[]).await;

    // Public's moves to a new index (built concurrently, then named); the
    // tenants' key gets a column (built again, named again); tags moves
    // to its primary key.
    let v2_public = "CREATE TABLE accounts (\n  id int PRIMARY KEY,\n  email text NOT NULL\n);\nCREATE UNIQUE INDEX accounts_email ON accounts (email);\nCREATE UNIQUE INDEX accounts_id_email ON accounts (id, email);\nALTER TABLE accounts REPLICA IDENTITY USING INDEX accounts_id_email;\n";
    let v2_tenant = "CREATE TABLE items (\n  id int NOT NULL,\n  code text NOT NULL,\n  CONSTRAINT items_code UNIQUE (code, id)\n);\nALTER TABLE items REPLICA IDENTITY USING INDEX items_code;\nCREATE TABLE tags (\n  id int PRIMARY KEY\n);\nALTER TABLE tags REPLICA IDENTITY USING INDEX tags_pkey;\n";
    project.write("schema/public/app.sql", v2_public);
    project.write("schema/tenant/app.sql", v2_tenant);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    for expected in [
        "~ set replica identity of accounts to index accounts_id_email",
        "~ set replica identity of items to index items_code",
        "~ set replica identity of tags to index tags_pkey",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "{expected}\n{}",
            plan.stdout
        );
    }
    let sql = kschema(&project, &db, &["plan", "--format", "sql"]);
    let build = sql
        .stdout
        .find("CREATE UNIQUE INDEX CONCURRENTLY accounts_id_email");
    let named = sql
        .stdout
        .find("REPLICA IDENTITY USING INDEX accounts_id_email");
    assert!(
        build.is_some() && named.is_some() && build < named,
        "{}",
        sql.stdout
    );
    crate::support::assert_converges(
        &project,
        &db,
        (v2_public, v2_tenant),
        TENANTS,
        &["--allow-hazard", "access-exclusive-lock"],
    )
    .await;

    // An index that is not unique is refused where it is named.
    project.write(
        "schema/tenant/app.sql",
        "CREATE TABLE items (id int NOT NULL);\nCREATE INDEX items_id ON items (id);\nALTER TABLE items REPLICA IDENTITY USING INDEX items_id;\n",
    );
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 1, "{}", plan.snapshot());
    for expected in [
        "kschema::sql::replica_index",
        "the index is not unique",
        "app.sql:3",
    ] {
        assert!(
            plan.stderr.contains(expected),
            "{expected}\n{}",
            plan.stderr
        );
    }
}

/// An index's storage parameters: created with it, changed in place
/// (`ALTER INDEX … SET / RESET`, no rebuild), in public and per tenant.
#[tokio::test]
async fn index_storage_parameters_converge_in_place() {
    const TENANTS: &[&str] = &["abc", "def"];
    let v1_public = "CREATE TABLE t (\n  id int PRIMARY KEY,\n  name text\n);\nCREATE INDEX t_name ON t (name) WITH (fillfactor = 70, deduplicate_items = off);\n";
    let v1_tenant = "CREATE TABLE docs (\n  id int,\n  body tsvector\n);\nCREATE INDEX docs_body ON docs USING gin (body) WITH (fastupdate = false);\n";
    let project = crate::support::project_of(v1_public, v1_tenant, TENANTS);
    let db = TestDb::new().await;
    crate::support::assert_converges(&project, &db, (v1_public, v1_tenant), TENANTS, &[]).await;

    let v2_public = "CREATE TABLE t (\n  id int PRIMARY KEY,\n  name text\n);\nCREATE INDEX t_name ON t (name) WITH (fillfactor = 80);\n";
    let v2_tenant = "CREATE TABLE docs (\n  id int,\n  body tsvector\n);\nCREATE INDEX docs_body ON docs USING gin (body);\n";
    project.write("schema/public/app.sql", v2_public);
    project.write("schema/tenant/app.sql", v2_tenant);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    for expected in [
        "~ set storage parameters of index t_name on t: fillfactor=80, reset deduplicate_items",
        "~ set storage parameters of index docs_body on docs: reset fastupdate",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "{expected}\n{}",
            plan.stdout
        );
    }
    let sql = kschema(
        &project,
        &db,
        &["plan", "--tenant", "all", "--format", "sql"],
    );
    assert!(
        sql.stdout
            .contains("ALTER INDEX public.t_name SET (fillfactor = '80');")
            && !sql.stdout.contains("DROP INDEX"),
        "{}",
        sql.stdout
    );
    crate::support::assert_converges(&project, &db, (v2_public, v2_tenant), TENANTS, &[]).await;
}

/// Tenants that differ only in what the signatures' table part holds (an
/// identity's options, a storage parameter, the replica identity) or in an
/// index's storage parameters are each planned on their own; the
/// identical ones stay one shape, up to date.
#[tokio::test]
async fn table_attributes_drifted_in_single_tenants_are_each_seen() {
    let project = project_of(
        "",
        "CREATE TABLE notes (id INT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, body TEXT NOT NULL);\n\
         CREATE UNIQUE INDEX notes_body ON notes (body);\n",
        &["a1", "b2", "c3", "d4", "e5"],
    );
    let db = TestDb::new().await;
    let apply = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    db.execute(
        "ALTER TABLE org_b2.notes ALTER COLUMN id SET INCREMENT BY 5;
         ALTER TABLE org_c3.notes SET (fillfactor = 70);
         ALTER TABLE org_d4.notes REPLICA IDENTITY USING INDEX notes_body;
         ALTER INDEX org_e5.notes_body SET (fillfactor = 60);",
    )
    .await;
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    for drifted in ["b2", "c3", "d4", "e5"] {
        assert!(
            plan.stdout
                .contains(&format!("tenant {drifted} (org_{drifted}): 1 change")),
            "{drifted}: {}",
            plan.stdout
        );
    }
    assert!(
        plan.stdout.contains("tenant a1 (org_a1): up to date"),
        "{}",
        plan.stdout
    );
    let apply = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
}

/// A serial is a default that is nextval() of the column's own sequence
/// and nothing else: a default computed from it (`nextval(…) * 2`) is a
/// default of its own, seen in the one tenant that has it and put back.
#[tokio::test]
async fn a_default_computed_from_a_serials_sequence_is_not_the_serial() {
    const NOTES: &str = "CREATE TABLE notes (id SERIAL PRIMARY KEY, body TEXT);\n";
    const TENANTS: &[&str] = &["a1", "b2"];
    let project = project_of("", NOTES, TENANTS);
    let db = TestDb::new().await;
    let apply = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    db.execute(
        "ALTER TABLE org_b2.notes ALTER COLUMN id SET DEFAULT nextval('org_b2.notes_id_seq') * 2",
    )
    .await;
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert!(
        plan.stdout
            .contains("~ alter column notes.id default (nextval('notes_id_seq'::regclass) * 2)"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("tenant a1 (org_a1): up to date"),
        "{}",
        plan.stdout
    );
    let apply = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
    assert_same_dump(&db, &run_directly("", NOTES, TENANTS).await);
}

/// A key's `INCLUDE` columns are part of it: created with it, compared
/// (a changed list drops and adds the constraint), read live — they were
/// dropped from the files and never compared, so a live key with other
/// columns looked up to date.
#[tokio::test]
async fn key_constraints_with_include_columns_converge() {
    const TENANTS: &[&str] = &["a", "b"];
    let first = "CREATE TABLE items (
    id int,
    code text NOT NULL,
    name text,
    price int,
    CONSTRAINT items_pkey PRIMARY KEY (id) INCLUDE (name),
    UNIQUE (code) INCLUDE (name, price)
);
";
    let project = project_of(first, first, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, (first, first), TENANTS, &[]).await;

    let second = first.replace("INCLUDE (name, price)", "INCLUDE (price)");
    project
        .write("schema/public/app.sql", &second)
        .write("schema/tenant/app.sql", &second);
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert!(
        plan.stdout
            .contains("add unique constraint items_code_price_key"),
        "{}",
        plan.stdout
    );
    assert_converges(
        &project,
        &db,
        (&second, &second),
        TENANTS,
        &[
            "--allow-hazard",
            "builds-index,access-exclusive-lock,drops-index",
        ],
    )
    .await;

    // One tenant's key carrying another column is that tenant's drift.
    db.execute(
        "ALTER TABLE org_b.items DROP CONSTRAINT items_pkey, \
         ADD CONSTRAINT items_pkey PRIMARY KEY (id)",
    )
    .await;
    let drift = kschema(&project, &db, &["plan"]);
    assert_eq!(drift.code, 2, "{}", drift.snapshot());
    assert!(
        drift.stdout.contains("tenant b (org_b)"),
        "{}",
        drift.stdout
    );
}

/// A key's index storage parameters are desired state: created with it,
/// changed in place on its index (no rebuild), read live, loaded from a
/// dump (`ADD CONSTRAINT … WITH (fillfactor='70')`).
#[tokio::test]
async fn key_constraints_with_storage_parameters_converge() {
    const TENANTS: &[&str] = &["a"];
    let first = "CREATE TABLE items (
    id int,
    code text NOT NULL,
    CONSTRAINT items_pkey PRIMARY KEY (id) WITH (fillfactor = 70),
    UNIQUE (code) WITH (fillfactor = 80, deduplicate_items = off)
);
";
    let project = project_of(first, first, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, (first, first), TENANTS, &[]).await;

    let second = first.replace("fillfactor = 70", "fillfactor = 60").replace(
        "fillfactor = 80, deduplicate_items = off",
        "fillfactor = 80",
    );
    project
        .write("schema/public/app.sql", &second)
        .write("schema/tenant/app.sql", &second);
    let sql = kschema(&project, &db, &["plan", "--format", "sql"]);
    assert_eq!(sql.code, 2, "{}", sql.snapshot());
    for expected in [
        "ALTER INDEX public.items_pkey SET (fillfactor = '60');",
        "ALTER INDEX org_a.items_code_key RESET (deduplicate_items);",
    ] {
        assert!(sql.stdout.contains(expected), "{expected}\n{}", sql.stdout);
    }
    assert!(!sql.stdout.contains("DROP CONSTRAINT"), "{}", sql.stdout);
    assert_converges(&project, &db, (&second, &second), TENANTS, &[]).await;

    // pg_dump writes them on ADD CONSTRAINT: loaded as is, planned empty.
    let dumped =
        crate::dumps::project_from_dumps(&db, &crate::support::tenants_toml(TENANTS), "org_a");
    let plan = kschema(&dumped, &db, &["plan"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
}

/// A serial's sequence options (START, INCREMENT, MINVALUE, MAXVALUE,
/// CACHE, CYCLE) are desired state, declared as pg_dump writes them (the
/// sequence, its owner, the column's `nextval` default): created with the
/// table, changed in place with `ALTER SEQUENCE`, kept through a widened
/// type, seen when one tenant drifts, and written back by inspect.
#[tokio::test]
async fn serial_sequence_options_converge() {
    const TENANTS: &[&str] = &["abc", "def"];
    let serial = |table: &str, column_type: &str, options: &str| {
        format!(
            "CREATE TABLE {table} (\n  id {column_type} NOT NULL,\n  n int\n);\n\
             CREATE SEQUENCE {table}_id_seq AS {column_type} {options};\n\
             ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id;\n\
             ALTER TABLE ONLY {table} ALTER COLUMN id SET DEFAULT nextval('{table}_id_seq'::regclass);\n"
        )
    };
    let v1_public = serial(
        "orders",
        "integer",
        "START WITH 1000 INCREMENT BY 10 CACHE 20",
    );
    let v1_tenant = format!(
        "{}CREATE TABLE plain (id serial PRIMARY KEY);\n",
        serial("items", "bigint", "MINVALUE 5 MAXVALUE 900000 CYCLE")
    );
    let project = crate::support::project_of(&v1_public, &v1_tenant, TENANTS);
    let db = TestDb::new().await;
    crate::support::assert_converges(&project, &db, (&v1_public, &v1_tenant), TENANTS, &[]).await;

    // Options change in place; a widened serial keeps its own.
    let v2_public = serial("orders", "bigint", "START WITH 1000 INCREMENT BY 5");
    let v2_tenant = format!(
        "{}CREATE TABLE plain (id serial PRIMARY KEY);\n",
        serial("items", "bigint", "MINVALUE 5 NO CYCLE")
    );
    project.write("schema/public/app.sql", &v2_public);
    project.write("schema/tenant/app.sql", &v2_tenant);
    let plan = kschema(
        &project,
        &db,
        &["plan", "--tenant", "all", "--format", "sql"],
    );
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    for expected in [
        "ALTER SEQUENCE public.orders_id_seq AS bigint INCREMENT BY 5 CACHE 1",
        "ALTER SEQUENCE org_abc.items_id_seq MAXVALUE 9223372036854775807 NO CYCLE",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "{expected}\n{}",
            plan.stdout
        );
    }
    assert!(!plan.stdout.contains("plain"), "{}", plan.stdout);
    crate::support::assert_converges(
        &project,
        &db,
        (&v2_public, &v2_tenant),
        TENANTS,
        &["--allow-hazard", "rewrites-table,access-exclusive-lock"],
    )
    .await;

    // One tenant's drift is seen, in that tenant only, and nothing is
    // listed as not compared.
    db.execute("ALTER SEQUENCE org_def.items_id_seq CACHE 30")
        .await;
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert!(
        plan.stdout.contains("tenant def (org_def): 1 change")
            && plan.stdout.contains("serial's sequence CACHE 1")
            && !plan.stdout.contains("not compared"),
        "{}",
        plan.stdout
    );
    db.execute("ALTER SEQUENCE org_def.items_id_seq CACHE 1")
        .await;

    // inspect writes them back in the form they were declared in.
    let (inspected, _) = crate::support::inspect_into_new_project(&project, &db);
    let written = std::fs::read_to_string(inspected.path().join("schema/public/orders.sql"))
        .unwrap_or_default();
    assert!(
        written.contains("ALTER SEQUENCE orders_id_seq OWNED BY orders.id"),
        "{written}"
    );
}
