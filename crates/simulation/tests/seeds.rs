//! The simulation as a test: thousands of seeds, each a full chaos run checked end to end.
//!
//! - `cargo test -p mfe-simulation` runs 10,000 seeds (`SIM_SEEDS=<n>` for another count);
//! - `SIM_SEED=<n> cargo test -p mfe-simulation -- --nocapture` replays one seed and prints its
//!   step-by-step trace.
//!
//! Seeds are independent, so they are spread over the machine's cores; each seed runs alone on
//! one thread with its own virtual clock, which keeps it deterministic.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use mfe_simulation::{run_seed, Coverage, Options, Report};

const DEFAULT_SEEDS: u64 = 10_000;

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    match value.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => panic!("{name}={value:?} is not a number"),
    }
}

/// Written straight to the process's stderr, so the summary shows without `--nocapture`.
fn say(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

fn replay(seed: u64, options: Options, label: &str) {
    let report = run_seed(seed, options, true);
    println!("{label} {}", report.summary);
    for line in &report.trace {
        println!("{line}");
    }
    println!("{:?}", report.stats);
    println!("{}", report.coverage.summary());
    assert!(report.passed(), "{}", report.failure_text());
    println!("{label} seed {seed}: all checks passed");
}

fn run_many(count: u64, first: u64, options: Options, label: &str) {
    let started = Instant::now();
    let next = AtomicU64::new(0);
    let totals = Mutex::new((0u64, 0u64, 0i64, 0i64));
    let coverage = Mutex::new(Coverage::default());
    let failures: Mutex<Vec<Report>> = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            // Each thread takes the next seed until none is left (at most `count` turns).
            scope.spawn(|| {
                for _ in 0..count {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    let report = run_seed(first + i, options, false);
                    {
                        let mut t = totals.lock().unwrap();
                        t.0 += report.stats.commands;
                        t.1 += report.stats.faults;
                        let drain = report.stats.drain_after_heal_ms;
                        t.2 = t.2.max(drain);
                        t.3 = t.3.max(drain - report.stats.clock_hold_ms);
                        coverage.lock().unwrap().merge(&report.coverage);
                    }
                    if !report.passed() {
                        failures.lock().unwrap().push(report);
                    }
                }
            });
        }
    });
    let secs = started.elapsed().as_secs_f64();
    let (commands, faults, worst_drain, worst_unstepped) = *totals.lock().unwrap();
    say(&format!(
        "{label}: {count} seeds, {commands} commands, {faults} faults in {secs:.1} s \
         ({:.0} seeds/s); slowest drain after the heal {:.1} s, {:.1} s beyond what a wall \
         clock stepped back holds up",
        count as f64 / secs.max(1e-9),
        worst_drain as f64 / 1_000.0,
        worst_unstepped as f64 / 1_000.0
    ));
    let coverage = coverage.into_inner().unwrap();
    say(&format!("{label} coverage: {}", coverage.summary()));
    let mut failures = failures.into_inner().unwrap();
    failures.sort_by_key(|r| r.seed);
    for report in &failures {
        say(&report.failure_text());
    }
    assert!(
        failures.is_empty(),
        "{label}: {} of {count} seeds failed; first: {}",
        failures.len(),
        failures[0].failure_text()
    );
}

/// Default chaos: every command must end delivered.
#[test]
fn chaos_seeds() {
    if let Some(seed) = env_u64("SIM_SEED") {
        return replay(seed, Options::default(), "chaos");
    }
    let count = env_u64("SIM_SEEDS").unwrap_or(DEFAULT_SEEDS);
    run_many(count, 0, Options::default(), "chaos");
}

/// Chaos plus commands every region refuses for good: those end dead with the server's
/// reason and take effect nowhere, and the rest of their streams is still delivered in order.
#[test]
fn poisoned_commands_become_dead_letters_and_the_rest_is_delivered() {
    if let Some(seed) = env_u64("SIM_SEED") {
        return replay(seed, Options { poison: true }, "poison");
    }
    let count = (env_u64("SIM_SEEDS").unwrap_or(DEFAULT_SEEDS) / 50).max(1);
    run_many(count, 1_000_000, Options { poison: true }, "poison");
}
