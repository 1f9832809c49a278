//! Domains (`CREATE DOMAIN positive AS integer CHECK (VALUE > 0)`):
//! compared as PostgreSQL stores them.

use serde::{Deserialize, Serialize};

use crate::ident::Ident;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domain {
    pub name: Ident,
    /// `format_type` of the base type, own schema left out.
    pub base: String,
    /// A collation other than the base type's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    /// `pg_get_expr` of the default, own schema left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_null: bool,
    /// Its CHECK constraints by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<DomainCheck>,
    /// The statement that creates it: the author's on the desired side, one
    /// written from the catalog on the live side.
    pub sql: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainCheck {
    pub name: Ident,
    /// `pg_get_constraintdef`: `CHECK (VALUE > 0)`.
    pub definition: String,
    /// `NOT VALID` when false.
    pub validated: bool,
}

impl Domain {
    /// Equal but for the statement that creates it.
    pub fn same_as(&self, other: &Domain) -> bool {
        Domain {
            sql: String::new(),
            ..self.clone()
        } == Domain {
            sql: String::new(),
            ..other.clone()
        }
    }

    /// The base type or collation differ: `ALTER DOMAIN` cannot change
    /// them.
    pub fn needs_recreate(&self, other: &Domain) -> bool {
        self.base != other.base || self.collation != other.collation
    }
}
