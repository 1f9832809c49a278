//! What an attacker or an unlucky operator tries: hostile names in the live
//! database and in the files, edited saved plans, inputs that used to panic.

use crate::support::{kschema, kschema_with, run_psql, Project, Run, TestDb};

/// Names PostgreSQL accepts that end an SQL comment, close a Markdown block,
/// or repaint a terminal.
const HOSTILE: &[&str] = &[
    "junk\nDROP TABLE public.modules CASCADE;\n--",
    "a*/b/*c",
    "</details><h1>forged</h1><details>",
    "esc\u{1b}[2J\u{1b}]0;title\u{7}",
    "bidi\u{202e}txt.sql",
    "cr\rover",
];

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Bytes no output may carry: every control character but the newline.
fn control_bytes(text: &str) -> Vec<char> {
    text.chars()
        .filter(|&c| kschema_core::escape::is_unsafe_char(c) && c != '\n')
        .collect()
}

#[tokio::test]
async fn hostile_live_names_are_escaped_in_every_format() {
    let project = Project::shipped();
    let db = TestDb::new().await;
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    let mut sql = String::new();
    for (i, name) in HOSTILE.iter().enumerate() {
        let table = quote(&format!("{name}{i}"));
        let column = quote(&format!("col {name}"));
        sql.push_str(&format!(
            "CREATE TABLE org_abc123.{table} ({column} text DEFAULT {} CHECK ({column} <> {}));\n\
             CREATE INDEX {} ON org_abc123.{table} ({column});\n",
            literal(name),
            literal(&format!("x{name}")),
            quote(&format!("ix {name}{i}")),
        ));
        // A drifted column too, so an ALTER with the names is planned.
        sql.push_str(&format!(
            "ALTER TABLE org_def456.users ADD COLUMN {} text DEFAULT {};\n",
            quote(&format!("{name}{i}")),
            literal(name)
        ));
    }
    db.execute(&sql).await;

    let text = kschema(&project, &db, &["plan"]);
    assert_eq!(text.code, 2, "{}", text.snapshot());
    assert!(text.stdout.contains("drop table"), "{}", text.stdout);
    for format in ["text", "sql", "json", "markdown"] {
        let run = kschema(&project, &db, &["plan", "--format", format]);
        assert_eq!(run.code, 2, "{format}: {}", run.snapshot());
        assert_eq!(
            control_bytes(&run.stdout),
            Vec::<char>::new(),
            "{format} output carries control characters:\n{}",
            run.stdout
        );
        assert!(control_bytes(&run.stderr).is_empty(), "{}", run.stderr);
    }
    // Every name is still told apart exactly in the JSON.
    let json = kschema(&project, &db, &["plan", "--format", "json"]);
    let document: serde_json::Value = serde_json::from_str(&json.stdout).expect("valid JSON");
    let changes = document.to_string();
    assert!(changes.contains("junk\\nDROP TABLE public.modules CASCADE;\\n--0"));

    // Markdown: no HTML of the names' own reaches the rendered comment.
    let markdown = kschema(&project, &db, &["plan", "--format", "markdown"]);
    let mut html = String::new();
    pulldown_cmark::html::push_html(
        &mut html,
        pulldown_cmark::Parser::new_ext(&markdown.stdout, pulldown_cmark::Options::all()),
    );
    assert!(!html.contains("<h1>"), "{html}");
    assert_eq!(
        html.matches("<details>").count(),
        html.matches("</details>").count(),
        "{html}"
    );
    assert!(html.contains("&lt;/details&gt;&lt;h1&gt;"), "{html}");

    // SQL: psql runs exactly the planned statements, and nothing else.
    let script = project.path().join("plan.sql");
    let plan = kschema(&project, &db, &["plan", "--format", "sql"]);
    std::fs::write(&script, &plan.stdout).unwrap();
    run_psql(&script, &db);
    let client = db.client().await;
    let modules = client
        .query_one("SELECT to_regclass('public.modules') IS NOT NULL", &[])
        .await
        .unwrap();
    assert!(modules.get::<_, bool>(0), "public.modules was dropped");
    let replan = kschema(&project, &db, &["plan"]);
    assert_eq!(replan.code, 0, "{}", replan.snapshot());
}

