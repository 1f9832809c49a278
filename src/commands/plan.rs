//! `kschema plan`: what would change, without changing anything.
//! Exit code 0 when nothing would change, 2 when something would.

use kschema_core::escape::{markdown_fence, printable};
use kschema_core::mongo::{render_mongo_text, MongoPlan};
use kschema_core::render::json::{merge_documents, plan_document, render_json, PlanDocument};
use kschema_core::render::markdown::{render_markdown, MarkdownContext};
use kschema_core::render::sql::render_sql;
use kschema_core::render::text::{render_text, TextOptions};
use miette::Report;

use super::{prepare, print, project_policy, use_color, write_file, Planned};
use crate::cli::{Format, GlobalArgs, PlanArgs};
use crate::ExitStatus;

pub async fn run(global: &GlobalArgs, args: &PlanArgs) -> Result<ExitStatus, Report> {
    let planned = prepare(global, &args.targets, args.against.as_deref()).await?;
    if let Some(path) = &args.out {
        write_file(path, &render_json(&document(&planned)))?;
    }
    print(&render(&planned, args.format, use_color(global.color)))?;
    Ok(if planned.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Changes
    })
}

/// The plan as one JSON document over every database.
pub fn document(planned: &Planned) -> PlanDocument {
    let policy = project_policy(&planned.desired);
    let documents: Vec<(Option<String>, PlanDocument)> = planned
        .shards
        .iter()
        .map(|s| {
            (
                s.name.clone(),
                plan_document(
                    &s.plan,
                    &s.source.to_string(),
                    planned.options.online,
                    &policy,
                ),
            )
        })
        .collect();
    let mut document = merge_documents(documents);
    document.mongo = planned.mongo.clone();
    document
}

/// The plan in the chosen format; with shards, one section per database.
pub fn render(planned: &Planned, format: Format, color: bool) -> String {
    let policy = project_policy(&planned.desired);
    if format == Format::Json {
        return render_json(&document(planned));
    }
    let several = planned.shards.len() > 1;
    let mut out = String::new();
    for shard in &planned.shards {
        let source = shard.source.to_string();
        if several {
            out.push_str(&format!("=== {}: {source}\n\n", shard.title()));
        }
        let section = match format {
            Format::Text => {
                let options = TextOptions {
                    color,
                    policy: policy.clone(),
                };
                let text = render_text(&shard.plan, &options);
                if several {
                    text
                } else {
                    format!("Database: {source}\n\n{text}")
                }
            }
            Format::Sql => render_sql(
                &shard.plan,
                &[
                    "kschema plan".to_string(),
                    format!("database: {source}"),
                    "run with: psql -v ON_ERROR_STOP=1 -f <this file>".to_string(),
                ],
            ),
            Format::Markdown => render_markdown(
                &shard.plan,
                &MarkdownContext {
                    database: &source,
                    desired: &planned.desired,
                    live: &shard.live,
                    policy: &policy,
                },
            ),
            Format::Json => String::new(),
        };
        out.push_str(&section);
        if several {
            out.push('\n');
        }
    }
    if let Some(mongo) = &planned.mongo {
        out.push_str(&match format {
            Format::Sql => mongo_sql(mongo),
            Format::Markdown => {
                let text = render_mongo_text(mongo, &policy);
                let fence = markdown_fence(&text);
                format!("## MongoDB\n\n{fence}\n{text}{fence}\n")
            }
            _ => render_mongo_text(mongo, &policy),
        });
    }
    out
}

/// MongoDB steps are commands, not SQL: the script lists them as comments.
fn mongo_sql(mongo: &MongoPlan) -> String {
    let mut out =
        String::from("\n-- MongoDB (not SQL; `kschema apply` runs these with db.runCommand):\n");
    if let Some(reason) = &mongo.skipped {
        out.push_str(&format!("--   skipped: {}\n", printable(reason)));
    }
    for target in &mongo.targets {
        for step in &target.steps {
            out.push_str(&format!(
                "--   {}: db.runCommand({})\n",
                printable(&target.database),
                printable(&step.command.to_string())
            ));
        }
    }
    out
}
