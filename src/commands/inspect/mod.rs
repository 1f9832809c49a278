//! `kschema inspect`: desired-state files from a live database — the way
//! into kschema for a database that already exists.
//!
//! `public` becomes `schema/public/<table>.sql`, one tenant schema (the
//! majority shape, or `--tenant-template`) becomes `schema/tenant/`, the
//! schemas matching `--tenant-pattern` become `tenants.toml`, and with
//! `--mongodb-uri` the collections become `schema/mongo/`. Files are written
//! in the normalized style kschema renders, then loaded back and planned
//! against the same database: the round trip is checked, not assumed.
//!
//! The command is here; which schemas are tenants and how their shapes
//! compare is `tenants`'s, the files it writes `files`'s (their text is the
//! core's `render::ddl`), MongoDB's `mongo`'s.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use kschema_core::ident::Ident;
use kschema_core::load::row_reads;
use kschema_core::model::{SchemaModel, SchemaName, SchemaRef};
use kschema_core::mongo::plan_mongo;
use kschema_core::plan::{unmanaged_groups, Target};
use kschema_core::render::ddl::privileges_file;
use kschema_core::render::not_compared::{self, LeftOut};
use kschema_core::{Problem, SourceFile};
use miette::Report;

use super::{argument_problem, open_database, print, write_file};
use crate::cli::{GlobalArgs, InspectArgs};
use crate::db::introspect::{introspect, introspect_with_rows, list_schemas};
use crate::project::load_project;
use crate::ExitStatus;
use files::Files;
use mongo::inspect_mongo;
use tenants::{changes, describe_tenants, shape_groups, tenants_toml, Found, TenantPattern};

mod files;
mod mongo;
mod tenants;

