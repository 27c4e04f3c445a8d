//! The page's first module. `index.html` starts it before the shell, whose module is several
//! times larger: it shows the page's routed app while the shell still loads, then hands the
//! running app over. The shell adopts it instead of loading it again
//! (`src/runtime/instances/adopt.rs` in the shell).
//!
//! It takes the fast path only (`mfe_manifest::placement::boot_placement`): one routed app, its
//! current version, no development override. Other mount points, earlier versions, retries and
//! error panels wait for the shell. A failed attempt is handed over too, as the first
//! attempt's outcome, so the shell goes on to the next version at once instead of trying the
//! same one again.
//!
//! No UI framework: plain DOM calls for a frame that looks like the shell's (`frame`), and the
//! loader the shell uses (`mfe_app_loader`).

mod frame;

use std::time::Duration;

use js_sys::{Object, Reflect};
use mfe_app_loader::clock::monotonic_ms;
use mfe_app_loader::loader::{self, describe};
use mfe_contract::{AppDescriptor, HOST_API_VERSION};
use mfe_manifest::placement::{boot_placement, Placement};
use mfe_outbox_web::fetch::within;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

pub use frame::{BOOTING_CLASS, ROOT_ID};

#[wasm_bindgen(module = "/src/handoff.js")]
extern "C" {
    /// `{ host, plug(shellHost) }`: the host object the app gets, and how the shell plugs its
    /// own behind it.
    fn proxy_host(api_version: u32) -> JsValue;
    /// `{ crashed() → reason | null, stop() }` for uncaught errors from the glue at `script`.
    fn watch_errors(script: &str) -> JsValue;
    /// Resolves once the document is parsed.
    fn parsed() -> js_sys::Promise;
}

/// Where the boot module says which app version it is loading, before it starts: the shell's
/// early preparation of the page's apps leaves that one to it.
pub const LOADING_GLOBAL: &str = "__mfeBootApp";

/// Longest wait for the manifest's early answer and its body.
const MANIFEST_TIMEOUT: Duration = Duration::from_secs(5);

/// The step an attempt reached: `load` (fetch, compile, glue, init), `bootstrap`, `mount`, or
/// `mounted` when it succeeded. The shell steps its status machine through the same ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Load,
    Bootstrap,
    Mount,
    Mounted,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Load => "load",
            Stage::Bootstrap => "bootstrap",
            Stage::Mount => "mount",
            Stage::Mounted => "mounted",
        }
    }
}

/// Shows the page's app if the fast path applies. Resolves to the hand-over for the shell:
/// `{ key, slot, stage, reason?, frame, element, module, script, props, plug, watch, glue,
/// wasm, bytes, fetchMs, compileMs, initMs, mountMs }`, or `null` when the shell does it all.
#[wasm_bindgen]
pub async fn boot() -> JsValue {
    match start().await {
        Ok(handoff) => handoff.into(),
        Err(why) => {
            web_sys::console::info_1(
                &format!("boot module: {why}; the shell shows the page").into(),
            );
            JsValue::NULL
        }
    }
}

fn set(object: &Object, name: &str, value: &JsValue) {
    let _ = Reflect::set(object, &JsValue::from_str(name), value);
}

