//! The local PostgreSQL kschema starts itself when no database URL is given:
//! a cluster under `.kschema/pg`, created with `initdb` on first use, started
//! with `pg_ctl` on a unix socket in that folder and reused afterwards.
//!
//! PostgreSQL refuses to run as root, so as root both commands run as the
//! `postgres` user. The same code starts the throwaway clusters of the test
//! harness.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use miette::Diagnostic;
use thiserror::Error;

/// The port number names the socket file (`.s.PGSQL.5432`); nothing listens
/// on TCP, so it cannot clash with another server.
const PORT: u16 = 5432;
/// Unix socket paths are limited to 107 bytes (sun_path).
const MAX_SOCKET_PATH: usize = 100;

#[derive(Debug, Error, Diagnostic)]
pub enum LocalError {
    #[error("PostgreSQL server programs (initdb, pg_ctl) are not installed")]
    #[diagnostic(
        code(kschema::local::not_installed),
        help("install PostgreSQL 14 or newer — `apt-get install postgresql` (Debian/Ubuntu), `dnf install postgresql-server` (Fedora), `brew install postgresql@16` (macOS) — or pass --database-url / DATABASE_URL to use an existing server")
    )]
    NotInstalled,
    #[error("kschema runs as root, and PostgreSQL refuses to: it needs the `postgres` user, which does not exist")]
    #[diagnostic(
        code(kschema::local::no_postgres_user),
        help("create it (`useradd --system --home /var/lib/postgresql postgres`), run kschema as a regular user, or pass --database-url")
    )]
    NoPostgresUser,
    #[error("{action} failed: {detail}")]
    #[diagnostic(code(kschema::local::command), help("{help}"))]
    Command {
        action: String,
        detail: String,
        help: String,
    },
    #[error("cannot prepare {path}: {source}")]
    #[diagnostic(
        code(kschema::local::io),
        help("check that the project folder is writable")
    )]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> LocalError + '_ {
    move |source| LocalError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A PostgreSQL cluster in a folder of its own.
#[derive(Clone, Debug)]
pub struct LocalCluster {
    /// Holds `data/`, the socket and `postgres.log`.
    pub root: PathBuf,
    bin: PathBuf,
    run_as_postgres: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    NotCreated,
    Stopped,
    Running { pid: Option<u32> },
}

impl LocalCluster {
    /// The project's cluster, `.kschema/pg` under `project`.
    pub fn for_project(project: &Path) -> Result<Self, LocalError> {
        let dir = project.join(".kschema");
        fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        let link = dir.join("pg");
        if let Ok(target) = fs::read_link(&link) {
            // Created earlier in a short, reachable place (see below).
            return LocalCluster::at(target);
        }
        let mut cluster = LocalCluster::at(link.clone())?;
        if !link.is_dir() && !cluster.root_is_usable(&link)? {
            // The postgres user cannot reach the project folder (e.g. under
            // /root), or the socket path would be too long: keep the cluster
            // in the temporary folder and leave a link at .kschema/pg.
            let canonical = fs::canonicalize(project).unwrap_or_else(|_| project.to_path_buf());
            let name = format!(
                "kschema-{:016x}",
                fnv1a(canonical.to_string_lossy().as_bytes())
            );
            let elsewhere = std::env::temp_dir().join(name);
            fs::create_dir_all(&elsewhere).map_err(io_error(&elsewhere))?;
            symlink(&elsewhere, &link).map_err(io_error(&link))?;
            cluster.root = elsewhere;
        }
        Ok(cluster)
    }

