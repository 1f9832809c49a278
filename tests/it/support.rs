//! The test harness: a throwaway PostgreSQL cluster per test binary (or the
//! server KSCHEMA_TEST_DATABASE_URL points at), a fresh database per test,
//! project folders, and running the real `kschema` binary.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use kschema::db::local::LocalCluster;
use tokio_postgres::{Client, Config, NoTls};

/// Where test databases are created.
struct Server {
    /// A connection string (key=value) without a dbname.
    base: String,
    /// Where the harness's own cluster can hold tablespaces (none for a
    /// server KSCHEMA_TEST_DATABASE_URL names: they must exist there).
    tablespace_root: Option<PathBuf>,
}

/// The main test server, or (`second`) another cluster, for shard tests.
fn server(second: bool) -> &'static Server {
    static MAIN: OnceLock<Server> = OnceLock::new();
    static SECOND: OnceLock<Server> = OnceLock::new();
    let cell = if second { &SECOND } else { &MAIN };
    cell.get_or_init(|| {
        if let Ok(url) = std::env::var("KSCHEMA_TEST_DATABASE_URL") {
            if !url.trim().is_empty() {
                return Server {
                    base: url,
                    tablespace_root: None,
                };
            }
        }
        // Short path: the socket lives in it.
        let dir = tempfile::Builder::new()
            .prefix("kst-")
            .tempdir_in("/tmp")
            .expect("temporary folder for the test cluster")
            .keep();
        // The watchdog below removes the folder once this process is gone.
        let cluster = LocalCluster::at(dir).unwrap_or_else(|e| panic!("{e}"));
        cluster
            .ensure_running()
            .unwrap_or_else(|e| panic!("test cluster: {e}"));
        cluster
            .remove_when_process_exits(std::process::id())
            .expect("cluster watchdog");
        let base = format!(
            "host={} port={} user=postgres",
            cluster.socket_dir().display(),
            cluster.port()
        );
        Server {
            base,
            tablespace_root: Some(cluster.socket_dir().to_path_buf()),
        }
    })
}

fn config_for(second: bool, dbname: &str) -> Config {
    let base = &server(second).base;
    let mut config: Config = base.parse().expect("test server connection string");
    config.dbname(dbname);
    config
}

async fn connect(config: &Config) -> Client {
    let (client, connection) = config.connect(NoTls).await.expect("connect to test server");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// A database of its own for one test, dropped when the test passes (a
/// failed test's database stays, to be looked at).
pub struct TestDb {
    pub name: String,
    second: bool,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("test database {} kept", self.name);
            return;
        }
        // Each database is a copy of template1 (~8 MB): three hundred tests
        // would leave gigabytes on a machine whose disk may be small. Drop
        // runs inside the test's runtime, which cannot block on itself: a
        // thread of its own with its own runtime does the drop.
        let config = config_for(self.second, "postgres");
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime for dropping a test database");
            runtime.block_on(async {
                connect(&config)
                    .await
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("test database {} not dropped: {e}", self.name);
        }
    }
}

impl TestDb {
    pub async fn new() -> TestDb {
        TestDb::create(false).await
    }

    /// A database on a second cluster (a shard).
    pub async fn on_second_cluster() -> TestDb {
        TestDb::create(true).await
    }

    async fn create(second: bool) -> TestDb {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "kschema_t{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let admin = connect(&config_for(second, "postgres")).await;
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
            .await
            .expect("drop leftover test database");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create test database");
        TestDb { name, second }
    }

    /// The connection string kschema gets with --database-url.
    pub fn url(&self) -> String {
        let config = config_for(self.second, &self.name);
        // key=value form: socket paths need no escaping there.
        let mut parts = vec![];
        for host in config.get_hosts() {
            match host {
                tokio_postgres::config::Host::Tcp(h) => parts.push(format!("host={h}")),
                tokio_postgres::config::Host::Unix(p) => {
                    parts.push(format!("host={}", p.display()))
                }
            }
        }
        if let Some(port) = config.get_ports().first() {
            parts.push(format!("port={port}"));
        }
        if let Some(user) = config.get_user() {
            parts.push(format!("user={user}"));
        }
        if let Some(password) = config.get_password() {
            parts.push(format!("password={}", String::from_utf8_lossy(password)));
        }
        parts.push(format!("dbname={}", self.name));
        parts.join(" ")
    }

