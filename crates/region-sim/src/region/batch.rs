//! `POST /commands:batch`: many commands in one request, one result per item, in order.
//!
//! Each item gets the status it would have had if sent alone, with one exception that keeps a
//! stream's order intact: once an item of a stream fails (any non-2xx), the later items of
//! **the same stream** in that batch are not executed and get 424 `failed_dependency`, naming
//! the failed id. Executing them would apply command n+1 of a stream while command n is
//! headed for retry or the dead-letter list. Other streams in the batch are unaffected. An
//! item whose `stream` cannot be read (it is not a valid command) fails alone.
//!
//! All executions of one batch run in one store transaction; if the store fails, every item
//! that would have executed gets the store's error and nothing is applied.

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use mfe_contract::{BatchItemResult, BatchResponse, Command, ErrorBody};
use serde::Deserialize;

use super::api::{store_failure, IN_FLIGHT_RETRY_AFTER_S, MAX_KEY_LEN};
use super::idempotency::{self, Claim, Outcome};
use super::request::{
    admit, check_nesting, client_id_of_value, invalid_json, read_body, COMMAND_BODY_LIMIT,
};
use super::RegionCtx;
use crate::clock::now_ms;
use crate::http_error::error;
use crate::json_depth::MAX_COMMAND_DEPTH;
use crate::listener::PeerAddr;

/// Most commands in one `POST /commands:batch`.
pub const MAX_BATCH_ITEMS: usize = mfe_contract::MAX_BATCH_COMMANDS;
/// A full batch of maximal commands plus the envelope.
const BATCH_BODY_LIMIT: usize = MAX_BATCH_ITEMS * COMMAND_BODY_LIMIT + 64 * 1024;
/// The envelope (`{"commands": [ … ]}`) adds two levels above each command.
const BATCH_DEPTH: usize = MAX_COMMAND_DEPTH + 2;

/// The batch body, read item by item so one malformed command fails alone (with the status it
/// would have had if sent alone) instead of failing the whole batch.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchEnvelope {
    commands: Vec<serde_json::Value>,
}

impl BatchEnvelope {
    /// Whose batch this is, for the rate limit: the first item that names its client.
    fn client_id(&self) -> Option<String> {
        self.commands.iter().find_map(client_id_of_value)
    }
}

fn parse_envelope(bytes: &Bytes) -> Result<BatchEnvelope, Response> {
    check_nesting(bytes, BATCH_DEPTH)?;
    serde_json::from_slice(bytes).map_err(|err| invalid_json("batch", &err))
}

/// One item after the checks that need no store: refused already, or ready to execute.
enum Planned {
    Refused {
        result: BatchItemResult,
        stream: Option<String>,
    },
    Run(Command),
    /// Its key is held by another request: it runs (and replays) if an answer is stored,
    /// else it is refused with 409.
    Busy(Command),
}

impl Planned {
    fn id(&self) -> &str {
        match self {
            Self::Refused { result, .. } => &result.id,
            Self::Run(command) | Self::Busy(command) => &command.id,
        }
    }
}

fn in_flight(command: Command) -> Planned {
    Planned::Refused {
        result: item_error(
            command.id.clone(),
            StatusCode::CONFLICT,
            "idempotency_key_in_flight",
            format!(
                "command {} is still executing; retry in {IN_FLIGHT_RETRY_AFTER_S} s",
                command.id
            ),
        ),
        stream: Some(command.stream),
    }
}

/// The first failure of a stream inside the batch.
#[derive(Clone)]
struct Failed {
    id: String,
    status: u16,
}

fn item_error(id: String, status: StatusCode, code: &str, message: String) -> BatchItemResult {
    BatchItemResult {
        id,
        status: status.as_u16(),
        ack: None,
        error: Some(ErrorBody::new(code, message)),
    }
}

fn failed_dependency(id: String, stream: &str, failed: &Failed) -> BatchItemResult {
    item_error(
        id,
        StatusCode::FAILED_DEPENDENCY,
        "failed_dependency",
        format!(
            "not executed: command {} of stream {stream:?} failed earlier in this batch \
             (status {}); resend this one after it",
            failed.id, failed.status
        ),
    )
}

