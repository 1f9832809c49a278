//! A bounded, seeded fuzz run over the offline pipeline (`plan --against`):
//! the shipped project and a snapshot of a drifted fleet, mutated — SQL,
//! TOML, JSON and the snapshot — and run through load, plan and every
//! renderer. Nothing may panic, overflow the stack or hang; every output
//! must be free of control characters. Crashers found are kept under
//! `tests/fuzz/regressions/` and replayed first. `cargo fuzz run
//! plan_offline` (in `fuzz/`) runs the same pipeline for as long as you like.
//!
//! KSCHEMA_FUZZ_ITERATIONS and KSCHEMA_FUZZ_SEED change the run.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kschema_core::offline::{plan_against_snapshot, project_files, Outcome};

use common::read_files;

const ITERATIONS: u64 = 600;
const SEED: u64 = 0x6b73_6368_656d_6121;
/// One input taking this long is a hang.
const HANG: Duration = Duration::from_secs(30);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `(path, text)` of every file of the shipped project.
fn shipped_project() -> Vec<(String, String)> {
    read_files(&repo())
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz")
}

fn fixture_snapshot() -> String {
    std::fs::read_to_string(fixtures().join("shipped-drifted.snapshot.json"))
        .expect("the snapshot fixture")
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Text that has broken parsers and renderers before, or that means
/// something to SQL, TOML, JSON, Markdown or a terminal.
const INTERESTING: &[&str] = &[
    "(",
    ")",
    "'",
    "\"",
    "$$",
    "$x$",
    "--",
    "/*",
    "*/",
    ";",
    ",",
    "\n",
    "\r",
    "\t",
    "\u{1b}[2J",
    "\u{202e}",
    "\u{0}",
    "</details>",
    "<h1>",
    "```",
    "|",
    "\\",
    "::",
    "E'\\x1b'",
    "U&\"\\000A\"",
    "CREATE TABLE x (id int PRIMARY KEY);",
    "REFERENCES",
    "DEFAULT",
    "NOT NULL",
    "CHECK (",
    "PRIMARY KEY",
    "UNIQUE",
    "CREATE INDEX",
    "ON",
    "USING",
    "WHERE",
    "INCLUDE",
    "SERIAL",
    "GENERATED ALWAYS AS IDENTITY",
    "COLLATE \"C\"",
    "[]",
    "varchar(99999999999)",
    "numeric(1000,2000)",
    "-9223372036854775808",
    "99999999999999999999999",
    "1e400",
    "NaN",
    "null",
    "true",
    "{",
    "}",
    "[",
    "]",
    "=",
    "[[tenant]]",
    "id = \"x\"",
    "schema = \"public\"",
    "\"",
    "\u{feff}",
    "é",
    "𝄞",
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(chars.len() + 1);
        match rng.below(8) {
            0 | 1 => {
                let piece = INTERESTING[rng.below(INTERESTING.len())];
                chars.splice(at..at, piece.chars());
            }
            2 if !chars.is_empty() => {
                let end = (at + 1 + rng.below(40)).min(chars.len());
                chars.drain(at.min(end)..end);
            }
            3 if !chars.is_empty() => {
                let start = rng.below(chars.len());
                let end = (start + 1 + rng.below(200)).min(chars.len());
                let copy: Vec<char> = chars[start..end].to_vec();
                chars.splice(at..at, copy);
            }
            4 if !chars.is_empty() => {
                let i = rng.below(chars.len());
                chars[i] = char::from_u32(rng.below(0x80) as u32).unwrap_or('x');
            }
            5 => {
                // Deep or long: what once overflowed the stack or the renderer.
                let piece = match rng.below(4) {
                    0 => " + 1".repeat(200 + rng.below(3000)),
                    1 => "(".repeat(10 + rng.below(300)),
                    2 => " ".repeat(1000 + rng.below(70_000)),
                    _ => " AND x > 0".repeat(100 + rng.below(2000)),
                };
                chars.splice(at..at, piece.chars());
            }
            _ => {
                let end = (at + rng.below(8)).min(chars.len());
                chars.drain(at..end);
            }
        }
    }
    chars.into_iter().collect()
}

/// One input: the files and the snapshot.
#[derive(Clone)]
struct Case {
    files: Vec<(String, String)>,
    snapshot: String,
}

impl Case {
    fn write(&self, dir: &Path) {
        let _ = std::fs::create_dir_all(dir);
        for (path, text) in &self.files {
            let target = dir.join(path);
            let _ = std::fs::create_dir_all(target.parent().unwrap());
            let _ = std::fs::write(target, text);
        }
        let _ = std::fs::write(dir.join("snapshot.json"), &self.snapshot);
    }

    fn read(dir: &Path) -> Case {
        let mut files = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(folder) = stack.pop() {
            for entry in std::fs::read_dir(&folder).unwrap().filter_map(Result::ok) {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.file_name().is_some_and(|n| n != "snapshot.json") {
                    let relative = path
                        .strip_prefix(dir)
                        .unwrap()
                        .to_string_lossy()
                        .to_string();
                    let bytes = std::fs::read(&path).unwrap();
                    files.push((relative, String::from_utf8_lossy(&bytes).into_owned()));
                }
            }
        }
        files.sort();
        // Without a snapshot of its own, a case plans against the fixture's.
        let snapshot = std::fs::read_to_string(dir.join("snapshot.json"))
            .unwrap_or_else(|_| fixture_snapshot());
        Case { files, snapshot }
    }
}

