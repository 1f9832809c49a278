//! `kschema plan`: what would change, without changing anything.
//! Exit code 0 when nothing would change, 2 when something would.

use std::process::ExitCode;

use kschema_core::hazard::HazardPolicy;
use kschema_core::render::sql::render_sql;
use kschema_core::render::text::{render_text, TextOptions};
use miette::Report;

use super::{prepare, print, use_color};
use crate::cli::{Format, GlobalArgs, PlanArgs};

pub async fn run(global: &GlobalArgs, args: &PlanArgs) -> Result<ExitCode, Report> {
    let planned = prepare(global, &args.targets).await?;
    let output = match args.format {
        Format::Text => {
            let options = TextOptions {
                color: use_color(global.color),
                policy: HazardPolicy::default(),
            };
            format!(
                "Database: {}\n\n{}",
                planned.db,
                render_text(&planned.plan, &options)
            )
        }
        Format::Sql => render_sql(
            &planned.plan,
            &[
                "kschema plan".to_string(),
                format!("database: {}", planned.db),
                "run with: psql -v ON_ERROR_STOP=1 -f <this file>".to_string(),
            ],
        ),
    };
    print(&output)?;
    Ok(if planned.plan.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
