//! `--mongodb-uri`: the collections of one MongoDB database as
//! `schema/mongo/` files.

use std::path::Path;

use kschema_core::mongo::{collection_files, MongoState};
use kschema_core::Problem;
use miette::Report;

use super::files::{unique_file_name, Files};
use crate::cli::InspectArgs;
use crate::db::mongo::Mongo;

pub(super) struct InspectedMongo {
    pub(super) database: String,
    pub(super) state: MongoState,
}

/// Adds `schema/mongo/` (and `kschema.toml`, when the project has none)
/// from the deployment.
pub(super) async fn inspect_mongo(
    uri: &str,
    args: &InspectArgs,
    root: &Path,
    files: &mut Files,
) -> Result<InspectedMongo, Report> {
    let mongo = Mongo::connect(uri).await?;
    let database = match &args.mongo_database {
        Some(name) => name.clone(),
        None => {
            let names = mongo.list_databases().await?;
            match names.as_slice() {
                [only] => only.clone(),
                _ => {
                    return Err(Problem::new(
                        "kschema::inspect::mongo_database",
                        format!(
                            "which MongoDB database? The deployment has {}",
                            if names.is_empty() {
                                "none but its own".to_string()
                            } else {
                                names.join(", ")
                            }
                        ),
                    )
                    .with_help("name it with --mongo-database NAME")
                    .into())
                }
            }
        }
    };
    let state = mongo.introspect(&database).await?;
    let mut used = Vec::new();
    for collection in state.collections.values() {
        let (toml, json) = collection_files(collection).map_err(|why| {
            Problem::new(
                "kschema::inspect::mongo_collection",
                format!("collection {} cannot be written: {why}", collection.name),
            )
        })?;
        let stem = unique_file_name(&collection.name, &mut used);
        let header = if stem == collection.name {
            String::new()
        } else {
            format!(
                "name = {}\n\n",
                crate::commands::tenant::toml_string(&collection.name)
            )
        };
        files.add(format!("schema/mongo/{stem}.toml"), header + &toml);
        if let Some(json) = json {
            files.add(format!("schema/mongo/{stem}.json"), json);
        }
    }
    if !root.join("kschema.toml").exists() {
        files.add(
            "kschema.toml",
            format!(
                "# kschema settings for this project. Flags override them.\n\n[mongo]\ndatabase = {}\n",
                crate::commands::tenant::toml_string(&database)
            ),
        );
    }
    Ok(InspectedMongo { database, state })
}
