//! Asks once at boot for persistent storage (so the browser does not evict the outbox and the
//! cached apps under pressure) and reads the usage estimate, for the inspector.

use leptos::prelude::Update;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use crate::runtime::records::RuntimeState;

fn number(value: &JsValue, field: &str) -> Option<f64> {
    js_sys::Reflect::get(value, &JsValue::from_str(field))
        .ok()?
        .as_f64()
}

pub async fn check(runtime: RuntimeState) {
    let Some(manager) = web_sys::window().map(|w| w.navigator().storage()) else {
        return;
    };
    if let Ok(promise) = manager.persist() {
        let persisted = JsFuture::from(promise).await.ok().and_then(|v| v.as_bool());
        runtime.storage.update(|s| s.persisted = persisted);
    }
    if let Ok(promise) = manager.estimate() {
        if let Ok(estimate) = JsFuture::from(promise).await {
            runtime.storage.update(|s| {
                s.usage = number(&estimate, "usage");
                s.quota = number(&estimate, "quota");
            });
        }
    }
}