    /// A cluster in `root` (which need not exist yet).
    pub fn at(root: PathBuf) -> Result<Self, LocalError> {
        Ok(LocalCluster {
            root,
            bin: find_bin_dir().ok_or(LocalError::NotInstalled)?,
            run_as_postgres: running_as_root(),
        })
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    /// The folder holding the unix socket (the connection's `host`).
    pub fn socket_dir(&self) -> &Path {
        &self.root
    }

    pub fn port(&self) -> u16 {
        PORT
    }

    pub fn status(&self) -> Status {
        if !self.data_dir().join("PG_VERSION").exists() {
            return Status::NotCreated;
        }
        match self.pg_ctl(&["status", "-D", &self.data_dir().to_string_lossy()]) {
            Ok(output) if output.status.success() => Status::Running { pid: self.pid() },
            _ => Status::Stopped,
        }
    }

    /// Creates the cluster if needed and starts it if it is not running.
    /// Safe to call from several processes at once (a file lock serializes
    /// them).
    pub fn ensure_running(&self) -> Result<(), LocalError> {
        self.prepare_root()?;
        let lock_path = self.root.join("kschema.lock");
        let lock = File::create(&lock_path).map_err(io_error(&lock_path))?;
        lock.lock().map_err(io_error(&lock_path))?;
        if self.status() == Status::NotCreated {
            self.init()?;
        }
        if self.status() == Status::Stopped {
            self.start()?;
        }
        drop(lock);
        Ok(())
    }

    pub fn stop(&self) -> Result<bool, LocalError> {
        if !matches!(self.status(), Status::Running { .. }) {
            return Ok(false);
        }
        let data = self.data_dir().to_string_lossy().to_string();
        let output = self.pg_ctl(&["stop", "-D", &data, "-m", "fast", "-w"])?;
        if !output.status.success() {
            return Err(command_failed(
                "pg_ctl stop",
                &output,
                "see the server log in .kschema/pg/postgres.log",
            ));
        }
        Ok(true)
    }

    /// Stops at once and deletes the folder (for throwaway test clusters).
    pub fn destroy(&self) {
        let data = self.data_dir().to_string_lossy().to_string();
        let _ = self.pg_ctl(&["stop", "-D", &data, "-m", "immediate", "-w"]);
        let _ = fs::remove_dir_all(&self.root);
    }

    /// Leaves a watchdog that stops and deletes the cluster once process
    /// `pid` has exited, however it exits (for throwaway test clusters:
    /// a test binary has no exit hook, and may be killed).
    pub fn remove_when_process_exits(&self, pid: u32) -> Result<(), LocalError> {
        let pg_ctl = self.bin.join("pg_ctl");
        let as_postgres = if self.run_as_postgres {
            "runuser -u postgres -- "
        } else {
            ""
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
             {as_postgres}'{}' stop -D '{}' -m immediate >/dev/null 2>&1; rm -rf '{}'",
            pg_ctl.display(),
            self.data_dir().display(),
            self.root.display()
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(io_error(&self.root))?;
        Ok(())
    }

    fn pid(&self) -> Option<u32> {
        let text = fs::read_to_string(self.data_dir().join("postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
    }

    fn prepare_root(&self) -> Result<(), LocalError> {
        fs::create_dir_all(&self.root).map_err(io_error(&self.root))?;
        if self.run_as_postgres {
            let output = Command::new("chown")
                .args(["-R", "postgres:", &self.root.to_string_lossy()])
                .output()
                .map_err(io_error(&self.root))?;
            if !output.status.success() {
                return Err(command_failed(
                    "chown to the postgres user",
                    &output,
                    "check that the folder is on a local file system",
                ));
            }
        }
        Ok(())
    }

    /// Whether `root` (to be created at `link`) works for PostgreSQL: short
    /// enough for a socket path and reachable by the server's user.
    fn root_is_usable(&self, link: &Path) -> Result<bool, LocalError> {
        let socket = link.join(format!(".s.PGSQL.{PORT}"));
        let absolute = std::path::absolute(&socket).unwrap_or(socket);
        if absolute.as_os_str().len() > MAX_SOCKET_PATH {
            return Ok(false);
        }
        if !self.run_as_postgres {
            return Ok(true);
        }
        self.prepare_root()?;
        let reachable = Command::new("runuser")
            .args([
                "-u",
                "postgres",
                "--",
                "test",
                "-w",
                &self.root.to_string_lossy(),
            ])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !reachable {
            let _ = fs::remove_dir_all(&self.root);
        }
        Ok(reachable)
    }

    fn init(&self) -> Result<(), LocalError> {
        let data = self.data_dir();
        let _ = fs::remove_dir_all(&data);
        let output = self.run(
            "initdb",
            &[
                "-D",
                &data.to_string_lossy(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
        )?;
        if !output.status.success() {
            return Err(command_failed(
                "initdb",
                &output,
                "check the PostgreSQL installation and free disk space",
            ));
        }
        // Small and quiet: this cluster serves one developer or one test run.
        let settings = "\n# kschema local cluster\nlisten_addresses = ''\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\nshared_buffers = 128MB\nlog_min_messages = warning\n";
        let conf = data.join("postgresql.conf");
        let mut text = fs::read_to_string(&conf).map_err(io_error(&conf))?;
        text.push_str(settings);
        fs::write(&conf, text).map_err(io_error(&conf))?;
        Ok(())
    }

    fn start(&self) -> Result<(), LocalError> {
        let data = self.data_dir().to_string_lossy().to_string();
        let log = self.root.join("postgres.log").to_string_lossy().to_string();
        // pg_ctl hands -o to a shell: quote the path.
        let socket = self.root.to_string_lossy().replace('\'', "'\\''");
        let options = format!("-k '{socket}' -p {PORT}");
        let output = self.pg_ctl(&[
            "start", "-D", &data, "-l", &log, "-o", &options, "-w", "-t", "120",
        ])?;
        if !output.status.success() {
            let tail = fs::read_to_string(&log)
                .map(|t| {
                    t.lines()
                        .rev()
                        .take(5)
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect::<Vec<_>>()
                        .join("\n")
                })
                .unwrap_or_default();
            return Err(LocalError::Command {
                action: "starting the local PostgreSQL".into(),
                detail: format!("{}\n{tail}", String::from_utf8_lossy(&output.stderr).trim()),
                help: format!("the server log is {log}"),
            });
        }
        Ok(())
    }

    fn pg_ctl(&self, args: &[&str]) -> Result<Output, LocalError> {
        self.run("pg_ctl", args)
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<Output, LocalError> {
        let path = self.bin.join(program);
        let mut command = if self.run_as_postgres {
            if !postgres_user_exists() {
                return Err(LocalError::NoPostgresUser);
            }
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        command.args(args).current_dir(&self.root);
        command.output().map_err(|e| LocalError::Command {
            action: format!("running {program}"),
            detail: e.to_string(),
            help: "check the PostgreSQL installation".into(),
        })
    }
}

fn command_failed(action: &str, output: &Output, help: &str) -> LocalError {
    let mut detail = String::from_utf8_lossy(&output.stderr).trim().to_string();
    if detail.is_empty() {
        detail = String::from_utf8_lossy(&output.stdout).trim().to_string();
    }
    LocalError::Command {
        action: action.into(),
        detail,
        help: help.into(),
    }
}

/// `initdb`/`pg_ctl` on PATH, else the newest `/usr/lib/postgresql/*/bin`.
pub fn find_bin_dir() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() {
                return Some(
                    fs::canonicalize(dir.join("pg_ctl"))
                        .ok()?
                        .parent()?
                        .to_path_buf(),
                );
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// Whether kschema runs as root (then the local cluster runs as `postgres`).
pub fn running_as_root() -> bool {
    // Without libc: the effective uid is on /proc/self/status's Uid line.
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|uid| uid == "0"))
        })
        .unwrap_or(false)
}

fn postgres_user_exists() -> bool {
    fs::read_to_string("/etc/passwd")
        .map(|p| p.lines().any(|l| l.starts_with("postgres:")))
        .unwrap_or(false)
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(_target: &Path, _link: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other(
        "the local cluster needs a unix system",
    ))
}

/// A stable 64-bit hash for folder names (std's hasher is not stable).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x100000001b3)
    })
}
