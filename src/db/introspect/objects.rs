//! What a second connection reads while the first reads the tables:
//! sequences, functions, enums and what kschema does not manage.

use kschema_core::catalog::{RawComposite, RawDomain, RawFunction, RawSequence};
use kschema_core::model::SequenceOptions;
use tokio_postgres::Client;

use super::*;

pub(super) const UNMANAGED_SQL: &str = include_str!("../sql/unmanaged.sql");
pub(crate) const FUNCTIONS_SQL: &str = include_str!("../sql/functions.sql");
pub(crate) const ENUMS_SQL: &str = include_str!("../sql/enums.sql");
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

/// Standalone sequences.
pub(super) async fn read_sequences(
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

pub(super) type Unmanaged = Vec<(String, String, String)>;
pub(super) type Enums = Vec<(String, String, Vec<String>)>;

/// An event trigger's row of event_triggers.sql.
pub(super) struct EventTriggerRow {
    pub name: String,
    pub event: String,
    pub tags: Vec<String>,
    pub function: String,
    pub enabled: String,
    /// Whether the role kschema runs as owns it.
    pub ours: bool,
    pub owner: String,
}

/// What a second connection reads while the first reads the tables: the
/// objects that are cheap to read for every schema, and (with public) the
/// database-wide ones. Read here rather than on the first connection
/// after the tables: each is a few milliseconds that the plan then waited.
#[derive(Default)]
pub(super) struct ObjectReads {
    pub sequences: Vec<RawSequence>,
    pub functions: Vec<RawFunction>,
    pub enums: Enums,
    pub unmanaged: Unmanaged,
    pub domains: Vec<RawDomain>,
    pub composites: Vec<RawComposite>,
    /// (name, schema, version)
    pub extensions: Vec<(String, String, String)>,
    pub event_triggers: Vec<EventTriggerRow>,
}

pub(super) async fn object_reads(
    client: &Client,
    names: &[&str],
    version: i32,
) -> Result<ObjectReads, IntrospectError> {
    let mut reads = ObjectReads {
        sequences: read_sequences(client, names).await?,
        functions: read_functions(client, names).await?,
        ..ObjectReads::default()
    };
    let trace = crate::trace::Trace::new();
    for row in query(client, ENUMS_SQL, &[&names]).await? {
        reads
            .enums
            .push((read(&row, 0)?, read(&row, 1)?, read(&row, 2)?));
    }
    trace.mark("enums");
    reads.unmanaged = read_unmanaged(client, names, version).await?;
    for row in query(client, DOMAINS_SQL, &[&names]).await? {
        reads.domains.push(RawDomain {
            schema: read(&row, 0)?,
            name: read(&row, 1)?,
            base: read(&row, 2)?,
            collation: read(&row, 3)?,
            default: read(&row, 4)?,
            not_null: read(&row, 5)?,
            checks: read(&row, 6)?,
        });
    }
    for row in query(client, COMPOSITES_SQL, &[&names]).await? {
        reads.composites.push(RawComposite {
            schema: read(&row, 0)?,
            name: read(&row, 1)?,
            attributes: read(&row, 2)?,
        });
    }
    trace.mark("domains and composite types");
    if names.contains(&"public") {
        for row in query(client, EXTENSIONS_SQL, &[]).await? {
            reads
                .extensions
                .push((read(&row, 0)?, read(&row, 1)?, read(&row, 2)?));
        }
        for row in query(client, EVENT_TRIGGERS_SQL, &[]).await? {
            reads.event_triggers.push(EventTriggerRow {
                name: read(&row, 0)?,
                event: read(&row, 1)?,
                tags: read(&row, 2)?,
                function: read(&row, 3)?,
                enabled: read(&row, 4)?,
                ours: read(&row, 5)?,
                owner: read(&row, 6)?,
            });
        }
        trace.mark("extensions and event triggers");
    }
    Ok(reads)
}

/// The rows of `sql` with `params`.
async fn query(
    client: &Client,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<tokio_postgres::Row>, IntrospectError> {
    client
        .query(sql, params)
        .await
        .map_err(IntrospectError::Query)
}

/// Functions and procedures.
pub(super) async fn read_functions(
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
            types: read(&row, 8)?,
        });
    }
    trace.mark("functions");
    Ok(functions)
}

/// unmanaged.sql for the server: virtual generated columns exist from
/// PostgreSQL 18 on (stored ones are managed), and looking for them costs a
/// pass over pg_attribute.
pub(super) fn unmanaged_sql(version: i32) -> String {
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
pub(super) async fn read_unmanaged(
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
