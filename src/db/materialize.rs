//! PostgreSQL as the one normalizer: the desired state is built on a real
//! server, in a scratch database kschema creates and drops, and read back
//! with the same catalog code as the live side. Both sides of every diff
//! are then what PostgreSQL stores.
//!
//! Where: the dev database's server (`--dev-url`, `[plan] dev_url`,
//! `KSCHEMA_DEV_URL`; `local` is kschema's own cluster), else the target
//! server (needs CREATEDB). The stored form is cached under
//! `.kschema/cache/desired/` (or `KSCHEMA_CACHE_DIR`) by a hash of the
//! script and the server version, so a re-plan costs nothing extra.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use kschema_core::load::{DesiredState, LoadedScope, ObjectKey};
use kschema_core::model::SchemaName;
use kschema_core::plan::materialize::{
    adopt_stored_form, cache_key, creation_script, ScriptScope, ScriptStatement, StoredForm,
    OVERLOADS_TABLE, TEMPLATE_SCHEMA,
};
use kschema_core::Problem;
use tokio_postgres::error::ErrorPosition;
use tokio_postgres::Client;

use super::connect::redacted;
use super::introspect::{introspect, server_version};
use super::Database;

/// Which server builds the desired state.
pub enum Builder {
    /// The plan's target server itself.
    Target(Database),
    /// A dev database's server (or the local cluster), with the target's
    /// version when known: another major version is worth a warning, since
    /// canonical forms can differ between them.
    Dev {
        server: Database,
        target_version: Option<i32>,
    },
}

/// Replaces the desired models' comparable parts with what the builder's
/// server stores for them (see `normalize::stored`).
pub async fn store_desired(
    desired: &mut DesiredState,
    builder: &Builder,
) -> Result<(), miette::Report> {
    let (server, target_version) = match builder {
        Builder::Target(server) => (server, None),
        Builder::Dev {
            server,
            target_version,
        } => (server, *target_version),
    };
    let trace = crate::trace::Trace::new();
    let script = creation_script(desired);
    if script.is_empty() {
        return Ok(());
    }
    // The target's own server fails as the target does; a dev server says
    // what it was for.
    let admin = match server.connect().await {
        Ok(client) => client,
        Err(e) if matches!(builder, Builder::Dev { .. }) => {
            return Err(Problem::new(
                "kschema::desired::connect",
                format!("cannot reach the dev database that builds the desired state: {e}"),
            )
            .with_help(DEV_URL_HELP)
            .into())
        }
        Err(e) => return Err(e.into()),
    };
    let version = server_version(&admin)
        .await
        .map_err(|e| Problem::new("kschema::desired::version", e.to_string()))?;
    if let Some(target) = target_version {
        if target / 10000 != version / 10000 {
            // A closed stderr is not worth failing the plan over.
            let _ = writeln!(
                std::io::stderr(),
                "warning: the desired state is built on PostgreSQL {} but the plan is for PostgreSQL {}; canonical forms may differ (point --dev-url at a server of the target's major version)",
                version / 10000,
                target / 10000
            );
        }
    }
    let key = cache_key(&script, version, &reader_identity());
    let cache_file = cache_dir(&desired.root).join(format!("{key}.json"));
    let stored = match read_cache(&cache_file) {
        Some(stored) => stored,
        None => {
            let stored = build(&admin, server, &script, desired).await?;
            write_cache(&cache_file, &stored);
            stored
        }
    };
    trace.mark("desired state stored by PostgreSQL");
    adopt_stored_form(desired, &stored)?;
    Ok(())
}

/// Bump when the model or `catalog.rs` changes what a stored form holds
/// (the catalog queries' text is part of the key already).
const STORED_FORM_VERSION: u32 = 6;

/// How this kschema reads a catalog, for the cache key: its queries, and
/// which build it is (the size and time of its executable — the core's
/// canonical forms change with the code, and a cache written by another
/// build must not be trusted).
fn reader_identity() -> String {
    let build = std::env::current_exe()
        .and_then(std::fs::metadata)
        .map(|m| {
            let modified = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{}:{modified}", m.len())
        })
        .unwrap_or_default();
    format!(
        "{STORED_FORM_VERSION}\n{build}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
        super::introspect::TABLES_SQL,
        super::introspect::serial_default_test(),
        super::introspect::SEQUENCES_SQL,
        super::introspect::FUNCTIONS_SQL,
        super::introspect::DEPENDS_SQL,
        super::introspect::ENUMS_SQL,
        super::introspect::EXTENSIONS_SQL,
        super::introspect::VIEWS_SQL,
        super::introspect::VIEW_SIGNATURES_SQL,
        super::introspect::PRIVILEGES_SQL,
        super::introspect::COMMENTS_SQL,
        super::introspect::DOMAINS_SQL,
        super::introspect::COMPOSITES_SQL,
        super::introspect::EVENT_TRIGGERS_SQL
    )
}

