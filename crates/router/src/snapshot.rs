//! What the status bar (and `host.regions()`) shows: one serialisable picture of the router.
//! Field names are camelCase because apps read it from JavaScript too.

use serde::{Deserialize, Serialize};

use crate::breaker::BreakerView;
use crate::event::{DownCause, SwitchReason};
use crate::health::Health;

/// The router at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouterSnapshot {
    pub at_ms: i64,
    /// Region traffic goes to first, if any may carry it.
    pub current: Option<String>,
    /// The current region changed because something failed, recently: the UI says
    /// "failing over…".
    pub failing_over: bool,
    /// No region may carry traffic and none is still unknown: commands wait on this device.
    pub all_unreachable: bool,
    pub last_change: Option<LastChange>,
    /// In the order the regions were configured.
    pub regions: Vec<RegionSnapshot>,
}

/// The most recent change of the current region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LastChange {
    pub from: Option<String>,
    pub to: Option<String>,
    pub reason: SwitchReason,
    pub at_ms: i64,
}

/// One region's line in the status bar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionSnapshot {
    pub name: String,
    pub url: String,
    pub health: Health,
    /// Why it is down (switched off, unreachable, failing probes); `None` unless it is.
    pub down_cause: Option<DownCause>,
    pub is_current: bool,
    /// Probe RTT average; `None` until measured (ranked as the configured prior meanwhile).
    pub ewma_ms: Option<f64>,
    pub last_probe_rtt_ms: Option<f64>,
    pub last_request_rtt_ms: Option<i64>,
    /// p95 of recent successful requests, `None` before the first.
    pub p95_ms: Option<i64>,
    pub hedge_delay_ms: i64,
    /// Consecutive failed probes.
    pub consecutive_failures: u32,
    pub breaker: BreakerView,
}
