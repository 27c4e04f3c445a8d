//! Fuzz-style tests of the manifest reader and the descriptor validator: arbitrary text,
//! mutated valid manifests (byte flips, truncation, deep nesting, wrong values) and arbitrary
//! descriptors give a value or an error, never a panic or a hang. What is accepted must hold
//! up: every usable app of a parsed manifest validates, and a descriptor that validates can be
//! published and read back as usable.
//!
//! Property tests in place of `cargo fuzz` (see `mfe-fuzz-support`): short by default,
//! `FUZZ_CASES=<n>` for more; failing inputs land in `proptest-regressions/fuzz.txt`.

mod common;

use common::{app, T0, T1};
use mfe_fuzz_support::{
    bounded, json_value, mutation, token_soup, words, Mutation, Shape, JSON_TOKENS,
};
use mfe_manifest::{
    empty_manifest, merge, parse_manifest, sri, to_json, validate_descriptor, AppDescriptor,
    AppIntegrity, FieldError, ManifestError, SlotSpec, SriAlgorithm, ValidatedManifest,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError};
use serde_json::Value;

/// Cases per property when `FUZZ_CASES` is not set: a few seconds in a debug build.
const DEFAULT_CASES: u32 = 500;

fn config() -> Config {
    mfe_fuzz_support::config(DEFAULT_CASES, "proptest-regressions/fuzz.txt")
}

fn parse(text: String) -> Result<ValidatedManifest, ManifestError> {
    parse_manifest(&text)
}

/// Parses `text` and checks what an accepted manifest promises.
fn check_parse(text: String) -> Result<(), TestCaseError> {
    let Ok(parsed) = bounded(text, parse)? else {
        return Ok(());
    };
    for (name, versions) in &parsed.manifest.apps {
        for d in std::iter::once(&versions.current).chain(&versions.previous) {
            prop_assert_eq!(validate_descriptor(d), Ok(()), "usable app {}", name);
            prop_assert_eq!(&d.name, name);
        }
    }
    // The canonical text of what was accepted reads back the same.
    let again = parse_manifest(&to_json(&parsed.manifest))
        .map_err(|e| TestCaseError::fail(format!("canonical text refused: {e}")))?;
    prop_assert_eq!(&again.manifest, &parsed.manifest);
    prop_assert!(again.is_clean());
    Ok(())
}

/// A manifest the deployer would write: two apps, one with a previous version, and regions.
fn valid_manifest_text() -> String {
    let mut m = empty_manifest(T0).unwrap();
    m = merge(&m, app("tasks", "1.0.0"), T1, 5).unwrap();
    m = merge(&m, app("tasks", "1.1.0-rc.1"), T1, 5).unwrap();
    m = merge(&m, app("catalog", "2.0.0"), T1, 5).unwrap();
    m.regions = vec![mfe_manifest::RegionInfo {
        name: "us-east".into(),
        url: "http://127.0.0.1:8081".into(),
    }];
    to_json(&m)
}

/// Byte mutations read as lossy UTF-8, the way a fetch body decoded as text would be.
fn mutate(text: &str, mutations: &[Mutation]) -> String {
    let bytes = mfe_fuzz_support::mutate(text.as_bytes().to_vec(), mutations);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Values of every JSON kind, for replacing parts of a valid manifest.
fn any_value() -> impl Strategy<Value = Value> {
    let plausible = words(vec![
        "tasks",
        "1.0.0",
        "/tasks",
        "/apps/tasks/1.0.0/tasks.js",
        "sha384-",
        "nav",
    ]);
    json_value(
        plausible,
        Shape {
            depth: 3,
            size: 24,
            branch: 5,
        },
    )
}

/// Every JSON pointer in `value`, parents before children (iterative, so any depth is fine).
fn pointers(value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![(String::new(), value)];
    while let Some((path, v)) = stack.pop() {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    let escaped = k.replace('~', "~0").replace('/', "~1");
                    stack.push((format!("{path}/{escaped}"), child));
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    stack.push((format!("{path}/{i}"), child));
                }
            }
            _ => {}
        }
        out.push(path);
    }
    out
}

/// Replaces (or, for `None`, removes) the value at `pointer`.
fn edit_at(root: &mut Value, pointer: &str, replacement: Option<Value>) {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        if let Some(value) = replacement {
            *root = value;
        }
        return;
    };
    let key = last.replace("~1", "/").replace("~0", "~");
    match (root.pointer_mut(parent), replacement) {
        (Some(Value::Object(map)), Some(value)) => {
            map.insert(key, value);
        }
        (Some(Value::Object(map)), None) => {
            map.remove(&key);
        }
        (Some(Value::Array(items)), replacement) => {
            if let Ok(i) = key.parse::<usize>() {
                if i < items.len() {
                    match replacement {
                        Some(value) => items[i] = value,
                        None => {
                            items.remove(i);
                        }
                    }
                }
            }
        }
        _ => {}
    }
}

