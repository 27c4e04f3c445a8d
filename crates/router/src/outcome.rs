//! What the adapter reports back: how a probe or a real request ended, and how the router
//! reads it. Classification lives here so "a fast 503 is a failure, not a fast region" is
//! decided in one place.

use mfe_contract::{HealthReport, HealthStatus};

use crate::breaker::Permit;
use crate::health::ProbeFailure;

/// How a `GET /health` probe ended.
#[derive(Debug, Clone, PartialEq)]
pub enum ProbeResult {
    /// The region answered. `report` is the parsed body when it parsed (on any status: a 503
    /// may still say `unhealthy`). `rtt_ms` is measured by the adapter (e.g. with
    /// `performance.now()`), since sub-millisecond precision matters on loopback.
    Answered {
        status: u16,
        rtt_ms: f64,
        report: Option<HealthReport>,
    },
    /// Network error before any answer (refused, reset, DNS, CORS).
    Unreachable,
    /// No answer within [`crate::Config::probe_timeout_ms`].
    Timeout,
}

/// How a real request (command or query) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestOutcome {
    /// The region answered with this HTTP status.
    Status(u16),
    /// The connection was refused: the region is down, take it out at once. Report this only
    /// when the transport can tell (native clients); a browser's `fetch` cannot.
    Refused,
    /// Network error of unknown kind (a browser's "Failed to fetch"): could be a refusal,
    /// a reset after the region committed, or the device itself. A failure, and the region
    /// is probed early; an unreachable probe then confirms it down.
    NetworkError,
    /// No answer within the adapter's deadline.
    Timeout,
    /// The adapter gave up without an answer (lost a hedge race, page unloading): no evidence
    /// about the region either way. Releases a half-open trial slot.
    Cancelled,
}

/// Whether an HTTP answer to a real request says the region is in trouble. 408, 425, 429 and
/// every 5xx do, however fast they came back. Other 4xx answers are the request's fault and
/// prove the region works.
pub fn is_region_failure(status: u16) -> bool {
    matches!(status, 408 | 425 | 429 | 500..=599)
}

/// Leave to send one request to one region, from [`crate::Router::start_request`]. Hand it
/// back with the outcome to [`crate::Router::on_request_done`]; it is deliberately not
/// `Clone`, so one request is reported once.
#[derive(Debug, PartialEq, Eq)]
pub struct RequestTicket {
    pub(crate) region: String,
    pub(crate) started_at_ms: i64,
    pub(crate) permit: Permit,
}

impl RequestTicket {
    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn started_at_ms(&self) -> i64 {
        self.started_at_ms
    }

    /// True for the single request a half-open breaker lets through.
    pub fn is_trial(&self) -> bool {
        self.permit.is_trial()
    }
}

/// A probe result as the router uses it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ProbeVerdict {
    Healthy {
        rtt_ms: f64,
        degraded: bool,
    },
    Failed {
        failure: ProbeFailure,
        unreachable: bool,
    },
}

pub(crate) fn classify_probe(result: &ProbeResult) -> ProbeVerdict {
    match result {
        ProbeResult::Answered {
            status,
            rtt_ms,
            report,
        } => {
            let said = report.as_ref().map(|r| r.status);
            let ok_status = (200..300).contains(status);
            match said {
                Some(HealthStatus::Unhealthy) => ProbeVerdict::Failed {
                    failure: ProbeFailure::Unhealthy,
                    unreachable: false,
                },
                _ if !ok_status => ProbeVerdict::Failed {
                    failure: ProbeFailure::Plain,
                    unreachable: false,
                },
                _ => ProbeVerdict::Healthy {
                    rtt_ms: *rtt_ms,
                    degraded: said == Some(HealthStatus::Degraded),
                },
            }
        }
        ProbeResult::Unreachable => ProbeVerdict::Failed {
            failure: ProbeFailure::Plain,
            unreachable: true,
        },
        ProbeResult::Timeout => ProbeVerdict::Failed {
            failure: ProbeFailure::Plain,
            unreachable: false,
        },
    }
}

