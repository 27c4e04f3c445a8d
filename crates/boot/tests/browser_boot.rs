//! The boot module in a real browser: from a copy of the manifest's early answer to an app
//! mounted in its frame, and the hand-over the shell takes (`src/runtime/instances/adopt.rs`).
//!
//! - A page with one routed app: the app is bootstrapped and mounted once into the frame's
//!   element, with the shell's props; the hand-over says `mounted` and carries what the shell
//!   needs; `<html>` is marked `booting` so the shell's frame stays hidden.
//! - The app's host before the shell plugs its own: commands and queries wait, subscriptions
//!   start later (or never, if ended first), reads answer as the shell does when it knows
//!   nothing; once plugged, everything goes to the shell's host, in the order it was made.
//! - A failing mount is handed over as that version's first attempt, with the loader's reason.
//! - The deployment's `"runtime"` timeouts from the copy of `regions.json`'s answer bound the
//!   attempt; a missing or unreadable file leaves the defaults.
//! - Nothing to do (no early read, a page with no routed app) or a manifest nested far too deep:
//!   `null`, and no frame.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Function, Object, Promise, Reflect};
use mfe_contract::{AppDescriptor, AppIntegrity};
use mfe_manifest::{empty_manifest, merge, sri, to_json, SriAlgorithm};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const T: &str = "2026-01-01T00:00:00Z";

fn get(object: &JsValue, name: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(name)).unwrap()
}

fn window() -> web_sys::Window {
    web_sys::window().unwrap()
}

/// Answers the page's `fetch` of `path` with `body`, as a server of the app's files would (the
/// manifest only names same-origin paths under `/apps/<name>/<version>/`).
fn serve(path: &str, body: &str) {
    let install: Function = js_sys::eval(
        "(path, body) => {
            const served = (window.__served = window.__served || {});
            served[path] = body;
            if (window.__unserved) return;
            const unserved = (window.__unserved = window.fetch);
            window.fetch = (input, init) => {
                const url = new URL(typeof input === 'string' ? input : input.url, location.href);
                const found = served[url.pathname];
                if (found === undefined) return unserved(input, init);
                const headers = { 'content-type': 'text/javascript' };
                return Promise.resolve(new Response(found, { headers }));
            };
        }",
    )
    .unwrap()
    .unchecked_into();
    install
        .call2(&JsValue::NULL, &path.into(), &body.into())
        .unwrap();
}

/// A plain JavaScript app served under `/apps/probe/1.0.0/`. Its `mount` renders a line and keeps its props in
/// `window.__probe` (with a count of its lifecycle calls); `fault` makes `mount` throw.
fn descriptor(tag: &str, fault: bool) -> AppDescriptor {
    let mount = if fault {
        "throw new Error('no room')".to_string()
    } else {
        format!("p.element.textContent = 'probe {tag} on screen'")
    };
    descriptor_mounting(tag, &mount)
}

/// The same app with `mount`'s body given (`p` is its props; it may `await`).
fn descriptor_mounting(tag: &str, mount: &str) -> AppDescriptor {
    let js = format!(
        "const calls = (window.__probeCalls = []);
         export async function bootstrap(p) {{ calls.push('bootstrap'); }}
         export async function mount(p) {{ calls.push('mount'); window.__probe = p; {mount}; }}
         export async function unmount(p) {{ calls.push('unmount'); }}
         // {tag}"
    );
    let entry = format!("/apps/probe/1.0.0/probe-{tag}.js");
    serve(&entry, &js);
    AppDescriptor {
        name: "probe".into(),
        version: "1.0.0".into(),
        entry,
        wasm: None,
        integrity: AppIntegrity {
            entry: sri(SriAlgorithm::Sha384, js.as_bytes()),
            wasm: None,
        },
        routes: vec!["/probe".into(), "/probe/*".into()],
        slots: vec![],
        requires: 1,
        budget: None,
        bytes: None,
    }
}

/// What `index.html` leaves for the boot module about `regions.json`: a copy of its answer,
/// `status` and `body`.
fn leave_regions(status: u16, body: &str) {
    let init = web_sys::ResponseInit::new();
    init.set_status(status);
    let response = web_sys::Response::new_with_opt_str_and_init(Some(body), &init).unwrap();
    let copy = Promise::resolve(&response);
    Reflect::set(&js_sys::global(), &"__mfeBootRegions".into(), &copy).unwrap();
}

