//! Validating decoder for stored records. A record that fails here is quarantined and shown by
//! the adapter, never dropped, so the error names the record (when its id is readable) and the
//! field, in words a person can act on.
//!
//! Unknown fields are ignored on purpose: a newer shell may add fields, and an older service
//! worker still sharing the database must not quarantine those records.

use crate::entry::Entry;
use mfe_contract::{Command, CommandStatus};
use serde_json::{Map, Value};
use std::fmt;

/// Why a stored record is not a valid entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// The record's id, when it could be read.
    pub id: Option<String>,
    /// The offending field (`""` when the record is not an object at all).
    pub field: String,
    /// What is wrong with it.
    pub problem: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.id, self.field.is_empty()) {
            (Some(id), false) => write!(
                f,
                "stored command {id}: field `{}` {}",
                self.field, self.problem
            ),
            (None, false) => write!(f, "stored command: field `{}` {}", self.field, self.problem),
            (Some(id), true) => write!(f, "stored command {id}: {}", self.problem),
            (None, true) => write!(f, "stored command: {}", self.problem),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Decode and check one stored record. Beyond types it checks what the outbox relies on: a
/// non-empty id and stream, a delivered entry's time, a dead entry's reason.
pub fn decode_record(record: &Value) -> Result<Entry, DecodeError> {
    let obj = record.as_object().ok_or_else(|| DecodeError {
        id: None,
        field: String::new(),
        problem: format!("is not an object but {}", kind_of(record)),
    })?;
    let id = obj
        .get("id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let r = Reader {
        obj,
        id: id.clone(),
    };
    let id = id.ok_or_else(|| r.err("id", "must be a non-empty string"))?;

    let command = Command {
        id,
        client_id: r.string("client_id")?,
        seq: r.u64("seq")?,
        stream: r.non_empty("stream")?,
        kind: r.string("kind")?,
        app: r.string("app")?,
        payload: r.required("payload")?.clone(),
        created_at: r.i64("created_at")?,
    };
    let status = r.status()?;
    let attempts = u32::try_from(r.u64("attempts")?)
        .map_err(|_| r.err("attempts", "is larger than 4294967295"))?;
    let entry = Entry {
        command,
        status,
        attempts,
        next_at: r.i64("next_at")?,
        last_error: r.opt_string("last_error")?,
        region: r.opt_string("region")?,
        enqueued_at: r.i64("enqueued_at")?,
        delivered_at: r.opt_i64("delivered_at")?,
        dead_reason: r.opt_string("dead_reason")?,
    };
    if status == CommandStatus::Delivered && entry.delivered_at.is_none() {
        return Err(r.err("delivered_at", "is missing on a delivered command"));
    }
    if status == CommandStatus::Dead && entry.dead_reason.is_none() {
        return Err(r.err("dead_reason", "is missing on a dead command"));
    }
    Ok(entry)
}

struct Reader<'a> {
    obj: &'a Map<String, Value>,
    id: Option<String>,
}

impl Reader<'_> {
    fn err(&self, field: &str, problem: &str) -> DecodeError {
        DecodeError {
            id: self.id.clone(),
            field: field.to_string(),
            problem: problem.to_string(),
        }
    }

    fn required(&self, field: &str) -> Result<&Value, DecodeError> {
        self.obj
            .get(field)
            .ok_or_else(|| self.err(field, "is missing"))
    }

    fn typed<T>(
        &self,
        field: &str,
        want: &str,
        f: impl Fn(&Value) -> Option<T>,
    ) -> Result<T, DecodeError> {
        let v = self.required(field)?;
        f(v).ok_or_else(|| self.err(field, &format!("must be {want}, found {}", kind_of(v))))
    }

    fn string(&self, field: &str) -> Result<String, DecodeError> {
        self.typed(field, "a string", |v| v.as_str().map(str::to_string))
    }

    fn non_empty(&self, field: &str) -> Result<String, DecodeError> {
        self.typed(field, "a non-empty string", |v| {
            v.as_str().filter(|s| !s.is_empty()).map(str::to_string)
        })
    }

    fn u64(&self, field: &str) -> Result<u64, DecodeError> {
        self.typed(field, "a non-negative integer", integer_u64)
    }

    fn i64(&self, field: &str) -> Result<i64, DecodeError> {
        self.typed(field, "an integer (ms since the Unix epoch)", integer_i64)
    }

    fn opt_string(&self, field: &str) -> Result<Option<String>, DecodeError> {
        match self.obj.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(self.err(
                field,
                &format!("must be a string or null, found {}", kind_of(v)),
            )),
        }
    }

    fn opt_i64(&self, field: &str) -> Result<Option<i64>, DecodeError> {
        match self.obj.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => integer_i64(v).map(Some).ok_or_else(|| {
                self.err(
                    field,
                    &format!("must be an integer or null, found {}", kind_of(v)),
                )
            }),
        }
    }

    fn status(&self) -> Result<CommandStatus, DecodeError> {
        let v = self.required("status")?;
        serde_json::from_value::<CommandStatus>(v.clone()).map_err(|_| {
            self.err(
                "status",
                &format!(
                    "must be one of pending, inflight, delivered, dead; found {}",
                    short(v)
                ),
            )
        })
    }
}

