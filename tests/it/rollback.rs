//! Rolling back: `plan/apply --desired-rev`, `kschema rollback` from the
//! history table, and `kschema verify` across revisions of a real git
//! repository.

use std::process::Command;

use crate::support::{kschema, Project, TestDb};

/// Runs git in the project folder, failing the test when git does.
fn git(project: &Project, args: &[&str]) {
    let output = Command::new("git")
        .args([
            "-c",
            "user.name=kschema tests",
            "-c",
            "user.email=tests@kschema",
        ])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(project.path())
        .output()
        .expect("run git");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn commit(project: &Project, message: &str) {
    git(project, &["add", "-A"]);
    git(project, &["commit", "-q", "-m", message]);
}

const TENANTS: &str = "[[tenant]]\nid = \"a1\"\n\n[[tenant]]\nid = \"b2\"\n";

const PLANS_V1: &str = "CREATE TABLE plans (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
";

const ITEMS_V1: &str = "CREATE TABLE items (
    id SERIAL PRIMARY KEY,
    title TEXT NOT NULL,
    quantity INTEGER NOT NULL DEFAULT 1
);
";

/// Commit 2: a new table with a foreign key (to a tenant table and to a
/// public one), a new column and an index.
const ITEMS_V2: &str = "CREATE TABLE items (
    id SERIAL PRIMARY KEY,
    title TEXT NOT NULL,
    quantity INTEGER NOT NULL DEFAULT 1,
    note TEXT
);
CREATE INDEX idx_items_title ON items (title);
";

const ORDERS_V2: &str = "CREATE TABLE orders (
    id SERIAL PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    plan_id INTEGER REFERENCES plans(id),
    placed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
";

/// Commit 3: a type change and a default change.
const ITEMS_V3: &str = "CREATE TABLE items (
    id SERIAL PRIMARY KEY,
    title TEXT NOT NULL,
    quantity BIGINT NOT NULL DEFAULT 10,
    note TEXT
);
CREATE INDEX idx_items_title ON items (title);
";

/// A git repository with the three commits; the working tree is the last.
fn repository() -> Project {
    let project = Project::empty();
    git(&project, &["init", "-q"]);
    project
        .write("tenants.toml", TENANTS)
        .write("schema/public/plans.sql", PLANS_V1)
        .write("schema/tenant/items.sql", ITEMS_V1);
    commit(&project, "base");
    project
        .write("schema/tenant/items.sql", ITEMS_V2)
        .write("schema/tenant/orders.sql", ORDERS_V2);
    commit(&project, "add orders, a column and an index");
    project
}

fn assert_verified(stdout: &str, stderr: &str) {
    let passed = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with('✓'))
        .count();
    assert_eq!(passed, 6, "every phase passes:\n{stdout}{stderr}");
    assert!(stdout.contains("Verified:"), "{stdout}");
}

#[tokio::test]
async fn verify_proves_the_round_trip_across_two_revisions() {
    let project = repository();
    let db = TestDb::new().await;

    // HEAD adds a table, a column, an index and foreign keys; verify's
    // default previous state is HEAD's parent.
    let added = kschema(&project, &db, &["verify"]);
    assert_eq!(added.code, 0, "{}", added.snapshot());
    assert_verified(&added.stdout, &added.stderr);
    assert!(added.stdout.contains("from HEAD~1 ("), "{}", added.stdout);

    // The next commit changes a type and a default.
    project.write("schema/tenant/items.sql", ITEMS_V3);
    commit(&project, "widen quantity, new default");
    let changed = kschema(&project, &db, &["verify"]);
    assert_eq!(changed.code, 0, "{}", changed.snapshot());
    assert_verified(&changed.stdout, &changed.stderr);

    // From further back, and from an empty database.
    let two_back = kschema(&project, &db, &["verify", "--from-rev", "HEAD~2"]);
    assert_eq!(two_back.code, 0, "{}", two_back.snapshot());
    assert_verified(&two_back.stdout, &two_back.stderr);
    let from_empty = kschema(&project, &db, &["verify", "--from-rev", "empty"]);
    assert_eq!(from_empty.code, 0, "{}", from_empty.snapshot());
    assert!(from_empty.stdout.contains("from an empty database"));

    // verify works on its own scratch database: the test database is
    // untouched, and the scratch one is gone.
    assert_eq!(db.schemas().await, ["public"]);
    assert_scratch_dropped(&db, &from_empty.stdout).await;
}

/// The scratch database verify names in its first line is gone (other
/// tests' verify runs share the cluster, so only this one is looked for).
async fn assert_scratch_dropped(db: &TestDb, stdout: &str) {
    let start = stdout
        .find("kschema_verify_")
        .expect("the scratch database is named");
    let name: String = stdout[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let left: i64 = db
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "{name} is left behind");
}

