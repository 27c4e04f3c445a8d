//! Sans-IO region router (DESIGN §3.6): probe results and request outcomes go in with the
//! time as an argument, the region to use comes out. No browser types, no clock, no I/O, no
//! randomness, so the same code runs in the shell (wasm32) and in the native deterministic
//! simulation, and every rule is testable with a made-up timeline.
//!
//! What it keeps per region: an EWMA of `/health` RTT, health with hysteresis (down after 3
//! failed probes or at once on a refused request, up after 2 successes), a circuit breaker over
//! real requests (closed / open / half-open with one trial, cool-down doubling, half-open at
//! once when probes see the region come back from down), and a small window of request RTTs
//! for the hedge delay. One region is current; traffic moves away from it at once when it
//! fails, and towards a faster one only when that one is clearly faster for two probe rounds
//! in a row, so jitter cannot make traffic flap.
//!
//! How an adapter drives it (`now` in ms from any monotonic-enough clock):
//!
//! ```text
//! on timer:   log(router.tick(now))
//!             for r in router.probes_due(now) { spawn probe(r, abort after probe_timeout_ms()) }
//! on probe:   log(router.on_probe(r, now, ProbeResult::Answered { status, rtt_ms, report }))
//! send(cmd):  for r in router.candidates(now) {                // current first
//!               let Some(t) = router.start_request(&r, now) else { continue };
//!               race fetch(r, cmd) with sleep(router.hedge_delay(&r)); if the sleep wins and
//!                 the retry budget allows: h = hedge_target(now, &r), start_request(h), send
//!                 cmd with the same Idempotency-Key; first answer wins
//!               log(router.on_request_done(t, now, outcome))  // every ticket, exactly once,
//!                                                              // the hedge's and the loser's too
//!               if outcome answered { return } }              // else next candidate at once
//!             nothing answered → the command stays in the outbox
//! after any call: rearm the timer at router.next_wake(now) (a failed request asks for an
//!             early probe); render router.snapshot(now)
//! ```

mod breaker;
mod config;
mod event;
mod ewma;
mod health;
mod latency_window;
mod outcome;
mod region;
mod router;
mod snapshot;

pub use breaker::{BreakerState, BreakerView};
pub use config::{Config, MAX_WAIT_MS};
pub use event::{BreakerCause, DegradedCause, DownCause, RouterEvent, SwitchReason};
pub use ewma::Ewma;
pub use health::Health;
pub use latency_window::LatencyWindow;
pub use outcome::{is_region_failure, ProbeResult, RequestOutcome, RequestTicket};
pub use router::Router;
pub use snapshot::{LastChange, RegionSnapshot, RouterSnapshot};
