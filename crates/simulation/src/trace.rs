//! Step-by-step account of one run, printed when a single seed is replayed (`SIM_SEED`).
//! Off in the many-seed run, where formatting every step would cost more than the run itself:
//! the `trace!` macro does not even format its arguments unless tracing is on.

/// Collected lines, or nothing when disabled.
#[derive(Debug, Default)]
pub struct Trace {
    lines: Option<Vec<String>>,
}

impl Trace {
    pub fn new(enabled: bool) -> Self {
        Self {
            lines: enabled.then(Vec::new),
        }
    }

    pub fn enabled(&self) -> bool {
        self.lines.is_some()
    }

    /// One step at virtual time `at_ms` (ms since the start of the run).
    pub fn line(&mut self, at_ms: i64, text: String) {
        if let Some(lines) = &mut self.lines {
            lines.push(format!("{:>9.3}s  {text}", at_ms as f64 / 1_000.0));
        }
    }

    pub fn take(&mut self) -> Vec<String> {
        self.lines.take().unwrap_or_default()
    }
}

/// `trace!(world, "format", args…)`: records a line if tracing is on, else does nothing.
#[macro_export]
macro_rules! trace {
    ($world:expr, $($arg:tt)*) => {
        if $world.trace.enabled() {
            let at = $world.now;
            $world.trace.line(at, format!($($arg)*));
        }
    };
}
