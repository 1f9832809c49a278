//! Event triggers (the database's, in public's model).

use crate::model::SchemaModel;

use super::Change;

/// Event triggers: matched by name; a new event, tag list or function
/// means dropped and created again, a new firing is set in place.
pub(super) fn diff_event_triggers(
    live: &SchemaModel,
    desired: &SchemaModel,
    changes: &mut Vec<Change>,
) {
    for (name, wanted) in &desired.event_triggers {
        match live.event_triggers.get(name) {
            Some(current) if current.same_definition(wanted) => {
                if current.firing != wanted.firing {
                    changes.push(Change::SetEventTriggerFiring {
                        name: name.clone(),
                        firing: wanted.firing,
                    });
                }
            }
            Some(current) => {
                changes.push(Change::DropEventTrigger {
                    trigger: current.clone(),
                });
                changes.push(Change::CreateEventTrigger {
                    trigger: wanted.clone(),
                });
            }
            None => changes.push(Change::CreateEventTrigger {
                trigger: wanted.clone(),
            }),
        }
    }
    for (name, current) in &live.event_triggers {
        if !desired.event_triggers.contains_key(name) {
            changes.push(Change::DropEventTrigger {
                trigger: current.clone(),
            });
        }
    }
}
