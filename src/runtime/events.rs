//! Browser side of `host.publish` / `host.subscribe`: the [`Bus`] holding JavaScript callbacks.
//! Payloads are copied through JSON for each subscriber, so two apps never share an object
//! (and so never share mutable state), and delivery happens in a later task so a publisher
//! never runs another app's code inside its own call stack.

use std::cell::RefCell;

use wasm_bindgen::JsValue;

use crate::runtime::bus::{Bus, SubscriptionId};

/// Largest payload, serialised; events are notifications, not data transfer.
pub const MAX_EVENT_BYTES: usize = 32 * 1024;

thread_local! {
    static BUS: RefCell<Bus<js_sys::Function>> = RefCell::new(Bus::default());
}

pub fn subscribe(
    owner: u64,
    topic: &str,
    callback: js_sys::Function,
) -> Result<SubscriptionId, String> {
    BUS.with(|b| b.borrow_mut().subscribe(owner, topic, callback))
}

pub fn unsubscribe(owner: u64, id: SubscriptionId) {
    BUS.with(|b| b.borrow_mut().unsubscribe(owner, id));
}

/// Ends every subscription of one app instance (called when it unmounts).
pub fn drop_owner(owner: u64) {
    BUS.with(|b| b.borrow_mut().drop_owner(owner));
}

/// Live subscriptions, for the inspector and the memory test.
pub fn count() -> usize {
    BUS.with(|b| b.borrow().len())
}

/// Checks and copies `payload`, then delivers it to every subscriber of `topic`.
pub fn publish(topic: &str, payload: JsValue) -> Result<(), String> {
    crate::runtime::bus::check_topic(topic)?;
    let value: serde_json::Value = serde_wasm_bindgen::from_value(payload)
        .map_err(|e| format!("payload is not plain data: {e}"))?;
    let text = serde_json::to_string(&value).map_err(|e| e.to_string())?;
    if text.len() > MAX_EVENT_BYTES {
        return Err(format!(
            "payload is {} bytes; events may carry at most {MAX_EVENT_BYTES}",
            text.len()
        ));
    }
    let topic = topic.to_string();
    wasm_bindgen_futures::spawn_local(async move {
        // Looked up at delivery time: an app unmounted in between gets nothing.
        let subscribers = BUS.with(|b| b.borrow().subscribers(&topic));
        let serializer = serde_wasm_bindgen::Serializer::json_compatible();
        for callback in subscribers {
            let Ok(copy) = serde::Serialize::serialize(&value, &serializer) else {
                continue;
            };
            // One subscriber throwing must not stop delivery to the others; the app that
            // threw is stopped like any app with an uncaught error (its stack says which).
            if let Err(e) = callback.call1(&JsValue::UNDEFINED, &copy) {
                crate::runtime::crash_watch::report(&e, None);
            }
        }
    });
    Ok(())
}
