//! Injected faults of one region and the middleware that applies them.
//!
//! Two layers, because faults live at two levels:
//! - network faults (black hole, latency) act on every request, CORS preflights included, as a
//!   broken network or an overloaded machine would;
//! - application faults (error rate, dropped answer after commit) sit inside the CORS layer, so
//!   a browser can read the injected 503 and its `Retry-After` the way it would read a real one.
//!
//! "Down" is not here: it is the listener being closed (see `listener.rs`). The health kill
//! switch is read by the `/health` handler.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::RegionCtx;
use crate::http_error::error_retry_after;
use crate::listener::ConnectionKill;

/// Upper bound of injected latency; anything longer is a black hole.
pub const MAX_LATENCY_MS: u64 = 120_000;
/// A black-holed request is held at most this long, then its connection is closed.
const BLACK_HOLE_MAX_HOLD: Duration = Duration::from_secs(600);
/// How much of a black-holed request's body is read (the client must see its upload finish).
const BLACK_HOLE_READ_LIMIT: usize = 8 * 1024 * 1024;

/// The fault set of one region. `POST /admin/regions/<name>/faults` replaces it whole: fields
/// left out are off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Accept and read requests, never answer.
    pub blackhole: bool,
    /// Added before answering (for command writes: while the key is held, so a repeat gets 409).
    pub latency_ms: u64,
    /// Share of requests (0..=1) answered with `error_status` before touching the store.
    pub error_rate: f64,
    /// 500 or 503 (any 5xx or 429: the region is unwell, every request); a 4xx such as 422
    /// rejects command writes only (POST), as a server-side validation rule would.
    pub error_status: u16,
    /// `Retry-After` seconds sent with injected errors.
    pub retry_after_s: Option<u64>,
    /// Execute and store command writes, then close the connection without answering.
    pub drop_after_commit: bool,
    /// `/health` answers 503 `unhealthy`; everything else keeps working.
    pub kill_switch: bool,
    /// Every store write fails: `/health` 503 with `store_ok: false`, command writes 503.
    pub store_unwritable: bool,
    /// Takes fewer commands per `POST /commands:batch` than the API's limit (1 to
    /// `MAX_BATCH_COMMANDS`): a bigger batch is refused whole with 413 `too_many_commands`, as
    /// a region deployed with a lower limit would.
    pub batch_limit: Option<usize>,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            blackhole: false,
            latency_ms: 0,
            error_rate: 0.0,
            error_status: 503,
            retry_after_s: None,
            drop_after_commit: false,
            kill_switch: false,
            store_unwritable: false,
            batch_limit: None,
        }
    }
}

impl Faults {
    /// Refuses settings that cannot be applied as asked.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.error_rate) {
            return Err(format!(
                "error_rate must be between 0 and 1, got {}",
                self.error_rate
            ));
        }
        if !(400..=599).contains(&self.error_status) {
            return Err(format!(
                "error_status must be a 4xx or 5xx status (500, 503, 429, 422, …), got {}",
                self.error_status
            ));
        }
        if let Some(limit) = self.batch_limit {
            if !(1..=mfe_contract::MAX_BATCH_COMMANDS).contains(&limit) {
                return Err(format!(
                    "batch_limit must be between 1 and {}, got {limit}",
                    mfe_contract::MAX_BATCH_COMMANDS
                ));
            }
        }
        if self.latency_ms > MAX_LATENCY_MS {
            return Err(format!(
                "latency_ms must be at most {MAX_LATENCY_MS}; use blackhole for no answer"
            ));
        }
        Ok(())
    }
}

/// `POST /commands` and `POST /commands:batch`: the requests that commit effects.
pub fn is_command_write(method: &Method, path: &str) -> bool {
    method == Method::POST && (path == "/commands" || path == "/commands:batch")
}

/// Outer layer: black hole and latency.
pub async fn network_faults(
    State(ctx): State<RegionCtx>,
    request: Request,
    next: Next,
) -> Response {
    let faults = ctx.region.faults();
    if faults.blackhole {
        return black_hole(&ctx, request).await;
    }
    // Command writes take their latency inside the handler, while the key is held.
    if faults.latency_ms > 0 && !is_command_write(request.method(), request.uri().path()) {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    next.run(request).await
}

/// Reads the request, then waits until the fault is cleared (or the region goes down, which
/// aborts this connection). A held request is never executed: when the fault clears, its
/// connection is closed without an answer.
async fn black_hole(ctx: &RegionCtx, request: Request) -> Response {
    let kill = request.extensions().get::<ConnectionKill>().cloned();
    let _ = axum::body::to_bytes(request.into_body(), BLACK_HOLE_READ_LIMIT).await;
    let mut faults = ctx.region.subscribe_faults();
    let _ = tokio::time::timeout(BLACK_HOLE_MAX_HOLD, faults.wait_for(|f| !f.blackhole)).await;
    match kill {
        Some(kill) => kill.close_without_answer().await,
        None => error_retry_after(
            StatusCode::SERVICE_UNAVAILABLE,
            "black_hole",
            "request was held by the black-hole fault",
            None,
        ),
    }
}

/// Inner layer (inside CORS): injected errors and answers dropped after commit.
pub async fn app_faults(State(ctx): State<RegionCtx>, request: Request, next: Next) -> Response {
    let faults = ctx.region.faults();
    // A 4xx (other than 429) is about the request, not the region: it rejects command writes
    // (e.g. 422 for a server-side validation rule) while health and reads keep working.
    let rejects_request = (400..500).contains(&faults.error_status) && faults.error_status != 429;
    let applies = !rejects_request || request.method() == axum::http::Method::POST;
    if applies && faults.error_rate > 0.0 && rand::random::<f64>() < faults.error_rate {
        let status =
            StatusCode::from_u16(faults.error_status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return error_retry_after(
            status,
            "injected_fault",
            format!(
                "region {} answers {} to {:.0}% of requests (fault injection)",
                ctx.region.name,
                faults.error_status,
                faults.error_rate * 100.0
            ),
            faults.retry_after_s,
        );
    }
    let drop_answer =
        faults.drop_after_commit && is_command_write(request.method(), request.uri().path());
    let kill = request.extensions().get::<ConnectionKill>().cloned();
    let response = next.run(request).await;
    match (drop_answer, kill) {
        (true, Some(kill)) => {
            tracing::info!(region = %ctx.region.name, "dropping the answer after commit");
            kill.close_without_answer().await
        }
        _ => response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_fields_are_off() {
        let faults: Faults = serde_json::from_str(r#"{"latency_ms": 300}"#).unwrap();
        assert_eq!(
            faults,
            Faults {
                latency_ms: 300,
                ..Faults::default()
            }
        );
        assert!(serde_json::from_str::<Faults>(r#"{"latency": 3}"#).is_err());
    }

    #[test]
    fn validation_explains_the_problem() {
        let bad = Faults {
            error_rate: 1.5,
            ..Faults::default()
        };
        assert!(bad.validate().unwrap_err().contains("error_rate"));
        let bad = Faults {
            error_status: 302,
            ..Faults::default()
        };
        assert!(bad.validate().unwrap_err().contains("error_status"));
        assert!(Faults::default().validate().is_ok());
    }

    #[test]
    fn only_command_posts_are_writes() {
        assert!(is_command_write(&Method::POST, "/commands"));
        assert!(is_command_write(&Method::POST, "/commands:batch"));
        assert!(!is_command_write(&Method::GET, "/commands"));
        assert!(!is_command_write(&Method::POST, "/health"));
    }
}
