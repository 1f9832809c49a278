//! A fleet rollout in waves: which tenants go in which wave, and whether a
//! wave's health gates let the next one start. The shell runs the waves,
//! measures the server and asks here; nothing here touches a database.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::escape::printable;
use crate::load::TenantId;
pub use crate::load::WaveSize;

/// One wave: its tenants, in id order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wave {
    /// `canary`, `1%`, `25`, `rest`: what the wave was asked to be.
    pub label: String,
    pub tenants: Vec<TenantId>,
}

/// The waves over `tenants`: the canaries first (those among `tenants`),
/// then each size, counted over the rest in id order (cumulatively: a
/// share is of the whole rest, a count adds that many); whatever the sizes
/// leave is a last wave. Empty waves are left out.
pub fn split_waves(tenants: &[TenantId], canary: &[TenantId], sizes: &[WaveSize]) -> Vec<Wave> {
    let mut waves = Vec::new();
    let canaries: Vec<TenantId> = tenants
        .iter()
        .filter(|t| canary.contains(t))
        .cloned()
        .collect();
    if !canaries.is_empty() {
        waves.push(Wave {
            label: "canary".into(),
            tenants: canaries,
        });
    }
    let mut rest: Vec<TenantId> = tenants
        .iter()
        .filter(|t| !canary.contains(t))
        .cloned()
        .collect();
    rest.sort();
    let total = rest.len();
    let mut reached = 0;
    for size in sizes {
        let until = match size {
            WaveSize::Percent(_) | WaveSize::PerShard => size.reach(total).max(reached),
            WaveSize::Count(n) => (reached + n).min(total),
        };
        if until > reached {
            waves.push(Wave {
                label: match size {
                    WaveSize::Percent(p) => format!("{p}%"),
                    WaveSize::Count(n) => n.to_string(),
                    WaveSize::PerShard => "all".to_string(),
                },
                tenants: rest[reached..until].to_vec(),
            });
            reached = until;
        }
    }
    if reached < total {
        waves.push(Wave {
            label: if sizes.is_empty() { "all" } else { "rest" }.into(),
            tenants: rest[reached..].to_vec(),
        });
    }
    waves
}

/// One wave per database (`shards`: each one's label and tenants, in
/// tenants.toml's order), after the canaries; a database with nothing to
/// change has no wave.
pub fn waves_by_shard(canary: &[TenantId], shards: &[(String, Vec<TenantId>)]) -> Vec<Wave> {
    let mut waves = Vec::new();
    let mut canaries: Vec<TenantId> = shards
        .iter()
        .flat_map(|(_, tenants)| tenants)
        .filter(|t| canary.contains(t))
        .cloned()
        .collect();
    canaries.sort();
    if !canaries.is_empty() {
        waves.push(Wave {
            label: "canary".into(),
            tenants: canaries,
        });
    }
    for (label, tenants) in shards {
        let mut rest: Vec<TenantId> = tenants
            .iter()
            .filter(|t| !canary.contains(t))
            .cloned()
            .collect();
        rest.sort();
        if !rest.is_empty() {
            waves.push(Wave {
                label: label.clone(),
                tenants: rest,
            });
        }
    }
    waves
}

/// What a wave must stay within for the next to start.
#[derive(Clone, Debug, PartialEq)]
pub struct Gates {
    /// The share of a wave's tenants that may fail (0: none may).
    pub max_failure_percent: f64,
    /// How far behind a standby may replay (`pg_stat_replication`).
    pub max_replication_lag: Option<Duration>,
    /// How long any statement on the database may wait for a lock.
    pub max_lock_wait: Option<Duration>,
    /// A query run in each tenant of the wave, on its search path, that
    /// must return true.
    pub probe: Option<String>,
}

impl Default for Gates {
    fn default() -> Self {
        Gates {
            max_failure_percent: 0.0,
            max_replication_lag: Some(Duration::from_secs(60)),
            max_lock_wait: Some(Duration::from_secs(30)),
            probe: None,
        }
    }
}

