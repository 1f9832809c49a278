//! `apply --format json`: what apply does, as it does it, one JSON object
//! per line on stdout — a wave starting, each target's result, a gate's
//! halt, the summary — for CI logs and dashboards. The text apply would
//! print goes to stderr meanwhile (`print` asks [`enabled`]).

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};

use kschema_core::render::json::json_safe;
use serde_json::{json, Value};

use crate::db::apply::{Outcome, TargetResult};

static ENABLED: AtomicBool = AtomicBool::new(false);

/// From now on, events go to stdout and text to stderr.
pub fn enable() {
    ENABLED.store(true, Ordering::SeqCst);
}

pub fn enabled() -> bool {
    ENABLED.load(Ordering::SeqCst)
}

/// One event, as a line of its own (nothing when events are off).
pub fn emit(event: Value) {
    if !enabled() {
        return;
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", json_safe(&event.to_string()));
    let _ = out.flush();
}

/// `{"event": "target", "schema": …, "tenant": …, "outcome": …}` with the
/// statements run and seconds taken, or the failure, or why it did not
/// start.
pub fn target(result: &TargetResult) {
    let mut event = json!({
        "event": "target",
        "schema": result.target.schema.as_str(),
        "tenant": result.target.tenant.as_ref().map(|t| t.to_string()),
    });
    let fields = match &result.outcome {
        Outcome::Applied {
            statements,
            elapsed,
        } => json!({
            "outcome": "converged",
            "statements": statements,
            "seconds": elapsed.as_secs_f64(),
        }),
        Outcome::Failed(failure) => json!({
            "outcome": "failed",
            "committed": failure.committed,
            "statement": failure.statement,
            "error": failure.error,
        }),
        Outcome::Skipped { reason } => json!({
            "outcome": "not_started",
            "reason": reason,
        }),
    };
    if let (Value::Object(event), Value::Object(fields)) = (&mut event, fields) {
        event.extend(fields);
    }
    emit(event);
}

/// The counts `summary` prints.
pub fn summary(results: &[TargetResult], up_to_date: usize) {
    let count = |f: fn(&Outcome) -> bool| results.iter().filter(|r| f(&r.outcome)).count();
    emit(json!({
        "event": "summary",
        "converged": count(|o| matches!(o, Outcome::Applied { .. })),
        "failed": count(|o| matches!(o, Outcome::Failed(_))),
        "not_started": count(|o| matches!(o, Outcome::Skipped { .. })),
        "up_to_date": up_to_date,
    }));
}
