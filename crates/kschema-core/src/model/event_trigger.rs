//! Event triggers (`CREATE EVENT TRIGGER … ON ddl_command_end …`):
//! database-wide, so public's; compared as PostgreSQL stores them.

use serde::{Deserialize, Serialize};

use super::TriggerFiring;
use crate::ident::Ident;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventTrigger {
    pub name: Ident,
    /// `ddl_command_start`, `ddl_command_end`, `sql_drop`, …
    pub event: String,
    /// `WHEN TAG IN (…)`, as stored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The function it runs, as `regproc` writes it on public's search
    /// path.
    pub function: String,
    #[serde(default, skip_serializing_if = "TriggerFiring::is_default")]
    pub firing: TriggerFiring,
    /// The statement that creates it: the author's on the desired side, one
    /// written from the catalog on the live side.
    pub sql: String,
}

impl EventTrigger {
    /// What cannot change in place (`ALTER EVENT TRIGGER` sets only its
    /// firing): its event, tags and function.
    pub fn same_definition(&self, other: &EventTrigger) -> bool {
        self.event == other.event && self.tags == other.tags && self.function == other.function
    }
}
