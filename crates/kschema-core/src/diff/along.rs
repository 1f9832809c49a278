//! What a change takes along besides its own object: the callers of a
//! function created again, and in a shared schema's plan the objects of
//! other schemas (the tenants') that read or call what it changes, or hold
//! columns of an enum it creates again — each as it is live, taken off
//! before and put back after in the same transaction.

use serde::{Deserialize, Serialize};

use crate::ident::Ident;
use crate::model::{
    Commented, Constraint, Function, Grant, Index, Policy, SchemaName, SqlExpr, Trigger, View,
};

/// What calls a function dropped and created again, taken off before the
/// drop and put back after the create as it is live — unless the plan
/// drops or changes it itself (later, in its own place): then only taken
/// off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "caller", rename_all = "snake_case")]
pub enum CallerAround {
    Default {
        table: Ident,
        column: Ident,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        put_back: Option<SqlExpr>,
    },
    Constraint {
        table: Ident,
        constraint: Constraint,
        put_back: bool,
    },
    Index {
        index: Index,
        put_back: bool,
    },
}

/// What of one other schema (a tenant's) calls a function a shared
/// schema's plan drops and creates again, or reads a column it changes,
/// as it is live: its tables' policies, and its defaults, constraints and
/// indexes (`CallerAround`, always put back), in the shared schema's
/// transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignCallers {
    pub schema: SchemaName,
    /// (table, policy)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<(Ident, Policy)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub around: Vec<CallerAround>,
}

impl ForeignCallers {
    /// `schema.object` of each, for messages.
    pub fn names(&self) -> Vec<String> {
        let policies = self
            .policies
            .iter()
            .map(|(table, policy)| format!("{}.{table} policy {}", self.schema, policy.name));
        let around = self.around.iter().map(|caller| match caller {
            CallerAround::Default { table, column, .. } => {
                format!("{}.{table}.{column} default", self.schema)
            }
            CallerAround::Constraint {
                table, constraint, ..
            } => format!("{}.{table} constraint {}", self.schema, constraint.name),
            CallerAround::Index { index, .. } => format!("{}.{} index", self.schema, index.name),
        });
        policies.chain(around).collect()
    }
}

/// The columns of one other schema (a tenant's) of a shared enum created
/// again, converted in the shared schema's transaction between the new
/// type's creation and the old one's drop, as they are live: their
/// defaults, and the checks and indexes reading them (which compare with
/// the old type's labels) or naming the type, taken off before and put
/// back after, with the other defaults and the triggers naming it; and
/// its functions taking or returning the type (or naming it in a `BEGIN
/// ATOMIC` body), dropped and created again around it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignColumns {
    pub schema: SchemaName,
    /// Each with its live default, put back.
    pub columns: Vec<ConvertedColumn>,
    /// (table, check)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<(Ident, Constraint)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<Index>,
    /// (partition, column, default): a partition's own default on a
    /// converted column, which the table's `DROP DEFAULT` takes off too —
    /// set again after, as the files or (without them) the live one say.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partition_defaults: Vec<(Ident, Ident, SqlExpr)>,
    /// (table, column, put back): defaults of columns not converted that
    /// name the type in an expression (`'pro'::plan_tier`), as PostgreSQL
    /// recorded: taken off before the rename, set again after as the
    /// files (or, without them, as it is live) say.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub defaults: Vec<(Ident, Ident, Option<SqlExpr>)>,
    /// (table, trigger): triggers whose `WHEN` names the type, dropped
    /// before the rename and created again after, as they are live.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<(Ident, Trigger)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<ForeignFunction>,
    /// Its domains and composite types built on the type, created again
    /// inside its change as they are live (`Change::RecreateDomain`,
    /// `RecreateComposite`, each with its own `along`), their columns
    /// converted; the checks and indexes reading those columns are in
    /// `checks` and `indexes`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub along: Vec<super::Change>,
    /// Its composite types holding the type that no column uses (their
    /// attributes of it): turned to the new one in place.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holders: Vec<(Ident, crate::model::Attribute)>,
}

/// A function (or procedure) of another schema taking or returning a
/// shared type created again, as it is live: the old type cannot go while
/// it holds it. Dropped before the type is renamed away (what calls it is
/// taken off first: `ForeignCallers`, `ForeignView`) and created again on
/// the new type, with its grants and comment, in the shared schema's
/// transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignFunction {
    pub function: Function,
    /// It takes or returns one of the schema's types built on the type
    /// (`ForeignColumns::along`): created again once those are.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub on_builder: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<Grant>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A view of another schema (a tenant's) that reads what a shared
/// schema's plan changes, as it is live: dropped before the change and
/// created again after it, with its grants and comment (and a
/// materialized view's indexes; it fills again), in the shared schema's
/// transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignView {
    pub schema: SchemaName,
    pub view: View,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<Grant>,
    /// The comments on it, its columns and (a materialized view's) its
    /// indexes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<(Commented, String)>,
    /// A materialized view's indexes, built again after it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<Index>,
}

/// A live column of a type being created again (an enum whose labels go,
/// a domain on a new base type), converted to the new one in place.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvertedColumn {
    pub table: Ident,
    pub column: Ident,
    /// Of the type's array type.
    pub array: bool,
    /// Whether it has a default, which it loses while it converts.
    pub had_default: bool,
    /// The default the files give it, set again after.
    pub default: Option<crate::model::SqlExpr>,
}
