//! Reads the live state of every target schema in a constant number of
//! catalog queries (`… WHERE nspname = ANY($1)`), however many tenants
//! there are, streaming the rows into the pure core's builder.

use std::collections::HashMap;

use kschema_core::catalog::{LiveState, LiveStateBuilder, RowRead};
use kschema_core::ident::{quote_literal, Ident};
use kschema_core::model::SchemaName;
use kschema_core::model::{RawDependency, Row};
use miette::Diagnostic;
use thiserror::Error;
use tokio_postgres::Client;

mod objects;
mod per_schema;
mod tables;

use objects::*;
pub(crate) use objects::{ENUMS_SQL, FUNCTIONS_SQL, SEQUENCES_SQL};
use per_schema::*;
pub(crate) use per_schema::{COMMENTS_SQL, PRIVILEGES_SQL, VIEWS_SQL, VIEW_SIGNATURES_SQL};
use tables::*;
pub(crate) use tables::{serial_default_test, TABLES_SQL};

pub(crate) const DOMAINS_SQL: &str = include_str!("../sql/domains.sql");
pub(crate) const COMPOSITES_SQL: &str = include_str!("../sql/composites.sql");
pub(crate) const EVENT_TRIGGERS_SQL: &str = include_str!("../sql/event_triggers.sql");
pub(crate) const DEPENDS_SQL: &str = include_str!("../sql/depends.sql");
/// Every extension but plpgsql (which every database has): they are
/// database-wide, read with public.
pub(crate) const EXTENSIONS_SQL: &str = "
SELECT x.extname::text, n.nspname::text, x.extversion
  FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace
 WHERE x.extname <> 'plpgsql'
 ORDER BY 1";

/// A column of a catalog row; a surprise in the catalog is an error, never
/// a panic.
fn read<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a tokio_postgres::Row,
    index: usize,
) -> Result<T, IntrospectError> {
    row.try_get(index)
        .map_err(|e| IntrospectError::Rows(format!("catalog column {index}: {e}")))
}

/// How long introspection waits for a table another session has locked.
const INTROSPECTION_LOCK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

#[derive(Debug, Error, Diagnostic)]
pub enum IntrospectError {
    #[error("a table is locked by another session, and reading its definition waited {}s", INTROSPECTION_LOCK_TIMEOUT.as_secs())]
    #[diagnostic(
        code(kschema::introspect::locked),
        help("a migration or long transaction holds an exclusive lock; see pg_stat_activity, and try again when it is done")
    )]
    Locked(#[source] tokio_postgres::Error),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Connect(super::connect::ConnectError),
    #[error("reading the catalog failed")]
    #[diagnostic(
        code(kschema::introspect::query),
        help("kschema needs PostgreSQL 14 or newer and read access to pg_catalog")
    )]
    Query(#[source] tokio_postgres::Error),
    #[error("PostgreSQL {version} is too old: kschema supports 14 and newer (13 reached its end of life in November 2025)")]
    #[diagnostic(
        code(kschema::introspect::version),
        help("upgrade the server, or point kschema at a newer one")
    )]
    TooOld { version: String },
    #[error("the catalog returned rows kschema could not read: {0}")]
    #[diagnostic(
        code(kschema::introspect::rows),
        help("this is a bug in kschema; please report it with the PostgreSQL version")
    )]
    Rows(String),
}

/// Every schema of the database but PostgreSQL's own and kschema's.
pub async fn list_schemas(client: &Client) -> Result<Vec<String>, IntrospectError> {
    let rows = client
        .query(
            "SELECT nspname::text FROM pg_namespace
              WHERE nspname NOT LIKE 'pg\\_%' AND nspname NOT IN ('information_schema', 'kschema')
              ORDER BY 1",
            &[],
        )
        .await
        .map_err(IntrospectError::Query)?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// The server's version number (`150018` for 15.18).
pub async fn server_version(client: &Client) -> Result<i32, IntrospectError> {
    let row = client
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .await
        .map_err(IntrospectError::Query)?;
    Ok(row.get(0))
}

/// The live state of `schemas` (those that exist), read in one
/// repeatable-read snapshot: schemas, the table list, table signatures, the
/// documents of one table per distinct signature, sequences — five queries
/// however many tenants there are.
pub async fn introspect(
    client: &Client,
    schemas: &[SchemaName],
) -> Result<LiveState, IntrospectError> {
    introspect_with_rows(client, schemas, &[]).await
}

/// [`introspect`], plus the live rows of seeded tables: one query per seeded
/// table, whatever the number of tenants.
pub async fn introspect_with_rows(
    client: &Client,
    schemas: &[SchemaName],
    reads: &[RowRead],
) -> Result<LiveState, IntrospectError> {
    introspect_on(client, None, schemas, reads).await
}

/// Introspects through `db`: the tables on a connection of its own, the
/// other objects at the same time on more that share its snapshot (views
/// are deparsed per schema, and cost as much as the tables' signatures on
/// a fleet).
pub async fn introspect_database(
    db: &super::Database,
    schemas: &[SchemaName],
    reads: &[RowRead],
) -> Result<LiveState, IntrospectError> {
    // The main connection first: when the server has one slot left, it is
    // this one that gets it.
    let client = db.connect().await.map_err(IntrospectError::Connect)?;
    let (objects, per_schema, columns) =
        futures_util::join!(db.connect(), db.connect(), db.connect());
    match (objects, per_schema, columns) {
        (Ok(objects), Ok(per_schema), Ok(columns)) => {
            let sides = Sides {
                objects: &objects,
                per_schema: &per_schema,
                column_signatures: &columns,
            };
            introspect_on(&client, Some(sides), schemas, reads).await
        }
        // A server (or role) short of connection slots: everything on the
        // one connection, one read after another.
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) if e.is_out_of_slots() => {
            tracing::debug!("reading on one connection: {e}");
            introspect_on(&client, None, schemas, reads).await
        }
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => Err(IntrospectError::Connect(e)),
    }
}

