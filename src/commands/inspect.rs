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
//! Longer than ~600 lines for now: the command, its schema classification and
//! the file writer live together; the writer moves to `render/` with issue 11.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use kschema_core::catalog::{Fingerprint, LiveState};
use kschema_core::ident::Ident;
use kschema_core::load::row_reads;
use kschema_core::load::TenantId;
use kschema_core::model::{SchemaModel, SchemaName};
use kschema_core::mongo::{collection_files, plan_mongo, MongoState};
use kschema_core::plan::{plan_schema, unmanaged_groups, PlanOptions, Target};
use kschema_core::render::ddl::{
    comments_file, domains_file, event_triggers_file, extensions_file, functions_file,
    privileges_file, sequences_file, table_file, types_file, views_file,
};
use kschema_core::render::describe;
use kschema_core::render::not_compared::{self, LeftOut};
use kschema_core::{Problem, SourceFile};
use miette::Report;

use super::{argument_problem, open_database, print, write_file};
use crate::cli::{GlobalArgs, InspectArgs};
use crate::db::introspect::{introspect, introspect_with_rows, list_schemas};
use crate::db::mongo::Mongo;
use crate::project::load_project;
use crate::ExitStatus;

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
    let mut schemas = vec![SchemaName::public()];
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
    files.scope(
        "schema/tenant",
        &tenant,
        vec![("privileges", tenant_grants)],
    );
    files.add("tenants.toml", tenants_toml(&found.tenants));
    let mongo = match super::mongo::uri(global) {
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
    let stale = files.stale(&root, mongo.is_some());
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
    if !found.other.is_empty() {
        let _ = writeln!(
            out,
            "\nNot inspected (neither public nor {}): {}",
            args.tenant_pattern,
            found.other.join(", ")
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
    let not_written =
        unmanaged_groups(&live, &inspected_targets(&found, template.as_ref()), &roles);
    let left_out = not_compared::block(&not_written, LeftOut::NotWritten, "");
    if !left_out.is_empty() {
        let _ = write!(out, "\n{left_out}");
    }
    print(&out)?;
    if leftovers.is_empty() {
        print(&format!(
            "\nChecked: `kschema plan` against this database finds nothing to change in public or the template{}.\n",
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
fn inspected_targets(found: &Found, template: Option<&SchemaName>) -> Vec<Target> {
    let mut targets = vec![Target::public()];
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

/// `org_*`: a prefix and a suffix around the tenant id.
struct TenantPattern {
    prefix: String,
    suffix: String,
}

impl TenantPattern {
    fn parse(text: &str) -> Result<TenantPattern, Problem> {
        match text.split_once('*') {
            Some((prefix, suffix)) if !suffix.contains('*') => Ok(TenantPattern {
                prefix: prefix.to_string(),
                suffix: suffix.to_string(),
            }),
            _ => Err(argument_problem(
                "kschema::inspect::pattern",
                format!("tenant pattern {text:?} needs exactly one *"),
                &format!("--tenant-pattern {text}"),
                "one * stands for the tenant id",
                "for example --tenant-pattern 'org_*' or 'tenant_*_v2'".into(),
            )),
        }
    }

    /// `None` when the schema does not match; else the id, or why the part
    /// the `*` matched is not one.
    fn id_of(&self, schema: &str) -> Option<Result<TenantId, String>> {
        let rest = schema
            .strip_prefix(&self.prefix)?
            .strip_suffix(&self.suffix)?;
        Some(TenantId::parse(rest))
    }
}

/// The database's schemas, sorted into tenants and the rest.
struct Found {
    all: Vec<String>,
    tenants: Vec<(TenantId, SchemaName)>,
    skipped: Vec<(String, String)>,
    other: Vec<String>,
}

impl Found {
    fn classify(all: &[String], pattern: &TenantPattern) -> Found {
        let mut found = Found {
            all: all.to_vec(),
            tenants: Vec::new(),
            skipped: Vec::new(),
            other: Vec::new(),
        };
        for schema in all.iter().filter(|s| *s != "public") {
            match pattern.id_of(schema) {
                Some(Ok(id)) => found.tenants.push((id, SchemaName::new(schema.clone()))),
                Some(Err(why)) => found.skipped.push((schema.clone(), why)),
                None => found.other.push(schema.clone()),
            }
        }
        found
    }
}

/// Tenant schemas with the same fingerprint, largest group first.
struct ShapeGroup {
    fingerprint: Fingerprint,
    schemas: Vec<SchemaName>,
}

fn shape_groups(live: &LiveState, tenants: &[(TenantId, SchemaName)]) -> Vec<ShapeGroup> {
    let mut by_print: BTreeMap<Fingerprint, Vec<SchemaName>> = BTreeMap::new();
    for (_, schema) in tenants {
        if let Some(found) = live.get(schema) {
            by_print
                .entry(found.fingerprint)
                .or_default()
                .push(schema.clone());
        }
    }
    let mut groups: Vec<ShapeGroup> = by_print
        .into_iter()
        .map(|(fingerprint, schemas)| ShapeGroup {
            fingerprint,
            schemas,
        })
        .collect();
    groups.sort_by(|a, b| {
        b.schemas
            .len()
            .cmp(&a.schemas.len())
            .then_with(|| a.schemas[0].cmp(&b.schemas[0]))
    });
    groups
}

/// How the tenant schemas compare with the template: alike, or grouped by
/// shape with what `kschema plan` would change in each outlier group.
fn describe_tenants(
    groups: &[ShapeGroup],
    template: Option<&SchemaName>,
    live: &LiveState,
    desired: &kschema_core::load::LoadedScope,
) -> String {
    let mut out = String::new();
    let count: usize = groups.iter().map(|g| g.schemas.len()).sum();
    let Some(template) = template else {
        return out;
    };
    let template_print = live.get(template).map(|s| s.fingerprint);
    let outliers: Vec<&ShapeGroup> = groups
        .iter()
        .filter(|g| Some(g.fingerprint) != template_print)
        .collect();
    if outliers.is_empty() {
        if count > 0 {
            let _ = writeln!(
                out,
                "\nTenant schemas: {count}, all alike (shape {}).",
                groups[0].fingerprint.short()
            );
        }
        return out;
    }
    let _ = writeln!(
        out,
        "\nTenant schemas: {count} in {} shapes. Template: {template}{}.",
        groups.len(),
        template_print
            .map(|p| format!(" (shape {})", p.short()))
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "Outliers — `kschema plan` will bring them to the template's shape:"
    );
    for group in outliers {
        let names: Vec<&str> = group.schemas.iter().map(|s| s.as_str()).collect();
        let _ = writeln!(
            out,
            "\n  {} ({} schema{}, shape {}):",
            names.join(", "),
            names.len(),
            plural(names.len()),
            group.fingerprint.short()
        );
        let model = live.get(&group.schemas[0]).map(|s| s.model.as_ref());
        for (sign, text) in changes(model, desired) {
            let _ = writeln!(out, "    {sign} {text}");
        }
    }
    out
}

/// What planning `live` towards `desired` would change, one line per
/// change (a change done in two steps is still one change).
fn changes(
    live: Option<&SchemaModel>,
    desired: &kschema_core::load::LoadedScope,
) -> Vec<(char, String)> {
    let mut lines: Vec<(char, String)> = plan_schema(live, desired, PlanOptions::default())
        .steps
        .iter()
        .map(|step| describe(&step.change))
        .collect();
    lines.dedup();
    lines
}

/// How one kind's file is written.
type KindFile = fn(&SchemaModel) -> String;

/// The files to write, relative to the project root.
#[derive(Default)]
struct Files {
    list: Vec<(PathBuf, String)>,
}

impl Files {
    fn add(&mut self, path: impl Into<PathBuf>, text: String) {
        self.list.push((path.into(), text));
    }

    /// One file per table (with its indexes), plus the free sequences and
    /// the other kinds (`extra`: further files by kind, when not empty).
    fn scope(&mut self, folder: &str, model: &SchemaModel, extra: Vec<(&str, String)>) {
        let mut used = Vec::new();
        let by_table = model.indexes_by_table();
        for table in model.tables.values() {
            let name = unique_file_name(table.name.as_str(), &mut used);
            self.add(
                Path::new(folder).join(format!("{name}.sql")),
                table_file(
                    table,
                    by_table.get(&table.name).map_or(&[][..], Vec::as_slice),
                ),
            );
        }
        // The objects around the tables, a file per kind (kschema orders
        // what runs; the files only say what there is).
        let kinds: [(&str, bool, KindFile); 8] = [
            ("extensions", !model.extensions.is_empty(), extensions_file),
            (
                "types",
                !model.enums.is_empty() || !model.composites.is_empty(),
                types_file,
            ),
            ("domains", !model.domains.is_empty(), domains_file),
            ("functions", !model.functions.is_empty(), functions_file),
            ("views", !model.views.is_empty(), views_file),
            (
                "event_triggers",
                !model.event_triggers.is_empty(),
                event_triggers_file,
            ),
            ("sequences", !model.sequences.is_empty(), sequences_file),
            ("comments", !model.comments.is_empty(), comments_file),
        ];
        for (kind, present, write) in kinds {
            if present {
                let name = unique_file_name(kind, &mut used);
                self.add(Path::new(folder).join(format!("{name}.sql")), write(model));
            }
        }
        for (kind, text) in extra.into_iter().filter(|(_, text)| !text.is_empty()) {
            let name = unique_file_name(kind, &mut used);
            self.add(Path::new(folder).join(format!("{name}.sql")), text);
        }
    }

    /// Files in the folders inspect writes that it would not write: left
    /// there, they would join the desired state.
    fn stale(&self, root: &Path, with_mongo: bool) -> Vec<PathBuf> {
        let mut folders = vec![
            ("schema/public", &["sql"][..]),
            ("schema/tenant", &["sql"][..]),
        ];
        if with_mongo {
            folders.push(("schema/mongo", &["toml", "json"][..]));
        }
        let mut stale = Vec::new();
        for (folder, extensions) in folders {
            let Ok(entries) = std::fs::read_dir(root.join(folder)) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = Path::new(folder).join(entry.file_name());
                let ours = path
                    .extension()
                    .is_some_and(|e| extensions.iter().any(|x| e == *x));
                if ours && !self.list.iter().any(|(p, _)| *p == path) {
                    stale.push(path);
                }
            }
        }
        stale.sort();
        stale
    }
}

/// A file name for an object: its name when that is a plain lowercase
/// identifier, else a cleaned-up form, never one already used.
fn unique_file_name(name: &str, used: &mut Vec<String>) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let mut candidate = cleaned.clone();
    let mut n = 2;
    while used.contains(&candidate) {
        candidate = format!("{cleaned}_{n}");
        n += 1;
    }
    used.push(candidate.clone());
    candidate
}

fn tenants_toml(tenants: &[(TenantId, SchemaName)]) -> String {
    let mut out = String::from(
        "# The tenant registry, written by `kschema inspect`: one [[tenant]] per\n# tenant schema. The schema defaults to org_<id>.\n",
    );
    for (id, schema) in tenants {
        let _ = write!(out, "\n[[tenant]]\nid = \"{id}\"\n");
        if *schema != id.default_schema() {
            let _ = writeln!(
                out,
                "schema = {}",
                super::tenant::toml_string(schema.as_str())
            );
        }
    }
    out
}

struct InspectedMongo {
    database: String,
    state: MongoState,
}

/// Adds `schema/mongo/` (and `kschema.toml`, when the project has none)
/// from the deployment.
async fn inspect_mongo(
    uri: &str,
    args: &InspectArgs,
    root: &Path,
    files: &mut Files,
) -> Result<InspectedMongo, Report> {
    let mongo = Mongo::connect(uri).await?;
    let database = match &args.mongo_database {
        Some(name) => name.clone(),
        None => {
            let names = mongo.list_databases().await?;
            match names.as_slice() {
                [only] => only.clone(),
                _ => {
                    return Err(Problem::new(
                        "kschema::inspect::mongo_database",
                        format!(
                            "which MongoDB database? The deployment has {}",
                            if names.is_empty() {
                                "none but its own".to_string()
                            } else {
                                names.join(", ")
                            }
                        ),
                    )
                    .with_help("name it with --mongo-database NAME")
                    .into())
                }
            }
        }
    };
    let state = mongo.introspect(&database).await?;
    let mut used = Vec::new();
    for collection in state.collections.values() {
        let (toml, json) = collection_files(collection).map_err(|why| {
            Problem::new(
                "kschema::inspect::mongo_collection",
                format!("collection {} cannot be written: {why}", collection.name),
            )
        })?;
        let stem = unique_file_name(&collection.name, &mut used);
        let header = if stem == collection.name {
            String::new()
        } else {
            format!(
                "name = {}\n\n",
                super::tenant::toml_string(&collection.name)
            )
        };
        files.add(format!("schema/mongo/{stem}.toml"), header + &toml);
        if let Some(json) = json {
            files.add(format!("schema/mongo/{stem}.json"), json);
        }
    }
    if !root.join("kschema.toml").exists() {
        files.add(
            "kschema.toml",
            format!(
                "# kschema settings for this project. Flags override them.\n\n[mongo]\ndatabase = {}\n",
                super::tenant::toml_string(&database)
            ),
        );
    }
    Ok(InspectedMongo { database, state })
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

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
