//! Runs a plan: the shared schemas first, then the tenant schemas in parallel over a
//! small pool of connections. Each target's transactional statements commit
//! together or not at all, with its history row in the same transaction;
//! the statements that cannot run in a transaction run after the commit, one
//! at a time, and the row is then marked applied.
//!
//! Every statement runs under a lock timeout and a statement timeout. A lock
//! timeout is retried with jittered backoff a bounded number of times (the
//! whole transaction, or the one statement outside it) before the target
//! fails with a message naming the sessions that may hold the lock.
//!
//! A stop flag (Ctrl-C, or the first failure with `--fail-fast`) stops
//! scheduling new targets; targets in flight finish or roll back.
//!
//! The scheduling is here; one target's run is `target`'s, what a failure
//! is reported as `errors`'s.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kschema_core::catalog::Fingerprint;
use kschema_core::hazard::HazardKind;
use kschema_core::model::SchemaModel;
use kschema_core::model::SchemaName;
use kschema_core::plan::{Plan, Step, Target, TargetPlan, TxMode};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, Semaphore};
use tokio_postgres::Client;

use super::backoff::Pressure;
use super::connect::{ConnectError, Database};
use super::history;

mod errors;
mod options;
mod target;
pub use errors::describe_error;
pub use options::{ApplyOptions, LockTimeout, Notify, StatementTimeout};
use target::apply_target;

/// Advisory lock keys: the pair (class, object) PostgreSQL's two-int form
/// takes. One class for per-tenant locks, keyed by the schema's hash.
const TENANT_LOCK_CLASS: i32 = 0x6b73_6368; // "ksch"

/// One target's statements, rendered for its schema: from a fresh plan or a
/// saved one.
#[derive(Clone, Debug)]
pub struct ApplyTarget {
    pub target: Target,
    pub steps: Vec<ApplyStep>,
    /// The live state the plan was made from (for the history).
    pub live_fingerprint: Fingerprint,
    pub live_model: Option<Arc<SchemaModel>>,
    /// Hazards the steps carry (all allowed, or apply would have refused).
    pub hazards: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct ApplyStep {
    pub statements: Vec<String>,
    pub transaction: TxMode,
    /// Run before retrying the step after a lock timeout.
    pub before_retry: Option<String>,
    /// A public drop that waits for the tenants (see `defer_shared_drops`).
    pub after_tenants: bool,
    /// Runs with the index lock budget (see `Step::index_build`).
    pub index_build: bool,
    /// Reads or writes the whole table (an index build, a validation, a
    /// rewrite): runs under the server's heavy-statement limit.
    pub heavy: bool,
}

impl ApplyStep {
    pub fn from_step(step: &Step, schema: &SchemaName) -> ApplyStep {
        ApplyStep {
            statements: step.render(schema),
            transaction: step.transaction,
            before_retry: step.before_retry.as_ref().map(|s| s.render(schema)),
            after_tenants: step.after_tenants,
            index_build: step.index_build,
            heavy: step.index_build
                || step.hazards.iter().any(|h| {
                    matches!(
                        h.kind,
                        HazardKind::BuildsIndex
                            | HazardKind::ValidatesConstraint
                            | HazardKind::RewritesTable
                    )
                }),
        }
    }
}

impl ApplyTarget {
    pub fn from_plan(plan: &TargetPlan, live_model: Option<Arc<SchemaModel>>) -> ApplyTarget {
        let schema = &plan.target.schema;
        let hazards =
            kschema_core::hazard::kind_names(plan.steps.iter().flat_map(|s| s.hazards.iter()));
        ApplyTarget {
            target: plan.target.clone(),
            steps: plan
                .steps
                .iter()
                .map(|step| ApplyStep::from_step(step, schema))
                .collect(),
            live_fingerprint: plan.live_fingerprint,
            live_model,
            hazards,
        }
    }

    /// The non-empty targets of a plan, with the live models they start from.
    pub fn all(plan: &Plan, live: &kschema_core::catalog::LiveState) -> Vec<ApplyTarget> {
        plan.targets
            .iter()
            .filter(|t| !t.is_empty())
            .map(|t| ApplyTarget::from_plan(t, live.get(&t.target.schema).map(|s| s.model.clone())))
            .collect()
    }

