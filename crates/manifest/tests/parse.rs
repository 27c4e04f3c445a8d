//! `parse_manifest`: whole-file errors versus per-app disabling, and the reasons' field names.

mod common;

use common::{app, T0, T1};
use mfe_manifest::{active_apps, empty_manifest, merge, parse_manifest, to_json, ManifestError};
use serde_json::{json, Value};

fn manifest_value() -> Value {
    let mut m = empty_manifest(T0).unwrap();
    m = merge(&m, app("tasks", "1.0.0"), T1, 5).unwrap();
    m = merge(&m, app("tasks", "1.1.0"), T1, 5).unwrap();
    m = merge(&m, app("catalog", "2.0.0"), T1, 5).unwrap();
    serde_json::to_value(&m).unwrap()
}

fn whole_file_error(text: &str) -> ManifestError {
    parse_manifest(text).expect_err("the whole file should be rejected")
}

fn field_of(err: &ManifestError) -> &str {
    match err {
        ManifestError::Invalid(f) => &f.field,
        other => panic!("expected a field error, got {other}"),
    }
}

#[test]
fn valid_file_parses_with_nothing_disabled() {
    let text = manifest_value().to_string();
    let parsed = parse_manifest(&text).unwrap();
    assert!(parsed.is_clean());
    assert_eq!(parsed.manifest.apps.len(), 2);
    assert_eq!(parsed.app("tasks").unwrap().previous.len(), 1);
}

#[test]
fn whole_file_problems_are_errors() {
    assert!(matches!(
        whole_file_error("not json"),
        ManifestError::NotJson(_)
    ));
    assert!(matches!(whole_file_error(""), ManifestError::NotJson(_)));
    assert_eq!(field_of(&whole_file_error("[]")), "(root)");

    let mut v = manifest_value();
    v["schema"] = json!(2);
    let err = whole_file_error(&v.to_string());
    assert_eq!(field_of(&err), "schema");
    assert!(err.to_string().contains("expected 1, found 2"), "{err}");

    v = manifest_value();
    v["schema"] = json!("1");
    assert_eq!(field_of(&whole_file_error(&v.to_string())), "schema");

    v = manifest_value();
    v.as_object_mut().unwrap().remove("schema");
    assert_eq!(field_of(&whole_file_error(&v.to_string())), "schema");

    v = manifest_value();
    v.as_object_mut().unwrap().remove("apps");
    let err = whole_file_error(&v.to_string());
    assert_eq!(err.to_string(), "manifest is invalid: apps: missing");

    v = manifest_value();
    v["apps"] = json!([]);
    assert_eq!(field_of(&whole_file_error(&v.to_string())), "apps");

    v = manifest_value();
    v["generated_at"] = json!("yesterday");
    assert_eq!(field_of(&whole_file_error(&v.to_string())), "generated_at");

    v = manifest_value();
    v["extra"] = json!(1);
    assert_eq!(field_of(&whole_file_error(&v.to_string())), "extra");
}

#[test]
fn regions_are_checked() {
    let mut v = manifest_value();
    v["regions"] = json!([{"name": "us-east", "url": "http://127.0.0.1:8081"}]);
    assert_eq!(
        parse_manifest(&v.to_string())
            .unwrap()
            .manifest
            .regions
            .len(),
        1
    );

    v["regions"] =
        json!([{"name": "us-east", "url": "http://a"}, {"name": "eu", "url": "ftp://x"}]);
    assert_eq!(
        field_of(&whole_file_error(&v.to_string())),
        "regions[1].url"
    );

    v["regions"] = json!([{"name": "us-east"}]);
    let err = whole_file_error(&v.to_string());
    assert_eq!(field_of(&err), "regions[0]");
    assert!(err.to_string().contains("missing field `url`"), "{err}");
}

/// Breaks one field of app `tasks` and returns the reason it was disabled with.
fn disabled_reason(edit: impl FnOnce(&mut Value)) -> String {
    let mut v = manifest_value();
    edit(&mut v["apps"]["tasks"]);
    let parsed = parse_manifest(&v.to_string()).expect("file stays usable");
    assert!(
        parsed.app("catalog").is_some(),
        "the other app stays usable"
    );
    assert!(
        parsed.app("tasks").is_none(),
        "the broken app is not usable"
    );
    assert_eq!(parsed.disabled.len(), 1);
    assert_eq!(parsed.disabled[0].name, "tasks");
    parsed.disabled[0].reason.clone()
}

