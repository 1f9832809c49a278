//! What one run of a command works on: its databases (`--database-url`,
//! the local cluster, the shards of `tenants.toml`), its targets (the
//! shared schemas and the chosen tenants) and its MongoDB part. The
//! commands (`crate::commands`) use these; nothing here is a command.

pub mod fleet;
pub mod mongo;
pub mod targets;

use miette::Report;

use crate::cli::GlobalArgs;
use crate::db::Database;

/// The database from --database-url / DATABASE_URL, or the local cluster.
pub async fn open_database(global: &GlobalArgs) -> Result<Database, Report> {
    match global
        .database_url
        .as_deref()
        .filter(|u| !u.trim().is_empty())
    {
        Some(url) => Ok(Database::from_url(url)?),
        None => {
            let project =
                std::path::absolute(&global.project).unwrap_or_else(|_| global.project.clone());
            let mut db = Database::local(&project)?;
            db.prepare_local().await?;
            Ok(db)
        }
    }
}
