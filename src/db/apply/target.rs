//! One target: the enum labels its transaction uses, committed on their own
//! first; its transaction (statements, history row, commit — retried whole
//! after a lock timeout); then the statements that cannot run in a
//! transaction, one at a time.

use std::time::{Instant, SystemTime};

use kschema_core::ident::quote_literal;
use kschema_core::model::SchemaName;
use kschema_core::plan::{Target, TxMode};
use tokio::sync::OwnedSemaphorePermit;
use tokio_postgres::{Client, SimpleQueryMessage};

use super::errors::{backoff, failure, is_lock_timeout, plain_failure};
use super::{
    ApplyOptions, ApplySession, ApplyStep, ApplyTarget, Outcome, TargetFailure, TargetResult,
    CONNECTION_LOST, TENANT_LOCK_CLASS,
};
use crate::db::history::{self, Entry};

/// Applies one target's steps in `session`, recording it in the history.
pub(super) async fn apply_target(
    session: &mut ApplySession,
    target: &ApplyTarget,
    options: &ApplyOptions,
) -> TargetResult {
    let client = &session.client;
    let started = Instant::now();
    let started_at = SystemTime::now();
    let statements_of = |mode: TxMode| -> Vec<String> {
        target
            .steps
            .iter()
            .filter(|s| s.transaction == mode)
            .flat_map(|s| s.statements.iter().cloned())
            .collect()
    };
    let labels_first = statements_of(TxMode::BeforeTransaction);
    let transactional = statements_of(TxMode::Transactional);
    let after: Vec<&ApplyStep> = target
        .steps
        .iter()
        .filter(|s| s.transaction == TxMode::NonTransactional)
        .collect();
    let statements = target.statements();
    let plan_fingerprint = target.plan_fingerprint();
    let entry = options.run.as_ref().map(|run| Entry {
        run,
        schema: target.target.schema.as_str(),
        tenant: target.target.tenant.as_ref().map(|t| t.as_str()),
        statements: &statements,
        hazards_allowed: &target.hazards,
        plan_fingerprint: &plan_fingerprint,
        live_fingerprint: target.live_fingerprint,
        live_model: target.live_model.as_deref(),
        desired_fingerprint: None,
    });

    // A transaction holding a heavy statement holds a permit throughout.
    let heavy_transaction = target
        .steps
        .iter()
        .any(|s| s.transaction == TxMode::Transactional && s.heavy);
    let permit = match heavy_transaction {
        true => heavy_permit(options).await,
        false => None,
    };
    // Additive, `IF NOT EXISTS`, no history row of their own: if the
    // transaction below fails, they stay, and the next plan has the rest.
    let labels = match labels_first.is_empty() {
        true => Ok(None),
        false => {
            run_transaction(
                client,
                &target.target,
                &labels_first,
                false,
                None,
                started_at,
                options,
            )
            .await
        }
    };
    let transaction = match labels {
        Ok(_) => {
            run_transaction(
                client,
                &target.target,
                &transactional,
                !after.is_empty(),
                entry.as_ref(),
                started_at,
                options,
            )
            .await
            .map_err(|mut failure| {
                if !labels_first.is_empty() {
                    failure.error.push_str(
                        "\n  the enum labels committed before the transaction stay (the next apply does not add them again)",
                    );
                }
                failure
            })
        }
        Err(failure) => Err(failure),
    };
    drop(permit);
    let outcome = match transaction {
        // The connection was gone before the transaction began: nothing
        // was tried here, and saying "failed" would send people after a
        // cause in this tenant.
        Err(failure) if failure.statement == "BEGIN" && client.is_closed() => Outcome::Skipped {
            reason: CONNECTION_LOST.into(),
        },
        Err(failure) => {
            if let Some(entry) = &entry {
                // The changes rolled back; the failure is recorded on its own.
                let _ = history::record(
                    client,
                    entry,
                    history::HistoryOutcome::Failed,
                    started_at,
                    Some(&failure.error),
                )
                .await;
            }
            Outcome::Failed(failure)
        }
        Ok(history_id) => {
            let mut failed = None;
            for step in &after {
                let permit = match step.heavy {
                    true => heavy_permit(options).await,
                    false => None,
                };
                let ran =
                    run_outside_transaction(session, &target.target.schema, step, options).await;
                drop(permit);
                if let Err(failure) = ran {
                    failed = Some(failure);
                    break;
                }
            }
            if let Some(id) = history_id.filter(|_| !after.is_empty()) {
                session.finished.push(history::Finished {
                    id,
                    error: failed.as_ref().map(|f: &TargetFailure| f.error.clone()),
                    at: SystemTime::now(),
                });
            }
            match failed {
                Some(failure) => Outcome::Failed(failure),
                None => Outcome::Applied {
                    statements: statements.len(),
                    elapsed: started.elapsed(),
                },
            }
        }
    };
    TargetResult {
        target: target.target.clone(),
        outcome,
    }
}

/// A permit of the server's heavy-statement limit (none when the options
/// carry no limit, as outside `apply_targets`).
async fn heavy_permit(options: &ApplyOptions) -> Option<OwnedSemaphorePermit> {
    let permits = options.heavy_permits.clone()?;
    permits.acquire_owned().await.ok()
}

