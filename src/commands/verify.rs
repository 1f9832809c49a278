//! `kschema verify`: proves the round trip on a scratch database. It builds
//! the previous desired state (`--from-rev`, default HEAD's parent, or an
//! empty database), applies the current one, checks convergence, rolls back
//! to the previous one, checks the catalog is what it was (by fingerprint
//! and by `pg_dump --schema-only`), and applies the current one again.
//!
//! Each phase is a kschema command run in-process with typed options —
//! `apply --yes --tenant all --allow-hazard <every hazard>`, `plan`,
//! `snapshot` — against the scratch database, so what is verified is what
//! users run; what they print is kept for the report of a failed phase.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use kschema_core::hazard::HazardKind;
use kschema_core::Problem;
use miette::{Diagnostic, Report};
use thiserror::Error;
use tokio_postgres::config::Host;

use super::apply::Converged;
use super::{captured, open_database, prepare, print, snapshot};
use crate::cli::{as_typed, ApplyArgs, Format, GlobalArgs, PlanArgs, TenantSelection, VerifyArgs};
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
    let on_scratch = |project: &Path| GlobalArgs {
        project: project.to_path_buf(),
        database_url: Some(conninfo(&config, Password::Included)),
        // Verify is about PostgreSQL's catalog; MongoDB is left alone.
        mongodb_uri: None,
        ..global.clone()
    };

    let mut report = format!(
        "Verify on a scratch database ({}): from {from_label} to the working tree\n\n",
        redacted(&config)
    );
    let outcome = phases(&on_scratch(&current), &on_scratch(&previous_path), &config).await;
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

/// The phases, each timed; stops at the first failure. `current` and
/// `previous` are the two projects' options, on the scratch database.
async fn phases(
    current: &GlobalArgs,
    previous: &GlobalArgs,
    scratch: &tokio_postgres::Config,
) -> (String, Option<(String, String)>) {
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
    if let Some(failure) = step("build the previous desired state", t, apply(previous).await) {
        return (out, Some(failure));
    }
    let before = match catalog(previous, scratch).await {
        Ok(catalog) => catalog,
        Err(e) => return (out, Some(("record the previous catalog".into(), e))),
    };
    let t = Instant::now();
    if let Some(failure) = step("apply the current desired state", t, apply(current).await) {
        return (out, Some(failure));
    }
    let t = Instant::now();
    if let Some(failure) = step("re-plan is empty (converged)", t, converged(current).await) {
        return (out, Some(failure));
    }
    let t = Instant::now();
    if let Some(failure) = step(
        "roll back to the previous desired state",
        t,
        apply(previous).await,
    ) {
        return (out, Some(failure));
    }
    let t = Instant::now();
    let same = match catalog(previous, scratch).await {
        Ok(after) => compare(&before, &after),
        Err(e) => Err(e),
    };
    if let Some(failure) = step(
        "catalog equals the previous one (fingerprints and pg_dump --schema-only)",
        t,
        same,
    ) {
        return (out, Some(failure));
    }
    let t = Instant::now();
    let again = match apply(current).await {
        Ok(_) => converged(current).await,
        Err(e) => Err(e),
    };
    if let Some(failure) = step("re-apply the current desired state", t, again) {
        return (out, Some(failure));
    }
    (out, None)
}

/// A failed command's report: what it printed, then its diagnostic.
fn failed(printed: &str, report: &Report) -> String {
    format!("{printed}{report:?}")
}

