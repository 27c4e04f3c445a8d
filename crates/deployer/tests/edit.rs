//! `rollback`, `remove` and `list` on real files.

mod common;

use std::fs;

use common::{world, LATER, NOW};

#[test]
fn rollback_makes_the_previous_version_current() {
    let w = world();
    w.publish(&w.rust_app("tasks", "1.0.0", b"a", b"b", ""), NOW)
        .unwrap();
    w.publish(&w.rust_app("tasks", "1.1.0", b"c", b"d", ""), NOW)
        .unwrap();
    let done = mfe_deploy::rollback(&w.cdn, "tasks", None, LATER, &mut |_| {}).unwrap();
    assert_eq!((done.from.as_str(), done.to.as_str()), ("1.1.0", "1.0.0"));
    assert_eq!(done.dropped, ["1.1.0"]);
    assert_eq!(w.current("tasks"), "1.0.0");
    assert!(w.previous("tasks").is_empty());
    assert_eq!(w.manifest().manifest.generated_at, LATER);
    assert!(
        w.cdn
            .version_dir("tasks", "1.1.0")
            .join("tasks.js")
            .is_file(),
        "files stay"
    );

    let err = mfe_deploy::rollback(&w.cdn, "tasks", None, LATER, &mut |_| {}).unwrap_err();
    assert!(
        format!("{err:#}").contains("no previous version"),
        "{err:#}"
    );
}

#[test]
fn rollback_to_a_named_version() {
    let w = world();
    for v in ["1.0.0", "1.1.0", "1.2.0", "1.3.0"] {
        w.publish(&w.js_app("hello", v, v, ""), NOW).unwrap();
    }
    let done = mfe_deploy::rollback(&w.cdn, "hello", Some("1.1.0"), LATER, &mut |_| {}).unwrap();
    assert_eq!(done.dropped, ["1.3.0", "1.2.0"]);
    assert_eq!(w.current("hello"), "1.1.0");
    assert_eq!(w.previous("hello"), ["1.0.0"]);

    let err = mfe_deploy::rollback(&w.cdn, "hello", Some("7.0.0"), LATER, &mut |_| {}).unwrap_err();
    assert!(
        format!("{err:#}").contains("previous versions: 1.0.0"),
        "{err:#}"
    );
    let err = mfe_deploy::rollback(&w.cdn, "nope", None, LATER, &mut |_| {}).unwrap_err();
    assert!(
        format!("{err:#}").contains("no app named \"nope\""),
        "{err:#}"
    );
}

#[test]
fn remove_takes_the_app_out_of_the_manifest_only() {
    let w = world();
    w.publish(&w.js_app("hello", "1.0.0", "x", ""), NOW)
        .unwrap();
    w.publish(&w.js_app("hello", "1.1.0", "y", ""), NOW)
        .unwrap();
    w.publish(&w.js_app("other", "1.0.0", "z", ""), NOW)
        .unwrap();
    let done = mfe_deploy::remove(&w.cdn, "hello", LATER, &mut |_| {}).unwrap();
    assert_eq!(done.versions, ["1.1.0", "1.0.0"]);
    let text = w.manifest_text().unwrap();
    assert!(!text.contains("hello"), "{text}");
    assert!(w.manifest().app("other").is_some());
    assert!(
        w.cdn
            .version_dir("hello", "1.1.0")
            .join("hello.js")
            .is_file(),
        "files stay"
    );
    let listing = mfe_deploy::list(&w.cdn).unwrap();
    assert_eq!(
        listing
            .apps
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>(),
        ["other"]
    );

    let err = mfe_deploy::remove(&w.cdn, "hello", LATER, &mut |_| {}).unwrap_err();
    assert!(format!("{err:#}").contains("no app named"), "{err:#}");
}

#[test]
fn list_reports_versions_routes_and_bytes() {
    let w = world();
    let empty = mfe_deploy::list(&w.cdn).unwrap();
    assert!(!empty.manifest_exists);
    assert!(empty.to_table().contains("nothing published"));

    w.publish(
        &w.rust_app("tasks", "1.0.0", b"js", b"wasm", "budget = 1000"),
        NOW,
    )
    .unwrap();
    w.publish(
        &w.rust_app("tasks", "1.1.0", b"js!", b"wasm", "budget = 1000"),
        NOW,
    )
    .unwrap();
    w.publish(&w.js_app("hello", "2.0.0", "x", ""), NOW)
        .unwrap();
    let listing = mfe_deploy::list(&w.cdn).unwrap();
    let tasks = listing.apps.iter().find(|a| a.name == "tasks").unwrap();
    assert_eq!(tasks.current, "1.1.0");
    assert_eq!(tasks.previous, ["1.0.0"]);
    assert_eq!(tasks.routes, ["/tasks", "/tasks/*"]);
    assert_eq!(tasks.bytes, Some(7));
    assert_eq!(tasks.kind, "wasm");
    let table = listing.to_table();
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("NAME"), "{table}");
    assert!(lines[1].starts_with("hello  "), "{table}");
    assert!(
        lines[2].contains("1.1.0") && lines[2].contains("7 / 1000"),
        "{table}"
    );
    assert!(fs::read_dir(w.cdn.root()).is_ok());
}

#[test]
fn dev_origins_are_allowed_and_removed_by_origin_only() {
    let w = world();
    w.publish(&w.js_app("hello", "1.0.0", "x", ""), NOW)
        .unwrap();
    let allow = |url: &str, allow: bool| {
        mfe_deploy::allow_dev_origin(&w.cdn, url, allow, LATER, &mut |_| {})
    };
    assert_eq!(
        allow("http://127.0.0.1:8700", true).unwrap(),
        ["http://127.0.0.1:8700"]
    );
    // Listed once, however often it is allowed.
    assert_eq!(allow("http://127.0.0.1:8700/", true).unwrap().len(), 1);
    let err = allow("http://127.0.0.1:8700/mfe.json", true).unwrap_err();
    assert!(err.to_string().contains("not an origin"), "{err}");
    assert!(allow("ftp://x", true).is_err());
    let text = w.manifest_text().unwrap();
    assert!(text.contains("\"dev_origins\""), "{text}");
    assert!(w.manifest().app("hello").is_some(), "apps untouched");
    assert!(allow("http://127.0.0.1:8700", false).unwrap().is_empty());
}
