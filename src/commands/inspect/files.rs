//! The files inspect writes: one per table, one per other kind, and the
//! ones already there that it would not write.

use std::path::{Path, PathBuf};

use kschema_core::model::SchemaModel;
use kschema_core::render::ddl::{
    comments_file, domains_file, event_triggers_file, extensions_file, functions_file,
    sequences_file, table_file, types_file, views_file,
};

/// How one kind's file is written.
pub(super) type KindFile = fn(&SchemaModel) -> String;

/// The files to write, relative to the project root.
#[derive(Default)]
pub(super) struct Files {
    pub(super) list: Vec<(PathBuf, String)>,
}

impl Files {
    pub(super) fn add(&mut self, path: impl Into<PathBuf>, text: String) {
        self.list.push((path.into(), text));
    }

    /// One file per table (with its indexes), plus the free sequences and
    /// the other kinds (`extra`: further files by kind, when not empty).
    pub(super) fn scope(&mut self, folder: &str, model: &SchemaModel, extra: Vec<(&str, String)>) {
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
    pub(super) fn stale(&self, root: &Path, with_mongo: bool, shared: &[String]) -> Vec<PathBuf> {
        let mut folders = vec![
            ("schema/public".to_string(), &["sql"][..]),
            ("schema/tenant".to_string(), &["sql"][..]),
        ];
        folders.extend(shared.iter().map(|s| (format!("schema/{s}"), &["sql"][..])));
        if with_mongo {
            folders.push(("schema/mongo".to_string(), &["toml", "json"][..]));
        }
        let mut stale = Vec::new();
        for (folder, extensions) in folders {
            let folder = folder.as_str();
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
pub(super) fn unique_file_name(name: &str, used: &mut Vec<String>) -> String {
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
