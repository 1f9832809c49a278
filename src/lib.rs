//! kschema's I/O shell: the command line, the local PostgreSQL, introspection
//! and apply. Planning itself is in the pure `kschema-core` crate.

pub mod cli;
pub mod commands;
pub mod db;
pub mod git;
pub mod project;
pub mod run;
pub mod trace;

use std::process::ExitCode;

use miette::Report;

/// How a command ended, as the process's exit code says it (a script or CI
/// job reads only that).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// Done; for `plan`, `diff`, `check` and `lint`: nothing to change.
    Success,
    /// `plan`, `diff`, `check` or `lint` found something to change.
    Changes,
    /// An error, reported on stderr; nothing was changed by it unless the
    /// report says so.
    Error,
    /// Stopped by Ctrl-C (the shell's 128 + SIGINT).
    Interrupted,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> ExitCode {
        match status {
            ExitStatus::Success => ExitCode::SUCCESS,
            ExitStatus::Error => ExitCode::from(1),
            ExitStatus::Changes => ExitCode::from(2),
            ExitStatus::Interrupted => ExitCode::from(130),
        }
    }
}

use cli::{Cli, Command};

/// Runs one command.
pub async fn run(cli: Cli) -> Result<ExitStatus, Report> {
    trace::init(cli.global.verbose, cli.global.quiet);
    db::connect::set_connect_timeout(connect_timeout(&cli.global));
    match &cli.command {
        Command::Plan(args) => commands::plan::run(&cli.global, args).await,
        Command::Apply(args) => commands::apply::run(&cli.global, args).await,
        Command::Snapshot(args) => commands::snapshot::run(&cli.global, args).await,
        Command::Diff(args) => commands::diff::run(&cli.global, args).await,
        Command::Check(args) => commands::check::run(&cli.global, args).await,
        Command::Rollback(args) => commands::rollback::run(&cli.global, args).await,
        Command::Verify(args) => commands::verify::run(&cli.global, args).await,
        Command::Inspect(args) => commands::inspect::run(&cli.global, args).await,
        Command::History(args) => commands::history::run(&cli.global, args).await,
        Command::Tenant { action } => commands::tenant::run(&cli.global, action).await,
        Command::Local { action } => commands::local::run(&cli.global, action),
        Command::Lint(args) => commands::lint::run(&cli.global, args),
        Command::Init(args) => commands::init::run(&cli.global, args),
        Command::Completions(args) => commands::init::completions(args.shell),
        Command::Man => commands::init::man_page(),
    }
}

/// `--connect-timeout`, else kschema.toml's (a file that does not parse is
/// reported when the project loads), else the default.
fn connect_timeout(global: &cli::GlobalArgs) -> std::time::Duration {
    let from_file = || {
        let path = global.project.join("kschema.toml");
        let text = std::fs::read_to_string(&path).ok()?;
        let file = kschema_core::SourceFile::new("kschema.toml", text);
        kschema_core::load::parse_config(&file)
            .ok()?
            .database
            .connect_timeout
    };
    global
        .connect_timeout
        .filter(|s| *s > 0.0)
        .or_else(from_file)
        .map(std::time::Duration::from_secs_f64)
        .unwrap_or(db::connect::DEFAULT_CONNECT_TIMEOUT)
}
