//! One `GET /health` probe, bounded by the core's timeout and timed by the browser's network
//! stack (Resource Timing) where it can be, else with `performance.now()` around the request.
//!
//! The time until this code runs again after the answer includes every task the main thread
//! ran meanwhile: a probe made while the page draws itself and starts its apps measured several
//! times the region's real round trip, and the first hedge delay, derived from the probes until
//! enough requests are measured, came out that much longer (a black-holed region cost ≈ 200 ms
//! instead of ≈ 125 ms). The browser's own entry for the request is not delayed so.

use std::time::Duration;

use gloo_net::http::Request;
use mfe_contract::HealthReport;
use mfe_router::ProbeResult;
use web_sys::RequestCache;

use super::network_time;
use super::{publish, with_router};
use crate::clock::{monotonic_ms, steady_ms as now_ms};
use crate::fetch::{send_with_timeout, FetchFailure};
use crate::state::ShellState;

pub async fn run(state: ShellState, region: String) {
    let (Some(url), Some(timeout)) = (super::url(&region), with_router(|r| r.probe_timeout_ms()))
    else {
        return;
    };
    let probe_url = format!("{url}/health");
    let timing = network_time::start(&probe_url);
    let started = monotonic_ms();
    let request = Request::get(&probe_url).cache(RequestCache::NoStore);
    let timeout = Duration::from_millis(timeout.max(1) as u64);
    let result = match send_with_timeout(request, None, timeout).await {
        Ok(response) => {
            let resumed_ms = monotonic_ms() - started;
            let status = response.status();
            let report = response.json::<HealthReport>().await.ok();
            let rtt_ms = timing.network_ms().unwrap_or(resumed_ms);
            ProbeResult::Answered {
                status,
                rtt_ms,
                report,
            }
        }
        Err(FetchFailure::Timeout) => ProbeResult::Timeout,
        Err(_) => ProbeResult::Unreachable,
    };
    // A probe that ran while the device went offline says nothing about the region.
    if !crate::connectivity::is_online() {
        return;
    }
    let now = now_ms();
    let events = with_router(|r| r.on_probe(&region, now, result)).unwrap_or_default();
    publish(state, &events);
}