/// The connections that read beside the main one, on its snapshot.
#[derive(Clone, Copy)]
struct Sides<'a> {
    /// Sequences, functions, enums and what kschema does not manage.
    objects: &'a Client,
    /// Views, privileges and comments.
    per_schema: &'a Client,
    /// The columns part of the tables' signatures, while the main
    /// connection reads the other parts.
    column_signatures: &'a Client,
}

impl<'a> Sides<'a> {
    fn all(&self) -> [&'a Client; 3] {
        [self.objects, self.per_schema, self.column_signatures]
    }
}

async fn introspect_on(
    client: &Client,
    sides: Option<Sides<'_>>,
    schemas: &[SchemaName],
    reads: &[RowRead],
) -> Result<LiveState, IntrospectError> {
    let version = server_version(client).await?;
    if version < 140000 {
        return Err(IntrospectError::TooOld {
            version: format!("{}.{}", version / 10000, version % 10000),
        });
    }
    client
        .batch_execute(&begin_introspection())
        .await
        .map_err(IntrospectError::Query)?;
    let result = async {
        if let Some(sides) = sides {
            for side in sides.all() {
                share_snapshot(client, side).await?;
            }
        }
        let result = read_catalog(client, sides, schemas, version, reads).await;
        if let Some(sides) = sides {
            for side in sides.all() {
                let _ = side.batch_execute("COMMIT").await;
            }
        }
        result
    }
    .await;
    let _ = client.batch_execute("COMMIT").await;
    result.map_err(|e| match e {
        IntrospectError::Query(error)
            if error.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE) =>
        {
            IntrospectError::Locked(error)
        }
        other => other,
    })
}

/// A read-only repeatable-read transaction. JIT compilation of these large
/// queries costs seconds and saves nothing. Nor do parallel workers: the
/// reads run side by side on the server's cores, and workers, each
/// building its own share of a hash join, cost more CPU than they save
/// time (at 10,000 tenants the plan took ~20% less without them).
/// Deparsing a table's expressions takes a share lock on it: wait for a
/// lock a bounded time, then say so, rather than hang behind a migration.
fn begin_introspection() -> String {
    format!(
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL jit = off; SET LOCAL work_mem = '256MB'; SET LOCAL TimeZone = 'UTC'; SET LOCAL search_path = public; SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL lock_timeout = '{}ms'",
        INTROSPECTION_LOCK_TIMEOUT.as_millis()
    )
}

/// Opens `side`'s transaction on `main`'s snapshot: both read one state.
async fn share_snapshot<'a>(
    main: &Client,
    side: &'a Client,
) -> Result<&'a Client, IntrospectError> {
    let snapshot: String = main
        .query_one("SELECT pg_export_snapshot()", &[])
        .await
        .map_err(IntrospectError::Query)?
        .get(0);
    side.batch_execute(&format!(
        "{}; SET TRANSACTION SNAPSHOT {}",
        begin_introspection(),
        quote_literal(&snapshot)
    ))
    .await
    .map_err(IntrospectError::Query)?;
    Ok(side)
}