fn refused_without_change(run: &Run, code: &str) {
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(run.stderr.contains(code), "{}", run.snapshot());
    assert!(control_bytes(&run.stderr).is_empty(), "{}", run.stderr);
}

#[tokio::test]
async fn hostile_names_in_files_are_refused() {
    let db = TestDb::new().await;
    let cases: &[(&str, String, &str)] = &[
        (
            "schema/tenant/t.sql",
            "CREATE TABLE \"junk\nDROP TABLE x;\n--\" (id int PRIMARY KEY);\n".to_string(),
            "kschema::sql::unsafe_name",
        ),
        (
            "schema/public/t.sql",
            "CREATE TABLE t (\"e\u{1b}[31m\" int);\n".to_string(),
            "kschema::sql::unsafe_name",
        ),
        (
            "schema/public/t.sql",
            "CREATE TABLE t (a int);\n\0\n".to_string(),
            "kschema::sql::nul",
        ),
        (
            "tenants.toml",
            "[[tenant]]\nid = \"abc\"\nschema = \"org_x\\nDROP\"\n".to_string(),
            "kschema::tenants::invalid_schema",
        ),
    ];
    for (file, text, code) in cases {
        let project = Project::empty();
        project.write("tenants.toml", "[[tenant]]\nid = \"abc\"\n");
        project.write(file, text);
        for args in [&["plan"][..], &["apply"][..]] {
            let run = kschema(&project, &db, args);
            refused_without_change(&run, code);
        }
        assert_eq!(db.schemas().await, vec!["public".to_string()], "{file}");
    }
}

#[tokio::test]
async fn saved_plan_hazards_are_worked_out_again_and_edits_are_refused() {
    let project = Project::shipped();
    let db = TestDb::new().await;
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    db.execute("ALTER TABLE org_abc123.users ADD COLUMN nickname text")
        .await;
    let plan_file = project.path().join("plan.json");
    let plan = kschema(
        &project,
        &db,
        &["plan", "--out", plan_file.to_str().unwrap()],
    );
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    let original = std::fs::read_to_string(&plan_file).unwrap();
    // Hazards deleted from the file: apply still refuses the drop.
    let mut document: serde_json::Value = serde_json::from_str(&original).unwrap();
    for target in document["targets"].as_array_mut().unwrap() {
        for step in target["steps"].as_array_mut().unwrap() {
            step["hazards"] = serde_json::json!([]);
        }
    }
    std::fs::write(&plan_file, document.to_string()).unwrap();
    let run = kschema(&project, &db, &["apply", plan_file.to_str().unwrap()]);
    refused_without_change(&run, "kschema::apply::hazards");
    assert!(run.stderr.contains("deletes-data"), "{}", run.snapshot());
    assert!(has_nickname(&db).await);

    // An edited statement: refused whole, even with every hazard allowed.
    let edited = original.replace("DROP COLUMN nickname", "DROP COLUMN email");
    assert_ne!(edited, original);
    std::fs::write(&plan_file, edited).unwrap();
    let run = kschema(
        &project,
        &db,
        &["apply", plan_file.to_str().unwrap(), "--allow-destructive"],
    );
    refused_without_change(&run, "kschema::apply::edited_plan");
    assert!(has_nickname(&db).await);

    // The file as written applies.
    std::fs::write(&plan_file, &original).unwrap();
    let run = kschema(
        &project,
        &db,
        &["apply", plan_file.to_str().unwrap(), "--allow-destructive"],
    );
    assert_eq!(run.code, 0, "{}", run.snapshot());
    assert!(!has_nickname(&db).await);
}

