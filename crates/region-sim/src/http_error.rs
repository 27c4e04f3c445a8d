//! JSON error answers in the contract's `ErrorBody` shape, so every client (the shell's outbox,
//! Playwright fixtures, curl) can show the server's reason instead of a bare status code.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use mfe_contract::ErrorBody;

/// `status` with `{ "error": code, "message": message }`.
pub fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (status, Json(ErrorBody::new(code, message))).into_response()
}

/// Like [`error`], plus a `Retry-After` (seconds) the client's backoff must respect as a floor.
pub fn error_retry_after(
    status: StatusCode,
    code: &str,
    message: impl Into<String>,
    retry_after_s: Option<u64>,
) -> Response {
    let mut response = error(status, code, message);
    if let Some(seconds) = retry_after_s {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}