/// `POST /commands:batch`: one result per item, in order, each as if sent alone, except for
/// the later items of a stream that failed (424).
pub async fn post_batch(
    State(ctx): State<RegionCtx>,
    peer: Option<Extension<PeerAddr>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let envelope = match read_body(&headers, body, BATCH_BODY_LIMIT).await {
        Ok(bytes) => parse_envelope(&bytes),
        Err(refusal) => Err(refusal),
    };
    let client_id = envelope.as_ref().ok().and_then(BatchEnvelope::client_id);
    if let Err(refusal) = admit(&ctx, peer.map(|p| p.0), client_id.as_deref()) {
        return refusal;
    }
    let envelope = match envelope {
        Ok(envelope) => envelope,
        Err(refusal) => return refusal,
    };
    let limit = ctx.region.faults().batch_limit.unwrap_or(MAX_BATCH_ITEMS);
    if envelope.commands.len() > limit {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_commands",
            format!(
                "{} commands in one batch; at most {limit}",
                envelope.commands.len()
            ),
        );
    }
    ctx.region.delay().await;

    // Claims are held until every item has executed, so a concurrent request with one of
    // these keys gets 409 instead of racing this batch.
    let mut claims: HashMap<String, Claim> = HashMap::new();
    let plan: Vec<Planned> = envelope
        .commands
        .into_iter()
        .map(|value| plan_item(&ctx, value, &mut claims))
        .collect();
    let busy: Vec<String> = plan
        .iter()
        .filter(|item| matches!(item, Planned::Busy(_)))
        .map(|item| item.id().to_owned())
        .collect();
    let answered = idempotency::answered(&ctx.region.store, busy).await;
    let plan: Vec<Planned> = plan
        .into_iter()
        .map(|item| match item {
            Planned::Busy(command) if answered.contains(&command.id) => Planned::Run(command),
            Planned::Busy(command) => in_flight(command),
            other => other,
        })
        .collect();
    let skeleton: Vec<(String, Option<BatchItemResult>)> = plan
        .iter()
        .map(|item| match item {
            Planned::Refused { result, .. } => (item.id().to_owned(), Some(result.clone())),
            Planned::Run(_) | Planned::Busy(_) => (item.id().to_owned(), None),
        })
        .collect();
    let region = ctx.region.clone();
    let executed = ctx
        .region
        .store
        .write(move |tx| {
            run_in_order(plan, |command| {
                idempotency::execute(tx, &region.name, &region.peers, command, now_ms())
            })
        })
        .await;
    drop(claims);
    let results = match executed {
        Ok(results) => results,
        Err(err) => {
            let failure = store_failure(&err);
            skeleton
                .into_iter()
                .map(|(id, refused)| {
                    refused.unwrap_or_else(|| {
                        item_error(id, failure.status(), "store_unavailable", err.to_string())
                    })
                })
                .collect()
        }
    };
    (StatusCode::OK, Json(BatchResponse { results })).into_response()
}

/// The checks of one item that need no store: size, shape, key, and the in-flight claim.
fn plan_item(
    ctx: &RegionCtx,
    value: serde_json::Value,
    claims: &mut HashMap<String, Claim>,
) -> Planned {
    let id = value
        .get("id")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let stream = value
        .get("stream")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned);
    let refuse = |result| Planned::Refused {
        result,
        stream: stream.clone(),
    };
    let size = serde_json::to_vec(&value).map_or(0, |v| v.len());
    if size > COMMAND_BODY_LIMIT {
        return refuse(item_error(
            id,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("command over {} KiB", COMMAND_BODY_LIMIT / 1024),
        ));
    }
    let command: Command = match serde_json::from_value(value) {
        Ok(command) => command,
        Err(err) => {
            return refuse(item_error(
                id,
                StatusCode::BAD_REQUEST,
                "invalid_command",
                format!("command is not valid: {err}"),
            ))
        }
    };
    if command.id.is_empty() || command.id.len() > MAX_KEY_LEN {
        return refuse(item_error(
            id,
            StatusCode::BAD_REQUEST,
            "invalid_idempotency_key",
            format!("a command id must be 1 to {MAX_KEY_LEN} characters"),
        ));
    }
    // A key repeated inside the batch is this batch's own claim: it replays when executed.
    if !claims.contains_key(&command.id) {
        match ctx.region.in_flight.claim(&command.id) {
            Some(claim) => {
                claims.insert(command.id.clone(), claim);
            }
            None => return Planned::Busy(command),
        }
    }
    Planned::Run(command)
}

