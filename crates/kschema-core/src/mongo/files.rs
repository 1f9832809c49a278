//! A live collection as desired-state files, for `kschema inspect`.

use serde_json::Value as Json;

use super::{Collection, DEFAULT_ACTION, DEFAULT_LEVEL};

/// A collection as desired-state files, for `kschema inspect`:
/// `<name>.toml` (levels, indexes) and, when it has a validator,
/// `<name>.json` holding it (JSON keeps every validator exactly, TOML
/// cannot hold a null).
pub fn collection_files(collection: &Collection) -> Result<(String, Option<String>), String> {
    let mut out = String::new();
    if collection.validation_level != DEFAULT_LEVEL {
        out.push_str(&format!(
            "validation_level = {:?}\n",
            collection.validation_level
        ));
    }
    if collection.validation_action != DEFAULT_ACTION {
        out.push_str(&format!(
            "validation_action = {:?}\n",
            collection.validation_action
        ));
    }
    for index in &collection.indexes {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str("[[index]]\n");
        let keys: Vec<String> = index
            .keys
            .iter()
            .map(|(field, direction)| format!("[{}, {direction}]", Json::String(field.clone())))
            .collect();
        out.push_str(&format!("keys = [{}]\n", keys.join(", ")));
        if let Some(name) = index.name.as_ref().filter(|n| **n != index.default_name()) {
            out.push_str(&format!("name = {}\n", Json::String(name.clone())));
        }
        if index.unique {
            out.push_str("unique = true\n");
        }
        if index.sparse {
            out.push_str("sparse = true\n");
        }
        if let Some(filter) = &index.partial_filter {
            let value = toml::Value::try_from(filter).map_err(|e| {
                format!(
                    "the partial filter of index {} cannot be written as TOML: {e}",
                    index.effective_name()
                )
            })?;
            // Display writes a value inline: `{ status = { "$exists" = true } }`.
            out.push_str(&format!("partial_filter = {value}\n"));
        }
        if let Some(seconds) = index.expire_after_seconds {
            out.push_str(&format!("expire_after_seconds = {seconds}\n"));
        }
    }
    let json = collection
        .validator
        .as_ref()
        .map(|v| serde_json::to_string_pretty(v).map(|text| text + "\n"))
        .transpose()
        .map_err(|e| e.to_string())?;
    Ok((out, json))
}
