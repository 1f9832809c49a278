//! Which database kschema talks to, how it is shown (never with its
//! password), and connecting to it with errors that say what to do.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::time::Duration;

use miette::Diagnostic;
use thiserror::Error;
use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, NoTls};

use super::local::{LocalCluster, LocalError};

/// The database name kschema uses in its local cluster.
pub const LOCAL_DATABASE: &str = "kschema";

#[derive(Debug, Error, Diagnostic)]
pub enum ConnectError {
    #[error("the database URL is not valid: {reason}")]
    #[diagnostic(
        code(kschema::db::url),
        help("use postgresql://user:password@host:port/dbname (or key=value pairs) in --database-url / DATABASE_URL")
    )]
    InvalidUrl { reason: String },
    #[error("cannot connect to {database}{tried}")]
    #[diagnostic(code(kschema::db::connect), help("{help}"))]
    Unreachable {
        database: String,
        /// The unix socket tried, when it is one: the OS's message alone
        /// ("No such file or directory") does not say which.
        tried: String,
        help: String,
        #[source]
        source: tokio_postgres::Error,
    },
    #[error("{database} did not answer within {seconds}s")]
    #[diagnostic(
        code(kschema::db::connect_timeout),
        help("check that the server is running and that the host and port are a PostgreSQL server's; a slow network needs a longer --connect-timeout (or connect_timeout in the URL, or [database] connect_timeout in kschema.toml)")
    )]
    Timeout { database: String, seconds: String },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Local(#[from] LocalError),
}

impl ConnectError {
    /// The server refused for want of connection slots (its own
    /// `max_connections`, those reserved for superusers, or the role's
    /// `CONNECTION LIMIT`): fewer connections may still do.
    pub fn is_out_of_slots(&self) -> bool {
        matches!(self, ConnectError::Unreachable { source, .. }
            if source.code() == Some(&tokio_postgres::error::SqlState::TOO_MANY_CONNECTIONS))
    }
}

/// A database to connect to.
#[derive(Clone)]
pub struct Database {
    config: Config,
    /// The local cluster, when kschema started it.
    local: Option<LocalCluster>,
    /// This server's own apply limits (a shard's in tenants.toml):
    /// tenant concurrency, heavy statements at once.
    limits: (Option<usize>, Option<usize>),
}

impl Database {
    /// From a URL (or `key=value` string).
    pub fn from_url(url: &str) -> Result<Self, ConnectError> {
        let mut config = Config::from_str(url).map_err(|e| ConnectError::InvalidUrl {
            // The parser's messages name the option, never its value or the
            // URL, so no password leaks.
            reason: match std::error::Error::source(&e) {
                Some(cause) => format!("{e}: {cause}"),
                None => e.to_string(),
            },
        })?;
        keep_alive(&mut config);
        config.application_name("kschema");
        Ok(Database {
            config,
            local: None,
            limits: (None, None),
        })
    }

    /// Another database on a server already configured (its settings,
    /// timeouts included, are kept).
    pub fn from_config(config: Config) -> Self {
        Database {
            config,
            local: None,
            limits: (None, None),
        }
    }

    /// With apply limits of its own (`concurrency`, `heavy_concurrency`
    /// of its `[databases.NAME]` in tenants.toml).
    pub fn with_limits(self, concurrency: Option<u16>, heavy: Option<u16>) -> Self {
        Database {
            limits: (concurrency.map(usize::from), heavy.map(usize::from)),
            ..self
        }
    }

    /// The limits [`Database::with_limits`] set.
    pub fn limits(&self) -> (Option<usize>, Option<usize>) {
        self.limits
    }

    /// The project's local cluster, started (and created) if needed.
    pub fn local(project: &Path) -> Result<Self, ConnectError> {
        let cluster = LocalCluster::for_project(project)?;
        cluster.ensure_running()?;
        let config = Self::cluster_config(&cluster, "postgres");
        Ok(Database {
            config,
            local: Some(cluster),
            limits: (None, None),
        })
    }

