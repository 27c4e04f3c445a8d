//! Region health: probes each region's `/health`, keeps latency, and picks where to send.

use std::time::Duration;

use gloo_net::http::Request;
use leptos::prelude::*;
use mfe_contract::{HealthReport, HealthStatus, RegionInfo};
use web_sys::RequestCache;

use crate::clock::monotonic_ms;
use crate::fetch::send_with_timeout;
use crate::state::ShellState;

/// How often regions are probed. Short enough that a dead region shows within seconds.
pub const PROBE_INTERVAL: Duration = Duration::from_secs(3);
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// Consecutive failed probes before a region is shown as down.
const DOWN_AFTER: u32 = 2;
/// Weight of the newest sample in the smoothed latency.
const EWMA_ALPHA: f64 = 0.3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Health {
    Unknown,
    Up,
    Down,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Up => "up",
            Self::Down => "down",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RegionView {
    pub name: String,
    pub url: String,
    pub health: Health,
    /// Smoothed round-trip time of `/health`, ms.
    pub latency_ms: Option<f64>,
    pub failures: u32,
}

impl RegionView {
    pub fn new(info: &RegionInfo) -> Self {
        Self {
            name: info.name.clone(),
            url: info.url.trim_end_matches('/').to_string(),
            health: Health::Unknown,
            latency_ms: None,
            failures: 0,
        }
    }

    fn record_success(&mut self, rtt_ms: f64) {
        self.latency_ms = Some(match self.latency_ms {
            Some(old) => old + EWMA_ALPHA * (rtt_ms - old),
            None => rtt_ms,
        });
        self.failures = 0;
        self.health = Health::Up;
    }

    fn record_failure(&mut self) {
        self.failures += 1;
        if self.failures >= DOWN_AFTER {
            self.health = Health::Down;
        }
    }
}

/// Regions to try, best first: up ones by latency, then unknown ones, then down ones (a
/// request may still find a recovered region before the next probe does).
pub fn candidates(regions: &[RegionView]) -> Vec<RegionView> {
    let rank = |r: &RegionView| match r.health {
        Health::Up => 0,
        Health::Unknown => 1,
        Health::Down => 2,
    };
    let mut list = regions.to_vec();
    list.sort_by(|a, b| {
        rank(a).cmp(&rank(b)).then(
            a.latency_ms
                .unwrap_or(f64::MAX)
                .total_cmp(&b.latency_ms.unwrap_or(f64::MAX)),
        )
    });
    list
}

/// The region commands go to now, if any is up.
pub fn current(regions: &[RegionView]) -> Option<RegionView> {
    candidates(regions)
        .into_iter()
        .find(|r| r.health == Health::Up)
}

async fn probe(url: &str) -> Result<f64, String> {
    let started = monotonic_ms();
    let request = Request::get(&format!("{url}/health")).cache(RequestCache::NoStore);
    let response = send_with_timeout(request, None, PROBE_TIMEOUT)
        .await
        .map_err(|e| e.to_string())?;
    let rtt = monotonic_ms() - started;
    if response.status() != 200 {
        return Err(format!("HTTP {}", response.status()));
    }
    let report: HealthReport = response
        .json()
        .await
        .map_err(|e| format!("health answer is malformed: {e}"))?;
    if report.status == HealthStatus::Unhealthy {
        return Err("region reports itself unhealthy".into());
    }
    Ok(rtt)
}

/// Records the outcome of a real request: a failed one marks the region down at once, so the
/// next command goes elsewhere without waiting for a probe.
pub fn record_request(state: ShellState, name: &str, ok: bool) {
    state.regions.update(|regions| {
        if let Some(region) = regions.iter_mut().find(|r| r.name == name) {
            if ok {
                region.failures = 0;
                region.health = Health::Up;
            } else {
                region.failures = region.failures.max(DOWN_AFTER);
                region.health = Health::Down;
            }
        }
    });
}

/// Probes every region once, concurrently, and stores the results.
pub async fn probe_all(state: ShellState) {
    let targets: Vec<(String, String)> = state
        .regions
        .get_untracked()
        .into_iter()
        .map(|r| (r.name, r.url))
        .collect();
    let results =
        futures::future::join_all(targets.iter().map(|(_, url)| probe(url.as_str()))).await;
    state.regions.update(|regions| {
        for ((name, _), result) in targets.iter().zip(results) {
            if let Some(region) = regions.iter_mut().find(|r| &r.name == name) {
                match result {
                    Ok(rtt) => region.record_success(rtt),
                    Err(_) => region.record_failure(),
                }
            }
        }
    });
}
