//! The script that builds the desired state on an empty database, so
//! PostgreSQL itself can say what it stores (`normalize::stored`): public
//! into `public`, the tenant files once into a template schema. It is the
//! plan against nothing, so its order is the plan's order, and each
//! statement knows the objects it creates — a statement the server rejects
//! is reported at the file and line that declared them.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{object_keys, plan_schema, PlanOptions};
use crate::diagnostic::Problem;
use crate::diff::Change;
use crate::load::{DesiredState, LoadedScope, ObjectKey};
use crate::model::{Dependencies, SchemaModel, SchemaName};
use crate::normalize::stored::adopt_stored;

/// The schema the tenant files are built in (in a scratch database of its
/// own, so no name can clash).
pub const TEMPLATE_SCHEMA: &str = "kschema_template";

/// Whose files a statement of the script comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScriptScope {
    /// A shared schema's (`public`, `audit`), built as itself.
    Shared(SchemaName),
    /// The tenant files', built once in [`TEMPLATE_SCHEMA`].
    Tenant,
}

impl ScriptScope {
    /// The schema the statement runs in.
    fn schema(&self) -> SchemaName {
        match self {
            ScriptScope::Shared(schema) => schema.clone(),
            ScriptScope::Tenant => SchemaName::new(TEMPLATE_SCHEMA),
        }
    }

    /// The statement that sets the search path its statements run with.
    pub fn search_path(&self) -> String {
        super::search_path(true).render(&self.schema())
    }
}

/// One statement of the script, and what it creates.
#[derive(Clone, Debug)]
pub struct ScriptStatement {
    pub sql: String,
    pub scope: ScriptScope,
    pub objects: Vec<ObjectKey>,
    /// What the reviewer should know when PostgreSQL rejects it: the
    /// dependency cycle it is on.
    pub cycle: Option<String>,
}

/// The script for the whole desired state: the shared schemas' statements
/// (public first, then the others by name), then the template's.
pub fn creation_script(desired: &DesiredState) -> Vec<ScriptStatement> {
    let public = ScriptScope::Shared(SchemaName::public());
    let mut scopes: Vec<(ScriptScope, &LoadedScope)> = desired
        .shared_scopes()
        .map(|(schema, scope)| (ScriptScope::Shared(schema), scope))
        .collect();
    scopes.push((ScriptScope::Tenant, &desired.tenant));
    let mut script = vec![search_path_for(&public)];
    if scopes.iter().any(|(_, scope)| has_overloads(scope)) {
        script.push(ScriptStatement {
            sql: format!(
                "CREATE TEMP TABLE {OVERLOADS_TABLE} (schema text, name text, placeholder text, arguments text)"
            ),
            scope: public.clone(),
            objects: Vec::new(),
            cycle: None,
        });
    }
    for (scope, loaded) in &scopes {
        script.push(search_path_for(scope));
        script.extend(scope_script(loaded, scope));
    }
    // Privileges once every object exists, in the order written; then the
    // comments.
    for (scope, loaded) in &scopes {
        script.push(search_path_for(scope));
        script.extend(as_written(&loaded.grants, ObjectKey::Grant, scope));
    }
    for (scope, loaded) in &scopes {
        script.push(search_path_for(scope));
        script.extend(as_written(&loaded.comments, ObjectKey::Comment, scope));
    }
    // Functions were created with body checks off (their bodies may read
    // tables created after them): once everything exists, each is created
    // again with the checks on, so a body PostgreSQL rejects is reported.
    for (scope, loaded) in &scopes {
        script.push(search_path_for(scope));
        script.extend(body_checks(loaded, scope));
    }
    // Event triggers last, and the comments on them after them: they fire
    // for the statements after them.
    let (event_triggers, mut script): (Vec<_>, Vec<_>) =
        script.into_iter().partition(|statement| {
            statement
                .objects
                .iter()
                .any(|o| matches!(o, ObjectKey::EventTrigger(_)))
                || statement
                    .sql
                    .split_whitespace()
                    .take(4)
                    .map(str::to_ascii_uppercase)
                    .eq(["COMMENT", "ON", "EVENT", "TRIGGER"])
        });
    let (comments, triggers): (Vec<_>, Vec<_>) =
        event_triggers.into_iter().partition(|statement| {
            statement
                .objects
                .iter()
                .all(|o| matches!(o, ObjectKey::Comment(_)))
        });
    script.push(search_path_for(&public));
    script.extend(triggers);
    script.extend(comments);
    script
}

