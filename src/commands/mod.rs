//! One module per subcommand, plus what they share: loading the project,
//! choosing targets, reading the live state (database or snapshot) and
//! planning.

pub mod apply;
pub mod check;
pub mod diff;
pub mod history;
pub mod init;
pub mod inspect;
pub mod lint;
pub mod local;
pub mod plan;
pub mod rollback;
pub mod snapshot;
pub mod tenant;
pub mod verify;

use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::sync::Mutex;

use kschema_core::catalog::LiveState;
use kschema_core::escape::terminal_safe;
use kschema_core::hazard::HazardPolicy;
use kschema_core::load::DesiredState;
use kschema_core::plan::{build_plan, check_plan, Plan, PlanOptions, Target};
use kschema_core::snapshot::Snapshot;
use kschema_core::{Problem, SourceFile};
use miette::{IntoDiagnostic, Report, SourceSpan};

use crate::cli::{ColorChoice, GlobalArgs, TargetArgs};
use crate::db::materialize::Builder;
use crate::db::Database;
use crate::project::load_project;
pub use crate::run::open_database;
use crate::run::{fleet, mongo, targets};

/// Where the live state came from.
pub enum LiveSource {
    Database(Box<Database>),
    Snapshot { path: String, database: String },
}

impl std::fmt::Display for LiveSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LiveSource::Database(db) => write!(f, "{db}"),
            LiveSource::Snapshot { path, database } => {
                write!(f, "snapshot {path} (taken from {database})")
            }
        }
    }
}

/// Everything a plan was made from: per database, its targets, live state
/// and plan.
pub struct Planned {
    pub desired: DesiredState,
    pub shards: Vec<DatabasePlan>,
    pub options: PlanOptions,
    /// The MongoDB part, when schema/mongo declares collections.
    pub mongo: Option<kschema_core::mongo::MongoPlan>,
}

/// One database's part of a plan.
pub struct DatabasePlan {
    /// `None` for the main database.
    pub name: Option<String>,
    pub source: LiveSource,
    pub targets: Vec<Target>,
    pub live: LiveState,
    pub plan: Plan,
}

impl Planned {
    pub fn is_empty(&self) -> bool {
        self.shards.iter().all(|s| s.plan.is_empty())
            && self.mongo.as_ref().is_none_or(|m| m.is_empty())
    }

    /// Every tenant the plan covers, in every database.
    pub fn tenants(&self) -> Vec<kschema_core::load::TenantId> {
        self.shards
            .iter()
            .flat_map(|s| s.targets.iter().filter_map(|t| t.tenant.clone()))
            .collect()
    }
}

impl DatabasePlan {
    /// `main database` or `database eu`.
    pub fn title(&self) -> String {
        match &self.name {
            None => "main database".to_string(),
            Some(name) => format!("database {name}"),
        }
    }
}

