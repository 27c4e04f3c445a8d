//! A micro app for testing the shell's failure handling, published only into the end-to-end
//! stack. It writes its lifecycles by hand (no SDK, no framework) so each build is tiny and
//! fast. It fails in `mount` in the way named by the `MFE_FAULT` environment variable at build
//! time:
//!
//! - unset: mounts a line of text saying which version runs, and buttons;
//! - `panic-mount`: panics inside `mount` (a wasm trap with `panic = "abort"`);
//! - `hang-mount`: `mount` returns a promise that never settles.
//!
//! Once mounted, its buttons fail after mount, from the event loop, where no lifecycle call
//! can catch it: "Crash" panics in the click handler, "Throw" throws a JavaScript error from
//! it, "Crash later" panics in a timer. "Count" proves the instance still runs.

use std::cell::{Cell, RefCell};

use wasm_bindgen::prelude::*;

/// The failure this build was made with.
const FAULT: Option<&str> = option_env!("MFE_FAULT");

thread_local! {
    /// Click handlers of the mounted buttons; dropped on unmount.
    static HANDLERS: RefCell<Vec<Closure<dyn FnMut()>>> = const { RefCell::new(Vec::new()) };
    static COUNT: Cell<u32> = const { Cell::new(0) };
}

fn field(props: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(props, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

fn document() -> Result<web_sys::Document, JsValue> {
    web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("no document"))
}

fn button(
    parent: &web_sys::Element,
    testid: &str,
    label: &str,
) -> Result<web_sys::HtmlElement, JsValue> {
    let button: web_sys::HtmlElement = document()?.create_element("button")?.dyn_into()?;
    button.set_attribute("type", "button")?;
    button.set_attribute("data-testid", testid)?;
    button.set_text_content(Some(label));
    parent.append_child(&button)?;
    Ok(button)
}

fn on_click(button: &web_sys::HtmlElement, handler: impl FnMut() + 'static) {
    let handler = Closure::<dyn FnMut()>::new(handler);
    button.set_onclick(Some(handler.as_ref().unchecked_ref()));
    HANDLERS.with(|h| h.borrow_mut().push(handler));
}

fn crash_later() {
    let panic = Closure::once_into_js(|| -> () { panic!("faulty: timer panics on purpose") });
    if let Some(window) = web_sys::window() {
        let _ = window.set_timeout_with_callback(panic.unchecked_ref());
    }
}

#[wasm_bindgen]
pub fn bootstrap(_props: JsValue) -> js_sys::Promise {
    js_sys::Promise::resolve(&JsValue::UNDEFINED)
}

#[wasm_bindgen]
pub fn mount(props: JsValue) -> Result<js_sys::Promise, JsValue> {
    match FAULT {
        Some("panic-mount") => panic!("faulty: mount panics on purpose"),
        Some("hang-mount") => return Ok(js_sys::Promise::new(&mut |_, _| {})),
        _ => {}
    }
    let element: web_sys::HtmlElement = field(&props, "element").dyn_into()?;
    let version = field(&props, "version").as_string().unwrap_or_default();
    let document = document()?;
    let root = document.create_element("div")?;
    root.set_attribute("data-testid", "faulty-app")?;
    root.set_attribute("data-version", &version)?;
    let text = document.create_element("p")?;
    text.set_text_content(Some(&format!("Faulty test app {version} is running.")));
    root.append_child(&text)?;
    let count = button(&root, "faulty-count", "Count: 0")?;
    let shown = count.clone();
    on_click(&count, move || {
        let n = COUNT.with(|c| c.get() + 1);
        COUNT.with(|c| c.set(n));
        shown.set_text_content(Some(&format!("Count: {n}")));
        let _ = shown.set_attribute("data-count", &n.to_string());
    });
    on_click(&button(&root, "faulty-panic", "Crash")?, || {
        panic!("faulty: click panics on purpose")
    });
    on_click(&button(&root, "faulty-throw", "Throw")?, || {
        wasm_bindgen::throw_str("faulty: click throws on purpose")
    });
    on_click(
        &button(&root, "faulty-panic-later", "Crash later")?,
        crash_later,
    );
    element.append_child(&root)?;
    Ok(js_sys::Promise::resolve(&JsValue::UNDEFINED))
}

#[wasm_bindgen]
pub fn unmount(props: JsValue) -> Result<js_sys::Promise, JsValue> {
    let element: web_sys::HtmlElement = field(&props, "element").dyn_into()?;
    element.set_inner_html("");
    HANDLERS.with(|h| h.borrow_mut().clear());
    Ok(js_sys::Promise::resolve(&JsValue::UNDEFINED))
}
