//! `apply` in waves: public first, then the tenants wave by wave (canaries,
//! then shares of the rest), the health gates checked while each wave runs
//! and after it, a soak between waves. A gate that fails halts the
//! rollout — what runs finishes or rolls back, nothing new starts — and
//! `apply --resume` continues from the wave it halted in.
//!
//! Over ~600 lines: the wave loop, its gates and the soak share the run's
//! state (halt flag, wave results, resume point); the gate probes could move
//! to `db::rollout` next.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kschema_core::load::{DesiredState, TenantId};
use kschema_core::model::SchemaName;
use kschema_core::rollout::{
    failure_gate, split_waves, waves_by_shard, Breach, Gates, Wave, WaveSize,
};
use kschema_core::Problem;
use miette::{Diagnostic, Report};
use thiserror::Error;

use super::{apply_databases, summary, watch_interrupt, TargetsFailed};
use crate::cli::ApplyArgs;
use crate::commands::print;
use crate::db::apply::{ApplyOptions, ApplyTarget, TargetResult};
use crate::db::rollout::{self as record, Unfinished};
use crate::db::{history, Database};
use crate::ExitStatus;

#[derive(Debug, Error, Diagnostic)]
#[error("the rollout halted in wave {wave} of {waves}: {evidence}")]
#[diagnostic(code(kschema::apply::rollout_halted), help("{help}"))]
struct RolloutHalted {
    wave: usize,
    waves: usize,
    evidence: String,
    help: String,
}

/// The waves a run goes through, and what each must pass.
pub(in crate::commands) struct Rollout {
    pub waves: Vec<Wave>,
    /// The wave to start from (0, or where a resumed rollout halted).
    pub start: usize,
    pub gates: Gates,
    pub soak: Duration,
    /// The rollout this run continues.
    pub resumes: Option<String>,
}

/// One database's part of the rollout.
pub(in crate::commands) struct DatabaseWork<'a> {
    pub db: &'a Database,
    /// `main database`, `database eu`: a wave's label with `--waves shard`.
    pub label: String,
    pub targets: Vec<ApplyTarget>,
    /// Every tenant schema of the run on this database, changed or not
    /// (a resumed wave's gates look at the tenants already converged).
    pub schemas: BTreeMap<TenantId, SchemaName>,
}

/// The canaries and wave sizes asked for.
type Requested = (Vec<TenantId>, Vec<WaveSize>);

/// The waves the flags or kschema.toml ask for; `None`: every tenant at
/// once.
pub(in crate::commands) fn requested(
    desired: &DesiredState,
    args: &ApplyArgs,
) -> Result<Option<Requested>, Report> {
    let config = &desired.config.rollout;
    if args.all_at_once || (args.waves.is_empty() && args.canary.is_empty() && !config.in_waves()) {
        return Ok(None);
    }
    let (canary, waves) = if args.waves.is_empty() && args.canary.is_empty() {
        (&config.canary, &config.waves)
    } else {
        (&args.canary, &args.waves)
    };
    let bad = |message: String| {
        Report::from(
            Problem::new("kschema::apply::waves", message)
                .with_help("waves are shares of the tenants (\"10%\"), counts (\"25\") or \"shard\" (one wave per database), canaries tenant ids or tags: --waves 1%,10%,100% --canary abc123,tag:beta"),
        )
    };
    let sizes = waves
        .iter()
        .map(|w| WaveSize::parse(w).map_err(bad))
        .collect::<Result<Vec<_>, _>>()?;
    if sizes.len() > 1 && sizes.contains(&WaveSize::PerShard) {
        return Err(bad(
            "the wave \"shard\" (one wave per database) stands alone: give it, or shares and counts".into(),
        ));
    }
    // `tag:beta`: every tenant tenants.toml tags so.
    let mut ids = Vec::new();
    for entry in canary {
        match entry.strip_prefix("tag:") {
            Some(tag) => {
                let tagged: Vec<TenantId> = desired
                    .tenants
                    .tenants
                    .iter()
                    .filter(|t| t.tags.iter().any(|t| t == tag))
                    .map(|t| t.id.clone())
                    .collect();
                if tagged.is_empty() {
                    return Err(bad(format!(
                        "canary {:?}: no tenant in tenants.toml has that tag",
                        kschema_core::escape::printable(entry)
                    )));
                }
                ids.extend(tagged);
            }
            None => ids.push(TenantId::parse(entry).map_err(|e| bad(format!("canary {e}")))?),
        }
    }
    let canary = ids;
    Ok(Some((canary, sizes)))
}

