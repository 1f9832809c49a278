//! Loading a project folder: `schema/public/*.sql`, `schema/tenant/*.sql`,
//! a folder per other shared schema (`schema/audit/*.sql`) and
//! `tenants.toml` become a [`DesiredState`].

pub mod config;
mod dump;
pub mod mongo;
pub mod seeds;
pub mod sql;
pub mod statements;
pub mod tenants;

use std::path::PathBuf;
use std::sync::Arc;

use miette::SourceSpan;

pub use self::config::{parse_config, ProjectConfig, WaveSize};
pub use self::sql::{
    load_scope, shared_folder, Annotations, LoadedScope, Neighbours, ObjectKey, Origin, Scope,
    TENANT_FOLDER,
};
pub use self::tenants::{parse_tenants, Shard, Tenant, TenantId, TenantRegistry, TenantSource};
use crate::diagnostic::{Problem, SourceFile};
use crate::ident::Ident;
use crate::model::{RowRead, SchemaName};
use std::collections::BTreeMap;

/// Everything a project declares.
#[derive(Clone, Debug)]
pub struct DesiredState {
    /// The project folder.
    pub root: PathBuf,
    pub public: LoadedScope,
    /// Shared schemas other than public, each from its folder
    /// (`schema/audit/` is schema `audit`): converged once per database,
    /// like public, before the tenants.
    pub shared: BTreeMap<SchemaName, LoadedScope>,
    /// The template every tenant schema is converged to.
    pub tenant: LoadedScope,
    pub tenants: TenantRegistry,
    /// `kschema.toml`, or the defaults.
    pub config: ProjectConfig,
    /// `schema/mongo/*.toml`.
    pub mongo: Vec<crate::mongo::Collection>,
}

impl DesiredState {
    /// The shared schemas, public first, then the others by name.
    pub fn shared_schemas(&self) -> Vec<SchemaName> {
        std::iter::once(SchemaName::public())
            .chain(self.shared.keys().cloned())
            .collect()
    }

    /// A shared schema's desired state (`None` when the project keeps no
    /// such schema).
    pub fn shared_scope(&self, schema: &SchemaName) -> Option<&LoadedScope> {
        if schema.as_str() == "public" {
            Some(&self.public)
        } else {
            self.shared.get(schema)
        }
    }

    /// Every shared scope, public first.
    pub fn shared_scopes(&self) -> impl Iterator<Item = (SchemaName, &LoadedScope)> {
        std::iter::once((SchemaName::public(), &self.public)).chain(
            self.shared
                .iter()
                .map(|(name, scope)| (name.clone(), scope)),
        )
    }

    /// The MongoDB databases a run over `tenants` covers: the configured
    /// one, or one per tenant when its name holds `{tenant}`.
    pub fn mongo_databases(&self, tenants: &[TenantId]) -> Vec<(String, Option<TenantId>)> {
        let Some(template) = &self.config.mongo.database else {
            return Vec::new();
        };
        if template.contains("{tenant}") {
            tenants
                .iter()
                .map(|t| (template.replace("{tenant}", t.as_str()), Some(t.clone())))
                .collect()
        } else {
            vec![(template.clone(), None)]
        }
    }
}

/// The files of a project, read but not parsed.
#[derive(Clone, Debug)]
pub struct ProjectFiles {
    pub root: PathBuf,
    pub public: Vec<Arc<SourceFile>>,
    /// `schema/<name>/*.sql` for every shared schema other than public,
    /// by name.
    pub shared: BTreeMap<String, Vec<Arc<SourceFile>>>,
    pub tenant: Vec<Arc<SourceFile>>,
    pub tenants: Option<Arc<SourceFile>>,
    pub config: Option<Arc<SourceFile>>,
    pub seeds: Vec<Arc<SourceFile>>,
    pub mongo: Vec<Arc<SourceFile>>,
    /// `<collection>.json` validators beside the collection files.
    pub mongo_json: Vec<Arc<SourceFile>>,
}

