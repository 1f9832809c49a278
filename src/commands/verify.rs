//! `kschema verify`: proves the round trip on a scratch database. It builds
//! the previous desired state (`--from-rev`, default HEAD's parent, or an
//! empty database), applies the current one, checks convergence, rolls back
//! to the previous one, checks the catalog is what it was (by fingerprint
//! and by `pg_dump --schema-only`), and applies the current one again.
//!
//! Each phase runs the real `kschema` commands against the scratch
//! database, so what is verified is what users run (the same binary, its
//! own process: nothing of this run's settings leaks into it), and reads
//! what they did from their exit codes and apply's JSON events.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use kschema_core::hazard::HazardKind;
use kschema_core::Problem;
use miette::{Diagnostic, Report};
use thiserror::Error;
use tokio_postgres::config::Host;

use super::{open_database, print};
use crate::cli::{GlobalArgs, VerifyArgs};
use crate::db::connect::redacted;
use crate::db::local::find_bin_dir;
use crate::project::load_project;
use crate::ExitStatus;

#[derive(Debug, Error, Diagnostic)]
#[error("verify failed: {phase}")]
#[diagnostic(code(kschema::verify::failed), help("{help}"))]
struct VerifyFailed {
    phase: String,
    help: String,
}

pub async fn run(global: &GlobalArgs, args: &VerifyArgs) -> Result<ExitStatus, Report> {
    let current = std::fs::canonicalize(&global.project).unwrap_or_else(|_| global.project.clone());
    load_project(&current)?;
    let from = args
        .from_rev
        .clone()
        .unwrap_or_else(|| "HEAD~1".to_string());
    let previous = if from == "empty" {
        None
    } else {
        match crate::git::project_at(&current, &from) {
            Ok(extracted) => Some(extracted),
            // The first commit has no parent: start from an empty database.
            Err(problem) if args.from_rev.is_none() && problem.code == "kschema::git::revision" => {
                None
            }
            Err(problem) => return Err(problem.into()),
        }
    };
    let empty = tempfile::Builder::new()
        .prefix("kschema-empty-")
        .tempdir()
        .map_err(|e| Problem::new("kschema::verify::io", e.to_string()))?;
    let previous_path: PathBuf = match &previous {
        Some(extracted) => extracted.path.clone(),
        None => {
            // An empty project: no tables, the current tenants (so their
            // schemas exist before and after, empty).
            std::fs::create_dir_all(empty.path().join("schema"))
                .map_err(|e| Problem::new("kschema::verify::io", e.to_string()))?;
            if current.join("tenants.toml").exists() {
                let _ = std::fs::copy(
                    current.join("tenants.toml"),
                    empty.path().join("tenants.toml"),
                );
            }
            empty.path().to_path_buf()
        }
    };
    let from_label = match &previous {
        Some(extracted) => format!(
            "{from} ({})",
            &extracted.commit[..12.min(extracted.commit.len())]
        ),
        None => "an empty database".to_string(),
    };

    // The scratch database, on the same server.
    let server = open_database(global).await?;
    let scratch = format!("kschema_verify_{}", std::process::id());
    let admin = server.connect().await?;
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {scratch}"))
        .await
        .map_err(|e| {
            Problem::new(
                "kschema::verify::scratch",
                format!("cannot prepare a scratch database: {e}"),
            )
        })?;
    admin
        .batch_execute(&format!("CREATE DATABASE {scratch}"))
        .await
        .map_err(|e| {
            Problem::new(
                "kschema::verify::scratch",
                format!("cannot create a scratch database: {e}"),
            )
            .with_help("verify needs CREATEDB on the server (the local cluster has it)")
        })?;
    let mut config = server.config().clone();
    config.dbname(&scratch);
    let url = conninfo(&config);

    let mut report = format!(
        "Verify on a scratch database ({}): from {from_label} to the working tree\n\n",
        redacted(&config)
    );
    let outcome = phases(&current, &previous_path, &url).await;
    let _ = admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {scratch} WITH (FORCE)"))
        .await;
    let (lines, failure) = outcome;
    report.push_str(&lines);
    print(&report)?;
    match failure {
        None => {
            print("\nVerified: the change applies, converges, rolls back to the same catalog and applies again.\n")?;
            Ok(ExitStatus::Success)
        }
        Some((phase, help)) => Err(VerifyFailed { phase, help }.into()),
    }
}

/// The phases, each timed; stops at the first failure.
async fn phases(current: &Path, previous: &Path, url: &str) -> (String, Option<(String, String)>) {
    let mut out = String::new();
    let mut step = |name: &str,
                    started: Instant,
                    result: Result<String, String>|
     -> Option<(String, String)> {
        let seconds = started.elapsed().as_secs_f64();
        match result {
            Ok(detail) => {
                let _ = writeln!(
                    out,
                    "  ✓ {name} ({seconds:.2}s){}",
                    if detail.is_empty() {
                        String::new()
                    } else {
                        format!(": {detail}")
                    }
                );
                None
            }
            Err(detail) => {
                let _ = writeln!(out, "  ✗ {name} ({seconds:.2}s)\n{}", indent(&detail));
                Some((
                    name.to_string(),
                    "the output above shows the step that failed".to_string(),
                ))
            }
        }
    };
    let t = Instant::now();
    if let Some(failure) = step("build the previous desired state", t, apply(previous, url)) {
        return (out, Some(failure));
    }
    let before = match catalog(previous, url) {
        Ok(catalog) => catalog,
        Err(e) => return (out, Some(("record the previous catalog".into(), e))),
    };
    let t = Instant::now();
    if let Some(failure) = step("apply the current desired state", t, apply(current, url)) {
        return (out, Some(failure));
    }
    let t = Instant::now();
    if let Some(failure) = step("re-plan is empty (converged)", t, converged(current, url)) {
        return (out, Some(failure));
    }
    let t = Instant::now();
    if let Some(failure) = step(
        "roll back to the previous desired state",
        t,
        apply(previous, url),
    ) {
        return (out, Some(failure));
    }
    let t = Instant::now();
    let same = catalog(previous, url).and_then(|after| compare(&before, &after));
    if let Some(failure) = step(
        "catalog equals the previous one (fingerprints and pg_dump --schema-only)",
        t,
        same,
    ) {
        return (out, Some(failure));
    }
    let t = Instant::now();
    let again = apply(current, url).and_then(|_| converged(current, url));
    if let Some(failure) = step("re-apply the current desired state", t, again) {
        return (out, Some(failure));
    }
    (out, None)
}

