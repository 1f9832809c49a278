//! Hazards: what can go wrong when a plan step runs against a database that
//! holds data and serves traffic. Each step carries its hazards as data;
//! `apply` refuses steps whose hazards are not allowed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A kind of hazard. The kebab-case name is what `--allow-hazard` takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HazardKind {
    /// Drops a table, a column or a sequence (or a seed row): the data in it
    /// is gone for good. Dangerous because nothing can bring it back but a
    /// backup. Safer: stop using the object first, archive what you need,
    /// then drop it in a release of its own.
    DeletesData,
    /// Changes a column to a type that cannot hold every value of the old
    /// one (`varchar(255)` → `varchar(50)`, `text` → `integer`). Dangerous
    /// because the change fails on values that do not fit, or silently
    /// rounds them. Safer: add a new column, backfill it, switch readers,
    /// then drop the old one.
    MayLoseData,
    /// Rewrites every row of the table (most type changes). Dangerous
    /// because the table is locked ACCESS EXCLUSIVE for as long as the
    /// rewrite takes and needs twice its disk space. Safer: a new column
    /// plus a backfill in batches.
    RewritesTable,
    /// Holds an ACCESS EXCLUSIVE lock for longer than a catalog change
    /// (a full scan under the lock). Dangerous because every query on the
    /// table waits behind it. Safer: the online forms kschema uses by
    /// default, or a maintenance window.
    AccessExclusiveLock,
    /// Builds an index on a table that already exists. With `CONCURRENTLY`
    /// (the default online form) writes go on, but the build reads the whole
    /// table and takes time and I/O. Safer: run it at a quiet hour.
    BuildsIndex,
    /// Validates a constraint against every existing row. Online (`NOT
    /// VALID` then `VALIDATE`) it only blocks schema changes, but it scans
    /// the table, and fails if a row violates the constraint. Safer: check
    /// the data first.
    ValidatesConstraint,
    /// Drops an index that queries may be relying on. Dangerous because
    /// plans that used it turn into sequential scans at once. Safer: check
    /// `pg_stat_user_indexes.idx_scan` first.
    DropsIndex,
    /// Tightens a MongoDB validator (or its level or action): documents
    /// already stored may not satisfy it, and updates to them are then
    /// rejected. Safer: count them first (`plan --count-invalid`), fix them,
    /// or roll out with `validationAction = "warn"`.
    RejectsDocuments,
    /// Drops an object and creates it again in one transaction (a function
    /// whose result type or argument names change). Dangerous because what
    /// was granted on it is gone with it, and objects kschema does not
    /// manage that depend on it make the drop fail. Safer: a new function
    /// under another name, callers moved to it, the old one dropped later.
    RecreatesObject,
    /// Enables row-level security on a table that holds rows: every role
    /// but the owner (and superusers, and roles with BYPASSRLS) then sees
    /// only the rows a policy lets it see — none, without one. Safer: create
    /// the policies first and check them as the application's role.
    HidesRows,
    /// Revokes a privilege from a role kschema manages. Dangerous because
    /// whatever that role runs that needs it (the application) fails at
    /// once. Safer: stop using it first, then revoke it in a release of its
    /// own.
    RevokesAccess,
    /// Creates (or creates again) a materialized view: its query runs over
    /// every row it reads, and the view is locked while it fills. Not
    /// blocking (it is how a materialized view changes), but worth a look
    /// on a big table; `WITH NO DATA` and a later `REFRESH … CONCURRENTLY`
    /// avoid the wait.
    RefillsView,
}

impl HazardKind {
    pub const ALL: [HazardKind; 12] = [
        HazardKind::DeletesData,
        HazardKind::MayLoseData,
        HazardKind::RewritesTable,
        HazardKind::AccessExclusiveLock,
        HazardKind::BuildsIndex,
        HazardKind::ValidatesConstraint,
        HazardKind::DropsIndex,
        HazardKind::RejectsDocuments,
        HazardKind::RecreatesObject,
        HazardKind::HidesRows,
        HazardKind::RevokesAccess,
        HazardKind::RefillsView,
    ];

