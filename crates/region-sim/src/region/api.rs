//! The regional HTTP API (DESIGN §3.5): health, commands (single and batch), the command log
//! for tests, and the stream read model.

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use mfe_contract::{
    BatchItemResult, BatchResponse, Command, ErrorBody, HealthReport, HealthStatus, QueryAnswer,
    IDEMPOTENCY_KEY_HEADER,
};
use serde::Deserialize;
use tower_http::cors::CorsLayer;

use super::cors::IDEMPOTENT_REPLAYED;
use super::idempotency::{self, Claim, Outcome};
use super::store::{self, ListFilter, StoreError};
use super::{faults, RegionCtx};
use crate::clock::now_ms;
use crate::http_error::{error, error_retry_after};

/// Largest accepted `POST /commands` body.
pub const COMMAND_BODY_LIMIT: usize = 64 * 1024;
/// Most commands in one `POST /commands:batch`.
pub const MAX_BATCH_ITEMS: usize = 100;
/// A full batch of maximal commands plus the envelope.
const BATCH_BODY_LIMIT: usize = MAX_BATCH_ITEMS * COMMAND_BODY_LIMIT + 64 * 1024;
/// Longest accepted idempotency key (a UUID is 36 characters).
const MAX_KEY_LEN: usize = 255;
const DEFAULT_LIST_LIMIT: u32 = 1_000;
const MAX_LIST_LIMIT: u32 = 10_000;
/// What a client should wait before retrying a key that is still executing.
const IN_FLIGHT_RETRY_AFTER_S: u64 = 1;

/// The router of one region, with its faults and CORS applied.
pub fn router(ctx: RegionCtx, cors: CorsLayer) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/commands", post(post_command).get(list_commands))
        .route("/commands:batch", post(post_batch))
        .route("/q/stream/{stream}", get(read_stream))
        .fallback(not_found)
        .layer(from_fn_with_state(ctx.clone(), faults::app_faults))
        .layer(cors)
        .layer(from_fn_with_state(ctx.clone(), faults::network_faults))
        .with_state(ctx)
}

async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such route on a region",
    )
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

