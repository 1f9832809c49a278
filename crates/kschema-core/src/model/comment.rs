//! `COMMENT ON` the objects a schema holds besides its tables and columns
//! (whose comments live on them): compared as PostgreSQL stores them.

use serde::{Deserialize, Serialize};

use crate::ident::Ident;

/// What a comment describes, by what identifies it in its schema.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "on", rename_all = "snake_case")]
pub enum Commented {
    Index {
        name: Ident,
    },
    Constraint {
        table: Ident,
        name: Ident,
    },
    /// A sequence no column owns (an owned one belongs to its table).
    Sequence {
        name: Ident,
    },
    View {
        name: Ident,
    },
    MaterializedView {
        name: Ident,
    },
    ViewColumn {
        view: Ident,
        column: Ident,
    },
    /// An attribute of a composite type (`COMMENT ON COLUMN pair.a`).
    TypeAttribute {
        type_name: Ident,
        attribute: Ident,
    },
    Function {
        name: Ident,
        arguments: String,
        procedure: bool,
    },
    /// An enum or composite type.
    Type {
        name: Ident,
    },
    Domain {
        name: Ident,
    },
    Trigger {
        table: Ident,
        name: Ident,
    },
    Policy {
        table: Ident,
        name: Ident,
    },
    /// Database-wide: in public's model.
    Extension {
        name: Ident,
    },
    /// Database-wide: in public's model.
    EventTrigger {
        name: Ident,
    },
}

impl Commented {
    /// The table (or view) the object belongs to, if it is one's part.
    pub fn table(&self) -> Option<&Ident> {
        match self {
            Commented::Constraint { table, .. }
            | Commented::Trigger { table, .. }
            | Commented::Policy { table, .. } => Some(table),
            Commented::ViewColumn { view, .. } => Some(view),
            _ => None,
        }
    }
}

/// `index i`, `constraint c on t`, `function f(integer)`: for messages.
impl std::fmt::Display for Commented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Commented::Index { name } => write!(f, "index {name}"),
            Commented::Constraint { table, name } => write!(f, "constraint {name} on {table}"),
            Commented::Sequence { name } => write!(f, "sequence {name}"),
            Commented::View { name } => write!(f, "view {name}"),
            Commented::MaterializedView { name } => write!(f, "materialized view {name}"),
            Commented::ViewColumn { view, column } => write!(f, "column {view}.{column}"),
            Commented::TypeAttribute {
                type_name,
                attribute,
            } => write!(f, "attribute {type_name}.{attribute}"),
            Commented::Function {
                name,
                arguments,
                procedure,
            } => super::privilege::write_function(f, name, arguments, *procedure),
            Commented::Type { name } => write!(f, "type {name}"),
            Commented::Domain { name } => write!(f, "domain {name}"),
            Commented::Trigger { table, name } => write!(f, "trigger {name} on {table}"),
            Commented::Policy { table, name } => write!(f, "policy {name} on {table}"),
            Commented::Extension { name } => write!(f, "extension {name}"),
            Commented::EventTrigger { name } => write!(f, "event trigger {name}"),
        }
    }
}

/// Comments keyed by their object, written as `[object, text]` pairs: a
/// JSON object's keys are strings, and `Commented` is not one (a map of
/// them would not serialize at all — snapshots, fingerprints and the
/// desired-state cache all go through JSON).
pub mod as_pairs {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serializer};

    use super::Commented;

    pub fn serialize<S: Serializer>(
        comments: &BTreeMap<Commented, String>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(comments.iter())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<Commented, String>, D::Error> {
        let pairs = Vec::<(Commented, String)>::deserialize(deserializer)?;
        Ok(pairs.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SchemaModel;

    /// A model with comments on an index and a function.
    fn commented(text: &str) -> SchemaModel {
        let mut model = SchemaModel::default();
        model.comments.insert(
            Commented::Index {
                name: Ident::new("users_email"),
            },
            text.to_string(),
        );
        model.comments.insert(
            Commented::Function {
                name: Ident::new("touch"),
                arguments: String::new(),
                procedure: false,
            },
            "sets updated_at".to_string(),
        );
        model
    }

    #[test]
    fn a_model_with_comments_round_trips_through_json() {
        let model = commented("by email");
        let json = serde_json::to_string(&model).expect("a model with comments serializes");
        let back: SchemaModel = serde_json::from_str(&json).expect("and reads back");
        assert_eq!(back, model);
    }
}
