//! The shell taking over the app the boot module started, in a real browser: the real boot
//! module (`mfe_boot::boot`) mounts a plain JS app served by a `fetch` stub, and the shell's
//! first mount in `main` finds its hand-over where `index.html` leaves it (`__mfeBoot`).
//!
//! - The same version: adopted, not loaded again (one `bootstrap`, one `mount`); its DOM moves
//!   into the slot with the focus it had, the boot frame goes, the app's host now reaches the
//!   shell's, and the instance is pooled like any other (unmount, then mount again without a
//!   new load).
//! - A failed boot attempt: that version's first attempt, not tried again.
//! - A hand-over for another version: the app is unmounted and the frame removed; the slot
//!   mounts its version itself.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use js_sys::{Array, Function, Promise, Reflect};
use mfe_contract::{AppDescriptor, AppIntegrity};
use mfe_manifest::{empty_manifest, merge, sri, to_json, SriAlgorithm};
use mfe_shell::loader;
use mfe_shell::runtime::instances::{self, Context, Target};
use mfe_shell::runtime::records::RuntimeState;
use mfe_shell::runtime::status::Status;
use mfe_shell::state::ShellState;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

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

const T: &str = "2026-01-01T00:00:00Z";

fn window() -> web_sys::Window {
    web_sys::window().unwrap()
}

fn get(object: &JsValue, name: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(name)).unwrap()
}

/// Version `version` of a plain JS app that logs its lifecycle calls in `window.__calls`
/// (`"<version> mount"`, …) and keeps its mount props in `window.__props`.
fn app(version: &str, fault: bool) -> AppDescriptor {
    let mount = if fault {
        "throw new Error('no room')"
    } else {
        "p.element.textContent = 'probe on screen';
         const field = document.createElement('input');
         field.id = 'probe-field';
         p.element.append(field);
         field.focus()"
    };
    let js = format!(
        "const log = (what) => (window.__calls = window.__calls || []).push('{version} ' + what);
         export async function bootstrap(p) {{ log('bootstrap'); }}
         export async function mount(p) {{ log('mount'); window.__props = p; {mount}; }}
         export async function unmount(p) {{ log('unmount'); }}"
    );
    let entry = format!("/apps/probe/{version}/probe.js");
    serve(&entry, &js);
    AppDescriptor {
        name: "probe".into(),
        version: version.into(),
        entry,
        wasm: None,
        integrity: AppIntegrity {
            entry: sri(SriAlgorithm::Sha384, js.as_bytes()),
            wasm: None,
        },
        routes: vec!["/probe".into()],
        slots: vec![],
        requires: 1,
        budget: None,
        bytes: None,
    }
}

fn calls() -> Vec<String> {
    let calls = get(&js_sys::global(), "__calls");
    let _ = Reflect::set(&js_sys::global(), &"__calls".into(), &Array::new());
    Array::from(&calls)
        .iter()
        .filter_map(|c| c.as_string())
        .collect()
}

/// Runs the real boot module for `d` at `/probe` and leaves its hand-over as `index.html` does.
async fn boot_with(d: AppDescriptor) -> JsValue {
    let manifest = merge(&empty_manifest(T).unwrap(), d, T, 5).unwrap();
    let response = web_sys::Response::new_with_opt_str(Some(&to_json(&manifest))).unwrap();
    Reflect::set(
        &js_sys::global(),
        &"__mfeBootManifest".into(),
        &Promise::resolve(&response),
    )
    .unwrap();
    window()
        .history()
        .unwrap()
        .replace_state_with_url(&JsValue::NULL, "", Some("/probe"))
        .unwrap();
    let handoff = mfe_boot::boot().await;
    assert!(handoff.is_object(), "the boot module took the page");
    Reflect::set(
        &js_sys::global(),
        &"__mfeBoot".into(),
        &Promise::resolve(&handoff),
    )
    .unwrap();
    handoff
}

fn frame_is_up() -> bool {
    let document = window().document().unwrap();
    let booting = document
        .document_element()
        .unwrap()
        .class_list()
        .contains(mfe_boot::BOOTING_CLASS);
    document.get_element_by_id(mfe_boot::ROOT_ID).is_some() || booting
}

fn main_target() -> Target {
    let document = window().document().unwrap();
    let element: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&element).unwrap();
    Target {
        slot: "main".into(),
        element,
        base_path: "/probe".into(),
        params: BTreeMap::new(),
        on_crash: Rc::new(|_| {}),
    }
}

