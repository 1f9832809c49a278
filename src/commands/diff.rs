//! `kschema diff FROM TO`: what turns one state into another, where each is
//! a project folder (its desired state), a snapshot file or a database URL.
//! Exit 0 when they are the same, 2 when they differ.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use kschema_core::catalog::{share_lists, Fingerprint, LiveState, RowRead};
use kschema_core::lint::lint;
use kschema_core::load::row_reads;
use kschema_core::load::{DesiredState, LoadedScope, TenantId};
use kschema_core::model::{SchemaModel, SchemaName};
use kschema_core::plan::{plan_schema, unmanaged_groups, Plan, PlanOptions, Target, TargetPlan};
use kschema_core::render::text::{render_text, TextOptions};
use kschema_core::unmanaged::{UnmanagedList, UnmanagedObject};
use miette::Report;

use super::{argument_problem, print, read_snapshot, use_color};
use crate::cli::{DiffArgs, GlobalArgs};
use crate::db::introspect::{introspect_with_rows, list_schemas};
use crate::db::Database;
use crate::project::load_project;
use crate::ExitStatus;

/// One side of the comparison: each schema's objects, and where they came from.
struct Side {
    label: String,
    schemas: BTreeMap<SchemaName, Scope>,
    desired: Option<DesiredState>,
    /// A live side's objects kschema does not manage.
    unmanaged: BTreeMap<SchemaName, UnmanagedList>,
    /// The database a live side was read from.
    db: Option<Database>,
}

/// A schema as a desired scope (so renames and allowances of a project
/// side apply when it is the side compared to).
#[derive(Clone)]
struct Scope {
    loaded: Arc<LoadedScope>,
    tenant: Option<TenantId>,
}

pub async fn run(global: &GlobalArgs, args: &DiffArgs) -> Result<ExitStatus, Report> {
    // A database compared to a project is read with the rows the project
    // seeds, or every seed row would look missing.
    let mut to = load_side(&args.to, &[]).await?;
    let reads = to.desired.as_ref().map(row_reads).unwrap_or_default();
    let mut from = load_side(&args.from, &reads).await?;
    // A project side is compared as PostgreSQL stores it: built on the
    // other side's server when that is a database.
    let server = from.db.clone().or_else(|| to.db.clone());
    for side in [&mut from, &mut to] {
        if let Some(desired) = side.desired.as_mut() {
            let target = match &server {
                Some(db) => super::PlannedAgainst::Live(db),
                None => super::PlannedAgainst::Nothing,
            };
            super::store_desired(global, desired, target).await?;
            side.schemas = project_scopes(desired);
        }
    }
    let mut plan = Plan {
        targets: Vec::new(),
        lints: to.desired.as_ref().map(lint).unwrap_or_default(),
        unmanaged: Vec::new(),
    };
    let mut only_in_from = Vec::new();
    for (schema, scope) in &to.schemas {
        let live = from.schemas.get(schema).map(|s| s.loaded.model.clone());
        let compared = match to.desired {
            Some(_) => scope.loaded.clone(),
            None => with_every_role(&scope.loaded, live.as_ref()),
        };
        let shape = plan_schema(live.as_ref(), &compared, PlanOptions::default());
        plan.targets.push(TargetPlan {
            target: Target {
                schema: schema.clone(),
                tenant: scope.tenant.clone(),
            },
            live_fingerprint: live
                .as_ref()
                .map(Fingerprint::of)
                .unwrap_or_else(Fingerprint::absent),
            steps: Arc::new(shape.steps),
            notes: Arc::new(shape.notes),
        });
    }
    for schema in from.schemas.keys() {
        if !to.schemas.contains_key(schema) {
            only_in_from.push(schema.to_string());
        }
    }
    // The shared schemas first, as everywhere else.
    plan.targets.sort_by_key(|t| !t.target.is_shared());
    // Neither side's unmanaged objects were compared: both are listed.
    let mut merged: BTreeMap<SchemaName, Vec<UnmanagedObject>> = BTreeMap::new();
    for side in [&from, &to] {
        for (schema, list) in &side.unmanaged {
            merged
                .entry(schema.clone())
                .or_default()
                .extend(list.iter().cloned());
        }
    }
    let not_compared = LiveState {
        unmanaged: share_lists(merged),
        ..LiveState::default()
    };
    let compared: Vec<Target> = plan.targets.iter().map(|t| t.target.clone()).collect();
    // The sides' own lists (privileges are compared: every role's, or the
    // managed roles' of a project side).
    plan.unmanaged = unmanaged_groups(&not_compared, &compared, &[]);
    let mut out = format!("From: {}\nTo:   {}\n\n", from.label, to.label);
    out.push_str(&render_text(
        &plan,
        &TextOptions {
            color: use_color(global.color),
            ..Default::default()
        },
    ));
    if !only_in_from.is_empty() {
        out.push_str(&format!(
            "\nOnly in {}: {} (kschema never drops a schema)\n",
            from.label,
            only_in_from.join(", ")
        ));
    }
    print(&out)?;
    Ok(if plan.is_empty() && only_in_from.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Changes
    })
}