    pub async fn client(&self) -> Client {
        connect(&config_for(self.second, &self.name)).await
    }

    pub async fn execute(&self, sql: &str) {
        self.client()
            .await
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    }

    /// The catalog's own description of a schema (not kschema's model):
    /// columns, constraints and indexes, with the schema's name replaced by
    /// `<schema>` so schemas can be compared.
    pub async fn catalog(&self, schema: &str) -> String {
        catalog_dump(&self.client().await, schema).await
    }

    /// The first column of every row `sql` returns, as text (the query
    /// casts it).
    pub async fn texts(&self, sql: &str) -> Vec<String> {
        self.client()
            .await
            .query(sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
            .iter()
            .map(|r| r.get(0))
            .collect()
    }

    pub async fn schemas(&self) -> Vec<String> {
        self.client()
            .await
            .query(
                "SELECT nspname::text FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY 1",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    }
}

pub async fn catalog_dump(client: &Client, schema: &str) -> String {
    // Every name qualified, so a reference into public shows as one.
    client.batch_execute("SET search_path = ''").await.unwrap();
    let mut out = String::new();
    let columns = client
        .query(
            "SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod),
                    a.attnotnull, pg_get_expr(d.adbin, d.adrelid)
               FROM pg_attribute a
               JOIN pg_class c ON c.oid = a.attrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
               LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
              WHERE n.nspname = $1 AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
              ORDER BY 1, a.attnum",
            &[&schema],
        )
        .await
        .unwrap();
    for row in columns {
        let default: Option<String> = row.get(4);
        out.push_str(&format!(
            "column {}.{} {}{}{}\n",
            row.get::<_, String>(0),
            row.get::<_, String>(1),
            row.get::<_, String>(2),
            if row.get::<_, bool>(3) {
                " NOT NULL"
            } else {
                ""
            },
            default.map(|d| format!(" DEFAULT {d}")).unwrap_or_default()
        ));
    }
    let constraints = client
        .query(
            "SELECT c.relname::text, con.conname::text, pg_get_constraintdef(con.oid)
               FROM pg_constraint con
               JOIN pg_class c ON c.oid = con.conrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = $1 ORDER BY 1, 2",
            &[&schema],
        )
        .await
        .unwrap();
    for row in constraints {
        out.push_str(&format!(
            "constraint {}.{} {}\n",
            row.get::<_, String>(0),
            row.get::<_, String>(1),
            row.get::<_, String>(2)
        ));
    }
    let indexes = client
        .query(
            "SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY 1",
            &[&schema],
        )
        .await
        .unwrap();
    for row in indexes {
        out.push_str(&format!("index {}\n", row.get::<_, String>(1)));
    }
    out.replace(&format!("{schema}."), "<schema>.")
        .replace(&format!("'{schema}."), "'<schema>.")
}

/// A project folder: the shipped desired state or hand-written files.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    /// A copy of the repository's own schema/ and tenants.toml.
    pub fn shipped() -> Project {
        Project::copy_of("")
    }

    /// A copy of a project folder of the repository (`examples/saas`).
    pub fn copy_of(folder: &str) -> Project {
        let project = Project::empty();
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
        copy_dir(&repo.join("schema"), &project.path().join("schema"));
        std::fs::copy(
            repo.join("tenants.toml"),
            project.path().join("tenants.toml"),
        )
        .unwrap();
        if repo.join("kschema.toml").exists() {
            std::fs::copy(
                repo.join("kschema.toml"),
                project.path().join("kschema.toml"),
            )
            .unwrap();
        }
        project
    }

    pub fn empty() -> Project {
        let dir = tempfile::Builder::new().prefix("ksp-").tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("schema/public")).unwrap();
        std::fs::create_dir_all(dir.path().join("schema/tenant")).unwrap();
        Project { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, relative: &str, text: &str) -> &Self {
        let path = self.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path().join(relative)).unwrap()
    }

    /// Replaces `from` with `to` in a file, which must contain it.
    pub fn edit(&self, relative: &str, from: &str, to: &str) -> &Self {
        let text = self.read(relative);
        assert!(text.contains(from), "{relative} does not contain {from:?}");
        self.write(relative, &text.replacen(from, to, 1))
    }
}

