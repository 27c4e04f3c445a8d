//! Region simulator: N regional command APIs in one process, plus the shell's static files.
//!
//! Each region has its own listener and SQLite file and implements the regional API of
//! DESIGN §3.5 (deep health check, idempotent `POST /commands`, batches, a command log and a
//! stream read model), behind per-client rate limits and size and nesting limits. A
//! loopback-only admin API, off unless enabled, injects faults — down (connection refused and
//! open connections closed), black hole, latency, error rate, answer dropped after commit,
//! health kill switch — and controls asynchronous replication between regions. The same
//! process serves published micro apps and the shell with the cache headers DESIGN §4 relies on
//! and a Content Security Policy computed from the served `index.html`.
//!
//! Tests start everything on free ports:
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let sim = region_sim::Simulator::start(region_sim::SimConfig::for_tests("/tmp/sim")).await?;
//! let us_east = sim.region_url("us-east").unwrap();
//! // … talk HTTP to `us_east`, `sim.static_url()`, `sim.admin_url()` …
//! sim.stop().await;
//! # Ok(()) }
//! ```

pub mod admin;
pub mod cli;
pub mod clock;
pub mod config;
pub mod csp;
pub mod http_error;
pub mod json_depth;
pub mod listener;
pub mod region;
pub mod replication;
pub mod sim;
pub mod static_files;

pub use config::SimConfig;
pub use region::faults::Faults;
pub use region::rate_limit::RateLimit;
pub use sim::Simulator;
