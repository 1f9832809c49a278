//! One module per subcommand, plus what they share: loading the project,
//! choosing targets, connecting and planning.

pub mod apply;
pub mod local;
pub mod plan;
pub mod targets;

use std::io::{self, IsTerminal, Write};
use std::path::Path;

use kschema_core::catalog::LiveState;
use kschema_core::load::{load_project, DesiredState};
use kschema_core::plan::{build_plan, Plan, PlanOptions, Target};
use miette::{IntoDiagnostic, Report};

use crate::cli::{ColorChoice, GlobalArgs, TargetArgs};
use crate::db::introspect::introspect;
use crate::db::Database;

/// Everything a plan was made from.
pub struct Planned {
    pub desired: DesiredState,
    pub db: Database,
    pub targets: Vec<Target>,
    pub live: LiveState,
    pub plan: Plan,
}

/// Loads the project, picks the targets, connects, introspects and plans.
/// Nothing is changed in the database.
pub async fn prepare(global: &GlobalArgs, target_args: &TargetArgs) -> Result<Planned, Report> {
    let desired = load_project(&global.project)?;
    let targets = targets::select_targets(&desired, &target_args.tenants)?;
    let db = open_database(global).await?;
    let client = db.connect().await?;
    let schemas: Vec<_> = targets.iter().map(|t| t.schema.clone()).collect();
    let live = introspect(&client, &schemas).await?;
    let options = PlanOptions {
        online: !target_args.no_online,
    };
    let plan = build_plan(&desired, &live, &targets, options);
    Ok(Planned {
        desired,
        db,
        targets,
        live,
        plan,
    })
}

/// The database from --database-url / DATABASE_URL, or the local cluster.
pub async fn open_database(global: &GlobalArgs) -> Result<Database, Report> {
    match global
        .database_url
        .as_deref()
        .filter(|u| !u.trim().is_empty())
    {
        Some(url) => Ok(Database::from_url(url)?),
        None => {
            let project = absolute(&global.project);
            let mut db = Database::local(&project)?;
            db.prepare_local().await?;
            Ok(db)
        }
    }
}

fn absolute(path: &Path) -> std::path::PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Whether to color text output.
pub fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    }
}

/// Writes to stdout; a closed pipe surfaces as an error main treats as success.
pub fn print(text: &str) -> Result<(), Report> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes()).into_diagnostic()?;
    out.flush().into_diagnostic()
}
