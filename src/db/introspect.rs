//! Reads the live state of every target schema in a constant number of
//! catalog queries (`… WHERE nspname = ANY($1)`), however many tenants
//! there are, streaming the rows into the pure core's builder.

use std::collections::HashMap;

use futures_util::{pin_mut, TryStreamExt};
use kschema_core::catalog::{LiveState, LiveStateBuilder, RawSequence, RowRead};
use kschema_core::ident::{quote_literal, Ident};
use kschema_core::model::Row;
use kschema_core::model::SchemaName;
use miette::Diagnostic;
use thiserror::Error;
use tokio_postgres::Client;

const SIGNATURES_SQL: &str = include_str!("sql/signatures.sql");
const TABLES_SQL: &str = include_str!("sql/tables.sql");

const SCHEMAS_SQL: &str = "SELECT nspname FROM pg_namespace WHERE nspname = ANY($1)";

/// Standalone sequences: not owned by a serial column nor by an identity.
const SEQUENCES_SQL: &str = "
SELECT n.nspname, c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,
       s.seqmin, s.seqmax, s.seqcache, s.seqcycle
  FROM pg_sequence s
  JOIN pg_class c ON c.oid = s.seqrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = ANY($1)
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.deptype IN ('a', 'i'))
 ORDER BY 1, 2";

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
    #[error("reading the catalog failed")]
    #[diagnostic(
        code(kschema::introspect::query),
        help("kschema needs PostgreSQL 13 or newer and read access to pg_catalog")
    )]
    Query(#[source] tokio_postgres::Error),
    #[error("PostgreSQL {version} is too old: kschema supports 13 and newer")]
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
/// repeatable-read snapshot: schemas, table signatures, the documents of one
/// table per distinct signature, sequences — four queries however many
/// tenants there are.
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
    let version = server_version(client).await?;
    if version < 130000 {
        return Err(IntrospectError::TooOld {
            version: format!("{}.{}", version / 10000, version % 10000),
        });
    }
    // JIT compilation of these large queries costs seconds and saves nothing.
    // Deparsing a table's expressions takes a share lock on it: wait for a
    // lock a bounded time, then say so, rather than hang behind a migration.
    client
        .batch_execute(&format!(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL jit = off; SET LOCAL TimeZone = 'UTC'; SET LOCAL lock_timeout = '{}ms'",
            INTROSPECTION_LOCK_TIMEOUT.as_millis()
        ))
        .await
        .map_err(IntrospectError::Query)?;
    let result = read_catalog(client, schemas, version, reads).await;
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

async fn read_catalog(
    client: &Client,
    schemas: &[SchemaName],
    version: i32,
    reads: &[RowRead],
) -> Result<LiveState, IntrospectError> {
    let names: Vec<&str> = schemas.iter().map(|s| s.as_str()).collect();
    let mut builder = LiveStateBuilder::new();

    for row in client
        .query(SCHEMAS_SQL, &[&names])
        .await
        .map_err(IntrospectError::Query)?
    {
        builder.add_schema(row.get(0));
    }

    // Every table's signature; the first table of each signature represents it.
    let mut tables: Vec<(String, String, u32)> = Vec::new();
    let mut representatives: HashMap<String, u32> = HashMap::new();
    let rows = client
        .query_raw(with_version(SIGNATURES_SQL, version).as_str(), [&names])
        .await
        .map_err(IntrospectError::Query)?;
    pin_mut!(rows);
    while let Some(row) = rows.try_next().await.map_err(IntrospectError::Query)? {
        let oid: u32 = row.get(2);
        let signature: String = row.get(3);
        let representative = *representatives.entry(signature).or_insert(oid);
        tables.push((row.get(0), row.get(1), representative));
    }

    let wanted: Vec<u32> = representatives.values().copied().collect();
    let mut documents: HashMap<u32, String> = HashMap::with_capacity(wanted.len());
    let rows = client
        .query_raw(with_version(TABLES_SQL, version).as_str(), [&wanted])
        .await
        .map_err(IntrospectError::Query)?;
    pin_mut!(rows);
    while let Some(row) = rows.try_next().await.map_err(IntrospectError::Query)? {
        documents.insert(row.get(0), row.get(1));
    }
    for (schema, table, representative) in &tables {
        match documents.get(representative) {
            Some(document) => builder.add_table(schema, table, document),
            // Dropped between the two queries cannot happen in one snapshot.
            None => {
                return Err(IntrospectError::Rows(format!(
                    "no document for {schema}.{table}"
                )))
            }
        }
    }

    for row in client
        .query(SEQUENCES_SQL, &[&names])
        .await
        .map_err(IntrospectError::Query)?
    {
        builder.add_sequence(RawSequence {
            schema: row.get(0),
            name: row.get(1),
            data_type: row.get(2),
            start: row.get(3),
            increment: row.get(4),
            min_value: row.get(5),
            max_value: row.get(6),
            cache: row.get(7),
            cycle: row.get(8),
        });
    }

    for read in reads {
        let holders: Vec<&str> = tables
            .iter()
            .filter(|(schema, table, _)| {
                table == read.table.as_str() && (schema == "public") != read.tenant_scope
            })
            .map(|(schema, _, _)| schema.as_str())
            .collect();
        if holders.is_empty() {
            continue;
        }
        let object: Vec<String> = read
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
                    read.table.quoted()
                )
            })
            .collect();
        let mut by_schema: HashMap<String, Vec<Row>> = HashMap::new();
        for row in client
            .query(&selects.join(" UNION ALL "), &[])
            .await
            .map_err(IntrospectError::Query)?
        {
            let schema: String = row.get(0);
            let json: String = row.get(1);
            let values: Row =
                serde_json::from_str(&json).map_err(|e| IntrospectError::Rows(e.to_string()))?;
            by_schema.entry(schema).or_default().push(values);
        }
        for schema in holders {
            builder.add_rows(
                schema,
                read.table.as_str(),
                by_schema.remove(schema).unwrap_or_default(),
            );
        }
    }

    if let Some(error) = builder.errors().first() {
        return Err(IntrospectError::Rows(error.clone()));
    }
    Ok(builder.finish())
}

/// `NULLS NOT DISTINCT` exists from PostgreSQL 15 on.
fn with_version(sql: &str, version: i32) -> String {
    let (constraint, index) = if version >= 150000 {
        ("cix.indnullsnotdistinct", "ix.indnullsnotdistinct")
    } else {
        ("false", "false")
    };
    sql.replace("/*CONSTRAINT_NULLS_NOT_DISTINCT*/", constraint)
        .replace("/*INDEX_NULLS_NOT_DISTINCT*/", index)
}
