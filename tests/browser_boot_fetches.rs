//! What the shell fetches at boot, in a real browser.
//!
//! - The manifest: `index.html` asks for it before the shell's code runs; the shell takes that
//!   answer once (no second request) and fetches afresh after; a failed early read falls back
//!   to the last good manifest like a failed fetch.
//! - Apps: the glue and the `.wasm` are fetched with their integrity and the wasm compiled, from
//!   the response itself when it is served as `application/wasm` and from its bytes otherwise;
//!   callers that ask at the same time share one fetch; a bad digest fails and a later call
//!   fetches again.
//! - Hinted app files: `index.html` asks for them early (the boot hint); the loader takes such an
//!   answer only for the same URL and integrity, and asks again when the early one failed.
//! - A wasm app's first glue instance is imported during its preparation; a plain JavaScript
//!   app's module is not.
#![cfg(target_arch = "wasm32")]

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use mfe_contract::{AppDescriptor, AppIntegrity};
use mfe_manifest::{sri, SriAlgorithm};
use mfe_shell::loader;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const TIMEOUT: Duration = Duration::from_secs(5);

/// The smallest valid module: the magic number and version 1.
const EMPTY_MODULE: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

fn data_url(media_type: &str, bytes: &[u8]) -> String {
    let binary: String = bytes.iter().map(|b| char::from(*b)).collect();
    let encoded = web_sys::window().unwrap().btoa(&binary).unwrap();
    format!("data:{media_type};base64,{encoded}")
}

/// A version whose glue and wasm are `data:` URLs (no server needed), `wasm_type` being the
/// media type the wasm is served with. `tag` makes the glue, and so the version's key, unique.
fn descriptor(tag: &str, wasm_type: &str) -> AppDescriptor {
    let js = format!("export default async function init() {{}} // {tag}");
    AppDescriptor {
        name: "probe".into(),
        version: "1.0.0".into(),
        entry: data_url("text/javascript", js.as_bytes()),
        wasm: Some(data_url(wasm_type, &EMPTY_MODULE)),
        integrity: AppIntegrity {
            entry: sri(SriAlgorithm::Sha384, js.as_bytes()),
            wasm: Some(sri(SriAlgorithm::Sha384, &EMPTY_MODULE)),
        },
        routes: vec!["/probe".into()],
        slots: vec![],
        requires: 1,
        budget: None,
        bytes: None,
    }
}

fn glue_len(d: &AppDescriptor) -> u64 {
    let encoded = d.entry.split_once(",").unwrap().1;
    web_sys::window().unwrap().atob(encoded).unwrap().len() as u64
}

/// Counts the page's `fetch` calls while it lives, by wrapping `window.fetch`.
struct FetchCounter {
    original: JsValue,
    calls: Rc<Cell<u32>>,
    _wrapper: Closure<dyn Fn(JsValue, JsValue) -> JsValue>,
}

impl FetchCounter {
    fn install() -> Self {
        let window: JsValue = web_sys::window().unwrap().into();
        let key = JsValue::from_str("fetch");
        let original = js_sys::Reflect::get(&window, &key).unwrap();
        let calls = Rc::new(Cell::new(0));
        let (counted, inner) = (calls.clone(), original.clone());
        let target = window.clone();
        let wrapper = Closure::<dyn Fn(JsValue, JsValue) -> JsValue>::new(move |input, init| {
            counted.set(counted.get() + 1);
            inner
                .unchecked_ref::<js_sys::Function>()
                .call2(&target, &input, &init)
                .unwrap()
        });
        js_sys::Reflect::set(&window, &key, wrapper.as_ref()).unwrap();
        Self {
            original,
            calls,
            _wrapper: wrapper,
        }
    }
}

impl Drop for FetchCounter {
    fn drop(&mut self) {
        let window: JsValue = web_sys::window().unwrap().into();
        let _ = js_sys::Reflect::set(&window, &JsValue::from_str("fetch"), &self.original);
    }
}

/// Prepares a version whose wasm is served as `wasm_type` and checks it compiled, was counted
/// to the byte and is kept for the next caller.
async fn compiles_and_counts(tag: &str, wasm_type: &str) {
    let d = descriptor(tag, wasm_type);
    let prepared = loader::prepare(&d, TIMEOUT).await.expect("prepared");
    assert!(prepared.wasm.is_some(), "a compiled module");
    assert_eq!(prepared.bytes, glue_len(&d) + EMPTY_MODULE.len() as u64);
    assert!(loader::is_prepared(&d));
}

