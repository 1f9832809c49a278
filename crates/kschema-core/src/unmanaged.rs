//! Live objects kschema does not manage yet, in the schemas it manages:
//! views, functions, triggers, policies, grants, comments, table options …
//! They are never compared, so every output lists them — "up to date" is
//! only ever said with what was not compared beside it.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// What kind of object, or of option on a managed object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnmanagedKind {
    Extension,
    Enum,
    Domain,
    CompositeType,
    RangeType,
    BaseType,
    Collation,
    Operator,
    TextSearch,
    Function,
    Procedure,
    Aggregate,
    View,
    MaterializedView,
    /// No longer listed (managed since); known so older snapshots read.
    MaterializedViewIndex,
    ForeignTable,
    Partitioning,
    Partition,
    /// A partition's column without the default its parent's has (a
    /// default or `NOT NULL` a partition sets itself is managed).
    PartitionColumn,
    InheritedTable,
    GeneratedColumn,
    ExclusionConstraint,
    SequenceOptions,
    StorageParameters,
    IndexOptions,
    Unlogged,
    Tablespace,
    ReplicaIdentity,
    Statistics,
    Trigger,
    Rule,
    RowSecurity,
    Policy,
    Privileges,
    DefaultPrivileges,
    Comment,
    /// One another role owns (kschema manages its own role's).
    EventTrigger,
}

impl UnmanagedKind {
    /// Every kind, in report order.
    pub const ALL: &'static [UnmanagedKind] = &[
        UnmanagedKind::Extension,
        UnmanagedKind::Enum,
        UnmanagedKind::Domain,
        UnmanagedKind::CompositeType,
        UnmanagedKind::RangeType,
        UnmanagedKind::BaseType,
        UnmanagedKind::Collation,
        UnmanagedKind::Operator,
        UnmanagedKind::TextSearch,
        UnmanagedKind::Function,
        UnmanagedKind::Procedure,
        UnmanagedKind::Aggregate,
        UnmanagedKind::View,
        UnmanagedKind::MaterializedView,
        UnmanagedKind::MaterializedViewIndex,
        UnmanagedKind::ForeignTable,
        UnmanagedKind::Partitioning,
        UnmanagedKind::Partition,
        UnmanagedKind::PartitionColumn,
        UnmanagedKind::InheritedTable,
        UnmanagedKind::GeneratedColumn,
        UnmanagedKind::ExclusionConstraint,
        UnmanagedKind::SequenceOptions,
        UnmanagedKind::StorageParameters,
        UnmanagedKind::IndexOptions,
        UnmanagedKind::Unlogged,
        UnmanagedKind::Tablespace,
        UnmanagedKind::ReplicaIdentity,
        UnmanagedKind::Statistics,
        UnmanagedKind::Trigger,
        UnmanagedKind::Rule,
        UnmanagedKind::RowSecurity,
        UnmanagedKind::Policy,
        UnmanagedKind::Privileges,
        UnmanagedKind::DefaultPrivileges,
        UnmanagedKind::Comment,
        UnmanagedKind::EventTrigger,
    ];

    /// Its code in catalog rows and snapshots, and its nouns.
    fn words(self) -> (&'static str, &'static str, &'static str) {
        use UnmanagedKind::*;
        match self {
            Extension => ("extension", "extension", "extensions"),
            Enum => ("enum", "enum", "enums"),
            Domain => ("domain", "domain", "domains"),
            CompositeType => ("composite_type", "composite type", "composite types"),
            RangeType => ("range_type", "range type", "range types"),
            BaseType => ("base_type", "base type", "base types"),
            Collation => ("collation", "collation", "collations"),
            Operator => ("operator", "operator", "operators"),
            TextSearch => (
                "text_search",
                "text search configuration or dictionary",
                "text search configurations and dictionaries",
            ),
            Function => ("function", "function", "functions"),
            Procedure => ("procedure", "procedure", "procedures"),
            Aggregate => ("aggregate", "aggregate", "aggregates"),
            View => ("view", "view", "views"),
            MaterializedView => (
                "materialized_view",
                "materialized view",
                "materialized views",
            ),
            MaterializedViewIndex => (
                "materialized_view_index",
                "index on a materialized view",
                "indexes on materialized views",
            ),
            ForeignTable => ("foreign_table", "foreign table", "foreign tables"),
            Partitioning => (
                "partitioning",
                "partitioned table (its partition key)",
                "partitioned tables (their partition keys)",
            ),
            Partition => ("partition", "partition", "partitions"),
            PartitionColumn => (
                "partition_column",
                "partition column without its parent's default",
                "partition columns without their parent's default",
            ),
            InheritedTable => ("inherited_table", "inheriting table", "inheriting tables"),
            GeneratedColumn => (
                "generated_column",
                "generated column (its expression)",
                "generated columns (their expressions)",
            ),
            ExclusionConstraint => (
                "exclusion_constraint",
                "exclusion constraint",
                "exclusion constraints",
            ),
            SequenceOptions => (
                "sequence_options",
                "identity or serial with sequence options",
                "identities or serials with sequence options",
            ),
            StorageParameters => (
                "storage_parameters",
                "table with storage parameters",
                "tables with storage parameters",
            ),
            IndexOptions => (
                "index_options",
                "index with storage options",
                "indexes with storage options",
            ),
            Unlogged => ("unlogged", "unlogged table", "unlogged tables"),
            Tablespace => (
                "tablespace",
                "table in a tablespace",
                "tables in a tablespace",
            ),
            ReplicaIdentity => ("replica_identity", "replica identity", "replica identities"),
            Statistics => ("statistics", "statistics object", "statistics objects"),
            Trigger => ("trigger", "trigger", "triggers"),
            Rule => ("rule", "rule", "rules"),
            RowSecurity => (
                "row_security",
                "table with row-level security",
                "tables with row-level security",
            ),
            Policy => ("policy", "policy", "policies"),
            Privileges => (
                "privileges",
                "object with granted privileges",
                "objects with granted privileges",
            ),
            DefaultPrivileges => (
                "default_privileges",
                "default privilege",
                "default privileges",
            ),
            Comment => ("comment", "comment", "comments"),
            EventTrigger => ("event_trigger", "event trigger", "event triggers"),
        }
    }

    /// The code catalog rows and snapshots use (`materialized_view`).
    pub fn code(self) -> &'static str {
        self.words().0
    }

    /// The kind for a code; `None` for one this kschema does not know.
    pub fn from_code(code: &str) -> Option<UnmanagedKind> {
        Self::ALL.iter().copied().find(|kind| kind.code() == code)
    }

    /// `foreign table`.
    pub fn singular(self) -> &'static str {
        self.words().1
    }

    /// `1 view`, `3 views`.
    pub fn counted(self, count: usize) -> String {
        let (_, one, many) = self.words();
        format!("{count} {}", if count == 1 { one } else { many })
    }
}

