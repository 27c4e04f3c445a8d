//! The host object handed to each micro app in `mount(props)` (DESIGN §3.3): the only way an
//! app reaches the outbox, the regions, navigation and the other apps (events). Everything is
//! scoped to the app instance: it sees the status of its own commands only, and its event
//! subscriptions end when it unmounts.

use std::rc::Rc;
use std::time::Duration;

use gloo_net::http::Request;
use mfe_contract::{QueryAnswer, HOST_API_VERSION};
use mfe_router::RequestOutcome;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::fetch::{says_switched_off, send_with_timeout, FetchFailure};
use crate::outbox;
use crate::routing;
use crate::runtime::events;
use crate::state::ShellState;

const QUERY_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest accepted `kind` / `stream` name.
const MAX_NAME: usize = 100;
/// Largest payload accepted from an app, serialised (the regions refuse more than 64 KiB).
const MAX_PAYLOAD: usize = 60 * 1024;
/// Deepest nesting accepted (the regions refuse more than 32 levels; decoding very deep
/// values recursively could also exhaust the stack when the record is read back).
const MAX_DEPTH: usize = 32;

/// Nesting depth of a JSON value, measured without recursion and giving up past `limit`.
fn depth_exceeds(value: &serde_json::Value, limit: usize) -> bool {
    // Only arrays and objects open a level, as the regions count it; scalars add none.
    let mut stack = vec![(value, 0usize)];
    while let Some((v, outer)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &serde_json::Value>> = match v {
            serde_json::Value::Array(items) => Box::new(items.iter()),
            serde_json::Value::Object(map) => Box::new(map.values()),
            _ => continue,
        };
        let depth = outer + 1;
        if depth > limit {
            return true;
        }
        stack.extend(children.map(|child| (child, depth)));
    }
    false
}

/// A live host object plus the Rust closures behind it; dropping it invalidates the functions
/// (an app that kept a reference after unmount gets an error, not a dangling call).
pub struct HostHandle {
    pub object: js_sys::Object,
    /// Identifies this app instance as the owner of its event subscriptions.
    pub owner: u64,
    subscriptions: Rc<std::cell::RefCell<Vec<u64>>>,
    _closures: Vec<Box<dyn std::any::Any>>,
}

impl HostHandle {
    /// Ends everything the app subscribed to while mounted (command status and events), so an
    /// unmounted app is never called and holds nothing the shell keeps alive.
    pub fn end_mount(&self) {
        for handle in self.subscriptions.borrow_mut().drain(..) {
            outbox::unsubscribe(handle);
        }
        events::drop_owner(self.owner);
    }
}

impl Drop for HostHandle {
    fn drop(&mut self) {
        self.end_mount();
    }
}

thread_local! {
    static NEXT_OWNER: std::cell::Cell<u64> = const { std::cell::Cell::new(1) };
}

fn next_owner() -> u64 {
    NEXT_OWNER.with(|n| {
        let id = n.get();
        n.set(id + 1);
        id
    })
}

fn error(message: impl AsRef<str>) -> JsValue {
    js_sys::Error::new(message.as_ref()).into()
}

fn check_name(what: &str, value: &JsValue) -> Result<String, JsValue> {
    let text = value
        .as_string()
        .ok_or_else(|| error(format!("{what} must be a string")))?;
    if text.is_empty() || text.len() > MAX_NAME {
        return Err(error(format!("{what} must be 1 to {MAX_NAME} characters")));
    }
    Ok(text)
}

async fn dispatch(
    state: ShellState,
    app: String,
    kind: JsValue,
    stream: JsValue,
    payload: JsValue,
) -> Result<JsValue, JsValue> {
    let kind = check_name("kind", &kind)?;
    let stream = check_name("stream", &stream)?;
    let payload: serde_json::Value = serde_wasm_bindgen::from_value(payload)
        .map_err(|e| error(format!("payload is not plain data: {e}")))?;
    if depth_exceeds(&payload, MAX_DEPTH) {
        return Err(error(format!(
            "payload is nested deeper than {MAX_DEPTH} levels"
        )));
    }
    let size = serde_json::to_string(&payload)
        .map(|s| s.len())
        .unwrap_or(0);
    if size > MAX_PAYLOAD {
        return Err(error(format!(
            "payload is {size} bytes; the limit is {MAX_PAYLOAD}"
        )));
    }
    outbox::dispatch(state, &app, kind, stream, payload)
        .await
        .map(|id| JsValue::from_str(&id))
        .map_err(error)
}

