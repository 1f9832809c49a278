//! How apply runs: timeouts, retries, concurrency and the heavy-statement
//! limit, the history, and who hears the scheduler's notices.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::db::backoff::BackoffSettings;
use crate::db::history::RunInfo;

/// How long a statement may wait for a lock (PostgreSQL's `lock_timeout`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockTimeout(pub Duration);

/// How long a statement may run (`statement_timeout`); `None` for no limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatementTimeout(pub Option<Duration>);

impl LockTimeout {
    pub(super) fn setting(self) -> String {
        format!("{}ms", self.0.as_millis().max(1))
    }
}

impl StatementTimeout {
    pub(super) fn setting(self) -> String {
        match self.0 {
            Some(limit) => format!("{}ms", limit.as_millis().max(1)),
            None => "0".into(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// Tenant schemas applied at once (one connection each); `None` picks
    /// a number for the server (see `automatic_concurrency`).
    pub concurrency: Option<usize>,
    pub lock_timeout: LockTimeout,
    /// The lock budget of online index builds and drops, which wait for
    /// every older transaction (a long report query, say) by design.
    pub index_lock_timeout: LockTimeout,
    pub statement_timeout: StatementTimeout,
    /// Attempts per transaction or statement when a lock is not granted.
    pub lock_attempts: u32,
    /// Stop scheduling new targets at the first failure.
    pub fail_fast: bool,
    /// Set to stop scheduling new targets (Ctrl-C).
    pub stop: Arc<AtomicBool>,
    /// What the history rows say about this run; `None` writes no history.
    pub run: Option<RunInfo>,
    /// Heavy statements (index builds, validations, rewrites) running at
    /// once on one server, whatever the tenant concurrency: a disk builds
    /// two indexes well, not sixteen.
    pub heavy_concurrency: usize,
    /// The permits of that limit on the server being applied to (set per
    /// database by `apply_targets`).
    pub heavy_permits: Option<Arc<Semaphore>>,
    /// When new tenants wait for the server (see `backoff`).
    pub backoff: BackoffSettings,
    /// Hears what the scheduler decides on the way (backing off, resuming).
    pub notify: Notify,
}

/// A listener for the scheduler's notices.
#[derive(Clone)]
pub struct Notify(pub Arc<dyn Fn(String) + Send + Sync>);

impl std::fmt::Debug for Notify {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Notify")
    }
}

impl Default for Notify {
    fn default() -> Self {
        Notify(Arc::new(|_| {}))
    }
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            concurrency: None,
            lock_timeout: LockTimeout(Duration::from_secs(3)),
            index_lock_timeout: LockTimeout(Duration::from_secs(5 * 60)),
            statement_timeout: StatementTimeout(Some(Duration::from_secs(30 * 60))),
            lock_attempts: 5,
            fail_fast: false,
            stop: Arc::new(AtomicBool::new(false)),
            run: None,
            heavy_concurrency: 2,
            heavy_permits: None,
            backoff: BackoffSettings::default(),
            notify: Notify::default(),
        }
    }
}