impl fmt::Display for UnmanagedKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One object: its kind and its name within the schema (never the schema's
/// own name, so identical tenants have identical lists).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct UnmanagedObject {
    pub kind: UnmanagedKind,
    pub name: String,
}

/// A schema's unmanaged objects, sorted; shared between schemas with the
/// same list.
pub type UnmanagedList = Arc<Vec<UnmanagedObject>>;

/// The list by kind, in kind order: `[(view, [a, b]), (policy, [p on t])]`.
pub fn by_kind(objects: &[UnmanagedObject]) -> Vec<(UnmanagedKind, Vec<&str>)> {
    let mut grouped: BTreeMap<UnmanagedKind, Vec<&str>> = BTreeMap::new();
    for object in objects {
        grouped
            .entry(object.kind)
            .or_default()
            .push(object.name.as_str());
    }
    grouped.into_iter().collect()
}

/// `2 views, 1 policy`.
pub fn count_summary(objects: &[UnmanagedObject]) -> String {
    by_kind(objects)
        .iter()
        .map(|(kind, names)| kind.counted(names.len()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_code_and_codes_round_trip() {
        for kind in UnmanagedKind::ALL {
            assert_eq!(UnmanagedKind::from_code(kind.code()), Some(*kind));
            let json = serde_json::to_string(kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.code()));
        }
        let mut codes: Vec<&str> = UnmanagedKind::ALL.iter().map(|k| k.code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), UnmanagedKind::ALL.len());
        assert_eq!(UnmanagedKind::from_code("sequence"), None);
    }

    #[test]
    fn summaries_count_per_kind_in_kind_order() {
        let objects = vec![
            UnmanagedObject {
                kind: UnmanagedKind::Policy,
                name: "p on t".into(),
            },
            UnmanagedObject {
                kind: UnmanagedKind::View,
                name: "a".into(),
            },
            UnmanagedObject {
                kind: UnmanagedKind::View,
                name: "b".into(),
            },
        ];
        assert_eq!(count_summary(&objects), "2 views, 1 policy");
        assert_eq!(
            by_kind(&objects),
            vec![
                (UnmanagedKind::View, vec!["a", "b"]),
                (UnmanagedKind::Policy, vec!["p on t"])
            ]
        );
    }
}
