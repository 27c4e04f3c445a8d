//! One `GET /health` probe, timed with `performance.now()` and bounded by the core's timeout.

use std::time::Duration;

use gloo_net::http::Request;
use mfe_contract::HealthReport;
use mfe_router::ProbeResult;
use web_sys::RequestCache;

use super::{publish, with_router};
use crate::clock::{monotonic_ms, steady_ms as now_ms};
use crate::fetch::{send_with_timeout, FetchFailure};
use crate::state::ShellState;

pub async fn run(state: ShellState, region: String) {
    let Some((url, timeout)) = with_router(|r| {
        r.url(&region)
            .map(|u| (u.trim_end_matches('/').to_string(), r.probe_timeout_ms()))
    })
    .flatten() else {
        return;
    };
    let started = monotonic_ms();
    let request = Request::get(&format!("{url}/health")).cache(RequestCache::NoStore);
    let timeout = Duration::from_millis(timeout.max(1) as u64);
    let result = match send_with_timeout(request, None, timeout).await {
        Ok(response) => {
            let rtt_ms = monotonic_ms() - started;
            let status = response.status();
            let report = response.json::<HealthReport>().await.ok();
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
