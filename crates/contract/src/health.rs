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
}
