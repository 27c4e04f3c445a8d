//! The host object handed to each micro app in `mount(props)` (DESIGN §3.3): the only way an
//! app reaches the outbox, the regions and navigation.

use std::rc::Rc;
use std::time::Duration;

use gloo_net::http::Request;
use mfe_contract::{Command, CommandStatus, QueryAnswer, HOST_API_VERSION};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::clock::now_ms;
use crate::delivery;
use crate::fetch::send_with_timeout;
use crate::identity;
use crate::outbox_store::{self, StoredCommand};
use crate::regions;
use crate::state::ShellState;

const QUERY_TIMEOUT: Duration = Duration::from_secs(5);
const SEQ_KEY: &str = "mfe.seq";
/// Longest accepted `kind` / `stream` name.
const MAX_NAME: usize = 100;

/// A live host object plus the Rust closures behind it; dropping it invalidates the functions
/// (an app that kept a reference after unmount gets an error, not a dangling call).
pub struct HostHandle {
    pub object: js_sys::Object,
    _closures: Vec<Box<dyn std::any::Any>>,
}

fn next_seq() -> u64 {
    let storage = web_sys::window().and_then(|w| w.local_storage().ok().flatten());
    let last = storage
        .as_ref()
        .and_then(|s| s.get_item(SEQ_KEY).ok().flatten())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    let next = last.max(now_ms() as u64 * 1000).saturating_add(1);
    if let Some(storage) = storage {
        let _ = storage.set_item(SEQ_KEY, &next.to_string());
    }
    next
}

fn check_name(what: &str, value: &JsValue) -> Result<String, String> {
    let text = value
        .as_string()
        .ok_or_else(|| format!("{what} must be a string"))?;
    if text.is_empty() || text.len() > MAX_NAME {
        return Err(format!("{what} must be 1 to {MAX_NAME} characters"));
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
    let kind = check_name("kind", &kind).map_err(|e| js_sys::Error::new(&e))?;
    let stream = check_name("stream", &stream).map_err(|e| js_sys::Error::new(&e))?;
    let payload: serde_json::Value = serde_wasm_bindgen::from_value(payload)
        .map_err(|e| js_sys::Error::new(&format!("payload is not plain data: {e}")))?;
    let id = identity::new_command_id();
    let record = StoredCommand {
        command: Command {
            id: id.clone(),
            client_id: identity::client_id(),
            seq: next_seq(),
            stream,
            kind,
            app,
            payload,
            created_at: now_ms(),
        },
        status: CommandStatus::Pending,
        attempts: 0,
        last_error: None,
        region: None,
        enqueued_at: now_ms(),
        delivered_at: None,
    };
    outbox_store::put_all(std::slice::from_ref(&record))
        .await
        .map_err(|e| js_sys::Error::new(&format!("could not save on this device: {e}")))?;
    leptos::prelude::Set::set(&state.announcement, "Saved on this device".to_string());
    wasm_bindgen_futures::spawn_local(async move {
        delivery::drain(state).await;
    });
    Ok(JsValue::from_str(&id))
}

async fn query(state: ShellState, path: JsValue) -> Result<JsValue, JsValue> {
    let path = path
        .as_string()
        .filter(|p| p.starts_with("/q/") && !p.contains(".."))
        .ok_or_else(|| js_sys::Error::new("query path must start with /q/"))?;
    let candidates = regions::candidates(&leptos::prelude::GetUntracked::get_untracked(
        &state.regions,
    ));
    let mut last_error = String::from("no region is configured");
    for region in candidates {
        let request = Request::get(&format!("{}{path}", region.url));
        match send_with_timeout(request, None, QUERY_TIMEOUT).await {
            Ok(response) if response.ok() => {
                regions::record_request(state, &region.name, true);
                let answer: QueryAnswer = response
                    .json()
                    .await
                    .map_err(|e| js_sys::Error::new(&format!("malformed answer: {e}")))?;
                return answer
                    .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
                    .map_err(|e| js_sys::Error::new(&e.to_string()).into());
            }
            Ok(response) => last_error = format!("{}: HTTP {}", region.name, response.status()),
            Err(e) => {
                regions::record_request(state, &region.name, false);
                last_error = format!("{}: {e}", region.name);
            }
        }
    }
    Err(js_sys::Error::new(&format!("no region answered ({last_error})")).into())
}

use serde::Serialize;

fn set(object: &js_sys::Object, name: &str, value: &JsValue) {
    let _ = js_sys::Reflect::set(object, &JsValue::from_str(name), value);
}

/// Builds the host object for one mounted app instance.
pub fn create(state: ShellState, app: &str, navigate: Rc<dyn Fn(&str)>) -> HostHandle {
    let object = js_sys::Object::new();
    let mut closures: Vec<Box<dyn std::any::Any>> = Vec::new();

    let app_name = app.to_string();
    let dispatch_fn = Closure::<dyn Fn(JsValue, JsValue, JsValue) -> js_sys::Promise>::new(
        move |kind, stream, payload| {
            future_to_promise(dispatch(state, app_name.clone(), kind, stream, payload))
        },
    );
    set(&object, "dispatch", dispatch_fn.as_ref());
    closures.push(Box::new(dispatch_fn));

    let query_fn = Closure::<dyn Fn(JsValue) -> js_sys::Promise>::new(move |path| {
        future_to_promise(query(state, path))
    });
    set(&object, "query", query_fn.as_ref());
    closures.push(Box::new(query_fn));

    let navigate_fn = Closure::<dyn Fn(JsValue)>::new(move |path: JsValue| {
        if let Some(path) = path.as_string().filter(|p| p.starts_with('/')) {
            navigate(&path);
        }
    });
    set(&object, "navigate", navigate_fn.as_ref());
    closures.push(Box::new(navigate_fn));

    set(&object, "apiVersion", &JsValue::from(HOST_API_VERSION));
    HostHandle {
        object,
        _closures: closures,
    }
}