const DEV_URL_HELP: &str = "kschema builds the desired state in a scratch database to read it back as PostgreSQL stores it: grant CREATEDB to this role, or name a server it may use with --dev-url URL ([plan] dev_url in kschema.toml, or KSCHEMA_DEV_URL); --dev-url local uses kschema's own local cluster";

/// Builds the script in a fresh scratch database and reads it back; the
/// scratch database is dropped whatever happens.
async fn build(
    admin: &Client,
    server: &Database,
    script: &[ScriptStatement],
    desired: &DesiredState,
) -> Result<StoredForm, Problem> {
    let scratch = format!(
        "kschema_desired_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default()
    );
    // template0: never has sessions, and holds nothing a template1 was
    // given (an extension there is not part of the desired state).
    admin
        .batch_execute(&format!("CREATE DATABASE {scratch} TEMPLATE template0"))
        .await
        .map_err(|e| {
            Problem::new(
                "kschema::desired::scratch",
                format!(
                    "cannot create a scratch database on {}: {}",
                    server,
                    server_message(&e)
                ),
            )
            .with_help(DEV_URL_HELP)
        })?;
    let result = async {
        let mut config = server.config().clone();
        config.dbname(&scratch);
        let client = Database::from_config(config.clone())
            .connect()
            .await
            .map_err(|e| {
                Problem::new(
                    "kschema::desired::scratch",
                    format!(
                        "cannot connect to the scratch database {}: {e}",
                        redacted(&config)
                    ),
                )
            })?;
        run_script(&client, script, desired).await?;
        let mut overloads = Vec::new();
        if script.iter().any(|s| s.sql.contains(OVERLOADS_TABLE)) {
            let rows = client
                .query(
                    &format!("SELECT schema, name, placeholder, arguments FROM {OVERLOADS_TABLE}"),
                    &[],
                )
                .await
                .map_err(|e| Problem::new("kschema::desired::read", e.to_string()))?;
            for row in rows {
                overloads.push((row.get(0), row.get(1), row.get(2), row.get(3)));
            }
        }
        let mut schemas = desired.shared_schemas();
        schemas.push(SchemaName::new(TEMPLATE_SCHEMA));
        let live = introspect(&client, &schemas)
            .await
            .map_err(|e| Problem::new("kschema::desired::read", e.to_string()))?;
        let model_of = |schema: &str| {
            live.get(&SchemaName::new(schema))
                .map(|s| s.model.as_ref().clone())
                .unwrap_or_default()
        };
        Ok(StoredForm {
            public: model_of("public"),
            shared: desired
                .shared
                .keys()
                .map(|schema| (schema.clone(), model_of(schema.as_str())))
                .collect(),
            tenant: model_of(TEMPLATE_SCHEMA),
            overloads,
            dependencies: live
                .schemas
                .iter()
                .filter_map(|(schema, live)| {
                    let found = live.model.dependencies.as_deref()?;
                    Some((schema.as_str().to_string(), found.clone()))
                })
                .collect(),
        })
    }
    .await;
    let _ = admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {scratch} WITH (FORCE)"))
        .await;
    result
}