/// Walks the plan in request order, executing what may run and applying the stream rule.
/// `execute` is the store call; an `Err` from it aborts the whole batch.
fn run_in_order<E>(
    plan: Vec<Planned>,
    mut execute: impl FnMut(&Command) -> Result<Outcome, E>,
) -> Result<Vec<BatchItemResult>, E> {
    let mut failed: HashMap<String, Failed> = HashMap::new();
    let mut results = Vec::with_capacity(plan.len());
    for item in plan {
        let (stream, result) = match item {
            Planned::Refused { result, stream } => match stream {
                Some(stream) => match failed.get(&stream) {
                    Some(first) => {
                        let blocked = failed_dependency(result.id, &stream, first);
                        results.push(blocked);
                        continue;
                    }
                    None => (Some(stream), result),
                },
                None => (None, result),
            },
            // `Busy` items were resolved before the plan ran; executing one would still only
            // replay or execute once under the store's transaction.
            Planned::Run(command) | Planned::Busy(command) => {
                if let Some(first) = failed.get(&command.stream) {
                    results.push(failed_dependency(command.id, &command.stream, first));
                    continue;
                }
                let outcome = execute(&command)?;
                (Some(command.stream), batch_item(command.id, outcome))
            }
        };
        if let (Some(stream), false) = (stream, (200..300).contains(&result.status)) {
            failed.entry(stream).or_insert_with(|| Failed {
                id: result.id.clone(),
                status: result.status,
            });
        }
        results.push(result);
    }
    Ok(results)
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

#[cfg(test)]
mod tests {
    use mfe_contract::CommandAck;

    use super::*;

    fn command(id: &str, stream: &str) -> Command {
        Command {
            id: id.into(),
            client_id: "c".into(),
            seq: 1,
            stream: stream.into(),
            kind: "k".into(),
            app: "a".into(),
            payload: serde_json::Value::Null,
            created_at: 0,
        }
    }

    fn refused(id: &str, stream: Option<&str>, status: StatusCode) -> Planned {
        Planned::Refused {
            result: item_error(id.into(), status, "x", String::new()),
            stream: stream.map(str::to_owned),
        }
    }

    /// Executes everything, refusing ids that start with "bad".
    fn run(plan: Vec<Planned>) -> (Vec<(String, u16)>, Vec<String>) {
        let mut executed = Vec::new();
        let results = run_in_order::<()>(plan, |c| {
            executed.push(c.id.clone());
            Ok(if c.id.starts_with("bad") {
                Outcome::KeyReused
            } else {
                Outcome::Created(CommandAck {
                    id: c.id.clone(),
                    region: "r".into(),
                    accepted_at: 0,
                })
            })
        })
        .unwrap();
        let statuses = results.into_iter().map(|r| (r.id, r.status)).collect();
        (statuses, executed)
    }

    #[test]
    fn a_failure_blocks_only_later_items_of_its_stream() {
        let (statuses, executed) = run(vec![
            Planned::Run(command("a1", "a")),
            Planned::Run(command("b1", "b")),
            Planned::Run(command("bad-a2", "a")),
            Planned::Run(command("a3", "a")),
            Planned::Run(command("b2", "b")),
            refused("a4", Some("a"), StatusCode::BAD_REQUEST),
        ]);
        assert_eq!(
            statuses,
            [
                ("a1".into(), 201),
                ("b1".into(), 201),
                ("bad-a2".into(), 422),
                ("a3".into(), 424),
                ("b2".into(), 201),
                ("a4".into(), 424),
            ]
        );
        assert_eq!(executed, ["a1", "b1", "bad-a2", "b2"]);
    }

    #[test]
    fn a_refused_item_blocks_its_stream_too_and_earlier_items_still_run() {
        let (statuses, executed) = run(vec![
            Planned::Run(command("a1", "a")),
            refused("a2", Some("a"), StatusCode::CONFLICT),
            Planned::Run(command("a3", "a")),
            refused("x", None, StatusCode::BAD_REQUEST),
            Planned::Run(command("c1", "c")),
        ]);
        assert_eq!(
            statuses,
            [
                ("a1".into(), 201),
                ("a2".into(), 409),
                ("a3".into(), 424),
                ("x".into(), 400),
                ("c1".into(), 201),
            ]
        );
        assert_eq!(executed, ["a1", "c1"]);
    }

    #[test]
    fn the_424_names_the_first_failure() {
        let plan = vec![
            Planned::Run(command("bad-1", "s")),
            Planned::Run(command("two", "s")),
            Planned::Run(command("three", "s")),
        ];
        let results = run_in_order::<()>(plan, |_| Ok(Outcome::KeyReused)).unwrap();
        for blocked in &results[1..] {
            let error = blocked.error.as_ref().unwrap();
            assert_eq!(error.error, "failed_dependency");
            assert!(error.message.contains("bad-1"), "{}", error.message);
        }
    }

    #[test]
    fn a_store_error_aborts() {
        let plan = vec![Planned::Run(command("a", "s"))];
        assert_eq!(run_in_order(plan, |_| Err("boom")).unwrap_err(), "boom");
    }
}