/// The gates from the flags and kschema.toml, and the soak.
pub(in crate::commands) fn gates(desired: &DesiredState, args: &ApplyArgs) -> (Gates, Duration) {
    let config = &desired.config.rollout;
    let defaults = Gates::default();
    let limit = |set: Option<f64>, default: Option<Duration>| match set {
        Some(0.0) => None,
        Some(seconds) => Some(Duration::from_secs_f64(seconds)),
        None => default,
    };
    let gates = Gates {
        max_failure_percent: config
            .max_failure_percent
            .unwrap_or(defaults.max_failure_percent),
        max_replication_lag: limit(config.max_replication_lag, defaults.max_replication_lag),
        max_lock_wait: limit(config.max_lock_wait, defaults.max_lock_wait),
        probe: args.probe.clone().or_else(|| config.probe.clone()),
    };
    let soak = Duration::from_secs_f64(args.soak.or(config.soak).unwrap_or(0.0));
    (gates, soak)
}

/// A fresh rollout over the tenants the plan changes.
pub(in crate::commands) fn fresh(
    work: &[DatabaseWork],
    canary: &[TenantId],
    sizes: &[WaveSize],
    gates: Gates,
    soak: Duration,
) -> Rollout {
    let changed_in = |w: &DatabaseWork| -> Vec<TenantId> {
        w.targets
            .iter()
            .filter_map(|t| t.target.tenant.clone())
            .collect()
    };
    let waves = match sizes {
        [WaveSize::PerShard] => {
            let shards: Vec<(String, Vec<TenantId>)> = work
                .iter()
                .map(|w| (w.label.clone(), changed_in(w)))
                .collect();
            waves_by_shard(canary, &shards)
        }
        _ => {
            let mut changed: Vec<TenantId> = work.iter().flat_map(changed_in).collect();
            changed.sort();
            split_waves(&changed, canary, sizes)
        }
    };
    Rollout {
        waves,
        start: 0,
        gates,
        soak,
        resumes: None,
    }
}

/// Continues `unfinished` from the wave it stopped in.
pub(in crate::commands) fn resumed(
    unfinished: &Unfinished,
    gates: Gates,
    soak: Duration,
) -> Rollout {
    Rollout {
        waves: unfinished.waves.clone(),
        start: unfinished.from_wave.min(unfinished.waves.len()),
        gates,
        soak,
        resumes: Some(unfinished.run_id.clone()),
    }
}