/// `POST /commands`: validate, hold the key, execute once, replay afterwards.
async fn post_command(State(ctx): State<RegionCtx>, headers: HeaderMap, body: Body) -> Response {
    let command = match validate_single(&headers, body).await {
        Ok(command) => command,
        Err(refusal) => {
            ctx.region.delay().await;
            return refusal;
        }
    };
    let Some(_claim) = ctx.region.in_flight.claim(&command.id) else {
        ctx.region.delay().await;
        return error_retry_after(
            StatusCode::CONFLICT,
            "idempotency_key_in_flight",
            format!("command {} is still executing; retry later", command.id),
            Some(IN_FLIGHT_RETRY_AFTER_S),
        );
    };
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

/// Checks in the order a client can fix them: key, size, JSON, key matches id.
async fn validate_single(headers: &HeaderMap, body: Body) -> Result<Command, Response> {
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
    let bytes = read_body(headers, body, COMMAND_BODY_LIMIT).await?;
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

/// Reads at most `limit` bytes; 413 above, 400 if the body cannot be read.
async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, Response> {
    let too_large = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("body over {} KiB", limit / 1024),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(too_large());
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Err(err) => Err(error(
            StatusCode::BAD_REQUEST,
            "unreadable_body",
            format!("could not read the request body: {err}"),
        )),
    }
}

/// 400 with serde's reason; syntax errors and shape errors get distinct codes.
fn invalid_json(what: &str, err: &serde_json::Error) -> Response {
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

fn store_failure(err: &StoreError) -> Response {
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

/// The batch body, read item by item so one malformed command fails alone (with the status it
/// would have had if sent alone) instead of failing the whole batch.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchEnvelope {
    commands: Vec<serde_json::Value>,
}

fn item_error(id: String, status: StatusCode, code: &str, message: String) -> BatchItemResult {
    BatchItemResult {
        id,
        status: status.as_u16(),
        ack: None,
        error: Some(ErrorBody::new(code, message)),
    }
}

/// `POST /commands:batch`: one result per item, in order, each as if sent alone.
async fn post_batch(State(ctx): State<RegionCtx>, headers: HeaderMap, body: Body) -> Response {
    let bytes = match read_body(&headers, body, BATCH_BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(refusal) => return refusal,
    };
    let envelope: BatchEnvelope = match serde_json::from_slice(&bytes) {
        Ok(envelope) => envelope,
        Err(err) => return invalid_json("batch", &err),
    };
    if envelope.commands.len() > MAX_BATCH_ITEMS {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_commands",
            format!(
                "{} commands in one batch; at most {MAX_BATCH_ITEMS}",
                envelope.commands.len()
            ),
        );
    }
    ctx.region.delay().await;

    let mut results: Vec<Option<BatchItemResult>> = vec![None; envelope.commands.len()];
    let mut claims: HashMap<String, Claim> = HashMap::new();
    let mut runnable: Vec<(usize, Command)> = Vec::new();
    for (index, value) in envelope.commands.into_iter().enumerate() {
        let id = value
            .get("id")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let size = serde_json::to_vec(&value).map_or(0, |v| v.len());
        if size > COMMAND_BODY_LIMIT {
            results[index] = Some(item_error(
                id,
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("command over {} KiB", COMMAND_BODY_LIMIT / 1024),
            ));
            continue;
        }
        let command: Command = match serde_json::from_value(value) {
            Ok(command) => command,
            Err(err) => {
                results[index] = Some(item_error(
                    id,
                    StatusCode::BAD_REQUEST,
                    "invalid_command",
                    format!("command is not valid: {err}"),
                ));
                continue;
            }
        };
        if command.id.is_empty() || command.id.len() > MAX_KEY_LEN {
            results[index] = Some(item_error(
                id,
                StatusCode::BAD_REQUEST,
                "invalid_idempotency_key",
                format!("a command id must be 1 to {MAX_KEY_LEN} characters"),
            ));
            continue;
        }
        // A key repeated inside the batch is this batch's own claim: it replays below.
        if !claims.contains_key(&command.id) {
            match ctx.region.in_flight.claim(&command.id) {
                Some(claim) => {
                    claims.insert(command.id.clone(), claim);
                }
                None => {
                    results[index] = Some(item_error(
                        command.id.clone(),
                        StatusCode::CONFLICT,
                        "idempotency_key_in_flight",
                        format!("command {} is still executing; retry later", command.id),
                    ));
                    continue;
                }
            }
        }
        runnable.push((index, command));
    }

    let ids: Vec<(usize, String)> = runnable.iter().map(|(i, c)| (*i, c.id.clone())).collect();
    let region = ctx.region.clone();
    let executed = ctx
        .region
        .store
        .write(move |tx| {
            runnable
                .iter()
                .map(|(_, command)| {
                    idempotency::execute(tx, &region.name, &region.peers, command, now_ms())
                })
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .await;
    drop(claims);
    match executed {
        Ok(outcomes) => {
            for ((index, id), outcome) in ids.into_iter().zip(outcomes) {
                results[index] = Some(batch_item(id, outcome));
            }
        }
        Err(err) => {
            let failure = store_failure(&err);
            for (index, id) in ids {
                results[index] = Some(item_error(
                    id,
                    failure.status(),
                    "store_unavailable",
                    err.to_string(),
                ));
            }
        }
    }
    let results = results.into_iter().flatten().collect();
    (StatusCode::OK, Json(BatchResponse { results })).into_response()
}

fn batch_item(id: String, outcome: Outcome) -> BatchItemResult {
    match outcome {
        Outcome::Created(ack) => BatchItemResult {
            id,
            status: idempotency::CREATED,
            ack: Some(ack),
            error: None,
        },
        Outcome::Replayed { status, body } => {
            let success = (200..300).contains(&status);
            BatchItemResult {
                id,
                status,
                ack: success.then(|| serde_json::from_str(&body).ok()).flatten(),
                error: (!success)
                    .then(|| serde_json::from_str(&body).ok())
                    .flatten(),
            }
        }
        Outcome::KeyReused => item_error(
            id,
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "this id was already used for a different command".into(),
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
