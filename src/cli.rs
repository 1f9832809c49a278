//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "kschema",
    version,
    about = "Keeps PostgreSQL schemas — public and one per tenant — in their desired state",
    long_about = "kschema reads the desired state from schema/ and tenants.toml, introspects the \
                  live database, and plans or applies the changes that converge public and every \
                  tenant schema. Without a database URL it uses a local PostgreSQL it starts itself \
                  under .kschema/pg."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Debug, Args)]
pub struct GlobalArgs {
    /// More on stderr: -v the time each phase took, -vv what kschema does
    /// on the way (diagnostics, through `tracing`; KSCHEMA_TRACE=1 is -v).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// No progress: no spinner, bar or line per finished target (the plan,
    /// summaries and errors stay).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// The project folder (holding schema/ and tenants.toml).
    #[arg(long, global = true, value_name = "DIR", default_value = ".")]
    pub project: PathBuf,

    /// The PostgreSQL database to converge. Without it, kschema uses its local
    /// cluster in .kschema/pg, started on demand.
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// A server kschema may create scratch databases on, to build the
    /// desired state and read it back as PostgreSQL stores it (`local`: its
    /// own local cluster) [default: kschema.toml's plan.dev_url, else the
    /// target server; a plan --against a snapshot uses the local cluster].
    #[arg(
        long,
        global = true,
        env = "KSCHEMA_DEV_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub dev_url: Option<String>,

    /// The MongoDB deployment for schema/mongo (without it, MongoDB is
    /// skipped, and the output says so).
    #[arg(
        long,
        global = true,
        env = "MONGODB_URI",
        value_name = "URI",
        hide_env_values = true
    )]
    pub mongodb_uri: Option<String>,

    /// Colors in text output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Seconds a database connection may take, handshake included, for
    /// PostgreSQL (unless the URL sets connect_timeout) and MongoDB
    /// [default: kschema.toml's database.connect_timeout, else 10].
    #[arg(long, global = true, value_name = "SECONDS", value_parser = seconds, env = "KSCHEMA_CONNECT_TIMEOUT")]
    pub connect_timeout: Option<f64>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what would change (exit 0: nothing; 2: changes; 1: error).
    Plan(PlanArgs),
    /// Converge the database to the desired state (or run a saved plan).
    Apply(ApplyArgs),
    /// Record the live state of every target in a JSON file, for planning
    /// without database access (`plan --against`).
    Snapshot(SnapshotArgs),
    /// Compare any two of: a project folder, a snapshot, a database URL.
    Diff(DiffArgs),
    /// Report drift from the desired state (exit 0: none; 2: drift; 1: error).
    Check(CheckArgs),
    /// Undo the most recent apply (from kschema.history): plan each target
    /// back to the schema it had before that run, then apply that.
    Rollback(ApplyArgs),
    /// Show what apply ran (kschema.history), newest first.
    History(HistoryArgs),
    /// Prove the round trip on a scratch database: build the previous
    /// desired state, apply the current one, check convergence, roll back,
    /// check the catalog is unchanged, apply again.
    Verify(VerifyArgs),
    /// Write desired-state files from a live database.
    Inspect(InspectArgs),
    /// Warnings about the desired state (exit 0: none; 2: some; 1: error);
    /// no database needed.
    Lint(LintArgs),
    /// Start a new project: schema/public, schema/tenant, tenants.toml,
    /// kschema.toml (every setting, commented) and a .gitignore.
    Init(InitArgs),
    /// Shell completions for bash, zsh, fish, elvish or powershell.
    Completions(CompletionsArgs),
    /// The manual page (roff), for `man -l -` or a package.
    Man,
    /// Add or remove a tenant.
    Tenant {
        #[command(subcommand)]
        action: TenantAction,
    },
    /// See or stop the local PostgreSQL kschema starts in .kschema/pg.
    Local {
        #[command(subcommand)]
        action: LocalAction,
    },
}

/// One `--tenant` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TenantChoice {
    All,
    Id(String),
}

