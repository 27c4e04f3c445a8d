//! What the router tells the outside world happened, and why: the status bar and the logs
//! print these instead of guessing from two snapshots.

use serde::{Deserialize, Serialize};

/// Why traffic moved to another region (or to none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SwitchReason {
    /// First usable region after start.
    Initial,
    /// The other region was clearly faster for enough probe rounds.
    Faster,
    /// The current region went down.
    CurrentDown,
    /// The current region's breaker opened.
    BreakerOpened,
    /// A region became usable again after none was.
    Recovered,
    /// The current region is no longer in the region list.
    RegionRemoved,
}

impl SwitchReason {
    /// True when traffic moved because something failed (the UI says "failing over").
    pub fn is_failover(self) -> bool {
        matches!(self, Self::CurrentDown | Self::BreakerOpened)
    }
}

/// Why a region went down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DownCause {
    /// Too many consecutive failed probes.
    ProbeFailures,
    /// A real request's connection was refused.
    Refused,
    /// A request's network error was confirmed by an unreachable probe.
    Unreachable,
    /// `/health` said `unhealthy` (the region's kill switch).
    Unhealthy,
}

/// Why a region is degraded (still used, probed more often).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DegradedCause {
    /// A probe failed, not yet enough to call it down.
    ProbeFailed,
    /// `/health` answered `degraded` (e.g. replication lag over bound).
    Reported,
}

/// Why a breaker opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerCause {
    ConsecutiveFailures,
    FailureRate,
    /// The half-open trial failed.
    TrialFailed,
    /// The half-open trial was never reported back.
    TrialLost,
}

/// Something that changed, in the order it happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RouterEvent {
    CurrentChanged {
        from: Option<String>,
        to: Option<String>,
        reason: SwitchReason,
    },
    RegionUp {
        region: String,
    },
    RegionDegraded {
        region: String,
        cause: DegradedCause,
    },
    RegionDown {
        region: String,
        cause: DownCause,
    },
    BreakerOpened {
        region: String,
        cause: BreakerCause,
        /// How long until a trial request is allowed.
        cool_down_ms: i64,
    },
    BreakerHalfOpen {
        region: String,
    },
    BreakerClosed {
        region: String,
    },
}
