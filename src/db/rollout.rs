//! What a rollout reads and records on the server: its row in
//! `kschema.rollouts`, and the measurements its gates judge (INVALID
//! indexes, standby lag, lock waits, the user's probe).

use kschema_core::rollout::{Breach, Wave};
use tokio_postgres::Client;

use super::apply::describe_error;

/// A rollout that did not finish: halted by a gate, or killed.
#[derive(Debug)]
pub struct Unfinished {
    pub run_id: String,
    pub waves: Vec<Wave>,
    /// The wave to start from (the halted one, or the one it had reached).
    pub from_wave: usize,
    pub breach: Option<Breach>,
}

pub async fn start(client: &Client, run_id: &str, waves: &[Wave]) -> Result<(), String> {
    let waves = serde_json::to_string(waves).map_err(|e| e.to_string())?;
    client
        .execute(
            "INSERT INTO kschema.rollouts (run_id, waves) VALUES ($1, $2::text::jsonb)",
            &[&run_id, &waves],
        )
        .await
        .map_err(|e| describe_error(&e))?;
    Ok(())
}

pub async fn reached(client: &Client, run_id: &str, wave: usize) -> Result<(), String> {
    client
        .execute(
            "UPDATE kschema.rollouts SET reached_wave = $2 WHERE run_id = $1",
            &[&run_id, &(wave as i32)],
        )
        .await
        .map_err(|e| describe_error(&e))?;
    Ok(())
}

pub async fn halt(
    client: &Client,
    run_id: &str,
    wave: usize,
    breach: &Breach,
) -> Result<(), String> {
    let breach = serde_json::to_string(breach).map_err(|e| e.to_string())?;
    client
        .execute(
            "UPDATE kschema.rollouts
                SET finished_at = now(), halted_wave = $2, breach = $3::text::jsonb
              WHERE run_id = $1",
            &[&run_id, &(wave as i32), &breach],
        )
        .await
        .map_err(|e| describe_error(&e))?;
    Ok(())
}

pub async fn finish(client: &Client, run_id: &str) -> Result<(), String> {
    client
        .execute(
            "UPDATE kschema.rollouts SET finished_at = now() WHERE run_id = $1",
            &[&run_id],
        )
        .await
        .map_err(|e| describe_error(&e))?;
    Ok(())
}

/// Marks `resumed` as continued by `run_id`.
pub async fn resumed(client: &Client, resumed: &str, run_id: &str) -> Result<(), String> {
    client
        .execute(
            "UPDATE kschema.rollouts SET resumed_by = $2, finished_at = coalesce(finished_at, now())
              WHERE run_id = $1",
            &[&resumed, &run_id],
        )
        .await
        .map_err(|e| describe_error(&e))?;
    Ok(())
}

/// The latest rollout, if it did not finish and was not resumed yet.
pub async fn unfinished(client: &Client) -> Result<Option<Unfinished>, String> {
    let row = client
        .query_opt(
            "SELECT run_id, waves::text, reached_wave, halted_wave, breach::text,
                    finished_at IS NOT NULL
               FROM kschema.rollouts
              WHERE resumed_by IS NULL
              ORDER BY started_at DESC LIMIT 1",
            &[],
        )
        .await
        .map_err(|e| describe_error(&e))?;
    let Some(row) = row else { return Ok(None) };
    let halted: Option<i32> = row.get(3);
    if halted.is_none() && row.get::<_, bool>(5) {
        return Ok(None);
    }
    let waves: Vec<Wave> = serde_json::from_str(&row.get::<_, String>(1))
        .map_err(|e| format!("kschema.rollouts holds waves kschema cannot read: {e}"))?;
    let breach: Option<Breach> = row
        .get::<_, Option<String>>(4)
        .and_then(|text| serde_json::from_str(&text).ok());
    let reached: i32 = row.get(2);
    Ok(Some(Unfinished {
        run_id: row.get(0),
        waves,
        from_wave: usize::try_from(halted.unwrap_or(reached)).unwrap_or(0),
        breach,
    }))
}

/// Indexes left INVALID in these schemas (`schema.index`).
pub async fn invalid_indexes(client: &Client, schemas: &[String]) -> Result<Vec<String>, String> {
    let rows = client
        .query(
            "SELECT n.nspname || '.' || c.relname
               FROM pg_index i
               JOIN pg_class c ON c.oid = i.indexrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE NOT i.indisvalid AND n.nspname = ANY($1)
              ORDER BY 1",
            &[&schemas],
        )
        .await
        .map_err(|e| describe_error(&e))?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Standbys replaying more than `limit` seconds behind.
pub async fn lagging_standbys(client: &Client, limit: f64) -> Result<Vec<(String, f64)>, String> {
    let rows = client
        .query(
            "SELECT coalesce(nullif(application_name, ''), 'standby') || ' at '
                        || coalesce(host(client_addr), 'local socket'),
                    extract(epoch FROM coalesce(replay_lag, interval '0'))::float8 AS lag
               FROM pg_stat_replication
              WHERE extract(epoch FROM coalesce(replay_lag, interval '0'))::float8 > $1::float8
              ORDER BY lag DESC",
            &[&limit],
        )
        .await
        .map_err(|e| describe_error(&e))?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Statements of this database waiting more than `limit` seconds for a
/// lock. An online index build waiting for older transactions (a
/// `virtualxid` lock) is how CONCURRENTLY works, not pressure.
pub async fn lock_waits(client: &Client, limit: f64) -> Result<Vec<(i32, f64, String)>, String> {
    let rows = client
        .query(
            "SELECT a.pid,
                    max(extract(epoch FROM now() - coalesce(l.waitstart, a.query_start)))::float8 AS waited,
                    a.query
               FROM pg_locks l
               JOIN pg_stat_activity a ON a.pid = l.pid
              WHERE NOT l.granted AND l.locktype <> 'virtualxid'
                AND a.datname = current_database() AND a.pid <> pg_backend_pid()
                AND now() - coalesce(l.waitstart, a.query_start) > make_interval(secs => $1::float8)
              GROUP BY a.pid, a.query
              ORDER BY waited DESC",
            &[&limit],
        )
        .await
        .map_err(|e| describe_error(&e))?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

/// Runs the probe in `schema` on the files' search path, read-only: `None`
/// when it returned true, else what it returned or the error.
pub async fn probe(client: &Client, schema: &str, query: &str) -> Option<String> {
    let path = format!(
        "BEGIN TRANSACTION READ ONLY; SET LOCAL search_path TO {}, public; SET LOCAL statement_timeout = '30s'",
        kschema_core::ident::Ident::new(schema).quoted()
    );
    if let Err(e) = client.batch_execute(&path).await {
        return Some(describe_error(&e));
    }
    let outcome = match client.query(query, &[]).await {
        Ok(rows) => match rows.first().map(|r| r.try_get::<_, Option<bool>>(0)) {
            Some(Ok(Some(true))) => None,
            Some(Ok(Some(false))) => Some("false".into()),
            Some(Ok(None)) => Some("null".into()),
            Some(Err(_)) => Some("not a boolean".into()),
            None => Some("no row".into()),
        },
        Err(e) => Some(describe_error(&e)),
    };
    let _ = client.batch_execute("ROLLBACK").await;
    outcome
}