/// Runs one case on a large stack (as the binary does), failing on a panic
/// or on output that carries control characters; `Ok(true)` if the input
/// was refused with a diagnostic.
fn check(case: &Case) -> Result<bool, String> {
    let case = case.clone();
    let worker = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            let files = project_files(&case.files);
            match plan_against_snapshot(&files, &case.snapshot) {
                Outcome::Plans {
                    text,
                    sql,
                    json,
                    markdown,
                } => {
                    for (format, out) in [
                        ("text", &text),
                        ("sql", &sql),
                        ("json", &json),
                        ("markdown", &markdown),
                    ] {
                        // Tabs may stay inside SQL literals; nothing else may.
                        if let Some(c) = out.chars().find(|&c| {
                            kschema_core::escape::is_unsafe_char(c) && c != '\n' && c != '\t'
                        }) {
                            return Err(format!("{format} output carries {:?}", c));
                        }
                    }
                    Ok(false)
                }
                Outcome::Refused(diagnostic) => {
                    // Miette draws its own frame; what it quotes from the
                    // input must be printable.
                    match diagnostic
                        .chars()
                        .find(|&c| kschema_core::escape::is_unsafe_char(c) && c != '\n')
                    {
                        Some(c) => Err(format!("the diagnostic carries {c:?}:\n{diagnostic}")),
                        None => Ok(true),
                    }
                }
            }
        })
        .expect("spawn");
    match worker.join() {
        Ok(result) => result,
        Err(panic) => Err(match panic.downcast_ref::<String>() {
            Some(message) => format!("panic: {message}"),
            None => match panic.downcast_ref::<&str>() {
                Some(message) => format!("panic: {message}"),
                None => "panic".to_string(),
            },
        }),
    }
}

fn regressions() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(fixtures().join("regressions"))
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}

#[test]
fn kept_crashers_stay_fixed() {
    let found = regressions();
    assert!(
        !found.is_empty(),
        "tests/fuzz/regressions holds the crashers found so far"
    );
    for dir in found {
        if let Err(why) = check(&Case::read(&dir)) {
            panic!("{}: {why}", dir.display());
        }
    }
}

#[test]
fn mutated_inputs_never_panic_hang_or_leak_control_characters() {
    let iterations = std::env::var("KSCHEMA_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ITERATIONS);
    let seed = std::env::var("KSCHEMA_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SEED);
    let base = Case {
        files: shipped_project(),
        snapshot: fixture_snapshot(),
    };
    // The unmutated inputs plan, so the mutations start from a working run.
    match plan_against_snapshot(&project_files(&base.files), &base.snapshot) {
        Outcome::Plans { text, .. } => assert!(text.contains("org_abc123"), "{text}"),
        Outcome::Refused(why) => panic!("the shipped project does not plan: {why}"),
    }

    // A watchdog: an input that runs longer than HANG is a hang.
    let started_case = Arc::new(AtomicU64::new(u64::MAX));
    let clock = Instant::now();
    {
        let started_case = started_case.clone();
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_secs(1));
            let at = started_case.load(Ordering::SeqCst);
            if at != u64::MAX && clock.elapsed().as_millis() as u64 - at > HANG.as_millis() as u64 {
                eprintln!("fuzz: an input ran longer than {HANG:?}; it is in target/fuzz-current");
                std::process::abort();
            }
        });
    }

    let mut rng = Rng(seed);
    let mut refused = 0;
    for iteration in 0..iterations {
        let mut case = base.clone();
        // Mostly one file at a time, sometimes the snapshot, sometimes two.
        for _ in 0..1 + rng.below(2) {
            let pick = rng.below(case.files.len() + 2);
            if pick >= case.files.len() {
                case.snapshot = mutate(&mut rng, &case.snapshot);
            } else {
                let text = mutate(&mut rng, &case.files[pick].1);
                case.files[pick].1 = text;
            }
        }
        let current = repo().join("target/fuzz-current");
        let _ = std::fs::remove_dir_all(&current);
        case.write(&current);
        started_case.store(clock.elapsed().as_millis() as u64, Ordering::SeqCst);
        let result = check(&case);
        started_case.store(u64::MAX, Ordering::SeqCst);
        let refused_now = result.as_ref().is_ok_and(|r| *r);
        if let Err(why) = result {
            let kept = repo().join(format!("target/fuzz-crashers/seed-{seed}-{iteration}"));
            case.write(&kept);
            panic!(
                "iteration {iteration} (seed {seed}): {why}\ninput kept in {}; \
                 move it to crates/kschema-core/tests/fuzz/regressions/ once fixed",
                kept.display()
            );
        }
        if refused_now {
            refused += 1;
        }
    }
    // The run exercised both paths: plans and diagnostics.
    assert!(
        refused > 0 && refused < iterations,
        "{refused} of {iterations} refused"
    );
}