#[wasm_bindgen_test]
async fn wasm_served_as_wasm_is_compiled_from_the_response_and_counted() {
    compiles_and_counts("streamed", "application/wasm").await;
}

#[wasm_bindgen_test]
async fn wasm_served_with_another_type_is_compiled_from_its_bytes() {
    compiles_and_counts("bytes", "application/octet-stream").await;
}

#[wasm_bindgen_test]
async fn wasm_typed_with_parameters_is_compiled_from_its_bytes() {
    // `compileStreaming` refuses any type but exactly `application/wasm`.
    compiles_and_counts("parameters", "application/wasm;charset=binary").await;
}

#[wasm_bindgen_test]
async fn callers_at_the_same_time_share_one_fetch_of_each_file() {
    let d = descriptor("shared", "application/wasm");
    let counter = FetchCounter::install();
    // Started early (as the shell does once the manifest is read), then asked for twice.
    loader::start_preparing(&d, TIMEOUT);
    let (a, b) = futures::join!(loader::prepare(&d, TIMEOUT), loader::prepare(&d, TIMEOUT));
    assert!(a.is_ok() && b.is_ok(), "{:?} {:?}", a.err(), b.err());
    assert_eq!(counter.calls.get(), 2, "the glue and the wasm, once each");
    // Ready now: nothing is fetched again.
    gloo_timers::future::sleep(Duration::from_millis(10)).await;
    loader::prepare(&d, TIMEOUT).await.expect("kept");
    assert_eq!(counter.calls.get(), 2);
}

#[wasm_bindgen_test]
async fn a_wrong_digest_fails_and_the_next_call_fetches_again() {
    let mut d = descriptor("tampered", "application/wasm");
    d.integrity.wasm = Some(sri(SriAlgorithm::Sha384, b"other bytes"));
    let counter = FetchCounter::install();
    let err = loader::prepare(&d, TIMEOUT).await.err().expect("refused");
    assert!(err.contains("integrity"), "{err}");
    assert!(!loader::is_prepared(&d));
    let again = loader::prepare(&d, TIMEOUT).await;
    assert!(again.is_err());
    assert_eq!(
        counter.calls.get(),
        4,
        "two tries, each fetching both files"
    );
}

const MANIFEST: &str = r#"{"schema":1,"generated_at":"2026-01-01T00:00:00Z","apps":{
  "tasks":{"current":{"name":"tasks","version":"1.0.0","entry":"/apps/tasks/1.0.0/t.js",
    "integrity":{"entry":"sha384-OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb"},
    "routes":["/tasks"],"requires":1}}}}"#;

/// Leaves `answer` where `index.html` leaves its early read of `/manifest.json`.
fn leave_early_read(answer: js_sys::Promise) {
    let reads = js_sys::Object::new();
    js_sys::Reflect::set(&reads, &"/manifest.json".into(), &answer).unwrap();
    js_sys::Reflect::set(&js_sys::global(), &"__mfeEarlyReads".into(), &reads).unwrap();
}

#[wasm_bindgen_test]
async fn the_early_read_of_the_manifest_is_used_once_then_it_is_fetched_afresh() {
    let response = web_sys::Response::new_with_opt_str(Some(MANIFEST)).unwrap();
    let response: &JsValue = response.as_ref();
    leave_early_read(js_sys::Promise::resolve(response));
    let counter = FetchCounter::install();
    let loaded = mfe_shell::manifest_source::load_validated()
        .await
        .expect("the early answer validates");
    assert!(loaded.notice.is_none());
    assert!(loaded.manifest.manifest.apps.contains_key("tasks"));
    assert_eq!(counter.calls.get(), 0, "no request of its own");
    // Taken: the next read asks the server (which has no manifest here) and falls back to the
    // last good one, the early answer.
    let again = mfe_shell::manifest_source::load_validated()
        .await
        .expect("last good");
    assert_eq!(counter.calls.get(), 1);
    assert!(again.notice.unwrap().contains("last good"));
}

