//! Extensions: database-wide, in public's model alone.

use super::Change;
use crate::model::SchemaModel;

/// Extensions by name; a version or schema only when the files name one.
pub(super) fn diff_extensions(
    live: &SchemaModel,
    desired: &SchemaModel,
    changes: &mut Vec<Change>,
) {
    for (name, wanted) in &desired.extensions {
        let Some(current) = live.extensions.get(name) else {
            changes.push(Change::CreateExtension {
                extension: wanted.clone(),
            });
            continue;
        };
        let differs = |want: &Option<String>, have: &Option<String>| match want {
            Some(want) => have.as_ref() != Some(want),
            None => false,
        };
        let version = wanted
            .version
            .clone()
            .filter(|_| differs(&wanted.version, &current.version));
        let schema = wanted
            .schema
            .clone()
            .filter(|s| current.schema.as_ref() != Some(s));
        if version.is_some() || schema.is_some() {
            changes.push(Change::AlterExtension {
                name: name.clone(),
                version,
                schema,
            });
        }
    }
    for (name, current) in &live.extensions {
        if !desired.extensions.contains_key(name) {
            changes.push(Change::DropExtension {
                extension: current.clone(),
            });
        }
    }
}
