//! What apply says while and after it runs: a progress bar (or a line per
//! target), the summary, one target's result.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use kschema_core::escape::{printable, printable_sql};

use crate::commands::print;
use crate::db::apply::{Outcome, TargetResult};

/// Counts and, on a terminal, a progress bar (done / failed / remaining,
/// rate, ETA); elsewhere one line per finished target.
pub(super) struct Progress {
    bar: Option<ProgressBar>,
    failed: usize,
    /// `-q`: failures only.
    quiet: bool,
}

impl Progress {
    /// Prints `heading` first (`Applying…`, a wave's title).
    pub(super) fn new(total: usize, heading: &str) -> Progress {
        let quiet = crate::trace::quiet();
        let events = super::events::enabled();
        let shown = !quiet && !events && !crate::commands::capturing();
        let bar = (shown && std::io::stdout().is_terminal()).then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} done, {msg} · {per_sec} · ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.set_message("0 failed");
            bar
        });
        if !quiet {
            let _ = print(heading);
        }
        Progress {
            bar,
            failed: 0,
            quiet,
        }
    }

    pub(super) fn done(&mut self, result: &TargetResult) {
        super::events::target(result);
        if !result.succeeded() {
            self.failed += 1;
        }
        match &self.bar {
            Some(bar) => {
                if !result.succeeded() {
                    bar.println(describe_result(result).trim_end());
                }
                bar.set_message(format!("{} failed", self.failed));
                bar.inc(1);
            }
            None if self.quiet && result.succeeded() => {}
            None => {
                let _ = print(&describe_result(result));
            }
        }
    }

    pub(super) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// How many converged, and the failures grouped by cause, like the plan.
/// (With `--format json`, the summary event goes out as well.)
pub(in crate::commands) fn summary(results: &[TargetResult], up_to_date: usize) -> String {
    super::events::summary(results, up_to_date);
    let converged = results.iter().filter(|r| r.succeeded()).count();
    let failed: Vec<&TargetResult> = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed(_)))
        .collect();
    let skipped = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Skipped { .. }))
        .count();
    let mut out = format!(
        "\nApplied: {converged} target{} converged, {} failed, {skipped} not started, {up_to_date} already up to date.\n",
        if converged == 1 { "" } else { "s" },
        failed.len()
    );
    // The same error in several tenants is one cause.
    let mut causes: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for result in &failed {
        if let Outcome::Failed(failure) = &result.outcome {
            let schema = result.target.schema.as_str();
            let strip = |text: &str| {
                text.replace(&format!("{schema}."), "<schema>.")
                    .replace(&format!("\"{schema}\""), "<schema>")
            };
            let first_line = failure.error.lines().next().unwrap_or_default();
            causes
                .entry((strip(first_line), strip(&first_line_of(&failure.statement))))
                .or_default()
                .push(
                    result
                        .target
                        .tenant
                        .as_ref()
                        .map(|t| t.to_string())
                        .unwrap_or_else(|| result.target.to_string()),
                );
        }
    }
    for ((error, statement), targets) in causes {
        let _ = writeln!(
            out,
            "  failed in {}: {error}\n      statement: {statement}",
            targets.join(", ")
        );
    }
    out
}

pub fn describe_result(result: &TargetResult) -> String {
    match &result.outcome {
        Outcome::Applied {
            statements,
            elapsed,
        } => format!(
            "  ✓ {}: {statements} statement{} in {:.2}s\n",
            result.target,
            if *statements == 1 { "" } else { "s" },
            elapsed.as_secs_f64()
        ),
        Outcome::Failed(failure) => {
            let state = if failure.committed {
                "its transaction committed; the statements after it did not all run (the next apply finishes them)"
            } else {
                "rolled back, nothing changed"
            };
            format!(
                "  ✗ {}: failed — {state}\n      statement: {}\n      {}\n",
                result.target,
                first_line_of(&failure.statement),
                failure.error.replace('\n', "\n      ")
            )
        }
        Outcome::Skipped { reason } => format!("  - {}: skipped ({reason})\n", result.target),
    }
}

fn first_line_of(text: &str) -> String {
    let text = printable_sql(text);
    match text.split_once('\n') {
        Some((first, _)) => format!("{} …", printable(first)),
        None => printable(&text).into_owned(),
    }
}
