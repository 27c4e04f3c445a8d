//! What the fuzz-style property tests of every crate share (a dev-dependency only).
//!
//! `cargo fuzz` needs a nightly toolchain, so the boundaries are fuzzed with proptest instead:
//! - [`config`]: a short default run, `FUZZ_CASES=<n>` for a longer one, failing inputs written
//!   to `proptest-regressions/<file>` (committed) and replayed first on every later run;
//! - [`bounded`]: the call under test runs on its own thread, so a panic or a hang fails the
//!   case with its input instead of killing or stalling the run;
//! - [`json_value`]: values of every JSON kind, plus the plausible leaves of each format;
//! - [`token_soup`]: format tokens glued together, which drive a parser deep into its states
//!   far more often than random bytes;
//! - [`mutation`] / [`mutate`]: byte flips, deletions, insertions, truncation and deep nesting
//!   applied to a valid document.

use std::sync::mpsc;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError};
use serde_json::Value;

/// Longest a single call may take before the case counts as a hang.
pub const CALL_LIMIT: Duration = Duration::from_secs(10);

/// `default_cases` per property unless `FUZZ_CASES` says otherwise; failures are recorded in
/// `proptest-regressions/<file>`, relative to the package root where `cargo test` runs.
pub fn config(default_cases: u32, file: &'static str) -> Config {
    let cases = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_cases);
    Config {
        cases,
        max_shrink_time: 60_000,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(file))),
        ..Config::default()
    }
}

/// Runs `f(input)` on its own thread: a panic or an answer later than [`CALL_LIMIT`] fails
/// the case (with the input, which proptest then shrinks and records).
pub fn bounded<I, O>(input: I, f: fn(I) -> O) -> Result<O, TestCaseError>
where
    I: Send + 'static,
    O: Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f(input));
    });
    rx.recv_timeout(CALL_LIMIT).map_err(|err| match err {
        mpsc::RecvTimeoutError::Timeout => {
            TestCaseError::fail(format!("no answer within {CALL_LIMIT:?}"))
        }
        mpsc::RecvTimeoutError::Disconnected => TestCaseError::fail("the call panicked"),
    })
}

/// How deep and wide [`json_value`] grows.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub depth: u32,
    pub size: u32,
    pub branch: u32,
}

impl Default for Shape {
    fn default() -> Self {
        Self {
            depth: 4,
            size: 32,
            branch: 6,
        }
    }
}

/// Values of every JSON kind (including the numbers decoders get wrong), with `plausible`
/// leaves of the format under test mixed in.
pub fn json_value(
    plausible: impl Strategy<Value = Value> + 'static,
    shape: Shape,
) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        plausible,
    ];
    let width = shape.branch as usize;
    leaf.prop_recursive(shape.depth, shape.size, shape.branch, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..width).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{0,10}", inner, 0..width)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Some of `words` as JSON strings (for `plausible` leaves).
pub fn words(words: Vec<&'static str>) -> impl Strategy<Value = Value> {
    prop::sample::select(words).prop_map(Value::from)
}

/// Up to `max` of `tokens` glued together.
pub fn token_soup(tokens: Vec<&'static str>, max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(tokens), 0..max)
        .prop_map(|t| t.concat().into_bytes())
}

/// Tokens every JSON parser must survive: structure, literals, numbers at the edges, broken
/// escapes, whitespace, a byte-order mark and non-ASCII text.
pub const JSON_TOKENS: [&str; 24] = [
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"",
    "null",
    "true",
    "false",
    "0",
    "-1",
    "1e999",
    "-0",
    "1.5",
    "18446744073709551616",
    "9223372036854775807",
    "\\u0000",
    "\\ud800",
    "\"\\",
    " ",
    "\n",
    "\u{feff}",
    "\u{10ffff}",
];

/// One byte-level change; positions wrap around the current length.
#[derive(Debug, Clone)]
pub enum Mutation {
    Flip(usize, u8),
    Delete(usize),
    Insert(usize, u8),
    Truncate(usize),
    /// Balanced `[`…`]` of this depth inserted at a position.
    Nest(usize, usize),
    /// This many unbalanced `{"a":` inserted at a position.
    Open(usize, usize),
}

pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        2 => any::<usize>().prop_map(Mutation::Delete),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => (any::<usize>(), 1usize..5_000).prop_map(|(i, d)| Mutation::Nest(i, d)),
        1 => (any::<usize>(), 1usize..5_000).prop_map(|(i, d)| Mutation::Open(i, d)),
    ]
}

/// Applies `mutations` in order.
pub fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    let insert = |bytes: &mut Vec<u8>, at: usize, what: &[u8]| {
        let at = at % (bytes.len() + 1);
        bytes.splice(at..at, what.iter().copied());
    };
    for m in mutations {
        let len = bytes.len().max(1);
        match *m {
            Mutation::Flip(i, b) if !bytes.is_empty() => bytes[i % len] ^= b,
            Mutation::Delete(i) if !bytes.is_empty() => {
                bytes.remove(i % len);
            }
            Mutation::Insert(i, b) => insert(&mut bytes, i, &[b]),
            Mutation::Truncate(i) => bytes.truncate(i % len),
            Mutation::Nest(i, depth) => {
                let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
                insert(&mut bytes, i, nested.as_bytes());
            }
            Mutation::Open(i, depth) => insert(&mut bytes, i, "{\"a\":".repeat(depth).as_bytes()),
            _ => {}
        }
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_wrap_around_and_nest() {
        let out = mutate(
            b"[1]".to_vec(),
            &[Mutation::Nest(3, 2), Mutation::Flip(7, 0)],
        );
        assert_eq!(out, b"[1][[]]");
        assert_eq!(
            mutate(Vec::new(), &[Mutation::Delete(3), Mutation::Flip(1, 1)]),
            b""
        );
        assert_eq!(mutate(b"abc".to_vec(), &[Mutation::Truncate(4)]), b"a");
    }

    #[test]
    fn a_panic_fails_the_case_instead_of_the_run() {
        fn boom(_: u8) -> u8 {
            panic!("expected")
        }
        assert!(bounded(1u8, boom).is_err());
        assert_eq!(bounded(2u8, |x| x + 1).unwrap(), 3);
    }
}