/// The transactional statements and the history row, retried as a whole on
/// a lock timeout. Returns the history row's id.
async fn run_transaction(
    client: &Client,
    target: &Target,
    statements: &[String],
    has_tail: bool,
    entry: Option<&Entry<'_>>,
    started_at: SystemTime,
    options: &ApplyOptions,
) -> Result<Option<i64>, TargetFailure> {
    // One round trip opens the transaction and takes the tenant's lock: one
    // applier per tenant at a time, whoever started it.
    let setup = format!(
        "BEGIN; SET LOCAL lock_timeout = '{}'; SET LOCAL statement_timeout = '{}'; \
         {}; SELECT pg_try_advisory_xact_lock({TENANT_LOCK_CLASS}, hashtext({}))",
        options.lock_timeout.setting(),
        options.statement_timeout.setting(),
        files_search_path(&target.schema, true),
        quote_literal(target.schema.as_str())
    );
    let mut attempt = 1;
    loop {
        let result = async {
            let replies = client
                .simple_query(&setup)
                .await
                .map_err(|e| Failure::Db("BEGIN".to_string(), e))?;
            let locked = replies.iter().any(
                |reply| matches!(reply, SimpleQueryMessage::Row(row) if row.get(0) == Some("t")),
            );
            if !locked {
                return Err(Failure::Busy);
            }
            for statement in statements {
                client
                    .batch_execute(statement)
                    .await
                    .map_err(|e| Failure::Db(statement.clone(), e))?;
            }
            let id = match entry {
                Some(entry) => {
                    let outcome = if has_tail {
                        history::HistoryOutcome::Committed
                    } else {
                        history::HistoryOutcome::Applied
                    };
                    Some(
                        history::record(client, entry, outcome, started_at, None)
                            .await
                            .map_err(|e| {
                                Failure::Db("INSERT INTO kschema.history".to_string(), e)
                            })?,
                    )
                }
                None => None,
            };
            client
                .batch_execute("COMMIT")
                .await
                .map_err(|e| Failure::Db("COMMIT".to_string(), e))?;
            if let Some(entry) = entry.filter(|e| e.live_model.is_some()) {
                entry.run.note_shape_stored(entry.live_fingerprint);
            }
            Ok(id)
        }
        .await;
        let error = match result {
            Ok(id) => return Ok(id),
            Err(error) => error,
        };
        let _ = client.batch_execute("ROLLBACK").await;
        match error {
            Failure::Busy => {
                return Err(TargetFailure {
                    statement: "pg_try_advisory_xact_lock".into(),
                    error: format!(
                        "another session is applying changes to {} right now",
                        target.schema
                    ),
                    committed: false,
                })
            }
            Failure::Db(statement, error) => {
                if is_lock_timeout(&error) && attempt < options.lock_attempts {
                    backoff(attempt).await;
                    attempt += 1;
                    continue;
                }
                return Err(failure(
                    client,
                    &statement,
                    &error,
                    false,
                    attempt,
                    options.lock_timeout,
                )
                .await);
            }
        }
    }
}

enum Failure {
    Db(String, tokio_postgres::Error),
    /// Another session holds the tenant's lock.
    Busy,
}

/// One step outside the transaction: each statement retried on a lock
/// timeout, after the step's cleanup (if any) made it safe to run again.
async fn run_outside_transaction(
    session: &mut ApplySession,
    schema: &SchemaName,
    step: &ApplyStep,
    options: &ApplyOptions,
) -> Result<(), TargetFailure> {
    if !session.timeouts_set {
        // Session-wide: the same for every target on this connection (the
        // transactions set theirs locally).
        let settings = format!(
            "SET statement_timeout = '{}'",
            options.statement_timeout.setting()
        );
        session
            .client
            .batch_execute(&settings)
            .await
            .map_err(|e| plain_failure("SET statement_timeout", &e, true))?;
        session.timeouts_set = true;
    }
    let budget = if step.index_build {
        options.index_lock_timeout
    } else {
        options.lock_timeout
    };
    if session.lock_timeout != Some(budget) {
        session
            .client
            .batch_execute(&format!("SET lock_timeout = '{}'", budget.setting()))
            .await
            .map_err(|e| plain_failure("SET lock_timeout", &e, true))?;
        session.lock_timeout = Some(budget);
    }
    let client = &session.client;
    let search_path = files_search_path(schema, false);
    client
        .batch_execute(&search_path)
        .await
        .map_err(|e| plain_failure(&search_path, &e, true))?;
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
                    let mut failure =
                        failure(client, statement, &error, true, attempt, budget).await;
                    if step.before_retry.is_some() && is_lock_timeout(&error) {
                        failure.error.push_str(
                            "\n  the INVALID index the cancelled build left is dropped and built again by the next apply",
                        );
                    }
                    return Err(failure);
                }
            }
        }
    }
    Ok(())
}

/// What unqualified names in the files mean: the target schema, then
/// public (see `kschema_core::plan::search_path`).
fn files_search_path(schema: &SchemaName, local: bool) -> String {
    kschema_core::plan::search_path(local).render(schema)
}