#[test]
fn a_bad_app_entry_disables_that_app_only() {
    let reason = disabled_reason(|t| t["current"]["integrity"]["entry"] = json!("sha384-nope"));
    assert!(
        reason.starts_with("apps.tasks.current.integrity.entry: expected \"sha384-<base64>\""),
        "{reason}"
    );

    let reason = disabled_reason(|t| t["previous"][0]["routes"][1] = json!("no-slash"));
    assert!(
        reason.starts_with("apps.tasks.previous[0].routes[1]: must start with '/'"),
        "{reason}"
    );

    let reason = disabled_reason(|t| t["current"]["name"] = json!("catalog"));
    assert!(reason.starts_with("apps.tasks.current."), "{reason}");

    let reason = disabled_reason(|t| t["current"]["requires"] = json!(0));
    assert!(
        reason.starts_with("apps.tasks.current.requires: must be at least 1"),
        "{reason}"
    );

    let reason = disabled_reason(|t| t["current"]["entry"] = json!("https://evil.example/x.js"));
    assert!(
        reason.starts_with("apps.tasks.current.entry: must be a same-origin"),
        "{reason}"
    );

    let reason = disabled_reason(|t| t["current"]["wasm"] = Value::Null);
    assert!(
        reason.starts_with("apps.tasks.current.wasm: missing"),
        "{reason}"
    );
}

#[test]
fn shape_errors_name_the_field() {
    let reason = disabled_reason(|t| {
        t["current"].as_object_mut().unwrap().remove("entry");
    });
    assert!(
        reason.starts_with("apps.tasks.current: missing field `entry`"),
        "{reason}"
    );

    let reason = disabled_reason(|t| t["current"]["entrypoint"] = json!("x.js"));
    assert!(reason.contains("unknown field `entrypoint`"), "{reason}");

    let reason = disabled_reason(|t| t["current"]["budget"] = json!("lots"));
    assert!(
        reason.starts_with("apps.tasks.current.budget: invalid type"),
        "{reason}"
    );

    let reason = disabled_reason(|t| *t = json!(null));
    assert!(reason.starts_with("apps.tasks: invalid type"), "{reason}");

    let reason = disabled_reason(|t| t["previous"][0]["version"] = json!("1.1.0"));
    assert!(reason.starts_with("apps.tasks.previous[0]"), "{reason}");
}

#[test]
fn mismatched_key_and_duplicate_versions() {
    let mut v = manifest_value();
    v["apps"]["Bad Name"] = v["apps"]["tasks"].clone();
    let parsed = parse_manifest(&v.to_string()).unwrap();
    let bad = parsed
        .disabled
        .iter()
        .find(|d| d.name == "Bad Name")
        .unwrap();
    assert!(
        bad.reason.starts_with("apps.Bad Name: invalid app name"),
        "{}",
        bad.reason
    );

    let mut v = manifest_value();
    v["apps"]["todo"] = v["apps"]["tasks"].clone();
    let parsed = parse_manifest(&v.to_string()).unwrap();
    let bad = parsed.disabled.iter().find(|d| d.name == "todo").unwrap();
    assert!(
        bad.reason
            .starts_with("apps.todo.current.name: expected \"todo\" (its key under apps)"),
        "{}",
        bad.reason
    );

    let mut v = manifest_value();
    let current = v["apps"]["tasks"]["current"].clone();
    v["apps"]["tasks"]["previous"] = json!([current]);
    let parsed = parse_manifest(&v.to_string()).unwrap();
    assert_eq!(
        parsed.disabled[0].reason,
        "apps.tasks.previous[0].version: version 1.1.0 is listed twice"
    );
}

#[test]
fn disabled_apps_never_route() {
    let mut v = manifest_value();
    v["apps"]["tasks"]["current"]["integrity"]["entry"] = json!("bad");
    let parsed = parse_manifest(&v.to_string()).unwrap();
    assert!(active_apps(&parsed, "/tasks").is_empty());
    let active = active_apps(&parsed, "/catalog/42");
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].name, "catalog");
    assert_eq!(active[0].base_path, "/catalog");
    assert_eq!(active[0].params["*"], "42");
}

#[test]
fn active_apps_in_name_order() {
    let mut m = empty_manifest(T0).unwrap();
    for name in ["zeta", "alpha", "mid"] {
        let mut d = app(name, "1.0.0");
        d.routes = vec!["/shared/*".into()];
        m = merge(&m, d, T1, 5).unwrap();
    }
    let parsed = parse_manifest(&to_json(&m)).unwrap();
    let names: Vec<_> = active_apps(&parsed, "/shared/x")
        .iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["alpha", "mid", "zeta"]);
    assert!(active_apps(&parsed, "/elsewhere").is_empty());
}

#[test]
fn dev_origins_are_checked() {
    let mut v = manifest_value();
    v["dev_origins"] = json!(["http://localhost:5173", "https://dev.example.com"]);
    let parsed = parse_manifest(&v.to_string()).unwrap();
    assert_eq!(parsed.manifest.dev_origins.len(), 2);
    assert_eq!(parse_manifest(&to_json(&parsed.manifest)).unwrap(), parsed);

    for bad in [
        json!(["http://localhost:5173/path"]),
        json!(["localhost:5173"]),
        json!(["http://LOCALHOST"]),
        json!(["http://host:"]),
        json!([1]),
        json!("http://localhost"),
    ] {
        v["dev_origins"] = bad.clone();
        let err = whole_file_error(&v.to_string());
        assert!(field_of(&err).starts_with("dev_origins"), "{bad}: {err}");
    }
}
