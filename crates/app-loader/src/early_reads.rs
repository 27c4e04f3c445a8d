//! Answers `index.html` asked for before the shell's code ran: the manifest and the region list
//! (`__mfeEarlyReads`, by path) and the app files the boot hint names for this address
//! (`__mfeEarlyFiles`, by URL and integrity, see `runtime::boot_hint`). Each answer is taken at
//! most once; whoever takes none fetches as usual. None of these requests carries a timer of its
//! own (a timer that fires after the answer came would break its unread body): whoever takes an
//! answer bounds the wait, and the app files nobody took are aborted by [`drop_app_files`].

use std::time::Duration;

use gloo_net::http::Response;
use mfe_contract::AppFile;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use mfe_outbox_web::fetch::{within, FetchFailure};

/// Where `index.html` leaves its reads of `/manifest.json` and `/regions.json`: promises by path.
const SHELL_READS: &str = "__mfeEarlyReads";

/// Where `index.html` leaves its reads of the hinted app files, by [`app_file_key`]: each an
/// object `{ answer, stop }`, the promise and the `AbortController` of its request.
const APP_FILES: &str = "__mfeEarlyFiles";

/// The key of an app file among the early reads: the request is only the same with both.
pub fn app_file_key(url: &str, integrity: &str) -> String {
    format!("{url} {integrity}")
}

/// Takes the value left under `key` in the global object `store`, if any (once).
fn take(store: &str, key: &str) -> Option<JsValue> {
    let reads = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str(store)).ok()?;
    if !reads.is_object() {
        return None;
    }
    let key = JsValue::from_str(key);
    let value = js_sys::Reflect::get(&reads, &key).ok()?;
    let _ = js_sys::Reflect::delete_property(reads.unchecked_ref::<js_sys::Object>(), &key);
    Some(value)
}

/// The early read of `path` (`/manifest.json` or `/regions.json`), once.
pub fn take_shell_read(path: &str) -> Option<js_sys::Promise> {
    take(SHELL_READS, path)?.dyn_into().ok()
}

/// The early read of an app file with exactly this URL and integrity, once.
pub fn take_app_file(file: AppFile<'_>) -> Option<js_sys::Promise> {
    let entry = take(APP_FILES, &app_file_key(file.url, file.integrity))?;
    js_sys::Reflect::get(&entry, &JsValue::from_str("answer"))
        .ok()?
        .dyn_into()
        .ok()
}

/// Aborts every hinted app file nobody took (e.g. files of a version the fresh manifest no
/// longer names), so they neither keep downloading nor stay in memory.
pub fn drop_app_files() {
    let global = js_sys::global();
    if let Ok(files) = js_sys::Reflect::get(&global, &JsValue::from_str(APP_FILES)) {
        if files.is_object() {
            for entry in js_sys::Object::values(files.unchecked_ref()).iter() {
                let stop = js_sys::Reflect::get(&entry, &JsValue::from_str("stop")).ok();
                if let Some(stop) = stop.and_then(|s| s.dyn_into::<web_sys::AbortController>().ok())
                {
                    stop.abort();
                }
            }
        }
    }
    let _ = js_sys::Reflect::delete_property(
        global.unchecked_ref::<js_sys::Object>(),
        &JsValue::from_str(APP_FILES),
    );
}

/// Waits for an early answer within `timeout`; `what` names it in errors.
pub async fn response(
    what: &str,
    answer: js_sys::Promise,
    timeout: Duration,
) -> Result<Response, String> {
    match within(JsFuture::from(answer), timeout).await {
        Some(Ok(value)) => value
            .dyn_into::<web_sys::Response>()
            .map(Response::from)
            .map_err(|_| format!("{what}: the early read gave no response")),
        Some(Err(e)) => Err(format!(
            "{what}: {}",
            FetchFailure::Network(crate::loader::describe(&e))
        )),
        None => Err(format!("{what}: {}", FetchFailure::Timeout)),
    }
}