/// A folder's files into another (created), following symbolic links.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        // Followed through symbolic links (examples link the shipped files).
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A finished `kschema` run: what it printed, and what insta-cmd recorded
/// of how it was started (program, arguments, environment), for its
/// snapshot.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// insta-cmd's record of the command, with the parts that change from
    /// run to run replaced (it is the snapshot's `info`).
    pub info: serde_json::Value,
}

impl Run {
    /// The run as insta-cmd snapshots it (success, exit code, stdout,
    /// stderr), with the parts that change from run to run (database
    /// names, folders, timings) replaced.
    pub fn snapshot(&self) -> String {
        format!(
            "success: {:?}\nexit_code: {}\n----- stdout -----\n{}\n----- stderr -----\n{}",
            self.code == 0,
            self.code,
            scrub(&self.stdout),
            scrub(&self.stderr)
        )
    }

    /// stderr as one line of words: the diagnostic's wrapping and its
    /// margin (`│`) taken out, so a message can be looked for whole.
    pub fn said(&self) -> String {
        self.stderr
            .split_whitespace()
            .filter(|word| *word != "│")
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// `insta_cmd::assert_cmd_snapshot!` for a run the test also looks into:
/// insta-cmd ran the command (see [`run`]); this snapshots it the way its
/// macro does — the command as the snapshot's info, the output as its body
/// — which insta-cmd's own macro cannot do without running it again.
macro_rules! assert_cli_snapshot {
    ($name:expr, $run:expr) => {{
        let run: &$crate::support::Run = &$run;
        let mut settings = insta::Settings::clone_current();
        settings.set_info(&run.info);
        settings.set_omit_expression(true);
        settings.bind(|| insta::assert_snapshot!($name, run.snapshot()));
    }};
}
pub(crate) use assert_cli_snapshot;

/// Runs the real binary with `--project` and `--database-url` set.
pub fn kschema(project: &Project, db: &TestDb, args: &[&str]) -> Run {
    kschema_with(project, Some(&db.url()), args)
}

/// `inspect` of `db` into a new project (its tenants.toml copied from
/// `project`), which must succeed: the new project and what inspect said.
pub fn inspect_into_new_project(project: &Project, db: &TestDb) -> (Project, Run) {
    let out = Project::empty();
    let out_dir = out.path().display().to_string();
    let inspect = kschema(project, db, &["inspect", "--out", &out_dir, "--force"]);
    assert_eq!(inspect.code, 0, "{}", inspect.snapshot());
    out.write("tenants.toml", &project.read("tenants.toml"));
    (out, inspect)
}

pub fn kschema_with(project: &Project, url: Option<&str>, args: &[&str]) -> Run {
    let result = run(&mut command(project, url, args));
    // Every JSON plan the suite makes follows docs/plan.schema.json: what
    // it prints, and what it saves.
    if args.first() == Some(&"plan") && matches!(result.code, 0 | 2) {
        if args.windows(2).any(|w| w == ["--format", "json"]) {
            assert_plan_schema(&result.stdout);
        }
        if let Some(out) = args.windows(2).find(|w| w[0] == "--out").map(|w| w[1]) {
            // A relative --out is the working directory's, as for a user.
            if let Ok(saved) = std::fs::read_to_string(out) {
                assert_plan_schema(&saved);
            }
        }
    }
    result
}

/// Checks a JSON plan against docs/plan.schema.json.
pub fn assert_plan_schema(text: &str) {
    static VALIDATOR: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    let validator = VALIDATOR.get_or_init(|| {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../docs/plan.schema.json"))
                .expect("docs/plan.schema.json is JSON");
        jsonschema::validator_for(&schema).expect("docs/plan.schema.json is a schema")
    });
    let plan: serde_json::Value = serde_json::from_str(text).expect("the plan is JSON");
    let errors: Vec<String> = validator
        .iter_errors(&plan)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "the plan does not follow docs/plan.schema.json:\n{}",
        errors.join("\n")
    );
}

/// The command, ready to run or spawn (tests add environment variables).
/// The suite runs as automation does: `apply` and `rollback` get `--yes`
/// (the approval prompt has tests of its own, through [`command_as_typed`]).
pub fn command(project: &Project, url: Option<&str>, args: &[&str]) -> Command {
    let mut command = command_as_typed(project, url, args);
    if matches!(args.first(), Some(&"apply" | &"rollback")) {
        command.arg("--yes");
    }
    command
}

/// The command exactly as given.
pub fn command_as_typed(project: &Project, url: Option<&str>, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kschema"));
    command.args(args).arg("--project").arg(project.path());
    command
        .env_remove("DATABASE_URL")
        .env_remove("KSCHEMA_DEV_URL")
        .env("NO_COLOR", "1")
        // Cases that share a desired state share its stored form.
        .env("KSCHEMA_CACHE_DIR", shared_cache_dir());
    if let Some(url) = url {
        command.arg("--database-url").arg(url);
    }
    command
}

/// One cache of stored desired states for the whole run.
pub fn shared_cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("kschema-cache")
}