pub async fn run(global: &GlobalArgs, args: &InspectArgs) -> Result<ExitStatus, Report> {
    let root = args.out.clone().unwrap_or_else(|| global.project.clone());
    let pattern = TenantPattern::parse(&args.tenant_pattern)?;
    if args.schema != "public" {
        return Err(argument_problem(
            "kschema::inspect::schema",
            format!("kschema keeps the shared tables in public, not {}", args.schema),
            &format!("--schema {}", args.schema),
            "only public",
            "rename the schema to public first, or inspect it as the tenant template with --tenant-template".into(),
        )
        .into());
    }

    let db = open_database(global).await?;
    let client = db.connect().await?;
    let found = Found::classify(&list_schemas(&client).await?, &pattern);
    if let Some(template) = &args.tenant_template {
        if !found.all.iter().any(|s| s == template) {
            return Err(argument_problem(
                "kschema::inspect::template",
                format!("schema {template} does not exist"),
                &format!("--tenant-template {template}"),
                "no such schema",
                format!("the database has: {}", found.all.join(", ")),
            )
            .into());
        }
    }
    for name in &args.shared {
        if !found.other.contains(name) {
            return Err(argument_problem(
                "kschema::inspect::shared",
                format!("{name} is not a schema inspect can write as a shared schema"),
                &format!("--shared {name}"),
                "not another schema of the database",
                format!(
                    "the schemas that are neither public nor tenants: {}",
                    if found.other.is_empty() {
                        "none".to_string()
                    } else {
                        found.other.join(", ")
                    }
                ),
            )
            .into());
        }
    }
    let shared: Vec<SchemaName> = args.shared.iter().map(SchemaName::new).collect();
    let mut schemas = vec![SchemaName::public()];
    schemas.extend(shared.iter().cloned());
    schemas.extend(found.tenants.iter().map(|(_, schema)| schema.clone()));
    if let Some(template) = &args.tenant_template {
        schemas.push(SchemaName::new(template.clone()));
    }
    schemas.sort();
    schemas.dedup();
    let live = introspect(&client, &schemas).await?;

    let groups = shape_groups(&live, &found.tenants);
    let template = args
        .tenant_template
        .clone()
        .map(SchemaName::new)
        .or_else(|| groups.first().map(|g| g.schemas[0].clone()));
    let model_of = |schema: &SchemaName| {
        live.get(schema)
            .map(|s| s.model.without_rows())
            .unwrap_or_default()
    };
    let public = model_of(&SchemaName::public());
    let tenant = template.as_ref().map(model_of).unwrap_or_default();

    // Files that reference a schema they do not describe would not load.
    let mut needed: Vec<String> = [&public, &tenant]
        .into_iter()
        .chain(
            shared
                .iter()
                .filter_map(|s| live.get(s).map(|l| l.model.as_ref())),
        )
        .flat_map(|model| referenced_schemas(model, &found.other))
        .filter(|schema| !args.shared.contains(schema))
        .collect();
    needed.sort();
    needed.dedup();
    if !needed.is_empty() {
        return Err(Problem::new(
            "kschema::inspect::shared_needed",
            format!(
                "the schemas inspect would write reference schema{} {}, which it would not write",
                if needed.len() == 1 { "" } else { "s" },
                needed.join(", ")
            ),
        )
        .with_help(format!(
            "write {} as shared too: kschema inspect --shared {}",
            if needed.len() == 1 { "it" } else { "them" },
            args.shared
                .iter()
                .cloned()
                .chain(needed.iter().cloned())
                .collect::<Vec<_>>()
                .join(",")
        ))
        .into());
    }

    let (roles, roles_to_declare) = inspected_roles(&root, args)?;
    let public_grants = privileges_file(&public, &roles, &SchemaName::public());
    // A tenant's privileges as a dump of the template writes them: its
    // name, after its CREATE SCHEMA, stands for each tenant's schema.
    let tenant_grants = match (&template, privileges_file(&tenant, &roles, template.as_ref().unwrap_or(&SchemaName::public()))) {
        (Some(template), grants) if !grants.is_empty() => format!(
            "-- As a dump of {template} writes them: its name stands for each tenant's schema.\nCREATE SCHEMA {};\n{grants}",
            template.ident().quoted()
        ),
        _ => String::new(),
    };
    let mut files = Files::default();
    files.scope(
        "schema/public",
        &public,
        vec![("privileges", public_grants)],
    );
    for schema in &shared {
        let model = model_of(schema);
        let grants = privileges_file(&model, &roles, schema);
        files.scope(
            &format!("schema/{schema}"),
            &model,
            vec![("privileges", grants)],
        );
    }
    files.scope(
        "schema/tenant",
        &tenant,
        vec![("privileges", tenant_grants)],
    );
    files.add("tenants.toml", tenants_toml(&found.tenants));
    let mongo = match crate::run::mongo::uri(global) {
        Some(uri) => Some(inspect_mongo(&uri, args, &root, &mut files).await?),
        None => None,
    };

    if !roles_to_declare.is_empty() {
        let listed: Vec<String> = roles_to_declare
            .iter()
            .map(|r| super::tenant::toml_string(r.as_str()))
            .collect();
        let section = format!("\n[roles]\nmanaged = [{}]\n", listed.join(", "));
        match files
            .list
            .iter_mut()
            .find(|(path, _)| path == Path::new("kschema.toml"))
        {
            Some((_, text)) => text.push_str(&section),
            None => files.add(
                "kschema.toml",
                format!("# kschema settings for this project. Flags override them.\n{section}"),
            ),
        }
    }
    let stale = files.stale(&root, mongo.is_some(), &args.shared);
    let existing: Vec<PathBuf> = files
        .list
        .iter()
        .map(|(path, _)| path.clone())
        .filter(|path| root.join(path).exists())
        .chain(stale.iter().cloned())
        .collect();
    if !existing.is_empty() && !args.force {
        let shown: Vec<String> = existing
            .iter()
            .take(8)
            .map(|p| format!("  {}", p.display()))
            .collect();
        let more = existing.len().saturating_sub(8);
        return Err(Problem::new(
            "kschema::inspect::exists",
            format!(
                "{} already holds desired state: {} file(s) would be replaced or removed",
                root.display(),
                existing.len()
            ),
        )
        .with_help(format!(
            "{}{}\npass --force to replace them, or --out DIR to write a new project",
            shown.join("\n"),
            if more > 0 {
                format!("\n  … and {more} more")
            } else {
                String::new()
            }
        ))
        .into());
    }
    for (path, text) in &files.list {
        write_file(&root.join(path), text)?;
    }
    for path in &stale {
        std::fs::remove_file(root.join(path)).map_err(|e| {
            Problem::new(
                "kschema::io::write",
                format!("cannot remove {}: {e}", path.display()),
            )
        })?;
    }

    let mut out = format!("Database: {db}\n\n");
    let public_tables = public.tables.len();
    let tenant_tables = tenant.tables.len();
    let _ = writeln!(
        out,
        "Wrote {} files to {}:\n  schema/public: {public_tables} table{}\n  schema/tenant: {tenant_tables} table{}{}\n  tenants.toml: {} tenant{}",
        files.list.len(),
        root.display(),
        plural(public_tables),
        plural(tenant_tables),
        template.as_ref().map(|t| format!(" (from {t})")).unwrap_or_default(),
        found.tenants.len(),
        plural(found.tenants.len()),
    );
    for schema in &shared {
        let tables = live.get(schema).map_or(0, |s| s.model.tables.len());
        let _ = writeln!(out, "  schema/{schema}: {tables} table{}", plural(tables));
    }
    if let Some(mongo) = &mongo {
        let _ = writeln!(
            out,
            "  schema/mongo: {} collection{} (from database {})",
            mongo.state.collections.len(),
            plural(mongo.state.collections.len()),
            mongo.database
        );
    }
    for path in &stale {
        let _ = writeln!(out, "  removed {}", path.display());
    }
    let not_inspected: Vec<&String> = found
        .other
        .iter()
        .filter(|s| !args.shared.contains(s))
        .collect();
    if !not_inspected.is_empty() {
        let names: Vec<&str> = not_inspected.iter().map(|s| s.as_str()).collect();
        let _ = writeln!(
            out,
            "\nNot inspected (neither public nor {}; --shared NAME writes one as a shared schema): {}",
            args.tenant_pattern,
            names.join(", ")
        );
    }
    for (schema, why) in &found.skipped {
        let _ = writeln!(out, "Skipped {schema}: {why}");
    }

    // The round trip: what was written, planned against what it came from.
    let mut desired = load_project(&root)?;
    super::store_desired(global, &mut desired, super::PlannedAgainst::Live(&db)).await?;
    // Seed files the project already had are planned too: read their rows.
    let reads = row_reads(&desired);
    let with_rows = if reads.is_empty() {
        None
    } else {
        Some(introspect_with_rows(&client, &schemas, &reads).await?)
    };
    let checked = with_rows.as_ref().unwrap_or(&live);
    let mut leftovers = Vec::new();
    let mut check = |label: &str, schema: Option<&SchemaName>, scope| {
        let live_model = schema
            .and_then(|s| checked.get(s))
            .map(|s| s.model.as_ref());
        for (_, text) in changes(live_model, scope) {
            leftovers.push(format!("{label}: {text}"));
        }
    };
    check("public", Some(&SchemaName::public()), &desired.public);
    for schema in &shared {
        if let Some(scope) = desired.shared.get(schema) {
            check(schema.as_str(), Some(schema), scope);
        }
    }
    if let Some(template) = &template {
        check(template.as_str(), Some(template), &desired.tenant);
    }
    if let Some(mongo) = &mongo {
        for step in plan_mongo(Some(&mongo.state), &desired.mongo) {
            leftovers.push(format!("{}: {}", mongo.database, step.description));
        }
    }

    if let Some(mongo) = &mongo {
        if desired.config.mongo.database.as_deref() != Some(mongo.database.as_str()) {
            let _ = writeln!(
                out,
                "\nNote: kschema.toml does not name {} as [mongo] database; set it for plan and apply to cover it.",
                mongo.database
            );
        }
    }
    out.push_str(&describe_tenants(
        &groups,
        template.as_ref(),
        &live,
        &desired.tenant,
    ));
    // Privileges of roles it was not asked to write are listed.
    let not_written = unmanaged_groups(
        &live,
        &inspected_targets(&found, &shared, template.as_ref()),
        &roles,
    );
    let left_out = not_compared::block(&not_written, LeftOut::NotWritten, "");
    if !left_out.is_empty() {
        let _ = write!(out, "\n{left_out}");
    }
    print(&out)?;
    if leftovers.is_empty() {
        print(&format!(
            "\nChecked: `kschema plan` against this database finds nothing to change in public{} or the template{}.\n",
            if shared.is_empty() {
                String::new()
            } else {
                format!(
                    ", {}",
                    shared.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                )
            },
            not_compared::summary(&not_written, LeftOut::NotWritten, "above")
        ))?;
        Ok(ExitStatus::Success)
    } else {
        Err(Problem::new(
            "kschema::inspect::round_trip",
            "the written files do not plan as empty against the database they came from",
        )
        .with_help(format!(
            "this is a bug in kschema; please report it with these differences:\n  {}",
            leftovers.join("\n  ")
        ))
        .into())
    }
}

