//! `GET /health`: a region's deep health check.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// Store writable, replication within bound, kill switch off.
    Ok,
    /// Serving but something is off (e.g. replication lag over bound).
    Degraded,
    /// Must not receive traffic (kill switch on, store unwritable).
    Unhealthy,
}

/// Header a region sets on every answer while it must not receive traffic (kill switch on),
/// with the value [`SWITCHED_OFF`]. A client learns it from the answer to its next command or
/// query instead of waiting for its next probe of `/health`, which stays the authority: only
/// probes bring the region back.
pub const REGION_HEALTH_HEADER: &str = "Region-Health";

/// The value of [`REGION_HEALTH_HEADER`]: the status `/health` reports, in its JSON spelling.
pub const SWITCHED_OFF: &str = "unhealthy";

/// Body of `GET /health` (200 when `Ok`/`Degraded`, 503 when `Unhealthy`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthReport {
    pub region: String,
    pub status: HealthStatus,
    pub store_ok: bool,
    pub replication_lag_ms: u64,
    pub version: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_round_trips_with_snake_case_status() {
        let report = HealthReport {
            region: "us-east".into(),
            status: HealthStatus::Ok,
            store_ok: true,
            replication_lag_ms: 12,
            version: "0.1.0".into(),
        };
        let text = serde_json::to_string(&report).unwrap();
        assert!(text.contains(r#""status":"ok""#), "{text}");
        assert_eq!(serde_json::from_str::<HealthReport>(&text).unwrap(), report);
    }

    #[test]
    fn the_switched_off_header_says_what_health_says() {
        let spelled = serde_json::to_string(&HealthStatus::Unhealthy).unwrap();
        assert_eq!(spelled, format!("\"{SWITCHED_OFF}\""));
    }
}