    /// A connection configuration for a database in a local cluster.
    pub fn cluster_config(cluster: &LocalCluster, dbname: &str) -> Config {
        let mut config = Config::new();
        config
            .host_path(cluster.socket_dir())
            .port(cluster.port())
            .user("postgres")
            .dbname(dbname)
            .application_name("kschema");
        config
    }

    /// For the local cluster: makes sure kschema's database exists and
    /// points at it.
    pub async fn prepare_local(&mut self) -> Result<(), ConnectError> {
        if self.local.is_none() || self.config.get_dbname() == Some(LOCAL_DATABASE) {
            return Ok(());
        }
        let client = self.connect().await?;
        let exists = client
            .query_opt(
                "SELECT 1 FROM pg_database WHERE datname = $1",
                &[&LOCAL_DATABASE],
            )
            .await
            .map_err(|e| self.unreachable(e))?
            .is_some();
        if !exists {
            // A concurrent kschema may create it first; that is fine.
            if let Err(e) = client
                .batch_execute(&format!("CREATE DATABASE {LOCAL_DATABASE}"))
                .await
            {
                if e.code() != Some(&tokio_postgres::error::SqlState::DUPLICATE_DATABASE) {
                    return Err(self.unreachable(e));
                }
            }
        }
        self.config.dbname(LOCAL_DATABASE);
        Ok(())
    }

    pub fn is_local(&self) -> bool {
        self.local.is_some()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Opens a connection; its driver task runs in the background. The
    /// whole handshake, not only the socket's connect, is bounded by the
    /// URL's `connect_timeout` or kschema's (`--connect-timeout`), as libpq
    /// bounds it: a listener that accepts and never answers does not hang.
    pub async fn connect(&self) -> Result<Client, ConnectError> {
        // A connection kschema has just given back (the plan's, before
        // apply) is counted by the server until its backend has exited: a
        // refusal for want of slots is tried again a few times, briefly,
        // before it counts.
        let mut waits = [50, 100, 200, 400].into_iter();
        loop {
            match self.connect_once().await {
                Err(e) if e.is_out_of_slots() => match waits.next() {
                    Some(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                    None => return Err(e),
                },
                other => return other,
            }
        }
    }

    async fn connect_once(&self) -> Result<Client, ConnectError> {
        let limit = self
            .config
            .get_connect_timeout()
            .copied()
            .unwrap_or_else(connect_timeout);
        let attempt = tokio::time::timeout(limit, self.config.connect(NoTls)).await;
        let (client, connection) = match attempt {
            Ok(result) => result.map_err(|e| self.unreachable(e))?,
            Err(_) => {
                return Err(ConnectError::Timeout {
                    database: self.to_string(),
                    seconds: format!("{}", limit.as_secs_f64()),
                })
            }
        };
        tokio::spawn(async move {
            // Errors surface on the client's next query.
            let _ = connection.await;
        });
        Ok(client)
    }

    fn unreachable(&self, source: tokio_postgres::Error) -> ConnectError {
        let help = if self.local.is_some() {
            "the local cluster's log is .kschema/pg/postgres.log; `kschema local stop` and a new run restart it".to_string()
        } else {
            "check that the server is running and reachable, and that --database-url / DATABASE_URL has the right host, port, user and database".to_string()
        };
        ConnectError::Unreachable {
            database: self.to_string(),
            tried: self.socket_paths(),
            help,
            source,
        }
    }

    /// ` (socket /dir/.s.PGSQL.5432)` for unix-socket hosts, else nothing.
    fn socket_paths(&self) -> String {
        let ports = self.config.get_ports();
        let sockets: Vec<String> = self
            .config
            .get_hosts()
            .iter()
            .enumerate()
            .filter_map(|(i, host)| match host {
                #[cfg(unix)]
                Host::Unix(dir) => {
                    let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
                    Some(dir.join(format!(".s.PGSQL.{port}")).display().to_string())
                }
                _ => None,
            })
            .collect();
        if sockets.is_empty() {
            String::new()
        } else {
            format!(" (socket {})", sockets.join(", "))
        }
    }
}

/// The connection as a URL without its password.
impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redacted(&self.config))?;
        if self.local.is_some() {
            f.write_str(" (local cluster in .kschema/pg)")?;
        }
        Ok(())
    }
}

