//! A saved plan, checked against what its changes produce.
//!
//! `kschema apply PLAN.json` runs a file someone may have edited since it
//! was reviewed. Each step's structured change is planned again here: the
//! hazards come from that, never from the file, and a step whose statements
//! (or part, transaction mode, cleanup, or place after the tenants) differ
//! from what the change produces is refused.

use std::fmt;

use super::ddl::{steps_for, DdlContext};
use super::{defer_shared_drops, Step, TxMode};
use crate::diff::Change;
use crate::model::SchemaName;

/// One step as a saved plan records it.
pub struct SavedStep<'a> {
    pub change: Change,
    pub part: Option<&'a str>,
    pub transaction: TxMode,
    pub statements: &'a [String],
    pub before_retry: Option<&'a str>,
    pub after_tenants: bool,
}

/// Why a saved target cannot be trusted.
#[derive(Debug, PartialEq, Eq)]
pub struct ReplayMismatch {
    /// 1-based position of the step in the target's list.
    pub step: usize,
    pub what: String,
}

impl fmt::Display for ReplayMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "step {}: {}", self.step, self.what)
    }
}

/// The steps the saved changes produce, in the saved order, with hazards
/// worked out again (and no annotation allowances: the caller adds those
/// from the project's files). `public_with_tenants`: the target is `public`
/// in a plan that has tenants, so its drops wait for them. `desired`: the
/// project's model of the target (which tables are partitioned).
pub fn replay_steps(
    saved: Vec<SavedStep<'_>>,
    schema: &SchemaName,
    online: bool,
    public_with_tenants: bool,
    desired: &crate::model::SchemaModel,
) -> Result<Vec<Step>, ReplayMismatch> {
    let ctx =
        DdlContext::for_changes(saved.iter().map(|s| &s.change), online).with_partitioned(desired);
    let mut steps = Vec::with_capacity(saved.len());
    // Each change's parts must all be there, each once.
    let mut expected_parts: Vec<(Change, Vec<Option<String>>)> = Vec::new();
    for (index, saved_step) in saved.iter().enumerate() {
        let mismatch = |what: String| ReplayMismatch {
            step: index + 1,
            what,
        };
        let produced = steps_for(saved_step.change.clone(), &ctx);
        let Some(step) = produced
            .iter()
            .find(|s| s.part.as_deref() == saved_step.part)
        else {
            return Err(mismatch(format!(
                "its change has no part {:?}",
                saved_step.part.unwrap_or("(whole)")
            )));
        };
        // Whether an enum label is committed first depends on the steps
        // after it: checked once they are all there.
        let decided_by_later_steps = matches!(saved_step.change, Change::AddEnumValues { .. });
        if !decided_by_later_steps {
            check_statements_and_mode(step, saved_step, schema).map_err(mismatch)?;
        }
        if step
            .before_retry
            .as_ref()
            .map(|s| s.render(schema))
            .as_deref()
            != saved_step.before_retry
        {
            return Err(mismatch(
                "its cleanup before a retry is not the one its change needs".into(),
            ));
        }
        match expected_parts
            .iter_mut()
            .find(|(change, _)| *change == saved_step.change)
        {
            Some((_, parts)) => {
                let Some(at) = parts.iter().position(|p| p.as_deref() == saved_step.part) else {
                    return Err(mismatch("it repeats a step of its change".into()));
                };
                parts.remove(at);
            }
            None => {
                let mut parts: Vec<Option<String>> =
                    produced.iter().map(|s| s.part.clone()).collect();
                if let Some(at) = parts.iter().position(|p| p.as_deref() == saved_step.part) {
                    parts.remove(at);
                }
                expected_parts.push((saved_step.change.clone(), parts));
            }
        }
        steps.push(step.clone());
    }
    if let Some((change, parts)) = expected_parts.iter().find(|(_, parts)| !parts.is_empty()) {
        let position = saved.iter().position(|s| s.change == *change).unwrap_or(0);
        return Err(ReplayMismatch {
            step: position + 1,
            what: format!(
                "its change also needs the step {:?}, which the plan leaves out",
                parts[0].as_deref().unwrap_or("(whole)")
            ),
        });
    }
    super::enum_type::commit_used_labels_first(&mut steps);
    for (index, (step, saved_step)) in steps.iter().zip(&saved).enumerate() {
        if matches!(step.change, Change::AddEnumValues { .. }) {
            check_statements_and_mode(step, saved_step, schema).map_err(|what| ReplayMismatch {
                step: index + 1,
                what,
            })?;
        }
    }
    // Steps are listed as they run (see `plan_schema`).
    if let Some(at) = saved
        .windows(2)
        .position(|w| w[0].transaction.run_order() > w[1].transaction.run_order())
    {
        return Err(ReplayMismatch {
            step: at + 2,
            what: "a step comes after one that runs later than it (outside the transaction, or in it after labels committed first)".into(),
        });
    }
    if public_with_tenants {
        defer_shared_drops(&mut steps);
    }
    for (index, (step, saved_step)) in steps.iter().zip(&saved).enumerate() {
        if step.after_tenants != saved_step.after_tenants {
            return Err(ReplayMismatch {
                step: index + 1,
                what:
                    "it is not in the place its change needs (before or after the tenant schemas)"
                        .into(),
            });
        }
    }
    Ok(steps)
}

fn check_statements_and_mode(
    step: &Step,
    saved_step: &SavedStep<'_>,
    schema: &SchemaName,
) -> Result<(), String> {
    if step.render(schema) != saved_step.statements {
        return Err("its statements are not the ones its change produces".into());
    }
    if step.transaction != saved_step.transaction {
        return Err("its transaction mode is not the one its change needs".into());
    }
    Ok(())
}
