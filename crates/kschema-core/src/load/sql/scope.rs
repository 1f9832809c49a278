//! Which files are being loaded (a shared schema's or the tenant
//! template's), where they live, and what they may reference outside
//! themselves.

use std::collections::BTreeMap;

use super::Loader;
use crate::ident::Ident;
use crate::model::SchemaModel;

/// Which set of desired-state files is being loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// `schema/<name>/*.sql`: one schema every tenant shares — `public`,
    /// or another one the project keeps (`schema/audit/`).
    Shared,
    /// `schema/tenant/*.sql`: the template every tenant schema gets.
    Tenant,
}

/// The folder of the tenant template's files.
pub const TENANT_FOLDER: &str = "schema/tenant";

/// The folder of a shared schema's files: `schema/public`, `schema/audit`.
pub fn shared_folder(schema: &Ident) -> String {
    format!("schema/{}", schema.as_str())
}

/// What one scope's files may reference outside themselves: the shared
/// schemas already loaded (public first), and the names of every shared
/// schema the project keeps (a reference into one not loaded yet is left
/// to PostgreSQL, which sees them all when the desired state is built).
#[derive(Clone, Copy, Debug)]
pub struct Neighbours<'a> {
    pub loaded: &'a BTreeMap<Ident, SchemaModel>,
    pub shared: &'a [Ident],
}

impl Neighbours<'_> {
    pub(super) fn public(&self) -> Option<&SchemaModel> {
        self.loaded.get(&Ident::new("public"))
    }
}

impl Loader {
    /// The folder the scope's files are in, for messages.
    pub(super) fn folder(&self) -> String {
        match self.scope {
            Scope::Shared => shared_folder(&self.own),
            Scope::Tenant => TENANT_FOLDER.to_string(),
        }
    }

    /// Whether the files speak for the whole database too (extensions,
    /// event triggers, default privileges without `IN SCHEMA`): public's.
    pub(super) fn speaks_for_database(&self) -> bool {
        self.scope == Scope::Shared && self.own.as_str() == "public"
    }

    /// Whether `schema` is one of the project's shared schemas other than
    /// this scope's own.
    pub(super) fn is_other_shared(&self, schema: &Ident) -> bool {
        self.shared.contains(schema) && (self.scope == Scope::Tenant || *schema != self.own)
    }
}