pub(in crate::commands) async fn run(
    work: Vec<DatabaseWork<'_>>,
    options: &ApplyOptions,
    up_to_date: usize,
    rollout: Rollout,
) -> Result<ExitStatus, Report> {
    let Some(run) = options.run.clone() else {
        return Err(Problem::new(
            "kschema::apply::waves",
            "a rollout in waves needs the run's history",
        )
        .into());
    };
    let Some(main) = work.first().map(|w| w.db) else {
        return Ok(ExitStatus::Success);
    };
    let client = main.connect().await?;
    let problem = |e: String| {
        Report::from(Problem::new(
            "kschema::history::write",
            format!("recording the rollout in kschema.rollouts failed: {e}"),
        ))
    };
    record::start(&client, &run.run_id, &rollout.waves)
        .await
        .map_err(problem)?;
    if let Some(old) = &rollout.resumes {
        record::resumed(&client, old, &run.run_id)
            .await
            .map_err(problem)?;
    }

    // Each database: public before the tenants, its drops after them all,
    // and its tenants by id. The run sets out for all of them now, so a
    // halt leaves the later waves on record as not reached.
    let mut befores = Vec::new();
    let mut afters = Vec::new();
    let mut tenants: Vec<BTreeMap<TenantId, ApplyTarget>> = Vec::new();
    for part in &work {
        let schemas: Vec<String> = part
            .targets
            .iter()
            .map(|t| t.target.schema.as_str().to_string())
            .collect();
        let _ = history::start_run(&part.db.connect().await?, &run, &schemas).await;
        let mut by_id = BTreeMap::new();
        let mut before = None;
        let mut after = None;
        for target in &part.targets {
            match &target.target.tenant {
                Some(id) => {
                    by_id.insert(id.clone(), target.clone());
                }
                None => {
                    let (b, a) = target.clone().split_after_tenants();
                    before = Some(b);
                    after = a;
                }
            }
        }
        befores.push(before);
        afters.push(after);
        tenants.push(by_id);
    }

    let stop = options.stop.clone();
    let (interrupted, watcher) = watch_interrupt(&stop);
    let total_waves = rollout.waves.len();
    let mut results: Vec<TargetResult> = Vec::new();
    let mut outcome = Ok(());
    // public first, in every database, before any wave (also when no
    // tenant changes at all): the tenants read it.
    let first: Vec<(&Database, Vec<ApplyTarget>)> = work
        .iter()
        .enumerate()
        .filter_map(|(i, part)| befores[i].take().map(|before| (part.db, vec![before])))
        .collect();
    if !first.is_empty() {
        let public = apply_databases(first, options, "\npublic first…\n").await?;
        if let Some(failed) = public.iter().find(|r| !r.succeeded()) {
            outcome = Err((
                rollout.start,
                Breach::Public {
                    error: super::describe_result(failed),
                },
            ));
        }
        results.extend(public);
    }
    // A public that failed leaves every wave not started.
    let waves_to_run = match outcome {
        Ok(()) => rollout.waves.len(),
        Err(_) => 0,
    };
    for (number, wave) in rollout
        .waves
        .iter()
        .enumerate()
        .take(waves_to_run)
        .skip(rollout.start)
    {
        let _ = record::reached(&client, &run.run_id, number).await;
        let mut parts = Vec::new();
        for (i, part) in work.iter().enumerate() {
            let targets: Vec<ApplyTarget> = wave
                .tenants
                .iter()
                .filter_map(|id| tenants[i].remove(id))
                .collect();
            parts.push((part.db, targets));
        }
        let changing: usize = parts
            .iter()
            .flat_map(|(_, targets)| targets)
            .filter(|t| t.target.tenant.is_some())
            .count();
        let heading = format!(
            "\nWave {} of {total_waves} ({}): {} tenant{}, {changing} to change…\n",
            number + 1,
            kschema_core::escape::printable(&wave.label),
            wave.tenants.len(),
            if wave.tenants.len() == 1 { "" } else { "s" },
        );
        super::events::emit(serde_json::json!({
            "event": "wave",
            "wave": number + 1,
            "waves": total_waves,
            "label": wave.label,
            "tenants": wave.tenants.len(),
            "changing": changing,
        }));
        let breach: Arc<Mutex<Option<Breach>>> = Arc::new(Mutex::new(None));
        let monitor = watch(&work, &rollout.gates, stop.clone(), breach.clone()).await;
        let wave_results = apply_databases(parts, options, &heading).await?;
        if let Some(monitor) = monitor {
            monitor.abort();
        }
        let wave_schemas: Vec<(usize, &TenantId, &SchemaName)> = wave
            .tenants
            .iter()
            .filter_map(|id| {
                work.iter()
                    .enumerate()
                    .find_map(|(i, w)| w.schemas.get(id).map(|s| (i, id, s)))
            })
            .collect();
        let found = breach.lock().ok().and_then(|mut b| b.take());
        let found = match found {
            Some(found) => Some(found),
            None if interrupted.load(Ordering::SeqCst) => None,
            None => after_wave(&work, &wave_results, &wave_schemas, &rollout.gates).await,
        };
        results.extend(wave_results);
        if interrupted.load(Ordering::SeqCst) {
            break;
        }
        if let Some(found) = found {
            outcome = Err((number, found));
            break;
        }
        super::events::emit(serde_json::json!({
            "event": "wave_passed",
            "wave": number + 1,
            "soak_seconds": if number + 1 < total_waves { rollout.soak.as_secs_f64() } else { 0.0 },
        }));
        if number + 1 < total_waves && !rollout.soak.is_zero() {
            print(&format!(
                "Wave {} passed its gates; watching for {}s before wave {}…\n",
                number + 1,
                rollout.soak.as_secs_f64(),
                number + 2
            ))?;
            if let Some(found) = soak(&work, &rollout.gates, rollout.soak).await {
                outcome = Err((number, found));
                break;
            }
        } else {
            print(&format!("Wave {} passed its gates.\n", number + 1))?;
        }
    }
    watcher.abort();

    let stopped = interrupted.load(Ordering::SeqCst) || outcome.is_err();
    let mut not_started = 0;
    if stopped {
        // What the later waves did not reach stays on record as such, so
        // `--only-failed` and the next plan see it.
        for (i, part) in work.iter().enumerate() {
            let mut left: Vec<String> = tenants[i]
                .values()
                .map(|t| t.target.schema.as_str().to_string())
                .collect();
            if let Some(after) = &afters[i] {
                left.push(after.target.schema.as_str().to_string());
            }
            not_started += tenants[i].len();
            let _ = history::end_run(&part.db.connect().await?, &run, &left).await;
        }
    }
    if interrupted.load(Ordering::SeqCst) {
        super::events::emit(serde_json::json!({
            "event": "interrupted",
            "not_started": not_started,
            "resume": "kschema apply --resume",
        }));
        print(&summary(&results, up_to_date))?;
        print("Interrupted: targets in flight finished or rolled back; the rest did not start. Continue with: kschema apply --resume\n")?;
        return Ok(ExitStatus::Interrupted);
    }
    if let Err((number, breach)) = outcome {
        let _ = record::halt(&client, &run.run_id, number, &breach).await;
        super::events::emit(serde_json::json!({
            "event": "halted",
            "wave": number + 1,
            "waves": total_waves,
            "gate": breach.gate(),
            "evidence": breach.to_string(),
            "not_started": not_started,
            "resume": "kschema apply --resume",
        }));
        print(&summary(&results, up_to_date))?;
        return Err(RolloutHalted {
            wave: number + 1,
            waves: total_waves,
            evidence: format!("the {} gate — {breach}", breach.gate()),
            help: format!(
                "{not_started} tenant{} in later waves did not start; public's drops (if any) wait for them. Fix the cause, then continue from wave {}: kschema apply --resume",
                if not_started == 1 { "" } else { "s" },
                number + 1
            ),
        }
        .into());
    }

    // Every wave passed: public's drops, which waited for the tenants.
    let last: Vec<(&Database, Vec<ApplyTarget>)> = work
        .iter()
        .enumerate()
        .filter_map(|(i, part)| afters[i].take().map(|after| (part.db, vec![after])))
        .collect();
    if !last.is_empty() {
        results.extend(
            apply_databases(last, options, "\nAfter the tenants: public's drops…\n").await?,
        );
    }
    let _ = record::finish(&client, &run.run_id).await;
    print(&summary(&results, up_to_date))?;
    let failed: Vec<&TargetResult> = results.iter().filter(|r| !r.succeeded()).collect();
    if failed.is_empty() {
        return Ok(ExitStatus::Success);
    }
    Err(TargetsFailed::for_results(&failed, results.len()).into())
}