#[wasm_bindgen_test]
async fn a_failed_early_read_falls_back_to_the_last_good_manifest() {
    // A good manifest first, so there is a last good one.
    let response = web_sys::Response::new_with_opt_str(Some(MANIFEST)).unwrap();
    let response: &JsValue = response.as_ref();
    leave_early_read(js_sys::Promise::resolve(response));
    mfe_shell::manifest_source::load_validated().await.unwrap();
    let refused = js_sys::Promise::reject(&js_sys::Error::new("Failed to fetch").into());
    leave_early_read(refused);
    let counter = FetchCounter::install();
    let loaded = mfe_shell::manifest_source::load_validated()
        .await
        .expect("last good");
    assert_eq!(
        counter.calls.get(),
        0,
        "the failed early read is the answer"
    );
    let notice = loaded.notice.unwrap();
    assert!(
        notice.contains("network error") && notice.contains("Failed to fetch"),
        "{notice}"
    );
    assert!(loaded.manifest.manifest.apps.contains_key("tasks"));
}

/// Leaves `answers` where `index.html` leaves its early reads of hinted app files, each with
/// the `AbortController` of its request (returned, in order).
fn leave_early_files(answers: &[(&str, &str, js_sys::Promise)]) -> Vec<web_sys::AbortController> {
    let files = js_sys::Object::new();
    let mut stops = Vec::new();
    for (url, integrity, answer) in answers {
        let key = mfe_shell::early_reads::app_file_key(url, integrity);
        let stop = web_sys::AbortController::new().unwrap();
        let entry = js_sys::Object::new();
        js_sys::Reflect::set(&entry, &"answer".into(), answer).unwrap();
        js_sys::Reflect::set(&entry, &"stop".into(), &stop).unwrap();
        js_sys::Reflect::set(&files, &key.into(), &entry).unwrap();
        stops.push(stop);
    }
    js_sys::Reflect::set(&js_sys::global(), &"__mfeEarlyFiles".into(), &files).unwrap();
    stops
}

/// A real request for `url`, as `index.html` makes it (before any counter is installed).
fn early_fetch(url: &str) -> js_sys::Promise {
    web_sys::window().unwrap().fetch_with_str(url)
}

fn early_left(url: &str, integrity: &str) -> bool {
    let files = js_sys::Reflect::get(&js_sys::global(), &"__mfeEarlyFiles".into()).unwrap();
    let key = mfe_shell::early_reads::app_file_key(url, integrity);
    files.is_object() && js_sys::Reflect::has(&files, &key.into()).unwrap()
}

#[wasm_bindgen_test]
async fn hinted_app_files_asked_for_early_are_taken_without_a_request_of_their_own() {
    let d = descriptor("early", "application/wasm");
    let wasm = d.wasm.clone().unwrap();
    let wasm_integrity = d.integrity.wasm.clone().unwrap();
    leave_early_files(&[
        (&d.entry, &d.integrity.entry, early_fetch(&d.entry)),
        (&wasm, &wasm_integrity, early_fetch(&wasm)),
    ]);
    let counter = FetchCounter::install();
    let prepared = loader::prepare(&d, TIMEOUT).await.expect("prepared");
    assert_eq!(
        counter.calls.get(),
        0,
        "both files came from the early reads"
    );
    assert!(prepared.wasm.is_some(), "compiled from the early answer");
    assert_eq!(prepared.bytes, glue_len(&d) + EMPTY_MODULE.len() as u64);
    assert!(!early_left(&d.entry, &d.integrity.entry), "taken once");
}

#[wasm_bindgen_test]
async fn an_early_read_under_another_integrity_is_not_taken() {
    // The hint remembered an older build of the same URL: the fresh manifest's integrity wins.
    let d = descriptor("rebuilt", "application/wasm");
    let stale = sri(SriAlgorithm::Sha384, b"the previous build");
    let stops = leave_early_files(&[(&d.entry, &stale, early_fetch(&d.entry))]);
    let counter = FetchCounter::install();
    loader::prepare(&d, TIMEOUT).await.expect("prepared");
    assert_eq!(
        counter.calls.get(),
        2,
        "the glue and the wasm fetched afresh"
    );
    assert!(early_left(&d.entry, &stale), "never handed out");
    assert!(!stops[0].signal().aborted());
    mfe_shell::early_reads::drop_app_files();
    assert!(!early_left(&d.entry, &stale), "dropped with the rest");
    assert!(stops[0].signal().aborted(), "and its request aborted");
}

