//! `kschema`: parse arguments, run, map the result to an exit code
//! (`kschema::ExitStatus`: 0 success — for `plan`, nothing to change —,
//! 2 changes found, 1 any error, 130 interrupted).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use kschema::cli::Cli;
use kschema::ExitStatus;

fn main() -> ExitCode {
    install_error_reporter();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            let status = match error.use_stderr() {
                true => ExitStatus::Error,
                false => ExitStatus::Success,
            };
            return status.into();
        }
    };
    // Expressions are trees, and every pass over one recurses (see
    // `MAX_EXPRESSION_DEPTH`): generous stacks keep the deepest tree
    // kschema accepts far from an overflow. The memory is only reserved.
    let worker = std::thread::Builder::new()
        .name("kschema".into())
        .stack_size(STACK_BYTES)
        .spawn(move || run(cli));
    match worker.map(|w| w.join()) {
        Ok(Ok(status)) => status.into(),
        _ => ExitStatus::Error.into(),
    }
}

const STACK_BYTES: usize = 256 << 20;

fn run(cli: Cli) -> ExitStatus {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(STACK_BYTES)
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "kschema: cannot start: {error}");
            return ExitStatus::Error;
        }
    };
    match runtime.block_on(kschema::run(cli)) {
        Ok(status) => status,
        Err(report) if is_broken_pipe(&report) => ExitStatus::Success,
        Err(report) => {
            report_error(&report);
            ExitStatus::Error
        }
    }
}

/// Writes the diagnostic to stderr. A closed stderr (`2>&1 | head -1`) is
/// not worth a panic, and neither is a renderer that trips over its input:
/// then the plain message is shown.
fn report_error(report: &miette::Report) {
    use std::io::Write;
    let rendered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| format!("{report:?}")))
        .unwrap_or_else(|_| {
            let mut text = format!("error: {report}");
            for cause in report.chain().skip(1) {
                text.push_str(&format!("\n  caused by: {cause}"));
            }
            if let Some(help) = report.help() {
                text.push_str(&format!("\n  help: {help}"));
            }
            text
        });
    let text = kschema_core::escape::terminal_safe(&rendered);
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}");
    let _ = err.flush();
}

/// Diagnostics in full color on a terminal; elsewhere (CI logs, pipes) the
/// same layout without escape codes, at a fixed width.
/// Terminal hyperlinks stay off in both: the output is filtered down to color
/// codes (see `report_error`), which keeps text from files and catalogs
/// from sending its own escape sequences.
fn install_error_reporter() {
    let terminal = std::io::stderr().is_terminal();
    let _ = miette::set_hook(Box::new(move |_| {
        let options = miette::MietteHandlerOpts::new()
            .terminal_links(false)
            .unicode(true);
        let options = if terminal {
            options
        } else {
            options.force_graphical(true).color(false).width(100)
        };
        Box::new(options.build())
    }));
}

/// `kschema plan | head` closes the pipe early; that is not an error.
fn is_broken_pipe(report: &miette::Report) -> bool {
    report.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
