//! Fuzz-style test of the regional API's request handling over real HTTP: random and mutated
//! `POST /commands` and `POST /commands:batch` bodies and headers. Every answer must be a
//! well-formed HTTP response with an expected status, errors must carry an `ErrorBody`, batch
//! results must be well-formed, and the region must still be healthy afterwards.
//!
//! About 300 requests by default; `FUZZ_CASES=<n>` sends `n`. Failing inputs are written to
//! `proptest-regressions/fuzz_http.txt` and replayed first on every later run.

mod common;

use std::time::Duration;

use common::Harness;
use mfe_contract::{BatchResponse, CommandAck, ErrorBody};
use mfe_fuzz_support::{json_value, words, Shape};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError};
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::{json, Value};

const DEFAULT_CASES: u32 = 300;
const US: &str = "us-east";
/// Statuses a command write may answer with.
const STATUSES: [u16; 8] = [201, 200, 400, 409, 413, 422, 424, 429];
/// Statuses of one item inside a batch answer.
const ITEM_STATUSES: [u16; 6] = [201, 400, 409, 413, 422, 424];

fn config() -> Config {
    // Each case is a real request; a failure shrinks for at most a minute.
    mfe_fuzz_support::config(DEFAULT_CASES, "proptest-regressions/fuzz_http.txt")
}

/// One generated request.
#[derive(Debug, Clone)]
struct Attempt {
    batch: bool,
    body: Vec<u8>,
    key: Key,
    content_type: Option<String>,
    extra_headers: Vec<(String, Vec<u8>)>,
}

#[derive(Debug, Clone)]
enum Key {
    Absent,
    /// The `id` of the body, when it has one.
    FromBody,
    Given(Vec<u8>),
}

fn command(seq: u64, payload: Value) -> Value {
    json!({
        "id": format!("0190f3c2-7a2b-7cde-8f00-{:012x}", seq % 4096),
        "client_id": format!("fuzz-{}", seq % 3),
        "seq": seq,
        "stream": format!("s{}", seq % 4),
        "kind": "task.add",
        "app": "tasks",
        "payload": payload,
        "created_at": 1_700_000_000_000i64,
    })
}

fn any_value() -> impl Strategy<Value = Value> {
    let shape = Shape {
        depth: 4,
        size: 24,
        branch: 5,
    };
    json_value(words(vec!["task.add", "tasks"]), shape)
}

/// A command, sometimes with one field removed or replaced by any value.
fn maybe_broken_command() -> impl Strategy<Value = Value> {
    let fields = prop::sample::select(vec![
        "id",
        "client_id",
        "seq",
        "stream",
        "kind",
        "app",
        "payload",
        "created_at",
        "extra",
    ]);
    (
        any::<u64>(),
        any_value(),
        prop::option::weighted(0.4, (fields, prop::option::of(any_value()))),
    )
        .prop_map(|(seq, payload, edit)| {
            let mut c = command(seq, payload);
            if let Some((field, value)) = edit {
                let object = c.as_object_mut().unwrap();
                match value {
                    Some(value) => object.insert(field.to_owned(), value),
                    None => object.remove(field),
                };
            }
            c
        })
}

/// Byte flips, deletions, insertions and truncation; positions wrap around the length.
fn mutate(mut bytes: Vec<u8>, edits: &[(u8, usize, u8)]) -> Vec<u8> {
    for &(op, at, byte) in edits {
        let len = bytes.len().max(1);
        match op % 4 {
            0 if !bytes.is_empty() => bytes[at % len] ^= byte.max(1),
            1 if !bytes.is_empty() => {
                bytes.remove(at % len);
            }
            2 => bytes.insert(at % (bytes.len() + 1), byte),
            3 => bytes.truncate(at % len),
            _ => {}
        }
    }
    bytes
}

fn body(batch: bool) -> impl Strategy<Value = Vec<u8>> {
    let document = if batch {
        prop::collection::vec(maybe_broken_command(), 0..8)
            .prop_map(|commands| json!({ "commands": commands }))
            .boxed()
    } else {
        maybe_broken_command().boxed()
    };
    let edits = prop::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..6);
    prop_oneof![
        4 => document.clone().prop_map(|d| serde_json::to_vec(&d).unwrap()),
        3 => (document, edits).prop_map(|(d, e)| mutate(serde_json::to_vec(&d).unwrap(), &e)),
        2 => prop::collection::vec(any::<u8>(), 0..256),
        1 => (1usize..3_000, any::<bool>()).prop_map(|(depth, object)| {
            let (open, close) = if object { ("{\"a\":", "}") } else { ("[", "]") };
            format!("{}1{}", open.repeat(depth), close.repeat(depth)).into_bytes()
        }),
        1 => (60_000usize..140_000).prop_map(|size| {
            let filler = "x".repeat(size);
            serde_json::to_vec(&command(1, json!({ "blob": filler }))).unwrap()
        }),
    ]
}

