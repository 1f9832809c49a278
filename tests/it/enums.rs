//! Enum types as desired state, shared and per tenant: created, given new
//! labels in place, created again when labels go or move (converting the
//! columns, checks and indexes that use them), dropped; after each apply
//! the plan is empty and `pg_dump --schema-only` equals that of the SQL run
//! directly.

use crate::support::{
    assert_converges, assert_plan_schema, ensure_role, kschema, project_of, run_directly,
    tenants_toml, Project, TestDb,
};

const PUBLIC: &str = "CREATE TYPE plan_tier AS ENUM ('free', 'pro');
CREATE TABLE accounts (
    id BIGINT PRIMARY KEY,
    tier plan_tier NOT NULL DEFAULT 'free',
    history plan_tier[] NOT NULL DEFAULT '{}'
);
";

const TENANT: &str = "CREATE TYPE status AS ENUM ('open', 'done');
CREATE TABLE tasks (
    id BIGINT PRIMARY KEY,
    state status NOT NULL DEFAULT 'open' CHECK (state <> 'done' OR id > 0),
    tier plan_tier
);
CREATE INDEX tasks_open ON tasks (id) WHERE state = 'open';
";

const TENANTS: &[&str] = &["t1", "t2"];

#[tokio::test]
async fn enums_are_created_extended_recreated_and_dropped() {
    let project = project_of(PUBLIC, TENANT, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, (PUBLIC, TENANT), TENANTS, &[]).await;

    // New labels go in place, in the transaction.
    let extended = TENANT.replace(
        "ENUM ('open', 'done')",
        "ENUM ('new', 'open', 'review', 'done', 'archived')",
    );
    project.write("schema/tenant/app.sql", &extended);
    let plan = kschema(
        &project,
        &db,
        &["plan", "--tenant", "all", "--format", "sql"],
    );
    for statement in [
        "ALTER TYPE org_t1.status ADD VALUE 'new' BEFORE 'open';",
        "ALTER TYPE org_t1.status ADD VALUE 'review' AFTER 'open';",
        "ALTER TYPE org_t1.status ADD VALUE 'archived' AFTER 'done';",
    ] {
        assert!(
            plan.stdout.contains(statement),
            "{statement}\n{}",
            plan.stdout
        );
    }
    assert_converges(&project, &db, (PUBLIC, &extended), TENANTS, &[]).await;

    // A label that goes: the type is created again and the column, its
    // check and its partial index converted; a row holding the label makes
    // that tenant fail and roll back, the other converges.
    let shrunk = extended.replace("'review', ", "");
    project.write("schema/tenant/app.sql", &shrunk);
    db.execute("INSERT INTO org_t1.tasks (id, state) VALUES (1, 'review')")
        .await;
    let refused = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_ne!(refused.code, 0, "{}", refused.snapshot());
    assert!(
        refused.stdout.contains("rewrites-table"),
        "{}",
        refused.stdout
    );
    let allow = ["--allow-hazard", "rewrites-table"];
    let mut args = vec!["apply", "--tenant", "all"];
    args.extend_from_slice(&allow);
    let partial = kschema(&project, &db, &args);
    assert_ne!(partial.code, 0, "{}", partial.snapshot());
    assert!(
        partial
            .stdout
            .contains("invalid input value for enum status: \"review\""),
        "{}",
        partial.stdout
    );
    db.execute("DELETE FROM org_t1.tasks").await;
    assert_converges(&project, &db, (PUBLIC, &shrunk), TENANTS, &allow).await;

    // Dropped with the column that used it.
    let dropped = "CREATE TABLE tasks (id BIGINT PRIMARY KEY, tier plan_tier);\n";
    project.write("schema/tenant/app.sql", dropped);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(
        plan.stdout.contains("- drop enum status"),
        "{}",
        plan.stdout
    );
    let allow = ["--allow-hazard", "deletes-data"];
    assert_converges(&project, &db, (PUBLIC, dropped), TENANTS, &allow).await;
}

