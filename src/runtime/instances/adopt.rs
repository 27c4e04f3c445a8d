//! Taking over the app the boot module showed (`crates/boot`): when the shell starts, the
//! page's routed app may already run in the boot module's frame. The first mount of that
//! version in the `main` mount point adopts the running instance (its glue, wasm memory and
//! DOM) instead of loading the version again, and a failed boot attempt counts as that
//! version's first attempt, so the slot goes on to the next version at once. In every other
//! case the slot mounts as usual, and an app the boot module showed that no slot took is
//! unmounted ([`release_unclaimed`]).
//!
//! The hand-over is a plain JS object (see `boot()` in `crates/boot/src/lib.rs`), read here
//! field by field: a field that is missing or of the wrong type means the shell mounts the
//! app itself.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use js_sys::{Function, Reflect};
use mfe_contract::boot::{BOOTING_CLASS, FRAME_ID, HANDOFF_GLOBAL, LOADING_GLOBAL};
use mfe_contract::{AppDescriptor, BootStage};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::{crash, evict_others, props, Context, Instance, Mounted, Target, Tracker, POOL};
use crate::fetch::within;
use crate::host_api;
use crate::loader;
use crate::runtime::placement::MAIN;
use crate::runtime::status::{Event, Status};
use crate::runtime::tripwire::Tripwire;

/// Longest wait for the boot module's outcome: its own steps are bounded (manifest 5 + 5 s,
/// `regions.json` 1 s, then the deployment's load, bootstrap and mount timeouts, 17 s by
/// default). A deployment with longer ones than this sees the slot start its own attempt.
const WAIT: Duration = Duration::from_secs(30);
/// After the manifest is in, how long a slot has to claim the hand-over before it is released.
const GRACE: Duration = Duration::from_millis(500);
/// Bound on an unclaimed app's `unmount`.
const RELEASE_UNMOUNT: Duration = Duration::from_secs(3);

thread_local! {
    /// The hand-over that was used (adopted or released): nothing else may touch it.
    static USED: RefCell<Option<js_sys::Promise>> = const { RefCell::new(None) };
}

fn is_used(handoff: &js_sys::Promise) -> bool {
    USED.with(|u| {
        u.borrow()
            .as_ref()
            .is_some_and(|used| JsValue::from(used) == JsValue::from(handoff))
    })
}

/// Marks `handoff` used; false if it already was.
fn use_up(handoff: &js_sys::Promise) -> bool {
    if is_used(handoff) {
        return false;
    }
    USED.with(|u| *u.borrow_mut() = Some(handoff.clone()));
    true
}