/// Runs `command` through insta-cmd, keeping its output and its record of
/// the command.
pub fn run(command: &mut Command) -> Run {
    let (info, output) = insta_cmd::Spawn::spawn_with_info(command, None);
    let mut info = serde_json::to_value(&info).expect("insta-cmd's info is JSON");
    scrub_info(&mut info);
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        info,
    }
}

/// The command's arguments and environment without what changes from run
/// to run: the project folder, the test database's URL, the cache folder.
fn scrub_info(info: &mut serde_json::Value) {
    use serde_json::Value;
    if let Some(Value::Array(args)) = info.get_mut("args") {
        let mut after_url = false;
        for arg in args.iter_mut() {
            if let Value::String(text) = arg {
                *text = if after_url {
                    "<test database>".to_string()
                } else {
                    scrub_temp_paths(text)
                };
                after_url = text == "--database-url";
            }
        }
    }
    if let Some(Value::Object(env)) = info.get_mut("env") {
        env.remove("KSCHEMA_CACHE_DIR");
        for value in env.values_mut() {
            if let Value::String(text) = value {
                *text = scrub_temp_paths(text);
            }
        }
    }
}

fn scrub(text: &str) -> String {
    let mut lines = Vec::new();
    for line in text.lines() {
        let mut line = scrub_temp_paths(line);
        if let Some(start) = line.find("Database: ") {
            line = format!("{}Database: <test database>", &line[..start]);
        }
        if let Some(start) = line.find("-- database: ") {
            line = format!("{}-- database: <test database>", &line[..start]);
        }
        // "18 statements in 0.03s" → "18 statements in <time>"
        if let Some(pos) = line.rfind(" in ") {
            let rest = &line[pos + 4..];
            if rest.ends_with('s') && rest[..rest.len() - 1].parse::<f64>().is_ok() {
                line = format!("{} in <time>", &line[..pos]);
            }
        }
        lines.push(line);
    }
    // Targets finish in any order when applied in parallel: sort each
    // target's block (its line and the indented lines under it).
    if let Some(first) = lines.iter().position(|l| l == "Applying…") {
        let last = lines[first + 1..]
            .iter()
            .position(|l| l.is_empty())
            .map_or(lines.len(), |p| first + 1 + p);
        let mut blocks: Vec<Vec<String>> = Vec::new();
        for line in &lines[first + 1..last] {
            match blocks.last_mut() {
                Some(block) if line.starts_with("      ") => block.push(line.clone()),
                _ => blocks.push(vec![line.clone()]),
            }
        }
        blocks.sort();
        let sorted: Vec<String> = blocks.into_iter().flatten().collect();
        lines.splice(first + 1..last, sorted);
    }
    let mut out = lines.join("\n");
    if text.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// `/tmp/ksp-AbC123/plan.json` → `<project>/plan.json`.
fn scrub_temp_paths(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find("/tmp/ksp-") {
        out.push_str(&rest[..start]);
        out.push_str("<project>");
        let after = &rest[start + "/tmp/ksp-".len()..];
        let end = after
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(after.len());
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Schemas of the shipped project.
pub const TENANT_SCHEMAS: [&str; 3] = ["org_abc123", "org_def456", "org_xyz789"];

/// A MongoDB wire-protocol server for one test: SecantusDB's
/// `secantusd-rs` on an ephemeral port in a temporary folder (installed on
/// first use, cached outside the checkout), or the server
/// KSCHEMA_TEST_MONGODB_URI names.
pub struct MongoServer {
    pub uri: String,
    child: Option<std::process::Child>,
    _dir: Option<tempfile::TempDir>,
}

impl MongoServer {
    pub fn start() -> MongoServer {
        if let Ok(uri) = std::env::var("KSCHEMA_TEST_MONGODB_URI") {
            if !uri.trim().is_empty() {
                return MongoServer {
                    uri,
                    child: None,
                    _dir: None,
                };
            }
        }
        let binary = secantus_binary();
        let dir = tempfile::Builder::new().prefix("ksm-").tempdir().unwrap();
        let mut child = Command::new(&binary)
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--standalone",
                "--cache-size",
                "256M",
                "--log-file-max",
                "16MB",
                "--storage-path",
            ])
            .arg(dir.path().join("data"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
        // The first line says `… listening on 127.0.0.1:PORT`.
        let stdout = child.stdout.take().expect("server stdout");
        let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
        let port = loop {
            let line = lines
                .next()
                .and_then(|l| l.ok())
                .unwrap_or_else(|| panic!("secantusd-rs exited before listening"));
            if let Some(address) = line.split("listening on ").nth(1) {
                break address.trim().rsplit(':').next().unwrap().to_string();
            }
        };
        // Keep draining its output so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        MongoServer {
            uri: format!("mongodb://127.0.0.1:{port}/?directConnection=true"),
            child: Some(child),
            _dir: Some(dir),
        }
    }
}

impl Drop for MongoServer {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while std::time::Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            let _ = child.kill();
        }
    }
}