/// A label the same apply uses (a default, a check, a view) is added in a
/// transaction of its own, committed first; from a fresh plan and from a
/// saved one. When the target's transaction then fails, the label stays,
/// the failure says so, and the next apply finishes the rest.
#[tokio::test]
async fn a_label_is_committed_before_the_transaction_that_uses_it() {
    let project = project_of(PUBLIC, TENANT, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, (PUBLIC, TENANT), TENANTS, &[]).await;

    let blocked = TENANT
        .replace("('open', 'done')", "('open', 'blocked', 'done')")
        .replace("DEFAULT 'open'", "DEFAULT 'blocked'")
        + "CREATE VIEW blocked_tasks AS SELECT id FROM tasks WHERE state = 'blocked';\n";
    project.write("schema/tenant/app.sql", &blocked);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(
        plan.stdout.contains(
            "committed first, in a transaction of its own (the next uses its labels):\n  ~ add to enum status: 'blocked'\n  then in one transaction:"
        ),
        "{}",
        plan.stdout
    );
    let json = kschema(
        &project,
        &db,
        &["plan", "--tenant", "all", "--format", "json"],
    );
    assert_plan_schema(&json.stdout);
    assert!(
        json.stdout
            .contains("\"transaction\": \"before_transaction\""),
        "{}",
        json.stdout
    );
    let saved = project.path().join("plan.json");
    let saved = saved.to_str().unwrap();
    assert_eq!(
        kschema(&project, &db, &["plan", "--tenant", "all", "--out", saved]).code,
        2
    );
    // The mode is checked like the statements: moved into the transaction,
    // where PostgreSQL would refuse the label, the saved plan is refused.
    let edited = project.path().join("edited.json");
    let text = std::fs::read_to_string(saved).unwrap();
    std::fs::write(
        &edited,
        text.replacen("\"before_transaction\"", "\"transactional\"", 1),
    )
    .unwrap();
    let refused = kschema(&project, &db, &["apply", edited.to_str().unwrap()]);
    assert_ne!(refused.code, 0, "{}", refused.snapshot());
    assert!(
        refused.snapshot().contains("transaction mode"),
        "{}",
        refused.snapshot()
    );
    let applied = kschema(&project, &db, &["apply", saved]);
    assert_eq!(applied.code, 0, "{}", applied.snapshot());
    assert_converges(&project, &db, (PUBLIC, &blocked), TENANTS, &[]).await;

    // t1's transaction cannot take its lock: its label stays, the rest
    // rolls back, and the next apply adds nothing twice.
    let parked = blocked
        .replace("'blocked', 'done')", "'blocked', 'parked', 'done')")
        .replace("DEFAULT 'blocked'", "DEFAULT 'parked'");
    project.write("schema/tenant/app.sql", &parked);
    let holder = db.client().await;
    holder
        .batch_execute("BEGIN; LOCK TABLE org_t1.tasks IN SHARE MODE")
        .await
        .unwrap();
    let partial = kschema(
        &project,
        &db,
        &[
            "apply",
            "--tenant",
            "all",
            "--lock-timeout",
            "0.2",
            "--lock-attempts",
            "1",
        ],
    );
    holder.batch_execute("ROLLBACK").await.unwrap();
    assert_ne!(partial.code, 0, "{}", partial.snapshot());
    assert!(
        partial
            .snapshot()
            .contains("the enum labels committed before the transaction stay"),
        "{}",
        partial.snapshot()
    );
    let plan = kschema(&project, &db, &["plan", "--tenant", "t1"]);
    assert!(
        !plan.stdout.contains("add to enum") && plan.stdout.contains("'parked'"),
        "{}",
        plan.stdout
    );
    assert_converges(&project, &db, (PUBLIC, &parked), TENANTS, &[]).await;
}

