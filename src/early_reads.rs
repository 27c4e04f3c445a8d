//! Answers `index.html` asked for before the shell's code ran: the manifest and the region list
//! (`__mfeEarlyReads`, by path) and the app files the boot hint names for this address
//! (`__mfeEarlyFiles`, by URL and integrity, see `runtime::boot_hint`). Each answer is taken at
//! most once; whoever takes none fetches as usual.

use std::time::Duration;

use futures::future::{select, Either};
use gloo_net::http::Response;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::fetch::FetchFailure;

/// Where `index.html` leaves its reads of `/manifest.json` and `/regions.json`, by path.
pub const BOOT_FILES: &str = "__mfeEarlyReads";

/// Where `index.html` leaves its reads of the hinted app files, by [`app_file_key`].
pub const APP_FILES: &str = "__mfeEarlyFiles";

/// The key of an app file among the early reads: the request is only the same with both.
pub fn app_file_key(url: &str, integrity: &str) -> String {
    format!("{url} {integrity}")
}

/// Takes the answer left under `key` in the global object `store`, if any (once).
pub fn take(store: &str, key: &str) -> Option<js_sys::Promise> {
    let reads = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str(store)).ok()?;
    if !reads.is_object() {
        return None;
    }
    let key = JsValue::from_str(key);
    let answer = js_sys::Reflect::get(&reads, &key).ok()?;
    let _ = js_sys::Reflect::delete_property(reads.unchecked_ref::<js_sys::Object>(), &key);
    answer.dyn_into::<js_sys::Promise>().ok()
}

/// Drops every answer nobody took from `store` (e.g. files of a version the fresh manifest no
/// longer names), so their bodies are not kept alive by the page.
pub fn discard(store: &str) {
    let _ = js_sys::Reflect::delete_property(
        js_sys::global().unchecked_ref::<js_sys::Object>(),
        &JsValue::from_str(store),
    );
}

/// Waits for an early answer within `timeout`; `what` names it in errors.
pub async fn response(
    what: &str,
    answer: js_sys::Promise,
    timeout: Duration,
) -> Result<Response, String> {
    let answer = Box::pin(JsFuture::from(answer));
    let deadline = Box::pin(gloo_timers::future::sleep(timeout));
    match select(answer, deadline).await {
        Either::Left((Ok(value), _)) => value
            .dyn_into::<web_sys::Response>()
            .map(Response::from)
            .map_err(|_| format!("{what}: the early read gave no response")),
        Either::Left((Err(e), _)) => Err(format!(
            "{what}: {}",
            FetchFailure::Network(crate::loader::describe(&e))
        )),
        Either::Right(_) => Err(format!("{what}: {}", FetchFailure::Timeout)),
    }
}