/// Every schema inspect read, as plan targets: public, the tenants, and a
/// template that is not one of them.
fn inspected_targets(
    found: &Found,
    shared: &[SchemaName],
    template: Option<&SchemaName>,
) -> Vec<Target> {
    let mut targets = vec![Target::public()];
    targets.extend(shared.iter().cloned().map(Target::shared));
    targets.extend(found.tenants.iter().map(|(id, schema)| Target {
        schema: schema.clone(),
        tenant: Some(id.clone()),
    }));
    if let Some(template) = template {
        if !targets.iter().any(|t| &t.schema == template) {
            targets.push(Target {
                schema: template.clone(),
                tenant: None,
            });
        }
    }
    targets
}

/// The roles whose privileges inspect writes: the project's managed roles
/// (its kschema.toml), or `--roles` for a project without one — those it
/// must then declare. A role `--roles` names that an existing kschema.toml
/// does not manage is refused: the files could not grant to it.
fn inspected_roles(root: &Path, args: &InspectArgs) -> Result<(Vec<Ident>, Vec<Ident>), Report> {
    let asked: Vec<Ident> = args.roles.iter().map(|r| Ident::new(r.trim())).collect();
    let config_path = root.join("kschema.toml");
    if !config_path.exists() {
        return Ok((asked.clone(), asked));
    }
    let text = std::fs::read_to_string(&config_path).map_err(|e| {
        Problem::new(
            "kschema::inspect::config",
            format!("{} cannot be read: {e}", config_path.display()),
        )
    })?;
    let file = SourceFile::new("kschema.toml", text);
    let managed: Vec<Ident> = kschema_core::load::config::parse_config(&file)?
        .roles
        .managed
        .iter()
        .map(Ident::new)
        .collect();
    if let Some(missing) = asked.iter().find(|r| !managed.contains(r)) {
        return Err(Problem::new(
            "kschema::inspect::roles",
            format!("--roles names {missing}, which kschema.toml does not manage"),
        )
        .with_help(format!(
            "add it to kschema.toml first: [roles] managed = [\"{missing}\"]"
        ))
        .into());
    }
    Ok((managed, Vec::new()))
}

pub(super) fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The schemas among `others` a model's foreign keys and column types
/// point into.
fn referenced_schemas(model: &SchemaModel, others: &[String]) -> Vec<String> {
    let by_keys = model
        .tables
        .values()
        .flat_map(|t| t.foreign_keys())
        .filter_map(|(_, fk)| match &fk.references.schema {
            SchemaRef::Named(schema) => Some(schema.to_string()),
            SchemaRef::Own => None,
        });
    let by_types = model
        .tables
        .values()
        .flat_map(|t| &t.columns)
        .filter_map(|c| {
            let (schema, _) = c.data_type.name().split_once('.')?;
            Some(schema.trim_matches('"').to_string())
        });
    by_keys
        .chain(by_types)
        .filter(|schema| others.contains(schema))
        .collect()
}
