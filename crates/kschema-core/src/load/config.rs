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
//! heavy_concurrency = 2       # index builds, validations, rewrites at once per server
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
//!
//! [lint.allow]                # warnings accepted, per rule ("*": the rule is off)
//! redundant-index = ["idx_users_auth0_id"]
//!
//! [rollout]                   # apply --tenant all in waves (see the README)
//! canary = ["abc123"]         # a first wave of these tenants
//! waves = ["10%", "100%"]     # then shares (cumulative) or counts of the rest
//! soak = 60.0                 # seconds to watch between waves
//! max_failure_percent = 0.0   # a wave may lose this share of its tenants
//! max_replication_lag = 60.0  # seconds a standby may lag (0: not checked)
//! max_lock_wait = 30.0        # seconds any statement may wait on a lock (0: not checked)
//! probe = "SELECT count(*) >= 0 FROM users"  # must return true in each tenant
//! ```

use std::sync::Arc;

use serde::Deserialize;

use super::parse_toml;
use crate::diagnostic::{Problem, SourceFile};
use crate::escape::printable;
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
    #[serde(default)]
    pub rollout: RolloutConfig,
    #[serde(default)]
    pub lint: LintConfig,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintConfig {
    /// Per rule, the objects (index, constraint or table names) whose
    /// warning is accepted; `"*"`: the rule is off.
    #[serde(default)]
    pub allow: std::collections::BTreeMap<String, Vec<String>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolloutConfig {
    /// Tenant ids (or `tag:NAME`, the tenants tenants.toml tags so) that
    /// form a first wave of their own.
    #[serde(default)]
    pub canary: Vec<String>,
    /// The waves after the canaries: `"10%"` (of the rest, cumulative) or
    /// `"25"` (tenants); what they leave is a last wave.
    #[serde(default)]
    pub waves: Vec<String>,
    /// Seconds to watch the gates between waves.
    pub soak: Option<f64>,
    pub max_failure_percent: Option<f64>,
    /// Seconds; 0 turns the gate off.
    pub max_replication_lag: Option<f64>,
    /// Seconds; 0 turns the gate off.
    pub max_lock_wait: Option<f64>,
    pub probe: Option<String>,
}

impl RolloutConfig {
    /// Whether kschema.toml asks for waves at all.
    pub fn in_waves(&self) -> bool {
        !self.canary.is_empty() || !self.waves.is_empty()
    }
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
    /// Index builds, validations and rewrites at once per server.
    pub heavy_concurrency: Option<u16>,
    pub blocking_hazards: Option<Vec<HazardKind>>,
    /// Seconds a statement may wait for a lock before new tenants wait
    /// too (0: off).
    pub backoff_lock_wait: Option<f64>,
    /// Free connection slots below which new tenants wait (0: off).
    pub backoff_min_free_connections: Option<u16>,
    /// Seconds to wait for pressure to clear before the tenants left are
    /// given up.
    pub backoff_max_pause: Option<f64>,
}

/// How big a wave is: a share of the tenants being changed (cumulative:
/// `["1%", "10%", "100%"]` ends at the whole fleet), a count of them, or
/// one wave per database (`"shard"`, alone).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WaveSize {
    Percent(f64),
    Count(usize),
    PerShard,
}

impl WaveSize {
    /// `"10%"`, `"25"` or `"shard"`.
    pub fn parse(spec: &str) -> Result<WaveSize, String> {
        let spec = spec.trim();
        if spec.eq_ignore_ascii_case("shard") {
            return Ok(WaveSize::PerShard);
        }
        if let Some(percent) = spec.strip_suffix('%') {
            return match percent.trim().parse::<f64>() {
                Ok(p) if p > 0.0 && p <= 100.0 => Ok(WaveSize::Percent(p)),
                _ => Err(format!(
                    "wave {:?} is not a share of the fleet between 0% and 100%",
                    printable(spec)
                )),
            };
        }
        match spec.parse::<usize>() {
            Ok(n) if n > 0 => Ok(WaveSize::Count(n)),
            _ => Err(format!(
                "wave {:?} is neither a share (\"10%\") nor a number of tenants (\"25\")",
                printable(spec)
            )),
        }
    }

    /// How many of `total` tenants have been reached once this wave ends.
    pub(crate) fn reach(self, total: usize) -> usize {
        match self {
            WaveSize::Percent(_) if total == 0 => 0,
            WaveSize::Percent(p) => ((p / 100.0 * total as f64).ceil() as usize).clamp(1, total),
            WaveSize::Count(n) => n.min(total),
            WaveSize::PerShard => total,
        }
    }
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
        (
            apply.heavy_concurrency == Some(0),
            "apply.heavy_concurrency must be at least 1",
        ),
        (
            [
                config.rollout.soak,
                config.rollout.max_replication_lag,
                config.rollout.max_lock_wait,
            ]
            .iter()
            .flatten()
            .any(|t| !t.is_finite() || *t < 0.0 || *t > 1e6),
            "rollout.soak, max_replication_lag and max_lock_wait must be numbers of seconds, 0 or more",
        ),
        (
            [apply.backoff_lock_wait, apply.backoff_max_pause]
                .iter()
                .flatten()
                .any(|t| !t.is_finite() || *t < 0.0 || *t > 1e6),
            "apply.backoff_lock_wait and backoff_max_pause must be numbers of seconds, 0 or more",
        ),
        (
            config
                .rollout
                .max_failure_percent
                .is_some_and(|p| !p.is_finite() || !(0.0..=100.0).contains(&p)),
            "rollout.max_failure_percent must be a share between 0 and 100",
        ),
    ];
    let rollout_problem = config
        .rollout
        .waves
        .iter()
        .find_map(|w| WaveSize::parse(w).err())
        .or_else(|| {
            config
                .rollout
                .canary
                .iter()
                .filter(|id| !id.starts_with("tag:"))
                .find_map(|id| super::TenantId::parse(id).err())
                .map(|e| format!("rollout.canary: {e}"))
        });
    let message = checks
        .iter()
        .find(|(bad, _)| *bad)
        .map(|(_, message)| message.to_string())
        .or(rollout_problem);
    if let Some(message) = message {
        return Err(Problem::new("kschema::config::value", message)
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