/// A gate a wave did not pass, with what was seen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "breach", rename_all = "snake_case")]
pub enum Breach {
    /// More tenants failed than the wave may lose.
    FailureRate {
        failed: usize,
        total: usize,
        limit_percent: f64,
    },
    /// Indexes left INVALID in the wave's schemas (`schema.index`).
    InvalidIndexes { indexes: Vec<String> },
    /// Standbys replaying further behind than the limit.
    ReplicationLag {
        limit_seconds: f64,
        /// (standby, seconds behind)
        standbys: Vec<(String, f64)>,
    },
    /// Statements waiting on a lock longer than the limit.
    LockWait {
        limit_seconds: f64,
        /// (pid, seconds waited, query)
        waiting: Vec<(i32, f64, String)>,
    },
    /// Tenants whose probe did not return true: (tenant, what it returned).
    Probe { failed: Vec<(String, String)> },
    /// public, which goes first, did not converge: no tenant started.
    Public { error: String },
    /// A gate could not be measured (the server did not answer): not
    /// knowing is not passing.
    Unmeasured { what: String, error: String },
}

impl Breach {
    /// The gate's name, as kschema.toml's settings say it.
    pub fn gate(&self) -> &'static str {
        match self {
            Breach::FailureRate { .. } => "max_failure_percent",
            Breach::InvalidIndexes { .. } => "invalid indexes",
            Breach::ReplicationLag { .. } => "max_replication_lag",
            Breach::LockWait { .. } => "max_lock_wait",
            Breach::Probe { .. } => "probe",
            Breach::Public { .. } => "public",
            Breach::Unmeasured { .. } => "unmeasured",
        }
    }
}

/// The most cases of one breach a message lists.
const LISTED: usize = 5;

fn listed<T>(items: &[T], each: impl Fn(&T) -> String) -> String {
    let mut shown: Vec<String> = items.iter().take(LISTED).map(each).collect();
    if items.len() > LISTED {
        shown.push(format!("and {} more", items.len() - LISTED));
    }
    shown.join("; ")
}

/// One line of evidence, every name escaped for a terminal or a log.
impl fmt::Display for Breach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Breach::FailureRate {
                failed,
                total,
                limit_percent,
            } => write!(
                f,
                "{failed} of {total} tenants failed ({:.1}%; at most {limit_percent}% may)",
                *failed as f64 * 100.0 / (*total).max(1) as f64
            ),
            Breach::InvalidIndexes { indexes } => write!(
                f,
                "{} INVALID index{} left: {}",
                indexes.len(),
                if indexes.len() == 1 { "" } else { "es" },
                listed(indexes, |i| printable(i).into_owned())
            ),
            Breach::ReplicationLag {
                limit_seconds,
                standbys,
            } => write!(
                f,
                "standby replay lag above {limit_seconds}s: {}",
                listed(standbys, |(name, lag)| format!(
                    "{} {lag:.1}s",
                    printable(name)
                ))
            ),
            Breach::LockWait {
                limit_seconds,
                waiting,
            } => write!(
                f,
                "statements waiting on a lock for more than {limit_seconds}s: {}",
                listed(waiting, |(pid, seconds, query)| format!(
                    "pid {pid} for {seconds:.1}s: {}",
                    printable(&shorten(query))
                ))
            ),
            Breach::Probe { failed } => write!(
                f,
                "the probe did not return true in {} tenant{}: {}",
                failed.len(),
                if failed.len() == 1 { "" } else { "s" },
                listed(failed, |(tenant, got)| format!(
                    "{} ({})",
                    printable(tenant),
                    printable(&shorten(got))
                ))
            ),
            Breach::Public { error } => {
                write!(f, "public did not converge: {}", printable(&shorten(error)))
            }
            Breach::Unmeasured { what, error } => write!(
                f,
                "{} could not be measured: {}",
                printable(what),
                printable(&shorten(error))
            ),
        }
    }
}

/// A query or message on one line, cut at 120 characters.
fn shorten(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(120) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line,
    }
}