/// `kschema apply --yes --tenant all --allow-hazard <every hazard>
/// --lock-wait 0 --all-at-once`: verify runs on a scratch database.
async fn apply(project: &GlobalArgs) -> Result<String, String> {
    let hazards = HazardKind::ALL
        .iter()
        .map(|k| k.name())
        .collect::<Vec<_>>()
        .join(",");
    let args = ApplyArgs::as_typed(&[
        "--yes",
        "--tenant",
        "all",
        "--allow-hazard",
        &hazards,
        "--lock-wait",
        "0",
        "--all-at-once",
    ])
    .map_err(|problem| format!("{:?}", Report::new(problem)))?;
    let (result, printed) = captured(super::apply::converge(project, &args)).await;
    match result {
        Ok(Converged {
            status: ExitStatus::Success,
            changed: 0,
            up_to_date,
        }) => Ok(format!("no changes ({up_to_date} target(s) up to date)")),
        Ok(Converged {
            status: ExitStatus::Success,
            changed,
            up_to_date,
        }) => Ok(format!(
            "{changed} target(s) converged, {up_to_date} already up to date"
        )),
        Ok(Converged { status, .. }) => Err(format!("{printed}apply stopped ({status:?})")),
        Err(report) => Err(failed(&printed, &report)),
    }
}

/// `kschema plan --tenant all` finds nothing to change.
async fn converged(project: &GlobalArgs) -> Result<String, String> {
    let args: PlanArgs =
        as_typed("plan", &["--tenant", "all"]).map_err(|p| format!("{:?}", Report::new(p)))?;
    let (planned, printed) = captured(prepare(project, &args.targets, None)).await;
    match planned {
        Ok(planned) if planned.is_empty() => Ok(String::new()),
        Ok(planned) => Err(format!(
            "the plan after apply is not empty:\n{}",
            super::plan::render(&planned, Format::Text, false)
        )),
        Err(report) => Err(failed(&printed, &report)),
    }
}

/// Fingerprints of every schema (from a snapshot) and the schema-only dump
/// of those schemas (kschema's own history left out).
struct Catalog {
    fingerprints: BTreeMap<String, String>,
    dump: String,
}

async fn catalog(
    project: &GlobalArgs,
    scratch: &tokio_postgres::Config,
) -> Result<Catalog, String> {
    let (taken, printed) = captured(snapshot::take(project, &TenantSelection::All)).await;
    let (snapshot, _) = taken.map_err(|report| failed(&printed, &report))?;
    let fingerprints: BTreeMap<String, String> = snapshot
        .schemas
        .iter()
        .map(|(schema, print)| (schema.to_string(), print.to_string()))
        .collect();
    let pg_dump = find_bin_dir()
        .map(|b| b.join("pg_dump"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| "pg_dump".into());
    let mut dump = Command::new(pg_dump);
    dump.args(["--schema-only", "--no-owner", "--no-privileges", "--dbname"])
        // The password goes through the environment, not argv.
        .arg(conninfo(scratch, Password::Left))
        .env_remove("PGPASSWORD");
    if let Some(password) = scratch.get_password() {
        dump.env("PGPASSWORD", String::from_utf8_lossy(password).into_owned());
    }
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

/// Whether a connection string carries the password: in memory for the
/// in-process commands, never on a child's command line.
#[derive(Clone, Copy, PartialEq)]
enum Password {
    Included,
    Left,
}

/// A `key=value` connection string for the scratch database.
fn conninfo(config: &tokio_postgres::Config, password: Password) -> String {
    let quoted = |value: &str| format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"));
    let mut parts = Vec::new();
    for host in config.get_hosts() {
        match host {
            Host::Tcp(h) => parts.push(format!("host={}", quoted(h))),
            #[cfg(unix)]
            Host::Unix(p) => parts.push(format!("host={}", quoted(&p.display().to_string()))),
        }
    }
    if let Some(port) = config.get_ports().first() {
        parts.push(format!("port={port}"));
    }
    if let Some(user) = config.get_user() {
        parts.push(format!("user={}", quoted(user)));
    }
    if let (Some(secret), Password::Included) = (config.get_password(), password) {
        parts.push(format!(
            "password={}",
            quoted(&String::from_utf8_lossy(secret))
        ));
    }
    if let Some(db) = config.get_dbname() {
        parts.push(format!("dbname={}", quoted(db)));
    }
    parts.join(" ")
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("      {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