#[test]
fn arbitrary_text_is_parsed_or_refused() {
    proptest!(config(), |(bytes in prop::collection::vec(any::<u8>(), 0..1024))| {
        check_parse(String::from_utf8_lossy(&bytes).into_owned())?;
    });
}

#[test]
fn json_like_token_soup_is_parsed_or_refused() {
    let mut tokens = JSON_TOKENS.to_vec();
    tokens.extend([
        "\"schema\"",
        "\"apps\"",
        "\"generated_at\"",
        "\"regions\"",
        "\"current\"",
        "\"previous\"",
        "\"name\"",
        "\"tasks\"",
        "\"2026-01-01T00:00:00Z\"",
        "\"\\u0000\"",
        "\"\\ud800\"",
    ]);
    proptest!(config(), |(bytes in token_soup(tokens, 80))| {
        check_parse(String::from_utf8(bytes).expect("tokens are text"))?;
    });
}

#[test]
fn byte_mutations_of_a_valid_manifest_are_parsed_or_refused() {
    let valid = valid_manifest_text();
    assert!(parse_manifest(&valid).unwrap().is_clean());
    proptest!(config(), |(mutations in prop::collection::vec(mutation(), 1..8))| {
        check_parse(mutate(&valid, &mutations))?;
    });
}

#[test]
fn value_edits_of_a_valid_manifest_are_parsed_or_refused() {
    let valid: Value = serde_json::from_str(&valid_manifest_text()).unwrap();
    let count = pointers(&valid).len();
    proptest!(config(), |(
        edits in prop::collection::vec((0..count, prop::option::weighted(0.8, any_value())), 1..4),
    )| {
        let mut manifest = valid.clone();
        for (index, replacement) in edits {
            let all = pointers(&manifest);
            if let Some(pointer) = all.get(index % all.len()) {
                edit_at(&mut manifest, &pointer.clone(), replacement);
            }
        }
        check_parse(manifest.to_string())?;
    });
}

#[test]
fn a_million_levels_of_nesting_are_refused() {
    for text in ["[".repeat(1_000_000), "{\"apps\":".repeat(1_000_000)] {
        let parsed = bounded(text, parse).unwrap();
        assert!(matches!(parsed, Err(ManifestError::NotJson(_))));
    }
}

/// Mostly plausible, sometimes arbitrary strings, so both acceptance and each rejection path
/// are reached.
fn sometimes(plausible: Vec<&'static str>) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(plausible).prop_map(str::to_owned),
        1 => ".{0,20}",
        1 => "[a-z0-9./_*:-]{0,24}",
    ]
}

/// A descriptor the deployer could publish, varied in every field.
fn valid_descriptor() -> impl Strategy<Value = AppDescriptor> {
    let name = prop_oneof![
        prop::sample::select(vec!["tasks", "a", "nav-bar", "x1"]).prop_map(str::to_owned),
        "[a-z][a-z0-9-]{0,12}",
    ];
    let version = prop_oneof![
        prop::sample::select(vec!["1.0.0", "0.0.1", "2.3.4-rc.1"]).prop_map(str::to_owned),
        (0u32..100, 0u32..100, 0u32..100).prop_map(|(a, b, c)| format!("{a}.{b}.{c}")),
    ];
    let algorithm = prop::sample::select(vec![
        SriAlgorithm::Sha256,
        SriAlgorithm::Sha384,
        SriAlgorithm::Sha512,
    ]);
    let routes = prop::sample::subsequence(vec!["/", "/tasks", "/tasks/*", "/a/b"], 0..=4);
    let slots = prop::sample::subsequence(vec!["nav", "main", "sidebar"], 0..=3);
    let sizes = prop_oneof![
        Just((None, None)),
        (1u64..1_000_000, 0u64..1_000_000)
            .prop_map(|(bytes, extra)| (Some(bytes + extra), Some(bytes))),
    ];
    (
        (name, version, algorithm, any::<bool>()),
        (routes, slots, any::<i32>()),
        (1u32..4, sizes),
    )
        .prop_map(
            |(
                (name, version, algorithm, has_wasm),
                (routes, slots, order),
                (requires, (budget, bytes)),
            )| {
                let base = format!("/apps/{name}/{version}/");
                AppDescriptor {
                    entry: format!("{base}{name}.js"),
                    wasm: has_wasm.then(|| format!("{base}{name}_bg.wasm")),
                    integrity: AppIntegrity {
                        entry: sri(algorithm, b"js"),
                        wasm: has_wasm.then(|| sri(algorithm, b"wasm")),
                    },
                    routes: routes.into_iter().map(str::to_owned).collect(),
                    slots: slots
                        .into_iter()
                        .map(|slot| SlotSpec {
                            name: slot.to_owned(),
                            order,
                            roles: vec!["user".into()],
                            env: vec![],
                        })
                        .collect(),
                    name,
                    version,
                    requires,
                    budget,
                    bytes,
                }
            },
        )
}

