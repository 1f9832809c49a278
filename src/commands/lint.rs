//! `kschema lint`: the warnings about the desired state (redundant
//! indexes, foreign keys without an index, tables without a primary key),
//! less what kschema.toml's `[lint.allow]` accepts. Exit 0: none; 2: some;
//! 1: the files do not load. No database is needed.

use kschema_core::lint::{lint, unknown_allowed_rule};
use kschema_core::render::json::{lint_document, LintDocument};
use kschema_core::render::text::render_lints;
use miette::Report;
use serde::Serialize;

use super::{print, use_color};
use crate::cli::{GlobalArgs, LintArgs, TextOrJson};
use crate::project::load_project;
use crate::ExitStatus;

/// `kschema lint --format json`.
#[derive(Serialize)]
struct LintReport {
    format_version: u32,
    count: usize,
    warnings: Vec<LintDocument>,
}

pub fn run(global: &GlobalArgs, args: &LintArgs) -> Result<ExitStatus, Report> {
    let desired = load_project(&global.project)?;
    if let Some(problem) = unknown_allowed_rule(&desired) {
        return Err(problem.into());
    }
    let lints = lint(&desired);
    let text = match args.format {
        TextOrJson::Text => render_lints(&lints, use_color(global.color)),
        TextOrJson::Json => {
            let report = LintReport {
                format_version: 1,
                count: lints.len(),
                warnings: lints.iter().map(lint_document).collect(),
            };
            let mut json = kschema_core::render::json::json_safe(
                &serde_json::to_string_pretty(&report).unwrap_or_default(),
            );
            json.push('\n');
            json
        }
    };
    print(&text)?;
    Ok(match lints.is_empty() {
        true => ExitStatus::Success,
        false => ExitStatus::Changes,
    })
}
