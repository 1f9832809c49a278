//! Runs a plan: `public` first, then the tenant schemas in parallel over a
//! small pool of connections. Each target's transactional statements commit
//! together or not at all; the statements that cannot run in a transaction
//! run after the commit, one at a time.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kschema_core::plan::{Plan, Target, TargetPlan};
use tokio::sync::mpsc;
use tokio_postgres::Client;

use super::connect::{ConnectError, Database};

#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// Tenant schemas applied at once (one connection each).
    pub concurrency: usize,
    /// How long a statement waits for a lock before it gives up.
    pub lock_timeout: Duration,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            concurrency: 4,
            lock_timeout: Duration::from_secs(3),
        }
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

/// Applies every non-empty target of `plan`; `on_done` hears about each
/// target as it finishes. Connection failures before anything ran are
/// errors; failures of a target are outcomes.
pub async fn apply_plan(
    db: &Database,
    plan: &Plan,
    options: &ApplyOptions,
    mut on_done: impl FnMut(&TargetResult),
) -> Result<Vec<TargetResult>, ConnectError> {
    let pending: Vec<&TargetPlan> = plan.targets.iter().filter(|t| !t.is_empty()).collect();
    let mut results = Vec::new();
    let (public, tenants): (Vec<&TargetPlan>, Vec<&TargetPlan>) =
        pending.into_iter().partition(|t| t.target.is_public());

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
    let queue: Arc<Mutex<VecDeque<TargetPlan>>> =
        Arc::new(Mutex::new(tenants.into_iter().cloned().collect()));
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
    plan: &TargetPlan,
    options: &ApplyOptions,
) -> TargetResult {
    let started = Instant::now();
    let (transactional, after) = plan.statements();
    let lock_timeout = format!("{}ms", options.lock_timeout.as_millis());
    let outcome = match run_transaction(client, &transactional, &lock_timeout).await {
        Err(failure) => Outcome::Failed(failure),
        Ok(()) => match run_outside_transaction(client, &after, &lock_timeout).await {
            Err(failure) => Outcome::Failed(failure),
            Ok(()) => Outcome::Applied {
                statements: transactional.len() + after.len(),
                elapsed: started.elapsed(),
            },
        },
    };
    TargetResult {
        target: plan.target.clone(),
        outcome,
    }
}

async fn run_transaction(
    client: &Client,
    statements: &[String],
    lock_timeout: &str,
) -> Result<(), TargetFailure> {
    if statements.is_empty() {
        return Ok(());
    }
    let setup = format!("BEGIN; SET LOCAL lock_timeout = '{lock_timeout}'");
    client
        .batch_execute(&setup)
        .await
        .map_err(|e| failure("BEGIN", &e, false))?;
    for statement in statements {
        if let Err(e) = client.batch_execute(statement).await {
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(failure(statement, &e, false));
        }
    }
    client
        .batch_execute("COMMIT")
        .await
        .map_err(|e| failure("COMMIT", &e, false))
}

async fn run_outside_transaction(
    client: &Client,
    statements: &[String],
    lock_timeout: &str,
) -> Result<(), TargetFailure> {
    if statements.is_empty() {
        return Ok(());
    }
    client
        .batch_execute(&format!("SET lock_timeout = '{lock_timeout}'"))
        .await
        .map_err(|e| failure("SET lock_timeout", &e, true))?;
    for statement in statements {
        client
            .batch_execute(statement)
            .await
            .map_err(|e| failure(statement, &e, true))?;
    }
    Ok(())
}

fn failure(statement: &str, error: &tokio_postgres::Error, committed: bool) -> TargetFailure {
    TargetFailure {
        statement: statement.to_string(),
        error: describe_error(error),
        committed,
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