/// `postgresql://user@host:port/db`, never with the password; every host
/// and port, unix sockets as `?host=DIR&port=N`.
pub fn redacted(config: &Config) -> String {
    let user = config.get_user().unwrap_or("");
    let dbname = config.get_dbname().unwrap_or("");
    let ports = config.get_ports();
    let port_of = |i: usize| ports.get(i).or(ports.first()).copied();
    let mut tcp_hosts = Vec::new();
    let mut sockets = Vec::new();
    for (i, host) in config.get_hosts().iter().enumerate() {
        match host {
            Host::Tcp(name) => tcp_hosts.push(match port_of(i) {
                Some(port) => format!("{name}:{port}"),
                None => name.clone(),
            }),
            #[cfg(unix)]
            Host::Unix(path) => sockets.push((path.display().to_string(), port_of(i))),
        }
    }
    let at = if user.is_empty() {
        String::new()
    } else {
        format!("{user}@")
    };
    if !sockets.is_empty() {
        let mut query: Vec<String> = Vec::new();
        for (path, port) in &sockets {
            query.push(format!("host={path}"));
            if let Some(port) = port {
                query.push(format!("port={port}"));
            }
        }
        let tcp = tcp_hosts.join(",");
        return format!("postgresql://{at}{tcp}/{dbname}?{}", query.join("&"));
    }
    if tcp_hosts.is_empty() {
        return format!("postgresql://{at}localhost/{dbname}");
    }
    format!("postgresql://{at}{}/{dbname}", tcp_hosts.join(","))
}

/// TCP keepalives that notice a dead peer in about a minute, not the
/// kernel's two hours: a server that vanishes mid-apply fails the targets
/// on it instead of hanging them.
fn keep_alive(config: &mut Config) {
    config
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(30))
        .keepalives_interval(Duration::from_secs(10))
        .keepalives_retries(3);
}

/// Milliseconds; 0 until `set_connect_timeout` (then the default applies).
static CONNECT_TIMEOUT_MS: AtomicU64 = AtomicU64::new(0);

/// The connect timeout for connections whose URL gives none: set once per
/// run from `--connect-timeout` or kschema.toml.
pub fn set_connect_timeout(limit: Duration) {
    CONNECT_TIMEOUT_MS.store(limit.as_millis().max(1) as u64, AtomicOrdering::Relaxed);
}

/// The connect timeout in force (default 10 s).
pub fn connect_timeout() -> Duration {
    match CONNECT_TIMEOUT_MS.load(AtomicOrdering::Relaxed) {
        0 => DEFAULT_CONNECT_TIMEOUT,
        ms => Duration::from_millis(ms),
    }
}

pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        let db = Database::from_url("postgresql://alice:s3cret@db.example.com:6543/app").unwrap();
        let shown = db.to_string();
        assert_eq!(shown, "postgresql://alice@db.example.com:6543/app");
        assert!(!shown.contains("s3cret"));
        let db = Database::from_url("host=/tmp/x user=bob password=hunter2 dbname=d").unwrap();
        assert!(!db.to_string().contains("hunter2"));
        let db = Database::from_url("postgresql://bob:pw@/d?host=/tmp/x&port=5499").unwrap();
        assert_eq!(db.to_string(), "postgresql://bob@/d?host=/tmp/x&port=5499");
        let err = Database::from_url("postgresql://alice:s3cret@host:notaport/db")
            .err()
            .unwrap();
        assert!(!err.to_string().contains("s3cret"));
    }
}
