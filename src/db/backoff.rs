//! Backing off when the server is under pressure. While tenants are being
//! applied, a watcher samples the server every second: statements waiting
//! for a lock longer than a limit (an online index build waiting for older
//! transactions is how CONCURRENTLY works, and does not count), and free
//! connection slots below a floor. Under pressure no new tenant starts
//! (those in flight go on); scheduling resumes once two samples in a row
//! are clear. Pressure that outlasts `max_pause` stops the scheduling: the
//! tenants left are reported as not started, with the reason.
//!
//! Unlike a rollout's gates, which halt, this waits: it is what keeps a
//! fleet apply from piling up behind an application's long transaction.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_postgres::Client;

use super::Database;

/// When to back off; `None` turns a signal off.
#[derive(Clone, Debug, PartialEq)]
pub struct BackoffSettings {
    /// A statement waiting this long for a lock is pressure.
    pub lock_wait: Option<Duration>,
    /// Fewer free connection slots than this is pressure.
    pub min_free_connections: Option<i32>,
    /// How long to wait for pressure to clear before giving up.
    pub max_pause: Duration,
}

impl Default for BackoffSettings {
    fn default() -> Self {
        BackoffSettings {
            lock_wait: Some(Duration::from_secs(10)),
            // Off unless asked for: kschema's own connections count too, and
            // pausing does not give them back.
            min_free_connections: None,
            max_pause: Duration::from_secs(600),
        }
    }
}

/// What the workers look at before starting a tenant.
#[derive(Default)]
pub struct Pressure {
    paused: AtomicBool,
    /// Why scheduling stopped for good, once pressure outlasted the pause.
    gave_up: Mutex<Option<String>>,
}

impl Pressure {
    /// Waits while the server is under pressure; `Err(reason)` once the
    /// pause ran out (or `stop` was set: `Err` with no reason).
    pub async fn wait(&self, stop: &AtomicBool) -> Result<(), Option<String>> {
        loop {
            if let Some(reason) = self.gave_up.lock().ok().and_then(|g| g.clone()) {
                return Err(Some(reason));
            }
            if stop.load(Ordering::SeqCst) {
                return Err(None);
            }
            if !self.paused.load(Ordering::SeqCst) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub fn gave_up(&self) -> Option<String> {
        self.gave_up.lock().ok().and_then(|g| g.clone())
    }
}

/// What the server says now: the pressure seen, if any.
async fn sample(client: &Client, settings: &BackoffSettings) -> Result<Option<String>, String> {
    if let Some(limit) = settings.lock_wait {
        let waits = super::rollout::lock_waits(client, limit.as_secs_f64()).await?;
        if let Some((pid, waited, _)) = waits.first() {
            return Ok(Some(format!(
                "{} statement{} waiting for a lock over {}s (pid {pid}, {waited:.0}s)",
                waits.len(),
                if waits.len() == 1 { "" } else { "s" },
                limit.as_secs_f64()
            )));
        }
    }
    if let Some(floor) = settings.min_free_connections {
        let free: i32 = client
            .query_one(
                "SELECT current_setting('max_connections')::int
                      - current_setting('superuser_reserved_connections')::int
                      - (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend')",
                &[],
            )
            .await
            .map_err(|e| e.to_string())?
            .get(0);
        if free < floor {
            return Ok(Some(format!(
                "{free} free connection slot{} (fewer than {floor})",
                if free == 1 { "" } else { "s" }
            )));
        }
    }
    Ok(None)
}

/// Starts watching `db`; `notify` hears each pause, resume and giving up.
/// `None` when there is nothing to watch or no connection to watch on
/// (the apply then goes on without backing off, and says so).
pub async fn watch(
    db: &Database,
    settings: &BackoffSettings,
    notify: Arc<dyn Fn(String) + Send + Sync>,
) -> Option<(Arc<Pressure>, tokio::task::JoinHandle<()>)> {
    if settings.lock_wait.is_none() && settings.min_free_connections.is_none() {
        return None;
    }
    let client = match db.connect().await {
        Ok(client) => client,
        Err(e) => {
            notify(format!(
                "not watching the server for pressure (no connection for it: {e})"
            ));
            return None;
        }
    };
    let pressure = Arc::new(Pressure::default());
    let settings = settings.clone();
    let watched = pressure.clone();
    // A server that cannot be sampled is not pressure; the targets' own
    // errors say what is wrong.
    let first = sample(&client, &settings).await.unwrap_or(None);
    // The first sample is taken before any tenant starts.
    let mut since: Option<Instant> = None;
    if let Some(reason) = first {
        pressure.paused.store(true, Ordering::SeqCst);
        since = Some(Instant::now());
        notify(format!(
            "backing off: {reason}; new tenants wait until it clears"
        ));
    }
    let handle = tokio::spawn(async move {
        let mut clear = 0;
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let seen = sample(&client, &settings).await.unwrap_or(None);
            match (seen, since) {
                (Some(reason), None) => {
                    watched.paused.store(true, Ordering::SeqCst);
                    since = Some(Instant::now());
                    clear = 0;
                    notify(format!(
                        "backing off: {reason}; new tenants wait until it clears"
                    ));
                }
                (Some(reason), Some(start)) => {
                    clear = 0;
                    if start.elapsed() > settings.max_pause {
                        let why = format!(
                            "the server stayed under pressure for {}s ({reason})",
                            settings.max_pause.as_secs()
                        );
                        notify(format!("giving up: {why}; the tenants left do not start"));
                        if let Ok(mut gave_up) = watched.gave_up.lock() {
                            *gave_up = Some(why);
                        }
                        watched.paused.store(false, Ordering::SeqCst);
                        return;
                    }
                }
                (None, Some(start)) => {
                    clear += 1;
                    if clear >= 2 {
                        watched.paused.store(false, Ordering::SeqCst);
                        since = None;
                        notify(format!(
                            "pressure cleared after {:.0}s; new tenants start again",
                            start.elapsed().as_secs_f64()
                        ));
                    }
                }
                (None, None) => {}
            }
        }
    });
    Some((pressure, handle))
}
