//! Development overrides in a real browser (tests build in debug, where overrides exist): an
//! override from an origin the manifest allows is fetched and put in front of the published
//! version; one from another origin is refused without any request. `fetch` is a stub that
//! serves the allowed `mfe.json` and records every URL asked for.
#![cfg(target_arch = "wasm32")]

use mfe_contract::{AppDescriptor, AppIntegrity};
use mfe_manifest::{empty_manifest, merge, parse_manifest, sri, to_json, SriAlgorithm};
use mfe_shell::runtime::dev_override;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
let real;
export function stub_fetch(url, body) {
  real = window.fetch;
  const seen = [];
  window.fetch = async (request) => {
    const asked = typeof request === 'string' ? request : request.url;
    seen.push(asked);
    if (asked === url) return new Response(body, { headers: { 'content-type': 'application/json' } });
    return new Response('not here', { status: 404 });
  };
  return seen;
}
export function restore_fetch() { window.fetch = real; }
"#)]
extern "C" {
    fn stub_fetch(url: &str, body: &str) -> js_sys::Array;
    fn restore_fetch();
}

const ALLOWED: &str = "http://localhost:5173";
const TASKS_OVERRIDE: &str = "http://localhost:5173/apps/tasks/2.0.0-dev/mfe.json";
const CATALOG_OVERRIDE: &str = "http://evil.example/apps/catalog/9.0.0/mfe.json";

fn descriptor(name: &str, version: &str) -> AppDescriptor {
    AppDescriptor {
        name: name.into(),
        version: version.into(),
        entry: format!("/apps/{name}/{version}/{name}.js"),
        wasm: None,
        integrity: AppIntegrity {
            entry: sri(SriAlgorithm::Sha384, version.as_bytes()),
            wasm: None,
        },
        routes: vec![format!("/{name}")],
        slots: vec![],
        requires: 1,
        budget: None,
        bytes: None,
    }
}

fn storage() -> web_sys::Storage {
    web_sys::window().unwrap().local_storage().unwrap().unwrap()
}

#[wasm_bindgen_test]
async fn allowed_origins_override_and_others_are_refused_without_a_request() {
    const {
        assert!(
            cfg!(debug_assertions),
            "overrides exist in debug builds only"
        )
    };
    let t = "2026-01-01T00:00:00Z";
    let mut m = empty_manifest(t).unwrap();
    for d in [descriptor("tasks", "1.0.0"), descriptor("catalog", "1.0.0")] {
        m = merge(&m, d, t, 5).unwrap();
    }
    m.dev_origins = vec![ALLOWED.into()];
    let manifest = parse_manifest(&to_json(&m)).unwrap();

    let local = serde_json::to_string(&descriptor("tasks", "2.0.0-dev")).unwrap();
    let seen = stub_fetch(TASKS_OVERRIDE, &local);
    storage()
        .set_item("mfe.override.tasks", TASKS_OVERRIDE)
        .unwrap();
    storage()
        .set_item("mfe.override.catalog", CATALOG_OVERRIDE)
        .unwrap();
    assert_eq!(
        dev_override::url_for("tasks").as_deref(),
        Some(TASKS_OVERRIDE)
    );

    let out = dev_override::apply(manifest).await;
    storage().remove_item("mfe.override.tasks").unwrap();
    storage().remove_item("mfe.override.catalog").unwrap();
    restore_fetch();

    let tasks = &out.manifest.apps["tasks"];
    assert_eq!(tasks.current.version, "2.0.0-dev");
    assert_eq!(
        tasks.current.entry,
        "http://localhost:5173/apps/tasks/2.0.0-dev/tasks.js"
    );
    assert_eq!(
        tasks.previous[0].version, "1.0.0",
        "falls back to what is published"
    );
    let catalog = &out.manifest.apps["catalog"];
    assert_eq!(catalog.current.version, "1.0.0");
    assert!(catalog.previous.is_empty());
    let asked: Vec<String> = seen.iter().filter_map(|u| u.as_string()).collect();
    assert_eq!(
        asked,
        [TASKS_OVERRIDE],
        "the refused origin was never contacted"
    );
}
