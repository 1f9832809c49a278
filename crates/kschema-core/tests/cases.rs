//! The fixture cases, without a database: each folder of `tests/cases/`
//! holds a live state (`live.json`, a kschema snapshot), the desired files
//! (`schema/`, `tenants.toml`), the desired state as PostgreSQL stored it
//! (`stored.json`) and the plan kschema makes from them, kept beside them
//! as insta snapshots (`plan.snap`, `plan.sql.snap`). A reviewer reads a
//! case as input and output; `cargo insta review` shows what a change does
//! to every plan.
//!
//! The recorded JSON is PostgreSQL's, not hand-written: the shell's
//! acceptance test (`tests/it/cases.rs`) builds `before/*.sql` and the
//! desired files on a real server, checks both recordings are what that
//! server gives today, applies the plan, re-plans empty and compares
//! `pg_dump --schema-only` with the desired SQL run directly. See
//! `tests/cases/README.md`.

mod common;

use std::path::{Path, PathBuf};

use kschema_core::offline::{plan_against_stored, project_files, Outcome};

use common::read_files;

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/cases exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    cases
}

fn read(case: &Path, name: &str) -> String {
    std::fs::read_to_string(case.join(name)).unwrap_or_else(|e| {
        panic!(
            "{}: {name}: {e} (record it: KSCHEMA_RECORD_CASES=1 cargo test --test it cases::)",
            case.display()
        )
    })
}

#[test]
fn every_case_plans_as_recorded() {
    let cases = cases();
    assert!(cases.len() >= 10, "the cases folder lost its cases");
    for case in cases {
        let files = project_files(&read_files(&case));
        let outcome = plan_against_stored(
            &files,
            &read(&case, "stored.json"),
            &read(&case, "live.json"),
        );
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(&case);
        settings.set_prepend_module_to_snapshot(false);
        settings.set_input_file(case.join("tenants.toml"));
        settings.set_description(format!("tests/cases/{name}"));
        settings.bind(|| match outcome {
            Outcome::Plans { text, sql, .. } => {
                // A case is a change: an empty plan would prove nothing.
                assert!(
                    !text.contains("No changes"),
                    "{name}: the live state already is the desired one"
                );
                insta::assert_snapshot!("plan", text);
                insta::assert_snapshot!("plan.sql", sql);
            }
            Outcome::Refused(diagnostic) => {
                panic!("{name}: refused:\n{diagnostic}")
            }
        });
    }
}
