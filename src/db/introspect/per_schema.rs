//! What a third connection reads meanwhile: views, privileges and
//! comments.

use std::collections::HashMap;

use kschema_core::catalog::{RawComment, RawGrant, RawView};
use tokio_postgres::Client;

use super::*;

pub(crate) const VIEWS_SQL: &str = include_str!("../sql/views.sql");
pub(crate) const VIEW_SIGNATURES_SQL: &str = include_str!("../sql/view_signatures.sql");
pub(crate) const PRIVILEGES_SQL: &str = include_str!("../sql/privileges.sql");
pub(crate) const COMMENTS_SQL: &str = include_str!("../sql/comments.sql");
pub(super) type PerSchemaReads = (Vec<RawView>, Vec<RawGrant>, Vec<RawComment>);

/// What a third connection reads meanwhile: views (PostgreSQL deparses
/// each schema's own) and privileges, the costliest reads per schema.
pub(super) async fn per_schema_reads(
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

/// Views: every view's signature, then one view per signature deparsed,
/// its definition given to every view of that signature (as tables'
/// documents are).
pub(super) async fn read_views(
    client: &Client,
    names: &[&str],
    version: i32,
) -> Result<Vec<RawView>, IntrospectError> {
    let mut signed: Vec<(u32, String, String)> = Vec::new();
    // Signatures hold whole query trees: grouped by view name and length,
    // then compared (hashing each tree cost more than the comparisons).
    let mut representative_of: HashMap<(String, usize), Vec<(String, u32)>> = HashMap::new();
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
        let same = representative_of
            .entry((name.clone(), signature.len()))
            .or_default();
        let representative = match same.iter().find(|(seen, _)| *seen == signature) {
            Some((_, representative)) => *representative,
            None => {
                represented.push(oid);
                if indexes.is_some() {
                    indexed.push(oid);
                }
                same.push((signature, oid));
                oid
            }
        };
        signed.push((representative, read(&row, 1)?, name));
    }
    tracing::debug!(
        "views: {} of {} deparsed (one per signature)",
        represented.len(),
        signed.len()
    );
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
                reads_outside: read(&row, 8)?,
                calls: read(&row, 9)?,
                calls_outside: read(&row, 10)?,
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
