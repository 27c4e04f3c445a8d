//! Fuzz-style tests of the IndexedDB record decoder, `decode_record` (and of the in-flight
//! journal's, `decode_journal`): whatever a stored record has become (another version's shape,
//! a half-written object, a value from a hostile extension), decoding gives an `Entry` or a
//! `DecodeError`, never a panic or a hang. A record
//! that decodes must encode and decode back to the same entry, so a quarantine decision never
//! depends on whether the record was written by this build.
//!
//! Property tests in place of `cargo fuzz` (see `mfe-fuzz-support`): short by default,
//! `FUZZ_CASES=<n>` for more; failing inputs land in `proptest-regressions/fuzz.txt`.

use mfe_fuzz_support::{bounded, json_value, words, Shape};
use mfe_outbox::{decode_record, DecodeError, Entry};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError};
use serde_json::{json, Value};

/// Cases per property when `FUZZ_CASES` is not set: a few seconds in a debug build.
const DEFAULT_CASES: u32 = 1_000;

fn config() -> Config {
    mfe_fuzz_support::config(DEFAULT_CASES, "proptest-regressions/fuzz.txt")
}

/// Decodes on its own thread: a panic or a hang fails the case.
fn bounded_decode(record: Value) -> Result<Result<Entry, DecodeError>, TestCaseError> {
    bounded(record, |record| decode_record(&record))
}

/// The checks every decode answer must pass.
fn check(record: Value) -> Result<(), TestCaseError> {
    match bounded_decode(record.clone())? {
        Ok(entry) => {
            let encoded = serde_json::to_value(&entry)
                .map_err(|e| TestCaseError::fail(format!("a decoded entry must encode: {e}")))?;
            let again = decode_record(&encoded)
                .map_err(|e| TestCaseError::fail(format!("re-decoding failed: {e}")))?;
            prop_assert_eq!(again, entry);
        }
        Err(err) => {
            // The message is what the user sees in the quarantine list: never empty, and it
            // names the record when its id was readable.
            prop_assert!(!err.to_string().is_empty());
            if let Some(id) = &err.id {
                prop_assert_eq!(record.get("id").and_then(Value::as_str), Some(id.as_str()));
            }
        }
    }
    Ok(())
}

/// A record as the adapter writes it, in each status.
fn valid_record(seq: u64, status: usize) -> Value {
    let mut record = json!({
        "id": format!("0190f3c2-7a2b-7cde-8f00-{seq:012x}"),
        "client_id": "c1",
        "seq": seq,
        "stream": "tasks",
        "kind": "task.add",
        "app": "tasks",
        "payload": {"title": "buy milk"},
        "created_at": 1_700_000_000_000i64,
        "status": "pending",
        "attempts": 0,
        "next_at": 1_700_000_000_000i64,
        "last_error": null,
        "region": null,
        "enqueued_at": 1_700_000_000_000i64,
        "delivered_at": null,
        "dead_reason": null,
    });
    match status % 4 {
        1 => {
            record["status"] = json!("inflight");
            record["attempts"] = json!(1);
            record["region"] = json!("us-east");
        }
        2 => {
            record["status"] = json!("delivered");
            record["delivered_at"] = json!(1_700_000_000_500i64);
        }
        3 => {
            record["status"] = json!("dead");
            record["dead_reason"] = json!("422 idempotency_key_reused");
            record["last_error"] = json!("422");
        }
        _ => {}
    }
    record
}

const FIELDS: [&str; 17] = [
    "id",
    "client_id",
    "seq",
    "stream",
    "kind",
    "app",
    "payload",
    "created_at",
    "status",
    "attempts",
    "next_at",
    "last_error",
    "region",
    "enqueued_at",
    "delivered_at",
    "dead_reason",
    "added_by_a_newer_shell",
];

/// Numbers at the edges of every integer type a field is read as, and floats that are, or
/// almost are, integers (JavaScript stores every number as a float).
fn edge_number() -> impl Strategy<Value = Value> {
    prop::sample::select(vec![
        json!(0),
        json!(-1),
        json!(i64::MIN),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(u64::from(u32::MAX)),
        json!(u64::from(u32::MAX) + 1),
        json!(9_007_199_254_740_992u64),
        json!(9_007_199_254_740_993u64),
        json!(9_007_199_254_740_992.0),
        json!(9_007_199_254_740_994.0),
        json!(1e300),
        json!(-1e300),
        json!(3.0),
        json!(3.5),
        json!(-0.0),
        json!(f64::MIN_POSITIVE),
        json!("5"),
    ])
}

fn any_value() -> impl Strategy<Value = Value> {
    let statuses = words(vec![
        "pending",
        "inflight",
        "delivered",
        "dead",
        "PENDING",
        "",
    ]);
    json_value(prop_oneof![edge_number(), statuses], Shape::default())
}

