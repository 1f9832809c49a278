//! What names a type in an expression (`'open'::status` in a default, a
//! check, an index predicate, a trigger's `WHEN`, a view, a policy, a
//! `BEGIN ATOMIC` body) holds it as PostgreSQL records it: when the type
//! is created again (labels reordered), each is taken along — found from
//! `pg_depend`, not from the words of its definition — in the tenant's
//! own plan and, for a shared type, in public's transaction for every
//! tenant. What cannot be (a generated column, a domain's check naming
//! it) is refused at plan time, naming each. After each apply the plan is
//! empty and `pg_dump --schema-only` equals that of the SQL run directly.

use crate::support::{assert_converges, kschema, project_of, TestDb};

const ALLOW: [&str; 2] = [
    "--allow-hazard",
    "recreates-object,rewrites-table,validates-constraint,builds-index",
];

/// The same objects naming the enum `{t}` in expressions only: no column
/// is of it.
fn naming(t: &str, first: &str, second: &str) -> String {
    format!(
        "CREATE TABLE notes (
    id BIGINT PRIMARY KEY,
    label text NOT NULL DEFAULT ('{first}'::{t})::text,
    CONSTRAINT label_known CHECK (label::{t} IS NOT NULL)
);
CREATE INDEX notes_marked ON notes (id) WHERE id > 0 AND '{second}'::{t} IS NOT NULL;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER notes_touch BEFORE UPDATE ON notes FOR EACH ROW
    WHEN (NEW.label::{t} = '{second}') EXECUTE FUNCTION touch();
ALTER TABLE notes DISABLE TRIGGER notes_touch;
CREATE VIEW marked_notes AS SELECT id FROM notes WHERE label::{t} = '{second}';
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY known ON notes USING (label::{t} <> '{second}' OR id > 0);
CREATE FUNCTION first_label() RETURNS text LANGUAGE sql STABLE
    BEGIN ATOMIC SELECT ('{first}'::{t})::text; END;
CREATE TABLE events (id bigint NOT NULL, kind text NOT NULL DEFAULT ('{first}'::{t})::text)
    PARTITION BY RANGE (id);
CREATE TABLE events_low PARTITION OF events (kind DEFAULT ('{second}'::{t})::text)
    FOR VALUES FROM (0) TO (100);
CREATE TABLE events_high PARTITION OF events (kind DEFAULT 'x') FOR VALUES FROM (100) TO (200);
"
    )
}

