//! Runs a plan: `public` first, then the tenant schemas in parallel over a
//! small pool of connections. Each target's transactional statements commit
//! together or not at all; the statements that cannot run in a transaction
//! run after the commit, one at a time.
//!
//! Every statement runs under a lock timeout and a statement timeout. A lock
//! timeout is retried with jittered backoff a bounded number of times (the
//! whole transaction, or the one statement outside it) before the target
//! fails with a message naming the sessions that may hold the lock.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kschema_core::plan::{Plan, Target, TargetPlan, TxMode};
use tokio::sync::mpsc;
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use super::connect::{ConnectError, Database};

/// How long a statement may wait for a lock (PostgreSQL's `lock_timeout`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockTimeout(pub Duration);

/// How long a statement may run (`statement_timeout`); `None` for no limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatementTimeout(pub Option<Duration>);

impl LockTimeout {
    fn setting(self) -> String {
        format!("{}ms", self.0.as_millis().max(1))
    }
}

impl StatementTimeout {
    fn setting(self) -> String {
        match self.0 {
            Some(limit) => format!("{}ms", limit.as_millis().max(1)),
            None => "0".into(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// Tenant schemas applied at once (one connection each).
    pub concurrency: usize,
    pub lock_timeout: LockTimeout,
    pub statement_timeout: StatementTimeout,
    /// Attempts per transaction or statement when a lock is not granted.
    pub lock_attempts: u32,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            concurrency: 4,
            lock_timeout: LockTimeout(Duration::from_secs(3)),
            statement_timeout: StatementTimeout(Some(Duration::from_secs(30 * 60))),
            lock_attempts: 5,
        }
    }
}

/// One target's statements, rendered for its schema: from a fresh plan or a
/// saved one.
#[derive(Clone, Debug)]
pub struct ApplyTarget {
    pub target: Target,
    pub steps: Vec<ApplyStep>,
}

#[derive(Clone, Debug)]
pub struct ApplyStep {
    pub statements: Vec<String>,
    pub transaction: TxMode,
    /// Run before retrying the step after a lock timeout.
    pub before_retry: Option<String>,
}

impl ApplyTarget {
    pub fn from_plan(plan: &TargetPlan) -> ApplyTarget {
        let schema = &plan.target.schema;
        ApplyTarget {
            target: plan.target.clone(),
            steps: plan
                .steps
                .iter()
                .map(|step| ApplyStep {
                    statements: step.render(schema),
                    transaction: step.transaction,
                    before_retry: step.before_retry.as_ref().map(|s| s.render(schema)),
                })
                .collect(),
        }
    }

