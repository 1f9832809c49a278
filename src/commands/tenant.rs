//! `kschema tenant add ID` and `kschema tenant remove ID`: register a tenant
//! and provision its schema (through a normal apply), or drop a tenant's
//! schema (through the apply engine, after a typed confirmation) and
//! unregister it.

use std::io::{BufRead, IsTerminal, Write};

use kschema_core::catalog::Fingerprint;
use kschema_core::hazard::HazardKind;
use kschema_core::load::{TenantId, TenantSource};
use kschema_core::plan::{Target, TxMode};
use kschema_core::Problem;
use miette::Report;

use super::apply::{apply_options, lock_databases, run_work, TargetsFailed};
use super::{argument_problem, open_database, print, write_file};
use crate::cli::{ApplyArgs, GlobalArgs, TenantAction};
use crate::db::apply::{ApplyStep, ApplyTarget};
use crate::db::history::RunInfo;
use crate::project::load_project;
use crate::ExitStatus;

pub async fn run(global: &GlobalArgs, action: &TenantAction) -> Result<ExitStatus, Report> {
    match action {
        TenantAction::Add { id, schema } => add(global, id, schema.as_deref()).await,
        TenantAction::Remove {
            id,
            allow_hazards,
            yes,
        } => remove(global, id, allow_hazards, *yes).await,
    }
}

async fn add(global: &GlobalArgs, id: &str, schema: Option<&str>) -> Result<ExitStatus, Report> {
    let tenant = TenantId::parse(id).map_err(|reason| {
        argument_problem(
            "kschema::tenant::invalid_id",
            format!("invalid tenant id {id:?}"),
            id,
            &reason,
            "tenant ids are 1 to 48 characters of a-z, 0-9 and _".into(),
        )
    })?;
    let desired = load_project(&global.project)?;
    if desired.tenants.source == TenantSource::Listed {
        if desired.tenants.get(tenant.as_str()).is_some() {
            return Err(Problem::new(
                "kschema::tenant::exists",
                format!("tenant {tenant} is already in tenants.toml"),
            )
            .with_help(format!("`kschema apply --tenant {tenant}` converges it"))
            .into());
        }
        let path = global.project.join("tenants.toml");
        let before = std::fs::read_to_string(&path).unwrap_or_default();
        let mut entry = format!("\n[[tenant]]\nid = \"{tenant}\"\n");
        if let Some(schema) = schema {
            entry.push_str(&format!("schema = {}\n", toml_string(schema)));
        }
        let after = format!(
            "{}{entry}",
            before.trim_end_matches('\n').to_string() + if before.is_empty() { "" } else { "\n" }
        );
        write_file(&path, &after)?;
        // The registry must still load; otherwise put it back as it was.
        if let Err(problem) = load_project(&global.project) {
            write_file(&path, &before)?;
            return Err(problem.into());
        }
        print(&format!("Registered tenant {tenant} in tenants.toml.\n"))?;
        let result = super::apply::run(global, &apply_args(&tenant)?).await;
        if result.is_err() {
            print("The tenant stays registered: fix the cause and run `kschema apply --tenant <id>` again.\n")?;
        }
        return result;
    }
    // Tenants come from public.enterprises: the row makes the tenant.
    print(&format!("tenants.toml reads tenants from public.enterprises; provisioning {tenant} if it is there.\n"))?;
    super::apply::run(global, &apply_args(&tenant)?).await
}

/// `kschema apply --tenant <id> --yes --all-at-once`, as if typed: `tenant
/// add` is the request itself, and one tenant needs no waves. Parsed by
/// clap, so every other option has the default the command line gives it.
fn apply_args(tenant: &TenantId) -> Result<ApplyArgs, Report> {
    let id = tenant.to_string();
    Ok(ApplyArgs::as_typed(&[
        "--tenant",
        &id,
        "--yes",
        "--all-at-once",
    ])?)
}

