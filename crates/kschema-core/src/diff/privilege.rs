//! Privileges of the managed roles: what the files grant (as PostgreSQL
//! stored it when the desired state was built) against what is granted.
//! Other roles' privileges are never compared. An object dropped loses its
//! privileges with it (nothing to revoke); one dropped and created again
//! gets the files' privileges anew.

use std::collections::{BTreeMap, BTreeSet};

use super::Change;
use crate::ident::Ident;
use crate::model::{Grant, GrantObject, SchemaModel};

pub(super) fn diff_privileges(
    live: &SchemaModel,
    desired: &SchemaModel,
    changes: &mut Vec<Change>,
) {
    let managed = &desired.privileges.managed_roles;
    if managed.is_empty() {
        return;
    }
    let recreated = recreated_objects(changes);
    // A serial's sequence is its table's: there as long as the table is.
    let serials: BTreeSet<&Ident> = desired
        .tables
        .values()
        .chain(
            live.tables
                .values()
                .filter(|t| desired.tables.contains_key(&t.name)),
        )
        .flat_map(|t| &t.columns)
        .filter_map(|c| match &c.identity {
            Some(crate::model::Identity::Serial { sequence }) => Some(sequence),
            _ => None,
        })
        .collect();
    let exists = |object: &GrantObject| match object {
        GrantObject::Schema | GrantObject::Defaults { .. } => true,
        GrantObject::Table { name } => {
            desired.tables.contains_key(name) || desired.views.contains_key(name)
        }
        GrantObject::Sequence { name } => {
            desired.sequences.contains_key(name) || serials.contains(name)
        }
        GrantObject::Column { table, .. } => {
            desired.tables.contains_key(table) || desired.views.contains_key(table)
        }
        GrantObject::Function {
            name, arguments, ..
        } => desired.function(name, arguments).is_some(),
    };
    let held: BTreeSet<&Grant> = live
        .privileges
        .grants
        .iter()
        .filter(|g| managed.contains(&g.role) && exists(&g.object))
        .filter(|g| !recreated.contains(&g.object) && !g.object.is_others_defaults())
        .collect();
    let wanted: BTreeSet<&Grant> = desired
        .privileges
        .grants
        .iter()
        .filter(|g| !g.object.is_others_defaults())
        .collect();

    // Revokes first: a grant option taken back is a revoke and a grant.
    let mut revokes: BTreeMap<(&GrantObject, &Ident), Vec<String>> = BTreeMap::new();
    for grant in held.difference(&wanted) {
        revokes
            .entry((&grant.object, &grant.role))
            .or_default()
            .push(grant.privilege.clone());
    }
    for ((object, role), privileges) in revokes {
        changes.push(Change::Revoke {
            object: object.clone(),
            role: role.clone(),
            privileges,
        });
    }
    let mut grants: BTreeMap<(&GrantObject, &Ident, bool), Vec<String>> = BTreeMap::new();
    for grant in wanted.difference(&held) {
        grants
            .entry((&grant.object, &grant.role, grant.grantable))
            .or_default()
            .push(grant.privilege.clone());
    }
    for ((object, role, grantable), privileges) in grants {
        changes.push(Change::Grant {
            object: object.clone(),
            role: role.clone(),
            privileges,
            grantable,
        });
    }
}

/// Objects the changes drop and create again (their privileges go with
/// the drop).
fn recreated_objects(changes: &[Change]) -> BTreeSet<GrantObject> {
    let mut recreated = BTreeSet::new();
    for change in changes {
        match change {
            Change::DropView { view } => {
                recreated.insert(GrantObject::Table {
                    name: view.name.clone(),
                });
            }
            Change::DropTable { table } => {
                recreated.insert(GrantObject::Table {
                    name: table.name.clone(),
                });
            }
            _ => {
                if let Some(from) = change.function_recreated() {
                    recreated.insert(GrantObject::Function {
                        name: from.name.clone(),
                        arguments: from.arguments.clone(),
                        procedure: from.procedure,
                    });
                }
            }
        }
    }
    recreated
}
