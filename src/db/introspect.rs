//! Reads the live state of every target schema in a constant number of
//! catalog queries (`… WHERE nspname = ANY($1)`), however many tenants
//! there are, streaming the rows into the pure core's builder.

use std::collections::HashMap;
use std::fmt::Write as _;

use futures_util::{pin_mut, TryStreamExt};
use kschema_core::catalog::{
    LiveState, LiveStateBuilder, RawComment, RawComposite, RawDomain, RawFunction, RawGrant,
    RawSequence, RawView, RowRead,
};
use kschema_core::ident::{quote_literal, Ident};
use kschema_core::model::SchemaName;
use kschema_core::model::{Row, SequenceOptions};
use miette::Diagnostic;
use thiserror::Error;
use tokio_postgres::Client;

const SIGNATURES_SQL: &str = include_str!("sql/signatures.sql");
const COLUMN_SIGNATURES_SQL: &str = include_str!("sql/column_signatures.sql");
pub(crate) const TABLES_SQL: &str = include_str!("sql/tables.sql");
const UNMANAGED_SQL: &str = include_str!("sql/unmanaged.sql");
pub(crate) const FUNCTIONS_SQL: &str = include_str!("sql/functions.sql");
pub(crate) const ENUMS_SQL: &str = include_str!("sql/enums.sql");
pub(crate) const VIEWS_SQL: &str = include_str!("sql/views.sql");
pub(crate) const VIEW_SIGNATURES_SQL: &str = include_str!("sql/view_signatures.sql");
pub(crate) const PRIVILEGES_SQL: &str = include_str!("sql/privileges.sql");
pub(crate) const COMMENTS_SQL: &str = include_str!("sql/comments.sql");
pub(crate) const DOMAINS_SQL: &str = include_str!("sql/domains.sql");
pub(crate) const COMPOSITES_SQL: &str = include_str!("sql/composites.sql");
pub(crate) const EVENT_TRIGGERS_SQL: &str = include_str!("sql/event_triggers.sql");
/// Every extension but plpgsql (which every database has): they are
/// database-wide, read with public.
pub(crate) const EXTENSIONS_SQL: &str = "
SELECT x.extname::text, n.nspname::text, x.extversion
  FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace
 WHERE x.extname <> 'plpgsql'
 ORDER BY 1";

const SCHEMAS_SQL: &str = "SELECT nspname FROM pg_namespace WHERE nspname = ANY($1)";

/// Tables, partitioned tables and their partitions in the same schema (a
/// partition of another schema's table is listed, not managed).
const TABLE_LIST_SQL: &str = "
SELECT c.oid, n.nspname::text, c.relname::text
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p')
   AND (NOT c.relispartition
        OR EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
                    WHERE i.inhrelid = c.oid AND p.relnamespace = c.relnamespace))";

/// A column of a catalog row; a surprise in the catalog is an error, never
/// a panic.
fn read<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a tokio_postgres::Row,
    index: usize,
) -> Result<T, IntrospectError> {
    row.try_get(index)
        .map_err(|e| IntrospectError::Rows(format!("catalog column {index}: {e}")))
}

