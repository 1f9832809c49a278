//! `kschema local status|stop`

use miette::Report;

use super::print;
use crate::cli::{GlobalArgs, LocalAction};
use crate::db::local::{LocalCluster, Status};
use crate::ExitStatus;

pub fn run(global: &GlobalArgs, action: &LocalAction) -> Result<ExitStatus, Report> {
    let project = std::path::absolute(&global.project).unwrap_or_else(|_| global.project.clone());
    let cluster = LocalCluster::for_project(&project)?;
    match action {
        LocalAction::Status => {
            let text = match cluster.status() {
                Status::NotCreated => format!(
                    "local PostgreSQL: not created yet (kschema creates it in {} on first use)\n",
                    cluster.root.display()
                ),
                Status::Stopped => format!(
                    "local PostgreSQL: stopped (data in {})\n",
                    cluster.data_dir().display()
                ),
                Status::Running { pid } => format!(
                    "local PostgreSQL: running{} — postgresql://postgres@/kschema?host={}\n",
                    pid.map(|p| format!(" (pid {p})")).unwrap_or_default(),
                    cluster.socket_dir().display()
                ),
            };
            print(&text)?;
        }
        LocalAction::Stop => {
            let text = if cluster.stop()? {
                "local PostgreSQL: stopped\n"
            } else {
                "local PostgreSQL: was not running\n"
            };
            print(text)?;
        }
    }
    Ok(ExitStatus::Success)
}