    /// The steps that run before the tenants, and (when there are any) those
    /// that run after them, as a target of their own with the same starting
    /// state: the run's history then says where the schema started from.
    pub fn split_after_tenants(self) -> (ApplyTarget, Option<ApplyTarget>) {
        if !self.steps.iter().any(|s| s.after_tenants) {
            return (self, None);
        }
        let (after, before): (Vec<ApplyStep>, Vec<ApplyStep>) =
            self.steps.iter().cloned().partition(|s| s.after_tenants);
        let after = ApplyTarget {
            steps: after,
            ..self.clone()
        };
        (
            ApplyTarget {
                steps: before,
                ..self
            },
            Some(after),
        )
    }

    fn statements(&self) -> Vec<String> {
        self.steps
            .iter()
            .flat_map(|s| s.statements.iter().cloned())
            .collect()
    }

    /// A hash of exactly what runs.
    fn plan_fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        for statement in self.statements() {
            hasher.update(statement.as_bytes());
            hasher.update([0]);
        }
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
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
    /// Not attempted (public failed first, the run was interrupted, …).
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

/// Reports `targets` as not started, for `reason`.
fn skip_all(
    reason: &str,
    targets: Vec<ApplyTarget>,
    results: &mut Vec<TargetResult>,
    on_done: &mut dyn FnMut(&TargetResult),
) {
    for target in targets {
        let skipped = TargetResult {
            target: target.target,
            outcome: Outcome::Skipped {
                reason: reason.into(),
            },
        };
        on_done(&skipped);
        results.push(skipped);
    }
}

/// Applies `targets` (the shared schemas first, then the rest in
/// parallel); `on_done`
/// hears about each target as it finishes. Connection failures before
/// anything ran are errors; failures of a target are outcomes.
pub async fn apply_targets(
    db: &Database,
    targets: Vec<ApplyTarget>,
    options: &ApplyOptions,
    mut on_done: impl FnMut(&TargetResult),
) -> Result<Vec<TargetResult>, ConnectError> {
    // The run's intent, so a run that dies part-way leaves a record of the
    // targets it never reached (`--only-failed` picks them up).
    let record = match &options.run {
        Some(run) if !targets.is_empty() => {
            let client = db.connect().await?;
            let schemas: Vec<String> = targets
                .iter()
                .map(|t| t.target.schema.as_str().to_string())
                .collect();
            let _ = history::start_run(&client, run, &schemas).await;
            Some((client, run))
        }
        _ => None,
    };
    // This server's own limits (a shard's), over the run's.
    let (concurrency, heavy) = db.limits();
    let heavy = heavy.unwrap_or(options.heavy_concurrency).max(1);
    let options = &ApplyOptions {
        concurrency: concurrency.or(options.concurrency),
        heavy_concurrency: heavy,
        heavy_permits: Some(Arc::new(Semaphore::new(heavy))),
        ..options.clone()
    };
    let results = apply_all(db, targets, options, &mut on_done).await;
    if let (Some((client, run)), Ok(results)) = (record, &results) {
        let unconverged: Vec<String> = results
            .iter()
            .filter(|r| !r.succeeded())
            .map(|r| r.target.schema.as_str().to_string())
            .collect();
        let _ = history::end_run(&client, run, &unconverged).await;
    }
    results
}

async fn apply_all(
    db: &Database,
    targets: Vec<ApplyTarget>,
    options: &ApplyOptions,
    mut on_done: impl FnMut(&TargetResult),
) -> Result<Vec<TargetResult>, ConnectError> {
    let mut results = Vec::new();
    let (shared, tenants): (Vec<ApplyTarget>, Vec<ApplyTarget>) =
        targets.into_iter().partition(|t| t.target.is_shared());

    // Tenant tables reference shared ones: the shared schemas converge
    // first, one after the other (public, then the others by name, as
    // they are built), except for the drops tenant foreign keys may still
    // depend on, which wait until the tenants have dropped those keys.
    let mut waiting: Vec<ApplyTarget> = Vec::new();
    let mut shared = shared.into_iter();
    while let Some(target) = shared.next() {
        let (before, after) = target.split_after_tenants();
        if !before.steps.is_empty() {
            let mut session = ApplySession::new(db.connect().await?);
            let result = apply_target(&mut session, &before, options).await;
            session.flush().await;
            let failed = !result.succeeded();
            // With drops still to come, the target is reported once they ran.
            if failed || after.is_none() {
                on_done(&result);
                results.push(result);
            }
            if failed {
                let reason = format!("{} failed first", before.target);
                let rest: Vec<ApplyTarget> = shared.chain(tenants).collect();
                skip_all(&reason, rest, &mut results, &mut on_done);
                return Ok(results);
            }
        }
        waiting.extend(after);
    }
    let tenant_results = apply_tenants(db, tenants, options, &mut on_done).await?;
    let tenants_converged = tenant_results.iter().all(TargetResult::succeeded);
    results.extend(tenant_results);
    // The waiting drops in the reverse order: a later shared schema may
    // depend on an earlier one.
    for after in waiting.into_iter().rev() {
        let result = if tenants_converged && !options.stop.load(Ordering::SeqCst) {
            let mut session = ApplySession::new(db.connect().await?);
            let result = apply_target(&mut session, &after, options).await;
            session.flush().await;
            result
        } else {
            TargetResult {
                target: after.target.clone(),
                outcome: Outcome::Failed(TargetFailure {
                    statement: after.statements().first().cloned().unwrap_or_default(),
                    error: "its drops wait for every tenant schema to converge, and some did not; the next apply runs them".into(),
                    committed: true,
                }),
            }
        };
        on_done(&result);
        results.push(result);
    }
    Ok(results)
}

/// Connections to apply with when no number is given: twice the CPUs of a
/// server on this machine (each tenant waits on I/O and round trips as much
/// as it computes), 8 for a remote one whose size is unknown — and never
/// more than half the connection slots still free, so the application
/// keeps room to work during the apply.
pub async fn automatic_concurrency(client: &Client, db: &Database) -> usize {
    let on_this_machine = db.is_local()
        || db.config().get_hosts().iter().all(|host| match host {
            tokio_postgres::config::Host::Tcp(name) => {
                matches!(name.as_str(), "localhost" | "127.0.0.1" | "::1")
            }
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(_) => true,
        });
    let preferred = if on_this_machine {
        std::thread::available_parallelism().map_or(4, |n| n.get() * 2)
    } else {
        8
    };
    let free_slots = super::backoff::slots(client)
        .await
        .map_or(preferred, |slots| {
            usize::try_from(slots.free / 2).unwrap_or(1)
        });
    preferred.min(free_slots).clamp(1, 16)
}

/// The tenant targets, in parallel over `options.concurrency` connections.
async fn apply_tenants(
    db: &Database,
    tenants: Vec<ApplyTarget>,
    options: &ApplyOptions,
    on_done: &mut impl FnMut(&TargetResult),
) -> Result<Vec<TargetResult>, ConnectError> {
    let mut results = Vec::new();
    if tenants.is_empty() {
        return Ok(results);
    }
    if options.stop.load(Ordering::SeqCst) {
        skip_all("interrupted", tenants, &mut results, on_done);
        return Ok(results);
    }

    let first = db.connect().await?;
    let wanted = match options.concurrency {
        Some(n) => n,
        None => automatic_concurrency(&first, db).await,
    };
    let workers = wanted.clamp(1, tenants.len());
    let watch = super::backoff::prepare(db, &options.backoff, options.notify.0.clone()).await;
    let mut clients = Vec::with_capacity(workers);
    clients.push(first);
    for _ in 1..workers {
        match db.connect().await {
            Ok(client) => clients.push(client),
            // Fewer connections than asked for still apply; the watcher
            // takes more as slots come free.
            Err(e) if e.is_out_of_slots() => break,
            Err(e) => return Err(e),
        }
    }
    let watching = match watch {
        Some(watch) => Some(watch.start(clients.len()).await),
        None => None,
    };
    let pressure = watching.as_ref().map(|(pressure, _)| pressure.clone());
    let queue: Arc<Mutex<VecDeque<ApplyTarget>>> =
        Arc::new(Mutex::new(tenants.into_iter().collect()));
    let (sender, mut receiver) = mpsc::unbounded_channel();
    let lost = Arc::new(AtomicBool::new(false));
    // Workers beyond the connections opened start without one, and take
    // one when the server has a slot to spare.
    let mut connections: Vec<Option<Client>> = clients.into_iter().map(Some).collect();
    if pressure.is_some() {
        connections.resize_with(workers, || None);
    }
    for client in connections {
        let queue = queue.clone();
        let sender = sender.clone();
        let options = options.clone();
        let db = db.clone();
        let lost = lost.clone();
        let pressure = pressure.clone();
        tokio::spawn(async move {
            let mut session = client.map(ApplySession::new);
            loop {
                if options.stop.load(Ordering::SeqCst) {
                    break;
                }
                if let Some(pressure) = &pressure {
                    // Under lock pressure, no new tenant starts.
                    if pressure.wait(&options.stop).await.is_err() {
                        break;
                    }
                    // Short of connection slots, this one goes back.
                    if session.is_some() && pressure.give_back() {
                        if let Some(mut given) = session.take() {
                            given.flush().await;
                        }
                    }
                    if session.is_none() {
                        let has_work = || queue.lock().map(|q| !q.is_empty()).unwrap_or(false);
                        match take_connection(&db, pressure, &options.stop, has_work).await {
                            Some(Ok(client)) => session = Some(ApplySession::new(client)),
                            Some(Err(())) => {
                                lost.store(true, Ordering::SeqCst);
                                break;
                            }
                            None => break,
                        }
                    }
                }
                let Some(active) = session.as_mut() else {
                    break;
                };
                let next = queue.lock().ok().and_then(|mut q| q.pop_front());
                let Some(target) = next else { break };
                let result = apply_target(active, &target, &options).await;
                if active.client.is_closed() {
                    // The backend died or was terminated: carry on with a
                    // new connection, or leave the rest not started if the
                    // server is gone.
                    match db.connect().await {
                        Ok(client) => {
                            let finished = std::mem::take(&mut active.finished);
                            *active = ApplySession::new(client);
                            active.finished = finished;
                        }
                        Err(_) => {
                            lost.store(true, Ordering::SeqCst);
                            let _ = sender.send(result);
                            break;
                        }
                    }
                }
                if active.finished.len() >= FINISHED_BATCH {
                    active.flush().await;
                }
                if options.fail_fast && !result.succeeded() {
                    options.stop.store(true, Ordering::SeqCst);
                }
                if sender.send(result).is_err() {
                    break;
                }
            }
            if let Some(mut session) = session {
                session.flush().await;
            }
        });
    }
    drop(sender);
    while let Some(result) = receiver.recv().await {
        on_done(&result);
        results.push(result);
    }
    let gave_up = watching.and_then(|(pressure, handle)| {
        handle.abort();
        pressure.gave_up()
    });
    // What the workers did not get to (stopped early).
    let left: Vec<ApplyTarget> = queue
        .lock()
        .map(|mut q| q.drain(..).collect())
        .unwrap_or_default();
    let reason = if lost.load(Ordering::SeqCst) {
        CONNECTION_LOST.to_string()
    } else if let Some(why) = gave_up {
        format!("not started: {why}")
    } else if options.fail_fast {
        "not started: --fail-fast after a failure".to_string()
    } else {
        "not started: interrupted".to_string()
    };
    skip_all(&reason, left, &mut results, on_done);
    Ok(results)
}

/// A connection for a worker that gave its own back (or never had one),
/// once the server has a slot to spare: `None` when there is no work left
/// or scheduling stopped, `Err` when the server is gone.
async fn take_connection(
    db: &Database,
    pressure: &Pressure,
    stop: &AtomicBool,
    has_work: impl Fn() -> bool,
) -> Option<Result<Client, ()>> {
    loop {
        if !has_work() {
            return None;
        }
        match tokio::time::timeout(Duration::from_secs(1), pressure.take_slot(stop)).await {
            // No slot yet: look again whether there is work left.
            Err(_) => continue,
            Ok(Err(_)) => return None,
            Ok(Ok(())) => {}
        }
        match db.connect().await {
            Ok(client) => return Some(Ok(client)),
            Err(e) if e.is_out_of_slots() => {
                pressure.untake_slot();
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(_) => {
                pressure.untake_slot();
                return Some(Err(()));
            }
        }
    }
}

const CONNECTION_LOST: &str = "not started: the connection to the server was lost";

/// How many finished tails a connection gathers before writing them to the
/// history in one statement.
const FINISHED_BATCH: usize = 64;

/// A connection applying targets one after another: its session settings
/// are made once, and the history rows whose statements after the
/// transaction have ended are written in batches ([`history::finish`]).
pub struct ApplySession {
    client: Client,
    timeouts_set: bool,
    /// The session's `lock_timeout` outside transactions, once set.
    lock_timeout: Option<LockTimeout>,
    finished: Vec<history::Finished>,
}

impl ApplySession {
    pub fn new(client: Client) -> ApplySession {
        ApplySession {
            client,
            timeouts_set: false,
            lock_timeout: None,
            finished: Vec::new(),
        }
    }

    /// Writes the gathered history rows; if that fails they stay
    /// `committed`, which the next run settles.
    pub async fn flush(&mut self) {
        let _ = history::finish(&self.client, &self.finished).await;
        self.finished.clear();
    }
}