    /// The non-empty targets of a plan.
    pub fn all(plan: &Plan) -> Vec<ApplyTarget> {
        plan.targets
            .iter()
            .filter(|t| !t.is_empty())
            .map(ApplyTarget::from_plan)
            .collect()
    }
}

/// What happened to one target.
#[derive(Clone, Debug)]
pub enum Outcome {
    Applied {
        statements: usize,
        elapsed: Duration,
    },
    Failed(TargetFailure),
    /// Not attempted (e.g. because `public` failed first).
    Skipped {
        reason: String,
    },
}

#[derive(Clone, Debug)]
pub struct TargetFailure {
    /// The statement that failed.
    pub statement: String,
    /// PostgreSQL's message, with its detail and hint.
    pub error: String,
    /// Whether the transactional part had committed (the failure is in the
    /// statements that run after it; the next apply finishes them).
    pub committed: bool,
}

#[derive(Clone, Debug)]
pub struct TargetResult {
    pub target: Target,
    pub outcome: Outcome,
}

impl TargetResult {
    pub fn succeeded(&self) -> bool {
        matches!(self.outcome, Outcome::Applied { .. })
    }
}

/// Applies `targets` (public first, then the rest in parallel); `on_done`
/// hears about each target as it finishes. Connection failures before
/// anything ran are errors; failures of a target are outcomes.
pub async fn apply_targets(
    db: &Database,
    targets: Vec<ApplyTarget>,
    options: &ApplyOptions,
    mut on_done: impl FnMut(&TargetResult),
) -> Result<Vec<TargetResult>, ConnectError> {
    let mut results = Vec::new();
    let (public, tenants): (Vec<ApplyTarget>, Vec<ApplyTarget>) =
        targets.into_iter().partition(|t| t.target.is_public());

    // Tenant tables reference public ones: public converges first.
    if let Some(public) = public.first() {
        let client = db.connect().await?;
        let result = apply_target(&client, public, options).await;
        on_done(&result);
        let failed = !result.succeeded();
        results.push(result);
        if failed {
            for tenant in tenants {
                let skipped = TargetResult {
                    target: tenant.target.clone(),
                    outcome: Outcome::Skipped {
                        reason: "public failed first".into(),
                    },
                };
                on_done(&skipped);
                results.push(skipped);
            }
            return Ok(results);
        }
    }
    if tenants.is_empty() {
        return Ok(results);
    }

    let workers = options.concurrency.clamp(1, tenants.len());
    let mut clients = Vec::with_capacity(workers);
    for _ in 0..workers {
        clients.push(db.connect().await?);
    }
    let queue: Arc<Mutex<VecDeque<ApplyTarget>>> =
        Arc::new(Mutex::new(tenants.into_iter().collect()));
    let (sender, mut receiver) = mpsc::unbounded_channel();
    for client in clients {
        let queue = queue.clone();
        let sender = sender.clone();
        let options = options.clone();
        tokio::spawn(async move {
            loop {
                let next = queue.lock().ok().and_then(|mut q| q.pop_front());
                let Some(target) = next else { break };
                let result = apply_target(&client, &target, &options).await;
                if sender.send(result).is_err() {
                    break;
                }
            }
        });
    }
    drop(sender);
    while let Some(result) = receiver.recv().await {
        on_done(&result);
        results.push(result);
    }
    Ok(results)
}

/// Applies one target's steps on `client`.
pub async fn apply_target(
    client: &Client,
    plan: &ApplyTarget,
    options: &ApplyOptions,
) -> TargetResult {
    let started = Instant::now();
    let transactional: Vec<String> = plan
        .steps
        .iter()
        .filter(|s| s.transaction == TxMode::Transactional)
        .flat_map(|s| s.statements.iter().cloned())
        .collect();
    let after: Vec<&ApplyStep> = plan
        .steps
        .iter()
        .filter(|s| s.transaction == TxMode::NonTransactional)
        .collect();
    let mut count = transactional.len();
    let outcome = match run_transaction(client, &transactional, options).await {
        Err(failure) => Outcome::Failed(failure),
        Ok(()) => {
            let mut failed = None;
            for step in after {
                count += step.statements.len();
                if let Err(failure) = run_outside_transaction(client, step, options).await {
                    failed = Some(failure);
                    break;
                }
            }
            match failed {
                Some(failure) => Outcome::Failed(failure),
                None => Outcome::Applied {
                    statements: count,
                    elapsed: started.elapsed(),
                },
            }
        }
    };
    TargetResult {
        target: plan.target.clone(),
        outcome,
    }
}

/// The transactional statements, retried as a whole on a lock timeout.
async fn run_transaction(
    client: &Client,
    statements: &[String],
    options: &ApplyOptions,
) -> Result<(), TargetFailure> {
    if statements.is_empty() {
        return Ok(());
    }
    let setup = format!(
        "BEGIN; SET LOCAL lock_timeout = '{}'; SET LOCAL statement_timeout = '{}'",
        options.lock_timeout.setting(),
        options.statement_timeout.setting()
    );
    let mut attempt = 1;
    loop {
        let result = async {
            client
                .batch_execute(&setup)
                .await
                .map_err(|e| ("BEGIN".to_string(), e))?;
            for statement in statements {
                client
                    .batch_execute(statement)
                    .await
                    .map_err(|e| (statement.clone(), e))?;
            }
            client
                .batch_execute("COMMIT")
                .await
                .map_err(|e| ("COMMIT".to_string(), e))
        }
        .await;
        let Err((statement, error)) = result else {
            return Ok(());
        };
        let _ = client.batch_execute("ROLLBACK").await;
        if is_lock_timeout(&error) && attempt < options.lock_attempts {
            backoff(attempt).await;
            attempt += 1;
            continue;
        }
        return Err(failure(client, &statement, &error, false, attempt, options).await);
    }
}

/// One step outside the transaction: each statement retried on a lock
/// timeout, after the step's cleanup (if any) made it safe to run again.
async fn run_outside_transaction(
    client: &Client,
    step: &ApplyStep,
    options: &ApplyOptions,
) -> Result<(), TargetFailure> {
    let settings = format!(
        "SET lock_timeout = '{}'; SET statement_timeout = '{}'",
        options.lock_timeout.setting(),
        options.statement_timeout.setting()
    );
    client
        .batch_execute(&settings)
        .await
        .map_err(|e| plain_failure("SET lock_timeout", &e, true))?;
    for statement in &step.statements {
        let mut attempt = 1;
        loop {
            match client.batch_execute(statement).await {
                Ok(()) => break,
                Err(error) if is_lock_timeout(&error) && attempt < options.lock_attempts => {
                    backoff(attempt).await;
                    attempt += 1;
                    if let Some(cleanup) = &step.before_retry {
                        client
                            .batch_execute(cleanup)
                            .await
                            .map_err(|e| plain_failure(cleanup, &e, true))?;
                    }
                }
                Err(error) => {
                    return Err(failure(client, statement, &error, true, attempt, options).await)
                }
            }
        }
    }
    Ok(())
}

fn is_lock_timeout(error: &tokio_postgres::Error) -> bool {
    error.code() == Some(&SqlState::LOCK_NOT_AVAILABLE)
}

/// Waits 0.2 s, 0.4 s, 0.8 s, … (capped at 5 s), each ±50 %, so parallel
/// targets waiting on the same lock do not retry in step.
async fn backoff(attempt: u32) {
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

async fn failure(
    client: &Client,
    statement: &str,
    error: &tokio_postgres::Error,
    committed: bool,
    attempts: u32,
    options: &ApplyOptions,
) -> TargetFailure {
    let mut failure = plain_failure(statement, error, committed);
    if is_lock_timeout(error) {
        failure.error = format!(
            "could not get a lock within {} in {attempts} attempt{}: {}{}",
            humantime(options.lock_timeout.0),
            if attempts == 1 { "" } else { "s" },
            failure.error,
            lock_holders(client).await
        );
    }
    failure
}

fn plain_failure(statement: &str, error: &tokio_postgres::Error, committed: bool) -> TargetFailure {
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
            "SELECT pid, state, extract(epoch FROM now() - xact_start)::int, left(regexp_replace(query, '\\s+', ' ', 'g'), 80)
               FROM pg_stat_activity
              WHERE pid <> pg_backend_pid() AND datname = current_database() AND xact_start IS NOT NULL
              ORDER BY xact_start LIMIT 3",
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
                        r.get::<_, Option<String>>(3).unwrap_or_default()
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
        Some(db) => {
            let mut text = format!("{} {}: {}", db.severity(), db.code().code(), db.message());
            if let Some(detail) = db.detail() {
                text.push_str(&format!("\n  detail: {detail}"));
            }
            if let Some(hint) = db.hint() {
                text.push_str(&format!("\n  hint: {hint}"));
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
            text
        }
    }
}
