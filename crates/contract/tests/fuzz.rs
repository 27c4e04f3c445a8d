//! Fuzz-style tests of the wire decoders (`Command`, `BatchRequest`, `HealthReport`): arbitrary
//! bytes, JSON-like token soup, mutated valid documents and deep nesting must give an error
//! value, never a panic or a hang. What does parse must serialise and parse back to itself.
//!
//! Property tests in place of `cargo fuzz` (see `mfe-fuzz-support`): short by default,
//! `FUZZ_CASES=<n>` for more; failing inputs land in `proptest-regressions/fuzz.txt`.

use mfe_contract::{BatchRequest, Command, HealthReport};
use mfe_fuzz_support::{
    bounded, json_value, mutate, mutation, token_soup, words, Shape, JSON_TOKENS,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError};
use serde_json::{json, Value};

/// Cases per property when `FUZZ_CASES` is not set: a few seconds in a debug build.
const DEFAULT_CASES: u32 = 1_000;

fn config() -> Config {
    mfe_fuzz_support::config(DEFAULT_CASES, "proptest-regressions/fuzz.txt")
}

/// Which of the three types parsed.
type Parsed = (Option<Command>, Option<BatchRequest>, Option<HealthReport>);

fn decode_all(bytes: Vec<u8>) -> Parsed {
    (
        serde_json::from_slice(&bytes).ok(),
        serde_json::from_slice(&bytes).ok(),
        serde_json::from_slice(&bytes).ok(),
    )
}

/// Whatever parsed must come back unchanged through its own serialisation.
fn round_trips(parsed: &Parsed) -> Result<(), TestCaseError> {
    if let Some(command) = &parsed.0 {
        if !has_float(&command.payload) {
            let again: Command = serde_json::from_slice(&serde_json::to_vec(command).unwrap())
                .map_err(|e| TestCaseError::fail(format!("re-parse failed: {e}")))?;
            prop_assert_eq!(&again, command);
        }
    }
    if let Some(report) = &parsed.2 {
        let again: HealthReport = serde_json::from_slice(&serde_json::to_vec(report).unwrap())
            .map_err(|e| TestCaseError::fail(format!("re-parse failed: {e}")))?;
        prop_assert_eq!(&again, report);
    }
    Ok(())
}

/// serde_json parses floats on a fast, not always exact, path (unless a crate in the build
/// turns on its `float_roundtrip` feature): a float may move by one unit in the last place
/// through text, which says nothing about these types.
fn has_float(value: &Value) -> bool {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Number(n) if n.is_f64() => return true,
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.values()),
            _ => {}
        }
    }
    false
}

fn valid_command(seq: u64) -> Value {
    json!({
        "id": format!("0190f3c2-7a2b-7cde-8f00-{seq:012x}"),
        "client_id": "c1",
        "seq": seq,
        "stream": "tasks",
        "kind": "task.add",
        "app": "tasks",
        "payload": {"title": "buy milk", "tags": ["a", "b"], "n": 3},
        "created_at": 1_700_000_000_000i64,
    })
}

fn valid_health() -> Value {
    json!({
        "region": "us-east",
        "status": "degraded",
        "store_ok": true,
        "replication_lag_ms": 12,
        "version": "0.1.0",
    })
}

/// JSON tokens plus this format's field names.
fn soup() -> impl Strategy<Value = Vec<u8>> {
    let mut tokens = JSON_TOKENS.to_vec();
    tokens.extend([
        "\"id\"",
        "\"seq\"",
        "\"payload\"",
        "\"commands\"",
        "\"status\"",
        "\"ok\"",
    ]);
    token_soup(tokens, 64)
}

/// Values of every JSON kind, including the numbers decoders get wrong.
fn any_value() -> impl Strategy<Value = Value> {
    json_value(words(vec!["task.add", "tasks", "ok"]), Shape::default())
}

const COMMAND_FIELDS: [&str; 9] = [
    "id",
    "client_id",
    "seq",
    "stream",
    "kind",
    "app",
    "payload",
    "created_at",
    "unknown",
];

/// A valid command with one field removed, replaced by any value, or added.
fn field_mutation() -> impl Strategy<Value = Value> {
    (
        any::<u64>(),
        0..COMMAND_FIELDS.len(),
        any::<bool>(),
        any_value(),
    )
        .prop_map(|(seq, field, remove, value)| {
            let mut command = valid_command(seq);
            let object = command.as_object_mut().unwrap();
            if remove {
                object.remove(COMMAND_FIELDS[field]);
            } else {
                object.insert(COMMAND_FIELDS[field].to_owned(), value);
            }
            command
        })
}

#[test]
fn arbitrary_bytes_are_rejected_without_panicking() {
    proptest!(config(), |(bytes in prop::collection::vec(any::<u8>(), 0..512))| {
        let parsed = bounded(bytes, decode_all)?;
        round_trips(&parsed)?;
    });
}

#[test]
fn json_like_token_soup_is_rejected_without_panicking() {
    proptest!(config(), |(bytes in soup())| {
        let parsed = bounded(bytes, decode_all)?;
        round_trips(&parsed)?;
    });
}

#[test]
fn mutated_valid_documents_parse_or_fail_cleanly() {
    let documents = prop_oneof![
        any::<u64>().prop_map(valid_command),
        any::<u64>()
            .prop_map(|seq| json!({"commands": [valid_command(seq), valid_command(seq ^ 1)]})),
        Just(valid_health()),
    ];
    proptest!(config(), |(
        document in documents,
        mutations in prop::collection::vec(mutation(), 1..8),
    )| {
        let bytes = mutate(serde_json::to_vec(&document).unwrap(), &mutations);
        let parsed = bounded(bytes, decode_all)?;
        round_trips(&parsed)?;
    });
}

#[test]
fn commands_with_a_wrong_missing_or_extra_field_are_refused() {
    proptest!(config(), |(command in field_mutation())| {
        let bytes = serde_json::to_vec(&command).unwrap();
        let parsed = bounded(bytes, decode_all)?;
        round_trips(&parsed)?;
        // Every field is required and unknown fields are refused, so only a value of the
        // right type in the right field can still parse.
        if let Some(parsed) = parsed.0.filter(|p| !has_float(&p.payload)) {
            prop_assert_eq!(serde_json::to_value(&parsed).unwrap(), command);
        }
    });
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    // serde_json stops at 128 levels; far deeper input is checked once below.
    let depths = prop_oneof![3 => 1usize..300, 1 => 300usize..20_000];
    proptest!(config(), |(depth in depths, object in any::<bool>(), in_payload in any::<bool>())| {
        let (open, close) = if object { ("{\"a\":", "}") } else { ("[", "]") };
        let nested = format!("{}0{}", open.repeat(depth), close.repeat(depth));
        let text = if in_payload {
            let command = serde_json::to_string(&valid_command(1)).unwrap();
            command.replacen("{\"n\":", &format!("{{\"deep\":{nested},\"n\":"), 1)
        } else {
            nested
        };
        let parsed = bounded(text.into_bytes(), decode_all)?;
        if depth > 200 {
            prop_assert!(parsed.0.is_none() && parsed.1.is_none() && parsed.2.is_none());
        }
    });
}

#[test]
fn a_million_levels_are_refused() {
    for text in ["[".repeat(1_000_000), "{\"a\":".repeat(1_000_000)] {
        let parsed = bounded(text.into_bytes(), decode_all).unwrap();
        assert!(parsed.0.is_none() && parsed.1.is_none() && parsed.2.is_none());
    }
}