fn field(object: &JsValue, name: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

fn text(object: &JsValue, name: &str) -> Option<String> {
    field(object, name).as_string()
}

fn number(object: &JsValue, name: &str) -> Option<f64> {
    field(object, name).as_f64()
}

fn handoff_promise() -> Option<js_sys::Promise> {
    Reflect::get(&js_sys::global(), &JsValue::from_str(HANDOFF_GLOBAL))
        .ok()?
        .dyn_into()
        .ok()
}

/// Whether the boot module is loading (or has loaded) version `d`: the page's early
/// preparation leaves it to the boot module.
pub fn boot_is_loading(d: &AppDescriptor) -> bool {
    handoff_promise().is_some_and(|h| !is_used(&h))
        && Reflect::get(&js_sys::global(), &JsValue::from_str(LOADING_GLOBAL))
            .ok()
            .and_then(|k| k.as_string())
            .is_some_and(|k| k == loader::prepared_key(d))
}

/// The boot module's hand-over, for the first caller only; `None` without one.
async fn take() -> Option<JsValue> {
    let handoff = handoff_promise().filter(|h| !is_used(h))?;
    let answer = within(JsFuture::from(handoff.clone()), WAIT).await;
    // Past the wait the slot mounts by itself; `release_unclaimed` still ends a late one.
    let value = answer?.ok().filter(JsValue::is_object);
    if !use_up(&handoff) {
        return None;
    }
    value
}

/// Calls `object.name()` and ignores what it says: the hand-over's own functions.
fn call(object: &JsValue, name: &str) -> JsValue {
    field(object, name)
        .dyn_into::<Function>()
        .ok()
        .and_then(|f| f.call0(object).ok())
        .unwrap_or(JsValue::UNDEFINED)
}

/// Stops the boot module's error watch and says whether it saw the app crash.
fn stop_watch(handoff: &JsValue) -> Option<String> {
    let watch = field(handoff, "watch");
    let crashed = call(&watch, "crashed").as_string();
    call(&watch, "stop");
    crashed
}

/// Takes the boot module's frame away and shows the shell's.
fn remove_frame() {
    let document = web_sys::window().and_then(|w| w.document());
    if let Some(frame) = document
        .as_ref()
        .and_then(|d| d.get_element_by_id(FRAME_ID))
    {
        frame.remove();
    }
    if let Some(html) = document.and_then(|d| d.document_element()) {
        let _ = html.class_list().remove_1(BOOTING_CLASS);
    }
}

/// Ends a hand-over no slot takes: unmounts the app if it is running, removes the frame.
fn release(handoff: JsValue) {
    let crashed = stop_watch(&handoff);
    remove_frame();
    if stage(&handoff) != Some(BootStage::Mounted) || crashed.is_some() {
        return;
    }
    wasm_bindgen_futures::spawn_local(async move {
        let (module, props) = (field(&handoff, "module"), field(&handoff, "props"));
        if let Err(e) = loader::call(&module, "unmount", &props, RELEASE_UNMOUNT).await {
            web_sys::console::warn_1(&format!("the boot module's app: {e}").into());
        }
    });
}

/// After the manifest is in: if no slot took the boot module's hand-over shortly after it
/// came (the page no longer shows that version), ends it.
pub fn release_unclaimed() {
    let Some(promise) = handoff_promise() else {
        return;
    };
    wasm_bindgen_futures::spawn_local(async move {
        let answer = within(JsFuture::from(promise.clone()), WAIT * 2).await;
        gloo_timers::future::sleep(GRACE).await;
        if !use_up(&promise) {
            return;
        }
        if let Some(Ok(handoff)) = answer.filter(|a| a.as_ref().is_ok_and(JsValue::is_object)) {
            release(handoff);
        }
    });
}

/// The step the boot module's attempt reached; `None` when the hand-over does not say.
fn stage(handoff: &JsValue) -> Option<BootStage> {
    BootStage::from_name(&text(handoff, "stage")?)
}

/// The events that take a fresh instance to where the boot module's attempt ended.
fn steps(stage: BootStage) -> &'static [Event] {
    use Event::*;
    match stage {
        BootStage::Mounted => &[
            LoadStarted,
            Loaded,
            BootstrapStarted,
            Bootstrapped,
            MountStarted,
            Mounted,
        ],
        BootStage::Mount => &[
            LoadStarted,
            Loaded,
            BootstrapStarted,
            Bootstrapped,
            MountStarted,
            Failed,
        ],
        BootStage::Bootstrap => &[LoadStarted, Loaded, BootstrapStarted, Failed],
        BootStage::Load => &[LoadStarted, LoadFailed],
    }
}