/// Every hazard: verify runs on a scratch database.
fn all_hazards() -> String {
    HazardKind::ALL
        .iter()
        .map(|k| k.name())
        .collect::<Vec<_>>()
        .join(",")
}

fn kschema(project: &Path, url: &str, args: &[&str]) -> Result<Output, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    Command::new(exe)
        .args(args)
        .arg("--project")
        .arg(project)
        // The URL (with any password) goes through the environment, not argv.
        .env("DATABASE_URL", url)
        .env_remove("MONGODB_URI")
        .env("NO_COLOR", "1")
        .output()
        .map_err(|e| e.to_string())
}

/// Applies `project` to the scratch database, every hazard allowed. What
/// it did is read from apply's events (`--format json`), not its text.
fn apply(project: &Path, url: &str) -> Result<String, String> {
    let hazards = all_hazards();
    let output = kschema(
        project,
        url,
        &[
            "apply",
            "--yes",
            "--tenant",
            "all",
            "--allow-hazard",
            &hazards,
            "--lock-wait",
            "0",
            "--format",
            "json",
        ],
    )?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        // With events on, apply's text went to stderr.
        return Err(format!(
            "{}{stdout}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let summary = stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|event| event["event"] == "summary");
    Ok(match summary {
        Some(event) => {
            let count = |key: &str| event[key].as_u64().unwrap_or(0);
            format!(
                "{} target(s) converged, {} already up to date",
                count("converged"),
                count("up_to_date")
            )
        }
        // Nothing to change: apply stops before it runs anything.
        None => "no changes".to_string(),
    })
}

fn converged(project: &Path, url: &str) -> Result<String, String> {
    let output = kschema(project, url, &["plan", "--tenant", "all"])?;
    match output.status.code() {
        Some(0) => Ok(String::new()),
        _ => Err(format!(
            "the plan after apply is not empty:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )),
    }
}

/// Fingerprints of every schema (from a snapshot) and the schema-only dump
/// of those schemas (kschema's own history left out).
struct Catalog {
    fingerprints: BTreeMap<String, String>,
    dump: String,
}

fn catalog(project: &Path, url: &str) -> Result<Catalog, String> {
    let file = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    let output = kschema(
        project,
        url,
        &[
            "snapshot",
            "--tenant",
            "all",
            "--out",
            &file.path().display().to_string(),
        ],
    )?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    let snapshot: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file.path()).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    let fingerprints: BTreeMap<String, String> = snapshot["schemas"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let pg_dump = find_bin_dir()
        .map(|b| b.join("pg_dump"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| "pg_dump".into());
    let mut dump = Command::new(pg_dump);
    dump.args([
        "--schema-only",
        "--no-owner",
        "--no-privileges",
        "--dbname",
        url,
    ]);
    for schema in fingerprints.keys() {
        dump.arg("--schema").arg(schema);
    }
    let output = dump.output().map_err(|e| format!("pg_dump: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "pg_dump failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    // pg_dump 15.14+ fences the dump with a random \restrict key per run.
    let dump = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| !l.starts_with("\\restrict ") && !l.starts_with("\\unrestrict "))
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Catalog { fingerprints, dump })
}

fn compare(before: &Catalog, after: &Catalog) -> Result<String, String> {
    if before.fingerprints != after.fingerprints {
        let changed: Vec<&String> = before
            .fingerprints
            .iter()
            .filter(|(schema, print)| after.fingerprints.get(*schema) != Some(*print))
            .map(|(schema, _)| schema)
            .collect();
        return Err(format!(
            "schemas differ from before the change: {changed:?}"
        ));
    }
    if before.dump != after.dump {
        let diff = similar::TextDiff::from_lines(&before.dump, &after.dump)
            .unified_diff()
            .header("before", "after rollback")
            .to_string();
        return Err(format!("pg_dump --schema-only differs:\n{diff}"));
    }
    Ok(format!("{} schemas", before.fingerprints.len()))
}

/// A `key=value` connection string (with the password, for the child's
/// environment only).
fn conninfo(config: &tokio_postgres::Config) -> String {
    let mut parts = Vec::new();
    for host in config.get_hosts() {
        match host {
            Host::Tcp(h) => parts.push(format!("host={h}")),
            #[cfg(unix)]
            Host::Unix(p) => parts.push(format!("host={}", p.display())),
        }
    }
    if let Some(port) = config.get_ports().first() {
        parts.push(format!("port={port}"));
    }
    if let Some(user) = config.get_user() {
        parts.push(format!("user={user}"));
    }
    if let Some(password) = config.get_password() {
        parts.push(format!(
            "password='{}'",
            String::from_utf8_lossy(password)
                .replace('\\', "\\\\")
                .replace('\'', "\\'")
        ));
    }
    if let Some(db) = config.get_dbname() {
        parts.push(format!("dbname={db}"));
    }
    parts.join(" ")
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("      {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
