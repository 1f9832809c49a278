//! `kschema snapshot --out FILE`: the live state of every target, for
//! planning later without database credentials.

use kschema_core::load::row_reads;
use kschema_core::model::SchemaName;
use kschema_core::snapshot::Snapshot;
use miette::Report;

use super::{open_database, print, write_file};
use crate::cli::{GlobalArgs, SnapshotArgs, TenantSelection};
use crate::db::introspect::introspect_database;
use crate::project::load_project;
use crate::run::targets::select_targets;
use crate::ExitStatus;

pub async fn run(global: &GlobalArgs, args: &SnapshotArgs) -> Result<ExitStatus, Report> {
    let (snapshot, requested) = take(global, &args.targets.selection()?).await?;
    let json = snapshot.to_json().map_err(|e| {
        miette::miette!(
            code = "kschema::snapshot::serialize",
            help = "this is a bug in kschema: please report it with the schema's kinds of objects",
            "the snapshot could not be written as JSON: {e}"
        )
    })?;
    write_file(&args.out, &json)?;
    let taken = snapshot.schemas.len();
    let missing = requested - taken;
    print(&format!(
        "Database: {}\n\nSnapshot of {taken} schema{} ({} distinct shape{}) written to {}{}\n",
        snapshot.database,
        if taken == 1 { "" } else { "s" },
        snapshot.shapes.len(),
        if snapshot.shapes.len() == 1 { "" } else { "s" },
        args.out.display(),
        if missing > 0 {
            format!("; {missing} target schema(s) do not exist yet")
        } else {
            String::new()
        }
    ))?;
    Ok(ExitStatus::Success)
}

/// The live state of the selected targets (and MongoDB's, when a URI is
/// given), and how many schemas were asked for.
pub async fn take(
    global: &GlobalArgs,
    selection: &TenantSelection,
) -> Result<(Snapshot, usize), Report> {
    let desired = load_project(&global.project)?;
    let targets = select_targets(&desired, selection)?;
    let schemas: Vec<SchemaName> = targets.iter().map(|t| t.schema.clone()).collect();
    let db = open_database(global).await?;
    let live = introspect_database(&db, &schemas, &row_reads(&desired)).await?;
    let mut snapshot = Snapshot::from_live(&live, &db.to_string());
    if let Some(uri) = crate::run::mongo::uri(global).filter(|_| !desired.mongo.is_empty()) {
        let mongo = crate::db::mongo::Mongo::connect(&uri).await?;
        let tenants: Vec<_> = targets.iter().filter_map(|t| t.tenant.clone()).collect();
        for (database, _) in desired.mongo_databases(&tenants) {
            snapshot
                .mongo
                .insert(database.clone(), mongo.introspect(&database).await?);
        }
    }
    Ok((snapshot, schemas.len()))
}
