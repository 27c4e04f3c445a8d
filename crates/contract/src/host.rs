//! Messages of the host API the shell hands to every micro app (DESIGN §3.3).

use serde::{Deserialize, Serialize};

/// Version of the host API this contract describes. Apps declare the version they require in
/// their manifest; the shell refuses to mount an app that needs a newer one.
pub const HOST_API_VERSION: u32 = 1;

/// Where a dispatched command stands, as apps and the status bar see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandStatus {
    /// Saved on this device, waiting to be sent.
    Pending,
    /// Being sent right now.
    Inflight,
    /// Acknowledged by a region.
    Delivered,
    /// Rejected for good or expired; waits for the user to retry or discard it.
    Dead,
}

/// Answer of `host.query(path)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryAnswer {
    pub data: serde_json::Value,
    /// When the region produced the data, ms since the Unix epoch.
    pub as_of: i64,
    /// Region that answered (for a cached answer, the one that answered then).
    pub region: String,
    /// True when no region answered and this is the last cached answer.
    pub stale: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_and_query_round_trip() {
        let text = serde_json::to_string(&CommandStatus::Inflight).unwrap();
        assert_eq!(text, r#""inflight""#);
        let answer = QueryAnswer {
            data: serde_json::json!([1, 2]),
            as_of: 3,
            region: "ap-south".into(),
            stale: true,
        };
        let text = serde_json::to_string(&answer).unwrap();
        assert!(text.contains("asOf"));
        assert_eq!(serde_json::from_str::<QueryAnswer>(&text).unwrap(), answer);
    }
}
