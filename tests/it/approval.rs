//! Nothing changes before someone says so: on a terminal apply shows the
//! plan and asks; without one it needs `--yes`; a saved plan, reviewed
//! already, does not ask. The terminal cases run under a pseudo-terminal
//! (`script`), answering on its input.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::{command_as_typed, kschema, shared_cache_dir, Project, TestDb};

/// `kschema ARGS` on a pseudo-terminal, `answer` typed on it: (exit code,
/// everything the terminal showed).
fn on_a_terminal(project: &Project, db: &TestDb, args: &[&str], answer: &str) -> (i32, String) {
    on_a_terminal_with_cache(project, db, args, answer, &shared_cache_dir())
}

/// The same, with a stored-desired-state cache of its own.
fn on_a_terminal_with_cache(
    project: &Project,
    db: &TestDb,
    args: &[&str],
    answer: &str,
    cache: &std::path::Path,
) -> (i32, String) {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let mut line = vec![quote(env!("CARGO_BIN_EXE_kschema"))];
    line.extend(args.iter().map(|a| quote(a)));
    line.extend([
        "--project".to_string(),
        quote(&project.path().display().to_string()),
        "--database-url".to_string(),
        quote(&db.url()),
    ]);
    let mut child = Command::new("script")
        .args(["-qec", &line.join(" "), "/dev/null"])
        .env_remove("DATABASE_URL")
        .env_remove("KSCHEMA_DEV_URL")
        .env("NO_COLOR", "1")
        // A terminal that draws (CI may leave TERM unset or dumb).
        .env("TERM", "xterm")
        .env("KSCHEMA_CACHE_DIR", cache)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script(1) runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(answer.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

fn project() -> Project {
    let project = Project::empty();
    project
        .write(
            "schema/public/t.sql",
            "CREATE TABLE notes (id INT PRIMARY KEY, body TEXT);\n",
        )
        .write("tenants.toml", "");
    project
}

async fn has_notes(db: &TestDb) -> bool {
    let client = db.client().await;
    client
        .query_one("SELECT to_regclass('public.notes') IS NOT NULL", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn without_a_terminal_apply_needs_yes() {
    let project = project();
    let db = TestDb::new().await;
    let output = command_as_typed(&project, Some(&db.url()), &["apply"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("kschema::apply::not_approved"), "{stderr}");
    assert!(stderr.contains("--yes"), "{stderr}");
    assert!(!has_notes(&db).await);

    // --auto-approve is the same flag.
    let output = command_as_typed(&project, Some(&db.url()), &["apply", "--auto-approve"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(has_notes(&db).await);
}

#[tokio::test]
async fn on_a_terminal_apply_asks_and_only_yes_applies() {
    let project = project();
    let db = TestDb::new().await;
    let (code, shown) = on_a_terminal(&project, &db, &["apply"], "y\n");
    assert_eq!(code, 1, "{shown}");
    assert!(shown.contains("+ create table notes"), "{shown}");
    assert!(
        shown.contains("Apply 1 change to 1 target? Only 'yes' is accepted:"),
        "{shown}"
    );
    assert!(
        shown.contains("apply cancelled: nothing changed"),
        "{shown}"
    );
    assert!(!has_notes(&db).await);

    let (code, shown) = on_a_terminal(&project, &db, &["apply"], "yes\n");
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("Applied: 1 target converged"), "{shown}");
    assert!(has_notes(&db).await);
}

/// A saved plan was reviewed when it was saved: applying it does not ask.
#[tokio::test]
async fn a_saved_plan_applies_without_asking() {
    let project = project();
    let db = TestDb::new().await;
    let saved = project.path().join("plan.json");
    let saved = saved.display().to_string();
    let plan = kschema(&project, &db, &["plan", "--out", &saved]);
    assert_eq!(plan.code, 2, "{}", plan.snapshot());
    let output = command_as_typed(&project, Some(&db.url()), &["apply", &saved])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(has_notes(&db).await);
}

/// On a terminal, a long phase shows a spinner with what it is doing (here
/// building the desired state, with a cache of its own so the build runs);
/// `--quiet` and a plan piped elsewhere show none.
#[tokio::test]
async fn long_phases_show_a_spinner_on_a_terminal_only() {
    let project = project();
    let db = TestDb::new().await;
    let on_terminal = |extra: &[&str]| {
        let cache = tempfile::tempdir().unwrap();
        let mut args = vec!["plan"];
        args.extend_from_slice(extra);
        on_a_terminal_with_cache(&project, &db, &args, "", cache.path())
    };
    let (code, shown) = on_terminal(&[]);
    assert_eq!(code, 2, "{shown}");
    assert!(shown.contains("building the desired state"), "{shown}");
    // The plan itself is there, and the spinner line was cleared.
    assert!(shown.contains("create table notes"), "{shown}");
    let (code, quiet) = on_terminal(&["--quiet"]);
    assert_eq!(code, 2, "{quiet}");
    assert!(!quiet.contains("building the desired state"), "{quiet}");
    // Not on a terminal: no spinner.
    let piped = kschema(&project, &db, &["plan"]);
    assert!(
        !piped.stderr.contains("building the desired state"),
        "{}",
        piped.stderr
    );
}
