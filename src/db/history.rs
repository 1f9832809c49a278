//! The record of what ran: `kschema.history`, one row per target per run,
//! written in the same transaction as the target's changes so the record
//! can never claim a change that did not happen. The live model each run
//! started from is kept once per shape in `kschema.shapes`, so a run can be
//! rolled back to it.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use kschema_core::catalog::Fingerprint;
use kschema_core::model::SchemaModel;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, GenericClient};

/// Creates kschema's own schema and tables if they are missing. Idempotent,
/// safe under concurrent runs (they serialize on the run lock first).
pub const SETUP_SQL: &str = "
CREATE SCHEMA IF NOT EXISTS kschema;
CREATE TABLE IF NOT EXISTS kschema.history (
    id bigserial PRIMARY KEY,
    run_id text NOT NULL,
    target_schema text NOT NULL,
    tenant text,
    -- applied: everything ran; committed: the transaction committed but a
    -- statement after it failed or was interrupted (the next apply finishes
    -- it); failed: rolled back, nothing changed.
    outcome text NOT NULL CHECK (outcome IN ('applied', 'committed', 'failed')),
    started_at timestamptz NOT NULL,
    finished_at timestamptz,
    statements text[] NOT NULL,
    hazards_allowed text[] NOT NULL DEFAULT '{}',
    plan_fingerprint text NOT NULL,
    live_fingerprint text NOT NULL,
    desired_fingerprint text,
    error text,
    kschema_version text NOT NULL,
    os_user text NOT NULL
);
CREATE INDEX IF NOT EXISTS history_target ON kschema.history (target_schema, id DESC);
-- One row per apply over a database: the targets it set out to change, and
-- when it ended (NULL: it was killed, or the server went away). The targets
-- of an unfinished run that never got a history row were never reached.
CREATE TABLE IF NOT EXISTS kschema.runs (
    run_id text PRIMARY KEY,
    started_at timestamptz NOT NULL,
    finished_at timestamptz,
    targets text[] NOT NULL,
    -- Of those, the ones it did not converge: not started (interrupted,
    -- --fail-fast, public failed first, the server went away) or failed,
    -- whether or not their own history row could be written.
    unconverged text[] NOT NULL DEFAULT '{}',
    kschema_version text NOT NULL,
    os_user text NOT NULL
);
-- One row per apply in waves: its waves (tenant ids), the wave it has
-- reached, and — when a gate halted it — which wave, and what was seen.
-- `apply --resume` continues the latest one that did not finish.
CREATE TABLE IF NOT EXISTS kschema.rollouts (
    run_id text PRIMARY KEY,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    waves jsonb NOT NULL,
    reached_wave int NOT NULL DEFAULT 0,
    halted_wave int,
    breach jsonb,
    resumed_by text
);
CREATE TABLE IF NOT EXISTS kschema.shapes (
    fingerprint text PRIMARY KEY,
    model jsonb NOT NULL,
    first_seen timestamptz NOT NULL DEFAULT now()
);
";

/// How a target's run ended, as `kschema.history.outcome` stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistoryOutcome {
    /// Everything ran.
    Applied,
    /// The transaction committed; the statements after it failed or were
    /// interrupted (the next apply finishes them).
    Committed,
    /// Rolled back: nothing changed.
    Failed,
}

impl HistoryOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            HistoryOutcome::Applied => "applied",
            HistoryOutcome::Committed => "committed",
            HistoryOutcome::Failed => "failed",
        }
    }

    /// A stored outcome; one this kschema does not know (a newer version
    /// wrote it) is an error, never a guess.
    pub fn parse(text: &str) -> Result<HistoryOutcome, HistoryError> {
        match text {
            "applied" => Ok(HistoryOutcome::Applied),
            "committed" => Ok(HistoryOutcome::Committed),
            "failed" => Ok(HistoryOutcome::Failed),
            other => Err(HistoryError::UnknownOutcome(other.to_string())),
        }
    }
}

impl std::fmt::Display for HistoryOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reading the history failed.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error(transparent)]
    Db(#[from] tokio_postgres::Error),
    #[error("kschema.history holds the outcome {0:?}, which this kschema does not know (a newer kschema wrote it?)")]
    UnknownOutcome(String),
}