fn tenant_choice(value: &str) -> Result<TenantChoice, String> {
    Ok(match value {
        "all" => TenantChoice::All,
        id => TenantChoice::Id(id.to_string()),
    })
}

/// Which tenants a command covers (public always).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TenantSelection {
    All,
    /// These ids, as given (checked against the registry when the targets
    /// are chosen, so an unknown one is shown where it was typed).
    Only(Vec<String>),
}

impl TenantSelection {
    /// No `--tenant`, or `--tenant all`, is every tenant; `all` among ids
    /// is a contradiction, refused rather than read one way or the other.
    pub fn from_choices(
        choices: &[TenantChoice],
    ) -> Result<TenantSelection, kschema_core::Problem> {
        let ids: Vec<String> = choices
            .iter()
            .filter_map(|c| match c {
                TenantChoice::Id(id) => Some(id.clone()),
                TenantChoice::All => None,
            })
            .collect();
        match (choices.contains(&TenantChoice::All), ids.is_empty()) {
            (_, true) => Ok(TenantSelection::All),
            (false, false) => Ok(TenantSelection::Only(ids)),
            (true, false) => Err(kschema_core::Problem::new(
                "kschema::args::tenant",
                format!(
                    "--tenant all cannot be combined with tenant ids ({})",
                    kschema_core::escape::printable(&ids.join(", "))
                ),
            )
            .with_help("pass --tenant all, or the ids alone")),
        }
    }

    pub fn is_all(&self) -> bool {
        matches!(self, TenantSelection::All)
    }
}

#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Tenants to include: `all` (the default) or ids, comma-separated or
    /// repeated. public is always included.
    #[arg(long = "tenant", value_name = "ID|all", value_delimiter = ',', value_parser = tenant_choice)]
    pub tenants: Vec<TenantChoice>,

    /// Use plain statements in one transaction instead of the online forms
    /// (CREATE INDEX CONCURRENTLY, NOT VALID + VALIDATE) — for maintenance windows.
    #[arg(long)]
    pub no_online: bool,

    /// For each MongoDB validator the plan tightens, count the documents
    /// it would reject.
    #[arg(long)]
    pub count_invalid: bool,

    /// Plan towards the desired state as it was at this git revision (of
    /// the repository the project lives in): rolling back is applying an
    /// earlier desired state.
    #[arg(long, value_name = "REV")]
    pub desired_rev: Option<String>,
}

