//! The fixture cases of `crates/kschema-core/tests/cases/`, on PostgreSQL:
//! the live state built from `before/`, its recording (`live.json`) and
//! the desired state's (`stored.json`) checked to be what this server
//! gives, then apply → re-plan empty → `pg_dump --schema-only` equal to the
//! desired SQL run directly (public, the other shared schemas' folders by
//! name, then each tenant). A case with `schema/mongo/` runs with a
//! MongoDB server of its own, its live collections from `before/mongo/`.
//! The core's `tests/cases.rs` plans the same folders without a database.
//!
//! `KSCHEMA_RECORD_CASES=1` writes the two recordings instead of checking
//! them (after a change to what kschema reads, or for a new case).

use std::path::{Path, PathBuf};

use kschema_core::hazard::HazardKind;

use crate::support::{
    assert_same_dump, command, copy_dir, ensure_role, ensure_tablespace, run, run_directly,
    MongoServer, Project, TestDb,
};

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/kschema-core/tests/cases")
}

/// The tenant ids of a case's tenants.toml (`id = "…"` lines).
fn tenant_ids(case: &Path) -> Vec<String> {
    std::fs::read_to_string(case.join("tenants.toml"))
        .unwrap()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("id = "))
        .map(|id| id.trim_matches('"').to_string())
        .collect()
}

