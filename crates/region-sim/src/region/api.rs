//! The regional HTTP API (DESIGN §3.5): health, single commands, the command log for tests,
//! and the stream read model. Batches live in `batch.rs`; the checks every command write
//! goes through (body size, rate limit, nesting) in `request.rs`.

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::Request;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use mfe_contract::{
    Command, HealthReport, HealthStatus, QueryAnswer, IDEMPOTENCY_KEY_HEADER, REGION_HEALTH_HEADER,
    SWITCHED_OFF,
};
use serde::Deserialize;
use tower_http::cors::CorsLayer;

use super::batch::post_batch;
use super::cors::IDEMPOTENT_REPLAYED;
use super::idempotency::{self, Outcome};
use super::request::{
    admit, check_nesting, client_id_of, invalid_json, read_body, COMMAND_BODY_LIMIT,
};
use super::store::{self, ListFilter, StoreError};
use super::{faults, RegionCtx};
use crate::clock::now_ms;
use crate::http_error::{error, error_retry_after};
use crate::json_depth::MAX_COMMAND_DEPTH;
use crate::listener::PeerAddr;

/// Longest accepted idempotency key (a UUID is 36 characters).
pub const MAX_KEY_LEN: usize = 255;
const DEFAULT_LIST_LIMIT: u32 = 1_000;
const MAX_LIST_LIMIT: u32 = 10_000;
/// What a client should wait before retrying a key that is still executing.
pub const IN_FLIGHT_RETRY_AFTER_S: u64 = 1;

/// The router of one region, with its faults and CORS applied.
pub fn router(ctx: RegionCtx, cors: CorsLayer) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/commands", post(post_command).get(list_commands))
        .route("/commands:batch", post(post_batch))
        .route("/q/stream/{stream}", get(read_stream))
        .fallback(not_found)
        .layer(from_fn_with_state(ctx.clone(), faults::app_faults))
        .layer(from_fn_with_state(ctx.clone(), switched_off_notice))
        .layer(cors)
        .layer(from_fn_with_state(ctx.clone(), faults::network_faults))
        .layer(from_fn_with_state(ctx.clone(), count_preflights))
        .with_state(ctx)
}

/// Counts CORS preflights (`OPTIONS` with `Access-Control-Request-Method`), for the admin API.
async fn count_preflights(State(ctx): State<RegionCtx>, request: Request, next: Next) -> Response {
    if request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        ctx.region.count_preflight();
    }
    next.run(request).await
}

async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such route on a region",
    )
}

/// Marks every answer given while the kill switch is on (`Region-Health: unhealthy`), so a
/// client leaves at its next answer rather than at its next probe. Commands still execute:
/// the switch takes the region out of rotation, it does not make it refuse work in flight.
async fn switched_off_notice(
    State(ctx): State<RegionCtx>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let mut response = next.run(request).await;
    if ctx.region.faults().kill_switch {
        response
            .headers_mut()
            .insert(REGION_HEALTH_HEADER, HeaderValue::from_static(SWITCHED_OFF));
    }
    response
}