/// The scope's statements run on the search path apply gives them.
fn search_path_for(scope: &ScriptScope) -> ScriptStatement {
    ScriptStatement {
        sql: scope.search_path(),
        scope: scope.clone(),
        objects: Vec::new(),
        cycle: None,
    }
}

/// Statements kept as written (`GRANT`s, `COMMENT`s), each known by its
/// place among them.
fn as_written(
    statements: &[crate::sql::Sql],
    key: fn(usize) -> ObjectKey,
    scope: &ScriptScope,
) -> Vec<ScriptStatement> {
    let schema = scope.schema();
    statements
        .iter()
        .enumerate()
        .map(|(i, sql)| ScriptStatement {
            sql: sql.render(&schema),
            scope: scope.clone(),
            objects: vec![key(i)],
            cycle: None,
        })
        .collect()
}

fn body_checks(loaded: &LoadedScope, scope: &ScriptScope) -> Vec<ScriptStatement> {
    let schema = scope.schema();
    loaded
        .model
        .functions
        .iter()
        .map(|function| ScriptStatement {
            sql: super::routine::checked_function(function).render(&schema),
            scope: scope.clone(),
            objects: vec![ObjectKey::of_function(function)],
            cycle: None,
        })
        .collect()
}

fn scope_script(loaded: &LoadedScope, scope: &ScriptScope) -> Vec<ScriptStatement> {
    let schema = &scope.schema();
    // Seed rows are data, not what the catalog stores.
    let shape = LoadedScope {
        model: loaded.model.without_rows(),
        origins: loaded.origins.clone(),
        seeds: Vec::new(),
        grants: Vec::new(),
        default_grants: Vec::new(),
        comments: Vec::new(),
    };
    // public exists in every database; the others are created.
    let existing = SchemaModel::default();
    let live = (*scope == ScriptScope::Shared(SchemaName::public())).then_some(&existing);
    let planned = plan_schema(live, &shape, PlanOptions { online: false });
    let cycles = planned.cycles;
    let steps = planned.steps;
    let (schema_steps, object_steps): (Vec<_>, Vec<_>) = steps
        .into_iter()
        .partition(|step| matches!(step.change, Change::CreateSchema));
    let statements = |steps: Vec<super::Step>| -> Vec<ScriptStatement> {
        steps
            .iter()
            .flat_map(|step| {
                let objects = object_keys(&step.change);
                let cycle = cycles
                    .iter()
                    .find(|cycle| objects.iter().any(|o| cycle.objects.contains(o)))
                    .map(|cycle| cycle.note());
                step.render(schema)
                    .into_iter()
                    .map(move |sql| ScriptStatement {
                        sql,
                        scope: scope.clone(),
                        objects: objects.clone(),
                        cycle: cycle.clone(),
                    })
            })
            .collect()
    };
    let mut script = statements(schema_steps);
    let in_groups = overloaded(loaded);
    // Default privileges once the schema exists, before its objects: what
    // the files create gets its grants from them, as it does on a target
    // that has them.
    script.extend(as_written(
        &loaded.default_grants,
        ObjectKey::DefaultGrant,
        scope,
    ));
    for step in object_steps {
        let created = match &step.change {
            Change::CreateFunction { function }
                if in_groups.contains(&ObjectKey::of_function(function)) =>
            {
                Some(function.clone())
            }
            _ => None,
        };
        script.extend(statements(vec![step]));
        if let Some(function) = created {
            script.push(ScriptStatement {
                sql: track_overload(&function),
                scope: scope.clone(),
                objects: vec![ObjectKey::of_function(&function)],
                cycle: None,
            });
        }
    }
    script
}

/// Where the script records which argument types PostgreSQL gave each
/// overload (a temporary table of the building session).
pub const OVERLOADS_TABLE: &str = "pg_temp.kschema_overloads";