/// The `.sql` files of a folder, in name order, as one script.
fn sql_of(folder: &Path) -> String {
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(folder) {
        Ok(dir) => dir
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "sql"))
            .collect(),
        Err(_) => return String::new(),
    };
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The shared schemas other than public a folder holds (`audit/` next to
/// `public/` and `tenant/`, told apart as the project loader tells them),
/// in name order, as each is built: after public, on `search_path =
/// <schema>, public`.
fn shared_sql_of(folder: &Path) -> String {
    let mut schemas = kschema::project::shared_folders(folder).unwrap_or_default();
    schemas.sort();
    schemas
        .iter()
        .map(|schema| {
            format!(
                "CREATE SCHEMA {schema}; SET search_path = {schema}, public;\n{}\nRESET search_path;\n",
                sql_of(&folder.join(schema))
            )
        })
        .collect()
}

fn read_optional(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// A recording is what this server gives, or (recording) is written.
fn check_recording(case: &Path, name: &str, fresh: &str) {
    let path = case.join(name);
    if std::env::var_os("KSCHEMA_RECORD_CASES").is_some() {
        std::fs::write(&path, fresh).unwrap();
        return;
    }
    let recorded = read_optional(&path);
    if recorded != fresh {
        let diff = similar::TextDiff::from_lines(&recorded, fresh)
            .unified_diff()
            .header("recorded", "this server")
            .to_string();
        panic!(
            "{}: {name} is not what PostgreSQL gives today (re-record: KSCHEMA_RECORD_CASES=1 cargo test --test it cases::):\n{diff}",
            case.display()
        );
    }
}

/// A snapshot's JSON without what names this run's database, server
/// release or build: the major version stays (canonical forms follow it).
fn recorded_snapshot(json: &str) -> String {
    let mut value: serde_json::Value = serde_json::from_str(json).unwrap();
    value["database"] = "case".into();
    value["kschema_version"] = "recorded".into();
    value["server_version"] = (major_version(&value) * 10000).into();
    serde_json::to_string_pretty(&value).unwrap() + "\n"
}

fn major_version(snapshot: &serde_json::Value) -> i64 {
    snapshot["server_version"].as_i64().unwrap_or_default() / 10000
}

/// Whether the case was recorded on this server's major version; another
/// one may store other forms, so its recordings are not checked there.
fn recorded_on_same_major(case: &Path, fresh: &str) -> bool {
    let recorded = read_optional(&case.join("live.json"));
    let Ok(recorded) = serde_json::from_str::<serde_json::Value>(&recorded) else {
        return true;
    };
    let fresh: serde_json::Value = serde_json::from_str(fresh).unwrap();
    let same = major_version(&recorded) == major_version(&fresh);
    if !same && std::env::var_os("KSCHEMA_RECORD_CASES").is_none() {
        eprintln!(
            "{}: recorded on PostgreSQL {}, this server is {}: recordings not checked",
            case.display(),
            major_version(&recorded),
            major_version(&fresh)
        );
        return false;
    }
    true
}

/// The one stored form the plan wrote into its cache folder.
fn stored_form(cache: &Path) -> String {
    let dir = cache.join("desired");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let text = std::fs::read_to_string(files.pop().unwrap()).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    serde_json::to_string_pretty(&value).unwrap() + "\n"
}

async fn run_case(name: &str) {
    let case = cases_dir().join(name);
    let ids = tenant_ids(&case);
    let db = TestDb::new().await;
    for role in read_optional(&case.join("roles")).split_whitespace() {
        ensure_role(&db, role).await;
    }
    for tablespace in read_optional(&case.join("tablespaces")).split_whitespace() {
        ensure_tablespace(&db, tablespace).await;
    }
    // The live state: public, the other shared schemas, then each tenant,
    // then one tenant's drift.
    let mut before = format!(
        "{}\n{}",
        sql_of(&case.join("before/public")),
        shared_sql_of(&case.join("before"))
    );
    let tenant_before = sql_of(&case.join("before/tenant"));
    for id in &ids {
        before.push_str(&format!(
            "CREATE SCHEMA org_{id}; SET search_path = org_{id}, public;\n{tenant_before}\n{}\nRESET search_path;\n",
            read_optional(&case.join(format!("before/org_{id}.sql")))
        ));
    }
    db.execute(&before).await;

    let project = Project::copy_of(&format!("crates/kschema-core/tests/cases/{name}"));
    // A case with collections gets a MongoDB server of its own, and its
    // live collections from `before/mongo/` (applied as a project whose
    // SQL is the live state's, so PostgreSQL is left as built).
    let mongo = case.join("schema/mongo").is_dir().then(MongoServer::start);
    let cli = |project: &Project, args: &[&str], cache: Option<&Path>| {
        let mut command = command(project, Some(&db.url()), args);
        if let Some(server) = &mongo {
            command.env("MONGODB_URI", &server.uri);
        }
        if let Some(cache) = cache {
            command.env("KSCHEMA_CACHE_DIR", cache);
        }
        run(&mut command)
    };
    if mongo.is_some() {
        let live_project = Project::empty();
        for (from, to) in [
            ("before/public", "schema/public"),
            ("before/tenant", "schema/tenant"),
            ("before/mongo", "schema/mongo"),
        ] {
            let (from, to) = (case.join(from), live_project.path().join(to));
            match from.is_dir() {
                true => copy_dir(&from, &to),
                false => std::fs::create_dir_all(&to).unwrap(),
            }
        }
        for file in ["tenants.toml", "kschema.toml"] {
            live_project.write(file, &read_optional(&case.join(file)));
        }
        let built = cli(&live_project, &["apply", "--tenant", "all"], None);
        assert_eq!(built.code, 0, "{name}: {}", built.snapshot());
    }

    let recording = tempfile::tempdir().unwrap();
    let live = recording.path().join("live.json");
    let snapshot = cli(
        &project,
        &[
            "snapshot",
            "--tenant",
            "all",
            "--out",
            live.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(snapshot.code, 0, "{name}: {}", snapshot.snapshot());
    let fresh_live = recorded_snapshot(&std::fs::read_to_string(&live).unwrap());
    let check = recorded_on_same_major(&case, &fresh_live);
    if check {
        check_recording(&case, "live.json", &fresh_live);
    }

    let cache = recording.path().join("cache");
    let plan = cli(&project, &["plan", "--tenant", "all"], Some(&cache));
    assert_eq!(plan.code, 2, "{name}: {}", plan.snapshot());
    if check {
        check_recording(&case, "stored.json", &stored_form(&cache));
    }

    // Every hazard is the case's to show, not to stop at.
    let hazards = HazardKind::ALL
        .iter()
        .map(|k| k.name())
        .collect::<Vec<_>>()
        .join(",");
    let apply = cli(
        &project,
        &["apply", "--tenant", "all", "--allow-hazard", &hazards],
        None,
    );
    assert_eq!(apply.code, 0, "{name}: {}", apply.snapshot());
    let again = cli(&project, &["plan", "--tenant", "all"], None);
    assert_eq!(again.code, 0, "{name}: {}", again.snapshot());

    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let shared = format!(
        "{}\n{}",
        sql_of(&case.join("schema/public")),
        shared_sql_of(&case.join("schema"))
    );
    let direct = run_directly(&shared, &sql_of(&case.join("schema/tenant")), &ids).await;
    assert_same_dump(&db, &direct);
}

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                run_case(stringify!($name)).await;
            }
        )*

        /// Every folder is a test above, and every test a folder.
        #[test]
        fn every_case_folder_runs() {
            let mut folders: Vec<String> = std::fs::read_dir(cases_dir())
                .unwrap()
                .filter_map(Result::ok)
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            folders.sort();
            let mut listed = vec![$(stringify!($name).to_string()),*];
            listed.sort();
            assert_eq!(folders, listed);
        }
    };
}

cases!(
    column,
    mongo_collection,
    comment,
    constraint,
    dependency_order,
    catalog_dependencies,
    type_named_in_expressions,
    types_built_on,
    domain,
    enum_type,
    extension,
    function_trigger,
    grant,
    index,
    partition,
    partition_own_constraints,
    aggregate,
    policy,
    seed_rows,
    sequence,
    tablespace,
    serial_options,
    serial_sequence_kept,
    shared_schema,
    table,
    view,
);
