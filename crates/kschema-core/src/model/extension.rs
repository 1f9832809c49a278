//! Extensions (`CREATE EXTENSION citext`): database-wide, so they belong to
//! public's model alone.

use serde::{Deserialize, Serialize};

use crate::ident::Ident;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    pub name: Ident,
    /// The schema its objects are in; on the desired side only when the
    /// files say (`SCHEMA s`), else wherever PostgreSQL puts it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Ident>,
    /// Its version; on the desired side only when the files say (`VERSION
    /// '1.6'`), else the server's default one is fine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}