/// Parses read files into the desired state.
pub fn parse_project(files: &ProjectFiles) -> Result<DesiredState, Problem> {
    let mut problems = Vec::new();
    let shared_names: Vec<Ident> = std::iter::once(Ident::new("public"))
        .chain(files.shared.keys().map(Ident::new))
        .collect();
    let mut loaded_models: BTreeMap<Ident, crate::model::SchemaModel> = BTreeMap::new();
    let mut shared_ok = true;
    let mut load_shared = |name: &Ident, scope_files: &[Arc<SourceFile>]| {
        let neighbours = Neighbours {
            loaded: &loaded_models,
            shared: &shared_names,
        };
        match load_scope(Scope::Shared, name, scope_files, neighbours) {
            Ok(loaded) => {
                loaded_models.insert(name.clone(), loaded.model.clone());
                Some(loaded)
            }
            Err(problem) => {
                problems.push(problem);
                shared_ok = false;
                None
            }
        }
    };
    let public = load_shared(&Ident::new("public"), &files.public);
    let mut shared = BTreeMap::new();
    for (name, scope_files) in &files.shared {
        if let Some(loaded) = load_shared(&Ident::new(name), scope_files) {
            shared.insert(SchemaName::new(name.clone()), loaded);
        }
    }
    // Without valid shared scopes, tenant references cannot be checked.
    let tenant = if shared_ok {
        let neighbours = Neighbours {
            loaded: &loaded_models,
            shared: &shared_names,
        };
        load_scope(Scope::Tenant, &Ident::new(""), &files.tenant, neighbours)
            .map_err(|p| problems.push(p))
            .ok()
    } else {
        None
    };
    let tenants = match &files.tenants {
        Some(file) => parse_tenants(file).map_err(|p| problems.push(p)).ok(),
        None => Some(TenantRegistry::default()),
    };
    if let (Some(registry), Some(file)) = (&tenants, &files.tenants) {
        if let Some(tenant) = registry
            .tenants
            .iter()
            .find(|t| files.shared.contains_key(t.schema.as_str()))
        {
            problems.push(
                Problem::new(
                    "kschema::tenant::shared_schema",
                    format!(
                        "tenant {} lives in schema {}, which schema/{}/ declares as a shared schema",
                        tenant.id, tenant.schema, tenant.schema
                    ),
                )
                .at(file, file.span_at(1, 1, 1), "the tenant registry")
                .with_help("a schema is either every tenant's (a folder under schema/) or one tenant's: rename the folder or the tenant's schema"),
            );
        }
    }
    let config = match &files.config {
        Some(file) => parse_config(file).map_err(|p| problems.push(p)).ok(),
        None => Some(ProjectConfig::default()),
    };
    let (mut public, mut tenant) = (public, tenant);
    if let (Some(public), Some(tenant)) = (&mut public, &mut tenant) {
        let mut declared: std::collections::BTreeMap<(bool, Ident), String> = Default::default();
        for file in &files.seeds {
            match seeds::parse_seed(file, &public.model, &tenant.model) {
                Ok((scope, seed)) => {
                    let key = (scope == seeds::SeedScope::Tenant, seed.table.clone());
                    if let Some(first) = declared.insert(key, seed.file.clone()) {
                        problems.push(
                            Problem::new(
                                "kschema::seed::duplicate_table",
                                format!("rows for table {} are declared in two files", seed.table),
                            )
                            .at(
                                file,
                                file.span_at(1, 1, 1),
                                format!("also declared in {first}"),
                            )
                            .with_help("declare each table's rows in one file"),
                        );
                        continue;
                    }
                    match scope {
                        seeds::SeedScope::Public => public.seeds.push(seed),
                        seeds::SeedScope::Tenant => tenant.seeds.push(seed),
                    }
                }
                Err(problem) => problems.push(problem),
            }
        }
    }
    let mut collections = Vec::new();
    for file in &files.mongo {
        let stem = file.name.trim_end_matches(".toml");
        let json = files
            .mongo_json
            .iter()
            .find(|j| j.name.trim_end_matches(".json") == stem);
        match mongo::parse_collection(file, json) {
            Ok(collection) => collections.push(collection),
            Err(problem) => problems.push(problem),
        }
    }
    if !collections.is_empty() && config.as_ref().is_some_and(|c| c.mongo.database.is_none()) {
        problems.push(
            Problem::new("kschema::mongo::database", "schema/mongo declares collections, but no database holds them")
                .with_help("set it in kschema.toml: [mongo] database = \"app\" (or \"app_{tenant}\" for one database per tenant)"),
        );
    }
    match (public, tenant, tenants, config, Problem::combine(problems)) {
        (Some(mut public), Some(mut tenant), Some(tenants), Some(config), None) => {
            // Whose privileges the files speak for: the same in every scope.
            let managed: Vec<Ident> = config.roles.managed.iter().map(Ident::new).collect();
            public.model.privileges.managed_roles = managed.clone();
            for scope in shared.values_mut() {
                scope.model.privileges.managed_roles = managed.clone();
            }
            tenant.model.privileges.managed_roles = managed;
            Ok(DesiredState {
                root: files.root.clone(),
                public,
                shared,
                tenant,
                tenants,
                config,
                mongo: collections,
            })
        }
        (_, _, _, _, Some(problem)) => Err(problem),
        _ => Err(Problem::new(
            "kschema::project::invalid",
            "the desired state could not be loaded",
        )),
    }
}

