//! A micro app for testing the shell's failure handling. It writes its lifecycles by hand
//! (no SDK, no framework) so each build is tiny and fast, and fails in the way named by the
//! `MFE_FAULT` environment variable at build time:
//!
//! - unset: mounts a line of text saying which version runs;
//! - `panic-mount`: panics inside `mount` (a wasm trap with `panic = "abort"`);
//! - `hang-mount`: `mount` returns a promise that never settles.

use wasm_bindgen::prelude::*;

/// The failure this build was made with.
const FAULT: Option<&str> = option_env!("MFE_FAULT");

fn field(props: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(props, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
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
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("no document"))?;
    let text = document.create_element("p")?;
    text.set_attribute("data-testid", "faulty-app")?;
    text.set_attribute("data-version", &version)?;
    text.set_text_content(Some(&format!("Faulty test app {version} is running.")));
    element.append_child(&text)?;
    Ok(js_sys::Promise::resolve(&JsValue::UNDEFINED))
}

#[wasm_bindgen]
pub fn unmount(props: JsValue) -> Result<js_sys::Promise, JsValue> {
    let element: web_sys::HtmlElement = field(&props, "element").dyn_into()?;
    element.set_inner_html("");
    Ok(js_sys::Promise::resolve(&JsValue::UNDEFINED))
}
