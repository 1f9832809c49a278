//! The tables: the schemas and table list, the signatures (columns on a
//! connection of their own), and one document per distinct signature.

use std::collections::HashMap;
use std::fmt::Write as _;

use futures_util::{pin_mut, TryStreamExt};
use kschema_core::catalog::LiveStateBuilder;
use kschema_core::ident::quote_literal;
use tokio_postgres::Client;

use super::*;

pub(super) const SIGNATURES_SQL: &str = include_str!("../sql/signatures.sql");
pub(super) const COLUMN_SIGNATURES_SQL: &str = include_str!("../sql/column_signatures.sql");
pub(crate) const TABLES_SQL: &str = include_str!("../sql/tables.sql");
pub(super) const SCHEMAS_SQL: &str = "SELECT nspname FROM pg_namespace WHERE nspname = ANY($1)";

/// Tables, partitioned tables and their partitions in the same schema (a
/// partition of another schema's table is listed, not managed). The
/// schemas first, hashed: joined row by row to every relation it cost a
/// third more.
pub(super) const TABLE_LIST_SQL: &str = "
WITH ns AS MATERIALIZED (SELECT oid, nspname FROM pg_namespace WHERE nspname = ANY($1))
SELECT c.oid, ns.nspname::text, c.relname::text
  FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p')
   AND (NOT c.relispartition
        OR EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
                    WHERE i.inhrelid = c.oid AND p.relnamespace = c.relnamespace))";

/// Schemas, tables and their documents: one document per distinct table
/// signature. Returns every table (schema, name, oid).
pub(super) async fn read_tables(
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

    trace.mark("tables grouped by signature");
    let wanted: Vec<u32> = representatives.values().copied().collect();
    let mut documents: HashMap<u32, String> = HashMap::with_capacity(wanted.len());
    // tables.sql joins in the order it is written: searching for another
    // took the planner twice as long (~20 ms on a fleet) as running it.
    client
        .batch_execute("SET LOCAL join_collapse_limit = 1; SET LOCAL from_collapse_limit = 1")
        .await
        .map_err(IntrospectError::Query)?;
    let rows = client
        .query_raw(with_version(TABLES_SQL, version).as_str(), [&wanted])
        .await
        .map_err(IntrospectError::Query)?;
    pin_mut!(rows);
    while let Some(row) = rows.try_next().await.map_err(IntrospectError::Query)? {
        documents.insert(read(&row, 0)?, read(&row, 1)?);
    }
    client
        .batch_execute(
            "SET LOCAL join_collapse_limit = DEFAULT; SET LOCAL from_collapse_limit = DEFAULT",
        )
        .await
        .map_err(IntrospectError::Query)?;
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
    trace.mark("table models");
    Ok(tables)
}

/// The rows of a signature query over the tables `oids`.
pub(super) async fn signature_rows(
    client: &Client,
    sql: &str,
    oids: &[u32],
) -> Result<Vec<tokio_postgres::Row>, IntrospectError> {
    client
        .query(sql, &[&oids])
        .await
        .map_err(IntrospectError::Query)
}

/// The rows of signatures.sql, combined per table.
#[derive(Default)]
pub(super) struct Signatures {
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
pub(super) fn with_version(sql: &str, version: i32) -> String {
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
