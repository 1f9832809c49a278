//! Privileges granted to the roles kschema is told it manages (`[roles]
//! managed` in kschema.toml): compared as PostgreSQL stores them (one entry
//! per object, role and privilege); other roles' grants are left alone and
//! listed.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::ident::Ident;

/// What a privilege is on.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "on", rename_all = "snake_case")]
pub enum GrantObject {
    /// The schema itself (`USAGE`, `CREATE`).
    Schema,
    /// A table, view or materialized view.
    Table {
        name: Ident,
    },
    Sequence {
        name: Ident,
    },
    Column {
        table: Ident,
        column: Ident,
    },
    /// A function or procedure, by name and argument types.
    Function {
        name: Ident,
        arguments: String,
        procedure: bool,
    },
    /// `ALTER DEFAULT PRIVILEGES`: what `objects` that `owner` creates
    /// later are granted — in the schema, or (`global`, in public's model)
    /// in every schema.
    Defaults {
        /// `FOR ROLE`; `None` is the role kschema runs as.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        owner: Option<Ident>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        global: bool,
        objects: DefaultObjects,
    },
}

/// The kinds of object default privileges are for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DefaultObjects {
    Tables,
    Sequences,
    Functions,
    Types,
    Schemas,
}

impl DefaultObjects {
    /// From `pg_default_acl.defaclobjtype`.
    pub fn from_catalog(code: &str) -> Option<DefaultObjects> {
        Some(match code {
            "r" => DefaultObjects::Tables,
            "S" => DefaultObjects::Sequences,
            "f" => DefaultObjects::Functions,
            "T" => DefaultObjects::Types,
            "n" => DefaultObjects::Schemas,
            _ => return None,
        })
    }

    /// `TABLES`, as `ALTER DEFAULT PRIVILEGES … ON` writes it.
    pub fn keyword(self) -> &'static str {
        match self {
            DefaultObjects::Tables => "TABLES",
            DefaultObjects::Sequences => "SEQUENCES",
            DefaultObjects::Functions => "FUNCTIONS",
            DefaultObjects::Types => "TYPES",
            DefaultObjects::Schemas => "SCHEMAS",
        }
    }
}

/// `table t`, `column t.c`, `function f(integer)`, `schema`: for messages.
impl std::fmt::Display for GrantObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GrantObject::Schema => f.write_str("schema"),
            GrantObject::Table { name } => write!(f, "table {name}"),
            GrantObject::Sequence { name } => write!(f, "sequence {name}"),
            GrantObject::Column { table, column } => write!(f, "column {table}.{column}"),
            GrantObject::Function {
                name,
                arguments,
                procedure,
            } => write_function(f, name, arguments, *procedure),
            GrantObject::Defaults {
                owner,
                global,
                objects,
            } => {
                write!(
                    f,
                    "default privileges on {}",
                    objects.keyword().to_lowercase()
                )?;
                if let Some(owner) = owner {
                    write!(f, " for {owner}")?;
                }
                if *global {
                    f.write_str(" in every schema")?;
                }
                Ok(())
            }
        }
    }
}

/// `function f(integer)` or `procedure p(text)`, for messages.
pub(super) fn write_function(
    f: &mut std::fmt::Formatter<'_>,
    name: &Ident,
    arguments: &str,
    procedure: bool,
) -> std::fmt::Result {
    write!(
        f,
        "{} {name}({})",
        if procedure { "procedure" } else { "function" },
        crate::escape::printable(arguments)
    )
}

impl GrantObject {
    /// Default privileges for what another role than kschema's creates:
    /// never compared (they are that role's to set), listed instead.
    pub fn is_others_defaults(&self) -> bool {
        matches!(self, GrantObject::Defaults { owner: Some(_), .. })
    }
}

/// One privilege of one role on one object.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Grant {
    pub object: GrantObject,
    /// A role name, or `PUBLIC`.
    pub role: Ident,
    /// `SELECT`, `INSERT`, `USAGE`, `EXECUTE`, …
    pub privilege: String,
    /// `WITH GRANT OPTION`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub grantable: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Privileges {
    /// The roles whose privileges are compared (desired side: from
    /// kschema.toml; empty on the live side, which holds every role's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub managed_roles: Vec<Ident>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub grants: BTreeSet<Grant>,
}

impl Privileges {
    pub fn is_empty(&self) -> bool {
        self.managed_roles.is_empty() && self.grants.is_empty()
    }

    /// The grants on one object: what an object dropped and created again
    /// as it is live is given again.
    pub fn on(&self, object: &GrantObject) -> Vec<Grant> {
        self.grants
            .iter()
            .filter(|grant| &grant.object == object)
            .cloned()
            .collect()
    }
}
