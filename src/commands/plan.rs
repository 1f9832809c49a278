//! `kschema plan`: what would change, without changing anything.
//! Exit code 0 when nothing would change, 2 when something would.

use std::process::ExitCode;

use kschema_core::render::json::{plan_document, render_json};
use kschema_core::render::markdown::{render_markdown, MarkdownContext};
use kschema_core::render::sql::render_sql;
use kschema_core::render::text::{render_text, TextOptions};
use miette::Report;

use super::{prepare, print, project_policy, use_color, write_file, Planned};
use crate::cli::{Format, GlobalArgs, PlanArgs};

pub async fn run(global: &GlobalArgs, args: &PlanArgs) -> Result<ExitCode, Report> {
    let planned = prepare(global, &args.targets, args.against.as_deref()).await?;
    let source = planned.source.to_string();
    if let Some(path) = &args.out {
        let document = plan_document(
            &planned.plan,
            &source,
            planned.options.online,
            &project_policy(&planned.desired),
        );
        write_file(path, &render_json(&document))?;
    }
    print(&render(&planned, args.format, use_color(global.color)))?;
    Ok(if planned.plan.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// The plan in the chosen format.
pub fn render(planned: &Planned, format: Format, color: bool) -> String {
    let source = planned.source.to_string();
    let policy = project_policy(&planned.desired);
    match format {
        Format::Text => {
            let options = TextOptions { color, policy };
            format!(
                "Database: {source}\n\n{}",
                render_text(&planned.plan, &options)
            )
        }
        Format::Sql => render_sql(
            &planned.plan,
            &[
                "kschema plan".to_string(),
                format!("database: {source}"),
                "run with: psql -v ON_ERROR_STOP=1 -f <this file>".to_string(),
            ],
        ),
        Format::Json => render_json(&plan_document(
            &planned.plan,
            &source,
            planned.options.online,
            &policy,
        )),
        Format::Markdown => render_markdown(
            &planned.plan,
            &MarkdownContext {
                database: &source,
                desired: &planned.desired,
                live: &planned.live,
                policy: &policy,
            },
        ),
    }
}
