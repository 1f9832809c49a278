//! Composite types (`CREATE TYPE pair AS (a integer, b text)`): compared
//! as PostgreSQL stores their attributes; the author's text is what runs.

use serde::{Deserialize, Serialize};

use crate::ident::Ident;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompositeType {
    pub name: Ident,
    /// In order: `CREATE TYPE` and `ADD ATTRIBUTE` (which appends) say it.
    pub attributes: Vec<Attribute>,
    /// The statement that creates it: the author's on the desired side, one
    /// written from the catalog on the live side.
    pub sql: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribute {
    pub name: Ident,
    /// `format_type`, own schema left out.
    #[serde(rename = "type")]
    pub data_type: super::ColumnType,
    /// A collation other than its type's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
}

impl Attribute {
    /// `name type [COLLATE c]`, as CREATE TYPE and ADD ATTRIBUTE write it.
    pub fn definition(&self) -> String {
        match &self.collation {
            Some(collation) => format!(
                "{} {} COLLATE {collation}",
                self.name.quoted(),
                self.data_type
            ),
            None => format!("{} {}", self.name.quoted(), self.data_type),
        }
    }
}

impl CompositeType {
    /// Equal but for the statement that creates it.
    pub fn same_as(&self, other: &CompositeType) -> bool {
        self.name == other.name && self.attributes == other.attributes
    }

    /// Whether `ALTER TYPE` can turn `self` into `to`: the attributes kept
    /// stay in their order, new ones come after them (`ADD ATTRIBUTE`
    /// appends). A kept attribute may change type.
    pub fn alterable_to(&self, to: &CompositeType) -> bool {
        let kept: Vec<&Ident> = self
            .attributes
            .iter()
            .map(|a| &a.name)
            .filter(|name| to.attributes.iter().any(|b| &b.name == *name))
            .collect();
        to.attributes
            .iter()
            .map(|a| &a.name)
            .take(kept.len())
            .eq(kept.iter().copied())
    }

    pub fn attribute(&self, name: &Ident) -> Option<&Attribute> {
        self.attributes.iter().find(|a| &a.name == name)
    }
}