#[test]
fn far_columns_and_deep_expressions_get_diagnostics_not_panics() {
    let far = format!("{}x\n", " ".repeat(70_000));
    let deep = format!(
        "CREATE TABLE t (a int DEFAULT {});\n",
        vec!["1"; 10_000].join(" + ")
    );
    let and_chain = format!(
        "CREATE TABLE t (a int CHECK ({}));\n",
        vec!["a > 0"; 5_000].join(" AND ")
    );
    let cases: Vec<(&str, String, &str)> = vec![
        ("schema/public/a.sql", far.clone(), "kschema::sql::parse"),
        ("tenants.toml", far.clone(), "kschema::toml"),
        ("kschema.toml", far, "kschema::toml"),
        ("schema/public/a.sql", deep, "kschema::sql::too_deep"),
        ("schema/public/a.sql", and_chain, "kschema::sql::too_deep"),
    ];
    for (file, text, code) in cases {
        let project = Project::empty();
        project.write("tenants.toml", "");
        project.write(file, &text);
        let run = kschema_with(&project, Some("host=/nonexistent dbname=x"), &["plan"]);
        assert_eq!(
            run.code,
            1,
            "{file}: {}",
            &run.stderr[..run.stderr.len().min(2000)]
        );
        assert!(
            run.stderr.contains(code),
            "{file}: {}",
            &run.stderr[..run.stderr.len().min(2000)]
        );
        assert!(
            run.stderr.lines().all(|l| l.chars().count() < 400),
            "{file}: clipped"
        );
    }
    // A snapshot file with its error far out on one line.
    let project = Project::empty();
    project.write("tenants.toml", "");
    project.write("snap.json", &format!("{{{}\"x\" 1}}", " ".repeat(70_000)));
    let snapshot = project.path().join("snap.json");
    let run = kschema_with(
        &project,
        None,
        &["plan", "--against", snapshot.to_str().unwrap()],
    );
    assert_eq!(run.code, 1, "{}", &run.stderr[..run.stderr.len().min(2000)]);
    assert!(run.stderr.contains("kschema::snapshot"), "{}", run.stderr);
}

#[test]
fn a_closed_output_pipe_is_not_a_crash() {
    let project = Project::empty();
    let binary = env!("CARGO_BIN_EXE_kschema");
    // The reader closes its end at once, so every write kschema makes to
    // stderr meets a pipe nobody reads (EPIPE).
    let script = format!(
        "set -o pipefail; {binary} --project {} tenant add \"a'b\" 2>&1 | (exec 0<&-; sleep 0.5)",
        project.path().display()
    );
    let status = std::process::Command::new("bash")
        .args(["-c", &script])
        .status()
        .expect("bash runs");
    // 1: the id is refused. Never 101 (a panic) or 134 (an abort).
    assert_eq!(status.code(), Some(1));
}

async fn has_nickname(db: &TestDb) -> bool {
    db.client()
        .await
        .query_one(
            "SELECT count(*) FROM information_schema.columns
              WHERE table_schema = 'org_abc123' AND column_name = 'nickname'",
            &[],
        )
        .await
        .unwrap()
        .get::<_, i64>(0)
        == 1
}

