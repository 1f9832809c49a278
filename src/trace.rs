//! Diagnostics on stderr, through `tracing`: `-v` (or `KSCHEMA_TRACE=1`)
//! shows how long each phase of a command took, for the benchmarks and for
//! whoever wonders where a slow run spent its time; `-vv` adds what kschema
//! does on the way. `-q` turns progress off.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

static QUIET: AtomicBool = AtomicBool::new(false);

/// Sets up the diagnostics for the command line's `-v` / `-q`.
pub fn init(verbose: u8, quiet: bool) {
    QUIET.store(quiet, Ordering::SeqCst);
    let verbose = match std::env::var_os("KSCHEMA_TRACE") {
        Some(_) => verbose.max(1),
        None => verbose,
    };
    let level = match verbose {
        0 => tracing::Level::WARN,
        1 => tracing::Level::INFO,
        _ => tracing::Level::DEBUG,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Whether progress is off (`-q`).
pub fn quiet() -> bool {
    QUIET.load(Ordering::SeqCst)
}

/// Marks the end of each phase; silent below `-v`.
pub struct Trace(Option<Mutex<Instant>>);

impl Trace {
    pub fn new() -> Trace {
        Trace(tracing::enabled!(tracing::Level::INFO).then(|| Mutex::new(Instant::now())))
    }

    /// Reports the time since the previous mark (or since `new`).
    pub fn mark(&self, phase: &str) {
        if let Some(Ok(mut last)) = self.0.as_ref().map(|m| m.lock()) {
            tracing::info!(
                "kschema trace: {phase}: {:.3}s",
                last.elapsed().as_secs_f64()
            );
            *last = Instant::now();
        }
    }
}

/// A spinner on stderr while `work` runs, on a terminal and without `-q`.
pub async fn with_spinner<T>(message: &str, work: impl std::future::Future<Output = T>) -> T {
    use std::io::IsTerminal;
    if quiet() || !std::io::stderr().is_terminal() {
        return work.await;
    }
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    spinner.set_message(message.to_string());
    spinner.enable_steady_tick(std::time::Duration::from_millis(100));
    let result = work.await;
    spinner.finish_and_clear();
    result
}

impl Default for Trace {
    fn default() -> Self {
        Trace::new()
    }
}