/// The cached `secantusd-rs`: `scripts/install-test-tools` (the same script
/// `.ci/run` uses) installs it the first time and says where it is.
fn secantus_binary() -> std::path::PathBuf {
    static BINARY: OnceLock<std::path::PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install-test-tools");
            let output = Command::new(&script)
                .arg("--secantus")
                .stderr(std::process::Stdio::inherit())
                .output()
                .unwrap_or_else(|e| panic!("{}: {e}", script.display()));
            assert!(
                output.status.success(),
                "{} --secantus failed (it needs cargo and cmake)",
                script.display()
            );
            let path = String::from_utf8_lossy(&output.stdout);
            let binary = std::path::PathBuf::from(path.lines().last().unwrap_or("").trim());
            assert!(binary.exists(), "{} is not there", binary.display());
            binary
        })
        .clone()
}

/// Runs a SQL script with psql as `-v ON_ERROR_STOP=1 -f` does for users;
/// panics with psql's message if it fails.
/// A PostgreSQL client program, from the server's own bin folder when
/// there is one (the same version as the server).
fn pg_program(name: &str) -> PathBuf {
    kschema::db::local::find_bin_dir()
        .map(|bin| bin.join(name))
        .filter(|p| p.exists())
        .unwrap_or_else(|| name.into())
}

