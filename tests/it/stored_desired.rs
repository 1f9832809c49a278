//! PostgreSQL as the one normalizer: the desired state is built in a
//! scratch database and read back; where it is built, what a rejection
//! looks like, and the cache that makes a re-plan free.

use crate::support::{kschema, Project, TestDb};

#[tokio::test]
async fn a_statement_postgresql_rejects_is_reported_at_its_file_and_line() {
    let project = Project::empty();
    project.write(
        "schema/public/things.sql",
        "CREATE TABLE things (\n    id INT PRIMARY KEY,\n    size INT DEFAULT 'big'\n);\n",
    );
    let db = TestDb::new().await;
    // Spawned by hand for its pid: scratch databases carry it in their
    // name, and other tests' plans have theirs open at the same time.
    let child = crate::support::command(&project, Some(&db.url()), &["plan"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = &String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(stderr.contains("kschema::desired::rejected"), "{stderr}");
    assert!(
        stderr.contains(
            "PostgreSQL rejects the desired state: invalid input syntax for type integer: \"big\""
        ),
        "{stderr}"
    );
    assert!(stderr.contains("22P02"), "{stderr}");
    // At the column, found from the server's error position.
    assert!(stderr.contains("schema/public/things.sql:3"), "{stderr}");
    assert!(stderr.contains("column things.size"), "{stderr}");
    assert!(
        stderr.contains("kschema ran this to build the desired state"),
        "{stderr}"
    );
    // Nothing was created anywhere: the target is untouched, and no scratch
    // database is left behind.
    assert!(db.schemas().await.iter().all(|s| s == "public"));
    let client = db.client().await;
    let left: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname LIKE $1",
            &[&format!("kschema\\_desired\\_{pid}\\_%")],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0);

    // A tenant file's error names the tenant file, and shows the template's
    // schema as <tenant>.
    let project = Project::empty();
    project
        .write("tenants.toml", "[[tenant]]\nid = \"a1\"\n")
        .write(
        "schema/tenant/notes.sql",
        "CREATE TABLE notes (id INT PRIMARY KEY);\nCREATE INDEX notes_bad ON notes (lower(id));\n",
    );
    let run = kschema(&project, &db, &["plan"]);
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(
        run.stderr.contains("schema/tenant/notes.sql:2"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("function lower(integer) does not exist"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("<tenant>.notes"), "{}", run.stderr);
}

#[tokio::test]
async fn without_createdb_the_help_names_the_dev_database_options() {
    let db = TestDb::new().await;
    let role = format!("no_createdb_{}", db.name);
    db.execute(&format!(
        "CREATE ROLE {role} LOGIN; GRANT ALL ON SCHEMA public TO {role}; GRANT CREATE ON DATABASE {} TO {role}",
        db.name
    ))
    .await;
    let project = Project::shipped();
    let url = format!("{} user={role}", db.url().replace("user=postgres", ""));
    // A cache of its own: a cached stored form needs no scratch database.
    let plan = |extra: &[&str]| {
        let mut args = vec!["plan"];
        args.extend_from_slice(extra);
        let mut command = crate::support::command(&project, Some(&url), &args);
        command.env("KSCHEMA_CACHE_DIR", project.path().join("own-cache"));
        crate::support::run(&mut command)
    };
    let run = plan(&[]);
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(
        run.stderr.contains("kschema::desired::scratch"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("permission denied to create database"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--dev-url"), "{}", run.stderr);

    // With a dev database it plans, and the target is read with the role.
    let admin = db.url();
    let run = plan(&["--dev-url", &admin]);
    assert_eq!(run.code, 2, "{}", run.snapshot());
    assert!(run.stdout.contains("create table users"), "{}", run.stdout);
}

#[tokio::test]
async fn the_stored_form_is_cached_by_the_desired_state_and_server_version() {
    let project = Project::empty();
    let cache = project.path().join("own-cache");
    project.write(
        "schema/public/things.sql",
        "CREATE TABLE things (id INT PRIMARY KEY, wait INTERVAL DEFAULT INTERVAL '1 day');\n",
    );
    let db = TestDb::new().await;
    let plan = |project: &Project| {
        let mut command = crate::support::command(project, Some(&db.url()), &["plan"]);
        command.env("KSCHEMA_CACHE_DIR", &cache);
        crate::support::run(&mut command)
    };
    assert_eq!(plan(&project).code, 2);
    let cached = || -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(cache.join("desired"))
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    assert_eq!(cached().len(), 1, "{:?}", cached());
    // The same files: the same entry, no new one.
    assert_eq!(plan(&project).code, 2);
    assert_eq!(cached().len(), 1, "{:?}", cached());
    // An edit: a new entry.
    project.write(
        "schema/public/things.sql",
        "CREATE TABLE things (id INT PRIMARY KEY, wait INTERVAL DEFAULT INTERVAL '2 days');\n",
    );
    assert_eq!(plan(&project).code, 2);
    assert_eq!(cached().len(), 2, "{:?}", cached());
    // A damaged entry is a miss, not an error.
    for name in cached() {
        std::fs::write(cache.join("desired").join(name), "{").unwrap();
    }
    let again = plan(&project);
    assert_eq!(again.code, 2, "{}", again.snapshot());
}

#[tokio::test]
async fn a_snapshot_of_another_major_version_gets_a_warning() {
    let project = Project::shipped();
    let db = TestDb::new().await;
    assert_eq!(kschema(&project, &db, &["apply"]).code, 0);
    let snapshot = project.path().join("live.json");
    let path = snapshot.display().to_string();
    assert_eq!(
        kschema(&project, &db, &["snapshot", "--out", &path]).code,
        0
    );
    let text = std::fs::read_to_string(&snapshot).unwrap();
    let mut document: serde_json::Value = serde_json::from_str(&text).unwrap();
    let version = document["server_version"].as_i64().expect("recorded");
    assert!(version >= 140000, "{version}");
    let same = kschema(
        &project,
        &db,
        &["plan", "--against", &path, "--dev-url", &db.url()],
    );
    assert_eq!(same.code, 0, "{}", same.snapshot());
    assert!(
        !same.stderr.contains("warning: the desired state is built"),
        "{}",
        same.stderr
    );

    document["server_version"] = serde_json::json!(version - 10000 * (version / 10000 - 9));
    std::fs::write(&snapshot, document.to_string()).unwrap();
    let other = kschema(
        &project,
        &db,
        &["plan", "--against", &path, "--dev-url", &db.url()],
    );
    assert_eq!(other.code, 0, "{}", other.snapshot());
    assert!(
        other
            .stderr
            .contains("warning: the desired state is built on PostgreSQL")
            && other.stderr.contains("but the plan is for PostgreSQL 9"),
        "{}",
        other.stderr
    );
}