impl TargetArgs {
    pub fn selection(&self) -> Result<TenantSelection, kschema_core::Problem> {
        TenantSelection::from_choices(&self.tenants)
    }
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub targets: TargetArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Also save the plan (JSON) for `kschema apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Plan against a snapshot instead of a database (no connection made).
    #[arg(long, value_name = "SNAPSHOT")]
    pub against: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    #[command(flatten)]
    pub targets: TargetArgs,

    /// Where to write the snapshot (e.g. snapshots/production.json).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The state to compare from: a project folder, a snapshot (.json) or a
    /// database URL.
    pub from: String,
    /// The state to compare to (the same kinds).
    pub to: String,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub targets: TargetArgs,

    /// Check a snapshot instead of a database.
    #[arg(long, value_name = "SNAPSHOT")]
    pub against: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved with `plan --out`: apply exactly its statements, refusing
    /// any target whose live state changed since.
    #[arg(value_name = "PLAN_FILE")]
    pub plan_file: Option<PathBuf>,

    #[command(flatten)]
    pub targets: TargetArgs,

    /// Allow the data-deleting hazards (deletes-data, may-lose-data): drops of
    /// tables, columns and sequences, narrowing type changes.
    #[arg(long)]
    pub allow_destructive: bool,

    /// Apply without asking. On a terminal, apply shows the plan and asks
    /// first; without one it changes nothing unless this is given (a saved
    /// plan, already reviewed, never asks).
    #[arg(long, short = 'y', visible_alias = "auto-approve")]
    pub yes: bool,

    /// Retry only the targets whose last run failed or did not finish
    /// (from kschema.history).
    #[arg(long, conflicts_with = "tenants")]
    pub only_failed: bool,

    /// Apply the tenants in waves: shares of them (cumulative) or counts,
    /// comma-separated, e.g. 1%,10%,100% [default: kschema.toml's
    /// rollout.waves]. The health gates are checked after each wave.
    #[arg(long, value_name = "SIZES", value_delimiter = ',')]
    pub waves: Vec<String>,

    /// Tenants that go first, as a wave of their own (comma-separated ids)
    /// [default: kschema.toml's rollout.canary].
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub canary: Vec<String>,

    /// Seconds to watch the gates between waves [default: rollout.soak, else 0].
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    pub soak: Option<f64>,

    /// A query that must return true in each tenant of a wave (run
    /// read-only on the tenant's search path) [default: rollout.probe].
    #[arg(long, value_name = "SQL")]
    pub probe: Option<String>,

    /// Continue the last rollout a gate halted (or that was killed), from
    /// the wave it stopped in, with the same waves (from kschema.rollouts).
    #[arg(long, conflicts_with_all = ["tenants", "only_failed", "plan_file", "all_at_once"])]
    pub resume: bool,

    /// Apply every tenant at once even when kschema.toml sets [rollout].
    #[arg(long, conflicts_with_all = ["waves", "canary"])]
    pub all_at_once: bool,

    /// Stop scheduling new tenants at the first failure (the default carries
    /// on and reports).
    #[arg(long)]
    pub fail_fast: bool,

    /// How long to wait for another apply on the same database to finish,
    /// in seconds, before giving up.
    #[arg(long, default_value_t = 60.0, value_name = "SECONDS", value_parser = seconds)]
    pub lock_wait: f64,

    /// Allow specific hazards, comma-separated (e.g. rewrites-table).
    #[arg(long = "allow-hazard", value_name = "HAZARD", value_delimiter = ',')]
    pub allow_hazards: Vec<kschema_core::hazard::HazardKind>,

    /// Tenant schemas applied at once [default: kschema.toml's
    /// apply.concurrency, else twice the CPUs of a server on this machine or
    /// 8 for a remote one, at most half its free connection slots].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: Option<u16>,

    /// Heavy statements (index builds, constraint validations, table
    /// rewrites) running at once on one server, however many tenants are
    /// applied at once [default: kschema.toml's apply.heavy_concurrency, else 2].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub heavy_concurrency: Option<u16>,

    /// How long each statement waits for a lock, in seconds; a lock timeout
    /// is retried with backoff (--lock-attempts) before the target fails [default: 3].
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    pub lock_timeout: Option<f64>,

    /// How long an online index build or drop (CONCURRENTLY) waits for
    /// older transactions and its lock, in seconds; a timeout is retried
    /// like any other, after dropping the invalid index it left [default: 300].
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    pub index_lock_timeout: Option<f64>,

    /// Attempts per transaction (or statement outside one) when a lock is not granted [default: 5].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub lock_attempts: Option<u32>,

    /// How long each statement may run, in seconds; 0 for no limit [default: 1800].
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    pub statement_timeout: Option<f64>,

    /// `json`: what apply does, as it does it, one JSON object per line on
    /// stdout (each wave, each target, a halt, the summary); the text goes
    /// to stderr.
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
}

impl ApplyArgs {
    /// The options `kschema apply ARGS…` would get: for commands that apply
    /// on the user's behalf (`tenant add`, `verify`).
    pub fn as_typed(args: &[&str]) -> Result<ApplyArgs, kschema_core::Problem> {
        as_typed("apply", args)
    }
}

/// The options `kschema <command> ARGS…` would get, parsed by clap, so
/// every option not given has the default the command line gives it: for
/// commands that run another one on the user's behalf.
pub fn as_typed<T: Args + clap::FromArgMatches>(
    command: &'static str,
    args: &[&str],
) -> Result<T, kschema_core::Problem> {
    let parser = T::augment_args(clap::Command::new(command).no_binary_name(true));
    parser
        .try_get_matches_from(args)
        .and_then(|matches| T::from_arg_matches(&matches))
        .map_err(|error| {
            kschema_core::Problem::new(
                "kschema::arguments",
                format!("{command} {}: {error}", args.join(" ")),
            )
        })
}

#[derive(Debug, Args)]
pub struct LintArgs {
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
}

/// Text for people, or JSON for tools (lint's report, apply's events).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TextOrJson {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Overwrite kschema's own files if they exist (never schema files).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The previous desired state: a git revision, or `empty` [default:
    /// HEAD's parent; an empty database when there is none].
    #[arg(long, value_name = "REV")]
    pub from_rev: Option<String>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The shared schema to write to schema/public.
    #[arg(long, default_value = "public")]
    pub schema: String,

    /// The tenant schema whose tables become schema/tenant [default: the
    /// majority shape among the tenant schemas].
    #[arg(long, value_name = "SCHEMA")]
    pub tenant_template: Option<String>,

    /// Schemas that are tenants (`*` matches anything); their ids become
    /// tenants.toml.
    #[arg(long, default_value = "org_*", value_name = "PATTERN")]
    pub tenant_pattern: String,

    /// Where to write (a new project folder) [default: the project folder].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// The MongoDB database whose collections become schema/mongo (with
    /// --mongodb-uri) [default: the only one there is].
    #[arg(long, value_name = "NAME")]
    pub mongo_database: Option<String>,

    /// Other shared schemas to write, each to schema/<name>/
    /// (comma-separated or repeated): they converge like public.
    #[arg(long = "shared", value_delimiter = ',', value_name = "SCHEMA")]
    pub shared: Vec<String>,

    /// Replace existing files.
    #[arg(long)]
    pub force: bool,

    /// Roles whose privileges to write (GRANT, ALTER DEFAULT PRIVILEGES),
    /// comma-separated [default: the project's [roles] managed]; a new
    /// project's kschema.toml lists them as managed.
    #[arg(long, value_delimiter = ',', value_name = "ROLE")]
    pub roles: Vec<String>,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only these tenants (ids, comma-separated or repeated); `public` for
    /// public, a shared schema's name for it.
    #[arg(long = "tenant", value_delimiter = ',')]
    pub tenants: Vec<String>,

    /// How many rows.
    #[arg(long, default_value_t = 50)]
    pub limit: i64,

    /// Show each row's statements.
    #[arg(long)]
    pub statements: bool,
}

#[derive(Debug, Subcommand)]
pub enum TenantAction {
    /// Register a tenant in tenants.toml and provision its schema.
    Add {
        id: String,
        /// A schema name other than org_<id>.
        #[arg(long)]
        schema: Option<String>,
    },
    /// Drop a tenant's schema (and every row in it) and unregister it.
    Remove {
        id: String,
        /// Required: removing a tenant deletes its data.
        #[arg(long = "allow-hazard", value_delimiter = ',')]
        allow_hazards: Vec<kschema_core::hazard::HazardKind>,
        /// Do not ask for the tenant id to be typed.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum LocalAction {
    /// Whether the local cluster exists and runs, and where.
    Status,
    /// Stop the local cluster (its data stays for the next run).
    Stop,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Sql,
    Json,
    Markdown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// A number of seconds: finite and not negative (`inf` or `NaN` would
/// overflow a duration).
fn seconds(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(value) if (0.0..=1e9).contains(&value) => Ok(value),
        Ok(_) => Err("give a number of seconds from 0 to 1e9".into()),
        Err(_) => Err(format!("{text:?} is not a number of seconds")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `tenant add` applies with is what the command line would give.
    #[test]
    fn apply_arguments_as_typed_take_the_command_lines_defaults() {
        let args = ApplyArgs::as_typed(&["--tenant", "acme", "--yes", "--all-at-once"]).unwrap();
        assert!(args.yes && args.all_at_once && !args.allow_destructive);
        assert_eq!(args.lock_wait, 60.0);
        assert_eq!(
            args.targets.selection().unwrap(),
            TenantSelection::Only(vec!["acme".to_string()])
        );
        let wrong = ApplyArgs::as_typed(&["--no-such-flag"]).unwrap_err();
        assert_eq!(wrong.code, "kschema::arguments");
    }
}
