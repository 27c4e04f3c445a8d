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
use mfe_contract::boot::{LOADING_GLOBAL, MANIFEST_COPY_GLOBAL, REGIONS_COPY_GLOBAL};
use mfe_contract::runtime::settings_in_regions_file;
use mfe_contract::{AppDescriptor, BootStage, RuntimeConfig, HOST_API_VERSION};
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

/// Longest wait for the manifest's early answer, and again for its body.
const MANIFEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait for `regions.json`'s, once the manifest is in (`REGIONS_WAIT` in the shell).
const REGIONS_WAIT: Duration = Duration::from_secs(1);

/// Shows the page's app if the fast path applies. Resolves to the hand-over for the shell:
/// `{ key, slot, stage, reason?, element, module, script, props, plug, watch, glue,
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

/// The copy of an early answer `index.html` left at `global` (a promise of a `Response`, or
/// of `null`), taken away from there so it is let go of once read or not needed.
fn take_copy(global: &str) -> JsValue {
    let window: JsValue = js_sys::global().into();
    let copy = get(&window, global);
    let _ = Reflect::delete_property(window.unchecked_ref::<Object>(), &JsValue::from_str(global));
    copy
}

/// The text of such a copy, within `timeout` for the answer and again for its body.
async fn early_text(copy: JsValue, path: &str, timeout: Duration) -> Result<String, String> {
    let copy = copy
        .dyn_into::<js_sys::Promise>()
        .map_err(|_| format!("{path}: no early read"))?;
    let response = match within(JsFuture::from(copy), timeout).await {
        Some(Ok(response)) => response
            .dyn_into::<web_sys::Response>()
            .map_err(|_| format!("{path}: the early read failed"))?,
        Some(Err(e)) => return Err(describe(&e)),
        None => return Err(format!("{path}: no answer in time")),
    };
    if !response.ok() {
        return Err(format!("{path}: HTTP {}", response.status()));
    }
    let text = response.text().map_err(|e| describe(&e))?;
    match within(JsFuture::from(text), timeout).await {
        Some(Ok(text)) => text
            .as_string()
            .ok_or_else(|| format!("{path} is not text")),
        Some(Err(e)) => Err(describe(&e)),
        None => Err(format!("{path}: the body did not come in time")),
    }
}

/// The deployment's runtime settings, as the shell reads them for its own first attempt:
/// `regions.json`'s `"runtime"`, or the defaults when the file is missing, unreadable or
/// later than [`REGIONS_WAIT`] after the manifest (the shell waits as long). Only that part of
/// the file is read here: a file the shell rejects for its regions alone still sets these.
async fn runtime_settings(copy: JsValue) -> RuntimeConfig {
    // One bound for the answer and its body together, as in the shell.
    let text = within(
        early_text(copy, "/regions.json", REGIONS_WAIT),
        REGIONS_WAIT,
    )
    .await;
    text.and_then(Result::ok)
        .and_then(|text| settings_in_regions_file(&text).ok())
        .unwrap_or_default()
}

async fn start() -> Result<Object, String> {
    let window = web_sys::window().ok_or("no window")?;
    if cfg!(debug_assertions) && has_dev_override(&window) {
        return Err("a development override is set".into());
    }
    let document = window.document().ok_or("no document")?;
    let path = window.location().pathname().map_err(|e| describe(&e))?;
    let (manifest_copy, regions_copy) = (
        take_copy(MANIFEST_COPY_GLOBAL),
        take_copy(REGIONS_COPY_GLOBAL),
    );
    let text = early_text(manifest_copy, "/manifest.json", MANIFEST_TIMEOUT).await?;
    let manifest = mfe_manifest::parse_manifest(&text).map_err(|e| e.to_string())?;
    let placement = boot_placement(&manifest, &path, HOST_API_VERSION)
        .ok_or("not a page with one routed app")?;
    // Asked for at the same time as the manifest: no wait once both are answered.
    let config = runtime_settings(regions_copy).await;
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
    set(&handoff, "element", &frame.element);
    let (stage, reason) = match attempt(&d, &placement, &config, &frame, &handoff).await {
        Ok(()) => {
            frame.mounted();
            (BootStage::Mounted, None)
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
    config: &RuntimeConfig,
    frame: &frame::Frame,
    out: &Object,
) -> Result<(), (BootStage, String)> {
    let load = |e: String| (BootStage::Load, e);
    let prepared = loader::prepare(d, config.load()).await.map_err(load)?;
    let started = monotonic_ms();
    let imported = loader::import(&prepared).await.map_err(load)?;
    let watch = watch_errors(&imported.script);
    set(out, "watch", &watch);
    set(out, "module", &imported.module);
    set(out, "script", &JsValue::from_str(&imported.script));
    loader::init(&prepared, &imported.module, config.load())
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
    let crashed = |stage: BootStage| {
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
    let result = call("bootstrap", config.bootstrap()).await;
    crashed(BootStage::Bootstrap)?;
    result.map_err(|e| (BootStage::Bootstrap, e))?;
    let started = monotonic_ms();
    let result = call("mount", config.mount()).await;
    crashed(BootStage::Mount)?;
    result.map_err(|e| (BootStage::Mount, e))?;
    set(out, "mountMs", &(monotonic_ms() - started).into());
    Ok(())
}