/// Integers may come back from JavaScript as floats (`3.0`); accept those when exact.
fn integer_i64(v: &Value) -> Option<i64> {
    if let Some(i) = v.as_i64() {
        return Some(i);
    }
    let f = v.as_f64()?;
    // 2^53: beyond it a float no longer identifies one integer.
    (f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0).then_some(f as i64)
}

fn integer_u64(v: &Value) -> Option<u64> {
    if let Some(u) = v.as_u64() {
        return Some(u);
    }
    integer_i64(v).and_then(|i| u64::try_from(i).ok())
}

fn kind_of(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) => "a boolean".into(),
        Value::Number(n) => format!("the number {n}"),
        Value::String(_) => format!("the string {}", short(v)),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

fn short(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 40 {
        let cut: String = text.chars().take(40).collect();
        format!("{cut}…")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::tests::command;
    use serde_json::json;

    fn good() -> Value {
        serde_json::to_value(Entry::new(command("a", "s", 1), 10)).unwrap()
    }

    #[test]
    fn a_serialized_entry_decodes_to_itself() {
        let mut e = Entry::new(command("a", "s", 1), 10);
        e.status = CommandStatus::Delivered;
        e.delivered_at = Some(20);
        e.region = Some("eu-west".into());
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(decode_record(&v).unwrap(), e);
    }

    #[test]
    fn optional_fields_may_be_absent_and_unknown_fields_are_ignored() {
        let mut v = good();
        let obj = v.as_object_mut().unwrap();
        for k in ["last_error", "region", "delivered_at", "dead_reason"] {
            obj.remove(k);
        }
        obj.insert("added_by_a_newer_shell".into(), json!(true));
        assert_eq!(decode_record(&v).unwrap().id(), "a");
    }

    #[test]
    fn javascript_floats_that_are_integers_are_accepted() {
        let mut v = good();
        v["seq"] = json!(1.0);
        v["next_at"] = json!(10.0);
        let e = decode_record(&v).unwrap();
        assert_eq!((e.command.seq, e.next_at), (1, 10));
    }

    fn error_of(v: Value) -> DecodeError {
        decode_record(&v).unwrap_err()
    }

    #[test]
    fn errors_name_the_record_and_the_field() {
        let cases: Vec<(&str, Value, &str)> = vec![
            ("seq", json!(-1), "non-negative integer"),
            ("seq", json!("7"), "the string \"7\""),
            ("stream", json!(""), "non-empty"),
            ("status", json!("sent"), "one of pending"),
            ("attempts", json!(1.5), "non-negative integer"),
            ("attempts", json!(5_000_000_000u64), "larger than"),
            ("next_at", Value::Null, "integer"),
            ("last_error", json!(3), "string or null"),
            ("delivered_at", json!("yesterday"), "integer or null"),
        ];
        for (field, bad, expect) in cases {
            let mut v = good();
            v[field] = bad;
            let err = error_of(v);
            assert_eq!(err.field, field);
            assert_eq!(err.id.as_deref(), Some("a"));
            let text = err.to_string();
            assert!(text.contains(expect), "{text}");
            assert!(text.contains("stored command a"), "{text}");
            assert!(text.contains(&format!("`{field}`")), "{text}");
        }
    }

    #[test]
    fn missing_fields_and_bad_ids() {
        let mut v = good();
        v.as_object_mut().unwrap().remove("payload");
        assert_eq!(
            error_of(v).to_string(),
            "stored command a: field `payload` is missing"
        );

        let mut v = good();
        v["id"] = json!(5);
        let err = error_of(v);
        assert_eq!((err.id, err.field.as_str()), (None, "id"));

        let err = error_of(json!([1, 2]));
        assert_eq!(
            err.to_string(),
            "stored command: is not an object but an array"
        );
    }

    #[test]
    fn final_states_need_their_details() {
        let mut v = good();
        v["status"] = json!("delivered");
        assert_eq!(error_of(v).field, "delivered_at");
        let mut v = good();
        v["status"] = json!("dead");
        assert_eq!(error_of(v).field, "dead_reason");
    }
}
