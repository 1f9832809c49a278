//! `KSCHEMA_TRACE=1`: how long each phase of a command took, on stderr, for
//! the benchmarks and for whoever wonders where a slow run spent its time.

use std::sync::Mutex;
use std::time::Instant;

/// Marks the end of each phase; silent unless `KSCHEMA_TRACE` is set.
pub struct Trace(Option<Mutex<Instant>>);

impl Trace {
    pub fn new() -> Trace {
        Trace(std::env::var_os("KSCHEMA_TRACE").map(|_| Mutex::new(Instant::now())))
    }

    /// Prints the time since the previous mark (or since `new`).
    pub fn mark(&self, phase: &str) {
        if let Some(Ok(mut last)) = self.0.as_ref().map(|m| m.lock()) {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "kschema trace: {phase}: {:.3}s",
                last.elapsed().as_secs_f64()
            );
            *last = Instant::now();
        }
    }
}

impl Default for Trace {
    fn default() -> Self {
        Trace::new()
    }
}
