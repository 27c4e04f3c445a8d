//! Properties of merge / rollback / remove and of parsing, over generated publish histories.

mod common;

use common::{app, T0, T1};
use mfe_manifest::{
    empty_manifest, merge, parse_manifest, remove, rollback, to_json, validate_descriptor, Manifest,
};
use proptest::prelude::*;

const NAMES: [&str; 3] = ["tasks", "catalog", "nav-bar"];

/// One publish: an index into [`NAMES`] and a version `(major, minor, patch)`.
type Publish = (usize, (u8, u8, u8));

/// A publish history applied in order, and the `keep_previous` cap used for every merge.
fn history() -> impl Strategy<Value = (Vec<Publish>, usize)> {
    (
        prop::collection::vec((0..NAMES.len(), (0u8..4, 0u8..4, 0u8..4)), 0..30),
        0usize..7,
    )
}

fn build(ops: &[Publish], keep: usize) -> Manifest {
    ops.iter()
        .fold(empty_manifest(T0).unwrap(), |m, (i, (a, b, c))| {
            merge(&m, app(NAMES[*i], &format!("{a}.{b}.{c}")), T1, keep).unwrap()
        })
}

proptest! {
    #[test]
    fn merge_then_rollback_restores_the_previous_current(
        (ops, keep) in history(), i in 0..NAMES.len(), keep_extra in 1usize..5,
    ) {
        let keep = keep.max(keep_extra);
        let m = build(&ops, keep);
        let name = NAMES[i];
        // Majors 0..4 are used by the history, so 9.0.0 is new.
        let merged = merge(&m, app(name, "9.0.0"), T1, keep).unwrap();
        match m.apps.get(name) {
            Some(before) => {
                let back = rollback(&merged, name, None, T1).unwrap();
                prop_assert_eq!(&back.apps[name].current, &before.current);
                prop_assert!(back.apps[name].previous.iter().all(|d| d.version != "9.0.0"));
                for other in NAMES.iter().filter(|n| **n != name) {
                    prop_assert_eq!(back.apps.get(*other), m.apps.get(*other));
                }
            }
            None => prop_assert!(rollback(&merged, name, None, T1).is_err()),
        }
    }

    #[test]
    fn merge_keeps_at_most_keep_previous_distinct_versions((ops, keep) in history()) {
        let m = build(&ops, keep);
        for versions in m.apps.values() {
            prop_assert!(versions.previous.len() <= keep);
            let mut all: Vec<&str> = std::iter::once(&versions.current)
                .chain(&versions.previous)
                .map(|d| d.version.as_str())
                .collect();
            let n = all.len();
            all.sort_unstable();
            all.dedup();
            prop_assert_eq!(all.len(), n, "versions are unique");
        }
    }

    #[test]
    fn merge_is_idempotent((ops, keep) in history(), i in 0..NAMES.len(), v in (0u8..4, 0u8..4, 0u8..4)) {
        let m = build(&ops, keep);
        let d = app(NAMES[i], &format!("{}.{}.{}", v.0, v.1, v.2));
        let once = merge(&m, d.clone(), T1, keep).unwrap();
        let twice = merge(&once, d, "2030-01-01T00:00:00Z", keep).unwrap();
        prop_assert_eq!(once, twice);
    }

    #[test]
    fn remove_leaves_no_trace((ops, keep) in history(), i in 0..NAMES.len()) {
        let m = build(&ops, keep);
        let name = NAMES[i];
        match remove(&m, name, T1) {
            Ok(gone) => {
                prop_assert!(m.apps.contains_key(name));
                prop_assert!(!gone.apps.contains_key(name));
                let text = to_json(&gone);
                prop_assert!(!text.contains(&format!("\"{name}\"")), "{}", text);
                prop_assert!(!text.contains(&format!("/apps/{name}/")), "{}", text);
                let reparsed = parse_manifest(&text).unwrap();
                prop_assert!(reparsed.app(name).is_none());
            }
            Err(_) => prop_assert!(!m.apps.contains_key(name)),
        }
    }

    #[test]
    fn valid_manifests_round_trip((ops, keep) in history()) {
        let m = build(&ops, keep);
        let parsed = parse_manifest(&to_json(&m)).unwrap();
        prop_assert!(parsed.disabled.is_empty(), "{:?}", parsed.disabled);
        prop_assert_eq!(parsed.manifest, m);
    }

    #[test]
    fn garbage_text_never_panics(text in "\\PC{0,200}") {
        let _ = parse_manifest(&text);
    }

    #[test]
    fn garbage_json_never_panics(value in json_value()) {
        let _ = parse_manifest(&value.to_string());
        let wrapped = serde_json::json!({"schema": 1, "generated_at": T0, "apps": {"tasks": value}});
        let parsed = parse_manifest(&wrapped.to_string()).unwrap();
        prop_assert!(parsed.app("tasks").is_some() || parsed.disabled.len() == 1);
    }

    #[test]
    fn mutated_manifests_never_panic((ops, keep) in history(), cuts in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut bytes = to_json(&build(&ops, keep)).into_bytes();
        for (at, byte) in cuts {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        if let Ok(text) = String::from_utf8(bytes) {
            if let Ok(parsed) = parse_manifest(&text) {
                for versions in parsed.manifest.apps.values() {
                    prop_assert!(validate_descriptor(&versions.current).is_ok());
                }
            }
        }
    }
}

/// Arbitrary JSON, biased toward the keys and shapes a descriptor has so the validator's
/// deeper branches are reached, not only the first type check.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let key = prop_oneof![
        Just("name".to_string()),
        Just("version".to_string()),
        Just("entry".to_string()),
        Just("wasm".to_string()),
        Just("integrity".to_string()),
        Just("routes".to_string()),
        Just("slots".to_string()),
        Just("requires".to_string()),
        Just("current".to_string()),
        Just("previous".to_string()),
        "[a-z]{1,6}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,20}".prop_map(Value::String),
        Just(Value::String("/apps/tasks/1.0.0/tasks.js".into())),
        Just(Value::String("1.0.0".into())),
        Just(Value::String("tasks".into())),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
