//! The whole pure pipeline on inputs held in memory: project files and a
//! snapshot in, every plan format (or the diagnostic) out. It is what
//! `plan --against SNAPSHOT` does once the files are read, and what the
//! fuzzers drive: no input may make it panic, overflow the stack or hang.

use std::path::PathBuf;

use miette::GraphicalReportHandler;

use crate::diagnostic::{Problem, SourceFile};
use crate::hazard::HazardPolicy;
use crate::load::{parse_project, ProjectFiles};
use crate::mongo::render_mongo_text;
use crate::plan::materialize::{adopt_stored_form, StoredForm};
use crate::plan::{build_plan, check_plan, PlanOptions, Target};
use crate::render::json::{plan_document, render_json};
use crate::render::markdown::{render_markdown, MarkdownContext};
use crate::render::sql::render_sql;
use crate::render::text::{render_text, TextOptions};
use crate::snapshot::Snapshot;

/// One in-memory project: `(path relative to the project, text)` pairs, as
/// `schema/public/x.sql`, `schema/tenant/y.sql`, `schema/seeds/z.toml`,
/// `schema/mongo/c.toml` / `.json`, `tenants.toml`, `kschema.toml`.
pub fn project_files(files: &[(String, String)]) -> ProjectFiles {
    let mut project = ProjectFiles {
        root: PathBuf::from("."),
        public: Vec::new(),
        shared: Default::default(),
        tenant: Vec::new(),
        tenants: None,
        config: None,
        seeds: Vec::new(),
        mongo: Vec::new(),
        mongo_json: Vec::new(),
    };
    for (path, text) in files {
        let file = SourceFile::new(path.clone(), text.clone());
        let list = match path.as_str() {
            "tenants.toml" => {
                project.tenants = Some(file);
                continue;
            }
            "kschema.toml" => {
                project.config = Some(file);
                continue;
            }
            p if p.starts_with("schema/public/") => &mut project.public,
            p if p.starts_with("schema/tenant/") => &mut project.tenant,
            p if p.starts_with("schema/seeds/") => &mut project.seeds,
            p if p.starts_with("schema/mongo/") && p.ends_with(".json") => &mut project.mongo_json,
            p if p.starts_with("schema/mongo/") => &mut project.mongo,
            p if p.ends_with(".sql") => {
                match p.strip_prefix("schema/").and_then(|r| r.split_once('/')) {
                    Some((schema, name)) if !name.contains('/') => {
                        project.shared.entry(schema.to_string()).or_default()
                    }
                    _ => continue,
                }
            }
            _ => continue,
        };
        list.push(file);
    }
    project
}

/// What one run produced: the four formats, or the diagnostic as a user
/// would see it.
pub enum Outcome {
    Plans {
        text: String,
        sql: String,
        json: String,
        markdown: String,
    },
    Refused(String),
}

/// Loads the project, reads the snapshot, plans every target against it and
/// renders every format; a bad input comes back as its rendered diagnostic.
/// The desired side is the loader's own forms (no server said what it
/// stores): what the fuzzers drive.
pub fn plan_against_snapshot(files: &ProjectFiles, snapshot_json: &str) -> Outcome {
    plan_offline(files, None, snapshot_json)
}

/// The same, with the desired state as PostgreSQL stored it (a
/// [`StoredForm`] recorded from a server): what `plan` does once the
/// database is read, and what the fixture cases check without one.
pub fn plan_against_stored(
    files: &ProjectFiles,
    stored_json: &str,
    snapshot_json: &str,
) -> Outcome {
    plan_offline(files, Some(stored_json), snapshot_json)
}

fn plan_offline(files: &ProjectFiles, stored_json: Option<&str>, snapshot_json: &str) -> Outcome {
    let mut desired = match parse_project(files) {
        Ok(desired) => desired,
        Err(problem) => return Outcome::Refused(rendered(&problem)),
    };
    if let Some(json) = stored_json {
        let stored: StoredForm = match from_json(
            "stored.json",
            json,
            "kschema::desired::stored",
            "not a stored form of the desired state",
        ) {
            Ok(stored) => stored,
            Err(refused) => return refused,
        };
        if let Err(problem) = adopt_stored_form(&mut desired, &stored) {
            return Outcome::Refused(rendered(&problem));
        }
    }
    let snapshot: Snapshot = match from_json(
        "snapshot.json",
        snapshot_json,
        "kschema::snapshot::invalid",
        "not a kschema snapshot",
    ) {
        Ok(snapshot) => snapshot,
        Err(refused) => return refused,
    };
    let live = match snapshot.to_live() {
        Ok(live) => live,
        Err(reason) => {
            return Outcome::Refused(rendered(&Problem::new(
                "kschema::snapshot::invalid",
                reason,
            )))
        }
    };
    let mut targets = desired.shared_targets();
    targets.extend(desired.tenants.tenants.iter().map(|t| Target {
        schema: t.schema.clone(),
        tenant: Some(t.id.clone()),
    }));
    let plan = build_plan(&desired, &live, &targets, PlanOptions::default());
    if let Err(problem) = check_plan(&plan, &live, &desired) {
        return Outcome::Refused(rendered(&problem));
    }
    let policy = match &desired.config.apply.blocking_hazards {
        Some(blocking) => HazardPolicy::blocking(blocking.clone()),
        None => HazardPolicy::default(),
    };
    let mut text = render_text(
        &plan,
        &TextOptions {
            color: false,
            policy: policy.clone(),
        },
    );
    // MongoDB's part follows, as `plan` prints it.
    let tenants: Vec<_> = desired
        .tenants
        .tenants
        .iter()
        .map(|t| t.id.clone())
        .collect();
    if let Some(mongo) = snapshot.mongo_plan(&desired, &tenants) {
        text.push_str(&render_mongo_text(&mongo, &policy));
    }
    Outcome::Plans {
        text,
        sql: render_sql(&plan, &["kschema plan".to_string()]),
        json: render_json(&plan_document(&plan, "snapshot", true, &policy)),
        markdown: render_markdown(
            &plan,
            &MarkdownContext {
                database: "snapshot",
                desired: &desired,
                live: &live,
                policy: &policy,
            },
        ),
    }
}

/// A recorded JSON input, or its refusal pointing at where it stops
/// parsing.
fn from_json<T: serde::de::DeserializeOwned>(
    name: &str,
    text: &str,
    code: &'static str,
    message: &str,
) -> Result<T, Outcome> {
    serde_json::from_str(text).map_err(|e| {
        let file = SourceFile::new(name, text.to_string());
        let span = file.span_at(e.line() as u64, e.column() as u64, 1);
        Outcome::Refused(rendered(&Problem::new(code, message.to_string()).at(
            &file,
            span,
            e.to_string(),
        )))
    })
}

/// A diagnostic as the terminal shows it (no colors).
pub fn rendered(problem: &Problem) -> String {
    let mut out = String::new();
    let handler = GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .with_width(100);
    let _ = handler.render_report(&mut out, problem);
    out
}