/// Watches the server-wide gates every second while a wave runs: the
/// first breach is kept and stops the scheduling of new tenants.
async fn watch(
    work: &[DatabaseWork<'_>],
    gates: &Gates,
    stop: Arc<AtomicBool>,
    breach: Arc<Mutex<Option<Breach>>>,
) -> Option<tokio::task::JoinHandle<()>> {
    if gates.max_lock_wait.is_none() && gates.max_replication_lag.is_none() {
        return None;
    }
    let clients = match connections(work).await {
        Ok(clients) => clients,
        Err(found) => {
            if let Ok(mut slot) = breach.lock() {
                slot.get_or_insert(found);
            }
            stop.store(true, Ordering::SeqCst);
            return None;
        }
    };
    let gates = gates.clone();
    Some(tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if let Some(found) = server_gates(&clients, &gates).await {
                if let Ok(mut slot) = breach.lock() {
                    slot.get_or_insert(found);
                }
                stop.store(true, Ordering::SeqCst);
                return;
            }
        }
    }))
}

/// A connection to each database, to measure it; failing to connect is a
/// breach (a gate not measured has not passed).
async fn connections(work: &[DatabaseWork<'_>]) -> Result<Vec<tokio_postgres::Client>, Breach> {
    let mut clients = Vec::new();
    for part in work {
        clients.push(
            part.db
                .connect()
                .await
                .map_err(|e| unmeasured("the server's health", e.to_string()))?,
        );
    }
    Ok(clients)
}

fn unmeasured(what: &str, error: String) -> Breach {
    Breach::Unmeasured {
        what: what.into(),
        error,
    }
}

/// Watches the server-wide gates for the soak between waves.
async fn soak(work: &[DatabaseWork<'_>], gates: &Gates, soak: Duration) -> Option<Breach> {
    let until = Instant::now() + soak;
    let clients = match connections(work).await {
        Ok(clients) => clients,
        Err(found) => return Some(found),
    };
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_secs(1).min(until - Instant::now())).await;
        if let Some(found) = server_gates(&clients, gates).await {
            return Some(found);
        }
    }
    None
}

