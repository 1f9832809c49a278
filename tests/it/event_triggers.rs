//! Event triggers as desired state: the database's, so declared in public's
//! files; created once the function they run exists, created again for a
//! new event, tag list or function, enabled and disabled in place,
//! dropped; after each apply the plan is empty and `pg_dump --schema-only`
//! equals that of the SQL run directly. In the tenant files they are
//! refused.

use crate::support::{assert_converges, inspect_into_new_project, kschema, project_of, TestDb};

const PUBLIC: &str = "CREATE TABLE ddl_log (at timestamptz DEFAULT now(), tag text);
-- Declared before its function, on purpose.
CREATE EVENT TRIGGER log_ddl ON ddl_command_end WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE')
    EXECUTE FUNCTION log_ddl();
CREATE FUNCTION log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.ddl_log (tag) VALUES (tg_tag); END $$;
comment  on event trigger log_ddl IS 'who changed what';
";

const TENANT: &str = "CREATE TABLE tasks (id int PRIMARY KEY);\n";

const TENANTS: &[&str] = &["t1", "t2"];

/// PUBLIC in an order PostgreSQL accepts when run directly, the event
/// trigger last (as kschema creates it).
fn in_order(public: &str) -> String {
    let start = public.find("-- Declared").unwrap();
    let end = public.find("CREATE FUNCTION").unwrap();
    let comment = public.find("comment  on").unwrap();
    format!(
        "{}{}{}{}",
        &public[..start],
        &public[end..comment],
        &public[start..end],
        &public[comment..]
    )
}

#[tokio::test]
async fn event_triggers_converge_and_change() {
    let project = project_of(PUBLIC, TENANT, TENANTS);
    let db = TestDb::new().await;
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(
        plan.stdout
            .contains("+ create event trigger log_ddl on ddl_command_end"),
        "{}",
        plan.stdout
    );
    assert_converges(&project, &db, (&in_order(PUBLIC), TENANT), TENANTS, &[]).await;
    // It fires for what was created after it: the tenants' tables.
    let client = db.client().await;
    let logged: i64 = client
        .query_one(
            "SELECT count(*) FROM public.ddl_log WHERE tag = 'CREATE TABLE'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(logged >= 2, "{logged}");

    // One another role owns (a hosting platform's) is listed, never
    // dropped.
    db.execute(
        "DO $$ BEGIN CREATE ROLE kschema_test_platform SUPERUSER; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
         CREATE SCHEMA platform;
         CREATE FUNCTION platform.watch() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;
         CREATE EVENT TRIGGER platform_watch ON sql_drop EXECUTE FUNCTION platform.watch();
         ALTER EVENT TRIGGER platform_watch OWNER TO kschema_test_platform;",
    )
    .await;
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
    assert!(
        plan.stdout
            .contains("1 event trigger (platform_watch (owned by kschema_test_platform))"),
        "{}",
        plan.stdout
    );
    db.execute("DROP EVENT TRIGGER platform_watch; DROP SCHEMA platform CASCADE")
        .await;

    // Disabled in place, as pg_dump writes it.
    let disabled = format!("{PUBLIC}ALTER EVENT TRIGGER log_ddl DISABLE;\n");
    project.write("schema/public/app.sql", &disabled);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert!(
        plan.stdout.contains("~ event trigger log_ddl: disable"),
        "{}",
        plan.stdout
    );
    assert_converges(
        &project,
        &db,
        (
            &format!("{}ALTER EVENT TRIGGER log_ddl DISABLE;\n", in_order(PUBLIC)),
            TENANT,
        ),
        TENANTS,
        &[],
    )
    .await;

    // Other tags: dropped and created again (still disabled).
    let retagged = disabled.replace(", 'ALTER TABLE'", "");
    project.write("schema/public/app.sql", &retagged);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    for expected in [
        "- drop event trigger log_ddl",
        "+ create event trigger log_ddl on ddl_command_end",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "{expected}\n{}",
            plan.stdout
        );
    }
    let apply = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());

    // inspect writes it back, disabled; its files plan empty.
    let (out, _) = inspect_into_new_project(&project, &db);
    let written = out.read("schema/public/event_triggers.sql");
    assert!(
        written.contains(
            "CREATE EVENT TRIGGER log_ddl ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION log_ddl();\nALTER EVENT TRIGGER log_ddl DISABLE;"
        ),
        "{written}"
    );
    assert!(
        out.read("schema/public/comments.sql")
            .contains("COMMENT ON EVENT TRIGGER log_ddl IS 'who changed what';"),
        "{}",
        out.read("schema/public/comments.sql")
    );
    let plan = kschema(&out, &db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());

    // Left out of the files: dropped, before its function.
    let without = PUBLIC[..PUBLIC.find("-- Declared").unwrap()].to_string();
    project.write("schema/public/app.sql", &without);
    let plan = kschema(&project, &db, &["plan", "--tenant", "all"]);
    let text = &plan.stdout;
    let trigger_at = text
        .find("- drop event trigger log_ddl")
        .unwrap_or_else(|| panic!("{text}"));
    let function_at = text
        .find("- drop function log_ddl()")
        .unwrap_or_else(|| panic!("{text}"));
    assert!(trigger_at < function_at, "{text}");
    assert_converges(&project, &db, (&without, TENANT), TENANTS, &[]).await;
}

#[tokio::test]
async fn an_event_trigger_in_the_tenant_files_is_refused() {
    let tenant = "CREATE FUNCTION noop() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;
CREATE EVENT TRIGGER noop ON ddl_command_start EXECUTE FUNCTION noop();
";
    let project = project_of("", tenant, TENANTS);
    let db = TestDb::new().await;
    let refused = kschema(&project, &db, &["plan", "--tenant", "all"]);
    assert_eq!(refused.code, 1, "{}", refused.snapshot());
    for expected in [
        "kschema::sql::event_trigger_scope",
        "fire for every schema",
        "app.sql:2",
    ] {
        assert!(
            refused.stderr.contains(expected),
            "{expected}\n{}",
            refused.stderr
        );
    }
}