/// What PostgreSQL holds after the apply: the trigger still disabled,
/// the defaults (a partition's own too: a row inserted through the
/// parent takes the parent's) and the function on the new type.
async fn read_back(db: &TestDb, schema: &str) -> String {
    let client = db.client().await;
    db.execute(&format!(
        "INSERT INTO {schema}.notes (id) VALUES (7); INSERT INTO {schema}.events (id) VALUES (2); \
         INSERT INTO {schema}.events_low (id) VALUES (1); INSERT INTO {schema}.events_high (id) VALUES (150);"
    ))
    .await;
    client
        .query_one(
            &format!(
                "SELECT (SELECT tgenabled::text FROM pg_trigger WHERE tgname = 'notes_touch' \
                   AND tgrelid = '{schema}.notes'::regclass) \
                 || ' ' || (SELECT label FROM {schema}.notes WHERE id = 7) \
                 || ' ' || (SELECT string_agg(kind, ',' ORDER BY id) FROM {schema}.events) \
                 || ' ' || {schema}.first_label()"
            ),
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn what_names_an_enum_in_an_expression_goes_along_when_it_is_created_again() {
    let public = "CREATE TABLE plans (id BIGINT PRIMARY KEY);\n";
    let tenant = format!(
        "CREATE TYPE status AS ENUM ('open', 'review', 'done');\n{}",
        naming("status", "open", "review")
    );
    let project = project_of(public, &tenant, &["t1"]);
    let db = TestDb::new().await;
    assert_converges(&project, &db, (public, &tenant), &["t1"], &[]).await;

    let reordered = tenant.replace("('open', 'review', 'done')", "('done', 'review', 'open')");
    project.write("schema/tenant/app.sql", &reordered);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    for expected in [
        "~ create enum status again ('done', 'review', 'open'), converting 0 column(s), taking off 3 default(s) and 1 index(es) naming it first",
        "- drop view marked_notes",
        "- drop trigger notes_touch on notes",
        "- drop policy known on notes",
        "- drop check constraint label_known on notes",
        "- drop function first_label() before its type status is created again",
        "~ alter column notes.label default none → ('open'::status)::TEXT",
        "~ disable trigger notes_touch on notes",
        "~ columns of partition events_low: kind default ('review'::status)::TEXT",
        "+ create index notes_marked on notes",
    ] {
        assert!(plan.stdout.contains(expected), "{expected}\n{}", plan.stdout);
    }
    assert_converges(&project, &db, (public, &reordered), &["t1"], &ALLOW).await;
    assert_eq!(read_back(&db, "org_t1").await, "D open review,open,x open");

    // A generated column and a domain's check naming it cannot be taken
    // along: refused at plan time, naming both, and nothing changes.
    let held = format!(
        "{reordered}CREATE TABLE flags (id int PRIMARY KEY, label text, \
         known boolean GENERATED ALWAYS AS ('open'::status IS NOT NULL AND label <> '') STORED);
CREATE DOMAIN note_label AS text CHECK (VALUE <> ('done'::status)::text);
"
    );
    project.write("schema/tenant/app.sql", &held);
    assert_converges(&project, &db, (public, &held), &["t1"], &[]).await;
    let again = held.replace("('done', 'review', 'open')", "('open', 'review', 'done')");
    project.write("schema/tenant/app.sql", &again);
    let mut args = vec!["apply", "--tenant", "all"];
    args.extend(ALLOW);
    let refused = kschema(&project, &db, &args);
    assert_eq!(refused.code, 1, "{}", refused.snapshot());
    for expected in [
        "kschema::plan::type_users",
        "type status is created again in tenant t1 (org_t1)",
        "domain note_label",
        "generated column flags.known",
        "PostgreSQL would refuse to drop the old type",
    ] {
        assert!(
            refused.said().contains(expected),
            "{expected}\n{}",
            refused.stderr
        );
    }
    let labels: String = db
        .client()
        .await
        .query_one(
            "SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum \
             WHERE enumtypid = 'org_t1.status'::regtype",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(labels, "done,review,open");
}

#[tokio::test]
async fn what_names_a_shared_enum_in_an_expression_goes_along_in_the_tenants() {
    let public = "CREATE TYPE plan_tier AS ENUM ('free', 'trial', 'pro');\n";
    let tenant = naming("plan_tier", "pro", "trial");
    let tenants = ["t1", "t2"];
    let project = project_of(public, &tenant, &tenants);
    let db = TestDb::new().await;
    assert_converges(&project, &db, (public, &tenant), &tenants, &[]).await;

    let reordered = public.replace("('free', 'trial', 'pro')", "('pro', 'trial', 'free')");
    project.write("schema/public/app.sql", &reordered);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    for expected in [
        "~ create enum plan_tier again ('pro', 'trial', 'free'), converting 0 column(s), with 2 functions of other schemas on it dropped and created again: org_t1.first_label, org_t2.first_label and 6 defaults of other schemas naming it taken off and set again: org_t1.events.kind, org_t1.events_low.kind, org_t1.notes.label, org_t2.events.kind, org_t2.events_low.kind, and 1 more and 2 triggers of other schemas naming it dropped and created again: org_t1.notes.notes_touch, org_t2.notes.notes_touch",
        "- drop 2 views of other schemas that read what changes here, created again after it: org_t2.marked_notes, org_t1.marked_notes",
        "org_t1.notes policy known, org_t2.notes policy known",
        "checks the rows of other schemas against 2 check(s) reading those columns or naming the type again",
        "builds 2 index(es) of other schemas reading those columns or naming the type again",
    ] {
        assert!(plan.stdout.contains(expected), "{expected}\n{}", plan.stdout);
    }
    assert_converges(&project, &db, (&reordered, &tenant), &tenants, &ALLOW).await;
    for schema in ["org_t1", "org_t2"] {
        assert_eq!(read_back(&db, schema).await, "D pro trial,pro,x pro");
    }

    // What public's transaction cannot take along in a tenant is refused
    // there, naming it.
    let held = format!(
        "{tenant}CREATE TABLE flags (id int PRIMARY KEY, label text, \
         known boolean GENERATED ALWAYS AS ('pro'::plan_tier IS NOT NULL AND label <> '') STORED);
CREATE DOMAIN note_label AS text CHECK (VALUE <> ('free'::plan_tier)::text);
"
    );
    project.write("schema/tenant/app.sql", &held);
    assert_converges(&project, &db, (&reordered, &held), &tenants, &[]).await;
    project.write("schema/public/app.sql", public);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 1, "{}", plan.snapshot());
    for expected in [
        "kschema::plan::shared_enum_users",
        "domain org_t1.note_label",
        "generated column org_t1.flags.known",
    ] {
        assert!(
            plan.said().contains(expected),
            "{expected}\n{}",
            plan.stderr
        );
    }
}

/// A snapshot records what each shape's objects need (`pg_depend`), so a
/// plan from it takes along what names a type in an expression, as a plan
/// from the database does. One an older kschema wrote records none: its
/// plan says what it cannot see instead of leaving it out silently.
#[tokio::test]
async fn a_plan_from_a_snapshot_without_dependencies_says_what_it_cannot_see() {
    let public = "CREATE TABLE plans (id BIGINT PRIMARY KEY);\n";
    let tenant = format!(
        "CREATE TYPE status AS ENUM ('open', 'review', 'done');\n{}",
        naming("status", "open", "review")
    );
    let project = project_of(public, &tenant, &["t1"]);
    let db = TestDb::new().await;
    assert_converges(&project, &db, (public, &tenant), &["t1"], &[]).await;
    let recorded = project.path().join("recorded.json");
    let taken = kschema(
        &project,
        &db,
        &["snapshot", "--out", recorded.to_str().unwrap()],
    );
    assert_eq!(taken.code, 0, "{}", taken.snapshot());
    let mut older: serde_json::Value =
        serde_json::from_str(&project.read("recorded.json")).unwrap();
    assert!(older
        .as_object_mut()
        .unwrap()
        .remove("dependencies")
        .is_some());
    project.write("older.json", &serde_json::to_string_pretty(&older).unwrap());

    project.write(
        "schema/tenant/app.sql",
        &tenant.replace("('open', 'review', 'done')", "('done', 'review', 'open')"),
    );
    let note = "type status is created again, and the live state (a snapshot an older kschema wrote) records no dependencies";
    // From the snapshot as taken, what names the type goes along; from
    // the older one it cannot be seen, and the plan says so.
    for (snapshot, sees_it) in [("recorded.json", true), ("older.json", false)] {
        let path = project.path().join(snapshot);
        let plan = kschema(
            &project,
            &db,
            &[
                "plan",
                "--tenant",
                "all",
                "--against",
                path.to_str().unwrap(),
            ],
        );
        assert_eq!(plan.code, 2, "{}", plan.snapshot());
        assert_eq!(
            (
                plan.stdout.contains("- drop view marked_notes"),
                plan.stdout.contains(note)
            ),
            (sees_it, !sees_it),
            "{snapshot}\n{}",
            plan.stdout
        );
    }
}
