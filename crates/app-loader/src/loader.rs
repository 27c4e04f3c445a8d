//! Loads a micro app (DESIGN §3.1) in two steps:
//!
//! 1. [`prepare`]: fetch the glue JS and the `.wasm` with their integrity and compile the wasm
//!    (taking the answers `index.html` asked for early when they match, see `early_reads`).
//!    The result is kept per app version, so a preload while the browser is idle makes the
//!    first mount fast, and a second mount point reuses the compiled module. A wasm app's first
//!    glue instance is imported here too, while the wasm compiles.
//! 2. [`instantiate`]: import the glue from a fresh `blob:` URL (a new glue instance every time,
//!    never cached in the module map under a reusable URL, so a retry really retries; the
//!    first one is the instance imported during preparation) and hand the compiled module to
//!    its initializer, which creates a new wasm instance and memory.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use futures::channel::oneshot;
use gloo_net::http::Request;
use mfe_contract::AppDescriptor;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::clock::monotonic_ms;
use crate::early_reads;
use mfe_outbox_web::fetch::{send_with_timeout, within};

#[wasm_bindgen(inline_js = "export function import_module(url) { return import(url); }")]
extern "C" {
    #[wasm_bindgen(catch)]
    fn import_module(url: &str) -> Result<js_sys::Promise, JsValue>;
}

/// Verified glue source and compiled wasm of one app version: everything but an instance.
#[derive(Clone)]
pub struct Prepared {
    pub js: Rc<Vec<u8>>,
    pub wasm: Option<js_sys::WebAssembly::Module>,
    pub bytes: u64,
    /// Time to fetch and verify the files (for a wasm app, importing its first glue instance
    /// too, which runs beside the compile), without the compile.
    pub fetch_ms: f64,
    pub compile_ms: f64,
    /// One fresh glue instance imported while the wasm compiled, for the first [`import`]: the
    /// first mount does not wait for a `blob:` import. Taken once, shared by every copy.
    spare: Rc<RefCell<Option<Imported>>>,
}

/// How a preparation ended.
type Preparation = Result<Prepared, String>;

