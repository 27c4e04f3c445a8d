//! What every command write (`POST /commands`, `/commands:batch`) goes through before it is
//! looked at as a command: a bounded body read, the per-client rate limit, the nesting limit,
//! and JSON errors that say what is wrong.
//!
//! The rate limit is checked first, before any refusal a client could provoke cheaply: a
//! client that floods malformed requests is throttled like one that floods valid ones.

use std::net::IpAddr;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use http_body_util::BodyExt;
use serde::Deserialize;

use super::rate_limit::retry_after_secs;
use super::RegionCtx;
use crate::http_error::{error, error_retry_after};
use crate::json_depth::{check_depth, TooDeep};
use crate::listener::PeerAddr;

/// Largest accepted `POST /commands` body, and largest command inside a batch.
pub const COMMAND_BODY_LIMIT: usize = 64 * 1024;

/// How much of an oversized body is still read (and thrown away) before answering 413.
///
/// Answering while the client is still sending makes it fail with a broken pipe or a reset
/// instead of reading the 413, and an outbox retries a network error for ever where it would
/// dead-letter a 413. Reading the rest lets the client see the answer and keep the connection.
/// A body longer than the limit plus this is cut short: the answer then says
/// `Connection: close`, since the unread rest makes the connection unusable.
pub const OVERSIZE_DRAIN: u64 = 1024 * 1024;

/// Reads at most `limit` bytes; 413 above, 400 if the body cannot be read.
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, Response> {
    let limit_u64 = limit as u64;
    let too_large = |close: bool| {
        let mut response = error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("body over {} KiB", limit / 1024),
        );
        if close {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit_u64 + OVERSIZE_DRAIN) {
        return Err(too_large(true));
    }
    let mut body = body;
    let mut kept = Vec::new();
    let mut total: u64 = 0;
    // Ends with the body, or once more than `limit + OVERSIZE_DRAIN` bytes were seen.
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|err| {
            error(
                StatusCode::BAD_REQUEST,
                "unreadable_body",
                format!("could not read the request body: {err}"),
            )
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total = total.saturating_add(data.len() as u64);
        if total <= limit_u64 {
            kept.extend_from_slice(&data);
        } else if total > limit_u64 + OVERSIZE_DRAIN {
            return Err(too_large(true));
        }
    }
    if total > limit_u64 {
        return Err(too_large(false));
    }
    Ok(Bytes::from(kept))
}

/// 400 with serde's reason; syntax errors and shape errors get distinct codes.
pub fn invalid_json(what: &str, err: &serde_json::Error) -> Response {
    let code = match err.classify() {
        serde_json::error::Category::Data => "invalid_command",
        _ => "malformed_json",
    };
    error(
        StatusCode::BAD_REQUEST,
        code,
        format!("{what} is not valid: {err}"),
    )
}

/// Refuses a body nested deeper than `limit`, before it is parsed.
pub fn check_nesting(bytes: &[u8], limit: usize) -> Result<(), Response> {
    check_depth(bytes, limit).map_err(|too_deep: TooDeep| {
        error(StatusCode::BAD_REQUEST, "too_deep", too_deep.to_string())
    })
}

/// Only the field the rate limit is keyed by; everything else is skipped unparsed.
#[derive(Deserialize)]
struct ClientOf {
    client_id: Option<String>,
}

/// The `client_id` of a single command body, when it is readable.
pub fn client_id_of(bytes: &[u8], depth_limit: usize) -> Option<String> {
    check_depth(bytes, depth_limit).ok()?;
    serde_json::from_slice::<ClientOf>(bytes)
        .ok()?
        .client_id
        .filter(|id| !id.is_empty())
}

/// The `client_id` of a command given as a JSON value (an item of a batch).
pub fn client_id_of_value(value: &serde_json::Value) -> Option<String> {
    value
        .get("client_id")
        .and_then(serde_json::Value::as_str)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
}

/// Charges one request to the client's bucket: the `client_id` when the body names one,
/// else the peer's IP address. 429 with `Retry-After` when the bucket is empty.
pub fn admit(
    ctx: &RegionCtx,
    peer: Option<PeerAddr>,
    client_id: Option<&str>,
) -> Result<(), Response> {
    let key = match (client_id, peer) {
        (Some(id), _) => format!("client:{id}"),
        (None, Some(PeerAddr(addr))) => format!("ip:{}", ip_key(addr.ip())),
        (None, None) => "ip:unknown".to_owned(),
    };
    ctx.region.limiter.admit(&key).map_err(|wait| {
        let seconds = retry_after_secs(wait);
        // The key comes from the request: keep what is echoed back short.
        let shown: String = key.chars().take(80).collect();
        tracing::debug!(region = %ctx.region.name, key = %shown, seconds, "rate limited");
        error_retry_after(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many requests from {shown}; retry in {seconds} s"),
            Some(seconds),
        )
    })
}

/// IPv4-mapped IPv6 addresses count as the IPv4 client they are.
fn ip_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_id_is_read_without_the_rest_of_the_command() {
        assert_eq!(
            client_id_of(br#"{"id":"x","client_id":"c1","payload":{"a":[1]}}"#, 32),
            Some("c1".into())
        );
        assert_eq!(client_id_of(br#"{"client_id":7}"#, 32), None);
        assert_eq!(client_id_of(br#"{"client_id":""}"#, 32), None);
        assert_eq!(client_id_of(b"not json", 32), None);
        assert_eq!(client_id_of(br#"{"client_id":"c","p":[[[]]]}"#, 2), None);
    }

    #[test]
    fn mapped_addresses_are_their_ipv4() {
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(ip_key(mapped), IpAddr::from([127, 0, 0, 1]));
        let v6: IpAddr = "::1".parse().unwrap();
        assert_eq!(ip_key(v6), v6);
    }
}