/// Deep check: a real write and read on the store, replication lag, kill switch.
async fn health(State(ctx): State<RegionCtx>) -> Response {
    let now = now_ms();
    let region = &ctx.region;
    let kill_switch = region.faults().kill_switch;
    let store_ok = region.store.probe(now).await.is_ok();
    let lag = ctx
        .cluster
        .oldest_pending_for(&region.name)
        .await
        .map_or(0, |oldest| u64::try_from(now - oldest).unwrap_or(0));
    let status = if kill_switch || !store_ok {
        HealthStatus::Unhealthy
    } else if lag > region.health_lag_bound_ms {
        HealthStatus::Degraded
    } else {
        HealthStatus::Ok
    };
    let code = if status == HealthStatus::Unhealthy {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let report = HealthReport {
        region: region.name.clone(),
        status,
        store_ok,
        replication_lag_ms: lag,
        version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    (code, [(header::CACHE_CONTROL, "no-store")], Json(report)).into_response()
}

/// `POST /commands`: rate limit, validate, hold the key, execute once, replay afterwards.
async fn post_command(
    State(ctx): State<RegionCtx>,
    peer: Option<Extension<PeerAddr>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let body = read_body(&headers, body, COMMAND_BODY_LIMIT).await;
    let client_id = body
        .as_ref()
        .ok()
        .and_then(|bytes| client_id_of(bytes, MAX_COMMAND_DEPTH));
    if let Err(refusal) = admit(&ctx, peer.map(|p| p.0), client_id.as_deref()) {
        ctx.region.delay().await;
        return refusal;
    }
    let command = match validate_single(&headers, body) {
        Ok(command) => command,
        Err(refusal) => {
            ctx.region.delay().await;
            return refusal;
        }
    };
    let claim = ctx.region.in_flight.claim(&command.id);
    // Held by another request: 409 only while no answer is stored; a repeat of a command that
    // already executed is replayed however many repeats arrive together.
    if claim.is_none()
        && !idempotency::answered(&ctx.region.store, vec![command.id.clone()])
            .await
            .contains(&command.id)
    {
        ctx.region.delay().await;
        return error_retry_after(
            StatusCode::CONFLICT,
            "idempotency_key_in_flight",
            format!("command {} is still executing; retry later", command.id),
            Some(IN_FLIGHT_RETRY_AFTER_S),
        );
    }
    ctx.region.delay().await;
    let region = ctx.region.clone();
    let executed = ctx
        .region
        .store
        .write(move |tx| idempotency::execute(tx, &region.name, &region.peers, &command, now_ms()))
        .await;
    match executed {
        Ok(Outcome::Created(ack)) => (StatusCode::CREATED, Json(ack)).into_response(),
        Ok(Outcome::Replayed { status, body }) => replay(status, body),
        Ok(Outcome::KeyReused) => key_reused(),
        Err(err) => store_failure(&err),
    }
}

/// Checks in the order a client can fix them: key, size, nesting, JSON, key matches id.
fn validate_single(
    headers: &HeaderMap,
    body: Result<axum::body::Bytes, Response>,
) -> Result<Command, Response> {
    let key = match headers.get(IDEMPOTENCY_KEY_HEADER) {
        None => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "missing_idempotency_key",
                format!("send the command id in the {IDEMPOTENCY_KEY_HEADER} header"),
            ))
        }
        Some(value) => value.to_str().ok().map(str::trim).unwrap_or_default(),
    };
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "invalid_idempotency_key",
            format!("{IDEMPOTENCY_KEY_HEADER} must be 1 to {MAX_KEY_LEN} visible ASCII characters"),
        ));
    }
    let key = key.to_owned();
    let bytes = body?;
    check_nesting(&bytes, MAX_COMMAND_DEPTH)?;
    let command: Command =
        serde_json::from_slice(&bytes).map_err(|err| invalid_json("command", &err))?;
    if command.id != key {
        return Err(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_mismatch",
            format!(
                "{IDEMPOTENCY_KEY_HEADER} {key:?} must equal the command id {:?}",
                command.id
            ),
        ));
    }
    Ok(command)
}

fn replay(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED);
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::HeaderName::from_static(IDEMPOTENT_REPLAYED),
                HeaderValue::from_static("true"),
            ),
        ],
        body,
    )
        .into_response()
}

fn key_reused() -> Response {
    error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
        "this Idempotency-Key was already used for a different command",
    )
}

pub(super) fn store_failure(err: &StoreError) -> Response {
    tracing::warn!(%err, "store failure");
    match err {
        StoreError::Unwritable => error_retry_after(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            err.to_string(),
            Some(1),
        ),
        _ => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "store_error",
            err.to_string(),
        ),
    }
}

/// Query of `GET /commands`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    /// Only commands accepted at or after this time (ms since the epoch).
    since: Option<i64>,
    stream: Option<String>,
    id: Option<String>,
    limit: Option<u32>,
}

/// `GET /commands`: the stored commands, oldest accepted first, for tests to count.
async fn list_commands(
    State(ctx): State<RegionCtx>,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Response {
    let params = match params {
        Ok(Query(params)) => params,
        Err(rejection) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                rejection.body_text(),
            )
        }
    };
    let filter = ListFilter {
        since: params.since.unwrap_or(0),
        stream: params.stream,
        id: params.id,
        limit: params
            .limit
            .unwrap_or(DEFAULT_LIST_LIMIT)
            .min(MAX_LIST_LIMIT),
    };
    match ctx
        .region
        .store
        .read(move |conn| store::list_commands(conn, &filter))
        .await
    {
        Ok(commands) => Json(serde_json::json!({
            "region": ctx.region.name,
            "count": commands.len(),
            "commands": commands,
        }))
        .into_response(),
        Err(err) => store_failure(&err),
    }
}

/// `GET /q/stream/<stream>`: the stream's payloads in sequence order.
async fn read_stream(State(ctx): State<RegionCtx>, Path(stream): Path<String>) -> Response {
    match ctx
        .region
        .store
        .read(move |conn| store::stream_payloads(conn, &stream))
        .await
    {
        Ok(payloads) => Json(QueryAnswer {
            data: serde_json::Value::Array(payloads),
            as_of: now_ms(),
            region: ctx.region.name.clone(),
            stale: false,
        })
        .into_response(),
        Err(err) => store_failure(&err),
    }
}