#[wasm_bindgen_test]
async fn a_taken_early_read_is_not_aborted_with_the_rest() {
    let d = descriptor("kept-going", "application/wasm");
    let wasm = d.wasm.clone().unwrap();
    let wasm_integrity = d.integrity.wasm.clone().unwrap();
    let stops = leave_early_files(&[
        (&d.entry, &d.integrity.entry, early_fetch(&d.entry)),
        (&wasm, &wasm_integrity, early_fetch(&wasm)),
    ]);
    // Started (and both answers claimed) as the shell does, then the rest dropped at once.
    loader::start_preparing(&d, TIMEOUT);
    mfe_shell::early_reads::drop_app_files();
    assert!(stops.iter().all(|s| !s.signal().aborted()));
    let counter = FetchCounter::install();
    loader::prepare(&d, TIMEOUT)
        .await
        .expect("prepared from the early answers");
    assert_eq!(counter.calls.get(), 0);
}

#[wasm_bindgen_test]
async fn a_failed_early_read_of_an_app_file_is_asked_for_again() {
    let d = descriptor("early-refused", "application/wasm");
    let wasm = d.wasm.clone().unwrap();
    let wasm_integrity = d.integrity.wasm.clone().unwrap();
    let refused = js_sys::Promise::reject(&js_sys::Error::new("Failed to fetch").into());
    let not_found = web_sys::Response::new_with_opt_str_and_init(Some("gone"), &{
        let init = web_sys::ResponseInit::new();
        init.set_status(404);
        init
    })
    .unwrap();
    let not_found: &JsValue = not_found.as_ref();
    leave_early_files(&[
        (&d.entry, &d.integrity.entry, refused),
        (&wasm, &wasm_integrity, js_sys::Promise::resolve(not_found)),
    ]);
    let counter = FetchCounter::install();
    let prepared = loader::prepare(&d, TIMEOUT)
        .await
        .expect("prepared from fresh requests");
    assert_eq!(
        counter.calls.get(),
        2,
        "each bad early answer asked for again"
    );
    assert_eq!(prepared.bytes, glue_len(&d) + EMPTY_MODULE.len() as u64);
}

#[wasm_bindgen_test]
async fn a_wasm_apps_first_glue_instance_is_imported_while_it_is_prepared() {
    use futures::FutureExt;
    let d = descriptor("spare", "application/wasm");
    let prepared = loader::prepare(&d, TIMEOUT).await.expect("prepared");
    // Ready at once: imported during the preparation, no `import()` to wait for.
    let first = loader::import(&prepared)
        .now_or_never()
        .expect("the spare instance, without waiting")
        .expect("imported");
    // Every later instance is a fresh import of its own `blob:` URL.
    let second = loader::import(&prepared);
    futures::pin_mut!(second);
    assert!(
        (&mut second).now_or_never().is_none(),
        "waits for its import"
    );
    let second = second.await.expect("imported");
    assert_ne!(first.script, second.script);
    assert!(!js_sys::Object::is(&first.module, &second.module));
}

#[wasm_bindgen_test]
async fn a_plain_javascript_app_is_imported_only_when_an_instance_is_made() {
    // Its module is the app's own code, which counts its runs in a global.
    let js = "globalThis.__plainRuns = (globalThis.__plainRuns || 0) + 1;\n\
              export async function mount() {}";
    let d = AppDescriptor {
        entry: data_url("text/javascript", js.as_bytes()),
        wasm: None,
        integrity: AppIntegrity {
            entry: sri(SriAlgorithm::Sha384, js.as_bytes()),
            wasm: None,
        },
        ..descriptor("plain-js", "application/wasm")
    };
    let runs = || {
        js_sys::Reflect::get(&js_sys::global(), &"__plainRuns".into())
            .unwrap()
            .as_f64()
    };
    let prepared = loader::prepare(&d, TIMEOUT).await.expect("prepared");
    assert_eq!(runs(), None, "nothing of it ran during the preparation");
    loader::import(&prepared).await.expect("imported");
    assert_eq!(runs(), Some(1.0), "it runs when an instance is made");
}
