//! Deterministic simulation of the shell's delivery path (DESIGN §5): the outbox core and the
//! router core, driven by the same adapter loop the browser runs, against three simulated
//! regions (stores, idempotency, replication, crashes and faults), a simulated network (loss,
//! delay, refusals, offline spells) and one or two tabs sharing a simulated IndexedDB (drain
//! lock, reloads, clock jumps). Time is virtual and every random choice comes from the seed,
//! so any failing seed replays exactly, step by step.
//!
//! - `cargo test -p mfe-simulation` runs 10,000 seeds (`SIM_SEEDS=<n>` for another count) and
//!   prints the totals and what the seeds exercised;
//! - `SIM_SEED=<n> cargo test -p mfe-simulation -- --nocapture` replays one seed and prints
//!   its plan and every step.
//!
//! Where things are: [`scenario`] draws a seed's plan (workload size, tabs, faults over time),
//! [`workload`] its clicks; [`region`], [`network`] and [`disk`] are the simulated outside
//! world; the adapter module is the shell's loop over the two cores (its doc lists the rules
//! an adapter must follow, learnt from this simulation); [`checks`] is what must hold at the
//! end, including the exact per-stream order guarantee.
//!
//! `run_seed` runs one seed and returns what went wrong; the tests in `tests/` run thousands.

mod adapter;
pub mod checks;
mod client;
pub mod coverage;
pub mod disk;
pub mod events;
mod http_date;
pub mod network;
mod probes;
pub mod region;
mod replication;
pub mod rng;
pub mod scenario;
pub mod trace;
mod transport;
pub mod workload;
mod world;

pub use coverage::{Cover, Coverage};
pub use events::Event;
pub use scenario::{Options, Scenario};
pub use world::{Stats, World};

/// The outcome of one seed.
#[derive(Debug)]
pub struct Report {
    pub seed: u64,
    pub stats: Stats,
    /// Empty when every check passed.
    pub failures: Vec<String>,
    /// The step-by-step account, when asked for.
    pub trace: Vec<String>,
    /// The plan of the seed, one line.
    pub summary: String,
    /// How often each interesting situation came up, to show what the seeds exercise.
    pub coverage: Coverage,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// The failure as the test prints it: seed, problems, and how to replay it.
    pub fn failure_text(&self) -> String {
        let mut text = format!("seed {} failed ({}):\n", self.seed, self.summary);
        for f in &self.failures {
            text.push_str("  - ");
            text.push_str(f);
            text.push('\n');
        }
        text.push_str(&replay_command(self.seed));
        text
    }
}

/// The command that replays one seed with its trace.
pub fn replay_command(seed: u64) -> String {
    format!("replay: SIM_SEED={seed} cargo test -p mfe-simulation -- --nocapture")
}

/// Runs one seed to quiescence and checks it.
pub fn run_seed(seed: u64, options: Options, tracing: bool) -> Report {
    let scenario = Scenario::plan(seed, options);
    let summary = scenario.summary();
    let mut world = World::new(scenario, tracing);
    if tracing {
        for (at, chaos) in &world.scenario.chaos {
            let line = format!("plan: {chaos:?}");
            world.trace.line(*at, line);
        }
    }
    world.run();
    let failures = checks::check(&world);
    if tracing {
        let line = format!(
            "end: {:?}, {} steps, drained {} ms after the heal (bound {} ms), final {:?}",
            if world.quiescent {
                "quiescent"
            } else {
                "NOT quiescent"
            },
            world.stats.steps,
            world.stats.drain_after_heal_ms,
            checks::heal_bound_ms(&world),
            checks::final_counts(&world)
        );
        let at = world.now;
        world.trace.line(at, line);
    }
    Report {
        seed,
        stats: world.stats,
        failures,
        trace: world.trace.take(),
        summary,
        coverage: world.coverage,
    }
}