async fn read_catalog(
    client: &Client,
    sides: Option<Sides<'_>>,
    schemas: &[SchemaName],
    version: i32,
    reads: &[RowRead],
) -> Result<LiveState, IntrospectError> {
    let names: Vec<&str> = schemas.iter().map(|s| s.as_str()).collect();
    let mut builder = LiveStateBuilder::new();
    let (tables, objects, (views, grants, comments)) = match sides {
        Some(sides) => futures_util::try_join!(
            read_tables(
                client,
                Some(sides.column_signatures),
                &names,
                version,
                &mut builder
            ),
            object_reads(sides.objects, &names, version),
            per_schema_reads(sides.per_schema, &names, version)
        )?,
        None => (
            read_tables(client, None, &names, version, &mut builder).await?,
            object_reads(client, &names, version).await?,
            per_schema_reads(client, &names, version).await?,
        ),
    };
    for sequence in objects.sequences {
        builder.add_sequence(sequence);
    }
    for function in objects.functions {
        builder.add_function(function);
    }
    for (schema, name, labels) in objects.enums {
        builder.add_enum(&schema, name, labels);
    }
    for view in views {
        builder.add_view(view);
    }
    for grant in grants {
        builder.add_grant(grant);
    }
    for comment in comments {
        builder.add_comment(comment);
    }
    for (name, schema, version) in objects.extensions {
        builder.add_extension(name, schema, version);
    }
    for trigger in objects.event_triggers {
        if !trigger.ours {
            builder.add_unmanaged(
                "public",
                "event_trigger",
                format!(
                    "{} (owned by {})",
                    Ident::new(&trigger.name).quoted(),
                    Ident::new(trigger.owner).quoted()
                ),
            );
            continue;
        }
        builder.add_event_trigger(
            trigger.name,
            trigger.event,
            trigger.tags,
            trigger.function,
            trigger.enabled,
        );
    }
    for domain in objects.domains {
        builder.add_domain(domain);
    }
    for composite in objects.composites {
        builder.add_composite(composite);
    }
    for (schema, kind, name) in objects.unmanaged {
        builder.add_unmanaged(&schema, &kind, name);
    }
    let trace = crate::trace::Trace::new();

    for seeded in reads {
        let holders: Vec<&str> = tables
            .iter()
            .filter(|(schema, table, _)| {
                table == seeded.table.as_str() && (schema == "public") != seeded.tenant_scope
            })
            .map(|(schema, _, _)| schema.as_str())
            .collect();
        if holders.is_empty() {
            continue;
        }
        let object: Vec<String> = seeded
            .columns
            .iter()
            .map(|c| format!("{}, t.{}", quote_literal(c.as_str()), c.quoted()))
            .collect();
        let selects: Vec<String> = holders
            .iter()
            .map(|schema| {
                format!(
                    "SELECT {}::text, jsonb_build_object({})::text FROM {}.{} t",
                    quote_literal(schema),
                    object.join(", "),
                    Ident::new(*schema).quoted(),
                    seeded.table.quoted()
                )
            })
            .collect();
        let mut by_schema: HashMap<String, Vec<Row>> = HashMap::new();
        for row in client
            .query(&selects.join(" UNION ALL "), &[])
            .await
            .map_err(IntrospectError::Query)?
        {
            let schema: String = read(&row, 0)?;
            let json: String = read(&row, 1)?;
            let values: Row =
                serde_json::from_str(&json).map_err(|e| IntrospectError::Rows(e.to_string()))?;
            by_schema.entry(schema).or_default().push(values);
        }
        for schema in holders {
            builder.add_rows(
                schema,
                seeded.table.as_str(),
                by_schema.remove(schema).unwrap_or_default(),
            );
        }
    }

    if let Some(error) = builder.errors().first() {
        return Err(IntrospectError::Rows(error.clone()));
    }
    trace.mark("seed rows");
    let mut state = builder.finish();
    state.server_version = Some(version);
    trace.mark("models");
    read_dependencies(client, &mut state).await?;
    trace.mark("dependencies");
    Ok(state)
}

/// What each shape's objects need of their schema, read from one schema
/// of each shape by the objects' names (on a fleet of identical tenants,
/// one query over a handful of schemas). Every shape gets its list, empty
/// when its objects need nothing of it.
async fn read_dependencies(client: &Client, state: &mut LiveState) -> Result<(), IntrospectError> {
    let reads = state.dependency_reads();
    let mut rows = Vec::new();
    let schemas: Vec<&str> = reads.iter().map(|(schema, _, _)| schema.as_str()).collect();
    let kinds: Vec<&str> = reads.iter().map(|(_, kind, _)| *kind).collect();
    let names: Vec<&str> = reads.iter().map(|(_, _, name)| name.as_str()).collect();
    for row in client
        .query(DEPENDS_SQL, &[&schemas, &kinds, &names])
        .await
        .map_err(IntrospectError::Query)?
    {
        rows.push(RawDependency {
            schema: read(&row, 0)?,
            kind: read(&row, 1)?,
            name: read(&row, 2)?,
            detail: read(&row, 3)?,
            needed_kind: read(&row, 4)?,
            needed: read(&row, 5)?,
            needed_schema: read(&row, 6)?,
        });
    }
    state.add_dependencies(&rows).map_err(IntrospectError::Rows)
}
