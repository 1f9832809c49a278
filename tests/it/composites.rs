//! Composite types as desired state, shared and per tenant: created before
//! the functions and tables that use them (one built of another after it),
//! altered in place (attributes dropped, retyped, added at the end),
//! created again when that cannot say it, dropped, commented; after each
//! apply the plan is empty and `pg_dump --schema-only` equals that of the
//! SQL run directly.

use crate::support::{assert_converges, inspect_into_new_project, kschema, project_of, TestDb};

const PUBLIC: &str = "CREATE TYPE money_amount AS (amount numeric(12, 2), currency char(3));
CREATE FUNCTION zero_in(code char(3)) RETURNS money_amount LANGUAGE sql IMMUTABLE
    AS $$ SELECT ROW(0, code)::money_amount $$;
";

const TENANT: &str = "CREATE TABLE people (
    id int PRIMARY KEY,
    contact contact,
    old_homes residence[]
);
-- Declared before the type it is built of, on purpose.
CREATE TYPE contact AS (name text, home residence);
CREATE TYPE residence AS (street text, city text COLLATE \"C\");
CREATE TYPE pair AS (a int, b int);
COMMENT ON TYPE residence IS 'where someone lives';
";

/// TENANT in an order PostgreSQL accepts when run directly.
fn in_order(tenant: &str) -> String {
    let table_end = tenant.find(");\n").unwrap() + 3;
    let types = &tenant[table_end..];
    let (contact, rest) = types.split_at(types.find("CREATE TYPE residence").unwrap());
    format!("{rest}{contact}{}", &tenant[..table_end])
}

const TENANTS: &[&str] = &["t1", "t2"];

/// What a composite type created again needs allowed.
const RECREATES_AND_REWRITES: [&str; 2] = ["--allow-hazard", "recreates-object,rewrites-table"];

#[tokio::test]
async fn composite_types_converge_and_change() {
    let project = project_of(PUBLIC, TENANT, TENANTS);
    let db = TestDb::new().await;
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(
        plan.stdout
            .contains("+ create type residence (street text, city text)"),
        "{}",
        plan.stdout
    );
    assert_converges(&project, &db, (PUBLIC, &in_order(TENANT)), TENANTS, &[]).await;

    // In place: an attribute a column holds dropped (its values go: a
    // blocking hazard), one added at the end; an unused type's attribute
    // retyped.
    let altered = TENANT
        .replace(
            "(street text, city text COLLATE \"C\")",
            "(street text, zip varchar(10))",
        )
        .replace("(a int, b int)", "(a bigint, b int)");
    project.write("schema/tenant/app.sql", &altered);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    for expected in [
        "~ alter type residence: drop attribute city, add attribute zip character varying(10)",
        "deletes-data: drops attribute city of type residence",
        "~ alter type pair: attribute a to bigint",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "{expected}\n{}",
            plan.stdout
        );
    }
    let refused = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_eq!(refused.code, 1, "{}", refused.snapshot());
    assert_converges(
        &project,
        &db,
        (PUBLIC, &in_order(&altered)),
        TENANTS,
        &["--allow-hazard", "deletes-data"],
    )
    .await;

    // Reordered: ALTER TYPE cannot, so it is created again (blocking).
    let reordered = altered.replace("(a bigint, b int)", "(b int, a bigint)");
    project.write("schema/tenant/app.sql", &reordered);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    for expected in [
        "~ create type pair again (b integer, a bigint)",
        "recreates-object: drops type pair and creates it again",
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
        (PUBLIC, &in_order(&reordered)),
        TENANTS,
        &["--allow-hazard", "recreates-object"],
    )
    .await;

    // A retyped attribute of a type an array column uses: ALTER TYPE
    // refuses, so the type is created again — and the type holding it,
    // which a column uses, with it: their columns converted by name.
    db.execute(
        "INSERT INTO org_t1.people (id, contact, old_homes) VALUES (1, ROW('ann', ROW('main st', '12345')), ARRAY[ROW('elm st', '999')::org_t1.residence])",
    )
    .await;
    let retyped = reordered.replace("zip varchar(10)", "zip varchar(20)");
    project.write("schema/tenant/app.sql", &retyped);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    for expected in [
        "and built on it: create type contact again (name text, home residence)",
        "drops type contact and creates it again (it holds residence, created again)",
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
        (PUBLIC, &in_order(&retyped)),
        TENANTS,
        &RECREATES_AND_REWRITES,
    )
    .await;
    let kept: String = db
        .client()
        .await
        .query_one(
            "SELECT format('%s %s', contact, old_homes) FROM org_t1.people",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(kept, r#"(ann,"(""main st"",12345)") {"(\"elm st\",999)"}"#);

    // Domains over it — over it and over an array of it, and a column of
    // an array of the first — go along when its attributes are reordered:
    // their values convert by attribute name, as its own columns' do
    // (through their text they would be read by position), the domain's
    // check holding on the new form.
    let with_domains = format!(
        "{retyped}CREATE DOMAIN home AS residence CHECK ((VALUE).street <> '');
CREATE DOMAIN homes AS residence[];
CREATE TABLE moves (id int PRIMARY KEY, home home, homes homes, past home[]);
"
    );
    project.write("schema/tenant/app.sql", &with_domains);
    assert_converges(
        &project,
        &db,
        (PUBLIC, &in_order(&with_domains)),
        TENANTS,
        &[],
    )
    .await;
    db.execute(
        "INSERT INTO org_t1.moves VALUES
            (1, ROW('elm st', '999'), ARRAY[ROW('oak st', '1')::org_t1.residence], ARRAY[ROW('main st', '12')::org_t1.home, NULL]),
            (2, NULL, NULL, NULL)",
    )
    .await;
    let swapped = with_domains.replace(
        "(street text, zip varchar(20))",
        "(zip varchar(30), street text)",
    );
    project.write("schema/tenant/app.sql", &swapped);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    for expected in [
        "and built on it: create type contact again (name text, home residence); recreate domain home; recreate domain homes",
        "drops domain home and creates it again (built on residence, created again)",
        "rewrites moves to convert column home to the new home, attribute by attribute by name",
        "rewrites moves to convert column homes to the new homes, attribute by attribute by name",
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
        (PUBLIC, &in_order(&swapped)),
        TENANTS,
        &RECREATES_AND_REWRITES,
    )
    .await;
    assert_eq!(
        db.texts("SELECT format('%s|%s|%s', home, homes, past) FROM org_t1.moves ORDER BY id")
            .await,
        [
            r#"(999,"elm st")|{"(1,\"oak st\")"}|{"(12,\"main st\")",NULL}"#,
            "||"
        ]
    );
    // Back, without them.
    project.write("schema/tenant/app.sql", &retyped);
    assert_converges(
        &project,
        &db,
        (PUBLIC, &in_order(&retyped)),
        TENANTS,
        &[&RECREATES_AND_REWRITES[..], &["--allow-destructive"]].concat(),
    )
    .await;
    let reordered = retyped;

    // Left out of the files: dropped. inspect writes the rest back, and
    // its files plan empty.
    let fewer = reordered.replace("CREATE TYPE pair AS (b int, a bigint);\n", "");
    project.write("schema/tenant/app.sql", &fewer);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(plan.stdout.contains("- drop type pair"), "{}", plan.stdout);
    assert_converges(&project, &db, (PUBLIC, &in_order(&fewer)), TENANTS, &[]).await;
    let (out, _) = inspect_into_new_project(&project, &db);
    let types = out.read("schema/tenant/types.sql");
    assert!(
        types.contains("CREATE TYPE residence AS (street text, zip character varying(20));"),
        "{types}"
    );
    assert!(
        out.read("schema/public/types.sql")
            .contains("CREATE TYPE money_amount AS (amount numeric(12,2), currency character(3));"),
        "{}",
        out.read("schema/public/types.sql")
    );
    assert!(
        out.read("schema/tenant/comments.sql")
            .contains("COMMENT ON TYPE residence IS 'where someone lives';"),
        "{}",
        out.read("schema/tenant/comments.sql")
    );
    let plan = kschema(&out, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
}

#[tokio::test]
async fn a_composite_type_the_server_rejects_is_reported_at_its_line() {
    let tenant = "CREATE TABLE t (id int);\nCREATE TYPE broken AS (a no_such_type);\n";
    let project = project_of("", tenant, TENANTS);
    let db = TestDb::new().await;
    let refused = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(refused.code, 1, "{}", refused.snapshot());
    for expected in ["type \"no_such_type\" does not exist", "app.sql:2"] {
        assert!(
            refused.stderr.contains(expected),
            "{expected}\n{}",
            refused.stderr
        );
    }
}

/// Comments on a composite type's attributes are desired state: set,
/// changed, removed, gone with a dropped attribute, read live (one
/// tenant's drift is that tenant's) — they were neither compared nor
/// listed.
#[tokio::test]
async fn comments_on_attributes_converge() {
    const TENANTS: &[&str] = &["a", "b"];
    let v1 = "CREATE TYPE pair AS (x int, y int, z int);
COMMENT ON COLUMN pair.x IS 'across';
COMMENT ON COLUMN pair.z IS 'depth';
";
    let v2 = "CREATE TYPE pair AS (x int, y int);
COMMENT ON COLUMN pair.x IS 'horizontal';
COMMENT ON COLUMN pair.y IS 'vertical';
";
    let project = project_of(v1, v1, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, (v1, v1), TENANTS, &[]).await;

    project
        .write("schema/public/app.sql", v2)
        .write("schema/tenant/app.sql", v2);
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert!(
        plan.stdout.contains("attribute pair.x") && plan.stdout.contains("attribute pair.y"),
        "{}",
        plan.stdout
    );
    assert_converges(&project, &db, (v2, v2), TENANTS, &["--allow-destructive"]).await;

    db.execute("COMMENT ON COLUMN org_b.pair.y IS 'changed by hand'")
        .await;
    let drift = kschema(&project, &db, &["plan"]);
    assert_eq!(drift.code, 2, "{}", drift.snapshot());
    assert!(
        drift.stdout.contains("tenant b (org_b): 1 change"),
        "{}",
        drift.stdout
    );
    assert_converges(&project, &db, (v2, v2), TENANTS, &[]).await;
}

/// A composite type whose attributes are reordered and retyped while a
/// column uses it: created again under its name, the column rebuilt from
/// the old values attribute by attribute (a NULL value stays NULL, one of
/// NULL attributes stays that), the view reading it taken along.
#[tokio::test]
async fn a_composite_created_again_converts_its_columns_by_attribute() {
    let tenant = "CREATE TYPE pair AS (a int, b text);
CREATE TABLE items (id int PRIMARY KEY, p pair);
CREATE VIEW firsts AS SELECT id, (p).a AS a FROM items;
";
    let project = project_of("", tenant, &["t1", "t2"]);
    let db = TestDb::new().await;
    let apply = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    db.execute(
        "INSERT INTO org_t1.items VALUES (1, ROW(5, 'five')), (2, NULL), (3, ROW(NULL, NULL))",
    )
    .await;

    let reordered = tenant.replace("(a int, b text)", "(b text, a bigint, c int)");
    project.write("schema/tenant/app.sql", &reordered);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(
        plan.stdout
            .contains("rewrites items to convert column p to the new pair, attribute by attribute"),
        "{}",
        plan.stdout
    );
    let allow = ["--allow-hazard", "recreates-object,rewrites-table"];
    assert_converges(&project, &db, ("", &reordered), &["t1", "t2"], &allow).await;
    let rows = db
        .client()
        .await
        .query(
            "SELECT coalesce(p::text, 'null') FROM org_t1.items ORDER BY id",
            &[],
        )
        .await
        .unwrap();
    let values: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(values, ["(five,5,)", "null", "(,,)"]);
}

#[tokio::test]
async fn a_composite_created_again_converts_its_array_columns_and_the_types_holding_it() {
    // An array column of the type (NULL elements, two dimensions), and
    // another type with an attribute of it that no column uses.
    let tenant = "CREATE TYPE pair AS (a int, b text);
CREATE TYPE holder AS (p pair, ps pair[]);
CREATE TABLE items (id int PRIMARY KEY, ps pair[], grid pair[]);
";
    let project = project_of("", tenant, &["t1"]);
    let db = TestDb::new().await;
    let apply = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    db.execute(
        "INSERT INTO org_t1.items VALUES
           (1, ARRAY[ROW(5, 'five')::org_t1.pair, NULL, ROW(NULL, NULL)::org_t1.pair],
               ARRAY[[ROW(1, 'a')::org_t1.pair, ROW(2, 'b')::org_t1.pair],
                     [ROW(3, 'c')::org_t1.pair, NULL]]),
           (2, NULL, '{}')",
    )
    .await;

    let reordered = tenant.replace("(a int, b text)", "(b text, a bigint, c int)");
    project.write("schema/tenant/app.sql", &reordered);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(
        plan.stdout.contains(
            "rewrites items to convert column ps to the new pair, attribute by attribute by name"
        ),
        "{}",
        plan.stdout
    );
    let allow = ["--allow-hazard", "recreates-object,rewrites-table"];
    assert_converges(&project, &db, ("", &reordered), &["t1"], &allow).await;
    let rows = db
        .client()
        .await
        .query(
            "SELECT coalesce(ps::text, 'null'), grid::text FROM org_t1.items ORDER BY id",
            &[],
        )
        .await
        .unwrap();
    let values: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        values,
        [
            (
                r#"{"(five,5,)",NULL,"(,,)"}"#.to_string(),
                r#"{{"(a,1,)","(b,2,)"},{"(c,3,)",NULL}}"#.to_string()
            ),
            ("null".to_string(), "{}".to_string())
        ]
    );
}

#[tokio::test]
async fn a_shared_composite_created_again_converts_the_tenants_columns() {
    let public = "CREATE TYPE pair AS (a int, b text);
CREATE DOMAIN named_pair AS pair CHECK ((VALUE).b <> '');
";
    let tenant = "CREATE TABLE items (id int PRIMARY KEY, p pair, ps pair[], np named_pair);
CREATE VIEW firsts AS SELECT id, (p).a AS a FROM items;
";
    let project = project_of(public, tenant, &["t1", "t2"]);
    let db = TestDb::new().await;
    let apply = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    db.execute(
        "INSERT INTO org_t1.items VALUES (1, ROW(5, 'five'), ARRAY[ROW(6, 'six')::pair], ROW(7, 'seven'))",
    )
    .await;

    let reordered = public.replace("(a int, b text)", "(b text, a int)");
    project.write("schema/public/app.sql", &reordered);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    // The shared domain over it goes along, the tenants' columns of it
    // converted by attribute name too.
    for expected in [
        "rewrites 2 table(s) of 2 other schema(s) to convert their columns to the new pair, attribute by attribute by name",
        "rewrites 2 table(s) of 2 other schema(s) to convert their columns to the new named_pair, attribute by attribute by name",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "{expected}\n{}",
            plan.stdout
        );
    }
    let allow = ["--allow-hazard", "recreates-object,rewrites-table"];
    assert_converges(&project, &db, (&reordered, tenant), &["t1", "t2"], &allow).await;
    assert_eq!(
        db.texts("SELECT format('%s %s %s', p, ps, np) FROM org_t1.items")
            .await,
        [r#"(five,5) {"(six,6)"} (seven,7)"#]
    );

    // A tenant function on the shared type goes along: dropped and
    // created again on the new type in public's transaction.
    let with_function = format!(
        "{tenant}CREATE FUNCTION first(x pair) RETURNS int LANGUAGE sql AS $$ SELECT (x).a $$;\n"
    );
    project.write("schema/tenant/app.sql", &with_function);
    let apply = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    project.write("schema/public/app.sql", public);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(
        plan.stdout
            .contains("with 2 functions of other schemas on it dropped and created again: org_t1.first, org_t2.first"),
        "{}",
        plan.stdout
    );
    assert_converges(
        &project,
        &db,
        (public, &with_function),
        &["t1", "t2"],
        &allow,
    )
    .await;
    assert_eq!(
        db.texts("SELECT format('%s %s', org_t1.first(p), p) FROM org_t1.items")
            .await,
        ["5 (5,five)"]
    );
}

/// A shared composite type reordered while tenant types are built on it —
/// a domain over it with a check, a composite type holding it that a
/// column uses — and a tenant function takes that domain: public's
/// transaction creates them again on the new type as they are live, the
/// domain's column rebuilt by attribute name, the function after them.
#[tokio::test]
async fn a_shared_composite_created_again_takes_the_tenants_types_built_on_it_along() {
    let public = "CREATE TYPE pair AS (a int, b text);\n";
    let tenant = "CREATE DOMAIN named_pair AS pair CHECK ((VALUE).b <> '');
CREATE TYPE labelled AS (label text, p pair);
CREATE TABLE items (id int PRIMARY KEY, np named_pair, l labelled, nps named_pair[]);
CREATE FUNCTION name_of(x named_pair) RETURNS text LANGUAGE sql AS $$ SELECT (x).b $$;
";
    let project = project_of(public, tenant, &["t1", "t2"]);
    let db = TestDb::new().await;
    assert_converges(&project, &db, (public, tenant), &["t1", "t2"], &[]).await;
    db.execute(
        "INSERT INTO org_t1.items VALUES (1, ROW(7, 'seven'), ROW('x', ROW(8, 'eight')), ARRAY[ROW(9, 'nine')::org_t1.named_pair])",
    )
    .await;
    let reordered = public.replace("(a int, b text)", "(b text, a int)");
    project.write("schema/public/app.sql", &reordered);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(
        plan.stdout.contains(
            "with 4 types of other schemas built on it created again: org_t1.labelled, org_t1.named_pair, org_t2.labelled, org_t2.named_pair and 2 functions of other schemas on it dropped and created again: org_t1.name_of, org_t2.name_of"
        ),
        "{}",
        plan.stdout
    );
    let allow = ["--allow-hazard", "recreates-object,rewrites-table"];
    assert_converges(&project, &db, (&reordered, tenant), &["t1", "t2"], &allow).await;
    assert_eq!(
        db.texts("SELECT format('%s %s %s %s', np, l, nps, org_t1.name_of(np)) FROM org_t1.items")
            .await,
        [r#"(seven,7) (x,"(eight,8)") {"(nine,9)"} seven"#]
    );
}

/// A composite type holding an enum created again, a column of it, the
/// files dropping the type (the column given another type) at the same
/// time: the type goes along as it is, its column converted, then the
/// column changes type and the type is dropped.
#[tokio::test]
async fn a_composite_type_dropped_with_the_enum_it_holds_created_again_converges() {
    let tenant = "CREATE TYPE state AS ENUM ('open', 'stale', 'done');
CREATE TYPE contact AS (name text, s state);
CREATE TABLE people (id int PRIMARY KEY, who contact);
";
    let project = project_of("", tenant, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, ("", tenant), TENANTS, &[]).await;
    db.execute("INSERT INTO org_t1.people VALUES (1, ROW('ann', 'open'))")
        .await;
    let changed = "CREATE TYPE state AS ENUM ('open', 'done');
CREATE TABLE people (id int PRIMARY KEY, who text); -- kschema:using (who::text)
";
    project.write("schema/tenant/app.sql", changed);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    for expected in [
        "and built on it: create type contact again",
        "- drop type contact",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "{expected}\n{}",
            plan.snapshot()
        );
    }
    let allow = [
        &RECREATES_AND_REWRITES[..],
        &["--allow-hazard", "may-lose-data"],
    ]
    .concat();
    assert_converges(&project, &db, ("", changed), TENANTS, &allow).await;
    assert_eq!(
        db.texts("SELECT who FROM org_t1.people").await,
        ["(ann,open)"]
    );
}

/// A composite type holding two enums both created again: the second
/// enum's recreation goes inside the first's, and the type inside the
/// second's — made once both new enums exist, off both old ones before
/// either goes; its column keeps its values.
#[tokio::test]
async fn a_composite_type_holding_two_enums_created_again_converges() {
    let tenant = "CREATE TYPE size AS ENUM ('s', 'm', 'xl');
CREATE TYPE color AS ENUM ('red', 'teal', 'blue');
CREATE TYPE variant AS (size size, color color);
CREATE TABLE items (id int PRIMARY KEY, v variant);
";
    let project = project_of("", tenant, TENANTS);
    let db = TestDb::new().await;
    assert_converges(&project, &db, ("", tenant), TENANTS, &[]).await;
    db.execute("INSERT INTO org_t1.items VALUES (1, ROW('m', 'blue'))")
        .await;
    let changed = tenant
        .replace("'s', 'm', 'xl'", "'s', 'm'")
        .replace("'red', 'teal', 'blue'", "'red', 'blue'");
    project.write("schema/tenant/app.sql", &changed);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    for expected in [
        "converting 0 column(s), and with it: create enum ",
        "converting 0 column(s) [and built on it: create type variant again",
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
        ("", &changed),
        TENANTS,
        &RECREATES_AND_REWRITES,
    )
    .await;
    assert_eq!(
        db.texts("SELECT v::text FROM org_t1.items").await,
        ["(m,blue)"]
    );
}