/// The script in one transaction; when the server rejects it, once more
/// change by change. The order comes from what the statements' words name
/// (nothing is built yet to ask the catalog), and words can be wrong: a
/// change that fails for want of an object is rolled back to its savepoint
/// and waits, running again once the others have, as long as each round
/// gets further. What still fails is reported at its file and line.
async fn run_script(
    client: &Client,
    script: &[ScriptStatement],
    desired: &DesiredState,
) -> Result<(), Problem> {
    let mut text = String::from("BEGIN;\n");
    for statement in script {
        text.push_str(&statement.sql);
        text.push_str(";\n");
    }
    text.push_str("COMMIT;");
    if client.batch_execute(&text).await.is_ok() {
        return Ok(());
    }
    let _ = client.batch_execute("ROLLBACK").await;
    let failed = |e: tokio_postgres::Error| Problem::new("kschema::desired::read", e.to_string());
    client.batch_execute("BEGIN").await.map_err(failed)?;
    // A change's statements run as one (`SET LOCAL` around a function,
    // the record of the overload it made): consecutive statements about
    // the objects of the first (or some of them), in the same scope.
    let mut pending: Vec<Vec<&ScriptStatement>> = Vec::new();
    for statement in script.iter().filter(|s| s.sql != s.scope.search_path()) {
        match pending.last_mut() {
            Some(unit)
                if !statement.objects.is_empty()
                    && statement
                        .objects
                        .iter()
                        .all(|o| unit[0].objects.contains(o))
                    && unit[0].scope == statement.scope =>
            {
                unit.push(statement)
            }
            _ => pending.push(vec![statement]),
        }
    }
    let mut deferred_any = false;
    let mut search_path: Option<&ScriptScope> = None;
    loop {
        let mut waiting = Vec::new();
        let mut first_error = None;
        let round = pending.len();
        for unit in pending {
            let scope = &unit[0].scope;
            if search_path != Some(scope) {
                client
                    .batch_execute(&scope.search_path())
                    .await
                    .map_err(failed)?;
                search_path = Some(scope);
            }
            client
                .batch_execute("SAVEPOINT kschema_statement")
                .await
                .map_err(failed)?;
            let mut refused = None;
            for statement in &unit {
                if let Err(error) = client.batch_execute(&statement.sql).await {
                    refused = Some((*statement, error));
                    break;
                }
            }
            let Some((statement, error)) = refused else {
                client
                    .batch_execute("RELEASE SAVEPOINT kschema_statement")
                    .await
                    .map_err(failed)?;
                continue;
            };
            client
                .batch_execute(
                    "ROLLBACK TO SAVEPOINT kschema_statement; RELEASE SAVEPOINT kschema_statement",
                )
                .await
                .map_err(failed)?;
            if !wants_an_object(&error) {
                return Err(rejected(statement, &error, desired));
            }
            first_error.get_or_insert((statement, error));
            waiting.push(unit);
        }
        match first_error {
            None if deferred_any => {
                return client.batch_execute("COMMIT").await.map_err(failed);
            }
            // Every statement ran alone: the batch failed for a reason of
            // its own.
            None => {
                return Err(Problem::new(
                    "kschema::desired::rejected",
                    "PostgreSQL rejected the desired state as a whole, though each statement runs",
                )
                .with_help("this is a bug in kschema; please report it with the files involved"))
            }
            // Nothing ran this round: nothing will.
            Some((statement, error)) if waiting.len() == round => {
                return Err(rejected(statement, &error, desired));
            }
            Some(_) => {
                deferred_any = true;
                pending = waiting;
            }
        }
    }
}

/// Whether the server refused a statement for want of a function, type or
/// relation (one another statement may create).
fn wants_an_object(error: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    error.code().is_some_and(|code| {
        [
            SqlState::UNDEFINED_FUNCTION,
            SqlState::UNDEFINED_OBJECT,
            SqlState::UNDEFINED_TABLE,
        ]
        .contains(code)
    })
}

/// The server's message for a statement it rejected, at the declaration of
/// the objects the statement creates.
fn rejected(
    statement: &ScriptStatement,
    error: &tokio_postgres::Error,
    desired: &DesiredState,
) -> Problem {
    let scope = match &statement.scope {
        ScriptScope::Shared(schema) => desired.shared_scope(schema).unwrap_or(&desired.public),
        ScriptScope::Tenant => &desired.tenant,
    };
    let message = server_message(error);
    let mut help = Vec::new();
    if let Some(db) = error.as_db_error() {
        if let Some(detail) = db.detail() {
            help.push(detail.to_string());
        }
        if let Some(hint) = db.hint() {
            help.push(hint.to_string());
        }
        // Tablespaces are the cluster's: the files name them, the server
        // that builds the desired state must have them as the target does.
        if *db.code() == tokio_postgres::error::SqlState::UNDEFINED_OBJECT
            && db.message().starts_with("tablespace ")
        {
            help.push("kschema does not create tablespaces: create it (CREATE TABLESPACE, as on the target) on the server that builds the desired state — the target, or the dev database's server (--dev-url)".into());
        }
    }
    if let Some(cycle) = &statement.cycle {
        help.push(kschema_core::escape::printable(cycle).into_owned());
    }
    let shown: Vec<String> = statement
        .sql
        .replace(TEMPLATE_SCHEMA, "<tenant>")
        .lines()
        .map(|line| kschema_core::escape::printable(line).into_owned())
        .collect();
    help.push(format!(
        "kschema ran this to build the desired state:\n  {}",
        shown.join("\n  ")
    ));
    let problem = Problem::new(
        "kschema::desired::rejected",
        format!("PostgreSQL rejects the desired state: {message}"),
    )
    .with_help(help.join("\n"));
    // The column the server's error position falls on, else the most
    // specific object the statement is about.
    let mut objects = statement.objects.clone();
    if let Some(column) = column_at_error(statement, error, scope) {
        objects.push(column);
    }
    match objects
        .iter()
        .rev()
        .find_map(|key| scope.origins.get(key).map(|origin| (key, origin)))
    {
        Some((
            key @ (ObjectKey::Function(..)
            | ObjectKey::Overload(..)
            | ObjectKey::Trigger(..)
            | ObjectKey::View(..)
            | ObjectKey::Policy(..)),
            origin,
        )) => {
            let span = position_in_routine(statement, error, origin).unwrap_or(origin.span);
            problem.at(&origin.file, span, label(key))
        }
        Some((key, origin)) => problem.at(&origin.file, origin.span, label(key)),
        None => problem,
    }
}