/// What a run records about itself.
#[derive(Clone, Debug)]
pub struct RunInfo {
    pub run_id: String,
    pub os_user: String,
    pub kschema_version: String,
    /// Shapes this run has committed to kschema.shapes: a thousand tenants
    /// of one shape store its model once, not a thousand times.
    stored_shapes: Arc<Mutex<HashSet<Fingerprint>>>,
}

impl RunInfo {
    pub fn new() -> RunInfo {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        RunInfo {
            run_id: format!("{:x}-{:x}", nanos, std::process::id()),
            os_user: os_user(),
            kschema_version: env!("CARGO_PKG_VERSION").to_string(),
            stored_shapes: Arc::default(),
        }
    }

    fn shape_stored(&self, fingerprint: Fingerprint) -> bool {
        self.stored_shapes
            .lock()
            .map(|set| set.contains(&fingerprint))
            .unwrap_or(false)
    }

    /// Called once the transaction that stored the shape has committed.
    pub fn note_shape_stored(&self, fingerprint: Fingerprint) {
        if let Ok(mut set) = self.stored_shapes.lock() {
            set.insert(fingerprint);
        }
    }
}

/// Who ran kschema: `$USER` or `$LOGNAME`, else the account of the process's
/// user id (containers and cron jobs often set neither variable).
fn os_user() -> String {
    let from_env = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty());
    from_env.unwrap_or_else(|| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            if let Ok(uid) = std::fs::metadata("/proc/self").map(|m| m.uid()) {
                let name = std::fs::read_to_string("/etc/passwd")
                    .ok()
                    .and_then(|passwd| {
                        passwd.lines().find_map(|line| {
                            let mut fields = line.split(':');
                            let name = fields.next()?;
                            let id = fields.nth(1)?.parse::<u32>().ok()?;
                            (id == uid).then(|| name.to_string())
                        })
                    });
                return name.unwrap_or_else(|| format!("uid {uid}"));
            }
        }
        "unknown".into()
    })
}

impl Default for RunInfo {
    fn default() -> Self {
        RunInfo::new()
    }
}

/// One target's row, as the apply engine fills it.
#[derive(Clone, Debug)]
pub struct Entry<'a> {
    pub run: &'a RunInfo,
    pub schema: &'a str,
    pub tenant: Option<&'a str>,
    pub statements: &'a [String],
    pub hazards_allowed: &'a [String],
    pub plan_fingerprint: &'a str,
    pub live_fingerprint: Fingerprint,
    /// The model the target started from (stored once per fingerprint).
    pub live_model: Option<&'a SchemaModel>,
    pub desired_fingerprint: Option<&'a str>,
}

/// Inserts the row (in the caller's transaction, for `applied` and
/// `committed`) and returns its id.
pub async fn record(
    client: &impl GenericClient,
    entry: &Entry<'_>,
    outcome: HistoryOutcome,
    started: SystemTime,
    error: Option<&str>,
) -> Result<i64, tokio_postgres::Error> {
    // Typed queries: one round trip each, no separate prepare.
    if let Some(model) = entry
        .live_model
        .filter(|_| !entry.run.shape_stored(entry.live_fingerprint))
    {
        let json = serde_json::to_value(model).unwrap_or(serde_json::Value::Null);
        client
            .execute_typed(
                "INSERT INTO kschema.shapes (fingerprint, model) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[
                    (&entry.live_fingerprint.to_string(), Type::TEXT),
                    (&json, Type::JSONB),
                ],
            )
            .await?;
    }
    let finished = (outcome != HistoryOutcome::Committed).then(SystemTime::now);
    let outcome = outcome.as_str();
    let row = client
        .query_typed_one(
            "INSERT INTO kschema.history (run_id, target_schema, tenant, outcome, started_at, finished_at,
                 statements, hazards_allowed, plan_fingerprint, live_fingerprint, desired_fingerprint,
                 error, kschema_version, os_user)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             RETURNING id",
            &[
                (&entry.run.run_id, Type::TEXT),
                (&entry.schema, Type::TEXT),
                (&entry.tenant, Type::TEXT),
                (&outcome, Type::TEXT),
                (&started, Type::TIMESTAMPTZ),
                (&finished, Type::TIMESTAMPTZ),
                (&entry.statements, Type::TEXT_ARRAY),
                (&entry.hazards_allowed, Type::TEXT_ARRAY),
                (&entry.plan_fingerprint, Type::TEXT),
                (&entry.live_fingerprint.to_string(), Type::TEXT),
                (&entry.desired_fingerprint, Type::TEXT),
                (&error, Type::TEXT),
                (&entry.run.kschema_version, Type::TEXT),
                (&entry.run.os_user, Type::TEXT),
            ],
        )
        .await?;
    Ok(row.get(0))
}