/// A phase that fails shows, under its line, what the command said — its
/// diagnostic with the file and line — and verify fails; the scratch
/// database is dropped all the same.
#[tokio::test]
async fn verify_shows_the_diagnostic_of_the_phase_that_failed() {
    let project = repository();
    let db = TestDb::new().await;
    project.write(
        "schema/tenant/report.sql",
        "CREATE VIEW item_report AS\nSELECT no_such_column FROM items;\n",
    );
    let run = kschema(&project, &db, &["verify"]);
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(
        run.stdout.contains("✓ build the previous desired state"),
        "{}",
        run.snapshot()
    );
    assert!(
        run.stdout.contains("✗ apply the current desired state"),
        "{}",
        run.snapshot()
    );
    assert!(run.stdout.contains("no_such_column"), "{}", run.snapshot());
    assert!(run.stdout.contains("report.sql:2"), "{}", run.snapshot());
    assert!(
        run.stderr
            .contains("verify failed: apply the current desired state"),
        "{}",
        run.snapshot()
    );
    assert_scratch_dropped(&db, &run.stdout).await;
}

#[tokio::test]
async fn verify_reports_a_revision_that_does_not_exist() {
    let project = repository();
    let db = TestDb::new().await;
    let run = kschema(&project, &db, &["verify", "--from-rev", "no-such-branch"]);
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(run.stderr.contains("no-such-branch"), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[tokio::test]
async fn desired_rev_plans_and_applies_an_earlier_state() {
    let project = repository();
    let db = TestDb::new().await;
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    db.execute("INSERT INTO org_a1.items (title, note) VALUES ('x', 'kept?')")
        .await;

    // Back to the first commit: drops orders and the note column, which
    // holds data — the same hazards as any plan.
    let plan = kschema(&project, &db, &["plan", "--desired-rev", "HEAD~1"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert!(plan.stdout.contains("drop table orders"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("drop column items.note"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("deletes-data"), "{}", plan.stdout);

    let refused = kschema(&project, &db, &["apply", "--desired-rev", "HEAD~1"]);
    assert_eq!(refused.code, 1, "{}", refused.snapshot());
    assert!(
        db.catalog("org_a1").await.contains("orders"),
        "a refused apply changes nothing"
    );

    let applied = kschema(
        &project,
        &db,
        &["apply", "--desired-rev", "HEAD~1", "--allow-destructive"],
    );
    assert_eq!(applied.code, 0, "{}", applied.snapshot());
    let again = kschema(&project, &db, &["plan", "--desired-rev", "HEAD~1"]);
    assert_eq!(again.code, 0, "{}", again.snapshot());

    // Forward again, from the working tree.
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    assert_eq!(kschema(&project, &db, &["plan"]).code, 0);
}

#[tokio::test]
async fn desired_rev_outside_a_repository_is_a_clear_error() {
    let project = Project::empty();
    project.write("tenants.toml", TENANTS);
    let db = TestDb::new().await;
    let run = kschema(&project, &db, &["plan", "--desired-rev", "HEAD~1"]);
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(
        run.stderr.contains("not in a git repository"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn rollback_of_an_added_column_with_data_needs_the_allow() {
    let project = Project::empty();
    project
        .write("tenants.toml", TENANTS)
        .write("schema/public/plans.sql", PLANS_V1)
        .write("schema/tenant/items.sql", ITEMS_V1);
    let db = TestDb::new().await;

    let nothing = kschema(&project, &db, &["rollback"]);
    assert_eq!(nothing.code, 1, "{}", nothing.snapshot());
    assert!(
        nothing.stderr.contains("nothing to roll back"),
        "{}",
        nothing.stderr
    );
    let wrong = kschema(&project, &db, &["rollback", "--desired-rev", "HEAD"]);
    assert_eq!(wrong.code, 1, "{}", wrong.snapshot());
    assert!(
        wrong
            .stderr
            .contains("rollback does not take --desired-rev"),
        "{}",
        wrong.stderr
    );

    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    let before = db.catalog("org_a1").await;
    project.write("schema/tenant/items.sql", ITEMS_V2);
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    db.execute("INSERT INTO org_b2.items (title, note) VALUES ('x', 'precious')")
        .await;

    let blocked = kschema(&project, &db, &["rollback"]);
    assert_eq!(blocked.code, 1, "{}", blocked.snapshot());
    assert!(
        blocked.stdout.contains("drop column items.note"),
        "{}",
        blocked.stdout
    );
    assert!(
        blocked.stderr.contains("deletes-data"),
        "{}",
        blocked.stderr
    );
    assert!(
        db.catalog("org_b2").await.contains("note"),
        "nothing changed"
    );

    // Like apply, a rollback asks first: with nobody to ask, nothing runs.
    let unasked = crate::support::run(&mut crate::support::command_as_typed(
        &project,
        Some(&db.url()),
        &["rollback", "--allow-hazard", "deletes-data"],
    ));
    assert_eq!(unasked.code, 1, "{}", unasked.snapshot());
    assert!(
        unasked.stderr.contains("kschema::apply::not_approved"),
        "{}",
        unasked.snapshot()
    );
    assert!(
        db.catalog("org_b2").await.contains("note"),
        "nothing changed"
    );

    let rolled_back = kschema(
        &project,
        &db,
        &["rollback", "--allow-hazard", "deletes-data"],
    );
    assert_eq!(rolled_back.code, 0, "{}", rolled_back.snapshot());
    assert_eq!(db.catalog("org_a1").await, before);
    assert_eq!(db.catalog("org_b2").await, before);
    // public was not part of the undone run: its table stays.
    assert!(db.catalog("public").await.contains("plans"));

    // The rollback is itself a recorded run: the files (still the newer
    // state) now differ from the database again.
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    project.write("schema/tenant/items.sql", ITEMS_V1);
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
}
