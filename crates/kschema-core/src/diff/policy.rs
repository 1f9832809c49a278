//! Row-level security: a table's flags, and its policies matched by name
//! and compared by what PostgreSQL stores. A changed policy is dropped and
//! created again in the transaction (no moment without it is visible); so
//! is one whose expression reads a column being converted or dropped,
//! names a type created again, or calls a function being dropped and
//! created again, which PostgreSQL would refuse to change under it.

use super::type_users::TypeUsers;
use super::{disturbed_columns, mentions, recreated_functions, Change};
use crate::model::{Dependent, Policy, SchemaModel};

pub(super) fn diff_policies(live: &SchemaModel, desired: &SchemaModel, changes: &mut Vec<Change>) {
    let disturbed = disturbed_columns(changes);
    let recreated_functions = recreated_functions(changes);
    let type_users = TypeUsers::of(live, changes);
    for (name, table) in &desired.tables {
        let live_table = live.tables.get(name);
        let live_policies = live_table.map_or(&[][..], |t| &t.policies[..]);
        // A live policy that must go even if the files keep it as it is.
        let disturbed_by_plan = |current: &Policy| {
            disturbed
                .iter()
                .any(|(t, column)| t == name && mentions(&current.definition, column))
                || current
                    .calls
                    .iter()
                    .any(|f| recreated_functions.contains(f))
                || type_users.needs(&Dependent::Policy(name.clone(), current.name.clone()))
        };
        for current in live_policies {
            let wanted = table.policies.iter().find(|p| p.name == current.name);
            let reads_disturbed = disturbed_by_plan(current);
            match wanted {
                Some(wanted) if wanted.definition == current.definition && !reads_disturbed => {}
                _ => changes.push(Change::DropPolicy {
                    table: name.clone(),
                    policy: current.clone(),
                }),
            }
        }
        for wanted in &table.policies {
            let kept = live_policies.iter().any(|current| {
                current.name == wanted.name
                    && current.definition == wanted.definition
                    && !disturbed_by_plan(current)
            });
            if !kept {
                changes.push(Change::CreatePolicy {
                    table: name.clone(),
                    policy: wanted.clone(),
                });
            }
        }
        let current = live_table.map(|t| t.row_security).unwrap_or_default();
        if current != table.row_security {
            changes.push(Change::SetRowSecurity {
                table: name.clone(),
                from: current,
                to: table.row_security,
            });
        }
    }
}
