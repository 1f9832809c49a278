//! The fuzz input replaces one file of the shipped project (or the snapshot
//! it is planned against): the first byte picks which, the rest is the text.
//! Crashes found go to crates/kschema-core/tests/fuzz/regressions/ (as a
//! folder holding the replaced file), where the test suite replays them.
#![no_main]

#[path = "../../crates/kschema-core/tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use kschema_core::offline::{plan_against_snapshot, project_files};

use common::read_files;
use libfuzzer_sys::fuzz_target;

struct Base {
    files: Vec<(String, String)>,
    snapshot: String,
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let files = read_files(&repo());
        let snapshot = std::fs::read_to_string(
            repo().join("crates/kschema-core/tests/fuzz/shipped-drifted.snapshot.json"),
        )
        .unwrap_or_default();
        Base { files, snapshot }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let base = base();
    let text = String::from_utf8_lossy(rest).into_owned();
    let mut files = base.files.clone();
    let mut snapshot = base.snapshot.clone();
    let pick = usize::from(pick) % (files.len() + 1);
    if pick == files.len() {
        snapshot = text;
    } else {
        files[pick].1 = text;
    }
    let _ = plan_against_snapshot(&project_files(&files), &snapshot);
});