/// Loads the project, picks the targets, reads the live state (from every
/// database at once, or from a snapshot with no connection at all) and
/// plans. Nothing is changed anywhere.
pub async fn prepare(
    global: &GlobalArgs,
    target_args: &TargetArgs,
    against: Option<&Path>,
) -> Result<Planned, Report> {
    let trace = crate::trace::Trace::new();
    let mut desired = load_desired(global, target_args)?;
    trace.mark("load desired state");
    let options = plan_options(&desired, target_args);
    if let Some(path) = against {
        if !desired.tenants.shards.is_empty()
            || desired.tenants.source != kschema_core::load::TenantSource::Listed
        {
            return Err(Problem::new(
                "kschema::snapshot::shards",
                "a snapshot records one database with a listed set of tenants",
            )
            .with_help("plan against the databases, or take one snapshot per database with a project of its own")
            .into());
        }
        let targets = targets::select_targets(&desired, &target_args.selection()?)?;
        let snapshot = read_snapshot(path)?;
        store_desired(
            global,
            &mut desired,
            PlannedAgainst::Recorded(snapshot.server_version),
        )
        .await?;
        let live = snapshot.to_live().map_err(|reason| {
            Problem::new(
                "kschema::snapshot::invalid",
                format!("{}: {reason}", path.display()),
            )
        })?;
        let plan = build_plan(&desired, &live, &targets, options);
        check_plan(&plan, &live, &desired)?;
        let source = LiveSource::Snapshot {
            path: path.display().to_string(),
            database: snapshot.database.clone(),
        };
        let tenants: Vec<_> = targets.iter().filter_map(|t| t.tenant.clone()).collect();
        let mongo = mongo::plan(
            global,
            &desired,
            &tenants,
            Some(&snapshot),
            target_args.count_invalid,
        )
        .await?;
        return Ok(Planned {
            desired,
            shards: vec![DatabasePlan {
                name: None,
                source,
                targets,
                live,
                plan,
            }],
            options,
            mongo,
        });
    }
    let (mut desired, shards) = fleet::resolve(global, desired, &target_args.selection()?).await?;
    trace.mark("resolve tenants and databases");
    store_desired(global, &mut desired, PlannedAgainst::Live(&shards[0].db)).await?;
    let plans = crate::trace::with_spinner(
        "reading the databases and planning",
        fleet::plan_all(&desired, shards, options),
    )
    .await?;
    let shards = plans
        .into_iter()
        .map(|p| DatabasePlan {
            name: p.shard.name,
            source: LiveSource::Database(Box::new(p.shard.db)),
            targets: p.shard.targets,
            live: p.live,
            plan: p.plan,
        })
        .collect();
    let mut planned = Planned {
        desired,
        shards,
        options,
        mongo: None,
    };
    planned.mongo = mongo::plan(
        global,
        &planned.desired,
        &planned.tenants(),
        None,
        target_args.count_invalid,
    )
    .await?;
    trace.mark("mongo plan");
    Ok(planned)
}

/// The desired state: the project folder's files, or (`--desired-rev`)
/// the same files as they were at a git revision.
pub fn load_desired(global: &GlobalArgs, target_args: &TargetArgs) -> Result<DesiredState, Report> {
    let desired = match &target_args.desired_rev {
        None => load_project(&global.project)?,
        Some(revision) => {
            let extracted = crate::git::project_at(&global.project, revision)?;
            load_project(&extracted.path)?
        }
    };
    if let Some(problem) = kschema_core::lint::unknown_allowed_rule(&desired) {
        return Err(problem.into());
    }
    Ok(desired)
}

/// Online forms unless `--no-online` or kschema.toml says otherwise.
pub fn plan_options(desired: &DesiredState, target_args: &TargetArgs) -> PlanOptions {
    PlanOptions {
        online: !target_args.no_online && desired.config.plan.online.unwrap_or(true),
    }
}

/// The hazards this project's apply refuses unless allowed.
pub fn project_policy(desired: &DesiredState) -> HazardPolicy {
    match &desired.config.apply.blocking_hazards {
        Some(blocking) => HazardPolicy::blocking(blocking.clone()),
        None => HazardPolicy::default(),
    }
}

/// Reads a snapshot file, with a diagnostic pointing into it when it is not
/// one.
pub fn read_snapshot(path: &Path) -> Result<Snapshot, Report> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Problem::new(
            "kschema::snapshot::read",
            format!("cannot read snapshot {}: {e}", path.display()),
        )
        .with_help("take one with `kschema snapshot --out FILE`")
    })?;
    serde_json::from_str(&text).map_err(|e| {
        let file = SourceFile::new(path.display().to_string(), text);
        let span = file.span_at(e.line() as u64, e.column() as u64, 1);
        Report::new(
            Problem::new(
                "kschema::snapshot::invalid",
                format!("{} is not a kschema snapshot", path.display()),
            )
            .at(&file, span, e.to_string())
            .with_help("take a fresh one with `kschema snapshot --out FILE`"),
        )
    })
}

/// What the desired state is planned against, for [`store_desired`].
pub enum PlannedAgainst<'a> {
    /// A live database: its server builds the desired state unless a dev
    /// database is named.
    Live(&'a Database),
    /// A snapshot, with the version of the server it was taken from.
    Recorded(Option<i32>),
    /// Nothing in particular (a project compared to a project).
    Nothing,
}

