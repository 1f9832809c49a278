//! `kschema init`, `completions` and `man`: a new project's files, and the
//! command line described for shells and for `man`.

use std::path::Path;

use clap::CommandFactory;
use kschema_core::Problem;
use miette::Report;

use super::print;
use crate::cli::{Cli, GlobalArgs, InitArgs};
use crate::ExitStatus;

const TENANTS_TOML: &str = r#"# The tenants: one schema each (org_<id> unless `schema` says otherwise),
# converged to the files in schema/tenant/.
#
# [[tenant]]
# id = "abc123"
#
# [[tenant]]
# id = "def456"
# schema = "tenant_def456"
#
# Or read them from a table of the shared schema:
# source = "enterprises"
"#;

const KSCHEMA_TOML: &str = r#"# kschema's settings; every one is optional (flags override them).

[plan]
# online = true              # CONCURRENTLY, NOT VALID + VALIDATE for existing tables
# dev_url = "postgresql://…"  # where the desired state is built; "local": kschema's own cluster

[apply]
# lock_timeout = 3.0         # seconds a statement waits for a lock
# index_lock_timeout = 300.0 # seconds an online index build waits for older transactions
# lock_attempts = 5          # tries before a lock timeout fails the target
# statement_timeout = 1800.0 # seconds a statement may run (0: no limit)
# concurrency = 8            # tenant schemas applied at once
# heavy_concurrency = 2      # index builds, validations, rewrites at once per server
# blocking_hazards = ["deletes-data", "may-lose-data", "rewrites-table", "access-exclusive-lock"]

[roles]
# managed = ["app"]          # roles whose GRANTs the files declare

[rollout]
# canary = ["abc123"]        # apply these tenants first, as a wave of their own
# waves = ["10%", "100%"]    # then shares (cumulative) or counts of the rest
# soak = 60.0                # seconds to watch the gates between waves
# max_failure_percent = 0.0  # share of a wave's tenants that may fail
# max_replication_lag = 60.0 # seconds a standby may lag (0: not checked)
# max_lock_wait = 30.0       # seconds any statement may wait on a lock (0: not checked)
# probe = "SELECT true"      # must return true in each tenant of a wave

[lint.allow]
# redundant-index = ["idx_users_email"]  # warnings accepted, per rule ("*": rule off)

[mongo]
# database = "app_db"        # or "app_{tenant}": one database per tenant

[database]
# connect_timeout = 10.0     # seconds a connection may take
"#;

const GITIGNORE: &str = "# kschema's local PostgreSQL and its caches\n.kschema/\n";

pub fn run(global: &GlobalArgs, args: &InitArgs) -> Result<ExitStatus, Report> {
    let root = &global.project;
    let files = [
        ("tenants.toml", TENANTS_TOML),
        ("kschema.toml", KSCHEMA_TOML),
    ];
    if !args.force {
        if let Some((name, _)) = files.iter().find(|(name, _)| root.join(name).exists()) {
            return Err(Problem::new(
                "kschema::init::exists",
                format!(
                    "{} already has {name}: this is a project already",
                    root.display()
                ),
            )
            .with_help("run kschema plan in it, or kschema init --force to write kschema's files again (schema files are never touched)")
            .into());
        }
    }
    let write = |path: &Path, text: &str| {
        std::fs::write(path, text).map_err(|e| {
            Report::from(Problem::new(
                "kschema::init::write",
                format!("writing {} failed: {e}", path.display()),
            ))
        })
    };
    for folder in ["schema/public", "schema/tenant"] {
        let dir = root.join(folder);
        std::fs::create_dir_all(&dir).map_err(|e| {
            Report::from(Problem::new(
                "kschema::init::write",
                format!("creating {} failed: {e}", dir.display()),
            ))
        })?;
    }
    for (name, text) in files {
        write(&root.join(name), text)?;
    }
    let gitignore = root.join(".gitignore");
    let existing = std::fs::read_to_string(&gitignore).unwrap_or_default();
    if !existing.lines().any(|l| l.trim() == ".kschema/") {
        let joined = match existing.is_empty() || existing.ends_with('\n') {
            true => format!("{existing}{GITIGNORE}"),
            false => format!("{existing}\n{GITIGNORE}"),
        };
        write(&gitignore, &joined)?;
    }
    print(&format!(
        "A new kschema project in {}:\n  schema/public/   the shared schema's CREATE statements (*.sql)\n  schema/tenant/   each tenant schema's, unqualified\n  tenants.toml     the tenants\n  kschema.toml     settings (all commented out)\n\nNext: write a CREATE TABLE, then `kschema plan` (a local PostgreSQL starts by itself without --database-url).\n",
        root.display()
    ))?;
    Ok(ExitStatus::Success)
}

pub fn completions(shell: clap_complete::Shell) -> Result<ExitStatus, Report> {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "kschema", &mut out);
    print(&String::from_utf8_lossy(&out))?;
    Ok(ExitStatus::Success)
}

pub fn man_page() -> Result<ExitStatus, Report> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(|e| Problem::new("kschema::man::render", e.to_string()))?;
    print(&String::from_utf8_lossy(&out))?;
    Ok(ExitStatus::Success)
}