/// A shared enum created again (labels reordered, one removed) while
/// tenant columns use it: public's transaction converts the tenants'
/// columns too — their defaults, the checks and indexes reading them, the
/// views reading their tables (and the views reading those, a
/// materialized one filling again) taken along —
/// and the fleet converges. A tenant function taking the enum that a
/// generated column calls is refused at plan time, nothing changed.
#[tokio::test]
async fn a_shared_enum_created_again_converts_the_tenants_columns() {
    let public = "CREATE TYPE plan_tier AS ENUM ('free', 'trial', 'pro');
CREATE TABLE accounts (id BIGINT PRIMARY KEY, tier plan_tier NOT NULL DEFAULT 'free');
";
    let tenant = "CREATE TABLE seats (
    id BIGINT PRIMARY KEY,
    tier plan_tier NOT NULL DEFAULT 'trial' CHECK (tier <> 'free' OR id > 0),
    past plan_tier[] NOT NULL DEFAULT '{}'
);
CREATE INDEX seats_paid ON seats (id) WHERE tier = 'pro';
CREATE VIEW paid AS SELECT id, tier FROM seats WHERE tier = 'pro';
CREATE VIEW paid_count AS SELECT count(*) AS n FROM paid;
CREATE MATERIALIZED VIEW tiers AS SELECT DISTINCT tier FROM seats;
";
    let project = project_of(public, tenant, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, (public, tenant), TENANTS, &[]).await;
    db.execute("INSERT INTO org_t1.seats (id, tier, past) VALUES (1, 'pro', '{free,pro}')")
        .await;

    // 'trial' goes: the tenants' files give their column another default
    // in the same apply.
    let reordered = public.replace("('free', 'trial', 'pro')", "('pro', 'free')");
    let tenant = &tenant.replace("DEFAULT 'trial'", "DEFAULT 'pro'");
    project
        .write("schema/public/app.sql", &reordered)
        .write("schema/tenant/app.sql", tenant);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    for expected in [
        "~ create enum plan_tier again ('pro', 'free'), converting 1 column(s) here and 4 in 2 other schema(s)",
        "rewrites 2 table(s) of 2 other schema(s) to convert their columns to the new plan_tier",
        "builds 2 index(es) of other schemas",
        "- drop 6 views of other schemas that read what changes here, created again after it: org_t2.paid_count, org_t2.tiers, org_t2.paid, org_t1.paid_count, org_t1.tiers, and 1 more",
    ] {
        assert!(plan.stdout.contains(expected), "{expected}\n{}", plan.stdout);
    }
    let hazards = "recreates-object,rewrites-table,validates-constraint,builds-index,refills-view";
    assert_converges(
        &project,
        &db,
        (&reordered, tenant),
        TENANTS,
        &["--allow-hazard", hazards],
    )
    .await;
    let row: String = db
        .client()
        .await
        .query_one(
            "SELECT tier::text || ' ' || past::text FROM org_t1.seats",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(row, "pro {free,pro}");

    // A tenant function taking the enum that a generated column calls
    // (PostgreSQL refuses its drop): refused, nothing changed.
    let with_function = format!(
        "CREATE FUNCTION is_paid(t plan_tier) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT t = 'pro' $$;\n{}",
        tenant.replace(
            "DEFAULT '{}'\n",
            "DEFAULT '{}',\n    paid boolean GENERATED ALWAYS AS (is_paid(tier)) STORED\n"
        )
    );
    project.write("schema/tenant/app.sql", &with_function);
    let apply = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    project.write("schema/public/app.sql", public);
    let before = (db.catalog("public").await, db.catalog("org_t1").await);
    let refused = kschema(
        &project,
        &db,
        &["apply", "--tenant", "all", "--allow-hazard", hazards],
    );
    assert_eq!(refused.code, 1, "{}", refused.snapshot());
    for expected in [
        "kschema::plan::shared_enum_users",
        "function org_t1.is_paid(plan_tier)",
        "generated column",
        "schema/public/app.sql:1",
    ] {
        assert!(
            refused.stderr.contains(expected),
            "{expected}: {}",
            refused.snapshot()
        );
    }
    assert_eq!(
        (db.catalog("public").await, db.catalog("org_t1").await),
        before
    );
    project
        .write("schema/public/app.sql", &reordered)
        .write("schema/tenant/app.sql", tenant);
    assert_converges(
        &project,
        &db,
        (&reordered, tenant),
        TENANTS,
        &["--allow-hazard", "deletes-data"],
    )
    .await;

    // Adding a label is fine while tenants use it.
    let extended = reordered.replace("('pro', 'free')", "('pro', 'free', 'team')");
    let with_check =
        format!("{tenant}ALTER TABLE seats ADD CONSTRAINT no_team CHECK (tier <> 'team');\n");
    project
        .write("schema/public/app.sql", &extended)
        .write("schema/tenant/app.sql", &with_check);
    assert_converges(&project, &db, (&extended, &with_check), TENANTS, &[]).await;

    // A live tenant check naming a label that goes, dropped from the files
    // in the same apply: public's transaction, which runs first, would put
    // it back: refused, nothing changed.
    project
        .write("schema/public/app.sql", &reordered)
        .write("schema/tenant/app.sql", tenant);
    let before = db.catalog("org_t1").await;
    let refused = kschema(
        &project,
        &db,
        &["apply", "--tenant", "all", "--allow-hazard", hazards],
    );
    assert_eq!(refused.code, 1, "{}", refused.snapshot());
    assert!(
        refused
            .stderr
            .contains("check org_t1.seats.no_team (it names a label that goes)"),
        "{}",
        refused.snapshot()
    );
    assert_eq!(db.catalog("org_t1").await, before);
}