/// What `index.html` leaves for the boot module: a promise of a copy of the manifest's answer.
fn leave_manifest(d: AppDescriptor) {
    let manifest = merge(&empty_manifest(T).unwrap(), d, T, 5).unwrap();
    let response = web_sys::Response::new_with_opt_str(Some(&to_json(&manifest))).unwrap();
    let copy = Promise::resolve(&response);
    Reflect::set(&js_sys::global(), &"__mfeBootManifest".into(), &copy).unwrap();
}

fn go_to(path: &str) {
    window()
        .history()
        .unwrap()
        .replace_state_with_url(&JsValue::NULL, "", Some(path))
        .unwrap();
}

fn frame() -> Option<web_sys::Element> {
    window()
        .document()
        .unwrap()
        .get_element_by_id(mfe_boot::ROOT_ID)
}

fn booting() -> bool {
    let html = window().document().unwrap().document_element().unwrap();
    html.class_list().contains(mfe_boot::BOOTING_CLASS)
}

/// Takes the frame away as the shell does.
fn clean_up() {
    if let Some(f) = frame() {
        f.remove();
    }
    let html = window().document().unwrap().document_element().unwrap();
    html.class_list().remove_1(mfe_boot::BOOTING_CLASS).unwrap();
    go_to("/");
}

fn calls() -> Vec<String> {
    Array::from(&get(&js_sys::global(), "__probeCalls"))
        .iter()
        .filter_map(|c| c.as_string())
        .collect()
}

/// A host the shell would plug in, recording what reaches it in `log`.
fn shell_host(log: &Array) -> Object {
    let host: Object = js_sys::eval(
        "(log) => ({
            dispatch: (kind, stream, payload) => (log.push('dispatch ' + kind), Promise.resolve('cmd-1')),
            query: (path) => (log.push('query ' + path), Promise.resolve({ data: 1 })),
            commandStatus: (id) => 'delivered',
            onCommandStatus: (cb) => (log.push('onCommandStatus'), () => log.push('status stopped')),
            regions: () => ({ serving: 'eu' }),
            navigate: (path) => log.push('navigate ' + path),
            publish: (topic) => log.push('publish ' + topic),
            subscribe: (topic, cb) => (log.push('subscribe ' + topic), () => log.push('unsubscribe ' + topic)),
        })",
    )
    .unwrap()
    .unchecked_into::<Function>()
    .call1(&JsValue::NULL, log)
    .unwrap()
    .unchecked_into();
    host
}

fn call(object: &JsValue, name: &str, args: &[JsValue]) -> JsValue {
    let f: Function = get(object, name).unchecked_into();
    f.apply(object, &args.iter().collect::<Array>()).unwrap()
}

#[wasm_bindgen_test]
async fn the_routed_app_is_mounted_in_the_frame_and_handed_over() {
    let d = descriptor("mounted", false);
    leave_manifest(d.clone());
    go_to("/probe/7");
    let handoff = mfe_boot::boot().await;
    assert_eq!(
        get(&handoff, "stage").as_string().as_deref(),
        Some("mounted")
    );
    assert!(get(&handoff, "reason").is_undefined());
    assert_eq!(calls(), ["bootstrap", "mount"]);

    // The app rendered into the element the shell will move into its slot, inside the frame.
    let element: web_sys::HtmlElement = get(&handoff, "element").unchecked_into();
    assert_eq!(
        element.text_content().as_deref(),
        Some("probe mounted on screen")
    );
    let frame = frame().expect("the frame is up");
    assert!(frame.contains(Some(&element)));
    assert!(
        booting(),
        "the shell's frame stays hidden until it takes over"
    );
    let nav = frame.query_selector("nav").unwrap().unwrap();
    assert_eq!(
        nav.query_selector("a[aria-current=page]")
            .unwrap()
            .unwrap()
            .get_attribute("href")
            .as_deref(),
        Some("/probe")
    );

    // The props are the shell's, for the route's base path and parameters.
    let props = get(&js_sys::global(), "__probe");
    assert!(get(&props, "element") == JsValue::from(element));
    assert_eq!(
        get(&props, "basePath").as_string().as_deref(),
        Some("/probe")
    );
    assert_eq!(
        get(&get(&props, "params"), "*").as_string().as_deref(),
        Some("7")
    );
    assert_eq!(get(&props, "slot").as_string().as_deref(), Some("main"));
    assert_eq!(
        get(&handoff, "key").as_string().as_deref(),
        Some(mfe_app_loader::loader::prepared_key(&d).as_str())
    );
    assert!(get(&handoff, "module").is_object());
    assert!(get(&handoff, "script")
        .as_string()
        .unwrap()
        .starts_with("blob:"));
    assert!(get(&handoff, "glue").is_instance_of::<js_sys::Uint8Array>());
    for timing in ["bytes", "fetchMs", "initMs", "mountMs"] {
        assert!(get(&handoff, timing).as_f64().is_some(), "{timing}");
    }
    let watch = get(&handoff, "watch");
    assert!(call(&watch, "crashed", &[]).is_null());
    call(&watch, "stop", &[]);
    clean_up();
}

