//! `publish` on real files: layout, SRI, merge, immutability, refusals, atomicity, locking.

mod common;

use std::fs;
use std::thread;

use common::{world, LATER, NOW};
use mfe_deploy::PublishOutcome;
use mfe_manifest::{sri, verify_sri, AppDescriptor, SriAlgorithm};

fn descriptor_on_disk(w: &common::World, name: &str, version: &str) -> AppDescriptor {
    let text = fs::read_to_string(w.cdn.version_dir(name, version).join("mfe.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn publishes_a_js_app() {
    let w = world();
    let body = "export async function mount() {}\n";
    let app = w.js_app("hello", "1.0.0", body, r#","budget":1000"#);
    let outcome = w.publish(&app, NOW).unwrap();
    assert!(
        matches!(outcome, PublishOutcome::Published { replaced: None, .. }),
        "{outcome:?}"
    );

    let dir = w.cdn.version_dir("hello", "1.0.0");
    let js = fs::read(dir.join("hello.js")).unwrap();
    assert_eq!(js, body.as_bytes());
    let d = descriptor_on_disk(&w, "hello", "1.0.0");
    assert_eq!(d.entry, "/apps/hello/1.0.0/hello.js");
    assert_eq!(d.wasm, None);
    assert_eq!(
        d.integrity.entry,
        sri(SriAlgorithm::Sha384, body.as_bytes())
    );
    assert!(d.integrity.entry.starts_with("sha384-"));
    assert_eq!(d.bytes, Some(body.len() as u64));
    assert_eq!(d.budget, Some(1000));
    assert_eq!(d.routes, ["/hello"]);

    let m = w.manifest();
    assert!(m.is_clean());
    assert_eq!(m.app("hello").unwrap().current, d);
    assert_eq!(m.manifest.generated_at, NOW);
}

#[test]
fn publishes_a_prebuilt_rust_app() {
    let w = world();
    let app = w.rust_app(
        "tasks",
        "0.3.0",
        b"glue js",
        b"\0asm fake wasm",
        "budget = 100",
    );
    fs::create_dir_all(app.join("pkg/snippets/tasks-abc")).unwrap();
    fs::write(
        app.join("pkg/snippets/tasks-abc/inline0.js"),
        "export const x = 1;",
    )
    .unwrap();
    w.publish(&app, NOW).unwrap();

    let dir = w.cdn.version_dir("tasks", "0.3.0");
    let js = fs::read(dir.join("tasks.js")).unwrap();
    let wasm = fs::read(dir.join("tasks_bg.wasm")).unwrap();
    assert!(dir.join("snippets/tasks-abc/inline0.js").is_file());
    let d = descriptor_on_disk(&w, "tasks", "0.3.0");
    assert_eq!(d.entry, "/apps/tasks/0.3.0/tasks.js");
    assert_eq!(d.wasm.as_deref(), Some("/apps/tasks/0.3.0/tasks_bg.wasm"));
    assert!(verify_sri(&d.integrity.entry, &js));
    assert!(verify_sri(d.integrity.wasm.as_deref().unwrap(), &wasm));
    assert_eq!(
        d.integrity.wasm,
        Some(sri(SriAlgorithm::Sha384, b"\0asm fake wasm"))
    );
    assert_eq!(
        d.bytes,
        Some((7 + 14 + 19) as u64),
        "entry + wasm + snippets"
    );
    assert_eq!(d.slots[0].name, "nav");
    assert_eq!(d.slots[0].order, 5);
    assert_eq!(w.manifest().app("tasks").unwrap().current, d);
}

#[test]
fn second_version_keeps_the_first_as_previous() {
    let w = world();
    w.publish(&w.rust_app("tasks", "1.0.0", b"js1", b"wasm1", ""), NOW)
        .unwrap();
    let outcome = w
        .publish(&w.rust_app("tasks", "1.1.0", b"js2", b"wasm2", ""), LATER)
        .unwrap();
    assert!(
        matches!(&outcome, PublishOutcome::Published { replaced: Some(v), .. } if v == "1.0.0"),
        "{outcome:?}"
    );
    assert_eq!(w.current("tasks"), "1.1.0");
    assert_eq!(w.previous("tasks"), ["1.0.0"]);
    assert_eq!(w.manifest().manifest.generated_at, LATER);
    assert!(w
        .cdn
        .version_dir("tasks", "1.0.0")
        .join("tasks.js")
        .is_file());
}

#[test]
fn version_override_and_keep() {
    let w = world();
    let app = w.js_app("hello", "1.0.0", "x", "");
    for v in ["1.0.1", "1.0.2", "1.0.3"] {
        let mut opts = w.options(&app);
        opts.version = Some(v.into());
        opts.keep_previous = 1;
        mfe_deploy::publish(&opts, NOW, &mut |_| {}).unwrap();
    }
    assert_eq!(w.current("hello"), "1.0.3");
    assert_eq!(w.previous("hello"), ["1.0.2"]);
}

#[test]
fn same_version_same_bytes_is_nothing_to_do() {
    let w = world();
    let app = w.rust_app("tasks", "1.0.0", b"js", b"wasm", "");
    w.publish(&app, NOW).unwrap();
    let before = w.manifest_text().unwrap();
    let outcome = w.publish(&app, LATER).unwrap();
    assert!(
        matches!(outcome, PublishOutcome::AlreadyPublished { .. }),
        "{outcome:?}"
    );
    assert_eq!(
        w.manifest_text().unwrap(),
        before,
        "not even generated_at moves"
    );
}

#[test]
fn same_version_different_bytes_is_refused() {
    let w = world();
    w.publish(&w.rust_app("tasks", "1.0.0", b"js", b"wasm", ""), NOW)
        .unwrap();
    w.publish(&w.rust_app("tasks", "1.1.0", b"js2", b"wasm2", ""), NOW)
        .unwrap();
    let before = w.manifest_text().unwrap();
    let tree_before = w.tree();

    for (version, wasm) in [
        ("1.1.0", b"WASM".as_slice()),
        ("1.0.0", b"other".as_slice()),
    ] {
        let changed = w.rust_app("tasks", version, b"js2", wasm, "");
        let err = format!("{:#}", w.publish(&changed, LATER).unwrap_err());
        assert!(
            err.contains(&format!("refusing to overwrite tasks {version}")),
            "{err}"
        );
        assert!(err.contains("tasks_bg.wasm has different bytes"), "{err}");
        assert!(err.contains("bump the version"), "{err}");
    }
    assert_eq!(
        w.manifest_text().unwrap(),
        before,
        "manifest byte-identical"
    );
    assert_eq!(w.tree(), tree_before, "no file added or removed");
    let wasm = fs::read(w.cdn.version_dir("tasks", "1.1.0").join("tasks_bg.wasm")).unwrap();
    assert_eq!(wasm, b"wasm2");
}

#[test]
fn same_version_different_settings_is_refused() {
    let w = world();
    w.publish(&w.js_app("hello", "1.0.0", "x", ""), NOW)
        .unwrap();
    let before = w.manifest_text().unwrap();
    let changed = w.js_app("hello", "1.0.0", "x", r#","budget":5000"#);
    let err = format!("{:#}", w.publish(&changed, LATER).unwrap_err());
    assert!(err.contains("mfe.json field `budget` differs"), "{err}");
    assert_eq!(w.manifest_text().unwrap(), before);
}

#[test]
fn republishing_a_rolled_back_version_restores_it() {
    let w = world();
    w.publish(&w.js_app("hello", "1.0.0", "one", ""), NOW)
        .unwrap();
    let v2 = w.js_app("hello", "2.0.0", "two", "");
    w.publish(&v2, NOW).unwrap();
    mfe_deploy::rollback(&w.cdn, "hello", None, NOW, &mut |_| {}).unwrap();
    assert_eq!(w.current("hello"), "1.0.0");
    let outcome = w.publish(&v2, LATER).unwrap();
    assert!(
        matches!(outcome, PublishOutcome::Restored { .. }),
        "{outcome:?}"
    );
    assert_eq!(w.current("hello"), "2.0.0");
    assert_eq!(w.previous("hello"), ["1.0.0"]);
}

#[test]
fn an_invalid_manifest_is_never_clobbered() {
    let w = world();
    fs::create_dir_all(w.cdn.root()).unwrap();
    let app = w.js_app("hello", "1.0.0", "x", "");
    for garbage in [
        "{ not json",
        r#"{"schema": 7, "apps": {}, "generated_at": "2026-01-01T00:00:00Z"}"#,
    ] {
        fs::write(w.cdn.manifest_path(), garbage).unwrap();
        let err = format!("{:#}", w.publish(&app, NOW).unwrap_err());
        assert!(err.contains("is unusable"), "{err}");
        assert!(err.contains("refusing to change it"), "{err}");
        assert_eq!(fs::read_to_string(w.cdn.manifest_path()).unwrap(), garbage);
        assert!(
            !w.cdn.version_dir("hello", "1.0.0").exists(),
            "nothing copied"
        );
    }
}

#[test]
fn a_disabled_app_blocks_edits_until_removed() {
    let w = world();
    w.publish(&w.js_app("hello", "1.0.0", "x", ""), NOW)
        .unwrap();
    w.publish(&w.js_app("other", "1.0.0", "y", ""), NOW)
        .unwrap();
    let text = w.manifest_text().unwrap();
    let broken = text.replacen(
        "\"entry\": \"/apps/hello/1.0.0/hello.js\"",
        "\"entry\": \"/elsewhere.js\"",
        1,
    );
    assert_ne!(broken, text);
    fs::write(w.cdn.manifest_path(), &broken).unwrap();

    let err = format!(
        "{:#}",
        w.publish(&w.js_app("third", "1.0.0", "z", ""), LATER)
            .unwrap_err()
    );
    assert!(
        err.contains("apps.hello.current.entry: must be a path under"),
        "{err}"
    );
    assert_eq!(w.manifest_text().unwrap(), broken);

    let listing = mfe_deploy::list(&w.cdn).unwrap();
    assert_eq!(listing.disabled[0].name, "hello");
    assert_eq!(listing.apps.len(), 1);

    let removed = mfe_deploy::remove(&w.cdn, "hello", LATER, &mut |_| {}).unwrap();
    assert!(removed.was_disabled.is_some());
    let m = w.manifest();
    assert!(m.is_clean());
    assert!(m.app("other").is_some());
    w.publish(&w.js_app("third", "1.0.0", "z", ""), LATER)
        .unwrap();
}

#[test]
fn no_temporary_files_are_left_behind() {
    let w = world();
    w.publish(&w.rust_app("tasks", "1.0.0", b"a", b"b", ""), NOW)
        .unwrap();
    w.publish(&w.rust_app("tasks", "1.1.0", b"c", b"d", ""), NOW)
        .unwrap();
    w.publish(&w.js_app("hello", "1.0.0", "x", ""), NOW)
        .unwrap();
    let _ = w.publish(&w.rust_app("tasks", "1.1.0", b"c", b"CHANGED", ""), NOW);
    assert_eq!(
        w.tree(),
        [
            ".deploy.lock",
            "apps",
            "apps/hello",
            "apps/hello/1.0.0",
            "apps/hello/1.0.0/hello.js",
            "apps/hello/1.0.0/mfe.json",
            "apps/tasks",
            "apps/tasks/1.0.0",
            "apps/tasks/1.0.0/mfe.json",
            "apps/tasks/1.0.0/tasks.js",
            "apps/tasks/1.0.0/tasks_bg.wasm",
            "apps/tasks/1.1.0",
            "apps/tasks/1.1.0/mfe.json",
            "apps/tasks/1.1.0/tasks.js",
            "apps/tasks/1.1.0/tasks_bg.wasm",
            "manifest.json",
        ]
    );
}

#[test]
fn over_budget_is_refused() {
    let w = world();
    let app = w.rust_app("tasks", "1.0.0", &[b'j'; 60], &[0u8; 50], "budget = 100");
    let err = format!("{:#}", w.publish(&app, NOW).unwrap_err());
    assert_eq!(
        err,
        "refusing to publish tasks 1.0.0: tasks 1.0.0 ships 110 bytes, over its budget of 100 bytes by 10"
    );
    assert!(!w.cdn.root().exists(), "nothing written");
}

#[test]
fn newer_host_api_is_refused() {
    let w = world();
    let app = w.js_app("hello", "1.0.0", "x", "");
    let text = fs::read_to_string(app.join("package.json")).unwrap();
    fs::write(
        app.join("package.json"),
        text.replace("\"requires\":1", "\"requires\":99"),
    )
    .unwrap();
    let err = format!("{:#}", w.publish(&app, NOW).unwrap_err());
    assert!(
        err.contains("hello 1.0.0 needs host API v99, but this shell provides v1"),
        "{err}"
    );
    assert!(!w.cdn.root().exists(), "nothing written");
}

#[test]
fn invalid_settings_name_the_field() {
    let w = world();
    let app = w.rust_app("tasks", "1.0.0", b"a", b"b", "");
    let toml = fs::read_to_string(app.join("Cargo.toml")).unwrap();
    fs::write(
        app.join("Cargo.toml"),
        toml.replace("\"/tasks/*\"", "\"tasks/*\""),
    )
    .unwrap();
    let err = format!("{:#}", w.publish(&app, NOW).unwrap_err());
    assert!(
        err.contains("its mfe.json would be invalid: routes[1]: must start with '/'"),
        "{err}"
    );

    let bad_version = w.js_app("hello", "1.0", "x", "");
    let err = format!("{:#}", w.publish(&bad_version, NOW).unwrap_err());
    assert!(err.contains("version: expected a semver version"), "{err}");
}

#[test]
fn missing_pkg_says_how_to_build() {
    let w = world();
    let app = w.rust_app("tasks", "1.0.0", b"a", b"b", "");
    fs::remove_dir_all(app.join("pkg")).unwrap();
    let err = format!("{:#}", w.publish(&app, NOW).unwrap_err());
    assert!(err.contains("tasks_bg.wasm"), "{err}");
    assert!(err.contains("--build"), "{err}");
}

#[test]
fn concurrent_publishes_do_not_lose_updates() {
    let w = world();
    let apps: Vec<_> = (0..6)
        .map(|i| w.js_app(&format!("app{i}"), "1.0.0", &format!("// {i}"), ""))
        .collect();
    thread::scope(|s| {
        for app in &apps {
            let w = &w;
            s.spawn(move || w.publish(app, NOW).unwrap());
        }
    });
    let m = w.manifest();
    assert_eq!(m.manifest.apps.len(), 6, "{:?}", m.manifest.apps.keys());
}