/// A shared enum created again while tenant functions take or return it:
/// public's transaction drops them (a procedure, a `BEGIN ATOMIC` one
/// too) and creates them again on the new type, as they are live, with
/// their grants and comments — and what calls them goes along: a column
/// default (converted with its column), a check, an index, a policy and a
/// view. The fleet converges and the values stay.
#[tokio::test]
async fn a_shared_enum_created_again_takes_the_tenants_functions_along() {
    let public = "CREATE TYPE plan_tier AS ENUM ('free', 'trial', 'pro');\n";
    let tenant = "CREATE FUNCTION is_paid(t plan_tier) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT t = 'pro' $$;
COMMENT ON FUNCTION is_paid(plan_tier) IS 'whether a tier pays';
GRANT EXECUTE ON FUNCTION is_paid(plan_tier) TO kschema_test_app;
CREATE FUNCTION first_tier() RETURNS plan_tier LANGUAGE sql STABLE AS $$ SELECT 'trial'::plan_tier $$;
CREATE FUNCTION tier_rank(t plan_tier) RETURNS integer LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
    SELECT CASE WHEN t = 'pro' THEN 2 ELSE 1 END;
END;
CREATE TABLE seats (
    id BIGINT PRIMARY KEY,
    tier plan_tier NOT NULL DEFAULT first_tier(),
    CONSTRAINT paid_ids CHECK (NOT is_paid(tier) OR id > 0)
);
CREATE PROCEDURE set_tier(seat bigint, t plan_tier) LANGUAGE sql AS $$ UPDATE seats SET tier = t WHERE id = seat $$;
CREATE INDEX seats_rank ON seats (tier_rank(tier));
CREATE VIEW paid AS SELECT id FROM seats WHERE is_paid(tier);
ALTER TABLE seats ENABLE ROW LEVEL SECURITY;
CREATE POLICY paying ON seats USING (is_paid(tier) OR id > 0);
";
    let project = project_of(public, tenant, TENANTS);
    project.write(
        "kschema.toml",
        "[roles]\nmanaged = [\"kschema_test_app\"]\n",
    );
    let db = TestDb::new().await;
    ensure_role(&db, "kschema_test_app").await;
    assert_converges(&project, &db, (public, tenant), TENANTS, &[]).await;
    db.execute(
        "SET search_path = org_t1, public; INSERT INTO seats (id) VALUES (1); CALL set_tier(1, 'pro'); \
         RESET search_path; INSERT INTO org_t2.seats (id) VALUES (2);",
    )
    .await;

    // 'free' goes.
    let reordered = public.replace("('free', 'trial', 'pro')", "('pro', 'trial')");
    project.write("schema/public/app.sql", &reordered);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    for expected in [
        "~ create enum plan_tier again ('pro', 'trial'), converting 0 column(s) here and 2 in 2 other schema(s), with 8 functions of other schemas on it dropped and created again: org_t1.first_tier, org_t1.is_paid, org_t1.set_tier, org_t1.tier_rank, org_t2.first_tier, and 3 more",
        "drops 8 function(s) of 2 other schema(s) taking or returning plan_tier and creates them again on the new plan_tier",
        "- drop 2 views of other schemas that read what changes here, created again after it: org_t2.paid, org_t1.paid",
    ] {
        assert!(plan.stdout.contains(expected), "{expected}\n{}", plan.stdout);
    }
    let hazards = "recreates-object,rewrites-table,validates-constraint,builds-index";
    assert_converges(
        &project,
        &db,
        (&reordered, tenant),
        TENANTS,
        &["--allow-hazard", hazards],
    )
    .await;
    let client = db.client().await;
    let row: String = client
        .query_one(
            "SELECT (SELECT tier::text FROM org_t1.seats) || ' ' || (SELECT tier::text FROM org_t2.seats) \
             || ' ' || org_t1.tier_rank('pro') || ' ' || obj_description('org_t1.is_paid(plan_tier)'::regprocedure) \
             || ' ' || has_function_privilege('kschema_test_app', 'org_t2.is_paid(plan_tier)', 'EXECUTE')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(row, "pro trial 2 whether a tier pays true");
}

/// A shared enum created again while tenant types are built on it: a
/// domain over it (with a check, columns of it and of its array, an index
/// and a view reading them, a function taking it), a composite type a
/// column uses, and one no column uses. Public's transaction creates the
/// first two again on the new enum, as they are live, converting their
/// columns, and turns the third in place; the fleet converges and the
/// values stay.
#[tokio::test]
async fn a_shared_enum_created_again_takes_the_tenants_types_built_on_it_along() {
    let public = "CREATE TYPE plan_tier AS ENUM ('free', 'trial', 'pro');\n";
    let tenant = "CREATE DOMAIN paid_tier AS plan_tier CHECK (VALUE <> 'trial');
CREATE TYPE offer AS (tier plan_tier, price int);
CREATE TYPE quote AS (tier plan_tier, note text);
CREATE TABLE deals (
    id BIGINT PRIMARY KEY,
    tier paid_tier NOT NULL DEFAULT 'pro',
    past paid_tier[],
    o offer
);
CREATE TABLE events (id int, tier paid_tier) PARTITION BY RANGE (id);
CREATE TABLE events_low PARTITION OF events (tier DEFAULT 'pro') FOR VALUES FROM (0) TO (100);
CREATE INDEX deals_pro ON deals (id) WHERE tier::plan_tier = 'pro';
CREATE VIEW pro_deals AS SELECT id, (o).price FROM deals WHERE tier::plan_tier = 'pro';
CREATE FUNCTION rank_of(t paid_tier) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN t::plan_tier = 'pro' THEN 2 ELSE 1 END $$;
";
    let project = project_of(public, tenant, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, (public, tenant), TENANTS, &[]).await;
    db.execute("INSERT INTO org_t1.deals VALUES (1, 'pro', '{pro,NULL}', ROW('trial', 5))")
        .await;

    // 'free' goes.
    let reordered = public.replace("('free', 'trial', 'pro')", "('pro', 'trial')");
    project.write("schema/public/app.sql", &reordered);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    for expected in [
        "with 4 types of other schemas built on it created again: org_t1.offer, org_t1.paid_tier, org_t2.offer, org_t2.paid_tier and 2 functions of other schemas on it dropped and created again: org_t1.rank_of, org_t2.rank_of",
        "drops 4 domain(s) or composite type(s) of 2 other schema(s) built on plan_tier",
        "rewrites 4 table(s) of other schemas to convert their columns of those types",
        "- drop 2 views of other schemas that read what changes here",
    ] {
        assert!(plan.stdout.contains(expected), "{expected}\n{}", plan.snapshot());
    }
    let hazards = "recreates-object,rewrites-table,builds-index";
    assert_converges(
        &project,
        &db,
        (&reordered, tenant),
        TENANTS,
        &["--allow-hazard", hazards],
    )
    .await;
    assert_eq!(
        db.texts(
            "SELECT format('%s %s %s %s', tier, past, o, org_t1.rank_of(tier)) FROM org_t1.deals"
        )
        .await,
        ["pro {pro,NULL} (trial,5) 2"]
    );

    // The domain's live check names 'trial', which goes next (its files
    // give it another check in the same apply): it cannot be created
    // again as it is live — refused, nothing changed.
    let shorter = public.replace("('free', 'trial', 'pro')", "('pro')");
    let other_check = tenant.replace("VALUE <> 'trial'", "VALUE IS NOT NULL");
    project
        .write("schema/public/app.sql", &shorter)
        .write("schema/tenant/app.sql", &other_check);
    let before = (db.catalog("public").await, db.catalog("org_t1").await);
    let refused = kschema(
        &project,
        &db,
        &["apply", "--tenant", "all", "--allow-hazard", hazards],
    );
    assert_eq!(refused.code, 1, "{}", refused.snapshot());
    for expected in [
        "kschema::plan::shared_enum_users",
        "domain org_t1.paid_tier (it names a label that goes)",
    ] {
        assert!(
            refused.stderr.contains(expected),
            "{expected}: {}",
            refused.snapshot()
        );
    }
    assert_eq!(
        (db.catalog("public").await, db.catalog("org_t1").await),
        before
    );
}

#[tokio::test]
async fn inspect_writes_enums() {
    let db = run_directly(PUBLIC, TENANT, TENANTS).await;
    let project = Project::empty();
    project.write("tenants.toml", &tenants_toml(TENANTS));
    let inspect = kschema(&project, &db, &["inspect", "--force"]);
    assert_eq!(inspect.code, 0, "{}", inspect.snapshot());
    let types = project.read("schema/tenant/types.sql");
    assert_eq!(types, "CREATE TYPE status AS ENUM ('open', 'done');\n");
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
}

/// Tenants with their own enum are read once per shape, yet a tenant whose
/// enum-typed default, enum or trigger drifted is told apart.
#[tokio::test]
async fn drift_in_one_tenant_is_seen_among_identical_ones() {
    let tenant = format!(
        "{TENANT}CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER tasks_touch BEFORE UPDATE ON tasks FOR EACH ROW EXECUTE FUNCTION touch();
"
    );
    let project = project_of(PUBLIC, &tenant, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, (PUBLIC, &tenant), TENANTS, &[]).await;
    db.execute(
        "ALTER TABLE org_t2.tasks ALTER COLUMN state SET DEFAULT 'done';
         ALTER TABLE org_t1.tasks DISABLE TRIGGER tasks_touch;",
    )
    .await;
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(
        plan.stdout.contains(
            "tenant t2 (org_t2): 1 change\n  ~ alter column tasks.state default 'done'::status → 'open'"
        ),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("tenant t1 (org_t1): 1 change\n  ~ enable trigger tasks_touch on tasks"),
        "{}",
        plan.stdout
    );
}

/// An enum created again takes along the functions whose arguments or
/// result are of it (dropped before it, created after, with the views that
/// call them) and the domains over it (with their columns, and what reads
/// those), and a domain over it the files drop at the same time (as it
/// is, then dropped).
#[tokio::test]
async fn an_enum_created_again_takes_its_functions_and_domains_along() {
    let tenant = "CREATE TYPE state AS ENUM ('open', 'stale', 'done');
CREATE TABLE tasks (id int PRIMARY KEY, state state NOT NULL DEFAULT 'open');
CREATE FUNCTION is_open(s state) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT s = 'open' $$;
CREATE FUNCTION states_of(ids int[]) RETURNS state[] LANGUAGE sql STABLE AS $$ SELECT array_agg(state) FROM tasks WHERE id = ANY (ids) $$;
CREATE VIEW open_tasks AS SELECT id FROM tasks WHERE is_open(state);
COMMENT ON FUNCTION is_open(state) IS 'open or not';
";
    let project = project_of("", tenant, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, ("", tenant), TENANTS, &[]).await;

    let without_stale = tenant.replace("'open', 'stale', 'done'", "'open', 'done'");
    project.write("schema/tenant/app.sql", &without_stale);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    for expected in [
        "- drop function is_open(state) before its type state is created again (created again after)",
        "- drop function states_of(integer[]) before its type state is created again",
        "+ create function is_open(state)",
        "- drop view open_tasks",
    ] {
        assert!(plan.stdout.contains(expected), "{expected}\n{}", plan.stdout);
    }
    let allow = [
        "--allow-hazard",
        "rewrites-table",
        "--allow-hazard",
        "recreates-object",
    ];
    assert_converges(&project, &db, ("", &without_stale), TENANTS, &allow).await;

    // A domain over it, a column of that, a check and an index reading
    // the column, a function taking the domain: the domain is created
    // again with the enum, its column converted, the check and index put
    // back, the function taken along.
    let with_domain = format!(
        "{without_stale}CREATE DOMAIN open_state AS state CHECK (VALUE <> 'done');
CREATE TABLE reviews (id int PRIMARY KEY, s open_state NOT NULL DEFAULT 'open', CONSTRAINT not_done CHECK (s::state <> 'done'));
CREATE INDEX reviews_open ON reviews ((s::state = 'open'));
CREATE FUNCTION still_open(s open_state) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT s::state = 'open' $$;
"
    );
    project.write("schema/tenant/app.sql", &with_domain);
    assert_converges(&project, &db, ("", &with_domain), TENANTS, &allow).await;
    db.execute("INSERT INTO org_t1.reviews VALUES (1, 'open'), (2, DEFAULT)")
        .await;
    let reordered = with_domain.replace("'open', 'done'", "'done', 'open'");
    project.write("schema/tenant/app.sql", &reordered);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(
        plan.stdout
            .contains("and built on it: recreate domain open_state"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(
            "- drop function still_open(open_state) before its type open_state is created again"
        ),
        "{}",
        plan.stdout
    );
    assert_converges(&project, &db, ("", &reordered), TENANTS, &allow).await;
    let kept = db
        .texts("SELECT s::text FROM org_t1.reviews ORDER BY id")
        .await;
    assert_eq!(kept, ["open", "open"]);

    // A domain over it that the files drop at the same time, its column
    // given the enum itself and its function dropped: the domain goes
    // along as it is (its column converted, the index reading it taken
    // off though it is also built again online), the function goes first,
    // then the column changes type and the domain goes.
    let dropped: String = reordered
        .replace("'done', 'open'", "'open', 'done'")
        .replace("s open_state NOT NULL", "s state NOT NULL")
        .lines()
        .filter(|line| !line.contains("open_state"))
        .map(|line| format!("{line}\n"))
        .collect();
    project.write("schema/tenant/app.sql", &dropped);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    for expected in [
        "and built on it: recreate domain open_state",
        "- drop domain open_state",
        "- drop function still_open(open_state) before its type open_state is created again\n",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "{expected}\n{}",
            plan.stdout
        );
    }
    // A domain's column given its base type: may-lose-data, as always.
    let allow = [&allow[..], &["--allow-hazard", "may-lose-data"]].concat();
    assert_converges(&project, &db, ("", &dropped), TENANTS, &allow).await;
    let kept = db
        .texts("SELECT s::text FROM org_t1.reviews ORDER BY id")
        .await;
    assert_eq!(kept, ["open", "open"]);
}

#[tokio::test]
async fn an_enum_created_again_turns_the_composite_types_holding_it() {
    // A reporting type no column uses, returned by a function: it keeps
    // its place (and the function) while its attribute moves to the new
    // enum.
    let tenant = "CREATE TYPE state AS ENUM ('open', 'stale', 'done');
CREATE TYPE summary AS (state state, total bigint, history state[]);
CREATE TABLE tasks (id int PRIMARY KEY, state state NOT NULL DEFAULT 'open');
CREATE FUNCTION summarize() RETURNS SETOF summary LANGUAGE sql STABLE
    AS $$ SELECT state, count(*), NULL::state[] FROM tasks GROUP BY state $$;
";
    let project = project_of("", tenant, &["t1"]);
    let db = TestDb::new().await;
    let apply = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    db.execute("INSERT INTO org_t1.tasks VALUES (1, 'open'), (2, 'done')")
        .await;

    let without_stale = tenant.replace("'open', 'stale', 'done'", "'open', 'done'");
    project.write("schema/tenant/app.sql", &without_stale);
    let allow = ["--allow-hazard", "rewrites-table"];
    assert_converges(&project, &db, ("", &without_stale), &["t1"], &allow).await;
    let client = db.client().await;
    client
        .batch_execute("SET search_path = org_t1")
        .await
        .unwrap();
    let rows = client
        .query("SELECT state::text, total FROM summarize() ORDER BY 1", &[])
        .await
        .unwrap();
    let got: Vec<(String, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(got, [("done".to_string(), 1), ("open".to_string(), 1)]);
}

/// An enum created again whose column an index reads, the index changed
/// by the files at the same time (built again online, beside the old
/// one): the old one, which compares with the old labels, is taken off in
/// the conversion's transaction, and the new one is built after.
#[tokio::test]
async fn an_index_changed_with_its_enum_created_again_is_taken_off_first() {
    let tenant = "CREATE TYPE state AS ENUM ('open', 'stale', 'done');
CREATE TABLE tasks (id int PRIMARY KEY, state state NOT NULL);
CREATE INDEX tasks_open ON tasks ((state = 'open'));
";
    let project = project_of("", tenant, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, ("", tenant), TENANTS, &[]).await;
    db.execute("INSERT INTO org_t1.tasks VALUES (1, 'open'), (2, 'done')")
        .await;

    let changed = tenant
        .replace("'open', 'stale', 'done'", "'open', 'done'")
        .replace("((state = 'open'));", "((state = 'open')) WHERE id > 0;");
    project.write("schema/tenant/app.sql", &changed);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(
        plan.stdout.contains("beside the old one"),
        "{}",
        plan.stdout
    );
    let allow = ["--allow-hazard", "rewrites-table"];
    assert_converges(&project, &db, ("", &changed), TENANTS, &allow).await;
    let kept = db
        .texts("SELECT state::text FROM org_t1.tasks ORDER BY id")
        .await;
    assert_eq!(kept, ["open", "done"]);
}

/// A function on an enum created again that the files drop at the same
/// time (with the view calling it) goes before the enum's recreation, not
/// with the drops at the end: the old enum cannot be dropped while the
/// function holds it.
#[tokio::test]
async fn a_function_dropped_with_its_enum_created_again_goes_first() {
    let tenant = "CREATE TYPE state AS ENUM ('open', 'stale', 'done');
CREATE TABLE tasks (id int PRIMARY KEY, state state NOT NULL);
CREATE FUNCTION is_open(s state) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT s = 'open' $$;
CREATE VIEW open_tasks AS SELECT id FROM tasks WHERE is_open(state);
";
    let project = project_of("", tenant, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, ("", tenant), TENANTS, &[]).await;
    let changed: String = tenant
        .replace("'open', 'stale', 'done'", "'open', 'done'")
        .lines()
        .filter(|l| !l.contains("is_open"))
        .map(|l| format!("{l}\n"))
        .collect();
    project.write("schema/tenant/app.sql", &changed);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    let drop = "- drop function is_open(state) before its type state is created again\n";
    let recreate = "~ create enum state again";
    let (Some(drop_at), Some(recreate_at)) = (plan.stdout.find(drop), plan.stdout.find(recreate))
    else {
        panic!("{}", plan.stdout);
    };
    assert!(drop_at < recreate_at, "{}", plan.stdout);
    let allow = ["--allow-hazard", "rewrites-table"];
    assert_converges(&project, &db, ("", &changed), TENANTS, &allow).await;
}

/// A partitioned table's column of an enum created again converts on the
/// parent (reaching every partition); a partition's own default, which
/// the parent's default steps take along — and which would block the
/// conversion where the parent has none — is set again after. (Its
/// default read from the desired state also named the scratch schema.)
#[tokio::test]
async fn a_partitions_own_default_survives_its_enum_created_again() {
    let tenant = "CREATE TYPE state AS ENUM ('open', 'stale', 'done');
CREATE TABLE tasks (id int, s state NOT NULL DEFAULT 'open') PARTITION BY LIST (id);
CREATE TABLE tasks_one PARTITION OF tasks (s DEFAULT 'done') FOR VALUES IN (1);
CREATE TABLE tasks_two PARTITION OF tasks FOR VALUES IN (2);
CREATE TABLE notes (id int, s state) PARTITION BY LIST (id);
CREATE TABLE notes_one PARTITION OF notes (s DEFAULT 'stale') FOR VALUES IN (1);
";
    let project = project_of("", tenant, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, ("", tenant), TENANTS, &[]).await;
    db.execute("INSERT INTO org_t1.tasks VALUES (1, 'stale'), (2, 'open')")
        .await;
    let changed = tenant.replace("'open', 'stale', 'done'", "'open', 'done', 'stale'");
    project.write("schema/tenant/app.sql", &changed);
    assert_converges(
        &project,
        &db,
        ("", &changed),
        TENANTS,
        &["--allow-hazard", "rewrites-table"],
    )
    .await;
    assert_eq!(
        db.texts("SELECT format('%s %s', id, s) FROM org_t1.tasks ORDER BY id")
            .await,
        ["1 stale", "2 open"]
    );
}

/// The same for a shared enum: the tenants' partitions' own defaults are
/// set again in public's transaction, after their tables' columns are
/// converted.
#[tokio::test]
async fn a_tenant_partitions_own_default_survives_its_shared_enum_created_again() {
    let public = "CREATE TYPE state AS ENUM ('open', 'stale', 'done');\n";
    let tenant =
        "CREATE TABLE tasks (id int, s state NOT NULL DEFAULT 'open') PARTITION BY LIST (id);
CREATE TABLE tasks_one PARTITION OF tasks (s DEFAULT 'done') FOR VALUES IN (1);
CREATE TABLE notes (id int, s state) PARTITION BY LIST (id);
CREATE TABLE notes_one PARTITION OF notes (s DEFAULT 'stale') FOR VALUES IN (1);
";
    let project = project_of(public, tenant, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, (public, tenant), TENANTS, &[]).await;
    db.execute("INSERT INTO org_t1.notes VALUES (1, 'done')")
        .await;
    let changed = public.replace("'open', 'stale', 'done'", "'open', 'done', 'stale'");
    project.write("schema/public/app.sql", &changed);
    assert_converges(
        &project,
        &db,
        (&changed, tenant),
        TENANTS,
        &["--allow-hazard", "rewrites-table"],
    )
    .await;
    assert_eq!(
        db.texts("SELECT format('%s %s', id, s) FROM org_t1.notes")
            .await,
        ["1 done"]
    );
}