#[wasm_bindgen_test]
async fn the_apps_host_waits_for_the_shells_and_then_forwards_in_order() {
    leave_manifest(descriptor("host", false));
    go_to("/probe");
    let handoff = mfe_boot::boot().await;
    assert_eq!(
        get(&handoff, "stage").as_string().as_deref(),
        Some("mounted")
    );
    let host = get(&get(&js_sys::global(), "__probe"), "host");
    assert_eq!(get(&host, "apiVersion").as_f64(), Some(1.0));

    // Before the shell: reads answer "nothing known"; the rest waits.
    assert!(call(&host, "regions", &[]).is_null());
    assert!(call(&host, "commandStatus", &["cmd-1".into()]).is_null());
    let dispatched: Promise = call(
        &host,
        "dispatch",
        &["add".into(), "s".into(), JsValue::NULL],
    )
    .unchecked_into();
    let queried: Promise = call(&host, "query", &["/items".into()]).unchecked_into();
    call(&host, "navigate", &["/elsewhere".into()]);
    let noop = Closure::<dyn Fn()>::new(|| {});
    let stop_status: Function =
        call(&host, "onCommandStatus", &[noop.as_ref().clone()]).unchecked_into();
    let ended_early: Function =
        call(&host, "subscribe", &["a.b".into(), noop.as_ref().clone()]).unchecked_into();
    ended_early.call0(&JsValue::NULL).unwrap();
    let unsubscribe: Function =
        call(&host, "subscribe", &["c.d".into(), noop.as_ref().clone()]).unchecked_into();
    call(&host, "publish", &["e.f".into(), JsValue::NULL]);

    let log = Array::new();
    let plug: Function = get(&handoff, "plug").unchecked_into();
    plug.call1(&JsValue::NULL, &shell_host(&log)).unwrap();
    let id = JsFuture::from(dispatched).await.unwrap();
    assert_eq!(id.as_string().as_deref(), Some("cmd-1"));
    let answer = JsFuture::from(queried).await.unwrap();
    assert_eq!(get(&answer, "data").as_f64(), Some(1.0));
    let seen = |log: &Array| -> Vec<String> { log.iter().filter_map(|e| e.as_string()).collect() };
    assert_eq!(
        seen(&log),
        [
            "dispatch add",
            "query /items",
            "navigate /elsewhere",
            "onCommandStatus",
            "subscribe c.d",
            "publish e.f"
        ],
        "in the order made; the subscription ended before the shell never starts"
    );

    // Once plugged, everything goes straight to the shell's host.
    stop_status.call0(&JsValue::NULL).unwrap();
    unsubscribe.call0(&JsValue::NULL).unwrap();
    assert_eq!(
        call(&host, "commandStatus", &["cmd-1".into()])
            .as_string()
            .as_deref(),
        Some("delivered")
    );
    assert_eq!(
        get(&call(&host, "regions", &[]), "serving")
            .as_string()
            .as_deref(),
        Some("eu")
    );
    call(&host, "navigate", &["/after".into()]);
    assert_eq!(
        seen(&log)[6..],
        ["status stopped", "unsubscribe c.d", "navigate /after"]
    );
    call(&get(&handoff, "watch"), "stop", &[]);
    clean_up();
}

#[wasm_bindgen_test]
async fn a_failed_mount_is_handed_over_as_the_first_attempt() {
    leave_manifest(descriptor("fails", true));
    go_to("/probe");
    let handoff = mfe_boot::boot().await;
    assert_eq!(get(&handoff, "stage").as_string().as_deref(), Some("mount"));
    let reason = get(&handoff, "reason").as_string().unwrap();
    assert!(
        reason.contains("mount() failed: Error: no room"),
        "{reason}"
    );
    assert_eq!(calls(), ["bootstrap", "mount"], "tried once");
    call(&get(&handoff, "watch"), "stop", &[]);
    clean_up();
}

