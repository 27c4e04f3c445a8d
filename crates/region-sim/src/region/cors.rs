//! CORS for the regional API: only the shell's origins may call it from a page.
//!
//! Commands carry `Content-Type: application/json` and `Idempotency-Key`, so every
//! `POST /commands` is preflighted; the preflight answer is cached for ten minutes to keep that
//! second round trip off the hot path.

use std::time::Duration;

use anyhow::{Context as _, Result};
use axum::http::{header, HeaderName, HeaderValue, Method};
use mfe_contract::REGION_HEALTH_HEADER;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Header set on replayed answers.
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// A layer that answers preflights and adds CORS headers for `origins` only.
pub fn layer(origins: &[String]) -> Result<CorsLayer> {
    let origins = origins
        .iter()
        .map(|origin| {
            HeaderValue::from_str(origin.trim_end_matches('/'))
                .with_context(|| format!("origin {origin:?} is not a valid header value"))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([
            HeaderName::from_static(IDEMPOTENT_REPLAYED),
            header::RETRY_AFTER,
            HeaderName::from_bytes(REGION_HEALTH_HEADER.as_bytes())
                .context("the Region-Health header name")?,
        ])
        .max_age(PREFLIGHT_MAX_AGE))
}