/// For the first mount of `d` in `main`: the boot module's outcome for it, if it tried that
/// version. `None` means the slot mounts by itself.
pub(super) async fn claim(
    ctx: &Context,
    d: &AppDescriptor,
    target: &Target,
    report: &dyn Fn(Status),
) -> Option<Result<Mounted, (Status, String)>> {
    if target.slot != MAIN {
        return None;
    }
    let handoff = take().await?;
    let key = loader::prepared_key(d);
    if text(&handoff, "key").as_deref() != Some(key.as_str())
        || text(&handoff, "slot").as_deref() != Some(MAIN)
    {
        release(handoff);
        return None;
    }
    let crashed = stop_watch(&handoff);
    // A hand-over that names no stage it can read counts as a failed load.
    let stage = stage(&handoff).unwrap_or(BootStage::Load);
    let failure = match (crashed, text(&handoff, "reason")) {
        (_, Some(reason)) => Some((stage, reason)),
        (Some(reason), None) => Some((BootStage::Mount, format!("the app crashed: {reason}"))),
        (None, None) if stage == BootStage::Mounted => None,
        (None, None) => Some((stage, "the boot module gave no reason".into())),
    };
    let mut tracker = Tracker {
        status: Status::NotLoaded,
        report,
    };
    if let Some((stage, reason)) = failure {
        remove_frame();
        for event in steps(stage) {
            tracker.go(*event);
        }
        return Some(Err((tracker.status, reason)));
    }
    Some(Ok(adopt(ctx, d, target, &handoff, &mut tracker)))
}

/// Makes the boot module's running instance one of the shell's: its own host object behind the
/// one the app holds, the crash watch, the pool, the prepared files, and its DOM in the slot.
fn adopt(
    ctx: &Context,
    d: &AppDescriptor,
    target: &Target,
    handoff: &JsValue,
    tracker: &mut Tracker<'_>,
) -> Mounted {
    let (slot, name) = (target.slot.as_str(), d.name.as_str());
    let host = host_api::create(ctx.state, name, ctx.navigate.clone());
    if let Ok(plug) = field(handoff, "plug").dyn_into::<Function>() {
        if let Err(e) = plug.call1(&JsValue::UNDEFINED, &host.object) {
            web_sys::console::warn_1(
                &format!("handing the host to the boot module's app: {e:?}").into(),
            );
        }
    }
    let props = props(target, &host, d);
    let instance = Rc::new(RefCell::new(Instance {
        module: field(handoff, "module"),
        host,
        status: Status::NotLoaded,
        trip: Tripwire::default(),
        on_crash: Some(target.on_crash.clone()),
    }));
    if let Some(script) = text(handoff, "script") {
        crash::watch(&script, &instance, slot, d);
    }
    for event in steps(BootStage::Mounted) {
        instance.borrow_mut().status = tracker.go(*event);
    }
    let glue = field(handoff, "glue")
        .dyn_into::<js_sys::Uint8Array>()
        .map(|a| a.to_vec());
    let wasm = field(handoff, "wasm")
        .dyn_into::<js_sys::WebAssembly::Module>()
        .ok();
    let bytes = number(handoff, "bytes").map(|b| b as u64);
    let (fetch_ms, compile_ms) = (number(handoff, "fetchMs"), number(handoff, "compileMs"));
    if let (Ok(glue), Some(bytes)) = (glue, bytes) {
        loader::keep_prepared(
            d,
            glue,
            wasm,
            bytes,
            fetch_ms.unwrap_or(0.0),
            compile_ms.unwrap_or(0.0),
        );
    }
    ctx.runtime.record(slot, name, |r| {
        r.bytes = bytes;
        r.fetch_ms = fetch_ms;
        r.compile_ms = compile_ms;
        r.init_ms = number(handoff, "initMs");
        r.mount_ms = number(handoff, "mountMs");
    });
    let key = format!("{slot} {}", loader::prepared_key(d));
    POOL.with(|p| p.borrow_mut().insert(key.clone(), instance.clone()));
    evict_others(slot, d, &key);
    if let Some(element) = field(handoff, "element").dyn_ref::<web_sys::Node>() {
        // Moving a node blurs whatever inside it had the focus (an app that focuses its first
        // field on mount): it gets the focus back.
        let focused = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.active_element())
            .filter(|a| element.contains(Some(a)));
        let _ = target.element.append_child(element);
        if let Some(focused) = focused.and_then(|f| f.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = focused.focus();
        }
    }
    remove_frame();
    Mounted {
        key,
        instance,
        props,
    }
}