#[wasm_bindgen_test]
async fn the_deployments_timeouts_in_regions_json_bound_the_attempt() {
    leave_manifest(descriptor_mounting("hangs", "await new Promise(() => {})"));
    leave_regions(
        200,
        r#"{"regions": [{"name": "eu", "url": "http://127.0.0.1:1"}],
            "runtime": {"mount_ms": 200}}"#,
    );
    go_to("/probe");
    let started = js_sys::Date::now();
    let handoff = mfe_boot::boot().await;
    let took = js_sys::Date::now() - started;
    assert_eq!(get(&handoff, "stage").as_string().as_deref(), Some("mount"));
    let reason = get(&handoff, "reason").as_string().unwrap();
    assert!(
        reason.contains("mount() did not finish within 0.2 s"),
        "{reason}"
    );
    // Not the default 3 s.
    assert!(took < 2_000.0, "gave up after {took} ms");
    call(&get(&handoff, "watch"), "stop", &[]);
    clean_up();
}

#[wasm_bindgen_test]
async fn without_readable_settings_the_defaults_hold() {
    // A mount of 400 ms fits the default 3 s, whatever the file says or fails to say. Where
    // the file also names a usable 200 ms mount, an unusable neighbour refuses the settings
    // as a whole: taken field by field, the 200 ms would end the mount.
    let slow = "await new Promise((r) => setTimeout(r, 400)); p.element.textContent = 'late'";
    for (status, body) in [
        (404, "not here"),
        (200, "{ not json"),
        (
            200,
            r#"{"runtime": {"mount_ms": 200, "bootstrap_ms": "soon"}}"#,
        ),
        (200, r#"{"runtime": {"mount_ms": 200, "mount": 1}}"#),
        // Past what a browser timer can wait (2^31 - 1 ms): taken as it is, it would end the
        // wait at once.
        (200, r#"{"runtime": {"mount_ms": 3000000000}}"#),
        (
            200,
            r#"{"runtime": {"mount_ms": 200, "load_ms": 3000000000}}"#,
        ),
        (200, r#"{"regions": []}"#),
    ] {
        leave_manifest(descriptor_mounting(&format!("slow-{status}"), slow));
        leave_regions(status, body);
        go_to("/probe");
        let handoff = mfe_boot::boot().await;
        assert_eq!(
            get(&handoff, "stage").as_string().as_deref(),
            Some("mounted"),
            "{body}: {:?}",
            get(&handoff, "reason").as_string()
        );
        call(&get(&handoff, "watch"), "stop", &[]);
        clean_up();
    }
}

#[wasm_bindgen_test]
async fn without_an_early_read_or_a_routed_app_the_shell_does_it_all() {
    go_to("/probe");
    let _ = Reflect::delete_property(
        js_sys::global().unchecked_ref::<Object>(),
        &"__mfeBootManifest".into(),
    );
    assert!(mfe_boot::boot().await.is_null());
    assert!(frame().is_none() && !booting());

    leave_manifest(descriptor("home", false));
    go_to("/");
    assert!(mfe_boot::boot().await.is_null(), "the shell's own page");
    leave_manifest(descriptor("elsewhere", false));
    go_to("/nowhere");
    assert!(mfe_boot::boot().await.is_null(), "nothing routed here");
    assert!(frame().is_none() && !booting());
    clean_up();
}

#[wasm_bindgen_test]
async fn a_manifest_nested_ten_thousand_deep_is_refused_not_a_crash() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let text = format!(r#"{{"schema":1,"generated_at":"{T}","apps":{{}},"x":{deep}}}"#);
    let response = web_sys::Response::new_with_opt_str(Some(&text)).unwrap();
    Reflect::set(
        &js_sys::global(),
        &"__mfeBootManifest".into(),
        &Promise::resolve(&response),
    )
    .unwrap();
    go_to("/probe");
    assert!(
        mfe_boot::boot().await.is_null(),
        "the shell reads and reports it"
    );
    assert!(frame().is_none() && !booting());
    // The module still works afterwards.
    leave_manifest(descriptor("after-deep", false));
    let handoff = mfe_boot::boot().await;
    assert_eq!(
        get(&handoff, "stage").as_string().as_deref(),
        Some("mounted")
    );
    call(&get(&handoff, "watch"), "stop", &[]);
    clean_up();
}
