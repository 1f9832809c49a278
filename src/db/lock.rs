//! The run lock: one `apply` per database at a time. A PostgreSQL advisory
//! lock held by a dedicated connection for the whole run; a second run waits
//! a bounded time, then exits saying who holds it.

use std::time::{Duration, Instant};

use miette::Diagnostic;
use thiserror::Error;
use tokio_postgres::Client;

use super::connect::{ConnectError, Database};

/// The advisory lock's two keys ("ksch", 1).
const RUN_LOCK: (i32, i32) = (0x6b73_6368, 1);

#[derive(Debug, Error, Diagnostic)]
pub enum LockError {
    #[error("another kschema apply is running on this database: {holder}")]
    #[diagnostic(
        code(kschema::apply::locked),
        help("wait for it to finish (kschema never interleaves two runs), or pass --lock-wait SECONDS to wait longer")
    )]
    Held { holder: String },
    #[error("taking the run lock failed")]
    #[diagnostic(
        code(kschema::apply::lock_query),
        help("check the database connection and permissions")
    )]
    Query(#[source] tokio_postgres::Error),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Connect(#[from] ConnectError),
}

/// Held until dropped (the connection closes, the lock goes with it).
pub struct RunLock {
    _client: Client,
}

/// Takes the database's run lock, waiting up to `wait`.
pub async fn acquire(db: &Database, wait: Duration, run_id: &str) -> Result<RunLock, LockError> {
    let client = db.connect().await?;
    client
        .batch_execute(&format!(
            "SET application_name = 'kschema apply (run {run_id})'"
        ))
        .await
        .map_err(LockError::Query)?;
    let deadline = Instant::now() + wait;
    loop {
        let locked: bool = client
            .query_one(
                "SELECT pg_try_advisory_lock($1, $2)",
                &[&RUN_LOCK.0, &RUN_LOCK.1],
            )
            .await
            .map_err(LockError::Query)?
            .get(0);
        if locked {
            return Ok(RunLock { _client: client });
        }
        if Instant::now() >= deadline {
            return Err(LockError::Held {
                holder: holder(&client).await,
            });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Who holds the run lock, for the message.
async fn holder(client: &Client) -> String {
    let row = client
        .query_opt(
            "SELECT a.pid, a.usename::text, a.application_name, coalesce(host(a.client_addr), 'a local socket'),
                    to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ')
               FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
              WHERE l.locktype = 'advisory' AND l.granted
                AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                AND l.classid = $1::int::oid AND l.objid = $2::int::oid AND l.objsubid = 2
              LIMIT 1",
            &[&RUN_LOCK.0, &RUN_LOCK.1],
        )
        .await;
    match row {
        Ok(Some(r)) => format!(
            "pid {} ({}, user {}, from {}, connected since {})",
            r.get::<_, i32>(0),
            r.get::<_, String>(2),
            r.get::<_, String>(1),
            r.get::<_, String>(3),
            r.get::<_, String>(4)
        ),
        Ok(None) => "a session that just released it".into(),
        Err(e) => format!("a session kschema cannot see ({e})"),
    }
}
