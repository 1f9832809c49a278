//! `kschema.toml`: optional project settings. Command-line flags override
//! them; without the file every setting has its default.
//!
//! ```toml
//! [plan]
//! online = true               # CONCURRENTLY, NOT VALID + VALIDATE for existing tables
//!
//! [apply]
//! lock_timeout = 3.0          # seconds a statement waits for a lock
//! index_lock_timeout = 300.0  # seconds an online index build waits for older transactions
//! lock_attempts = 5           # tries before a lock timeout fails the target
//! statement_timeout = 1800.0  # seconds a statement may run (0: no limit)
//! concurrency = 4             # tenant schemas applied at once
//! # hazards apply refuses unless allowed (flags or annotations)
//! blocking_hazards = ["deletes-data", "may-lose-data", "rewrites-table", "access-exclusive-lock"]
//!
//! [mongo]
//! database = "kolate_db"      # or "kolate_{tenant}": one database per tenant
//!
//! [database]
//! connect_timeout = 10.0      # seconds to connect (PostgreSQL and MongoDB)
//!
//! [roles]
//! managed = ["app", "readonly"]  # roles whose GRANTs the files declare
//! ```

use std::sync::Arc;

use serde::Deserialize;

use super::parse_toml;
use crate::diagnostic::{Problem, SourceFile};
use crate::hazard::HazardKind;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    #[serde(default)]
    pub plan: PlanConfig,
    #[serde(default)]
    pub apply: ApplyConfig,
    #[serde(default)]
    pub mongo: MongoConfig,
    #[serde(default)]
    pub database: DatabaseConfig,
    #[serde(default)]
    pub roles: RolesConfig,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolesConfig {
    /// The roles whose privileges the files declare (`GRANT … TO app`):
    /// compared and converged; other roles' grants are listed, not touched.
    #[serde(default)]
    pub managed: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// Seconds a connection may take, handshake included; a URL's own
    /// `connect_timeout` wins.
    pub connect_timeout: Option<f64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MongoConfig {
    /// The database holding the collections: one shared name
    /// (`"kolate_db"`), or one per tenant (`"kolate_{tenant}"`).
    pub database: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanConfig {
    pub online: Option<bool>,
    /// Where the desired state is built (see `--dev-url`).
    pub dev_url: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplyConfig {
    pub lock_timeout: Option<f64>,
    pub index_lock_timeout: Option<f64>,
    pub lock_attempts: Option<u32>,
    pub statement_timeout: Option<f64>,
    pub concurrency: Option<u16>,
    pub blocking_hazards: Option<Vec<HazardKind>>,
}

pub fn parse_config(file: &Arc<SourceFile>) -> Result<ProjectConfig, Problem> {
    let config: ProjectConfig = parse_toml(file)?;
    let apply = &config.apply;
    let checks = [
        (
            config
                .database
                .connect_timeout
                .is_some_and(|t| !t.is_finite() || t <= 0.0 || t > 1e6),
            "database.connect_timeout must be a number of seconds more than 0",
        ),
        (
            apply
                .lock_timeout
                .is_some_and(|t| !t.is_finite() || t <= 0.0),
            "apply.lock_timeout must be a number of seconds more than 0",
        ),
        (
            apply
                .index_lock_timeout
                .is_some_and(|t| !t.is_finite() || t <= 0.0),
            "apply.index_lock_timeout must be a number of seconds more than 0",
        ),
        (
            apply
                .statement_timeout
                .is_some_and(|t| !t.is_finite() || t < 0.0),
            "apply.statement_timeout must be a number of seconds, 0 or more",
        ),
        (
            apply.lock_attempts == Some(0),
            "apply.lock_attempts must be at least 1",
        ),
        (
            apply.concurrency == Some(0),
            "apply.concurrency must be at least 1",
        ),
    ];
    if let Some((_, message)) = checks.iter().find(|(bad, _)| *bad) {
        return Err(Problem::new("kschema::config::value", *message)
            .at(file, file.span_at(1, 1, 1), "in this file")
            .with_help("see the README for kschema.toml's settings"));
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_and_typos() {
        let file = SourceFile::new(
            "kschema.toml",
            "[apply]\nlock_timeout = 1.5\nblocking_hazards = [\"builds-index\"]\n",
        );
        let config = parse_config(&file).unwrap();
        assert_eq!(config.apply.lock_timeout, Some(1.5));
        assert_eq!(
            config.apply.blocking_hazards,
            Some(vec![HazardKind::BuildsIndex])
        );
        let typo = SourceFile::new("kschema.toml", "[apply]\nlock_timout = 1\n");
        assert_eq!(parse_config(&typo).unwrap_err().line(), Some(2));
        let unknown = SourceFile::new("kschema.toml", "[apply]\nblocking_hazards = [\"nope\"]\n");
        assert!(parse_config(&unknown).is_err());
    }
}
