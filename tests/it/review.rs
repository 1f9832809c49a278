//! Plans people review: the four output formats, saved plans, snapshots,
//! offline plans, diff and check; and lock timeouts at apply.

use std::time::Duration;

use crate::support::{assert_cli_snapshot, kschema, kschema_with, Project, Run, TestDb};

/// The shipped schema converged, then drift that makes three tenant groups
/// (two tenants missing an index, one with an extra column, the rest up to
/// date) and a change to public.
async fn drifted_fleet() -> (Project, TestDb) {
    let project = Project::shipped();
    let registry = project.read("tenants.toml");
    project.write(
        "tenants.toml",
        &format!("{registry}\n[[tenant]]\nid = \"ghi000\"\n\n[[tenant]]\nid = \"jkl111\"\n"),
    );
    let db = TestDb::new().await;
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    db.execute(
        "DROP INDEX org_abc123.idx_users_org_id;
         DROP INDEX org_def456.idx_users_org_id;
         ALTER TABLE org_xyz789.users ADD COLUMN nickname text;
         ALTER TABLE public.enterprises ALTER COLUMN region TYPE varchar(50);",
    )
    .await;
    (project, db)
}

/// JSON output with the parts that vary per run (database, version) fixed.
fn scrub_json(run: &Run) -> String {
    let mut value: serde_json::Value = serde_json::from_str(&run.stdout).expect("valid JSON");
    value["database"] = "<test database>".into();
    value["kschema_version"] = "<version>".into();
    serde_json::to_string_pretty(&value).unwrap()
}

#[tokio::test]
async fn all_four_formats_show_groups_and_hazards() {
    let (project, db) = drifted_fleet().await;
    let text = kschema(&project, &db, &["plan"]);
    assert_eq!(text.code, 2);
    assert_cli_snapshot!("format_text", text);
    let sql = kschema(&project, &db, &["plan", "--format", "sql"]);
    assert_cli_snapshot!("format_sql", sql);
    let json = kschema(&project, &db, &["plan", "--format", "json"]);
    assert_eq!(json.code, 2);
    let document = scrub_json(&json);
    assert!(document.contains("\"format_version\": 1"));
    insta::assert_snapshot!("format_json", document);
    let markdown = kschema(&project, &db, &["plan", "--format", "markdown"]);
    assert!(markdown.stdout.contains("```diff"), "{}", markdown.stdout);
    assert!(markdown.stdout.contains("<details>"));
    assert_cli_snapshot!("format_markdown", markdown);
}

#[tokio::test]
async fn saved_plan_applies_exactly_and_refuses_changed_targets() {
    let (project, db) = drifted_fleet().await;
    let plan_file = project.path().join("plan.json");
    let plan = kschema(
        &project,
        &db,
        &["plan", "--out", plan_file.to_str().unwrap()],
    );
    assert_eq!(plan.code, 2, "{}", plan.snapshot());

    // Someone changes one tenant after the review.
    db.execute("CREATE INDEX sneaky ON org_def456.projects (name)")
        .await;
    let apply = kschema(
        &project,
        &db,
        &["apply", plan_file.to_str().unwrap(), "--allow-destructive"],
    );
    assert_eq!(apply.code, 1, "{}", apply.snapshot());
    assert_cli_snapshot!("saved_plan_refused_target", apply);

    // The unchanged targets got exactly the reviewed statements.
    let after = kschema(&project, &db, &["plan"]);
    assert!(
        after.stdout.contains("tenant def456 (org_def456)"),
        "{}",
        after.stdout
    );
    assert!(!after.stdout.contains("tenant abc123"), "{}", after.stdout);
    assert!(!after.stdout.contains("org_xyz789): "), "{}", after.stdout);
}

#[tokio::test]
async fn saved_plan_without_changes_applies_everything() {
    let (project, db) = drifted_fleet().await;
    let plan_file = project.path().join("plan.json");
    assert_eq!(
        kschema(
            &project,
            &db,
            &["plan", "--out", plan_file.to_str().unwrap()]
        )
        .code,
        2
    );
    let apply = kschema(
        &project,
        &db,
        &["apply", plan_file.to_str().unwrap(), "--allow-destructive"],
    );
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    assert_eq!(kschema(&project, &db, &["plan"]).code, 0);
}

