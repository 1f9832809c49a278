//! The core's layers import only downward: a module may use modules of a
//! lower rank, never its own rank's siblings or anything above. Data flows
//! one way — names and text, the model, normalization, then files (load) and
//! catalog rows (catalog) into models, diff, plan, render — and this test
//! fails the build's suite when an import points back up.

use std::path::Path;

/// Every top-level module of the core with its rank, lowest first. A new
/// module gets a rank here (the test says so if it has none).
const RANKS: &[(&str, u32)] = &[
    // Text and names, used everywhere.
    ("escape", 0),
    ("hazard", 0),
    ("ident", 1),
    ("diagnostic", 1),
    // What a schema is.
    ("model", 2),
    // MongoDB collections: model, comparison and commands in one room of
    // their own (it imports only text and hazards).
    ("mongo", 2),
    // Live objects of kinds kschema does not manage yet: listed, never
    // compared.
    ("unmanaged", 2),
    ("seed_value", 3),
    ("sql", 3),
    ("normalize", 3),
    ("definition", 4),
    // Two ways into a model, neither knowing the other.
    ("load", 5),
    ("catalog", 5),
    ("diff", 6),
    ("lint", 6),
    ("snapshot", 6),
    // Waves over the tenants the loader read, and their gates.
    ("rollout", 6),
    ("plan", 7),
    ("render", 8),
    // The whole pipeline on in-memory inputs.
    ("offline", 9),
];

fn rank(module: &str) -> Option<u32> {
    RANKS.iter().find(|(m, _)| *m == module).map(|(_, r)| *r)
}

/// The `crate::X` modules a file names in code (comments left out),
/// `use crate::{a, b::c}` groups included.
fn imports(text: &str) -> Vec<String> {
    let code: String = text
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut found: Vec<String> = Vec::new();
    let mut add = |name: &str| {
        if !name.is_empty() && name.chars().all(is_name) && !found.iter().any(|f| f == name) {
            found.push(name.to_string());
        }
    };
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            // Top-level names of the group: depth-0 items, up to their `::`.
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        add(item.trim().split("::").next().unwrap_or(""));
                        item.clear();
                    }
                    c if depth == 0 => item.push(c),
                    _ => {}
                }
            }
            add(item.trim().split("::").next().unwrap_or(""));
        } else {
            let name: String = after.chars().take_while(|&c| is_name(c)).collect();
            add(&name);
        }
        rest = after;
    }
    found
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn core_modules_import_only_downward() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    all.sort();
    let mut wrong = Vec::new();
    for path in &all {
        let relative = path.strip_prefix(&src).unwrap();
        let module = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if module == "lib" {
            continue;
        }
        let Some(own) = rank(&module) else {
            wrong.push(format!(
                "{}: module {module} has no rank in tests/layers.rs",
                relative.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(path).unwrap();
        for imported in imports(&text) {
            if imported == module {
                continue;
            }
            match rank(&imported) {
                Some(r) if r < own => {}
                Some(r) => wrong.push(format!(
                    "{}: {module} (rank {own}) imports {imported} (rank {r}), which is not below it",
                    relative.display()
                )),
                None => wrong.push(format!(
                    "{}: imports {imported}, which has no rank",
                    relative.display()
                )),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_check_sees_an_upward_import() {
    let upward = "use crate::plan::Plan;\nuse crate::{\n    diff::{Change, Renames},\n    model,\n};\n// crate::render in a comment\n";
    assert_eq!(imports(upward), ["plan", "diff", "model"]);
}

/// A file one person can hold in mind: past ~600 lines, its opening
/// comment says why it is still one file (in the core and the shell).
#[test]
fn files_over_600_lines_say_why() {
    let core = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sources = Vec::new();
    files(&core.join("src"), &mut sources);
    files(&core.join("../../src"), &mut sources);
    assert!(sources.len() > 50, "{} files", sources.len());
    let mut silent = Vec::new();
    for path in sources {
        let text = std::fs::read_to_string(&path).unwrap();
        if text.lines().count() <= 600 {
            continue;
        }
        let opening: String = text
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .collect::<Vec<_>>()
            .join(" ");
        if !opening.contains("600 lines") {
            silent.push(path.display().to_string());
        }
    }
    assert!(
        silent.is_empty(),
        "over 600 lines without saying why at the top (split it along the data flow, or say why not):\n{}",
        silent.join("\n")
    );
}

/// The core is pure: it reads no files and opens no connections (the
/// shell's `kschema::project` reads a project; tests read their own).
#[test]
fn the_core_does_no_io() {
    let mut sources = Vec::new();
    files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut sources,
    );
    let io: Vec<String> = sources
        .iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            ["std::fs", "File::open", "std::net", "std::process"]
                .iter()
                .any(|call| text.contains(call))
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(io.is_empty(), "I/O in the pure core:\n{}", io.join("\n"));
}