/// Marks `committed` rows finished, several in one statement: `applied`, or
/// still `committed` with the error that stopped the statements after the
/// transaction. Apply gathers these and writes them in batches — a row left
/// `committed` by a crash in between claims less than happened, never more,
/// and the next run that finds the target up to date settles it.
pub async fn finish(client: &Client, finished: &[Finished]) -> Result<(), tokio_postgres::Error> {
    if finished.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = finished.iter().map(|f| f.id).collect();
    let outcomes: Vec<&str> = finished
        .iter()
        .map(|f| {
            if f.error.is_none() {
                HistoryOutcome::Applied.as_str()
            } else {
                HistoryOutcome::Committed.as_str()
            }
        })
        .collect();
    let errors: Vec<Option<&str>> = finished.iter().map(|f| f.error.as_deref()).collect();
    let times: Vec<SystemTime> = finished.iter().map(|f| f.at).collect();
    client
        .execute_typed(
            "UPDATE kschema.history h SET outcome = f.outcome, finished_at = f.at, error = f.error
               FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[]) AS f(id, outcome, error, at)
              WHERE h.id = f.id",
            &[
                (&ids, Type::INT8_ARRAY),
                (&outcomes, Type::TEXT_ARRAY),
                (&errors, Type::TEXT_ARRAY),
                (&times, Type::TIMESTAMPTZ_ARRAY),
            ],
        )
        .await?;
    Ok(())
}

/// A `committed` row whose statements after the transaction have ended.
#[derive(Clone, Debug)]
pub struct Finished {
    pub id: i64,
    pub error: Option<String>,
    pub at: SystemTime,
}

/// Runs whose transaction committed but whose statements after it were
/// interrupted leave `committed` rows; once a later run finds such a target
/// up to date, the record says so.
pub async fn settle(client: &Client, up_to_date: &[String]) -> Result<u64, tokio_postgres::Error> {
    if up_to_date.is_empty() || !exists(client).await? {
        return Ok(0);
    }
    // An up-to-date target is no longer one a past run failed to reach.
    client
        .execute(
            "UPDATE kschema.runs r
                SET targets = ARRAY(SELECT unnest(r.targets) EXCEPT SELECT unnest($1::text[])),
                    unconverged = ARRAY(SELECT unnest(r.unconverged) EXCEPT SELECT unnest($1::text[]))
              WHERE (r.finished_at IS NULL AND r.targets && $1) OR r.unconverged && $1",
            &[&up_to_date],
        )
        .await?;
    client
        .execute(
            "UPDATE kschema.history h SET outcome = 'applied', finished_at = coalesce(finished_at, now()), error = NULL
              WHERE h.outcome = 'committed' AND h.target_schema = ANY($1)
                AND h.id = (SELECT max(id) FROM kschema.history l WHERE l.target_schema = h.target_schema)",
            &[&up_to_date],
        )
        .await
}

/// A history row, as `kschema history` shows it.
#[derive(Clone, Debug)]
pub struct Row {
    pub id: i64,
    pub run_id: String,
    pub target_schema: String,
    pub tenant: Option<String>,
    pub outcome: HistoryOutcome,
    pub started_at: SystemTime,
    pub finished_at: Option<SystemTime>,
    pub statements: Vec<String>,
    pub hazards_allowed: Vec<String>,
    pub error: Option<String>,
    pub os_user: String,
    pub kschema_version: String,
    pub live_fingerprint: String,
}

/// Whether the history tables exist yet.
pub async fn exists(client: &Client) -> Result<bool, tokio_postgres::Error> {
    let row = client
        .query_one("SELECT to_regclass('kschema.history') IS NOT NULL", &[])
        .await?;
    Ok(row.get(0))
}