/// A routine runs as the author wrote it (`CREATE` may have become `CREATE
/// OR REPLACE` on its first line): the server's error position, counted in
/// lines and columns from the statement's start, is the same place in the
/// file.
fn position_in_routine(
    statement: &ScriptStatement,
    error: &tokio_postgres::Error,
    origin: &kschema_core::load::Origin,
) -> Option<miette::SourceSpan> {
    let Some(ErrorPosition::Original(position)) = error.as_db_error()?.position() else {
        return None;
    };
    let before: String = statement.sql.chars().take(*position as usize - 1).collect();
    let line_in_statement = before.matches('\n').count() as u64;
    let column = before.rsplit('\n').next()?.chars().count() as u64 + 1;
    let first_line = origin.file.line_of(origin.span.offset()) as u64;
    if line_in_statement == 0 {
        return None;
    }
    Some(
        origin
            .file
            .span_at(first_line + line_in_statement, column, 1),
    )
}

/// A generated `CREATE TABLE` has a line per column: the column whose line
/// holds the server's error position.
fn column_at_error(
    statement: &ScriptStatement,
    error: &tokio_postgres::Error,
    scope: &LoadedScope,
) -> Option<ObjectKey> {
    let Some(ErrorPosition::Original(position)) = error.as_db_error()?.position() else {
        return None;
    };
    let table = statement.objects.iter().find_map(|key| match key {
        ObjectKey::Table(table) => Some(table),
        _ => None,
    })?;
    // The position counts characters from 1.
    let before: String = statement.sql.chars().take(*position as usize).collect();
    let line = statement
        .sql
        .lines()
        .nth(before.lines().count().checked_sub(1)?)?;
    let first = line.split_whitespace().next()?;
    scope
        .model
        .tables
        .get(table)?
        .columns
        .iter()
        .find(|c| c.name.quoted().to_string() == first)
        .map(|c| ObjectKey::Column(table.clone(), c.name.clone()))
}

fn label(key: &ObjectKey) -> String {
    match key {
        ObjectKey::Column(table, column) => format!("column {table}.{column}"),
        ObjectKey::Index(name) => format!("index {name}"),
        ObjectKey::Sequence(name) => format!("sequence {name}"),
        ObjectKey::Constraint(table, name) => format!("constraint {name} on {table}"),
        ObjectKey::Table(name) => format!("table {name}"),
        ObjectKey::Function(name, _)
        | ObjectKey::Overload(name, _, _)
        | ObjectKey::Signature(name, _) => {
            format!("function {name}")
        }
        ObjectKey::Trigger(table, name) => format!("trigger {name} on {table}"),
        ObjectKey::Type(name) => format!("type {name}"),
        ObjectKey::Extension(name) => format!("extension {name}"),
        ObjectKey::View(name) => format!("view {name}"),
        ObjectKey::Policy(table, name) => format!("policy {name} on {table}"),
        ObjectKey::EventTrigger(name) => format!("event trigger {name}"),
        ObjectKey::Grant(_) | ObjectKey::DefaultGrant(_) | ObjectKey::Comment(_) => {
            "this statement".to_string()
        }
    }
}

/// The server's own words (its message and SQLSTATE), never the driver's
/// wrapper text alone.
fn server_message(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => error.to_string(),
    }
}

fn cache_dir(root: &Path) -> PathBuf {
    match std::env::var_os("KSCHEMA_CACHE_DIR") {
        Some(dir) => PathBuf::from(dir).join("desired"),
        None => root.join(".kschema").join("cache").join("desired"),
    }
}

/// A cached stored form; anything unreadable is a miss.
fn read_cache(path: &Path) -> Option<StoredForm> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// Written whole or not at all (a rename), so concurrent plans never read
/// half a file. A cache that cannot be written only costs the next plan.
fn write_cache(path: &Path, stored: &StoredForm) {
    let Some(dir) = path.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let Ok(text) = serde_json::to_string(stored) else {
        return;
    };
    let partial = dir.join(format!(
        ".{}.{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("stored"),
        std::process::id()
    ));
    if std::fs::write(&partial, text).is_ok() && std::fs::rename(&partial, path).is_err() {
        let _ = std::fs::remove_file(&partial);
    }
}