/// One field of a descriptor set to a value that may or may not be acceptable.
#[derive(Debug, Clone)]
enum Break {
    Name(String),
    Version(String),
    Entry(String),
    Wasm(Option<String>),
    EntryIntegrity(String),
    WasmIntegrity(Option<String>),
    Route(String),
    Slot(SlotSpec),
    Requires(u32),
    Budget(Option<u64>),
    Bytes(Option<u64>),
}

fn breakage() -> impl Strategy<Value = Break> {
    let slot = (
        sometimes(vec!["nav", "main", "Nav", "main_area", ""]),
        any::<i32>(),
        prop::collection::vec(sometimes(vec!["user", "admin", "two words", ""]), 0..3),
        prop::collection::vec(sometimes(vec!["dev", "prod", ""]), 0..3),
    )
        .prop_map(|(name, order, roles, env)| SlotSpec {
            name,
            order,
            roles,
            env,
        });
    let path = || {
        sometimes(vec![
            "/apps/tasks/1.0.0/tasks.js",
            "/apps/tasks/1.0.0/../x.js",
            "/apps/tasks/1.0.0/t.mjs",
            "/apps/tasks/1.0.0/.js",
            "/apps/tasks/1.0.0/a//b.js",
            "https://cdn.example/apps/tasks/1.0.0/t.js",
            "/apps/tasks/1.0.0/t_bg.wasm",
        ])
    };
    let integrity = || sometimes(vec!["sha384-AAAA", "md5-AAAA", "sha384", ""]);
    let size = || prop_oneof![Just(None), any::<u64>().prop_map(Some), Just(Some(0))];
    prop_oneof![
        sometimes(vec!["tasks", "Tasks", "-x", "", "a_b"]).prop_map(Break::Name),
        sometimes(vec!["1.0", "1.0.0+b1", "01.0.0", "1.0.0-"]).prop_map(Break::Version),
        path().prop_map(Break::Entry),
        prop::option::of(path()).prop_map(Break::Wasm),
        integrity().prop_map(Break::EntryIntegrity),
        prop::option::of(integrity()).prop_map(Break::WasmIntegrity),
        sometimes(vec!["/tasks", "tasks", "/a/*/b", "/x/:id", "/*"]).prop_map(Break::Route),
        slot.prop_map(Break::Slot),
        prop_oneof![Just(0u32), any::<u32>()].prop_map(Break::Requires),
        size().prop_map(Break::Budget),
        size().prop_map(Break::Bytes),
    ]
}

fn apply(d: &mut AppDescriptor, b: Break) {
    match b {
        Break::Name(v) => d.name = v,
        Break::Version(v) => d.version = v,
        Break::Entry(v) => d.entry = v,
        Break::Wasm(v) => d.wasm = v,
        Break::EntryIntegrity(v) => d.integrity.entry = v,
        Break::WasmIntegrity(v) => d.integrity.wasm = v,
        Break::Route(v) => d.routes.push(v),
        Break::Slot(v) => d.slots.push(v),
        Break::Requires(v) => d.requires = v,
        Break::Budget(v) => d.budget = v,
        Break::Bytes(v) => d.bytes = v,
    }
}

/// A valid descriptor with up to three fields changed: about half stay valid (no change, or
/// changes that are still acceptable), the rest reach each rejection path.
fn descriptor() -> impl Strategy<Value = AppDescriptor> {
    (
        valid_descriptor(),
        prop::collection::vec(breakage(), 0..4),
        0usize..3,
    )
        .prop_map(|(mut d, breaks, keep_valid)| {
            if keep_valid != 0 {
                for b in breaks {
                    apply(&mut d, b);
                }
            }
            d
        })
}

fn validate(d: AppDescriptor) -> (AppDescriptor, Result<(), FieldError>) {
    let verdict = validate_descriptor(&d);
    (d, verdict)
}

#[test]
fn arbitrary_descriptors_are_validated_without_panicking() {
    proptest!(config(), |(d in descriptor())| {
        let (d, verdict) = bounded(d, validate)?;
        match verdict {
            Ok(()) => {
                // A valid descriptor can be published and comes back usable.
                let published = merge(&empty_manifest(T0).unwrap(), d.clone(), T1, 5)
                    .map_err(|e| TestCaseError::fail(format!("valid but refused by merge: {e}")))?;
                let parsed = parse_manifest(&to_json(&published))
                    .map_err(|e| TestCaseError::fail(format!("published but unreadable: {e}")))?;
                prop_assert!(parsed.is_clean(), "{:?}", parsed.disabled);
                prop_assert_eq!(&parsed.manifest.apps[&d.name].current, &d);
            }
            Err(err) => {
                prop_assert!(!err.message.is_empty());
                prop_assert!(merge(&empty_manifest(T0).unwrap(), d, T1, 5).is_err());
            }
        }
    });
}