/// The scope's functions that share their name and number of arguments
/// with another: their argument types are PostgreSQL's to read.
fn overloaded(scope: &LoadedScope) -> Vec<ObjectKey> {
    let functions = &scope.model.functions;
    functions
        .iter()
        .filter(|f| {
            functions
                .iter()
                .filter(|g| g.name == f.name && g.inputs == f.inputs)
                .count()
                > 1
        })
        .map(ObjectKey::of_function)
        .collect()
}

fn has_overloads(scope: &LoadedScope) -> bool {
    !overloaded(scope).is_empty()
}

/// Records the overload the statement before created: the one of its
/// name and number of arguments in the schema not recorded yet.
fn track_overload(function: &crate::model::Function) -> String {
    let name = crate::ident::quote_literal(function.name.as_str());
    format!(
        "INSERT INTO {OVERLOADS_TABLE} \
         SELECT current_schema(), p.proname, {placeholder}, oidvectortypes(p.proargtypes) FROM pg_proc p \
         WHERE p.pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) \
         AND p.proname = {name} AND p.pronargs = {inputs} \
         AND NOT EXISTS (SELECT 1 FROM {OVERLOADS_TABLE} k WHERE k.schema = current_schema() \
         AND k.name = p.proname AND k.arguments = oidvectortypes(p.proargtypes))",
        placeholder = crate::ident::quote_literal(&function.arguments),
        inputs = function.inputs,
    )
}