/// Bytes a header value may hold (visible ASCII, space, tab and obs-text).
fn header_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    let byte = any::<u8>().prop_map(|b| match b {
        b'\t' => b,
        0..=0x1f => b + 0x20,
        0x7f => b'~',
        _ => b,
    });
    prop::collection::vec(byte, 0..max)
}

fn attempt() -> impl Strategy<Value = Attempt> {
    any::<bool>().prop_flat_map(|batch| {
        let key = prop_oneof![
            1 => Just(Key::Absent),
            4 => Just(Key::FromBody),
            1 => header_bytes(64).prop_map(Key::Given),
            1 => (256usize..10_000).prop_map(|n| Key::Given(vec![b'k'; n])),
        ];
        let content_type = prop::option::of(prop_oneof![
            Just("application/json".to_owned()),
            Just("text/plain".to_owned()),
            "[ -~]{0,30}",
        ]);
        let extra = prop::collection::vec(("x-[a-z0-9-]{1,12}", header_bytes(200)), 0..4);
        (body(batch), key, content_type, extra).prop_map(
            move |(body, key, content_type, extra_headers)| Attempt {
                batch,
                body,
                key,
                content_type,
                extra_headers,
            },
        )
    })
}

/// Sends one attempt and checks the answer.
async fn send_and_check(h: &Harness, attempt: Attempt) -> Result<(), TestCaseError> {
    let path = if attempt.batch {
        "/commands:batch"
    } else {
        "/commands"
    };
    let mut request = h
        .http
        .post(format!("{}{path}", h.region(US)))
        .body(attempt.body.clone());
    let key = match &attempt.key {
        Key::Absent => None,
        Key::FromBody => serde_json::from_slice::<Value>(&attempt.body)
            .ok()
            .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_owned))
            .map(String::into_bytes),
        Key::Given(bytes) => Some(bytes.clone()),
    };
    if let Some(key) = key.and_then(|k| HeaderValue::from_bytes(&k).ok()) {
        request = request.header("Idempotency-Key", key);
    }
    if let Some(content_type) = attempt
        .content_type
        .as_deref()
        .and_then(|c| HeaderValue::from_str(c).ok())
    {
        request = request.header("Content-Type", content_type);
    }
    for (name, value) in &attempt.extra_headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value),
        ) {
            request = request.header(name, value);
        }
    }
    let response = request
        .send()
        .await
        .map_err(|e| TestCaseError::fail(format!("no well-formed answer: {e:?}")))?;
    let status = response.status().as_u16();
    let text = response
        .text()
        .await
        .map_err(|e| TestCaseError::fail(format!("unreadable body: {e}")))?;
    prop_assert!(
        STATUSES.contains(&status),
        "status {} with {}",
        status,
        text
    );
    match status {
        201 => {
            prop_assert!(!attempt.batch);
            serde_json::from_str::<CommandAck>(&text)
                .map_err(|e| TestCaseError::fail(format!("201 without an ack: {e}: {text}")))?;
        }
        200 => {
            prop_assert!(attempt.batch);
            let answer: BatchResponse = serde_json::from_str(&text)
                .map_err(|e| TestCaseError::fail(format!("200 without results: {e}: {text}")))?;
            for item in &answer.results {
                prop_assert!(ITEM_STATUSES.contains(&item.status), "item {:?}", item);
                let ok = item.status == 201;
                prop_assert_eq!(item.ack.is_some(), ok, "item {:?}", item);
                prop_assert_eq!(item.error.is_some(), !ok, "item {:?}", item);
            }
        }
        _ => {
            let error: ErrorBody = serde_json::from_str(&text).map_err(|e| {
                TestCaseError::fail(format!("{status} without ErrorBody: {e}: {text}"))
            })?;
            prop_assert!(!error.error.is_empty() && !error.message.is_empty());
        }
    }
    Ok(())
}

#[test]
fn random_and_mutated_command_writes_get_well_formed_answers() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let h = runtime.block_on(Harness::start());
    proptest!(config(), |(attempt in attempt())| {
        runtime.block_on(send_and_check(&h, attempt))?;
    });
    runtime.block_on(async {
        let health = h
            .http
            .get(format!("{}/health", h.region(US)))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 200, "healthy after the run");
        // Accepted commands are all listed and readable.
        let stored = h.stored(US).await;
        assert!(stored.iter().all(|c| c["id"].is_string()));
        tokio::time::timeout(Duration::from_secs(10), h.stop())
            .await
            .unwrap();
    });
}