async fn remove(
    global: &GlobalArgs,
    id: &str,
    allowed: &[HazardKind],
    yes: bool,
) -> Result<ExitStatus, Report> {
    let desired = load_project(&global.project)?;
    if desired.tenants.source != TenantSource::Listed {
        return Err(Problem::new("kschema::tenant::source", "tenants come from public.enterprises, not tenants.toml")
            .with_help("delete the enterprise row, then drop the schema yourself: kschema never drops a schema it did not list")
            .into());
    }
    let Some(tenant) = desired.tenants.get(id).cloned() else {
        return Err(argument_problem(
            "kschema::tenant::unknown",
            format!("unknown tenant `{id}`"),
            id,
            "not in tenants.toml",
            format!(
                "tenants.toml lists: {}",
                desired
                    .tenants
                    .ids()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .into());
    };
    if tenant.database.is_some() {
        return Err(Problem::new(
            "kschema::tenant::shard",
            format!(
                "tenant {id} lives in database {}",
                tenant.database.unwrap_or_default()
            ),
        )
        .with_help("remove it with --database-url pointing at that database")
        .into());
    }
    if !allowed.contains(&HazardKind::DeletesData) {
        return Err(Problem::new(
            "kschema::tenant::hazard",
            format!("removing tenant {id} drops schema {} and every row in it", tenant.schema),
        )
        .with_help(format!("after review, re-run with --allow-hazard deletes-data: kschema tenant remove {id} --allow-hazard deletes-data"))
        .into());
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(Problem::new(
                "kschema::tenant::confirm",
                "removing a tenant needs a typed confirmation",
            )
            .with_help("run it in a terminal, or pass --yes")
            .into());
        }
        print(&format!(
            "This drops schema {} and all its data. Type the tenant id to confirm: ",
            tenant.schema
        ))?;
        let _ = std::io::stdout().flush();
        let mut typed = String::new();
        let _ = std::io::stdin().lock().read_line(&mut typed);
        if typed.trim() != id {
            return Err(Problem::new(
                "kschema::tenant::confirm",
                "the typed id does not match; nothing was removed",
            )
            .into());
        }
    }

    // Through the apply engine, as one target whose only step drops the
    // schema: the run lock, the history row in the same transaction, the
    // project's timeouts, the report — all as for any apply.
    let db = open_database(global).await?;
    let args = ApplyArgs::as_typed(&["--yes"])?;
    let run = RunInfo::new();
    let _locks = lock_databases([(&db, "the database".to_string())], &args, &run).await?;
    let drop = ApplyTarget {
        target: Target {
            schema: tenant.schema.clone(),
            tenant: Some(tenant.id.clone()),
        },
        steps: vec![ApplyStep {
            statements: vec![format!(
                "DROP SCHEMA IF EXISTS {} CASCADE",
                tenant.schema.ident().quoted()
            )],
            transaction: TxMode::Transactional,
            before_retry: None,
            after_tenants: false,
            index_build: false,
            heavy: false,
        }],
        live_fingerprint: Fingerprint::absent(),
        live_model: None,
        hazards: vec![HazardKind::DeletesData.to_string()],
    };
    let options = apply_options(&desired, &args, run);
    let status = run_work(vec![(&db, vec![drop])], &options, 0)
        .await
        .map_err(|report| match report.downcast_ref::<TargetsFailed>() {
            // The summary above gave the cause; apply's retry hint would
            // provision the tenant again.
            Some(_) => Problem::new(
                "kschema::tenant::drop",
                format!("dropping {} failed: the tenant stays", tenant.schema),
            )
            .with_help(format!(
                "fix the cause above and run the same command again: kschema tenant remove {id}"
            ))
            .into(),
            None => report,
        })?;
    if status != ExitStatus::Success {
        // Interrupted before the drop ran: the tenant stays registered.
        return Ok(status);
    }
    let path = global.project.join("tenants.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    write_file(&path, &without_tenant(&text, id))?;
    print(&format!(
        "Database: {db}\n\nDropped schema {} and removed tenant {id} from tenants.toml.\n",
        tenant.schema
    ))?;
    Ok(ExitStatus::Success)
}

/// The file without the `[[tenant]]` block whose id is `id` (comments and
/// other blocks kept as they were).
fn without_tenant(text: &str, id: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() == "[[tenant]]" {
            let mut end = (i + 1..lines.len())
                .find(|&j| lines[j].trim_start().starts_with('['))
                .unwrap_or(lines.len());
            // Blank lines after the block belong to what follows.
            while end > i + 1 && lines[end - 1].trim().is_empty() {
                end -= 1;
            }
            let is_it = lines[i..end].iter().any(|l| {
                let l = l.trim();
                l.starts_with("id")
                    && l.split_once('=')
                        .is_some_and(|(_, v)| v.trim().trim_matches('"') == id)
            });
            if is_it {
                // Drop the block and the blank line before it.
                if out.last().is_some_and(|l| l.trim().is_empty()) {
                    out.pop();
                }
                i = end;
                continue;
            }
        }
        out.push(lines[i]);
        i += 1;
    }
    let mut text = out.join("\n");
    text.push('\n');
    text
}

pub(super) fn toml_string(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_exactly_one_block() {
        let text = "# registry\n\n[[tenant]]\nid = \"a\"\n\n[[tenant]]\nid = \"b\"\nschema = \"x\"\n\n[[tenant]]\nid = \"c\"\n";
        assert_eq!(
            without_tenant(text, "b"),
            "# registry\n\n[[tenant]]\nid = \"a\"\n\n[[tenant]]\nid = \"c\"\n"
        );
        assert_eq!(without_tenant(text, "zz"), text);
    }
}
