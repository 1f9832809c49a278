//! Reading a project folder into memory: the one place kschema reads the
//! desired state's files (the core parses what it is given,
//! `kschema_core::load::parse_project`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use std::collections::BTreeMap;

use kschema_core::ident::Ident;
use kschema_core::load::{parse_project, shared_folder, DesiredState, ProjectFiles, TENANT_FOLDER};
use kschema_core::{Problem, SourceFile};

/// Reads and loads the project in `root`.
pub fn load_project(root: &Path) -> Result<DesiredState, Problem> {
    let files = read_project(root)?;
    parse_project(&files)
}

/// Reads the project's files (sorted by name, so the result never depends on
/// the order the file system lists them in).
pub fn read_project(root: &Path) -> Result<ProjectFiles, Problem> {
    let schema_dir = root.join("schema");
    if !schema_dir.is_dir() {
        return Err(Problem::new(
            "kschema::project::missing",
            format!("{} is not a kschema project: it has no schema/ folder", root.display()),
        )
        .with_help("run kschema in a project folder (with schema/public, schema/tenant and tenants.toml) or pass --project DIR"));
    }
    let public = read_folder(root, &shared_folder(&Ident::new("public")), "sql")?;
    let tenant = read_folder(root, TENANT_FOLDER, "sql")?;
    let mut shared = BTreeMap::new();
    for schema in shared_folders(&schema_dir)? {
        shared.insert(
            schema.clone(),
            read_folder(root, &shared_folder(&Ident::new(&schema)), "sql")?,
        );
    }
    let seeds = read_folder(root, "schema/seeds", "toml")?;
    let mongo = read_folder(root, "schema/mongo", "toml")?;
    let mongo_json = read_folder(root, "schema/mongo", "json")?;
    let tenants_path = root.join("tenants.toml");
    let tenants = if tenants_path.exists() {
        Some(read_file(root, &tenants_path)?)
    } else {
        None
    };
    let config_path = root.join("kschema.toml");
    let config = if config_path.exists() {
        Some(read_file(root, &config_path)?)
    } else {
        None
    };
    Ok(ProjectFiles {
        root: root.to_path_buf(),
        public,
        shared,
        tenant,
        tenants,
        config,
        seeds,
        mongo,
        mongo_json,
    })
}

/// The folders of `schema/` that hold another shared schema's `.sql`
/// files: every folder but public, tenant, seeds and mongo. Its name is
/// the schema's, so it must be one kschema can write unquoted.
pub fn shared_folders(schema_dir: &Path) -> Result<Vec<String>, Problem> {
    let entries = std::fs::read_dir(schema_dir).map_err(|e| io_problem(schema_dir, &e))?;
    let mut names = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| io_problem(schema_dir, &e))?.path();
        let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        if !path.is_dir() || matches!(name.as_str(), "public" | "tenant" | "seeds" | "mongo") {
            continue;
        }
        let holds_sql = std::fs::read_dir(&path)
            .map_err(|e| io_problem(&path, &e))?
            .flatten()
            .any(|f| f.path().extension().is_some_and(|e| e == "sql"));
        if !holds_sql {
            continue;
        }
        let plain = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && name.len() <= 63;
        if !plain || name.starts_with("pg_") || name == "information_schema" {
            return Err(Problem::new(
                "kschema::project::shared_schema",
                format!("schema/{name}/ holds SQL files, but {name:?} cannot be a shared schema's name"),
            )
            .with_help("a folder of schema/ other than public, tenant, seeds and mongo is a shared schema of that name: use a lowercase name of letters, digits and _ (not pg_…), or move the files"));
        }
        names.push(name);
    }
    names.sort();
    Ok(names)
}

fn read_folder(
    root: &Path,
    folder: &str,
    extension: &str,
) -> Result<Vec<Arc<SourceFile>>, Problem> {
    let dir = root.join(folder);
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let entries = std::fs::read_dir(&dir).map_err(|e| io_problem(&dir, &e))?;
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| io_problem(&dir, &e))?.path();
        if path.extension().is_some_and(|ext| ext == extension) && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    paths.iter().map(|path| read_file(root, path)).collect()
}

fn read_file(root: &Path, path: &Path) -> Result<Arc<SourceFile>, Problem> {
    let text = std::fs::read_to_string(path).map_err(|e| io_problem(path, &e))?;
    let shown = path
        .strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string();
    Ok(SourceFile::new(shown, text))
}

fn io_problem(path: &Path, error: &std::io::Error) -> Problem {
    Problem::new(
        "kschema::project::io",
        format!("cannot read {}: {error}", path.display()),
    )
    .with_help("check that the file exists and is readable")
}
