//! Which database kschema talks to, how it is shown (never with its
//! password), and connecting to it with errors that say what to do.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
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
    #[error("cannot connect to {database}")]
    #[diagnostic(code(kschema::db::connect), help("{help}"))]
    Unreachable {
        database: String,
        help: String,
        #[source]
        source: tokio_postgres::Error,
    },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Local(#[from] LocalError),
}

/// A database to connect to.
#[derive(Clone)]
pub struct Database {
    config: Config,
    /// The local cluster, when kschema started it.
    local: Option<LocalCluster>,
}

impl Database {
    /// From a URL (or `key=value` string).
    pub fn from_url(url: &str) -> Result<Self, ConnectError> {
        let mut config = Config::from_str(url).map_err(|e| ConnectError::InvalidUrl {
            // The parser's message never repeats the URL, so no password leaks.
            reason: e.to_string(),
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        config.application_name("kschema");
        Ok(Database {
            config,
            local: None,
        })
    }

    /// The project's local cluster, started (and created) if needed.
    pub fn local(project: &Path) -> Result<Self, ConnectError> {
        let cluster = LocalCluster::for_project(project)?;
        cluster.ensure_running()?;
        let mut config = Self::cluster_config(&cluster, "postgres");
        config.connect_timeout(Duration::from_secs(10));
        Ok(Database {
            config,
            local: Some(cluster),
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

    /// Opens a connection; its driver task runs in the background.
    pub async fn connect(&self) -> Result<Client, ConnectError> {
        let (client, connection) = self
            .config
            .connect(NoTls)
            .await
            .map_err(|e| self.unreachable(e))?;
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
            help,
            source,
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

/// `postgresql://user@host:port/db`, never with the password.
pub fn redacted(config: &Config) -> String {
    let user = config.get_user().unwrap_or("");
    let dbname = config.get_dbname().unwrap_or("");
    let port = config.get_ports().first().copied();
    let mut tcp_hosts = Vec::new();
    let mut socket = None;
    for host in config.get_hosts() {
        match host {
            Host::Tcp(name) => tcp_hosts.push(name.clone()),
            #[cfg(unix)]
            Host::Unix(path) => socket = Some(path.display().to_string()),
        }
    }
    let at = if user.is_empty() {
        String::new()
    } else {
        format!("{user}@")
    };
    match (tcp_hosts.first(), socket) {
        (Some(host), _) => {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            format!("postgresql://{at}{host}{port}/{dbname}")
        }
        (None, Some(path)) => format!("postgresql://{at}/{dbname}?host={path}"),
        (None, None) => format!("postgresql://{at}localhost/{dbname}"),
    }
}

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
        let err = Database::from_url("postgresql://alice:s3cret@host:notaport/db")
            .err()
            .unwrap();
        assert!(!err.to_string().contains("s3cret"));
    }
}
