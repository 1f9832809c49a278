//! Type changes PostgreSQL cannot make: a column whose type changes to one
//! with no cast from the old (bigint → timestamp) would fail at apply, in
//! every tenant. The server is asked at plan time — `CAST(NULL::old AS
//! new)` fails exactly when `ALTER COLUMN … TYPE new USING col::new` would —
//! and the plan is refused at the column, with the way out: a
//! `-- kschema:using (…)` annotation that says how to convert.

use std::collections::BTreeSet;

use kschema_core::diff::{Change, ColumnChange};
use kschema_core::load::{DesiredState, ObjectKey};
use kschema_core::model::SchemaName;
use kschema_core::plan::ddl::type_change_effects;
use kschema_core::plan::Plan;
use kschema_core::Problem;

use super::Database;

/// Refuses the plan if a type change has no cast and no `using`.
pub async fn check_conversions(
    db: &Database,
    plan: &Plan,
    desired: &DesiredState,
) -> Result<(), miette::Report> {
    // (a shared schema or None for the tenants, the schema the types are
    // named in, table, column, from, to), once per distinct step list.
    type Wanted = (
        Option<SchemaName>,
        SchemaName,
        String,
        String,
        String,
        String,
    );
    let mut wanted: BTreeSet<Wanted> = BTreeSet::new();
    for group in plan.groups() {
        for step in group.steps.iter() {
            if let Change::AlterColumn {
                table,
                from,
                to,
                kind: ColumnChange::Type,
                using: None,
            } = &step.change
            {
                let Some(first) = group.targets.first() else {
                    continue;
                };
                if type_change_effects(&from.data_type, &to.data_type).needs_using {
                    wanted.insert((
                        first
                            .target
                            .is_shared()
                            .then(|| first.target.schema.clone()),
                        first.target.schema.clone(),
                        table.as_str().to_string(),
                        to.name.as_str().to_string(),
                        from.data_type.to_string(),
                        to.data_type.to_string(),
                    ));
                }
            }
        }
    }
    if wanted.is_empty() {
        return Ok(());
    }
    let client = db.connect().await?;
    let mut problems = Vec::new();
    for (shared, schema, table, column, from, to) in wanted {
        // Type names as format_type() spells them are valid SQL; a type of
        // the schema's own is named bare, as on its search path.
        let probe = format!(
            "SET search_path = {}, public; SELECT CAST(NULL::{from} AS {to})",
            schema.ident().quoted()
        );
        let Err(error) = client.simple_query(&probe).await else {
            continue;
        };
        // A type this plan creates is not there yet: apply will tell.
        if error.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_OBJECT) {
            continue;
        }
        let Some(db_error) = error.as_db_error() else {
            return Err(Problem::new(
                "kschema::plan::conversion",
                format!("could not ask the server whether {from} converts to {to}: {error}"),
            )
            .into());
        };
        let scope = shared
            .as_ref()
            .and_then(|schema| desired.shared_scope(schema))
            .unwrap_or(&desired.tenant);
        let key = ObjectKey::Column(
            kschema_core::ident::Ident::new(&table),
            kschema_core::ident::Ident::new(&column),
        );
        let mut problem = Problem::new(
            "kschema::plan::no_conversion",
            format!(
                "{table}.{column} cannot change from {from} to {to}: {}",
                db_error.message()
            ),
        )
        .with_help(format!(
            "say how to convert the values with an annotation at the end of the column's line, e.g. `-- kschema:using ({column}::text::{to})`, or `-- kschema:using (to_timestamp({column} / 1000))` for epoch milliseconds"
        ));
        if let Some(origin) = scope.origins.get(&key) {
            problem = problem.at(&origin.file, origin.span, "changes type here");
        }
        problems.push(problem);
    }
    match Problem::combine(problems) {
        Some(problem) => Err(problem.into()),
        None => Ok(()),
    }
}
