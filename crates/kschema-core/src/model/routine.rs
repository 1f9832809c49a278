//! Functions, procedures, triggers and policies: objects whose definition
//! is code.
//! Both sides compare what PostgreSQL stores (`pg_get_functiondef`,
//! `pg_get_triggerdef`, with the object's own schema left out), never the
//! author's text; the author's text is what runs.

use serde::{Deserialize, Serialize};

use crate::ident::Ident;
use crate::model::SchemaName;

/// A function or procedure. Its identity is its name and its argument
/// types (`arguments`): overloads are different objects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Function {
    pub name: Ident,
    /// The argument types a call passes (`oidvectortypes(proargtypes)`):
    /// `integer, text`.
    pub arguments: String,
    /// How many arguments a call passes (`pronargs`; `OUT` ones are not).
    pub inputs: usize,
    pub procedure: bool,
    /// An aggregate (`CREATE AGGREGATE`): dropped with `DROP AGGREGATE`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub aggregate: bool,
    /// A window function (`CREATE FUNCTION … WINDOW`, written in C): one
    /// cannot be replaced by a plain function or the other way round.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub window: bool,
    /// The `CREATE OR REPLACE …` PostgreSQL writes for it, own schema left
    /// out: what is compared.
    pub definition: String,
    /// `pg_get_function_result` and `pg_get_function_arguments` (names and
    /// defaults): `CREATE OR REPLACE` cannot change these, a drop and create
    /// can.
    pub interface: String,
    /// A `BEGIN ATOMIC` body, checked against the tables when created.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub atomic_body: bool,
    /// The types of its own schema its arguments and result are: one
    /// created again (an enum whose labels go) takes it along.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<Ident>,
    /// The statement that creates (or replaces) it: the author's text on the
    /// desired side, the definition on the live side.
    pub sql: String,
}

impl Function {
    /// `name(arguments)`, as PostgreSQL's `DROP FUNCTION` takes it.
    pub fn signature(&self) -> String {
        format!("{}({})", self.name.quoted(), self.argument_list())
    }

    /// The argument types as a statement names them: an aggregate of none
    /// is `agg(*)`.
    pub fn argument_list(&self) -> &str {
        match self.arguments.as_str() {
            "" if self.aggregate => "*",
            arguments => arguments,
        }
    }

    /// Same stored definition (the author's text aside).
    pub fn same_definition(&self, other: &Function) -> bool {
        self.definition == other.definition && self.same_kind(other)
    }

    /// Function, procedure, aggregate or window function alike: `CREATE OR
    /// REPLACE` cannot turn one kind into another.
    pub fn same_kind(&self, other: &Function) -> bool {
        (self.procedure, self.aggregate, self.window)
            == (other.procedure, other.aggregate, other.window)
    }

    /// Its kind in words, a window function told apart (it is dropped as
    /// a function: `kind`).
    pub fn kind_described(&self) -> &'static str {
        if self.window {
            "window function"
        } else {
            self.kind()
        }
    }

    pub fn kind(&self) -> &'static str {
        if self.procedure {
            "procedure"
        } else if self.aggregate {
            "aggregate"
        } else {
            "function"
        }
    }
}

/// A trigger on a table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    pub name: Ident,
    /// `pg_get_triggerdef`, own schema left out: what is compared.
    pub definition: String,
    /// A `CONSTRAINT TRIGGER` (which `CREATE OR REPLACE` cannot replace).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub constraint: bool,
    /// The function it runs, when in the trigger's own schema: recreating
    /// that function recreates the trigger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_function: Option<Ident>,
    /// `ALTER TABLE … DISABLE TRIGGER` and its kin.
    #[serde(default, skip_serializing_if = "TriggerFiring::is_default")]
    pub firing: TriggerFiring,
    /// The statement that creates it: the author's text on the desired
    /// side, the definition on the live side.
    pub sql: String,
}

impl Trigger {
    pub fn same_definition(&self, other: &Trigger) -> bool {
        self.definition == other.definition
    }
}

/// When a trigger fires (`pg_trigger.tgenabled`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerFiring {
    /// `ENABLE TRIGGER`: in origin and local sessions (the default).
    #[default]
    Enabled,
    Disabled,
    /// `ENABLE REPLICA TRIGGER`: only when replicating.
    Replica,
    /// `ENABLE ALWAYS TRIGGER`.
    Always,
}

impl TriggerFiring {
    pub fn is_default(&self) -> bool {
        *self == TriggerFiring::Enabled
    }

    /// From `pg_trigger.tgenabled`.
    pub fn from_catalog(code: &str) -> Option<TriggerFiring> {
        match code {
            "O" => Some(TriggerFiring::Enabled),
            "D" => Some(TriggerFiring::Disabled),
            "R" => Some(TriggerFiring::Replica),
            "A" => Some(TriggerFiring::Always),
            _ => None,
        }
    }

    /// `DISABLE`, `ENABLE REPLICA`, …: the clause without its noun, as
    /// `ALTER EVENT TRIGGER` writes it.
    pub fn keyword(self) -> &'static str {
        self.clause().trim_end_matches(" TRIGGER")
    }

    /// The `ALTER TABLE` clause that sets it.
    pub fn clause(self) -> &'static str {
        match self {
            TriggerFiring::Enabled => "ENABLE TRIGGER",
            TriggerFiring::Disabled => "DISABLE TRIGGER",
            TriggerFiring::Replica => "ENABLE REPLICA TRIGGER",
            TriggerFiring::Always => "ENABLE ALWAYS TRIGGER",
        }
    }
}

/// A row-level security policy on a table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub name: Ident,
    /// What PostgreSQL stores (`AS …`, `FOR …`, `TO …`, `USING (…)`, `WITH
    /// CHECK (…)`), own schema left out: what is compared.
    pub definition: String,
    /// The statement that creates it: the author's text on the desired
    /// side, the definition's on the live side.
    pub sql: String,
    /// Functions of its table's schema it calls, by name: dropped (and
    /// created again) around a function that is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<Ident>,
    /// Functions of other schemas it calls (read live): a shared function
    /// dropped and created again takes it along.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls_outside: Vec<(SchemaName, Ident)>,
    /// Columns of other schemas' tables it reads (read live; `None` for a
    /// whole row): a shared change under it takes it along.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reads_outside: Vec<(SchemaName, Ident, Option<Ident>)>,
}

/// `ALTER TABLE … ENABLE / FORCE ROW LEVEL SECURITY`: PostgreSQL keeps the
/// two flags apart (forcing a table whose row security is off is allowed,
/// and takes effect once it is on).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowSecurity {
    pub enabled: bool,
    /// Applied to the table's owner too.
    pub forced: bool,
}

impl RowSecurity {
    pub fn is_off(&self) -> bool {
        *self == RowSecurity::default()
    }

    /// The `ALTER TABLE` clauses that set it.
    pub fn clauses(self) -> String {
        format!(
            "{} ROW LEVEL SECURITY, {} ROW LEVEL SECURITY",
            if self.enabled { "ENABLE" } else { "DISABLE" },
            if self.forced { "FORCE" } else { "NO FORCE" }
        )
    }
}
