//! MongoDB through the official driver: introspecting collections
//! (`listCollections`, `listIndexes`) and running plan steps as database
//! commands.

use kschema_core::mongo::{collection_from_live, MongoState, MongoStep};
use miette::Diagnostic;
use mongodb::bson::{doc, Bson, Document};
use mongodb::options::ClientOptions;
use mongodb::Client;
use serde_json::Value as Json;
use thiserror::Error;

#[derive(Debug, Error, Diagnostic)]
pub enum MongoError {
    #[error("cannot connect to MongoDB at {uri}")]
    #[diagnostic(
        code(kschema::mongo::connect),
        help("check --mongodb-uri / MONGODB_URI, and that the server is running (add directConnection=true for a single node)")
    )]
    Connect {
        uri: String,
        #[source]
        source: mongodb::error::Error,
    },
    #[error("MongoDB at {uri} did not answer within {seconds}s")]
    #[diagnostic(
        code(kschema::mongo::connect_timeout),
        help("check that the address is a MongoDB server's; a slow network needs a longer --connect-timeout")
    )]
    Timeout { uri: String, seconds: String },
    #[error("MongoDB command {command} on {database} failed")]
    #[diagnostic(code(kschema::mongo::command), help("see the server's message above"))]
    Command {
        command: String,
        database: String,
        #[source]
        source: mongodb::error::Error,
    },
}

/// A MongoDB deployment: the client and how to show it.
#[derive(Clone)]
pub struct Mongo {
    client: Client,
    pub display: String,
}

impl Mongo {
    pub async fn connect(uri: &str) -> Result<Mongo, MongoError> {
        let display = redact(uri);
        let connect = |source| MongoError::Connect {
            uri: display.clone(),
            source,
        };
        let mut options = ClientOptions::parse(uri).await.map_err(connect)?;
        options.app_name = Some("kschema".into());
        let limit = super::connect::connect_timeout();
        options.server_selection_timeout.get_or_insert(limit);
        options.connect_timeout.get_or_insert(limit);
        let client = Client::with_options(options).map_err(connect)?;
        // Fail now, with the address, rather than on the first command.
        // Server selection bounds this already; the outer limit is for a
        // peer that accepts and then never answers a handshake.
        let admin = client.database("admin");
        let ping = admin.run_command(doc! {"ping": 1});
        match tokio::time::timeout(limit * 2, ping).await {
            Ok(result) => {
                result.map_err(connect)?;
            }
            Err(_) => {
                return Err(MongoError::Timeout {
                    uri: display.clone(),
                    seconds: format!("{}", (limit * 2).as_secs_f64()),
                })
            }
        }
        Ok(Mongo { client, display })
    }

    /// The deployment's databases, MongoDB's own (admin, local, config) left out.
    pub async fn list_databases(&self) -> Result<Vec<String>, MongoError> {
        let reply = self
            .command("admin", doc! {"listDatabases": 1, "nameOnly": true})
            .await?;
        let mut names: Vec<String> = reply
            .get("databases")
            .and_then(|d| d.as_array())
            .map(|list| {
                list.iter()
                    .filter_map(|d| d.get("name").and_then(|n| n.as_str()))
                    .filter(|n| !["admin", "local", "config"].contains(n))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        Ok(names)
    }

    /// The collections of `database` (secondary indexes included).
    pub async fn introspect(&self, database: &str) -> Result<MongoState, MongoError> {
        let db = self.client.database(database);
        let listed = self
            .command(database, doc! {"listCollections": 1, "filter": {"type": "collection"}, "cursor": {"batchSize": 100_000}})
            .await?;
        let mut state = MongoState::default();
        for spec in first_batch(&listed) {
            let Some(name) = spec.get("name").and_then(|n| n.as_str()) else {
                continue;
            };
            if name.starts_with("system.") {
                continue;
            }
            let options = spec.get("options").cloned().unwrap_or(Json::Null);
            let indexes = self
                .command(
                    database,
                    doc! {"listIndexes": name, "cursor": {"batchSize": 100_000}},
                )
                .await?;
            let _ = &db;
            state.collections.insert(
                name.to_string(),
                collection_from_live(name, &options, &first_batch(&indexes)),
            );
        }
        Ok(state)
    }

    /// Runs one step's command.
    pub async fn run(&self, database: &str, step: &MongoStep) -> Result<(), MongoError> {
        let command = to_document(&step.command);
        self.command(database, command).await.map(|_| ())
    }

    /// How many documents of `collection` the `validator` would reject.
    pub async fn count_invalid(
        &self,
        database: &str,
        collection: &str,
        validator: &Json,
    ) -> Result<u64, MongoError> {
        let filter = doc! {"$nor": [Bson::Document(to_document(validator))]};
        self.client
            .database(database)
            .collection::<Document>(collection)
            .count_documents(filter)
            .await
            .map_err(|source| MongoError::Command {
                command: "count".into(),
                database: database.to_string(),
                source,
            })
    }

    async fn command(&self, database: &str, command: Document) -> Result<Json, MongoError> {
        let name = command.keys().next().cloned().unwrap_or_default();
        self.client
            .database(database)
            .run_command(command)
            .await
            .map(|reply| Bson::Document(reply).into_relaxed_extjson())
            .map_err(|source| MongoError::Command {
                command: name,
                database: database.to_string(),
                source,
            })
    }
}

fn first_batch(reply: &Json) -> Vec<Json> {
    reply
        .get("cursor")
        .and_then(|c| c.get("firstBatch"))
        .and_then(|b| b.as_array())
        .cloned()
        .unwrap_or_default()
}

/// JSON → a BSON document (integers that fit are 32-bit, as the shell
/// writes them).
pub fn to_document(value: &Json) -> Document {
    match to_bson(value) {
        Bson::Document(document) => document,
        _ => Document::new(),
    }
}

fn to_bson(value: &Json) -> Bson {
    match value {
        Json::Null => Bson::Null,
        Json::Bool(b) => Bson::Boolean(*b),
        Json::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) if i32::try_from(i).is_ok() => Bson::Int32(i as i32),
            (Some(i), _) => Bson::Int64(i),
            (None, Some(f)) => Bson::Double(f),
            _ => Bson::Null,
        },
        Json::String(s) => Bson::String(s.clone()),
        Json::Array(items) => Bson::Array(items.iter().map(to_bson).collect()),
        Json::Object(map) => {
            Bson::Document(map.iter().map(|(k, v)| (k.clone(), to_bson(v))).collect())
        }
    }
}

/// `mongodb://user@host/…` without the password.
pub fn redact(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return "<invalid MongoDB URI>".into();
    };
    match rest.split_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split(':').next().unwrap_or("");
            format!("{scheme}://{user}@{host}")
        }
        None => uri.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact("mongodb://app:s3cret@db:27017/x"),
            "mongodb://app@db:27017/x"
        );
        assert_eq!(
            redact("mongodb://127.0.0.1:1/?directConnection=true"),
            "mongodb://127.0.0.1:1/?directConnection=true"
        );
    }
}