pub fn run_psql(script: &Path, db: &TestDb) {
    let output = Command::new(pg_program("psql"))
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f"])
        .arg(script)
        .arg(db.url())
        .output()
        .expect("psql runs");
    assert!(
        output.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// pg_dump's output for the database with `args`, as it writes it.
pub fn pg_dump(db: &TestDb, args: &[&str]) -> String {
    let output = Command::new(pg_program("pg_dump"))
        .args(args)
        .arg("-d")
        .arg(db.url())
        .output()
        .expect("pg_dump runs");
    assert!(
        output.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `pg_dump --schema-only` of the database, kschema's own bookkeeping
/// schema left out, with the lines that differ between any two dumps of
/// the same schema (comments, blank lines, settings) removed: two databases
/// with the same objects give the same text.
pub fn pg_dump_schema(db: &TestDb) -> String {
    pg_dump(
        db,
        &[
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            "-N",
            "kschema",
        ],
    )
    .lines()
    .filter(|line| !line.starts_with("--") && !line.trim().is_empty())
    // A random key per dump (pg_dump's guard against a malicious server).
    .filter(|line| !line.starts_with("\\restrict") && !line.starts_with("\\unrestrict"))
    .filter(|line| !line.starts_with("SET ") && !line.starts_with("SELECT pg_catalog.set_config"))
    .collect::<Vec<_>>()
    .join("\n")
}

/// `pg_dump --schema-only` of the two databases is the same, or the test
/// fails with the first differing lines.
pub fn assert_same_dump(converged: &TestDb, direct: &TestDb) {
    let (ours, theirs) = (pg_dump_schema(converged), pg_dump_schema(direct));
    if ours != theirs {
        let diff = similar::TextDiff::from_lines(&theirs, &ours)
            .unified_diff()
            .header("desired SQL run directly", "converged by kschema")
            .to_string();
        panic!("pg_dump differs:\n{diff}");
    }
}

/// The tenants a kind's cases run with: `[[tenant]]` for each id.
pub fn tenants_toml(ids: &[&str]) -> String {
    ids.iter()
        .map(|id| format!("[[tenant]]\nid = \"{id}\"\n\n"))
        .collect()
}

/// A project of one public and one tenant file, with these tenants.
pub fn project_of(public: &str, tenant: &str, tenants: &[&str]) -> Project {
    let project = Project::empty();
    project
        .write("schema/public/app.sql", public)
        .write("schema/tenant/app.sql", tenant)
        .write("tenants.toml", &tenants_toml(tenants));
    project
}

/// The desired SQL run directly, as a person would: public, then the
/// tenant file in each tenant's schema on the search path it is written
/// for (`org_<id>, public`), function bodies checked when called, as
/// pg_dump restores them.
pub async fn run_directly(public: &str, tenant: &str, tenants: &[&str]) -> TestDb {
    let mut script = format!("SET check_function_bodies = off; {public}\n");
    for id in tenants {
        script.push_str(&format!(
            "CREATE SCHEMA org_{id}; SET search_path = org_{id}, public; {tenant}\n"
        ));
    }
    script.push_str("RESET search_path;");
    let db = TestDb::new().await;
    db.execute(&script).await;
    db
}

/// Apply (with `extra` flags), re-plan empty with nothing left uncompared,
/// and the same `pg_dump --schema-only` as the SQL run directly (`direct`:
/// what [`run_directly`] is given, when it differs from the files).
pub async fn assert_converges(
    project: &Project,
    db: &TestDb,
    direct: (&str, &str),
    tenants: &[&str],
    extra: &[&str],
) {
    let mut args = vec!["apply", "--tenant", "all"];
    args.extend_from_slice(extra);
    let apply = kschema(project, db, &args);
    assert_eq!(apply.code, 0, "{}", apply.snapshot());
    let plan = kschema(project, db, &["plan", "--tenant", "all"]);
    assert_eq!(plan.code, 0, "{}", plan.snapshot());
    assert!(!plan.stdout.contains("Not compared"), "{}", plan.stdout);
    assert_same_dump(db, &run_directly(direct.0, direct.1, tenants).await);
}

/// A tablespace a case puts tables or indexes in. Tablespaces are the
/// cluster's, shared by every test: created once, in a folder of the
/// harness's cluster, owned by the server's user.
pub async fn ensure_tablespace(db: &TestDb, name: &str) {
    static CREATED: tokio::sync::Mutex<Vec<String>> = tokio::sync::Mutex::const_new(Vec::new());
    let mut created = CREATED.lock().await;
    if created.iter().any(|n| n == name) {
        return;
    }
    let client = db.client().await;
    let exists = client
        .query_opt("SELECT 1 FROM pg_tablespace WHERE spcname = $1", &[&name])
        .await
        .expect("read pg_tablespace")
        .is_some();
    if !exists {
        let root = server(db.second)
            .tablespace_root
            .clone()
            .unwrap_or_else(|| {
                panic!("create tablespace {name} on the server KSCHEMA_TEST_DATABASE_URL names")
            });
        let location = root.join(format!("ts_{name}"));
        std::fs::create_dir_all(&location).expect("tablespace folder");
        if kschema::db::local::running_as_root() {
            let status = Command::new("chown")
                .args(["postgres:", &location.to_string_lossy()])
                .status()
                .expect("chown");
            assert!(status.success(), "chown {}", location.display());
        }
        client
            .batch_execute(&format!(
                "CREATE TABLESPACE {name} LOCATION '{}'",
                location.display()
            ))
            .await
            .unwrap_or_else(|e| panic!("CREATE TABLESPACE {name}: {e:?}"));
    }
    created.push(name.to_string());
}

/// A role the case grants to or names in a policy. Roles are the
/// cluster's, shared by every test; parallel cases may race to create it.
pub async fn ensure_role(db: &TestDb, role: &str) {
    db.execute(&format!(
        "DO $$ BEGIN CREATE ROLE {role}; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
    ))
    .await;
}