fn cache_key(app: &str, path: &str) -> String {
    format!("mfe.query.{app}.{path}")
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn to_js(answer: &QueryAnswer) -> Result<JsValue, JsValue> {
    answer
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| error(e.to_string()))
}

async fn query(state: ShellState, app: String, path: JsValue) -> Result<JsValue, JsValue> {
    let path = path
        .as_string()
        .filter(|p| p.starts_with("/q/") && !p.contains("..") && p.len() < 512)
        .ok_or_else(|| error("query path must start with /q/"))?;
    let mut last_error = String::from("no region is configured");
    if crate::connectivity::is_online() {
        for region in routing::candidates() {
            let (Some(url), Some(ticket)) =
                (routing::url(&region), routing::start_request(&region))
            else {
                continue;
            };
            let query_url = format!("{url}{path}");
            let timing = routing::network_time::start(&query_url);
            let result = send_with_timeout(Request::get(&query_url), None, QUERY_TIMEOUT).await;
            let outcome = match &result {
                Ok(response) => RequestOutcome::Status(response.status()),
                Err(FetchFailure::Timeout) => RequestOutcome::Timeout,
                Err(_) => RequestOutcome::NetworkError,
            };
            // An answer's body is read before the router hears of it: the browser's entry of
            // the request, whose duration is the network's time, comes with the body.
            let body = match &result {
                Ok(response) if response.ok() => Some(response.text().await),
                _ => None,
            };
            routing::finish_request(state, ticket, outcome, timing.network_ms());
            if result.as_ref().is_ok_and(says_switched_off) {
                routing::switched_off(state, &region);
            }
            match (result, body) {
                (Ok(_), Some(text)) => {
                    let text =
                        text.map_err(|e| error(format!("{region} answered malformed data: {e}")))?;
                    let mut answer: QueryAnswer = serde_json::from_str(&text)
                        .map_err(|e| error(format!("{region} answered malformed data: {e}")))?;
                    answer.stale = false;
                    if let (Some(storage), Ok(text)) =
                        (local_storage(), serde_json::to_string(&answer))
                    {
                        let _ = storage.set_item(&cache_key(&app, &path), &text);
                    }
                    return to_js(&answer);
                }
                (Ok(response), _) if response.status() < 500 && response.status() != 429 => {
                    return Err(error(format!("{region}: HTTP {}", response.status())));
                }
                (Ok(response), _) => last_error = format!("{region}: HTTP {}", response.status()),
                (Err(e), _) => last_error = format!("{region}: {e}"),
            }
        }
    } else {
        last_error = "this device is offline".into();
    }
    let cached = local_storage()
        .and_then(|s| s.get_item(&cache_key(&app, &path)).ok().flatten())
        .and_then(|text| serde_json::from_str::<QueryAnswer>(&text).ok());
    match cached {
        Some(mut answer) => {
            answer.stale = true;
            to_js(&answer)
        }
        None => Err(error(format!(
            "no region answered and nothing is cached ({last_error})"
        ))),
    }
}

fn set(object: &js_sys::Object, name: &str, value: &JsValue) {
    let _ = js_sys::Reflect::set(object, &JsValue::from_str(name), value);
}

/// Builds the host object for one mounted app instance.
pub fn create(state: ShellState, app: &str, navigate: Rc<dyn Fn(&str)>) -> HostHandle {
    create_for(state, app, next_owner(), navigate)
}

