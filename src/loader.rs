//! Loads a micro app (DESIGN §3.1) in two steps:
//!
//! 1. [`prepare`]: fetch the glue JS and the `.wasm` with their integrity and compile the wasm.
//!    The result is kept per app version, so a preload while the browser is idle makes the
//!    first mount fast, and a second mount point reuses the compiled module.
//! 2. [`instantiate`]: import the glue from a fresh `blob:` URL (a new glue instance every time,
//!    never cached in the module map under a reusable URL, so a retry really retries) and hand
//!    the compiled module to its initializer, which creates a new wasm instance and memory.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use futures::future::{select, Either};
use gloo_net::http::Request;
use mfe_contract::AppDescriptor;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::clock::monotonic_ms;
use crate::fetch::send_with_timeout;

#[wasm_bindgen(inline_js = "export function import_module(url) { return import(url); }")]
extern "C" {
    #[wasm_bindgen(catch)]
    fn import_module(url: &str) -> Result<js_sys::Promise, JsValue>;
}

pub const LOAD_TIMEOUT: Duration = Duration::from_secs(10);
pub const BOOTSTRAP_TIMEOUT: Duration = Duration::from_secs(4);
pub const MOUNT_TIMEOUT: Duration = Duration::from_secs(3);

/// Verified glue source and compiled wasm of one app version: everything but an instance.
#[derive(Clone)]
pub struct Prepared {
    pub js: Rc<Vec<u8>>,
    pub wasm: Option<js_sys::WebAssembly::Module>,
    pub bytes: u64,
    pub fetch_ms: f64,
    pub compile_ms: f64,
}

/// A loaded app: its module namespace (lifecycle exports) and what loading cost.
#[derive(Clone)]
pub struct LoadedApp {
    pub module: JsValue,
    pub bytes: u64,
    pub load_ms: f64,
}

thread_local! {
    static PREPARED: RefCell<HashMap<String, Prepared>> = RefCell::new(HashMap::new());
}

/// The cache key of a version: its URLs and integrity, so a changed descriptor (e.g. a dev
/// override) never reuses another's bytes.
pub fn prepared_key(d: &AppDescriptor) -> String {
    format!(
        "{}@{} {} {}",
        d.name,
        d.version,
        d.entry,
        d.integrity.wasm.as_deref().unwrap_or(&d.integrity.entry)
    )
}

pub fn is_prepared(d: &AppDescriptor) -> bool {
    PREPARED.with(|p| p.borrow().contains_key(&prepared_key(d)))
}

/// Forgets a version's bytes, e.g. after its glue failed to initialise.
pub fn forget(d: &AppDescriptor) {
    PREPARED.with(|p| p.borrow_mut().remove(&prepared_key(d)));
}

/// Turns a thrown JS value (Error, RuntimeError from a wasm trap, string) into words.
pub fn describe(value: &JsValue) -> String {
    if let Some(text) = value.as_string() {
        return text;
    }
    let message = js_sys::Reflect::get(value, &JsValue::from_str("message"))
        .ok()
        .and_then(|m| m.as_string());
    let name = js_sys::Reflect::get(value, &JsValue::from_str("name"))
        .ok()
        .and_then(|m| m.as_string());
    match (name, message) {
        (Some(name), Some(message)) => format!("{name}: {message}"),
        (None, Some(message)) => message,
        _ => format!("{value:?}"),
    }
}

async fn fetch_verified(url: &str, integrity: &str, timeout: Duration) -> Result<Vec<u8>, String> {
    let request = Request::get(url).integrity(integrity);
    let response = send_with_timeout(request, None, timeout)
        .await
        .map_err(|e| format!("{url}: {e} (an integrity mismatch also shows as a network error)"))?;
    if !response.ok() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    response.binary().await.map_err(|e| format!("{url}: {e}"))
}

/// Imports `js` as a module from a new `blob:` URL. Returns the module namespace and that URL:
/// the URL stays in the stack of every error this glue instance throws, which is how an
/// uncaught error is tied to its app instance (`runtime::blame`). Revoking it after the import
/// frees the blob without changing what stacks say.
async fn import_from_bytes(js: &[u8]) -> Result<(JsValue, String), String> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(js).into());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("text/javascript");
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)
        .map_err(|e| describe(&e))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| describe(&e))?;
    let result = match import_module(&url) {
        Ok(promise) => JsFuture::from(promise).await.map_err(|e| describe(&e)),
        Err(e) => Err(describe(&e)),
    };
    let _ = web_sys::Url::revoke_object_url(&url);
    result.map(|module| (module, url))
}

