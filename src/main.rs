//! `kschema`: parse arguments, run, map the result to an exit code.
//! Exit codes: 0 success (for `plan`: nothing to change), 2 `plan` found
//! changes, 1 any error.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use kschema::cli::Cli;

fn main() -> ExitCode {
    install_error_reporter();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("kschema: cannot start: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(kschema::run(cli)) {
        Ok(code) => code,
        Err(report) if is_broken_pipe(&report) => ExitCode::SUCCESS,
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(1)
        }
    }
}

/// Diagnostics in full color on a terminal; elsewhere (CI logs, pipes) the
/// same layout without escape codes, at a fixed width.
fn install_error_reporter() {
    if !std::io::stderr().is_terminal() {
        let _ = miette::set_hook(Box::new(|_| {
            Box::new(
                miette::MietteHandlerOpts::new()
                    .force_graphical(true)
                    .color(false)
                    .unicode(true)
                    .terminal_links(false)
                    .width(100)
                    .build(),
            )
        }));
    }
}

/// `kschema plan | head` closes the pipe early; that is not an error.
fn is_broken_pipe(report: &miette::Report) -> bool {
    report.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
