//! `report-uri` endpoint: browsers POST a JSON report for every blocked script, style or
//! connection. The reports are logged and kept in memory, so the browser tests can assert that
//! a whole run produced none (`GET /csp-report`), and `POST /admin/reset` empties the list.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::Value;
use std::sync::Arc;

use super::policy::REPORT_PATH;
use crate::http_error::error;

/// Reports kept; later ones are counted and logged but not stored, so the first violations of
/// a run (the interesting ones) are never pushed out by a flood.
pub const MAX_REPORTS: usize = 1_000;
/// Largest report body read (a real report is well under 4 KiB).
const MAX_REPORT_BYTES: usize = 64 * 1024;

/// The violation reports received so far.
#[derive(Default)]
pub struct CspReports {
    reports: Mutex<VecDeque<Value>>,
    dropped: AtomicU64,
}

impl CspReports {
    /// Stores one report body: an object (`report-uri`'s `{"csp-report": …}`) or an array of
    /// reports (the Reporting API's `application/reports+json`).
    pub fn add(&self, body: Value) {
        let items = match body {
            Value::Array(items) => items,
            single => vec![single],
        };
        let mut reports = self.reports.lock().unwrap_or_else(|p| p.into_inner());
        for report in items {
            tracing::warn!(%report, "Content-Security-Policy violation");
            if reports.len() < MAX_REPORTS {
                reports.push_back(report);
            } else {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Every stored report, oldest first.
    pub fn list(&self) -> Vec<Value> {
        let reports = self.reports.lock().unwrap_or_else(|p| p.into_inner());
        reports.iter().cloned().collect()
    }

    /// Reports received beyond [`MAX_REPORTS`].
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    pub fn clear(&self) {
        self.reports
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.dropped.store(0, Ordering::Relaxed);
    }
}

/// `POST /csp-report` (any JSON content type) → 204; `GET /csp-report` → the JSON list.
pub fn routes(reports: Arc<CspReports>) -> Router {
    Router::new()
        .route(REPORT_PATH, post(receive).get(list))
        .layer(DefaultBodyLimit::max(MAX_REPORT_BYTES))
        .with_state(reports)
}

async fn receive(State(reports): State<Arc<CspReports>>, body: Bytes) -> Response {
    match serde_json::from_slice::<Value>(&body) {
        Ok(report) => {
            reports.add(report);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(err) => error(
            StatusCode::BAD_REQUEST,
            "invalid_report",
            format!("a CSP report must be JSON: {err}"),
        ),
    }
}

async fn list(State(reports): State<Arc<CspReports>>) -> Response {
    Json(reports.list()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arrays_are_split_and_the_list_is_bounded() {
        let reports = CspReports::default();
        reports.add(json!({"csp-report": {"blocked-uri": "inline"}}));
        reports.add(json!([{"type": "csp-violation"}, {"type": "csp-violation"}]));
        assert_eq!(reports.list().len(), 3);
        for _ in 0..MAX_REPORTS {
            reports.add(json!({}));
        }
        assert_eq!(reports.list().len(), MAX_REPORTS);
        assert_eq!(reports.dropped(), 3);
        assert_eq!(reports.list()[0]["csp-report"]["blocked-uri"], "inline");
        reports.clear();
        assert!(reports.list().is_empty());
        assert_eq!(reports.dropped(), 0);
    }
}