/// A request outcome as the router uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestVerdict {
    /// The region answered properly; the RTT is a valid latency sample.
    Answered,
    Failed(FailureKind),
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailureKind {
    Refused,
    NetworkError,
    /// Timeout or an error status.
    Other,
}

pub(crate) fn classify_request(outcome: RequestOutcome) -> RequestVerdict {
    match outcome {
        RequestOutcome::Status(status) if is_region_failure(status) => {
            RequestVerdict::Failed(FailureKind::Other)
        }
        RequestOutcome::Status(_) => RequestVerdict::Answered,
        RequestOutcome::Refused => RequestVerdict::Failed(FailureKind::Refused),
        RequestOutcome::NetworkError => RequestVerdict::Failed(FailureKind::NetworkError),
        RequestOutcome::Timeout => RequestVerdict::Failed(FailureKind::Other),
        RequestOutcome::Cancelled => RequestVerdict::Cancelled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(status: HealthStatus) -> Option<HealthReport> {
        Some(HealthReport {
            region: "eu-west".into(),
            status,
            store_ok: true,
            replication_lag_ms: 0,
            version: "0.1.0".into(),
        })
    }

    fn answered(status: u16, report: Option<HealthReport>) -> ProbeResult {
        ProbeResult::Answered {
            status,
            rtt_ms: 12.5,
            report,
        }
    }

    #[test]
    fn health_answers_classify() {
        assert_eq!(
            classify_probe(&answered(200, report(HealthStatus::Ok))),
            ProbeVerdict::Healthy {
                rtt_ms: 12.5,
                degraded: false
            }
        );
        assert_eq!(
            classify_probe(&answered(200, None)),
            ProbeVerdict::Healthy {
                rtt_ms: 12.5,
                degraded: false
            },
            "a bare 200 is alive"
        );
        assert_eq!(
            classify_probe(&answered(200, report(HealthStatus::Degraded))),
            ProbeVerdict::Healthy {
                rtt_ms: 12.5,
                degraded: true
            }
        );
        let kill = ProbeVerdict::Failed {
            failure: ProbeFailure::Unhealthy,
            unreachable: false,
        };
        assert_eq!(
            classify_probe(&answered(503, report(HealthStatus::Unhealthy))),
            kill
        );
        assert_eq!(
            classify_probe(&answered(200, report(HealthStatus::Unhealthy))),
            kill
        );
        let plain = ProbeVerdict::Failed {
            failure: ProbeFailure::Plain,
            unreachable: false,
        };
        assert_eq!(
            classify_probe(&answered(503, None)),
            plain,
            "fast 503 is a failure"
        );
        assert_eq!(
            classify_probe(&answered(503, report(HealthStatus::Ok))),
            plain
        );
        assert_eq!(classify_probe(&answered(404, None)), plain);
        assert_eq!(classify_probe(&ProbeResult::Timeout), plain);
        assert_eq!(
            classify_probe(&ProbeResult::Unreachable),
            ProbeVerdict::Failed {
                failure: ProbeFailure::Plain,
                unreachable: true
            }
        );
    }

    #[test]
    fn request_statuses_classify() {
        for s in [200, 201, 204, 400, 401, 403, 404, 409, 413, 422] {
            assert_eq!(
                classify_request(RequestOutcome::Status(s)),
                RequestVerdict::Answered,
                "{s}"
            );
        }
        for s in [408, 425, 429, 500, 502, 503, 504] {
            assert_eq!(
                classify_request(RequestOutcome::Status(s)),
                RequestVerdict::Failed(FailureKind::Other),
                "{s}"
            );
        }
        assert_eq!(
            classify_request(RequestOutcome::Refused),
            RequestVerdict::Failed(FailureKind::Refused)
        );
        assert_eq!(
            classify_request(RequestOutcome::Cancelled),
            RequestVerdict::Cancelled
        );
    }
}