/// A TOML syntax or shape error, pointing where the toml crate says.
/// Parses a TOML file into `T`, reporting every unknown key at once rather
/// than the first: each one found is commented out (same length, so later
/// spans still point into the file as written) and the file parsed again.
/// A misspelt table header, or any other error, ends the search.
pub(crate) fn parse_toml<T: serde::de::DeserializeOwned>(
    file: &Arc<SourceFile>,
) -> Result<T, Problem> {
    const MOST_REPORTED: usize = 32;
    let mut text = file.text().to_string();
    let mut unknown: Vec<Problem> = Vec::new();
    loop {
        let error = match toml::from_str::<T>(&text) {
            Ok(value) if unknown.is_empty() => return Ok(value),
            Ok(_) => break,
            Err(error) => error,
        };
        let key_line = error
            .span()
            .filter(|_| error.message().starts_with("unknown field"))
            .map(|span| {
                let start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
                (span, start)
            })
            .filter(|(_, start)| !text[*start..].trim_start().starts_with('['));
        match key_line {
            Some((_, start)) if unknown.len() < MOST_REPORTED => {
                unknown.push(toml_problem(file, &error));
                // `key = 1` becomes `#ey = 1`: a comment of the same length.
                let first = text[start..].chars().next().map_or(1, char::len_utf8);
                text.replace_range(start..start + first, &"#".repeat(first));
            }
            _ if unknown.is_empty() => return Err(toml_problem(file, &error)),
            _ => break,
        }
    }
    Err(Problem::combine(unknown).unwrap_or_else(|| Problem::new("kschema::toml", "invalid TOML")))
}

pub(crate) fn toml_problem(file: &Arc<SourceFile>, error: &toml::de::Error) -> Problem {
    let span = error
        .span()
        .map(|r| SourceSpan::new(r.start.into(), r.end.saturating_sub(r.start).max(1)))
        .unwrap_or_else(|| file.span_at_end());
    Problem::new("kschema::toml", format!("{} is not valid", file.name))
        .at(file, span, error.message().trim().to_string())
        .with_help("see the README for the file's format")
}

/// What the desired state's seeds need read.
pub fn row_reads(desired: &DesiredState) -> Vec<RowRead> {
    let reads = |seeds: &[seeds::Seed], tenant_scope: bool| -> Vec<RowRead> {
        seeds
            .iter()
            .map(|seed| {
                let mut columns: Vec<Ident> = seed.key.clone();
                for row in &seed.rows {
                    for column in row.values.keys() {
                        if !columns.contains(column) {
                            columns.push(column.clone());
                        }
                    }
                }
                RowRead {
                    table: seed.table.clone(),
                    columns,
                    tenant_scope,
                }
            })
            .collect()
    };
    let mut all = reads(&desired.public.seeds, false);
    all.extend(reads(&desired.tenant.seeds, true));
    all
}
