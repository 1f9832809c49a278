//! Reading a project folder for the tests and the fuzz target, which drive
//! the core on files held in memory (the core itself reads no files: the
//! shell's `kschema::project` does, for the command line).

use std::path::{Path, PathBuf};

/// A project folder's files as `(path, text)` pairs, for
/// `kschema_core::offline::project_files` (what the fuzzers mutate).
pub fn read_files(root: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for name in ["tenants.toml", "kschema.toml"] {
        if let Ok(text) = std::fs::read_to_string(root.join(name)) {
            files.push((name.to_string(), text));
        }
    }
    // Every folder of schema/: public, tenant, seeds, mongo, and the
    // other shared schemas (`audit/`).
    let mut folders: Vec<String> = std::fs::read_dir(root.join("schema"))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    folders.sort();
    for folder in folders {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(root.join("schema").join(&folder))
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        paths.sort();
        for path in paths {
            if let (Ok(text), Some(name)) = (std::fs::read_to_string(&path), path.file_name()) {
                files.push((format!("schema/{folder}/{}", name.to_string_lossy()), text));
            }
        }
    }
    files
}