thread_local! {
    static PREPARED: RefCell<HashMap<String, Prepared>> = RefCell::new(HashMap::new());
    /// Preparations under way, by version: an early start at boot, the slot that shows the app
    /// and the idle preloader share one fetch and one compile.
    static IN_FLIGHT: RefCell<HashMap<String, Vec<oneshot::Sender<Preparation>>>> =
        RefCell::new(HashMap::new());
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

/// Keeps a version whose files were fetched, verified and compiled elsewhere (by the boot
/// module, which hands them over with the instance it mounted), so the next instance of it and
/// the idle preloader use them instead of fetching and compiling again.
pub fn keep_prepared(
    d: &AppDescriptor,
    js: Vec<u8>,
    wasm: Option<js_sys::WebAssembly::Module>,
    bytes: u64,
    fetch_ms: f64,
    compile_ms: f64,
) {
    let prepared = Prepared {
        js: Rc::new(js),
        wasm,
        bytes,
        fetch_ms,
        compile_ms,
        spare: Rc::default(),
    };
    PREPARED.with(|p| p.borrow_mut().insert(prepared_key(d), prepared));
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

async fn fetch_checked(
    url: &str,
    integrity: &str,
    timeout: Duration,
    early: Option<js_sys::Promise>,
) -> Result<gloo_net::http::Response, String> {
    // The same request made by `index.html` (boot hint): its answer when it is a good one;
    // anything else (refused, an integrity mismatch, an HTTP error, no answer within half the
    // time allowed) is asked for again here, so the error a caller sees is this request's own.
    if let Some(answer) = early {
        if let Ok(response) = early_reads::response(url, answer, timeout / 2).await {
            if response.ok() {
                return Ok(response);
            }
        }
    }
    let request = Request::get(url).integrity(integrity);
    let response = send_with_timeout(request, None, timeout)
        .await
        .map_err(|e| format!("{url}: {e} (an integrity mismatch also shows as a network error)"))?;
    if !response.ok() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    Ok(response)
}

async fn fetch_verified(
    url: &str,
    integrity: &str,
    timeout: Duration,
    early: Option<js_sys::Promise>,
) -> Result<Vec<u8>, String> {
    let response = fetch_checked(url, integrity, timeout, early).await?;
    response.binary().await.map_err(|e| format!("{url}: {e}"))
}

/// A compiled app module, its size in bytes and how long compiling took after its bytes came.
struct Compiled {
    module: js_sys::WebAssembly::Module,
    bytes: u64,
    compile_ms: f64,
}

/// Fetches a `.wasm` with its integrity and compiles it. Served as `application/wasm`, it is
/// compiled from the response itself (`compileStreaming`): no copy through Rust memory, and the
/// browser may keep the compiled code for the next visit. Otherwise from its bytes.
async fn fetch_compiled(
    url: &str,
    integrity: &str,
    timeout: Duration,
    early: Option<js_sys::Promise>,
) -> Result<Compiled, String> {
    let raw: web_sys::Response = fetch_checked(url, integrity, timeout, early).await?.into();
    let invalid = |e: JsValue| format!("{url}: not a valid WebAssembly module ({})", describe(&e));
    let unreadable = |e: JsValue| format!("{url}: {}", describe(&e));
    // `compileStreaming` takes exactly this type, without parameters.
    let wasm_typed = raw
        .headers()
        .get("content-type")
        .ok()
        .flatten()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/wasm"));
    if wasm_typed {
        // A second reader of the same body counts its bytes for the inspector.
        let counter = raw.clone().map_err(unreadable)?;
        let started = monotonic_ms();
        let response: &JsValue = raw.as_ref();
        let compiling = JsFuture::from(js_sys::WebAssembly::compile_streaming(
            &js_sys::Promise::resolve(response),
        ));
        let counting = JsFuture::from(counter.array_buffer().map_err(unreadable)?);
        let (compiled, body) = futures::join!(compiling, counting);
        let module = compiled.map_err(invalid)?;
        let bytes = body.map_err(unreadable)?;
        return Ok(Compiled {
            module: module.unchecked_into(),
            bytes: bytes.unchecked_into::<js_sys::ArrayBuffer>().byte_length() as u64,
            compile_ms: monotonic_ms() - started,
        });
    }
    let body = JsFuture::from(raw.array_buffer().map_err(unreadable)?)
        .await
        .map_err(unreadable)?;
    let started = monotonic_ms();
    let module = JsFuture::from(js_sys::WebAssembly::compile(&body))
        .await
        .map_err(invalid)?;
    Ok(Compiled {
        module: module.unchecked_into(),
        bytes: body.unchecked_into::<js_sys::ArrayBuffer>().byte_length() as u64,
        compile_ms: monotonic_ms() - started,
    })
}

/// Imports `js` as a new glue instance from a new `blob:` URL, kept in [`Imported::script`]:
/// the URL stays in the stack of every error this glue instance throws, which is how an
/// uncaught error is tied to its app instance (`runtime::blame`). Revoking it after the import
/// frees the blob without changing what stacks say.
async fn import_from_bytes(js: &[u8]) -> Result<Imported, String> {
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
    result.map(|module| Imported {
        module,
        script: url,
    })
}

/// Fetches, verifies and compiles one app version (or returns what an earlier call kept, or
/// joins the preparation already under way), within `timeout`.
pub async fn prepare(d: &AppDescriptor, timeout: Duration) -> Result<Prepared, String> {
    if let Some(ready) = PREPARED.with(|p| p.borrow().get(&prepared_key(d)).cloned()) {
        return Ok(ready);
    }
    match within(join_preparation(d, timeout), timeout).await {
        Some(Ok(result)) => result,
        Some(Err(_)) => Err(format!("{}: the preparation was abandoned", d.entry)),
        None => Err(format!(
            "{}: not fetched and compiled within {} s",
            d.entry,
            timeout.as_secs_f32()
        )),
    }
}

/// Starts fetching and compiling `d` in the background (unless it is ready or under way), e.g.
/// as soon as the manifest says which apps the page shows, before the page is drawn.
pub fn start_preparing(d: &AppDescriptor, timeout: Duration) {
    if !is_prepared(d) {
        drop(join_preparation(d, timeout));
    }
}

/// Where the result of `d`'s one preparation will be sent: the preparation under way, or one
/// started now on a task of its own (so it ends, and is kept, whoever stops waiting for it).
fn join_preparation(d: &AppDescriptor, timeout: Duration) -> oneshot::Receiver<Preparation> {
    let key = prepared_key(d);
    let (answer, receiver) = oneshot::channel();
    let first = IN_FLIGHT.with(|f| {
        let mut f = f.borrow_mut();
        let waiting = f.entry(key.clone()).or_default();
        waiting.push(answer);
        waiting.len() == 1
    });
    if first {
        let descriptor = d.clone();
        // Claimed now, not when the task runs: the shell aborts unclaimed early reads right
        // after the page's first loads are started.
        let early = EarlyFiles::claim(d);
        wasm_bindgen_futures::spawn_local(async move {
            let result = fetch_and_compile(&descriptor, timeout, early).await;
            if let Ok(prepared) = &result {
                PREPARED.with(|p| p.borrow_mut().insert(key.clone(), prepared.clone()));
            }
            // A failed preparation is forgotten with its waiters: the next call tries again.
            let waiting = IN_FLIGHT.with(|f| f.borrow_mut().remove(&key));
            for answer in waiting.unwrap_or_default() {
                let _ = answer.send(result.clone());
            }
        });
    }
    receiver
}

/// Early reads of a version's two files that `index.html` started (see `early_reads`).
struct EarlyFiles {
    glue: Option<js_sys::Promise>,
    wasm: Option<js_sys::Promise>,
}

impl EarlyFiles {
    fn claim(d: &AppDescriptor) -> Self {
        Self {
            glue: early_reads::take_app_file(d.entry_file()),
            wasm: d.wasm_file().and_then(early_reads::take_app_file),
        }
    }
}

/// Fetches the glue and the `.wasm` side by side (or takes their early reads), both checked
/// against their integrity, and compiles the wasm.
async fn fetch_and_compile(
    d: &AppDescriptor,
    timeout: Duration,
    early: EarlyFiles,
) -> Result<Prepared, String> {
    let started = monotonic_ms();
    let EarlyFiles {
        glue,
        wasm: early_wasm,
    } = early;
    // A wasm app's glue (wasm-bindgen's, whose top level only defines functions) is imported
    // once as soon as it is verified, side by side with the compile. A plain JavaScript app's
    // module is imported only when an instance is made: its top level is the app's own code.
    // If the early import fails there is no spare, and the first `import` fails in its own right.
    let js = async {
        let entry = d.entry_file();
        let bytes = fetch_verified(entry.url, entry.integrity, timeout, glue).await?;
        let spare = match d.wasm {
            Some(_) => import_from_bytes(&bytes).await.ok(),
            None => None,
        };
        Ok::<_, String>((bytes, spare))
    };
    let wasm = async {
        match d.wasm_file() {
            Some(f) => fetch_compiled(f.url, f.integrity, timeout, early_wasm)
                .await
                .map(Some),
            None => Ok(None),
        }
    };
    let (js, wasm) = futures::join!(js, wasm);
    let ((js, spare), wasm) = (js?, wasm?);
    let total_ms = monotonic_ms() - started;
    let compile_ms = wasm.as_ref().map_or(0.0, |w| w.compile_ms);
    Ok(Prepared {
        bytes: js.len() as u64 + wasm.as_ref().map_or(0, |w| w.bytes),
        js: Rc::new(js),
        wasm: wasm.map(|w| w.module),
        fetch_ms: (total_ms - compile_ms).max(0.0),
        compile_ms,
        spare: Rc::new(RefCell::new(spare)),
    })
}

/// A new glue instance imported from prepared bytes, not initialised yet.
pub struct Imported {
    pub module: JsValue,
    /// The `blob:` URL the glue was imported from (see [`import_from_bytes`]).
    pub script: String,
}

/// A new glue instance for `p`: the one imported during its preparation if nobody took it
/// yet, otherwise a fresh import of the prepared bytes.
pub async fn import(p: &Prepared) -> Result<Imported, String> {
    if let Some(spare) = p.spare.borrow_mut().take() {
        return Ok(spare);
    }
    import_from_bytes(&p.js).await
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

/// The props an app's `bootstrap` and `mount` get (the micro-app ABI, DESIGN §3.1): its element,
/// host object, name, version, base path, route parameters and mount point. One builder for
/// the shell and the boot module, so an app adopted from the boot module saw the same shape.
pub fn lifecycle_props(
    element: &web_sys::HtmlElement,
    host: &JsValue,
    d: &AppDescriptor,
    base_path: &str,
    params: &std::collections::BTreeMap<String, String>,
    slot: &str,
) -> JsValue {
    let set = |object: &js_sys::Object, k: &str, v: &JsValue| {
        let _ = js_sys::Reflect::set(object, &JsValue::from_str(k), v);
    };
    let route_params = js_sys::Object::new();
    for (k, v) in params {
        set(&route_params, k, &JsValue::from_str(v));
    }
    let props = js_sys::Object::new();
    set(&props, "element", element);
    set(&props, "host", host);
    set(&props, "name", &JsValue::from_str(&d.name));
    set(&props, "version", &JsValue::from_str(&d.version));
    set(&props, "basePath", &JsValue::from_str(base_path));
    set(&props, "params", &route_params);
    set(&props, "slot", &JsValue::from_str(slot));
    props.into()
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
    match within(JsFuture::from(promise), timeout).await {
        Some(Ok(value)) => Ok(value),
        Some(Err(e)) => Err(format!("{name}() failed: {}", describe(&e))),
        None => Err(format!(
            "{name}() did not finish within {} s",
            timeout.as_secs_f32()
        )),
    }
}
