//! The catalog's rows as the shell's queries return them (`src/db/sql/`),
//! before they become models: one type per query's row or document, and
//! what leaves a schema's own name and oids out of them.

use std::collections::HashMap;

use serde::Deserialize;

use crate::model::SequenceOptions;
use crate::normalize::qualifier::strip_qualifier;

/// One table as the catalog query describes it.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RawTable {
    #[serde(default)]
    pub columns: Vec<RawColumn>,
    #[serde(default)]
    pub constraints: Vec<RawConstraint>,
    #[serde(default)]
    pub indexes: Vec<RawIndex>,
    #[serde(default)]
    pub unlogged: bool,
    #[serde(default)]
    pub comment: Option<String>,
    /// `relreplident`: `d`, `n`, `f` or `i` (an index: `replica_index`).
    #[serde(default)]
    pub replica_identity: String,
    /// The index `relreplident` `i` means; none when it was dropped (then
    /// PostgreSQL behaves as for `NOTHING`, and the table is listed).
    #[serde(default)]
    pub replica_index: Option<String>,
    /// `reloptions`: `name=value` each.
    #[serde(default)]
    pub options: Option<Vec<String>>,
    /// Its tablespace's name; none for the database's default.
    #[serde(default)]
    pub tablespace: Option<String>,
    #[serde(default)]
    pub triggers: Vec<RawTrigger>,
    #[serde(default)]
    pub row_security: bool,
    #[serde(default)]
    pub force_row_security: bool,
    #[serde(default)]
    pub policies: Vec<RawPolicy>,
    /// `[column or null, role, privilege, grantable]`.
    #[serde(default)]
    pub grants: Vec<(Option<String>, String, String, bool)>,
    /// `pg_get_partkeydef`: `RANGE (created_at)`.
    #[serde(default)]
    pub partition_key: Option<String>,
    /// A partition's parent (in the same schema).
    #[serde(default)]
    pub partition_of: Option<String>,
    /// A partition's bound: `FOR VALUES IN ('eu')`.
    #[serde(default)]
    pub partition_bound: Option<String>,
    /// A partition's columns with a default or NOT NULL of their own.
    #[serde(default)]
    pub partition_columns: Vec<RawPartitionColumn>,
    /// What calls a function of the table's schema (kind: `default`,
    /// `generated`, `constraint`, `index`).
    #[serde(default)]
    pub function_users: Vec<RawFunctionUser>,
    /// What the columns' own sequences hold beyond the model (a serial's
    /// options, a type other than the column's), each `table.column
    /// (…)`: listed as not compared.
    #[serde(default)]
    pub sequence_notes: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct RawPolicy {
    pub name: String,
    pub definition: String,
    #[serde(default)]
    pub calls: Vec<String>,
    /// `[schema, function]` of other schemas.
    #[serde(default)]
    pub calls_outside: Vec<(String, String)>,
    /// `[schema, relation, column or null]` of other schemas.
    #[serde(default)]
    pub reads_outside: Vec<(String, String, Option<String>)>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct RawFunctionUser {
    pub function: String,
    /// The function's schema, when not the table's own.
    #[serde(default)]
    pub schema: Option<String>,
    pub kind: String,
    pub name: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct RawPartitionColumn {
    pub name: String,
    pub default: Option<String>,
    pub not_null: bool,
}

/// One function or procedure as functions.sql reads it.
#[derive(Clone, Debug)]
pub struct RawFunction {
    pub schema: String,
    pub name: String,
    /// `oidvectortypes(proargtypes)`
    pub arguments: String,
    /// `pronargs`
    pub inputs: i16,
    /// `prokind`: `f`, `p`, `a` or `w`.
    pub kind: String,
    /// `pg_get_functiondef`
    pub definition: String,
    /// `pg_get_function_result` and `pg_get_function_arguments`.
    pub interface: String,
    pub atomic_body: bool,
    /// The types of its own schema its signature uses (by name).
    pub types: Vec<String>,
}

/// The search path the catalog is read on (the shell's introspection sets
/// it): PostgreSQL qualifies an expression's names of this schema only
/// where the bare name would find another object first — pgcrypto's
/// `public.gen_random_uuid()` against the built-in one.
const READING_SEARCH_PATH: &str = "public";

impl RawTable {
    /// Every text PostgreSQL deparsed without `schema.` qualifiers (a type
    /// or function of the table's own schema is qualified, since only
    /// public is on the reading search path): tenant tables then read the
    /// same, and the same as the template's. In public's own expressions a
    /// qualifier is kept: there PostgreSQL writes one only when it tells
    /// two objects apart.
    pub(super) fn leave_out_schema(&mut self, schema: &str) {
        let strip = |text: &mut String| *text = strip_qualifier(text, schema);
        let on_path = schema == READING_SEARCH_PATH;
        let strip_some = |text: &mut Option<String>| {
            if let Some(text) = text.as_mut().filter(|_| !on_path) {
                *text = strip_qualifier(text, schema);
            }
        };
        for column in &mut self.columns {
            if !on_path {
                strip(&mut column.data_type);
            }
            strip_some(&mut column.default);
            strip_some(&mut column.generated);
        }
        // A partition's own default names its types as its parent's do; a
        // key's expression may call the schema's functions.
        for column in &mut self.partition_columns {
            strip_some(&mut column.default);
        }
        strip_some(&mut self.partition_key);
        for constraint in &mut self.constraints {
            strip_some(&mut constraint.check);
            strip_some(&mut constraint.definition);
        }
        for index in &mut self.indexes {
            strip_some(&mut index.predicate);
            for key in &mut index.keys {
                strip_some(&mut key.expr);
            }
        }
        for trigger in &mut self.triggers {
            strip(&mut trigger.definition);
        }
        for policy in &mut self.policies {
            strip(&mut policy.definition);
        }
    }
}

/// One privilege as privileges.sql reads it.
#[derive(Clone, Debug)]
pub struct RawGrant {
    pub schema: String,
    /// `table`, `sequence`, `column`, `function` or `schema`.
    pub kind: String,
    pub object: Option<String>,
    /// The column, or a function's argument types.
    pub detail: Option<String>,
    pub procedure: bool,
    pub role: String,
    pub privilege: String,
    pub grantable: bool,
}

/// One domain as domains.sql reads it.
#[derive(Clone, Debug)]
pub struct RawDomain {
    pub schema: String,
    pub name: String,
    pub base: String,
    pub collation: Option<String>,
    pub default: Option<String>,
    pub not_null: bool,
    /// `[[name, definition, validated], …]`
    pub checks: String,
}

/// One composite type as composites.sql reads it.
#[derive(Clone, Debug)]
pub struct RawComposite {
    pub schema: String,
    pub name: String,
    /// `[[name, type, collation or null], …]`
    pub attributes: String,
}

/// One comment as comments.sql reads it.
#[derive(Clone, Debug)]
pub struct RawComment {
    pub schema: String,
    /// `index`, `sequence`, `view`, `view_column`, `constraint`,
    /// `function`, `type`, `trigger`, `policy` or `extension`.
    pub kind: String,
    pub object: String,
    /// The column, the constraint, trigger or policy (`object` is then its
    /// table), or a function's argument types.
    pub detail: Option<String>,
    pub procedure: bool,
    pub text: String,
}

/// One view as views.sql reads it.
#[derive(Clone, Debug)]
pub struct RawView {
    pub schema: String,
    pub name: String,
    /// `pg_get_viewdef`
    pub definition: String,
    /// JSON: `[[name, type], …]`
    pub columns: String,
    pub options: Vec<String>,
    /// Relations of its schema it reads.
    pub reads: Vec<String>,
    /// JSON: `[[schema, relation, column or null], …]` of other schemas.
    pub reads_outside: String,
    /// Functions of its schema it calls, by name.
    pub calls: Vec<String>,
    /// JSON: `[[schema, function], …]` of other schemas.
    pub calls_outside: String,
    /// The schema of the view the definition was read from (the one view
    /// that represents all of its signature), whose name is left out.
    pub read_from: String,
    pub materialized: bool,
    /// A materialized view's indexes: its document as `tables.sql` writes
    /// a table's (only its indexes are taken).
    pub indexes: Option<String>,
}

/// A query tree's text (`pg_rewrite.ev_action`) with the oids of its own
/// schema's objects replaced by their names (`own`: oid → name), so
/// tenants' identical views read the same. Only numbers of 5 digits or more
/// can be such oids (user objects start at 16384); an enum constant's value
/// (`:constvalue 4 [ b0 b1 b2 b3 … ]`, its label's oid in bytes) is named
/// too when it is one of `own`'s.
pub fn with_oids_named(tree: &str, own: &HashMap<String, String>) -> String {
    if own.is_empty() {
        return tree.to_string();
    }
    let named_values = name_constant_values(tree, own);
    let tree = named_values.as_deref().unwrap_or(tree);
    let mut out = String::with_capacity(tree.len());
    // Digit runs are ASCII: cut the text at them, bytewise. Only runs of
    // 5 digits or more are looked up (most numbers in a tree are short:
    // attribute numbers, locations), without copying them.
    let bytes = tree.as_bytes();
    let mut copied = 0;
    let mut at = 0;
    while at < bytes.len() {
        if !bytes[at].is_ascii_digit() {
            at += 1;
            continue;
        }
        let start = at;
        while at < bytes.len() && bytes[at].is_ascii_digit() {
            at += 1;
        }
        if at - start < 5 {
            continue;
        }
        if let Some(name) = own.get(&tree[start..at]) {
            out.push_str(&tree[copied..start]);
            out.push('@');
            out.push_str(name);
            copied = at;
        }
    }
    out.push_str(&tree[copied..]);
    out
}

/// `:constvalue 4 [ …bytes… ]` whose first four bytes are an oid of `own`
/// (an enum label), written as that name; `None` when there is none.
fn name_constant_values(tree: &str, own: &HashMap<String, String>) -> Option<String> {
    const MARK: &str = ":constvalue 4 [ ";
    if !tree.contains(MARK) {
        return None;
    }
    let mut out = String::with_capacity(tree.len());
    let mut rest = tree;
    while let Some(at) = rest.find(MARK) {
        let (before, after) = rest.split_at(at + MARK.len());
        out.push_str(before);
        let Some(end) = after.find(']') else {
            rest = after;
            continue;
        };
        let bytes: Vec<i64> = after[..end]
            .split_whitespace()
            .filter_map(|b| b.parse().ok())
            .collect();
        let oid = bytes
            .iter()
            .take(4)
            .enumerate()
            .fold(0u64, |oid, (i, b)| oid | (((*b as u64) & 0xff) << (8 * i)));
        match own.get(&oid.to_string()) {
            Some(name) if bytes.len() >= 4 && oid >= 16384 => {
                out.push('@');
                out.push_str(name);
                out.push(' ');
            }
            _ => out.push_str(&after[..end]),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    Some(out)
}

#[derive(Clone, Debug, Deserialize)]
pub struct RawTrigger {
    pub name: String,
    /// `pg_get_triggerdef`, which qualifies what is not on the search path.
    pub definition: String,
    pub constraint: bool,
    /// The function it runs, when in the table's schema.
    pub own_function: Option<String>,
    /// `tgenabled`
    pub enabled: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct RawColumn {
    pub name: String,
    /// `format_type(atttypid, atttypmod)`
    #[serde(rename = "type")]
    pub data_type: String,
    pub not_null: bool,
    /// `pg_get_expr(adbin, adrelid)`
    pub default: Option<String>,
    /// `attidentity`: `a`, `d` or empty.
    #[serde(default)]
    pub identity: String,
    /// The owned sequence, when the default is its `nextval` (a serial).
    pub serial_sequence: Option<String>,
    /// An identity column's sequence.
    #[serde(default)]
    pub identity_sequence: Option<SequenceOptions>,
    /// A serial's sequence.
    #[serde(default)]
    pub serial_options: Option<SequenceOptions>,
    /// A serial's sequence's type, when it is not the column's.
    #[serde(default)]
    pub serial_type: Option<String>,
    /// A collation other than the type's default.
    pub collation: Option<String>,
    /// A stored generated column's expression.
    #[serde(default)]
    pub generated: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct RawConstraint {
    pub name: String,
    /// `contype`: `p`, `u`, `c` or `f`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub columns: Vec<String>,
    /// `pg_get_expr(conbin, conrelid)` for checks.
    pub check: Option<String>,
    #[serde(default)]
    pub no_inherit: bool,
    /// The referenced table's schema, `null` when it is the same schema.
    pub ref_schema: Option<String>,
    pub ref_table: Option<String>,
    #[serde(default)]
    pub ref_columns: Vec<String>,
    #[serde(default)]
    pub on_delete: String,
    #[serde(default)]
    pub on_update: String,
    #[serde(default, rename = "match")]
    pub match_type: String,
    #[serde(default)]
    pub deferrable: bool,
    #[serde(default)]
    pub deferred: bool,
    #[serde(default = "yes")]
    pub validated: bool,
    #[serde(default)]
    pub nulls_not_distinct: bool,
    /// A key's `INCLUDE` columns (its index's columns past the key).
    #[serde(default)]
    pub include: Vec<String>,
    /// A key's index `reloptions` (`fillfactor=70`).
    #[serde(default)]
    pub options: Option<Vec<String>>,
    /// `pg_get_constraintdef` of an exclusion constraint.
    #[serde(default)]
    pub definition: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug, Deserialize)]
pub struct RawIndex {
    pub name: String,
    pub unique: bool,
    pub method: String,
    #[serde(default = "yes")]
    pub valid: bool,
    pub keys: Vec<RawIndexKey>,
    #[serde(default)]
    pub include: Vec<String>,
    pub predicate: Option<String>,
    #[serde(default)]
    pub nulls_not_distinct: bool,
    /// On a partitioned table (`relkind` `I`).
    #[serde(default)]
    pub partitioned: bool,
    /// `reloptions`: `name=value` each.
    #[serde(default)]
    pub options: Option<Vec<String>>,
    /// Its tablespace's name; none for the database's default.
    #[serde(default)]
    pub tablespace: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct RawIndexKey {
    /// The column, for a plain column key.
    pub column: Option<String>,
    /// `pg_get_indexdef(indexrelid, n, true)`, for an expression key.
    pub expr: Option<String>,
    /// A non-default operator class.
    pub opclass: Option<String>,
    /// A non-default collation.
    pub collation: Option<String>,
    #[serde(default)]
    pub desc: bool,
    #[serde(default)]
    pub nulls_first: bool,
}

/// A standalone sequence row (`pg_sequence` joined with its name).
#[derive(Clone, Debug, Deserialize)]
pub struct RawSequence {
    pub schema: String,
    pub name: String,
    #[serde(rename = "type")]
    pub data_type: String,
    #[serde(flatten)]
    pub options: SequenceOptions,
}
