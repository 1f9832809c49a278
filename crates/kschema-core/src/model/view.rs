//! Views: compared as PostgreSQL stores their query (`pg_get_viewdef`,
//! own schema left out) and options; the author's text is what runs.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::SchemaName;
use crate::ident::Ident;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    pub name: Ident,
    /// `pg_get_viewdef`, own schema left out.
    pub definition: String,
    /// Its columns' names and types, in order: `CREATE OR REPLACE VIEW`
    /// can only add columns at the end.
    pub columns: Vec<(Ident, String)>,
    /// `security_barrier`, `check_option`, `security_invoker` as
    /// PostgreSQL keeps them (`name=value`), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// Tables and views of its own schema it reads: created after them,
    /// dropped (and created again) around their changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reads: Vec<Ident>,
    /// Columns of other schemas' tables it reads (live views only): a
    /// change to one of them in its own schema's plan PostgreSQL refuses
    /// while the view reads it. `None` for a whole row.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reads_outside: Vec<(SchemaName, Ident, Option<Ident>)>,
    /// Functions of its own schema it calls, by name: dropped (and created
    /// again) around a function that is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<Ident>,
    /// Functions of other schemas it calls (live views only): a shared
    /// function dropped and created again takes it along.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls_outside: Vec<(SchemaName, Ident)>,
    /// The statement that creates (or replaces) it: the author's text on
    /// the desired side, PostgreSQL's on the live side.
    pub sql: String,
    /// A materialized view: it holds its rows, cannot be replaced, and
    /// refills when created again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub materialized: bool,
}

impl View {
    /// `view` or `materialized view`.
    pub fn noun(&self) -> &'static str {
        match self.materialized {
            true => "materialized view",
            false => "view",
        }
    }

    pub fn same_definition(&self, other: &View) -> bool {
        self.definition == other.definition
            && self.options == other.options
            && self.columns == other.columns
            && self.materialized == other.materialized
    }

    /// Whether `CREATE OR REPLACE VIEW` can turn `self` into `to`: the
    /// same columns first, of the same types, new ones only after.
    pub fn replaceable_by(&self, to: &View) -> bool {
        // A materialized view has no CREATE OR REPLACE.
        !self.materialized
            && !to.materialized
            && to.columns.len() >= self.columns.len()
            && self.columns.iter().zip(&to.columns).all(|(a, b)| a == b)
    }
}

/// `items` with each view after the views among them it reads (`view_of`
/// says which view an item is, if any); items that are no view come as
/// soon as they can. A cycle — which PostgreSQL cannot hold — leaves the
/// rest in the order given.
pub fn in_reading_order<T>(items: Vec<T>, view_of: impl Fn(&T) -> Option<&View>) -> Vec<T> {
    let names: BTreeSet<Ident> = items
        .iter()
        .filter_map(|item| view_of(item).map(|v| v.name.clone()))
        .collect();
    let mut placed: BTreeSet<Ident> = BTreeSet::new();
    let mut pending = items;
    let mut ordered = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let (ready, waiting): (Vec<T>, Vec<T>) = pending.into_iter().partition(|item| {
            view_of(item).is_none_or(|view| {
                view.reads
                    .iter()
                    .filter(|r| names.contains(*r) && **r != view.name)
                    .all(|r| placed.contains(r))
            })
        });
        if ready.is_empty() {
            ordered.extend(waiting);
            break;
        }
        placed.extend(
            ready
                .iter()
                .filter_map(|item| view_of(item).map(|v| v.name.clone())),
        );
        ordered.extend(ready);
        pending = waiting;
    }
    ordered
}