/// Standalone sequences: not owned by a serial column nor by an identity.
pub(crate) const SEQUENCES_SQL: &str = "
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
    let (client, objects, per_schema, columns) =
        futures_util::join!(db.connect(), db.connect(), db.connect(), db.connect());
    let client = client.map_err(IntrospectError::Connect)?;
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
/// queries costs seconds and saves nothing. Deparsing a table's expressions
/// takes a share lock on it: wait for a lock a bounded time, then say so,
/// rather than hang behind a migration.
fn begin_introspection() -> String {
    format!(
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL jit = off; SET LOCAL work_mem = '256MB'; SET LOCAL TimeZone = 'UTC'; SET LOCAL search_path = public; SET LOCAL lock_timeout = '{}ms'",
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
    let (tables, (sequences, functions, enums, unmanaged), (views, grants, comments)) = match sides
    {
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
    for sequence in sequences {
        builder.add_sequence(sequence);
    }
    for function in functions {
        builder.add_function(function);
    }
    for (schema, name, labels) in enums {
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
    if names.contains(&"public") {
        for row in client
            .query(EXTENSIONS_SQL, &[])
            .await
            .map_err(IntrospectError::Query)?
        {
            builder.add_extension(read(&row, 0)?, read(&row, 1)?, read(&row, 2)?);
        }
        for row in client
            .query(EVENT_TRIGGERS_SQL, &[])
            .await
            .map_err(IntrospectError::Query)?
        {
            let name: String = read(&row, 0)?;
            if !read::<bool>(&row, 5)? {
                let owner: String = read(&row, 6)?;
                builder.add_unmanaged(
                    "public",
                    "event_trigger",
                    format!(
                        "{} (owned by {})",
                        Ident::new(&name).quoted(),
                        Ident::new(owner).quoted()
                    ),
                );
                continue;
            }
            builder.add_event_trigger(
                name,
                read(&row, 1)?,
                read(&row, 2)?,
                read(&row, 3)?,
                read(&row, 4)?,
            );
        }
    }
    for row in client
        .query(DOMAINS_SQL, &[&names])
        .await
        .map_err(IntrospectError::Query)?
    {
        builder.add_domain(RawDomain {
            schema: read(&row, 0)?,
            name: read(&row, 1)?,
            base: read(&row, 2)?,
            collation: read(&row, 3)?,
            default: read(&row, 4)?,
            not_null: read(&row, 5)?,
            checks: read(&row, 6)?,
        });
    }
    for row in client
        .query(COMPOSITES_SQL, &[&names])
        .await
        .map_err(IntrospectError::Query)?
    {
        builder.add_composite(RawComposite {
            schema: read(&row, 0)?,
            name: read(&row, 1)?,
            attributes: read(&row, 2)?,
        });
    }
    for (schema, kind, name) in unmanaged {
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
    Ok(state)
}

/// Schemas, tables and their documents: one document per distinct table
/// signature. Returns every table (schema, name, oid).
async fn read_tables(
    client: &Client,
    columns_client: Option<&Client>,
    names: &[&str],
    version: i32,
    builder: &mut LiveStateBuilder,
) -> Result<Vec<(String, String, u32)>, IntrospectError> {
    let trace = crate::trace::Trace::new();
    for row in client
        .query(SCHEMAS_SQL, &[&names])
        .await
        .map_err(IntrospectError::Query)?
    {
        builder.add_schema(read(&row, 0)?);
    }

    // Every table, then its signature; the first table of each signature
    // represents it.
    trace.mark("schemas");
    let mut tables: Vec<(String, String, u32)> = Vec::new();
    for row in client
        .query(TABLE_LIST_SQL, &[&names])
        .await
        .map_err(IntrospectError::Query)?
    {
        tables.push((read(&row, 1)?, read(&row, 2)?, read(&row, 0)?));
    }
    trace.mark("table list");
    let oids: Vec<u32> = tables.iter().map(|(_, _, oid)| *oid).collect();
    // The columns part, the largest, on a connection of its own while this
    // one reads the other parts.
    let columns = with_version(COLUMN_SIGNATURES_SQL, version);
    let others = with_version(SIGNATURES_SQL, version);
    let (columns, others) = match columns_client {
        Some(columns_client) => futures_util::try_join!(
            signature_rows(columns_client, &columns, &oids),
            signature_rows(client, &others, &oids)
        )?,
        None => (
            signature_rows(client, &columns, &oids).await?,
            signature_rows(client, &others, &oids).await?,
        ),
    };
    let mut signatures = Signatures::default();
    for row in columns.iter().chain(&others) {
        signatures.add(read(row, 0)?, read(row, 1)?, read(row, 2)?, read(row, 3)?)?;
    }
    trace.mark("signatures");
    let names_by_oid: HashMap<u32, (&str, &str)> = tables
        .iter()
        .map(|(schema, table, oid)| (*oid, (schema.as_str(), table.as_str())))
        .collect();
    // The oid of the table that represents each table, in `tables` order.
    let mut representatives: HashMap<String, u32> = HashMap::new();
    let mut representative_of: Vec<u32> = Vec::with_capacity(tables.len());
    for (schema, table, oid) in &tables {
        let signature = signatures.of(*oid, schema, table, &names_by_oid);
        representative_of.push(*representatives.entry(signature).or_insert(*oid));
    }

    let wanted: Vec<u32> = representatives.values().copied().collect();
    let mut documents: HashMap<u32, String> = HashMap::with_capacity(wanted.len());
    let rows = client
        .query_raw(with_version(TABLES_SQL, version).as_str(), [&wanted])
        .await
        .map_err(IntrospectError::Query)?;
    pin_mut!(rows);
    while let Some(row) = rows.try_next().await.map_err(IntrospectError::Query)? {
        documents.insert(read(&row, 0)?, read(&row, 1)?);
    }
    trace.mark("documents");
    let schema_of: HashMap<u32, &str> = tables
        .iter()
        .map(|(schema, _, oid)| (*oid, schema.as_str()))
        .collect();
    for ((schema, table, _), representative) in tables.iter().zip(&representative_of) {
        match documents.get(representative) {
            Some(document) => {
                let read_from = schema_of.get(representative).copied().unwrap_or(schema);
                builder.add_table(schema, table, document, read_from)
            }
            // Dropped between the two queries cannot happen in one snapshot.
            None => {
                return Err(IntrospectError::Rows(format!(
                    "no document for {schema}.{table}"
                )))
            }
        }
    }

    Ok(tables)
}

/// The rows of a signature query over the tables `oids`.
async fn signature_rows(
    client: &Client,
    sql: &str,
    oids: &[u32],
) -> Result<Vec<tokio_postgres::Row>, IntrospectError> {
    client
        .query(sql, &[&oids])
        .await
        .map_err(IntrospectError::Query)
}

/// Standalone sequences.
async fn read_sequences(
    client: &Client,
    names: &[&str],
) -> Result<Vec<RawSequence>, IntrospectError> {
    let trace = crate::trace::Trace::new();
    let mut sequences = Vec::new();
    for row in client
        .query(SEQUENCES_SQL, &[&names])
        .await
        .map_err(IntrospectError::Query)?
    {
        sequences.push(RawSequence {
            schema: read(&row, 0)?,
            name: read(&row, 1)?,
            data_type: read(&row, 2)?,
            options: SequenceOptions {
                start: read(&row, 3)?,
                increment: read(&row, 4)?,
                min_value: read(&row, 5)?,
                max_value: read(&row, 6)?,
                cache: read(&row, 7)?,
                cycle: read(&row, 8)?,
            },
        });
    }

    trace.mark("sequences");
    Ok(sequences)
}

type Unmanaged = Vec<(String, String, String)>;
type Enums = Vec<(String, String, Vec<String>)>;
type ObjectReads = (Vec<RawSequence>, Vec<RawFunction>, Enums, Unmanaged);
type PerSchemaReads = (Vec<RawView>, Vec<RawGrant>, Vec<RawComment>);

/// What a second connection reads while the first reads the tables: the
/// objects that are cheap to read for every schema.
async fn object_reads(
    client: &Client,
    names: &[&str],
    version: i32,
) -> Result<ObjectReads, IntrospectError> {
    let sequences = read_sequences(client, names).await?;
    let functions = read_functions(client, names).await?;
    let trace = crate::trace::Trace::new();
    let mut enums = Vec::new();
    for row in client
        .query(ENUMS_SQL, &[&names])
        .await
        .map_err(IntrospectError::Query)?
    {
        enums.push((read(&row, 0)?, read(&row, 1)?, read(&row, 2)?));
    }
    trace.mark("enums");
    let unmanaged = read_unmanaged(client, names, version).await?;
    Ok((sequences, functions, enums, unmanaged))
}

/// What a third connection reads meanwhile: views (PostgreSQL deparses
/// each schema's own) and privileges, the costliest reads per schema.
async fn per_schema_reads(
    client: &Client,
    names: &[&str],
    version: i32,
) -> Result<PerSchemaReads, IntrospectError> {
    let trace = crate::trace::Trace::new();
    let views = read_views(client, names, version).await?;
    trace.mark("views");
    let mut grants = Vec::new();
    for row in client
        .query(PRIVILEGES_SQL, &[&names])
        .await
        .map_err(IntrospectError::Query)?
    {
        grants.push(RawGrant {
            schema: read(&row, 0)?,
            kind: read(&row, 1)?,
            object: read(&row, 2)?,
            detail: read(&row, 3)?,
            procedure: read(&row, 4)?,
            role: read(&row, 5)?,
            privilege: read(&row, 6)?,
            grantable: read(&row, 7)?,
        });
    }
    trace.mark("privileges");
    let mut comments = Vec::new();
    for row in client
        .query(COMMENTS_SQL, &[&names])
        .await
        .map_err(IntrospectError::Query)?
    {
        comments.push(RawComment {
            schema: read(&row, 0)?,
            kind: read(&row, 1)?,
            object: read(&row, 2)?,
            detail: read(&row, 3)?,
            procedure: read(&row, 4)?,
            text: read(&row, 5)?,
        });
    }
    trace.mark("comments");
    Ok((views, grants, comments))
}

/// Functions and procedures.
async fn read_functions(
    client: &Client,
    names: &[&str],
) -> Result<Vec<RawFunction>, IntrospectError> {
    let trace = crate::trace::Trace::new();
    let mut functions = Vec::new();
    for row in client
        .query(FUNCTIONS_SQL, &[&names])
        .await
        .map_err(IntrospectError::Query)?
    {
        functions.push(RawFunction {
            schema: read(&row, 0)?,
            name: read(&row, 1)?,
            arguments: read(&row, 2)?,
            inputs: read(&row, 3)?,
            kind: read(&row, 4)?,
            definition: read(&row, 5)?,
            interface: read(&row, 6)?,
            atomic_body: read(&row, 7)?,
        });
    }
    trace.mark("functions");
    Ok(functions)
}

/// Views: every view's signature, then one view per signature deparsed,
/// its definition given to every view of that signature (as tables'
/// documents are).
async fn read_views(
    client: &Client,
    names: &[&str],
    version: i32,
) -> Result<Vec<RawView>, IntrospectError> {
    let mut signed: Vec<(u32, String, String)> = Vec::new();
    let mut representative_of: HashMap<String, u32> = HashMap::new();
    let mut represented: Vec<u32> = Vec::new();
    // Represented materialized views with indexes.
    let mut indexed: Vec<u32> = Vec::new();
    for row in client
        .query(VIEW_SIGNATURES_SQL, &[&names])
        .await
        .map_err(IntrospectError::Query)?
    {
        let oid: u32 = read(&row, 0)?;
        let own: String = read(&row, 4)?;
        let own: HashMap<String, String> =
            serde_json::from_str(&own).map_err(|e| IntrospectError::Rows(e.to_string()))?;
        let options: Vec<String> = read(&row, 5)?;
        let columns: Option<String> = read(&row, 6)?;
        let materialized: bool = read(&row, 7)?;
        let indexes: Option<String> = read(&row, 8)?;
        let name: String = read(&row, 2)?;
        // Index expressions are trees too, naming the schema's objects.
        let tree = format!(
            "{}\n{}",
            read::<String>(&row, 3)?,
            indexes.as_deref().unwrap_or_default()
        );
        let tree = kschema_core::catalog::with_oids_named(&tree, &own);
        let signature = format!(
            "{}:{name}\n{materialized}\n{}\n{}\n{tree}",
            name.len(),
            options.join(","),
            columns.unwrap_or_default()
        );
        let representative = *representative_of.entry(signature).or_insert_with(|| {
            represented.push(oid);
            if indexes.is_some() {
                indexed.push(oid);
            }
            oid
        });
        signed.push((representative, read(&row, 1)?, name));
    }
    // Their indexes, read as a table's.
    let mut index_documents: HashMap<u32, String> = HashMap::new();
    if !indexed.is_empty() {
        for row in client
            .query(with_version(TABLES_SQL, version).as_str(), &[&indexed])
            .await
            .map_err(IntrospectError::Query)?
        {
            index_documents.insert(read(&row, 0)?, read(&row, 1)?);
        }
    }
    let mut described: HashMap<u32, RawView> = HashMap::new();
    for row in client
        .query(VIEWS_SQL, &[&represented])
        .await
        .map_err(IntrospectError::Query)?
    {
        let oid: u32 = read(&row, 0)?;
        described.insert(
            oid,
            RawView {
                schema: read(&row, 1)?,
                name: read(&row, 2)?,
                definition: read(&row, 3)?,
                columns: read(&row, 4)?,
                options: read(&row, 5)?,
                reads: read(&row, 6)?,
                read_from: String::new(),
                materialized: read(&row, 7)?,
                indexes: index_documents.remove(&oid),
            },
        );
    }
    let mut views = Vec::with_capacity(signed.len());
    for (representative, schema, name) in signed {
        let Some(found) = described.get(&representative) else {
            return Err(IntrospectError::Rows(format!(
                "no definition for view {schema}.{name}"
            )));
        };
        views.push(RawView {
            read_from: found.schema.clone(),
            schema,
            name,
            ..found.clone()
        });
    }
    Ok(views)
}

/// unmanaged.sql for the server: virtual generated columns exist from
/// PostgreSQL 18 on (stored ones are managed), and looking for them costs a
/// pass over pg_attribute.
fn unmanaged_sql(version: i32) -> String {
    let virtual_columns = if version >= 180000 {
        "SELECT t.nspname, 'generated_column', format('%I.%I', t.relname, a.attname)
    FROM pg_attribute a JOIN tbl t ON t.oid = a.attrelid
   WHERE a.attgenerated = 'v' AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL"
    } else {
        ""
    };
    UNMANAGED_SQL.replace("/*VIRTUAL_GENERATED_COLUMNS*/", virtual_columns)
}

/// Objects of kinds kschema does not manage: (schema, kind code, name).
async fn read_unmanaged(
    client: &Client,
    names: &[&str],
    version: i32,
) -> Result<Unmanaged, IntrospectError> {
    let trace = crate::trace::Trace::new();
    let mut found = Vec::new();
    for row in client
        .query(unmanaged_sql(version).as_str(), &[&names])
        .await
        .map_err(IntrospectError::Query)?
    {
        found.push((read(&row, 0)?, read(&row, 1)?, read(&row, 2)?));
    }
    trace.mark("unmanaged objects");
    Ok(found)
}

/// The rows of signatures.sql, combined per table.
#[derive(Default)]
struct Signatures {
    /// Columns, the table's own attributes, constraints and indexes, by
    /// table oid.
    parts: HashMap<u32, [String; 4]>,
    /// Each table's foreign keys: name and referenced table.
    references: HashMap<u32, Vec<(String, u32)>>,
}

impl Signatures {
    fn add(
        &mut self,
        part: String,
        relid: u32,
        signature: String,
        refers_to: Option<u32>,
    ) -> Result<(), IntrospectError> {
        let slot = match (part.as_str(), refers_to) {
            ("c", None) => 0,
            ("t", None) => 1,
            ("k", None) => 2,
            ("i", None) => 3,
            ("f", Some(referenced)) => {
                self.references
                    .entry(relid)
                    .or_default()
                    .push((signature, referenced));
                return Ok(());
            }
            _ => {
                return Err(IntrospectError::Rows(format!(
                    "unexpected signature part {part:?}"
                )))
            }
        };
        self.parts.entry(relid).or_default()[slot] = signature;
        Ok(())
    }

    /// The table's whole signature: its name, its parts, and for each
    /// foreign key the referenced table's name (and schema, when another)
    /// with that table's columns part, which holds the referenced columns'
    /// names. A table referencing one outside the tables read gets a
    /// signature of its own (its oid): described by itself, never wrongly
    /// shared.
    fn of(
        &self,
        oid: u32,
        schema: &str,
        table: &str,
        names: &HashMap<u32, (&str, &str)>,
    ) -> String {
        let empty = <[String; 4]>::default();
        let [columns, attributes, constraints, indexes] = self.parts.get(&oid).unwrap_or(&empty);
        // Names carry their length: no name can pass for a separator.
        let mut signature = format!(
            "{}:{table}\n{columns}\n{attributes}\n{constraints}\n{indexes}",
            table.len()
        );
        let mut references: Vec<&(String, u32)> = self
            .references
            .get(&oid)
            .map(|r| r.iter().collect())
            .unwrap_or_default();
        references.sort();
        for (constraint, referenced) in references {
            match names.get(referenced) {
                Some((ref_schema, ref_table)) => {
                    let ref_schema = if *ref_schema == schema {
                        ""
                    } else {
                        ref_schema
                    };
                    let ref_columns = self.parts.get(referenced).map_or("", |p| p[0].as_str());
                    let _ = write!(
                        signature,
                        "\n{}:{constraint}|{}:{ref_schema}|{}:{ref_table}|{ref_columns}",
                        constraint.len(),
                        ref_schema.len(),
                        ref_table.len()
                    );
                }
                None => {
                    let _ = write!(signature, "\n{}:{constraint}|own:{oid}", constraint.len());
                }
            }
        }
        signature
    }
}

/// The query for the server: `NULLS NOT DISTINCT` exists from PostgreSQL
/// 15 on; the serial test is filled in.
fn with_version(sql: &str, version: i32) -> String {
    let (constraint, index) = if version >= 150000 {
        ("cix.indnullsnotdistinct", "ix.indnullsnotdistinct")
    } else {
        ("false", "false")
    };
    sql.replace("/*CONSTRAINT_NULLS_NOT_DISTINCT*/", constraint)
        .replace("/*INDEX_NULLS_NOT_DISTINCT*/", index)
        .replace("/*IS_SERIAL_DEFAULT*/", &serial_default_test())
}

/// Whether a column default (`d`, its pg_attrdef row) is a serial's:
/// nextval() of a regclass constant, at the top of its stored tree or
/// under the implicit cast to integer or smallint a serial or smallserial
/// gets. A default computed from the sequence (`nextval(s) * 2`) is not.
/// Told from the tree's fixed opening, a comparison of bytes: a regular
/// expression over the trees cost 100 ms on a fleet's thousands of
/// serials. (Built-in oids: nextval 1574, regclass 2205, int4(int8) 480,
/// int2(int8) 714.)
pub(crate) fn serial_default_test() -> String {
    let call = |function: u32, result: u32, format: u32| {
        format!(
            "{{FUNCEXPR :funcid {function} :funcresulttype {result} :funcretset false :funcvariadic false \
             :funcformat {format} :funccollid 0 :inputcollid 0 :args ("
        )
    };
    let nextval = format!("{}{{CONST :consttype 2205 ", call(1574, 20, 0));
    let openings = [
        nextval.clone(),
        format!("{}{nextval}", call(480, 23, 2)),
        format!("{}{nextval}", call(714, 21, 2)),
    ];
    let patterns: Vec<String> = openings
        .iter()
        .map(|opening| quote_literal(&format!("{opening}%")))
        .collect();
    format!("d.adbin::text LIKE ANY (ARRAY[{}])", patterns.join(", "))
}