#[tokio::test]
async fn offline_plan_from_a_snapshot_equals_the_live_plan() {
    let (project, db) = drifted_fleet().await;
    let snapshot = project.path().join("snapshots/prod.json");
    let taken = kschema(
        &project,
        &db,
        &["snapshot", "--out", snapshot.to_str().unwrap()],
    );
    assert_eq!(taken.code, 0, "{}", taken.snapshot());
    // Deterministic: taking it again gives the same bytes.
    let first = std::fs::read_to_string(&snapshot).unwrap();
    assert_eq!(
        kschema(
            &project,
            &db,
            &["snapshot", "--out", snapshot.to_str().unwrap()]
        )
        .code,
        0
    );
    assert_eq!(std::fs::read_to_string(&snapshot).unwrap(), first);

    let live = kschema(&project, &db, &["plan"]);
    // No connection to the target; the desired state is built on a dev
    // server (the test cluster).
    let offline = kschema_with(
        &project,
        None,
        &[
            "plan",
            "--against",
            snapshot.to_str().unwrap(),
            "--dev-url",
            &db.url(),
        ],
    );
    assert_eq!(offline.code, live.code);
    // The same plan; only the MongoDB line says why it was skipped.
    let body = |run: &Run| {
        let rest = run
            .stdout
            .split_once("\n\n")
            .map(|(_, rest)| rest.to_string())
            .unwrap();
        rest.lines()
            .filter(|l| !l.starts_with("MongoDB: skipped"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(body(&offline), body(&live));
    assert!(
        offline.stdout.starts_with("Database: snapshot "),
        "{}",
        offline.stdout
    );
}

#[tokio::test]
async fn check_reports_drift_grouped() {
    let (project, db) = drifted_fleet().await;
    db.execute("CREATE SCHEMA org_forgotten").await;
    let check = kschema(&project, &db, &["check"]);
    assert_eq!(check.code, 2, "{}", check.snapshot());
    assert_cli_snapshot!("check_drift", check);
    assert_eq!(
        kschema(&project, &db, &["apply", "--allow-destructive"]).code,
        0
    );
    let clean = kschema(&project, &db, &["check"]);
    assert_eq!(clean.code, 0, "{}", clean.snapshot());
}

#[tokio::test]
async fn diff_compares_folder_snapshot_and_database() {
    let (project, db) = drifted_fleet().await;
    let snapshot = project.path().join("snap.json");
    assert_eq!(
        kschema(
            &project,
            &db,
            &["snapshot", "--out", snapshot.to_str().unwrap()]
        )
        .code,
        0
    );
    let folder = project.path().to_str().unwrap().to_string();
    // Snapshot → project: the changes that converge the snapshot's state.
    let run = kschema_with(
        &project,
        None,
        &[
            "diff",
            snapshot.to_str().unwrap(),
            &folder,
            "--dev-url",
            &db.url(),
        ],
    );
    assert_eq!(run.code, 2, "{}", run.snapshot());
    assert!(
        run.stdout.contains("create index idx_users_org_id"),
        "{}",
        run.stdout
    );
    // Database → snapshot of itself: the same.
    let same = kschema_with(
        &project,
        None,
        &["diff", &db.url(), snapshot.to_str().unwrap()],
    );
    assert_eq!(same.code, 0, "{}", same.snapshot());
    // Not a folder, snapshot or URL.
    let bad = kschema_with(&project, None, &["diff", "nowhere", &folder]);
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr
            .contains("not a project folder, a snapshot file or a database URL"),
        "{}",
        bad.stderr
    );
}

/// Another session holds a lock on one tenant's table: apply retries with
/// backoff, then that tenant fails cleanly (rolled back, the holder named)
/// while the other tenants converge; once the lock is gone a retry of only
/// that tenant converges.
#[tokio::test]
async fn lock_timeout_is_retried_then_fails_cleanly() {
    let (project, db) = drifted_fleet().await;
    assert_eq!(
        kschema(&project, &db, &["apply", "--allow-destructive"]).code,
        0
    );
    project.edit(
        "schema/tenant/users.sql",
        "job_title VARCHAR(100),",
        "job_title VARCHAR(100),\n    nickname TEXT,",
    );

    let holder = db.client().await;
    holder
        .batch_execute("BEGIN; LOCK TABLE org_def456.users IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let run = kschema(
        &project,
        &db,
        &["apply", "--lock-timeout", "0.2", "--lock-attempts", "3"],
    );
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(
        run.stdout
            .contains("could not get a lock within 200ms in 3 attempts"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("sessions that may hold it: pid"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("rolled back, nothing changed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("kschema apply --tenant def456"),
        "{}",
        run.stderr
    );
    holder.batch_execute("ROLLBACK").await.unwrap();
    let still = kschema(&project, &db, &["plan"]);
    assert!(
        still
            .stdout
            .contains("tenant def456 (org_def456): 1 change"),
        "{}",
        still.stdout
    );
    assert!(
        still
            .stdout
            .contains("2 tenants (abc123, xyz789): up to date")
            || still.stdout.contains("up to date"),
        "{}",
        still.stdout
    );

    // A lock released while apply is retrying: the retry succeeds.
    holder
        .batch_execute("BEGIN; LOCK TABLE org_def456.users IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(700)).await;
        holder.batch_execute("ROLLBACK").await.unwrap();
    });
    let args = [
        "apply",
        "--yes",
        "--tenant",
        "def456",
        "--lock-timeout",
        "0.3",
        "--lock-attempts",
        "10",
    ];
    let retried = tokio::task::spawn_blocking({
        let url = db.url();
        let path = project.path().to_path_buf();
        move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_kschema"))
                .args(args)
                .arg("--project")
                .arg(path)
                .arg("--database-url")
                .arg(url)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    release.await.unwrap();
    assert!(
        retried.status.success(),
        "{}",
        String::from_utf8_lossy(&retried.stdout)
    );
    assert_eq!(kschema(&project, &db, &["plan"]).code, 0);
}

/// A drifted fleet of 100 tenants in all four formats, kept as snapshots so
/// a refactor of the planner or the renderers shows every byte it changes.
#[tokio::test]
async fn a_drifted_hundred_tenant_fleet_in_all_four_formats() {
    let project = Project::shipped();
    let tenants: String = (0..100)
        .map(|i| format!("[[tenant]]\nid = \"t{i:03}\"\n\n"))
        .collect();
    project.write("tenants.toml", &tenants);
    let db = TestDb::new().await;
    let apply = kschema(&project, &db, &["apply", "--tenant", "all"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    db.execute(
        "DROP INDEX org_t001.idx_users_org_id;
         DROP INDEX org_t002.idx_users_org_id;
         ALTER TABLE org_t010.users ADD COLUMN nickname text;
         ALTER TABLE org_t020.projects ALTER COLUMN status SET DEFAULT 'DRAFT';
         ALTER TABLE org_t030.notifications ALTER COLUMN title DROP NOT NULL;
         CREATE VIEW org_t040.active AS SELECT id FROM org_t040.users;
         CREATE TYPE org_t041.span AS RANGE (subtype = int4);
         CREATE TYPE org_t042.span AS RANGE (subtype = int4);",
    )
    .await;
    let args = |format: &'static str| ["plan", "--tenant", "all", "--format", format];
    let text = kschema(&project, &db, &args("text"));
    assert_eq!(text.code, 2, "{}", text.snapshot());
    assert_cli_snapshot!("fleet100_text", text);
    let sql = kschema(&project, &db, &args("sql"));
    assert_cli_snapshot!("fleet100_sql", sql);
    let json = kschema(&project, &db, &args("json"));
    insta::assert_snapshot!("fleet100_json", scrub_json(&json));
    let markdown = kschema(&project, &db, &args("markdown"));
    assert_cli_snapshot!("fleet100_markdown", markdown);
}