#[derive(Debug, Clone)]
enum Edit {
    Remove(usize),
    Set(usize, Value),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0..FIELDS.len()).prop_map(Edit::Remove),
        (0..FIELDS.len(), any_value()).prop_map(|(f, v)| Edit::Set(f, v)),
        (0..FIELDS.len(), edge_number()).prop_map(|(f, v)| Edit::Set(f, v)),
    ]
}

#[test]
fn arbitrary_values_are_decoded_or_refused() {
    proptest!(config(), |(record in any_value())| {
        check(record)?;
    });
}

#[test]
fn arbitrary_objects_with_record_field_names_are_decoded_or_refused() {
    let value = prop_oneof![
        3 => edge_number(),
        3 => ".{0,8}".prop_map(Value::from),
        1 => any_value(),
    ];
    let objects = (
        prop::sample::subsequence(FIELDS.to_vec(), 0..=FIELDS.len()),
        prop::collection::vec(value, FIELDS.len()),
    );
    proptest!(config(), |((names, values) in objects)| {
        let record = Value::Object(
            names.into_iter().map(str::to_owned).zip(values).collect(),
        );
        check(record)?;
    });
}

#[test]
fn mutated_valid_records_are_decoded_or_refused() {
    proptest!(config(), |(
        seq in any::<u64>(),
        status in 0usize..4,
        edits in prop::collection::vec(edit(), 1..6),
    )| {
        let mut record = valid_record(seq, status);
        let object = record.as_object_mut().unwrap();
        for edit in &edits {
            match edit {
                Edit::Remove(field) => {
                    object.remove(FIELDS[*field]);
                }
                Edit::Set(field, value) => {
                    object.insert(FIELDS[*field].to_owned(), value.clone());
                }
            }
        }
        check(record)?;
    });
}

#[test]
fn valid_records_decode() {
    proptest!(config(), |(seq in any::<u64>(), status in 0usize..4)| {
        let record = valid_record(seq, status);
        prop_assert!(bounded_decode(record.clone())?.is_ok(), "{}", record);
        check(record)?;
    });
}

#[test]
fn negative_and_oversized_numbers_are_refused_with_the_field_named() {
    for (field, value) in [
        ("seq", json!(-1)),
        ("seq", json!(1e300)),
        ("seq", json!(3.5)),
        ("attempts", json!(u64::from(u32::MAX) + 1)),
        ("attempts", json!(-1)),
        ("created_at", json!(u64::MAX)),
        ("next_at", json!(9_007_199_254_740_994.0)),
        ("enqueued_at", json!("5")),
    ] {
        let mut record = valid_record(1, 0);
        record[field] = value.clone();
        let err = decode_record(&record).expect_err(&format!("{field} = {value}"));
        assert_eq!(err.field, field, "{err}");
    }
}

/// Nesting of the deep payload: far beyond the server's limit, within serde_json's stack use.
const DEEP_PAYLOAD: usize = 500;

#[test]
fn deeply_nested_payloads_decode() {
    // A payload the server would refuse (it allows 32 levels) can still sit in IndexedDB
    // while offline; decoding copies it and must cope. serde_json's own clone and drop
    // recurse per level (a debug build overflows a 2 MiB thread stack between 1,500 and
    // 2,000 levels), so this stays well inside what they allow.
    let mut payload = json!(0);
    for _ in 0..DEEP_PAYLOAD {
        payload = json!([payload]);
    }
    let mut record = valid_record(1, 0);
    record["payload"] = payload;
    let decoded = bounded_decode(record).unwrap();
    assert!(decoded.is_ok(), "a deep payload is still a valid record");
}

/// The in-flight journal (`meta` → `inflight`) is read from IndexedDB too: whatever it has
/// become, reading it gives marks or a reason, never a panic; marks read back as written.
#[test]
fn arbitrary_journals_are_read_or_refused() {
    use mfe_outbox::decode_journal;
    let marks = prop::collection::btree_map("[a-z0-9-]{0,12}", edge_number(), 0..6)
        .prop_map(|m| Value::Object(m.into_iter().collect()));
    let value = prop_oneof![any_value(), marks];
    proptest!(config(), |(stored in value)| {
        match bounded(stored, |stored| decode_journal(&stored))? {
            Ok(journal) => {
                prop_assert!(journal.values().all(|attempts| *attempts >= 1));
                // The stored form: an object of id → attempts.
                let stored: serde_json::Map<String, Value> =
                    journal.iter().map(|(id, a)| (id.clone(), Value::from(*a))).collect();
                prop_assert_eq!(decode_journal(&Value::Object(stored)).ok(), Some(journal));
            }
            Err(why) => prop_assert!(why.to_string().starts_with("the in-flight journal")),
        }
    });
}