/// Fetches, verifies and compiles one app version (or returns what an earlier call kept).
pub async fn prepare(d: &AppDescriptor, timeout: Duration) -> Result<Prepared, String> {
    if let Some(ready) = PREPARED.with(|p| p.borrow().get(&prepared_key(d)).cloned()) {
        return Ok(ready);
    }
    let started = monotonic_ms();
    let js = fetch_verified(&d.entry, &d.integrity.entry, timeout).await?;
    let mut bytes = js.len() as u64;
    let mut fetch_ms = monotonic_ms() - started;
    let mut compile_ms = 0.0;
    let wasm = match (&d.wasm, &d.integrity.wasm) {
        (Some(url), Some(integrity)) => {
            let fetch_started = monotonic_ms();
            let wasm = fetch_verified(url, integrity, timeout).await?;
            bytes += wasm.len() as u64;
            let compile_started = monotonic_ms();
            fetch_ms += compile_started - fetch_started;
            let compiled = JsFuture::from(js_sys::WebAssembly::compile(&js_sys::Uint8Array::from(
                wasm.as_slice(),
            )))
            .await
            .map_err(|e| format!("{url}: not a valid WebAssembly module ({})", describe(&e)))?;
            compile_ms = monotonic_ms() - compile_started;
            Some(compiled.unchecked_into())
        }
        _ => None,
    };
    let prepared = Prepared {
        js: Rc::new(js),
        wasm,
        bytes,
        fetch_ms,
        compile_ms,
    };
    PREPARED.with(|p| p.borrow_mut().insert(prepared_key(d), prepared.clone()));
    Ok(prepared)
}

/// A new glue instance imported from prepared bytes, not initialised yet.
pub struct Imported {
    pub module: JsValue,
    /// The `blob:` URL the glue was imported from (see [`import_from_bytes`]).
    pub script: String,
}

/// Imports a new glue instance from prepared bytes.
pub async fn import(p: &Prepared) -> Result<Imported, String> {
    let (module, script) = import_from_bytes(&p.js).await?;
    Ok(Imported { module, script })
}

/// Hands the compiled module to the glue's initializer, which creates a new wasm instance and
/// memory (nothing to do for a plain JS app).
pub async fn init(p: &Prepared, module: &JsValue, timeout: Duration) -> Result<(), String> {
    if let Some(compiled) = &p.wasm {
        let init_args = js_sys::Object::new();
        js_sys::Reflect::set(&init_args, &"module_or_path".into(), compiled)
            .map_err(|e| describe(&e))?;
        call(module, "default", &init_args.into(), timeout).await?;
    }
    Ok(())
}

/// Creates a new glue instance (and wasm instance) from prepared bytes. Returns the module
/// namespace and how long import + init took.
pub async fn instantiate(p: &Prepared, timeout: Duration) -> Result<(JsValue, f64), String> {
    let started = monotonic_ms();
    let imported = import(p).await?;
    init(p, &imported.module, timeout).await?;
    Ok((imported.module, monotonic_ms() - started))
}

/// Fetches, verifies, imports and initialises one app version.
pub async fn load(descriptor: &AppDescriptor) -> Result<LoadedApp, String> {
    let started = monotonic_ms();
    let prepared = prepare(descriptor, LOAD_TIMEOUT).await?;
    let (module, _) = instantiate(&prepared, LOAD_TIMEOUT).await?;
    Ok(LoadedApp {
        module,
        bytes: prepared.bytes,
        load_ms: monotonic_ms() - started,
    })
}

/// Calls an exported function, awaiting its promise within `timeout`. A throw, a rejection, a
/// trap (wasm panic) or a timeout all come back as `Err` with a readable reason.
pub async fn call(
    module: &JsValue,
    name: &str,
    arg: &JsValue,
    timeout: Duration,
) -> Result<JsValue, String> {
    let function = js_sys::Reflect::get(module, &JsValue::from_str(name))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .ok_or_else(|| format!("the app does not export {name}()"))?;
    let returned = function
        .call1(&JsValue::UNDEFINED, arg)
        .map_err(|e| format!("{name}() threw: {}", describe(&e)))?;
    let promise = js_sys::Promise::resolve(&returned);
    let settle = Box::pin(JsFuture::from(promise));
    let deadline = Box::pin(gloo_timers::future::sleep(timeout));
    match select(settle, deadline).await {
        Either::Left((Ok(value), _)) => Ok(value),
        Either::Left((Err(e), _)) => Err(format!("{name}() failed: {}", describe(&e))),
        Either::Right(_) => Err(format!(
            "{name}() did not finish within {} s",
            timeout.as_secs_f32()
        )),
    }
}
