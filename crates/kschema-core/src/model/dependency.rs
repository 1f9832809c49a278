//! What a schema's objects need of the same schema, as PostgreSQL records
//! it (`pg_depend`): read from the live database and from the scratch
//! database the desired state is built in, it orders a plan's changes
//! across kinds (`plan::depends`).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::ident::Ident;
use crate::model::SchemaName;

/// An object something needs. Tables, views, sequences and types share
/// PostgreSQL's one namespace of relations and types (a table is a type
/// too, an array type is its element's); functions are one by name
/// (overloads with it).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Needed {
    Relation(Ident),
    Function(Ident),
    /// A type of another schema (a shared enum a tenant's default names):
    /// what a shared type created again takes along.
    OtherType(SchemaName, Ident),
}

/// What needs: an object, or a part of a table that is created and dropped
/// by changes of its own.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Dependent {
    /// A table, view, sequence or type (a domain's checks and a composite
    /// type's attributes are the type's).
    Relation(Ident),
    Function(Ident),
    /// A table's column: its type, default or generation expression.
    Column(Ident, Ident),
    /// A table's constraint, by table and name.
    Constraint(Ident, Ident),
    Index(Ident),
    Trigger(Ident, Ident),
    Policy(Ident, Ident),
}

/// One row of what the catalog says: `dependent` needs `needed`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawDependency {
    pub schema: String,
    /// `r` relation or type, `f` function, `c` column, `k` constraint,
    /// `i` index, `t` trigger, `p` policy.
    pub kind: String,
    pub name: String,
    /// The column, constraint, trigger or policy of table `name`.
    pub detail: Option<String>,
    /// `r` or `f`.
    pub needed_kind: String,
    pub needed: String,
    /// The needed type's schema when not the dependent's.
    pub needed_schema: Option<String>,
}

/// The schema's objects' needs; an object that needs nothing of its
/// schema is absent. (Serialized as pairs: JSON keys are strings.)
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    from = "Vec<(Dependent, BTreeSet<Needed>)>",
    into = "Vec<(Dependent, BTreeSet<Needed>)>"
)]
pub struct Dependencies(BTreeMap<Dependent, BTreeSet<Needed>>);

impl From<Vec<(Dependent, BTreeSet<Needed>)>> for Dependencies {
    fn from(pairs: Vec<(Dependent, BTreeSet<Needed>)>) -> Self {
        Dependencies(pairs.into_iter().collect())
    }
}

impl From<Dependencies> for Vec<(Dependent, BTreeSet<Needed>)> {
    fn from(dependencies: Dependencies) -> Self {
        dependencies.0.into_iter().collect()
    }
}

impl Dependencies {
    /// Adds a catalog row; one of a kind this kschema does not know is
    /// returned as an error.
    pub fn add(&mut self, row: &RawDependency) -> Result<(), String> {
        let name = Ident::new(&row.name);
        let part = || {
            row.detail
                .as_deref()
                .map(Ident::new)
                .ok_or_else(|| format!("dependency of {} without its part", row.name))
        };
        let dependent = match row.kind.as_str() {
            "r" => Dependent::Relation(name),
            "f" => Dependent::Function(name),
            "c" => Dependent::Column(name, part()?),
            "k" => Dependent::Constraint(name, part()?),
            "i" => Dependent::Index(name),
            "t" => Dependent::Trigger(name, part()?),
            "p" => Dependent::Policy(name, part()?),
            other => return Err(format!("unknown kind of dependent object {other:?}")),
        };
        let needed = match (row.needed_kind.as_str(), &row.needed_schema) {
            ("r", Some(schema)) => {
                Needed::OtherType(SchemaName::new(schema), Ident::new(&row.needed))
            }
            ("r", None) => Needed::Relation(Ident::new(&row.needed)),
            ("f", _) => Needed::Function(Ident::new(&row.needed)),
            (other, _) => return Err(format!("unknown kind of needed object {other:?}")),
        };
        self.0.entry(dependent).or_default().insert(needed);
        Ok(())
    }

    /// Each object and what it needs.
    pub fn iter(&self) -> impl Iterator<Item = (&Dependent, &BTreeSet<Needed>)> {
        self.0.iter()
    }

    /// What `dependent` needs (nothing when absent).
    pub fn of(&self, dependent: &Dependent) -> impl Iterator<Item = &Needed> {
        self.0.get(dependent).into_iter().flatten()
    }
}
