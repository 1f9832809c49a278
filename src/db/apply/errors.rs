//! What a failed statement is reported as: the lock timeout and the
//! sessions that held the lock, PostgreSQL's error with its detail and
//! hint; and the backoff between retries.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kschema_core::escape::printable;
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use super::{LockTimeout, TargetFailure};

pub(super) fn is_lock_timeout(error: &tokio_postgres::Error) -> bool {
    error.code() == Some(&SqlState::LOCK_NOT_AVAILABLE)
}

/// Waits 0.2 s, 0.4 s, 0.8 s, … (capped at 5 s), each ±50 %, so parallel
/// targets waiting on the same lock do not retry in step.
pub(super) async fn backoff(attempt: u32) {
    let base = Duration::from_millis(200)
        .saturating_mul(1 << attempt.min(5))
        .min(Duration::from_secs(5));
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let jitter = 0.5 + f64::from(nanos % 1000) / 1000.0;
    tokio::time::sleep(base.mul_f64(jitter)).await;
}

pub(super) async fn failure(
    client: &Client,
    statement: &str,
    error: &tokio_postgres::Error,
    committed: bool,
    attempts: u32,
    budget: LockTimeout,
) -> TargetFailure {
    let mut failure = plain_failure(statement, error, committed);
    if is_lock_timeout(error) {
        failure.error = format!(
            "lock timeout: could not get a lock within {} in {attempts} attempt{}: {}{}",
            humantime(budget.0),
            if attempts == 1 { "" } else { "s" },
            failure.error,
            lock_holders(client).await
        );
    }
    failure
}

pub(super) fn plain_failure(
    statement: &str,
    error: &tokio_postgres::Error,
    committed: bool,
) -> TargetFailure {
    TargetFailure {
        statement: statement.to_string(),
        error: describe_error(error),
        committed,
    }
}

/// Other sessions with an open transaction: the likely holders of a lock.
async fn lock_holders(client: &Client) -> String {
    let rows = client
        .query(
            // Other kschema sessions apply other tenants in short
            // transactions: the likely culprits are the others, oldest first.
            "SELECT pid, state, extract(epoch FROM now() - xact_start)::int, left(regexp_replace(query, '\\s+', ' ', 'g'), 80)
               FROM pg_stat_activity
              WHERE pid <> pg_backend_pid() AND datname = current_database() AND xact_start IS NOT NULL
              ORDER BY application_name = 'kschema', xact_start LIMIT 3",
            &[],
        )
        .await;
    match rows {
        Ok(rows) if !rows.is_empty() => {
            let holders: Vec<String> = rows
                .iter()
                .map(|r| {
                    format!(
                        "pid {} ({}, in a transaction for {}s: {})",
                        r.get::<_, i32>(0),
                        r.get::<_, Option<String>>(1).unwrap_or_default(),
                        r.get::<_, Option<i32>>(2).unwrap_or(0),
                        printable(&r.get::<_, Option<String>>(3).unwrap_or_default())
                    )
                })
                .collect();
            format!("\n  sessions that may hold it: {}", holders.join("; "))
        }
        _ => String::new(),
    }
}

fn humantime(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{}ms", duration.as_millis())
    }
}

/// `ERROR 23502: message (detail; hint)` from a database error, or the
/// driver's message.
pub fn describe_error(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        // The server's messages quote names and values from the catalog:
        // printable, so none of them can break a line or paint a terminal.
        Some(db) => {
            let mut text = format!(
                "{} {}: {}",
                db.severity(),
                db.code().code(),
                printable(db.message())
            );
            if let Some(detail) = db.detail() {
                text.push_str(&format!("\n  detail: {}", printable(detail)));
            }
            if let Some(hint) = db.hint() {
                text.push_str(&format!("\n  hint: {}", printable(hint)));
            }
            text
        }
        None => {
            let mut text = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(cause) = source {
                text.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            printable(&text).into_owned()
        }
    }
}
