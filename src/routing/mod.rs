//! Browser adapter of the region router: probes `/health` on the core's schedule, feeds it
//! request outcomes, and publishes its snapshot to the status bar. Every decision (health,
//! latency, breaker, stickiness, failover order, hedge delay) is the core's.

pub mod network_time;
pub mod probe;

use std::cell::RefCell;
use std::time::Duration;

use leptos::prelude::*;
use mfe_contract::RegionInfo;
use mfe_router::{Config, RequestOutcome, RequestTicket, Router, RouterEvent};

use crate::clock::steady_ms as now_ms;
use crate::state::ShellState;

/// How often the probe loop looks at what is due; probes themselves follow the core's
/// schedule (30 s healthy, 5 s otherwise by default).
const TICK: Duration = Duration::from_millis(250);

thread_local! {
    static ROUTER: RefCell<Option<Router>> = const { RefCell::new(None) };
}

/// Runs `f` on the router, if regions are configured.
pub fn with_router<R>(f: impl FnOnce(&mut Router) -> R) -> Option<R> {
    ROUTER.with(|r| r.borrow_mut().as_mut().map(f))
}

/// Publishes the router's current picture and announces a change of region.
pub fn publish(state: ShellState, events: &[RouterEvent]) {
    let now = now_ms();
    if let Some(snapshot) = with_router(|r| r.snapshot(now)) {
        state.router.set(Some(snapshot));
    }
    // A region coming back (or traffic moving to one) is the moment to send what waited.
    if events.iter().any(|e| {
        matches!(
            e,
            RouterEvent::RegionUp { .. } | RouterEvent::CurrentChanged { to: Some(_), .. }
        )
    }) {
        crate::outbox::request_drain(state);
    }
    for event in events {
        if let RouterEvent::CurrentChanged { to, .. } = event {
            let text = match to {
                Some(to) => format!("Now served by {to}"),
                None => "No region can be reached; changes stay saved on this device".into(),
            };
            state.announcement.set(text);
        }
    }
}

/// Installs the router over `regions` and starts probing them.
pub fn start(state: ShellState, regions: Vec<RegionInfo>, config: Config) {
    ROUTER.with(|r| *r.borrow_mut() = Some(Router::new(config, regions)));
    publish(state, &[]);
    leptos::task::spawn_local(probe_loop(state));
}

async fn probe_loop(state: ShellState) {
    loop {
        if crate::connectivity::is_online() {
            let now = now_ms();
            let (events, due) =
                with_router(|r| (r.tick(now), r.probes_due(now))).unwrap_or_default();
            if !events.is_empty() {
                publish(state, &events);
            }
            for region in due {
                leptos::task::spawn_local(probe::run(state, region));
            }
        }
        gloo_timers::future::sleep(TICK).await;
    }
}

/// Regions to try now, best first.
pub fn candidates() -> Vec<String> {
    let now = now_ms();
    with_router(|r| r.candidates(now)).unwrap_or_default()
}

/// Base URL of a region.
///
/// Without a trailing `/`, so a path can follow: a region configured as `https://x.example/`
/// must not be sent `//commands` (a hedge once was).
pub fn url(region: &str) -> Option<String> {
    with_router(|r| r.url(region).map(|u| u.trim_end_matches('/').to_string())).flatten()
}

/// Asks leave to send one request to `region` (None: its breaker is open).
pub fn start_request(region: &str) -> Option<RequestTicket> {
    let now = now_ms();
    with_router(|r| r.start_request(region, now)).flatten()
}

/// Reports how a request ended, with the network's own round trip for it when the browser
/// measured one ([`network_time::Timing::network_ms`]).
pub fn finish_request(
    state: ShellState,
    ticket: RequestTicket,
    outcome: RequestOutcome,
    network_ms: Option<f64>,
) {
    let now = now_ms();
    let network = network_ms.map(|ms| ms.round() as i64);
    let events =
        with_router(|r| r.on_request_timed(ticket, now, outcome, network)).unwrap_or_default();
    publish(state, &events);
}

/// Reports an answer of `region` that said it is switched off (its kill switch): the next
/// request goes elsewhere without waiting for the region's next probe.
pub fn switched_off(state: ShellState, region: &str) {
    let now = now_ms();
    let events = with_router(|r| r.on_switched_off(region, now)).unwrap_or_default();
    publish(state, &events);
}

/// How long to wait for `region` before hedging to the next one.
pub fn hedge_delay(region: &str) -> Duration {
    let ms = with_router(|r| r.hedge_delay(region)).unwrap_or(2_000);
    Duration::from_millis(ms.max(0) as u64)
}

/// The next healthy region after `primary`, for a hedge.
pub fn hedge_target(primary: &str) -> Option<String> {
    let now = now_ms();
    with_router(|r| r.hedge_target(now, primary)).flatten()
}