    pub fn name(self) -> &'static str {
        match self {
            HazardKind::DeletesData => "deletes-data",
            HazardKind::MayLoseData => "may-lose-data",
            HazardKind::RewritesTable => "rewrites-table",
            HazardKind::AccessExclusiveLock => "access-exclusive-lock",
            HazardKind::BuildsIndex => "builds-index",
            HazardKind::ValidatesConstraint => "validates-constraint",
            HazardKind::DropsIndex => "drops-index",
            HazardKind::RejectsDocuments => "rejects-documents",
            HazardKind::RecreatesObject => "recreates-object",
            HazardKind::HidesRows => "hides-rows",
            HazardKind::RevokesAccess => "revokes-access",
            HazardKind::RefillsView => "refills-view",
        }
    }

    /// Whether `apply` refuses it unless it is allowed. Hazards that lose
    /// data or block traffic do; the online operations are reported only.
    pub fn blocks_by_default(self) -> bool {
        matches!(
            self,
            HazardKind::DeletesData
                | HazardKind::MayLoseData
                | HazardKind::RewritesTable
                | HazardKind::AccessExclusiveLock
                | HazardKind::RecreatesObject
                | HazardKind::HidesRows
                | HazardKind::RevokesAccess
        )
    }

    /// The ones `--allow-destructive` allows.
    pub fn is_destructive(self) -> bool {
        matches!(self, HazardKind::DeletesData | HazardKind::MayLoseData)
    }
}

impl fmt::Display for HazardKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for HazardKind {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        HazardKind::ALL
            .into_iter()
            .find(|k| k.name() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = HazardKind::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "unknown hazard {text:?}; known hazards: {}",
                    names.join(", ")
                )
            })
    }
}

/// A hazard on one step, with what specifically makes it one.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Hazard {
    pub kind: HazardKind,
    pub message: String,
}

impl Hazard {
    pub fn new(kind: HazardKind, message: impl Into<String>) -> Self {
        Hazard {
            kind,
            message: message.into(),
        }
    }
}

/// The kinds among `hazards`, each named once, sorted: what a history row
/// records as allowed.
pub fn kind_names<'a>(hazards: impl Iterator<Item = &'a Hazard>) -> Vec<String> {
    let mut names: Vec<String> = hazards.map(|h| h.kind.to_string()).collect();
    names.sort();
    names.dedup();
    names
}

/// Which hazards an apply may go through with.
#[derive(Clone, Debug)]
pub struct HazardPolicy {
    /// Refused unless allowed (`blocking_hazards` in kschema.toml).
    pub blocking: Vec<HazardKind>,
    pub allowed: Vec<HazardKind>,
}

impl Default for HazardPolicy {
    fn default() -> Self {
        HazardPolicy {
            blocking: HazardKind::ALL
                .into_iter()
                .filter(|k| k.blocks_by_default())
                .collect(),
            allowed: Vec::new(),
        }
    }
}

impl HazardPolicy {
    /// The default policy with another set of blocking hazards.
    pub fn blocking(blocking: Vec<HazardKind>) -> Self {
        HazardPolicy {
            blocking,
            allowed: Vec::new(),
        }
    }

    pub fn allow_destructive(mut self) -> Self {
        self.allowed
            .extend(HazardKind::ALL.into_iter().filter(|k| k.is_destructive()));
        self
    }

    pub fn allows(&self, kind: HazardKind) -> bool {
        !self.blocking.contains(&kind) || self.allowed.contains(&kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in HazardKind::ALL {
            assert_eq!(kind.name().parse::<HazardKind>().unwrap(), kind);
        }
        assert!("nope".parse::<HazardKind>().is_err());
    }

    #[test]
    fn destructive_shorthand_allows_data_loss_only() {
        let policy = HazardPolicy::default().allow_destructive();
        assert!(policy.allows(HazardKind::DeletesData));
        assert!(policy.allows(HazardKind::MayLoseData));
        assert!(!policy.allows(HazardKind::RewritesTable));
        assert!(HazardPolicy::default().allows(HazardKind::BuildsIndex));
    }
}