fn create_for(state: ShellState, app: &str, owner: u64, navigate: Rc<dyn Fn(&str)>) -> HostHandle {
    let object = js_sys::Object::new();
    let mut closures: Vec<Box<dyn std::any::Any>> = Vec::new();
    let subscriptions = Rc::new(std::cell::RefCell::new(Vec::<u64>::new()));

    let name = app.to_string();
    let dispatch_fn = Closure::<dyn Fn(JsValue, JsValue, JsValue) -> js_sys::Promise>::new(
        move |kind, stream, payload| {
            future_to_promise(dispatch(state, name.clone(), kind, stream, payload))
        },
    );
    set(&object, "dispatch", dispatch_fn.as_ref());
    closures.push(Box::new(dispatch_fn));

    let name = app.to_string();
    let status_fn = Closure::<dyn Fn(JsValue) -> JsValue>::new(move |id: JsValue| {
        id.as_string()
            .and_then(|id| outbox::status_for_app(&name, &id))
            .and_then(|s| serde_wasm_bindgen::to_value(&s).ok())
            .unwrap_or(JsValue::NULL)
    });
    set(&object, "commandStatus", status_fn.as_ref());
    closures.push(Box::new(status_fn));

    let name = app.to_string();
    let subs = subscriptions.clone();
    let on_status_fn = Closure::<dyn Fn(JsValue) -> JsValue>::new(move |callback: JsValue| {
        let Ok(callback) = callback.dyn_into::<js_sys::Function>() else {
            return JsValue::UNDEFINED;
        };
        let handle = outbox::subscribe(&name, callback);
        subs.borrow_mut().push(handle);
        Closure::once_into_js(move || outbox::unsubscribe(handle))
    });
    set(&object, "onCommandStatus", on_status_fn.as_ref());
    closures.push(Box::new(on_status_fn));

    let name = app.to_string();
    let query_fn = Closure::<dyn Fn(JsValue) -> js_sys::Promise>::new(move |path| {
        future_to_promise(query(state, name.clone(), path))
    });
    set(&object, "query", query_fn.as_ref());
    closures.push(Box::new(query_fn));

    let regions_fn = Closure::<dyn Fn() -> JsValue>::new(move || {
        leptos::prelude::GetUntracked::get_untracked(&state.router)
            .and_then(|snapshot| {
                snapshot
                    .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
                    .ok()
            })
            .unwrap_or(JsValue::NULL)
    });
    set(&object, "regions", regions_fn.as_ref());
    closures.push(Box::new(regions_fn));

    let navigate_fn = Closure::<dyn Fn(JsValue)>::new(move |path: JsValue| {
        if let Some(path) = path.as_string().filter(|p| p.starts_with('/')) {
            navigate(&path);
        }
    });
    set(&object, "navigate", navigate_fn.as_ref());
    closures.push(Box::new(navigate_fn));

    add_events(&object, &mut closures, owner);
    set(&object, "apiVersion", &JsValue::from(HOST_API_VERSION));
    HostHandle {
        object,
        owner,
        subscriptions,
        _closures: closures,
    }
}

/// `publish(topic, payload)`, `subscribe(topic, callback) → unsubscribe`.
fn add_events(object: &js_sys::Object, closures: &mut Vec<Box<dyn std::any::Any>>, owner: u64) {
    let publish_fn = Closure::<dyn Fn(JsValue, JsValue) -> Result<(), JsValue>>::new(
        move |topic: JsValue, payload: JsValue| {
            let topic = topic
                .as_string()
                .ok_or_else(|| error("topic must be a string"))?;
            events::publish(&topic, payload).map_err(error)
        },
    );
    set(object, "publish", publish_fn.as_ref());
    closures.push(Box::new(publish_fn));

    // One function per host; `subscribe` hands out copies bound to a subscription id, so an
    // app that never calls its unsubscribe leaks nothing (unmount ends it anyway).
    let unsubscribe_fn = Closure::<dyn Fn(JsValue)>::new(move |id: JsValue| {
        if let Some(id) = id.as_f64() {
            events::unsubscribe(owner, id as u64);
        }
    });
    let unsubscribe: js_sys::Function = unsubscribe_fn.as_ref().clone().unchecked_into();
    closures.push(Box::new(unsubscribe_fn));
    let subscribe_fn = Closure::<dyn Fn(JsValue, JsValue) -> Result<JsValue, JsValue>>::new(
        move |topic: JsValue, callback: JsValue| {
            let topic = topic
                .as_string()
                .ok_or_else(|| error("topic must be a string"))?;
            let callback = callback
                .dyn_into::<js_sys::Function>()
                .map_err(|_| error("callback must be a function"))?;
            let id = events::subscribe(owner, &topic, callback).map_err(error)?;
            Ok(unsubscribe
                .bind1(&JsValue::UNDEFINED, &JsValue::from(id as f64))
                .into())
        },
    );
    set(object, "subscribe", subscribe_fn.as_ref());
    closures.push(Box::new(subscribe_fn));
}

#[cfg(test)]
mod tests {
    use super::depth_exceeds;

    #[test]
    fn payload_depth_is_measured_without_recursion() {
        assert!(!depth_exceeds(&serde_json::json!({"a": [1, {"b": 2}]}), 3));
        assert!(depth_exceeds(&serde_json::json!({"a": [1, {"b": [3]}]}), 3));
        let mut deep = serde_json::json!(0);
        for _ in 0..100 {
            deep = serde_json::json!([deep]);
        }
        assert!(depth_exceeds(&deep, 32));
        assert!(!depth_exceeds(&serde_json::json!("flat"), 1));
    }
}