fn get(object: &JsValue, name: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// Development overrides (debug builds only) change which files an app loads: the shell
/// applies them, so the boot module stands aside whenever one is set.
fn has_dev_override(window: &web_sys::Window) -> bool {
    let Some(storage) = window.local_storage().ok().flatten() else {
        return false;
    };
    let count = storage.length().unwrap_or(0);
    (0..count).any(|i| {
        storage
            .key(i)
            .ok()
            .flatten()
            .is_some_and(|k| k.starts_with("mfe.override."))
    })
}

/// Where `index.html` leaves a copy of its early answer for the manifest (a promise of a
/// `Response`, or of `null`): the shell takes the answer itself.
const MANIFEST_GLOBAL: &str = "__mfeBootManifest";

/// The manifest's text from that copy, within [`MANIFEST_TIMEOUT`] for the answer and again
/// for its body. The copy is let go of either way.
async fn manifest_text() -> Result<String, String> {
    let global: JsValue = js_sys::global().into();
    let copy = get(&global, MANIFEST_GLOBAL);
    let _ = Reflect::delete_property(
        global.unchecked_ref::<Object>(),
        &JsValue::from_str(MANIFEST_GLOBAL),
    );
    let copy = copy
        .dyn_into::<js_sys::Promise>()
        .map_err(|_| "no early read")?;
    let response = match within(JsFuture::from(copy), MANIFEST_TIMEOUT).await {
        Some(Ok(response)) => response
            .dyn_into::<web_sys::Response>()
            .map_err(|_| "the early read failed")?,
        Some(Err(e)) => return Err(describe(&e)),
        None => return Err("no answer for the manifest in time".into()),
    };
    if !response.ok() {
        return Err(format!("/manifest.json: HTTP {}", response.status()));
    }
    let text = response.text().map_err(|e| describe(&e))?;
    match within(JsFuture::from(text), MANIFEST_TIMEOUT).await {
        Some(Ok(text)) => text
            .as_string()
            .ok_or_else(|| "the manifest is not text".into()),
        Some(Err(e)) => Err(describe(&e)),
        None => Err("the manifest's body did not come in time".into()),
    }
}

async fn start() -> Result<Object, String> {
    let window = web_sys::window().ok_or("no window")?;
    if cfg!(debug_assertions) && has_dev_override(&window) {
        return Err("a development override is set".into());
    }
    let document = window.document().ok_or("no document")?;
    let path = window.location().pathname().map_err(|e| describe(&e))?;
    let text = manifest_text().await?;
    let manifest = mfe_manifest::parse_manifest(&text).map_err(|e| e.to_string())?;
    let placement = boot_placement(&manifest, &path, HOST_API_VERSION)
        .ok_or("not a page with one routed app")?;
    let d = placement.versions[0].clone();
    let key = loader::prepared_key(&d);
    set(
        js_sys::global().unchecked_ref(),
        LOADING_GLOBAL,
        &JsValue::from_str(&key),
    );
    let _ = JsFuture::from(parsed()).await;
    let frame = frame::show(&document, &manifest, &placement, &path).map_err(|e| describe(&e))?;
    let handoff = Object::new();
    set(&handoff, "key", &key.into());
    set(&handoff, "slot", &JsValue::from_str(&placement.slot));
    set(&handoff, "frame", &frame.root);
    set(&handoff, "element", &frame.element);
    let (stage, reason) = match attempt(&d, &placement, &frame, &handoff).await {
        Ok(()) => {
            frame.mounted();
            (Stage::Mounted, None)
        }
        Err((stage, reason)) => (stage, Some(reason)),
    };
    set(&handoff, "stage", &JsValue::from_str(stage.name()));
    if let Some(reason) = reason {
        set(&handoff, "reason", &JsValue::from_str(&reason));
    }
    Ok(handoff)
}

/// Loads, bootstraps and mounts `d` into the frame, writing into `out` what the shell needs to
/// take the instance over (and how long each step took, for its inspector).
async fn attempt(
    d: &AppDescriptor,
    placement: &Placement,
    frame: &frame::Frame,
    out: &Object,
) -> Result<(), (Stage, String)> {
    let load = |e: String| (Stage::Load, e);
    let prepared = loader::prepare(d, loader::LOAD_TIMEOUT)
        .await
        .map_err(load)?;
    let started = monotonic_ms();
    let imported = loader::import(&prepared).await.map_err(load)?;
    let watch = watch_errors(&imported.script);
    set(out, "watch", &watch);
    set(out, "module", &imported.module);
    set(out, "script", &JsValue::from_str(&imported.script));
    loader::init(&prepared, &imported.module, loader::LOAD_TIMEOUT)
        .await
        .map_err(load)?;
    set(out, "initMs", &(monotonic_ms() - started).into());
    set(
        out,
        "glue",
        &js_sys::Uint8Array::from(prepared.js.as_slice()),
    );
    if let Some(wasm) = &prepared.wasm {
        set(out, "wasm", wasm);
    }
    set(out, "bytes", &(prepared.bytes as f64).into());
    set(out, "fetchMs", &prepared.fetch_ms.into());
    set(out, "compileMs", &prepared.compile_ms.into());

    let proxy = proxy_host(HOST_API_VERSION);
    let props = loader::lifecycle_props(
        &frame.element,
        &get(&proxy, "host"),
        d,
        &placement.base_path,
        &placement.params,
        &placement.slot,
    );
    set(out, "props", &props);
    set(out, "plug", &get(&proxy, "plug"));
    let crashed = |stage: Stage| {
        let reason = js_sys::Function::from(get(&watch, "crashed"))
            .call0(&watch)
            .ok()
            .and_then(|r| r.as_string());
        match reason {
            Some(reason) => Err((stage, format!("the app crashed: {reason}"))),
            None => Ok(()),
        }
    };
    let call = |name: &'static str, timeout: Duration| {
        let (module, props) = (imported.module.clone(), props.clone());
        async move { loader::call(&module, name, &props, timeout).await }
    };
    let result = call("bootstrap", loader::BOOTSTRAP_TIMEOUT).await;
    crashed(Stage::Bootstrap)?;
    result.map_err(|e| (Stage::Bootstrap, e))?;
    let started = monotonic_ms();
    let result = call("mount", loader::MOUNT_TIMEOUT).await;
    crashed(Stage::Mount)?;
    result.map_err(|e| (Stage::Mount, e))?;
    set(out, "mountMs", &(monotonic_ms() - started).into());
    Ok(())
}