/// A fleet of `n` tenants with the shipped schema, converged.
async fn fleet(n: usize) -> (Project, TestDb) {
    let project = Project::shipped();
    let registry: String = (0..n)
        .map(|i| format!("[[tenant]]\nid = \"t{i:03}\"\n\n"))
        .collect();
    project.write("tenants.toml", &registry);
    let db = TestDb::new().await;
    let apply = kschema(&project, &db, &["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    (project, db)
}

/// Holds a snapshot for `seconds` in another session, as a long report
/// query would.
async fn old_snapshot(db: &TestDb, seconds: f64) -> tokio::task::JoinHandle<()> {
    let client = db.client().await;
    tokio::spawn(async move {
        let _ = client
            .batch_execute(&format!("SELECT pg_sleep({seconds})"))
            .await;
    })
}

async fn invalid_indexes(db: &TestDb) -> i64 {
    db.client()
        .await
        .query_one("SELECT count(*) FROM pg_index WHERE NOT indisvalid", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn online_index_builds_wait_for_old_snapshots_and_retry_cleanly() {
    let (project, db) = fleet(12).await;
    let add_index = |name: &str, column: &str| {
        let text = project.read("schema/tenant/users.sql");
        project.write(
            "schema/tenant/users.sql",
            &format!("{text}\nCREATE INDEX {name} ON users ({column});\n"),
        );
    };

    // A long query elsewhere: the builds wait for it with their own budget,
    // not the short lock timeout meant for exclusive locks.
    add_index("idx_users_job_title", "job_title");
    let blocker = old_snapshot(&db, 3.0).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let apply = kschema(&project, &db, &["apply", "--lock-timeout", "0.5"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    blocker.await.unwrap();
    assert_eq!(invalid_indexes(&db).await, 0);
    assert_eq!(kschema(&project, &db, &["plan"]).code, 0);

    // A budget too short for the query: the timeout is retried after
    // dropping the invalid index (never "already exists"), and the failure
    // names the lock timeout and the session holding things up.
    add_index("idx_users_mobile", "mobile");
    let blocker = old_snapshot(&db, 6.0).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let apply = kschema(
        &project,
        &db,
        &[
            "apply",
            "--index-lock-timeout",
            "0.3",
            "--lock-attempts",
            "2",
            "--concurrency",
            "4",
        ],
    );
    let output = format!("{}{}", apply.stdout, apply.stderr);
    assert_eq!(apply.code, 1, "{}", apply.snapshot());
    assert!(output.contains("lock timeout"), "{output}");
    assert!(output.contains("pg_sleep(6"), "{output}");
    assert!(!output.contains("42P07"), "{output}");
    assert!(!output.contains("already exists"), "{output}");
    blocker.await.unwrap();

    // Once the query is gone, the next apply finishes the fleet.
    let apply = kschema(&project, &db, &["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    assert_eq!(invalid_indexes(&db).await, 0);
    assert_eq!(kschema(&project, &db, &["plan"]).code, 0);
}

/// An index whose definition changes is built under a working name beside
/// the old one, which queries keep using until the new one is ready: an
/// interrupted build leaves the old one in place and valid, and the next
/// apply finishes the swap under the index's own name.
#[tokio::test(flavor = "multi_thread")]
async fn a_changed_index_is_built_beside_the_old_one() {
    let (project, db) = fleet(2).await;
    let users = project.read("schema/tenant/users.sql");
    project.write(
        "schema/tenant/users.sql",
        &format!("{users}\nCREATE INDEX idx_users_job_title ON users (job_title);\n"),
    );
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    project.write(
        "schema/tenant/users.sql",
        &format!("{users}\nCREATE INDEX idx_users_job_title ON users (job_title, mobile);\n"),
    );
    let definitions = || async {
        let rows = db
            .client()
            .await
            .query(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), i.indisvalid \
                   FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
                  WHERE c.relname LIKE 'idx_users_job_title%' ORDER BY 1",
                &[],
            )
            .await
            .unwrap();
        rows.iter()
            .map(|r| {
                (
                    r.get::<_, String>(0),
                    r.get::<_, String>(1),
                    r.get::<_, bool>(2),
                )
            })
            .collect::<Vec<_>>()
    };
    let plan = kschema(&project, &db, &["plan"]);
    assert!(
        plan.stdout
            .contains("built as idx_users_job_title_kschema_new beside the old one")
            && !plan.stdout.contains("drops-index"),
        "{}",
        plan.stdout
    );

    // The build gives up: every tenant still has its old index, valid.
    let blocker = old_snapshot(&db, 4.0).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let apply = kschema(
        &project,
        &db,
        &[
            "apply",
            "--index-lock-timeout",
            "0.3",
            "--lock-attempts",
            "1",
        ],
    );
    assert_eq!(apply.code, 1, "{}", apply.snapshot());
    blocker.await.unwrap();
    let old: Vec<_> = definitions()
        .await
        .into_iter()
        .filter(|(name, _, _)| name.ends_with(".idx_users_job_title"))
        .collect();
    assert_eq!(old.len(), 2, "{old:?}");
    for (name, definition, valid) in &old {
        assert!(*valid, "{name}");
        assert!(definition.ends_with("(job_title)"), "{definition}");
    }

    // The next apply finishes: the new definition under the index's name,
    // nothing left under the working one.
    let apply = kschema(&project, &db, &["apply"]);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    assert_eq!(kschema(&project, &db, &["plan"]).code, 0);
    let now = definitions().await;
    assert_eq!(now.len(), 2, "{now:?}");
    for (name, definition, valid) in &now {
        assert!(name.ends_with(".idx_users_job_title"), "{name}");
        assert!(*valid, "{name}");
        assert!(definition.ends_with("(job_title, mobile)"), "{definition}");
    }
}

/// A listener that accepts connections and never says a word.
fn silent_listener() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    port
}

#[tokio::test]
async fn connections_time_out_and_name_what_they_tried() {
    let port = silent_listener();
    let project = Project::shipped();
    // Each run must end well before the 10 s default would: the 1 s given
    // is what bounds it (before, the handshake waited forever).
    let timed = |url: &str, args: &[&str]| {
        let started = std::time::Instant::now();
        let run = kschema_with(&project, Some(url), args);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(8),
            "{url}"
        );
        run
    };
    let url = format!("postgresql://u:secret@127.0.0.1:{port}/x");
    let run = timed(&url, &["plan", "--connect-timeout", "1"]);
    refused_without_change(&run, "kschema::db::connect_timeout");
    assert!(
        run.stderr.contains(&format!("127.0.0.1:{port}")),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("secret"));
    // The URL's own connect_timeout is honoured.
    let url = format!("postgresql://u@127.0.0.1:{port}/x?connect_timeout=1");
    refused_without_change(&timed(&url, &["plan"]), "kschema::db::connect_timeout");
    // kschema.toml's, too.
    let settings = project.read("kschema.toml");
    project.write(
        "kschema.toml",
        &format!("{settings}\n[database]\nconnect_timeout = 1.0\n"),
    );
    let url = format!("postgresql://u@127.0.0.1:{port}/x");
    refused_without_change(&timed(&url, &["plan"]), "kschema::db::connect_timeout");

    // A unix socket that is not there: the path tried is named.
    let run = kschema_with(
        &project,
        Some("postgresql://u@/x?host=/tmp&port=1"),
        &["plan"],
    );
    refused_without_change(&run, "kschema::db::connect");
    assert!(run.stderr.contains("/tmp/.s.PGSQL.1"), "{}", run.stderr);
    assert!(run.stderr.contains("port=1"), "{}", run.stderr);

    // MongoDB: the same limit.
    let db = TestDb::new().await;
    let mongo = format!("mongodb://127.0.0.1:{port}/?directConnection=true");
    let run = kschema(
        &project,
        &db,
        &["plan", "--connect-timeout", "1", "--mongodb-uri", &mongo],
    );
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(
        run.stderr.contains("kschema::mongo::connect"),
        "{}",
        run.snapshot()
    );
}

/// Starts `apply --concurrency 1` over a fleet whose tenant `blocked` holds
/// a lock the change needs, and returns once kschema waits on it: the
/// tenants before it have converged, those after it have not started.
async fn apply_stuck_at(
    project: &Project,
    db: &TestDb,
    blocked: &str,
) -> (std::process::Child, tokio_postgres::Client, i32) {
    project.edit(
        "schema/tenant/users.sql",
        "job_title VARCHAR(100),",
        "job_title VARCHAR(100),\n    nickname TEXT,",
    );
    let holder = db.client().await;
    holder
        .batch_execute(&format!(
            "BEGIN; LOCK TABLE {blocked}.users IN ACCESS SHARE MODE"
        ))
        .await
        .unwrap();
    let child = crate::support::command(
        project,
        Some(&db.url()),
        &["apply", "--concurrency", "1", "--lock-timeout", "60"],
    )
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    let watcher = db.client().await;
    let waiting = loop {
        let row = watcher
            .query_opt(
                "SELECT pid FROM pg_stat_activity
                  WHERE application_name = 'kschema' AND wait_event_type = 'Lock'
                    AND datname = current_database()",
                &[],
            )
            .await
            .unwrap();
        if let Some(row) = row {
            break row.get::<_, i32>(0);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    (child, holder, waiting)
}

#[tokio::test]
async fn only_failed_after_a_killed_run_includes_the_tenants_it_never_reached() {
    let (project, db) = fleet(20).await;
    let (mut child, holder, _) = apply_stuck_at(&project, &db, "org_t005").await;
    child.kill().unwrap(); // SIGKILL: t000–t004 converged, t005 rolls back, the rest untouched
    let _ = child.wait();
    holder.batch_execute("ROLLBACK").await.unwrap();

    let plan = kschema(&project, &db, &["plan"]);
    assert!(plan.stdout.contains("15 tenants ("), "{}", plan.stdout);
    let retry = kschema(&project, &db, &["apply", "--only-failed"]);
    assert_eq!(retry.code, 0, "{}", retry.snapshot());
    assert!(!retry.stdout.contains("No changes"), "{}", retry.stdout);
    assert!(retry.stdout.contains("15 tenants ("), "{}", retry.stdout);
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
    // Nothing is left to retry now.
    let again = kschema(&project, &db, &["apply", "--only-failed"]);
    assert_eq!(again.code, 0, "{}", again.snapshot());
    assert!(
        again.stdout.contains("nothing to retry"),
        "{}",
        again.stdout
    );
}

#[tokio::test]
async fn a_lost_connection_fails_only_its_tenant_and_the_run_goes_on() {
    let (project, db) = fleet(12).await;
    let (child, holder, waiting) = apply_stuck_at(&project, &db, "org_t004").await;
    db.execute(&format!("SELECT pg_terminate_backend({waiting})"))
        .await;
    let output = child.wait_with_output().unwrap();
    holder.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(output.status.code(), Some(1));
    // Only t004 is left: the worker reconnected and finished the others.
    let plan = kschema(&project, &db, &["plan"]);
    assert!(
        plan.stdout.contains("tenant t004 (org_t004): 1 change"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("11 tenants ("), "{}", plan.stdout);
    let retry = kschema(&project, &db, &["apply", "--only-failed"]);
    assert_eq!(retry.code, 0, "{}", retry.snapshot());
    let plan = kschema(&project, &db, &["plan"]);
    assert_eq!(plan.code, 0, "{}\n{}", retry.snapshot(), plan.snapshot());
}

#[tokio::test]
async fn a_server_that_goes_away_leaves_the_rest_not_started() {
    if kschema::db::local::find_bin_dir().is_none() {
        // Only with KSCHEMA_TEST_DATABASE_URL and no server programs here.
        eprintln!("skipped: needs initdb to make a cluster of its own to stop");
        return;
    }
    // A cluster of its own: this test stops it.
    let dir = tempfile::Builder::new()
        .prefix("kst-crash-")
        .tempdir_in("/tmp")
        .unwrap();
    let cluster = kschema::db::local::LocalCluster::at(dir.path().to_path_buf()).unwrap();
    cluster.ensure_running().unwrap();
    cluster
        .remove_when_process_exits(std::process::id())
        .unwrap();
    let url = format!(
        "host={} port={} user=postgres dbname=postgres",
        cluster.socket_dir().display(),
        cluster.port()
    );
    let connect = || async {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
    };
    let project = Project::shipped();
    let registry: String = (0..8)
        .map(|i| format!("[[tenant]]\nid = \"t{i:03}\"\n\n"))
        .collect();
    project.write("tenants.toml", &registry);
    assert_eq!(kschema_with(&project, Some(&url), &["apply"]).code, 0);
    project.edit(
        "schema/tenant/users.sql",
        "job_title VARCHAR(100),",
        "job_title VARCHAR(100),\n    nickname TEXT,",
    );
    let holder = connect().await;
    holder
        .batch_execute("BEGIN; LOCK TABLE org_t003.users IN ACCESS SHARE MODE")
        .await
        .unwrap();
    let child = crate::support::command(
        &project,
        Some(&url),
        &["apply", "--concurrency", "1", "--lock-timeout", "60"],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let watcher = connect().await;
    while watcher
        .query_opt(
            "SELECT 1 FROM pg_stat_activity WHERE application_name = 'kschema' AND wait_event_type = 'Lock'",
            &[],
        )
        .await
        .unwrap()
        .is_none()
    {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    drop(watcher);
    assert!(cluster.stop().unwrap(), "the cluster stops");
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("3 targets converged, 1 failed, 4 not started"),
        "{stdout}"
    );
    assert!(
        stdout.contains("not started: the connection to the server was lost"),
        "{stdout}"
    );
    assert!(!stdout.contains("statement: BEGIN"), "{stdout}");

    // Back up: --only-failed finds the failed tenant and the four never started.
    cluster.ensure_running().unwrap();
    let retry = kschema_with(&project, Some(&url), &["apply", "--only-failed"]);
    assert_eq!(retry.code, 0, "{}", retry.snapshot());
    assert!(retry.stdout.contains("5 tenants ("), "{}", retry.stdout);
    assert_eq!(kschema_with(&project, Some(&url), &["plan"]).code, 0);
    cluster.destroy();
}

#[tokio::test]
async fn small_defects_found_by_probing() {
    let project = Project::shipped();
    let db = TestDb::new().await;

    // The history names who ran it even without $USER and $LOGNAME.
    let mut apply = crate::support::command(&project, Some(&db.url()), &["apply"]);
    apply.env_remove("USER").env_remove("LOGNAME");
    let run = crate::support::run(&mut apply);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    let users: Vec<String> = db
        .client()
        .await
        .query("SELECT DISTINCT os_user FROM kschema.history", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        !users.is_empty() && users.iter().all(|u| u != "unknown" && !u.is_empty()),
        "{users:?}"
    );

    // diff in either direction agrees with plan: seed rows are read.
    let url = db.url();
    let path = project.path().to_str().unwrap().to_string();
    for (from, to) in [(&url, &path), (&path, &url)] {
        let diff = kschema(&project, &db, &["diff", from, to]);
        assert_eq!(diff.code, 0, "diff {from} {to}: {}", diff.snapshot());
    }

    // A bad URL option is named.
    let run = kschema_with(&project, Some("postgresql://u:pw@h/x?bogus=1"), &["plan"]);
    refused_without_change(&run, "kschema::db::url");
    assert!(run.stderr.contains("bogus"), "{}", run.stderr);
    assert!(!run.stderr.contains("pw@"), "{}", run.stderr);

    // Refused in files rather than silently dropped or failing in every tenant.
    let cases = [
        (
            "CREATE TABLE t (id int PRIMARY KEY) TABLESPACE kschema_no_such_space;\n",
            "tablespace \"kschema_no_such_space\" does not exist",
        ),
        (
            "SET default_tablespace = pg_default;\nCREATE TABLE t (id int PRIMARY KEY);\n",
            "a key's index under SET default_tablespace is not managed yet",
        ),
        (
            "CREATE MATERIALIZED VIEW m TABLESPACE pg_default AS SELECT 1 AS a;\n",
            "a tablespace is managed for tables and indexes only",
        ),
        (
            "CREATE TABLE p (id uuid PRIMARY KEY);\nCREATE TABLE c (id int PRIMARY KEY, p int REFERENCES p (id));\n",
            "kschema::sql::foreign_key_types",
        ),
        (
            "CREATE TABLE t (id int PRIMARY KEY);\nCREATE TABLE u (id int PRIMARY KEY);\nCREATE INDEX t ON u (id);\n",
            "kschema::sql::name_taken",
        ),
        (
            "CREATE TABLE t (id int CONSTRAINT u PRIMARY KEY);\nCREATE TABLE u (id int PRIMARY KEY);\n",
            "kschema::sql::name_taken",
        ),
        (
            "CREATE TABLE t (a int);\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1;\n",
            "opens here and never closes",
        ),
        (
            "CREATE TABLE t (a timestamptz DEFAULT now(\u{feff}));\n",
            "kschema::sql::unsafe_character",
        ),
        (
            "CREATE TYPE span AS RANGE (subtype = int4);\n",
            "is not part of a desired state",
        ),
    ];
    for (sql, expected) in cases {
        let project = Project::empty();
        project.write("tenants.toml", "");
        project.write("schema/public/t.sql", sql);
        let run = kschema(&project, &db, &["plan"]);
        assert_eq!(run.code, 1, "{sql}: {}", run.snapshot());
        assert!(run.stderr.contains(expected), "{sql}: {}", run.snapshot());
    }
}

/// A role (or server) with one free connection slot still gets a plan:
/// the reads that run side by side on four connections run one after
/// another on one.
#[tokio::test]
async fn a_role_limited_to_one_connection_still_plans() {
    let db = TestDb::new().await;
    let role = format!("one_slot_{}", db.name);
    db.execute(&format!(
        "CREATE ROLE {role} LOGIN CONNECTION LIMIT 1; GRANT ALL ON SCHEMA public TO {role}"
    ))
    .await;
    let project = Project::shipped();
    let url = format!("{} user={role}", db.url().replace("user=postgres", ""));
    let admin = db.url();
    let mut command = crate::support::command(&project, Some(&url), &["plan", "--dev-url", &admin]);
    let plan = crate::support::run(&mut command);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    assert!(
        plan.stdout.contains("create table users"),
        "{}",
        plan.stdout
    );
}

/// A name the files create that a live object kschema does not manage
/// already holds (a foreign table, a range type) is refused at plan time,
/// at its declaration — not approved, then refused by PostgreSQL in every
/// tenant.
#[tokio::test]
async fn names_held_by_live_objects_kschema_does_not_manage_are_refused_at_plan_time() {
    let db = TestDb::new().await;
    db.execute(
        "CREATE FOREIGN DATA WRAPPER kschema_test_fdw; \
         CREATE SERVER remote_server FOREIGN DATA WRAPPER kschema_test_fdw; \
         CREATE FOREIGN TABLE public.remote (id int) SERVER remote_server; \
         CREATE SCHEMA org_a; CREATE TYPE org_a.span AS RANGE (subtype = int4);",
    )
    .await;
    let project = crate::support::project_of(
        "CREATE TABLE remote (id int PRIMARY KEY);\n",
        "CREATE TABLE notes (id int PRIMARY KEY);\n",
        &["a"],
    );
    for command in [&["plan"][..], &["apply", "--tenant", "all"]] {
        let run = kschema(&project, &db, command);
        refused_without_change(&run, "kschema::plan::name_taken");
        assert!(
            run.stderr.contains("foreign table") && run.stderr.contains("app.sql:1:1"),
            "{}",
            run.snapshot()
        );
    }
    // In a tenant: a table's row type takes the range type's name.
    project.write("schema/public/app.sql", "");
    project.write(
        "schema/tenant/app.sql",
        "CREATE TABLE notes (id int PRIMARY KEY);\nCREATE TABLE span (id int);\n",
    );
    let run = kschema(&project, &db, &["apply", "--tenant", "all"]);
    refused_without_change(&run, "kschema::plan::name_taken");
    assert!(run.stderr.contains("range type"), "{}", run.snapshot());
    let notes: bool = db
        .client()
        .await
        .query_one("SELECT to_regclass('org_a.notes') IS NOT NULL", &[])
        .await
        .unwrap()
        .get(0);
    assert!(!notes, "a tenant was changed");
    // Under another name the same files plan.
    project.write(
        "schema/tenant/app.sql",
        "CREATE TABLE notes (id int PRIMARY KEY);\nCREATE TABLE spans (id int);\n",
    );
    assert_eq!(kschema(&project, &db, &["plan"]).code, 2);
}

/// A column's type change under a live generated column that reads it is
/// refused at plan time (PostgreSQL would refuse it in every target), and
/// the two applies the help names converge.
#[tokio::test]
async fn a_type_change_under_a_generated_column_is_refused_at_plan_time() {
    let db = TestDb::new().await;
    let generated = "d text GENERATED ALWAYS AS (split_part(email, '@', 2)) STORED";
    let project = crate::support::project_of(
        "",
        &format!("CREATE TABLE acc (id int PRIMARY KEY, email varchar(100), {generated});\n"),
        &["a"],
    );
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    let before = db.catalog("org_a").await;
    let wider =
        format!("CREATE TABLE acc (id int PRIMARY KEY, email varchar(255), {generated});\n");
    project.write("schema/tenant/app.sql", &wider);
    for command in [&["plan"][..], &["apply"]] {
        let run = kschema(&project, &db, command);
        refused_without_change(&run, "kschema::plan::generated_reader");
    }
    // Dropping the reader in the same plan does not help: drops come last.
    project.write(
        "schema/tenant/app.sql",
        "CREATE TABLE acc (id int PRIMARY KEY, email varchar(255));\n",
    );
    let run = kschema(&project, &db, &["apply", "--allow-destructive"]);
    refused_without_change(&run, "kschema::plan::generated_reader");
    assert_eq!(db.catalog("org_a").await, before, "nothing changed");
    // The two applies the help names.
    project.write(
        "schema/tenant/app.sql",
        "CREATE TABLE acc (id int PRIMARY KEY, email varchar(100));\n",
    );
    assert_eq!(
        kschema(&project, &db, &["apply", "--allow-destructive"]).code,
        0
    );
    project.write("schema/tenant/app.sql", &wider);
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    assert_eq!(kschema(&project, &db, &["plan"]).code, 0);
}