/// Standby lag and lock waits on every database, now: the first breach.
async fn server_gates(clients: &[tokio_postgres::Client], gates: &Gates) -> Option<Breach> {
    for client in clients {
        if let Some(found) = server_gates_of(client, gates).await {
            return Some(found);
        }
    }
    None
}

/// One database's (a role without pg_monitor sees its own sessions only:
/// what it cannot see, it cannot judge).
async fn server_gates_of(client: &tokio_postgres::Client, gates: &Gates) -> Option<Breach> {
    if let Some(limit) = gates.max_lock_wait {
        let limit = limit.as_secs_f64();
        match record::lock_waits(client, limit).await {
            Ok(waiting) if waiting.is_empty() => {}
            Ok(waiting) => {
                return Some(Breach::LockWait {
                    limit_seconds: limit,
                    waiting,
                })
            }
            Err(error) => return Some(unmeasured("max_lock_wait", error)),
        }
    }
    if let Some(limit) = gates.max_replication_lag {
        let limit = limit.as_secs_f64();
        match record::lagging_standbys(client, limit).await {
            Ok(standbys) if standbys.is_empty() => {}
            Ok(standbys) => {
                return Some(Breach::ReplicationLag {
                    limit_seconds: limit,
                    standbys,
                })
            }
            Err(error) => return Some(unmeasured("max_replication_lag", error)),
        }
    }
    None
}

/// The gates over a finished wave: public, the failure rate, INVALID
/// indexes, the server, and the probe in each of its tenants.
async fn after_wave(
    work: &[DatabaseWork<'_>],
    results: &[TargetResult],
    schemas: &[(usize, &TenantId, &SchemaName)],
    gates: &Gates,
) -> Option<Breach> {
    if let Some(public) = results
        .iter()
        .find(|r| r.target.tenant.is_none() && !r.succeeded())
    {
        return Some(Breach::Public {
            error: super::describe_result(public),
        });
    }
    let tenants: Vec<&TargetResult> = results
        .iter()
        .filter(|r| r.target.tenant.is_some())
        .collect();
    let failed = tenants.iter().filter(|r| !r.succeeded()).count();
    if let Some(found) = failure_gate(failed, schemas.len().max(tenants.len()), gates) {
        return Some(found);
    }
    let clients = match connections(work).await {
        Ok(clients) => clients,
        Err(found) => return Some(found),
    };
    for (i, client) in clients.iter().enumerate() {
        let names: Vec<String> = schemas
            .iter()
            .filter(|(on, _, _)| *on == i)
            .map(|(_, _, s)| s.as_str().to_string())
            .collect();
        match record::invalid_indexes(client, &names).await {
            Ok(indexes) if indexes.is_empty() => {}
            Ok(indexes) => return Some(Breach::InvalidIndexes { indexes }),
            Err(error) => return Some(unmeasured("invalid indexes", error)),
        }
    }
    if let Some(found) = server_gates(&clients, gates).await {
        return Some(found);
    }
    let probe = gates.probe.as_ref()?;
    let failed_tenants: Vec<&TenantId> = tenants
        .iter()
        .filter(|r| !r.succeeded())
        .filter_map(|r| r.target.tenant.as_ref())
        .collect();
    let mut failed = Vec::new();
    for (on, id, schema) in schemas {
        // A tenant that failed rolled back: the failure gate judged it.
        if failed_tenants.contains(id) {
            continue;
        }
        if let Some(got) = record::probe(&clients[*on], schema.as_str(), probe).await {
            failed.push((id.to_string(), got));
        }
    }
    (!failed.is_empty()).then_some(Breach::Probe { failed })
}