/// Has PostgreSQL build the desired state and say how it stores it
/// (`db::materialize`): on the dev database's server (`--dev-url`,
/// `[plan] dev_url`; `local` is the local cluster), else on `target`'s
/// server, else (a plan against a snapshot) on the local cluster.
pub async fn store_desired(
    global: &GlobalArgs,
    desired: &mut DesiredState,
    target: PlannedAgainst<'_>,
) -> Result<(), Report> {
    let dev = global
        .dev_url
        .clone()
        .or_else(|| desired.config.plan.dev_url.clone())
        .filter(|u| !u.trim().is_empty());
    let builder = match (dev.as_deref(), target) {
        (None, PlannedAgainst::Live(target)) => Builder::Target(target.clone()),
        (dev, target) => {
            let server = match dev {
                Some(url) if url != "local" => Database::from_url(url)?,
                _ => {
                    let project = std::path::absolute(&global.project)
                        .unwrap_or_else(|_| global.project.clone());
                    Database::local(&project)?
                }
            };
            // A dev server of another major version may store other forms.
            let target_version = match target {
                PlannedAgainst::Live(target) => match target.connect().await {
                    Ok(client) => crate::db::introspect::server_version(&client).await.ok(),
                    Err(_) => None,
                },
                PlannedAgainst::Recorded(version) => version,
                PlannedAgainst::Nothing => None,
            };
            Builder::Dev {
                server,
                target_version,
            }
        }
    };
    crate::trace::with_spinner(
        "building the desired state",
        crate::db::materialize::store_desired(desired, &builder),
    )
    .await?;
    Ok(())
}

/// Whether to color text output.
pub fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    }
}

/// While `verify` runs other commands in-process, what they print is kept
/// for its report rather than shown.
static CAPTURED: Mutex<Option<String>> = Mutex::new(None);

/// Runs `work`, keeping what it prints: the output and the text.
pub async fn captured<T>(work: impl std::future::Future<Output = T>) -> (T, String) {
    set_capture(Some(String::new()));
    let output = work.await;
    let text = set_capture(None).unwrap_or_default();
    (output, text)
}

fn set_capture(to: Option<String>) -> Option<String> {
    let mut captured = CAPTURED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    std::mem::replace(&mut *captured, to)
}

/// Whether output is being kept (so no progress bar is drawn either).
pub fn capturing() -> bool {
    CAPTURED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .is_some()
}

/// Writes to stdout; a closed pipe surfaces as an error main treats as success.
pub fn print(text: &str) -> Result<(), Report> {
    // Renderers escape what they interpolate; this catches anything missed.
    let text = terminal_safe(text);
    if let Some(kept) = CAPTURED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .as_mut()
    {
        kept.push_str(&text);
        return Ok(());
    }
    // With `--format json` stdout is the events'.
    if apply::events::enabled() {
        let mut err = io::stderr().lock();
        let _ = err.write_all(text.as_bytes());
        return err.flush().into_diagnostic();
    }
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes()).into_diagnostic()?;
    out.flush().into_diagnostic()
}

/// Writes a file, creating its folder; errors name the file.
pub fn write_file(path: &Path, text: &str) -> Result<(), Report> {
    let result = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(path, text));
    result.map_err(|e| {
        Report::new(
            Problem::new(
                "kschema::io::write",
                format!("cannot write {}: {e}", path.display()),
            )
            .with_help("check that the folder exists and is writable"),
        )
    })
}

/// A problem about a command-line value, shown with a caret under it.
pub fn argument_problem(
    code: &'static str,
    message: String,
    shown: &str,
    label: &str,
    help: String,
) -> Problem {
    let file = SourceFile::new("command line", shown.to_string());
    Problem::new(code, message)
        .at(
            &file,
            SourceSpan::new(0.into(), shown.len()),
            label.to_string(),
        )
        .with_help(help)
}