/// The newest rows first, optionally for some schemas only.
pub async fn rows(
    client: &Client,
    schemas: Option<&[String]>,
    limit: i64,
) -> Result<Vec<Row>, HistoryError> {
    if !exists(client).await? {
        return Ok(Vec::new());
    }
    let rows = client
        .query(
            "SELECT id, run_id, target_schema, tenant, outcome, started_at, finished_at, statements,
                    hazards_allowed, error, os_user, kschema_version, live_fingerprint
               FROM kschema.history
              WHERE $1::text[] IS NULL OR target_schema = ANY($1)
              ORDER BY id DESC LIMIT $2",
            &[&schemas, &limit],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Row {
                id: r.get(0),
                run_id: r.get(1),
                target_schema: r.get(2),
                tenant: r.get(3),
                outcome: HistoryOutcome::parse(r.get(4))?,
                started_at: r.get(5),
                finished_at: r.get(6),
                statements: r.get(7),
                hazards_allowed: r.get(8),
                error: r.get(9),
                os_user: r.get(10),
                kschema_version: r.get(11),
                live_fingerprint: r.get(12),
            })
        })
        .collect()
}

/// Records that a run sets out to change `targets` (before the first).
pub async fn start_run(
    client: &Client,
    run: &RunInfo,
    targets: &[String],
) -> Result<(), tokio_postgres::Error> {
    client
        .execute(
            "INSERT INTO kschema.runs (run_id, started_at, targets, kschema_version, os_user)
             VALUES ($1, now(), $2, $3, $4)
             ON CONFLICT (run_id) DO UPDATE SET targets = kschema.runs.targets || excluded.targets",
            &[&run.run_id, &targets, &run.kschema_version, &run.os_user],
        )
        .await?;
    Ok(())
}

/// Records that the run ended, and which of its targets it did not converge.
pub async fn end_run(
    client: &Client,
    run: &RunInfo,
    unconverged: &[String],
) -> Result<(), tokio_postgres::Error> {
    client
        .execute(
            "UPDATE kschema.runs SET finished_at = now(), unconverged = unconverged || $2
              WHERE run_id = $1",
            &[&run.run_id, &unconverged],
        )
        .await?;
    Ok(())
}

/// Schemas whose latest run did not finish: failed, committed with
/// statements after the transaction still to run, or set out for by a run
/// that ended before reaching them (killed, or its server went away) and
/// not applied since.
pub async fn unfinished(client: &Client) -> Result<Vec<String>, tokio_postgres::Error> {
    if !exists(client).await? {
        return Ok(Vec::new());
    }
    let rows = client
        .query(
            "SELECT target_schema FROM (
                 SELECT DISTINCT ON (target_schema) target_schema, outcome
                   FROM kschema.history ORDER BY target_schema, id DESC) latest
              WHERE outcome <> 'applied'
             UNION
             SELECT planned.target_schema
               FROM kschema.runs r,
                    unnest(CASE WHEN r.finished_at IS NULL THEN r.targets ELSE r.unconverged END)
                        AS planned(target_schema)
              WHERE NOT EXISTS (SELECT 1 FROM kschema.history h
                                 WHERE h.target_schema = planned.target_schema
                                   AND h.started_at >= r.started_at)
             ORDER BY 1",
            &[],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// The model a schema had before its most recent applied run, if recorded.
pub async fn model_before_last_run(
    client: &Client,
    schema: &str,
) -> Result<Option<(Row, Option<SchemaModel>)>, HistoryError> {
    if !exists(client).await? {
        return Ok(None);
    }
    let latest = rows(client, Some(&[schema.to_string()]), 50).await?;
    let Some(row) = latest
        .into_iter()
        .find(|r| r.outcome != HistoryOutcome::Failed)
    else {
        return Ok(None);
    };
    let shape = client
        .query_opt(
            "SELECT model FROM kschema.shapes WHERE fingerprint = $1",
            &[&row.live_fingerprint],
        )
        .await?;
    let model = shape
        .and_then(|r| r.get::<_, Option<serde_json::Value>>(0))
        .and_then(|json| serde_json::from_value(json).ok());
    Ok(Some((row, model)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_round_trip_and_unknown_ones_fail_loudly() {
        for outcome in [
            HistoryOutcome::Applied,
            HistoryOutcome::Committed,
            HistoryOutcome::Failed,
        ] {
            assert_eq!(HistoryOutcome::parse(outcome.as_str()).unwrap(), outcome);
        }
        let error = HistoryOutcome::parse("paused").unwrap_err();
        assert!(error.to_string().contains("\"paused\""), "{error}");
    }
}