/// What the stored form depends on: the script, the server's version, and
/// how kschema reads a catalog (`reader`: the shell's catalog queries and
/// its stored-form version), so a kschema that reads more never trusts a
/// form an older one cached.
pub fn cache_key(script: &[ScriptStatement], server_version: i32, reader: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
    hasher.update(server_version.to_le_bytes());
    hasher.update((reader.len() as u64).to_le_bytes());
    hasher.update(reader.as_bytes());
    for statement in script {
        let scope = match &statement.scope {
            ScriptScope::Shared(schema) => schema.as_str(),
            ScriptScope::Tenant => "",
        };
        hasher.update((scope.len() as u64).to_le_bytes());
        hasher.update(scope.as_bytes());
        hasher.update((statement.sql.len() as u64).to_le_bytes());
        hasher.update(statement.sql.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The desired state as PostgreSQL stored it: what the shell reads back
/// from the scratch database the [`creation_script`] built (and caches).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredForm {
    pub public: SchemaModel,
    /// The other shared schemas, by name.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub shared: std::collections::BTreeMap<SchemaName, SchemaModel>,
    pub tenant: SchemaModel,
    /// Overloads with as many arguments as another of their name: (schema,
    /// name, placeholder, the argument types PostgreSQL gave them).
    #[serde(default)]
    pub overloads: Vec<(String, String, String, String)>,
    /// What each schema's objects need of it (`public`, the other shared
    /// schemas and the template, by the name they were built under): the
    /// models above do not serialize it.
    #[serde(default)]
    pub dependencies: std::collections::BTreeMap<String, Dependencies>,
}

/// Replaces the desired models' comparable parts with what PostgreSQL
/// stored for them (see `normalize::stored`); refuses what the server
/// accepted but kschema does not (another role's default privileges, a
/// grant to a role not managed, an overload declared twice).
pub fn adopt_stored_form(desired: &mut DesiredState, stored: &StoredForm) -> Result<(), Problem> {
    adopt(&mut desired.public, &stored.public, stored, "public")?;
    for (schema, scope) in desired.shared.iter_mut() {
        let empty = SchemaModel::default();
        let model = stored.shared.get(schema).unwrap_or(&empty);
        adopt(scope, model, stored, schema.as_str())?;
    }
    adopt(&mut desired.tenant, &stored.tenant, stored, TEMPLATE_SCHEMA)
}

/// `scope` in PostgreSQL's words (`schema`: where it was built).
fn adopt(
    scope: &mut LoadedScope,
    stored: &SchemaModel,
    form: &StoredForm,
    schema: &str,
) -> Result<(), Problem> {
    name_overloads(scope, &form.overloads, schema)?;
    // Default privileges for what another role creates are that role's.
    if let Some(grant) = stored
        .privileges
        .grants
        .iter()
        .find(|g| g.object.is_others_defaults())
    {
        let mut problem = Problem::new(
            "kschema::sql::default_privileges_owner",
            format!(
                "the files set {} — for what another role than the one kschema runs as creates",
                grant.object
            ),
        )
        .with_help("kschema manages the default privileges of what it creates itself: leave FOR ROLE out (another role's are listed, never changed)");
        if let Some(origin) = scope.origins.get(&ObjectKey::DefaultGrant(0)) {
            problem = problem.at(
                &origin.file,
                origin.span,
                "the files' default privileges start here",
            );
        }
        return Err(problem);
    }
    // The files speak for the managed roles only.
    let managed = &scope.model.privileges.managed_roles;
    if let Some(grant) = stored
        .privileges
        .grants
        .iter()
        .find(|g| !managed.contains(&g.role))
    {
        let mut problem = Problem::new(
            "kschema::sql::unmanaged_role",
            format!(
                "the files grant {} on {} to {}, a role kschema.toml does not list as managed",
                grant.privilege,
                grant.object,
                grant.role
            ),
        )
        .with_help(format!(
            "add it to kschema.toml: [roles] managed = [\"{}\"] — or leave its privileges out of the files (pg_dump --no-privileges)",
            grant.role
        ));
        let first = match grant.object {
            crate::model::GrantObject::Defaults { .. } => ObjectKey::DefaultGrant(0),
            _ => ObjectKey::Grant(0),
        };
        if let Some(origin) = scope
            .origins
            .get(&first)
            .or_else(|| scope.origins.get(&ObjectKey::DefaultGrant(0)))
        {
            problem = problem.at(
                &origin.file,
                origin.span,
                "the files' privileges start here",
            );
        }
        return Err(problem);
    }
    scope.model = adopt_stored(&scope.model, stored).map_err(|reason| {
        Problem::new(
            "kschema::desired::stored",
            format!("the desired state PostgreSQL stored does not match kschema's model: {reason}"),
        )
        .with_help("this is a bug in kschema; please report it with the files involved")
    })?;
    scope.model.dependencies = form
        .dependencies
        .get(schema)
        .map(|found| std::sync::Arc::new(found.clone()));
    Ok(())
}

/// Each overload sharing its name and number of arguments with another
/// takes the argument types PostgreSQL gave it; one that got none was
/// replaced by a later declaration of the same types.
fn name_overloads(
    scope: &mut LoadedScope,
    overloads: &[(String, String, String, String)],
    schema: &str,
) -> Result<(), Problem> {
    let functions = scope.model.functions.clone();
    for function in &mut scope.model.functions {
        let shared = functions
            .iter()
            .filter(|f| f.name == function.name && f.inputs == function.inputs)
            .count();
        if shared < 2 {
            continue;
        }
        let found = overloads.iter().find(|(s, name, placeholder, _)| {
            s == schema && name == function.name.as_str() && *placeholder == function.arguments
        });
        let Some((_, _, _, arguments)) = found else {
            let key = ObjectKey::of_function(function);
            let mut problem = Problem::new(
                "kschema::sql::duplicate_function",
                format!(
                    "{} {} is declared twice with the same argument types",
                    function.kind(),
                    function.name
                ),
            )
            .with_help("keep one declaration: the later one replaced the earlier");
            if let Some(origin) = scope.origins.get(&key) {
                problem = problem.at(&origin.file, origin.span, "declared again here");
            }
            return Err(problem);
        };
        // Its place among the overloads gives way to its types: each
        // keeps its own annotations (`plan::object_keys`).
        let place = ObjectKey::of_function(function);
        function.arguments = crate::normalize::qualifier::strip_qualifier(arguments, schema);
        if let Some(origin) = scope.origins.remove(&place) {
            scope.origins.insert(
                ObjectKey::Signature(function.name.clone(), function.arguments.clone()),
                origin,
            );
        }
    }
    Ok(())
}