/// The failure-rate gate over a finished wave.
pub fn failure_gate(failed: usize, total: usize, gates: &Gates) -> Option<Breach> {
    let percent = failed as f64 * 100.0 / total.max(1) as f64;
    (failed > 0 && percent > gates.max_failure_percent).then_some(Breach::FailureRate {
        failed,
        total,
        limit_percent: gates.max_failure_percent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<TenantId> {
        (0..n)
            .map(|i| TenantId::parse(&format!("t{i:03}")).unwrap())
            .collect()
    }

    fn sizes(specs: &[&str]) -> Vec<WaveSize> {
        specs.iter().map(|s| WaveSize::parse(s).unwrap()).collect()
    }

    fn counts(waves: &[Wave]) -> Vec<usize> {
        waves.iter().map(|w| w.tenants.len()).collect()
    }

    #[test]
    fn shares_are_cumulative_over_the_tenants_after_the_canaries() {
        let tenants = ids(200);
        let canary = vec![tenants[7].clone()];
        let waves = split_waves(&tenants, &canary, &sizes(&["1%", "10%", "100%"]));
        assert_eq!(counts(&waves), vec![1, 2, 18, 179]);
        assert_eq!(waves[0].label, "canary");
        assert_eq!(waves[0].tenants, canary);
        // Every tenant exactly once.
        let mut all: Vec<TenantId> = waves.into_iter().flat_map(|w| w.tenants).collect();
        all.sort();
        assert_eq!(all, tenants);
    }

    #[test]
    fn counts_add_up_and_the_rest_is_a_last_wave() {
        let waves = split_waves(&ids(10), &[], &sizes(&["2", "3"]));
        assert_eq!(counts(&waves), vec![2, 3, 5]);
        assert_eq!(waves[2].label, "rest");
        // A share smaller than one tenant is still one; sizes past the
        // fleet give no empty waves.
        let waves = split_waves(&ids(3), &[], &sizes(&["1%", "50%", "100%", "10"]));
        assert_eq!(counts(&waves), vec![1, 1, 1]);
    }

    #[test]
    fn a_wave_per_shard_after_the_canaries() {
        let tenants = ids(6);
        let shards = vec![
            ("main database".to_string(), tenants[..2].to_vec()),
            ("database eu".to_string(), Vec::new()),
            ("database us".to_string(), tenants[2..].to_vec()),
        ];
        let waves = waves_by_shard(&[tenants[4].clone()], &shards);
        let labels: Vec<&str> = waves.iter().map(|w| w.label.as_str()).collect();
        assert_eq!(labels, ["canary", "main database", "database us"]);
        assert_eq!(counts(&waves), vec![1, 2, 3]);
        assert!(!waves[2].tenants.contains(&tenants[4]));
    }

    #[test]
    fn no_tenants_make_no_waves() {
        assert!(split_waves(&[], &[], &sizes(&["1%", "3", "100%"])).is_empty());
        assert!(split_waves(&[], &ids(2), &[]).is_empty());
    }

    #[test]
    fn wave_sizes_that_mean_nothing_are_refused() {
        for bad in ["0%", "101%", "-1", "0", "ten", "%", ""] {
            assert!(WaveSize::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_failure_gate_allows_its_share() {
        let gates = Gates {
            max_failure_percent: 10.0,
            ..Gates::default()
        };
        assert_eq!(failure_gate(1, 10, &gates), None);
        assert!(matches!(
            failure_gate(2, 10, &gates),
            Some(Breach::FailureRate { failed: 2, .. })
        ));
        assert!(failure_gate(1, 10, &Gates::default()).is_some());
    }

    #[test]
    fn evidence_is_escaped_and_short() {
        let breach = Breach::LockWait {
            limit_seconds: 30.0,
            waiting: vec![(42, 31.5, "SELECT 1;\n\u{1b}[31mDROP TABLE x".into())],
        };
        let text = breach.to_string();
        assert!(!text.contains('\u{1b}') && !text.contains('\n'), "{text}");
        assert!(text.contains("pid 42 for 31.5s"), "{text}");
    }
}