fn context(navigated: Rc<RefCell<Vec<String>>>) -> Context {
    Context {
        state: ShellState::default(),
        runtime: RuntimeState::default(),
        navigate: Rc::new(move |path: &str| navigated.borrow_mut().push(path.into())),
    }
}

const UNMOUNT: Duration = Duration::from_secs(3);

#[wasm_bindgen_test]
async fn the_first_main_mount_adopts_the_running_app_instead_of_loading_it_again() {
    let d = app("1.0.0", false);
    let handoff = boot_with(d.clone()).await;
    assert_eq!(calls(), ["1.0.0 bootstrap", "1.0.0 mount"]);
    let app_element = get(&handoff, "element");
    assert!(frame_is_up());

    let navigated = Rc::new(RefCell::new(Vec::new()));
    let ctx = context(navigated.clone());
    let target = main_target();
    let seen = RefCell::new(Vec::new());
    let report = |s: Status| seen.borrow_mut().push(s);
    let mounted = instances::mount(&ctx, &d, &target, &report)
        .await
        .expect("adopted");
    assert_eq!(
        calls(),
        Vec::<String>::new(),
        "not loaded, bootstrapped or mounted again"
    );
    assert_eq!(seen.borrow().last(), Some(&Status::Mounted));
    assert!(
        loader::is_prepared(&d),
        "its files are kept for another instance"
    );
    let element: web_sys::Node = app_element.unchecked_into();
    assert!(
        target.element.contains(Some(&element)),
        "its DOM is in the slot"
    );
    assert_eq!(
        target.element.text_content().as_deref(),
        Some("probe on screen")
    );
    assert!(!frame_is_up(), "the boot frame is gone, the shell's shows");
    // The field the app focused on mount still has the focus after the move.
    let focused = window().document().unwrap().active_element();
    assert_eq!(focused.map(|f| f.id()).as_deref(), Some("probe-field"));

    // The host the app got from the boot module now reaches the shell's.
    let host = get(&get(&js_sys::global(), "__props"), "host");
    let navigate: Function = get(&host, "navigate").unchecked_into();
    navigate.call1(&host, &"/elsewhere".into()).unwrap();
    assert_eq!(*navigated.borrow(), ["/elsewhere"]);

    // Unmounted and mounted again: the same instance, no new load.
    instances::unmount(mounted, UNMOUNT, &|_| {}).await;
    let again = instances::mount(&ctx, &d, &target, &report)
        .await
        .ok()
        .unwrap();
    assert_eq!(calls(), ["1.0.0 unmount", "1.0.0 mount"]);
    instances::unmount(again, UNMOUNT, &|_| {}).await;
    calls();
}

#[wasm_bindgen_test]
async fn a_failed_boot_attempt_is_the_versions_first_attempt() {
    let d = app("2.0.0", true);
    boot_with(d.clone()).await;
    assert_eq!(calls(), ["2.0.0 bootstrap", "2.0.0 mount"]);
    let ctx = context(Rc::default());
    let (status, reason) = match instances::mount(&ctx, &d, &main_target(), &|_| {}).await {
        Ok(_) => panic!("a failed attempt cannot be adopted"),
        Err(failed) => failed,
    };
    assert_eq!(status, Status::Broken);
    assert!(
        reason.contains("mount() failed: Error: no room"),
        "{reason}"
    );
    assert_eq!(calls(), Vec::<String>::new(), "not tried again");
    assert!(!frame_is_up());
}

#[wasm_bindgen_test]
async fn a_hand_over_for_another_version_is_released_and_the_slot_mounts_its_own() {
    boot_with(app("3.0.0", false)).await;
    assert_eq!(calls(), ["3.0.0 bootstrap", "3.0.0 mount"]);
    let newer = app("3.1.0", false);
    let ctx = context(Rc::default());
    let mounted = instances::mount(&ctx, &newer, &main_target(), &|_| {})
        .await
        .expect("mounted by the slot");
    // The release's unmount runs on a task of its own.
    gloo_timers::future::sleep(Duration::from_millis(50)).await;
    let mut seen = calls();
    seen.sort();
    assert_eq!(
        seen,
        ["3.0.0 unmount", "3.1.0 bootstrap", "3.1.0 mount"],
        "the boot module's app is unmounted; the slot loads its own version"
    );
    assert!(!frame_is_up());
    instances::unmount(mounted, UNMOUNT, &|_| {}).await;
    calls();
}
