//! The page side of crash detection: uncaught errors and unhandled rejections reach `window`
//! (an app's panic is a `RuntimeError: unreachable` thrown out of a wasm-bindgen closure into
//! the event loop). This adapter only reads the event's error, stack and filename and hands
//! them to `instances::crashed`, whose plain-Rust rule (`blame`) decides whose they are; it
//! then logs the outcome for the inspector. Errors the shell catches from app callbacks (e.g.
//! an event subscriber that threw) come through [`report`] the same way.

use std::cell::{Cell, RefCell};

use wasm_bindgen::prelude::*;

use crate::clock::monotonic_ms;
use crate::loader::describe;
use crate::runtime::instances::{self, Blamed};
use crate::runtime::records::{CrashRecord, RuntimeState};

/// Frames kept in a V8 stack. The default (10) can stop inside the panic machinery of an
/// app's wasm before reaching the glue frame that names the app's script.
const STACK_FRAMES: f64 = 100.0;

thread_local! {
    static INSTALLED: Cell<bool> = const { Cell::new(false) };
    static SINK: RefCell<Option<RuntimeState>> = const { RefCell::new(None) };
}

fn field(value: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(value, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

fn raise_stack_limit() {
    let error = field(&js_sys::global(), "Error");
    let limit = field(&error, "stackTraceLimit").as_f64();
    if limit.is_some_and(|n| n < STACK_FRAMES) {
        let _ = js_sys::Reflect::set(&error, &"stackTraceLimit".into(), &STACK_FRAMES.into());
    }
}

/// Attributes one uncaught error (`error` as thrown, `filename` as the event named it) and
/// logs the outcome. Returns whose it was, if anyone's.
pub fn report(error: &JsValue, filename: Option<String>) -> Option<Blamed> {
    let stack = field(error, "stack").as_string();
    let message = describe(error);
    let filename = filename.filter(|f| !f.is_empty());
    let blamed = instances::crashed(stack.as_deref(), filename.as_deref(), &message);
    match &blamed {
        Some(b) => web_sys::console::warn_1(&JsValue::from_str(&format!(
            "{} {} ({}) {} after an uncaught error: {message}\n{}",
            b.app,
            b.version,
            b.slot,
            if b.stopped {
                "stopped"
            } else {
                "had already stopped"
            },
            stack.as_deref().unwrap_or("(no stack)")
        ))),
        None => web_sys::console::warn_1(&JsValue::from_str(&format!(
            "uncaught error not from any app (no app stopped): {message}"
        ))),
    }
    let record = CrashRecord {
        at_ms: monotonic_ms(),
        app: blamed
            .as_ref()
            .map(|b| (b.slot.clone(), b.app.clone(), b.version.clone())),
        stopped: blamed.as_ref().is_some_and(|b| b.stopped),
        message,
    };
    SINK.with(|s| {
        if let Some(runtime) = *s.borrow() {
            runtime.log_crash(record);
        }
    });
    blamed
}

fn listen(window: &web_sys::Window, kind: &str, handler: impl Fn(web_sys::Event) + 'static) {
    let closure = Closure::<dyn Fn(web_sys::Event)>::new(handler);
    if window
        .add_event_listener_with_callback(kind, closure.as_ref().unchecked_ref())
        .is_ok()
    {
        // Listens for the life of the page.
        closure.forget();
    }
}

/// Starts watching (once per page); outcomes go to `runtime`'s crash log.
pub fn install(runtime: RuntimeState) {
    SINK.with(|s| *s.borrow_mut() = Some(runtime));
    if INSTALLED.with(|i| i.replace(true)) {
        return;
    }
    raise_stack_limit();
    let Some(window) = web_sys::window() else {
        return;
    };
    listen(&window, "error", |event| {
        let Some(event) = event.dyn_ref::<web_sys::ErrorEvent>() else {
            return; // a resource that failed to load, not an exception
        };
        let error = event.error();
        let error = if error.is_undefined() || error.is_null() {
            JsValue::from_str(&event.message())
        } else {
            error
        };
        if report(&error, Some(event.filename())).is_some() {
            // Handled: the app is stopped and the error is logged above with its stack.
            event.prevent_default();
        }
    });
    listen(&window, "unhandledrejection", |event| {
        let reason = field(&event, "reason");
        if report(&reason, None).is_some() {
            event.prevent_default();
        }
    });
}
