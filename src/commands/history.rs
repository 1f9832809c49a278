//! `kschema history [--tenant …]`: what apply ran, newest first.

use std::fmt::Write as _;
use std::time::SystemTime;

use kschema_core::escape::printable_sql;
use kschema_core::Problem;
use miette::Report;

use super::{open_database, print};
use crate::cli::{GlobalArgs, HistoryArgs};
use crate::db::history;
use crate::project::load_project;
use crate::ExitStatus;

pub async fn run(global: &GlobalArgs, args: &HistoryArgs) -> Result<ExitStatus, Report> {
    let db = open_database(global).await?;
    let schemas: Option<Vec<String>> = if args.tenants.is_empty() {
        None
    } else {
        let desired = load_project(&global.project).ok();
        Some(
            args.tenants
                .iter()
                .map(|id| match id.as_str() {
                    "public" => "public".to_string(),
                    // A shared schema by its name (`audit`).
                    _ if desired
                        .as_ref()
                        .is_some_and(|d| d.shared.keys().any(|s| s.as_str() == id)) =>
                    {
                        id.clone()
                    }
                    _ => desired
                        .as_ref()
                        .and_then(|d| d.tenants.get(id))
                        .map(|t| t.schema.to_string())
                        .unwrap_or_else(|| format!("org_{id}")),
                })
                .collect(),
        )
    };
    let client = db.connect().await?;
    let rows = history::rows(&client, schemas.as_deref(), args.limit)
        .await
        .map_err(|e| {
            Problem::new(
                "kschema::history::read",
                format!("reading kschema.history failed: {e}"),
            )
        })?;
    let mut out = format!("Database: {db}\n\n");
    if rows.is_empty() {
        out.push_str("No runs recorded yet (kschema.history is written by `kschema apply`).\n");
    }
    for row in &rows {
        let who = row
            .tenant
            .as_ref()
            .map(|t| format!("tenant {t} ({})", row.target_schema))
            .unwrap_or_else(|| row.target_schema.clone());
        let duration = row
            .finished_at
            .and_then(|f| f.duration_since(row.started_at).ok())
            .map(|d| format!(" in {:.2}s", d.as_secs_f64()))
            .unwrap_or_default();
        // A `committed` row without an end: the run ended (killed, or its
        // server went away) while the statements after the transaction ran.
        let outcome = match (row.outcome, row.finished_at) {
            (history::HistoryOutcome::Committed, None) => "committed, then interrupted during the statements after its transaction (the next apply finishes them, or confirms they ran)".to_string(),
            (outcome, _) => outcome.to_string(),
        };
        let _ = writeln!(
            out,
            "#{} {} run {} — {who}: {outcome}, {} statement{}{duration}, by {} (kschema {})",
            row.id,
            timestamp(row.started_at),
            row.run_id,
            row.statements.len(),
            if row.statements.len() == 1 { "" } else { "s" },
            row.os_user,
            row.kschema_version
        );
        if !row.hazards_allowed.is_empty() {
            let _ = writeln!(
                out,
                "    hazards allowed: {}",
                row.hazards_allowed.join(", ")
            );
        }
        if let Some(error) = &row.error {
            let _ = writeln!(
                out,
                "    error: {}",
                error.lines().next().unwrap_or_default()
            );
        }
        if args.statements {
            for statement in &row.statements {
                let _ = writeln!(
                    out,
                    "    {};",
                    printable_sql(statement).replace('\n', "\n    ")
                );
            }
        }
    }
    print(&out)?;
    Ok(ExitStatus::Success)
}

/// UTC, to the second, without a date-time crate.
fn timestamp(time: SystemTime) -> String {
    let secs = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_utc_civil_dates() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_600_000);
        assert_eq!(timestamp(t), "2026-11-25 09:46:40Z");
        assert_eq!(timestamp(SystemTime::UNIX_EPOCH), "1970-01-01 00:00:00Z");
    }
}