async fn load_side(arg: &str, reads: &[RowRead]) -> Result<Side, Report> {
    let looks_like_url = arg.starts_with("postgres://")
        || arg.starts_with("postgresql://")
        || arg.contains("host=")
        || arg.contains("dbname=");
    if looks_like_url {
        let db = Database::from_url(arg)?;
        let client = db.connect().await?;
        let names: Vec<SchemaName> = list_schemas(&client)
            .await?
            .into_iter()
            .map(SchemaName::new)
            .collect();
        let live = introspect_with_rows(&client, &names, reads).await?;
        let schemas = live
            .schemas
            .iter()
            .map(|(name, schema)| (name.clone(), live_scope(name, schema.model.as_ref())))
            .collect();
        return Ok(Side {
            label: db.to_string(),
            schemas,
            desired: None,
            unmanaged: live.unmanaged,
            db: Some(db),
        });
    }
    let path = Path::new(arg);
    if path.is_dir() {
        let desired = load_project(path)?;
        return Ok(Side {
            label: format!("project {arg}"),
            schemas: project_scopes(&desired),
            desired: Some(desired),
            unmanaged: BTreeMap::new(),
            db: None,
        });
    }
    if path.is_file() {
        let snapshot = read_snapshot(path)?;
        let live = snapshot.to_live().map_err(|reason| {
            argument_problem(
                "kschema::diff::snapshot",
                reason,
                arg,
                "this snapshot",
                "take a fresh one with `kschema snapshot`".into(),
            )
        })?;
        let schemas = live
            .schemas
            .iter()
            .map(|(name, schema)| (name.clone(), live_scope(name, schema.model.as_ref())))
            .collect();
        return Ok(Side {
            label: format!("snapshot {arg}"),
            schemas,
            desired: None,
            unmanaged: live.unmanaged,
            db: None,
        });
    }
    Err(argument_problem(
        "kschema::diff::argument",
        format!("`{arg}` is not a project folder, a snapshot file or a database URL"),
        arg,
        "not found",
        "give a folder with schema/, a file from `kschema snapshot`, or postgresql://…".into(),
    )
    .into())
}

/// A project's schemas: the shared ones, and each tenant's from the
/// template.
fn project_scopes(desired: &DesiredState) -> BTreeMap<SchemaName, Scope> {
    let tenant = Arc::new(desired.tenant.clone());
    let mut schemas = BTreeMap::new();
    for (schema, loaded) in desired.shared_scopes() {
        schemas.insert(
            schema,
            Scope {
                loaded: Arc::new(loaded.clone()),
                tenant: None,
            },
        );
    }
    for t in &desired.tenants.tenants {
        schemas.insert(
            t.schema.clone(),
            Scope {
                loaded: tenant.clone(),
                tenant: Some(t.id.clone()),
            },
        );
    }
    schemas
}

/// A live schema as the side compared to: no annotations; tenants are
/// recognized by the `org_<id>` naming.
/// A database (or snapshot) side speaks for every role: its scope, with
/// the roles either side grants to as the ones compared (a project side
/// speaks for its managed roles only).
fn with_every_role(scope: &Arc<LoadedScope>, from: Option<&SchemaModel>) -> Arc<LoadedScope> {
    let mut roles: Vec<kschema_core::ident::Ident> = scope
        .model
        .privileges
        .grants
        .iter()
        .chain(from.into_iter().flat_map(|m| &m.privileges.grants))
        .map(|g| g.role.clone())
        .collect();
    roles.sort();
    roles.dedup();
    let mut compared = scope.as_ref().clone();
    compared.model.privileges.managed_roles = roles;
    Arc::new(compared)
}

fn live_scope(name: &SchemaName, model: &SchemaModel) -> Scope {
    let tenant = name
        .as_str()
        .strip_prefix("org_")
        .and_then(|id| TenantId::parse(id).ok());
    Scope {
        loaded: Arc::new(LoadedScope {
            seeds: Vec::new(),
            model: model.clone(),
            origins: BTreeMap::new(),
            grants: Vec::new(),
            default_grants: Vec::new(),
            comments: Vec::new(),
        }),
        tenant,
    }
}
