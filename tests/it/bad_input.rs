//! Bad input gets a diagnostic (file, line, caret, help), exit code 1, and
//! changes nothing anywhere.

use crate::support::{assert_cli_snapshot, kschema, kschema_with, Project, TestDb, TENANT_SCHEMAS};

/// Applies the shipped state, breaks the project with `spoil`, runs
/// `apply`, and checks the refusal left every schema as it was.
async fn refused(snapshot: &str, spoil: impl FnOnce(&Project), args: &[&str]) {
    let project = Project::shipped();
    let db = TestDb::new().await;
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    // Something for a half-applied change to show up in.
    project.edit(
        "schema/tenant/users.sql",
        "job_title VARCHAR(100),",
        "job_title VARCHAR(100),\n    nickname TEXT,",
    );
    spoil(&project);
    let before = everything(&db).await;
    let run = kschema(&project, &db, args);
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(
        run.stdout.is_empty(),
        "nothing is planned from bad input:\n{}",
        run.stdout
    );
    assert_cli_snapshot!(snapshot, run);
    assert_eq!(everything(&db).await, before, "the database changed");
}

async fn everything(db: &TestDb) -> String {
    let mut out = db.catalog("public").await;
    for schema in TENANT_SCHEMAS {
        out.push_str(&db.catalog(schema).await);
    }
    out.push_str(&format!("{:?}", db.schemas().await));
    out
}

#[tokio::test]
async fn sql_that_does_not_parse() {
    refused(
        "bad_sql_parse",
        |p| {
            p.edit(
                "schema/tenant/projects.sql",
                "description TEXT,",
                "description TEXT TEXT,",
            );
        },
        &["apply"],
    )
    .await;
}

/// A key's index parameters are valid PostgreSQL kschema does not manage
/// yet: said so at the clause, not reported as a syntax error.
#[tokio::test]
async fn key_index_parameters() {
    refused(
        "bad_sql_key_index_parameters",
        |p| {
            p.edit(
                "schema/tenant/projects.sql",
                "id UUID PRIMARY KEY DEFAULT gen_random_uuid(),",
                "id UUID PRIMARY KEY WITH (fillfactor = 70) DEFAULT gen_random_uuid(),",
            );
        },
        &["apply"],
    )
    .await;
}

/// An exclusion constraint's index parameters: said so at the clause (the
/// operators' `WITH` inside the list left alone), not a syntax error.
#[tokio::test]
async fn exclusion_index_parameters() {
    refused(
        "bad_sql_exclusion_index_parameters",
        |p| {
            p.write(
                "schema/public/bookings.sql",
                "CREATE TABLE bookings (\n    room int,\n    during tstzrange,\n    EXCLUDE USING gist (room WITH =, during WITH &&) WITH (fillfactor = 70)\n);\n",
            );
        },
        &["apply"],
    )
    .await;
}

#[tokio::test]
async fn unfinished_statement() {
    refused(
        "bad_sql_unfinished",
        |p| {
            p.write(
                "schema/public/zz_extra.sql",
                "CREATE TABLE extra (\n    id integer PRIMARY KEY,\n    name text\n",
            );
        },
        &["apply"],
    )
    .await;
}

#[tokio::test]
async fn unsupported_statement() {
    refused(
        "bad_sql_unsupported",
        |p| {
            p.write(
                "schema/public/views.sql",
                "-- Rules are not desired state.\nCREATE RULE keep_enterprises AS ON DELETE TO enterprises DO INSTEAD NOTHING;\n",
            );
        },
        &["apply"],
    )
    .await;
}

#[tokio::test]
async fn two_tables_with_the_same_name() {
    refused(
        "bad_sql_duplicate_table",
        |p| {
            p.write(
                "schema/tenant/users_again.sql",
                "CREATE TABLE users (\n    id uuid PRIMARY KEY\n);\n",
            );
        },
        &["apply"],
    )
    .await;
}

#[tokio::test]
async fn foreign_key_to_a_table_that_exists_nowhere() {
    refused(
        "bad_sql_unknown_table",
        |p| {
            p.edit(
                "schema/tenant/trial_shares.sql",
                "REFERENCES trials(id)",
                "REFERENCES trial(id)",
            );
        },
        &["apply"],
    )
    .await;
}

#[tokio::test]
async fn unknown_tenant() {
    refused(
        "bad_unknown_tenant",
        |_| {},
        &["apply", "--tenant", "abc123,abc124"],
    )
    .await;
}

#[tokio::test]
async fn malformed_tenants_toml() {
    refused(
        "bad_tenants_toml_syntax",
        |p| {
            p.write(
                "tenants.toml",
                "[[tenant]]\nid = \"abc123\"\n\n[[tenant]\nid = \"def456\"\n",
            );
        },
        &["apply"],
    )
    .await;
}

#[tokio::test]
async fn invalid_tenant_id() {
    refused(
        "bad_tenants_toml_id",
        |p| {
            p.write(
                "tenants.toml",
                "[[tenant]]\nid = \"abc123\"\n\n[[tenant]]\nid = \"Robert'); DROP TABLE users;--\"\n",
            );
        },
        &["apply"],
    )
    .await;
}

#[tokio::test]
async fn unreachable_database_names_it_without_the_password() {
    let project = Project::shipped();
    let run = kschema_with(
        &project,
        Some("postgresql://kschema:sup3rs3cret@127.0.0.1:1/app?connect_timeout=5"),
        &["plan"],
    );
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(!run.stdout.contains("sup3rs3cret") && !run.stderr.contains("sup3rs3cret"));
    assert_cli_snapshot!("bad_unreachable_database", run);
}

#[test]
fn tenant_all_with_ids_is_refused_not_guessed() {
    let project = Project::shipped();
    let run = kschema_with(&project, None, &["plan", "--tenant", "all,abc123"]);
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(
        run.stderr.contains("kschema::args::tenant"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("--tenant all cannot be combined"),
        "{}",
        run.stderr
    );
}
