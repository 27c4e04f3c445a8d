//! The mock host keeps the host API's contract, checked through the SDK's typed [`Host`]
//! wrapper (so this is also the contract test of the wrapper): commands resolve with an id once
//! recorded and report every status change, bad input is refused with the shell's messages,
//! queries answer as scripted (stale from the cache when offline), events arrive
//! asynchronously and stop after unsubscribe or unmount.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use mfe_sdk::testing::{next_tick, wait_until, MockHost, PropsOptions};
use mfe_sdk::{
    CommandStatus, CommandUpdate, Host, HostError, MicroApp, Props, Topic, HOST_API_VERSION,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SECOND: Duration = Duration::from_secs(1);

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Added {
    title: String,
}

const ADDED: Topic<Added> = Topic::new("tasks.added");

fn get(object: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(object, &JsValue::from_str(name)).unwrap()
}

/// Collects what a callback receives.
fn recorder<T: 'static>() -> (Rc<RefCell<Vec<T>>>, impl Fn(T) + 'static) {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let sink = seen.clone();
    (seen, move |value| sink.borrow_mut().push(value))
}

fn div() -> web_sys::HtmlElement {
    web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .create_element("div")
        .unwrap()
        .unchecked_into()
}

#[wasm_bindgen_test]
fn host_object_has_the_shells_shape() {
    let host = MockHost::new().host();
    let keys: Vec<String> = js_sys::Object::keys(host.as_js().unchecked_ref::<js_sys::Object>())
        .iter()
        .map(|k| k.as_string().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "dispatch",
            "commandStatus",
            "onCommandStatus",
            "query",
            "regions",
            "navigate",
            "publish",
            "subscribe",
            "apiVersion"
        ]
    );
    assert_eq!(
        get(host.as_js(), "apiVersion").as_f64(),
        Some(HOST_API_VERSION as f64)
    );
    assert!(get(host.as_js(), "regions")
        .unchecked_into::<js_sys::Function>()
        .call0(host.as_js())
        .unwrap()
        .is_null());
}

#[wasm_bindgen_test]
async fn dispatch_resolves_with_an_id_and_records_the_command() {
    let mock = MockHost::new();
    let host = mock.host();
    let id = host
        .dispatch("task.add", "tasks", &json!({ "title": "milk" }))
        .await
        .unwrap();
    // A UUID v7, like the shell's ids.
    assert_eq!(id.len(), 36);
    assert_eq!(&id[14..15], "7");
    assert_eq!(host.command_status(&id), Some(CommandStatus::Pending));
    assert_eq!(host.command_status("no-such-id"), None);

    let commands = mock.dispatched();
    assert_eq!(commands.len(), 1);
    let command = &commands[0];
    assert_eq!(
        (
            command.id.as_str(),
            command.kind.as_str(),
            command.stream.as_str()
        ),
        (id.as_str(), "task.add", "tasks")
    );
    assert_eq!(command.payload, json!({ "title": "milk" }));
    assert_eq!(command.status, CommandStatus::Pending);
    assert_eq!(command.attempts, 0);
    assert!(command.at > 0);

    let second = host
        .dispatch("task.add", "tasks", &json!({}))
        .await
        .unwrap();
    assert_ne!(second, id);
    assert_eq!(mock.log()[0].kind, "dispatch");
}

#[wasm_bindgen_test]
async fn invalid_commands_are_refused_with_the_shells_messages() {
    let mock = MockHost::new();
    let host = mock.host();
    let message = |result: Result<String, HostError>| result.unwrap_err().message;

    assert_eq!(
        message(host.dispatch("", "tasks", &1).await),
        "kind must be 1 to 100 characters"
    );
    assert_eq!(
        message(host.dispatch("task.add", &"s".repeat(101), &1).await),
        "stream must be 1 to 100 characters"
    );
    let mut deep = json!(0);
    for _ in 0..33 {
        deep = json!([deep]);
    }
    assert_eq!(
        message(host.dispatch("task.add", "tasks", &deep).await),
        "payload is nested deeper than 32 levels"
    );
    let big = "x".repeat(61 * 1024);
    assert!(message(host.dispatch("task.add", "tasks", &big).await)
        .ends_with("bytes; the limit is 61440"));

    // What the typed wrapper cannot send, a JavaScript app can: a function is not data.
    let dispatch: js_sys::Function = get(host.as_js(), "dispatch").unchecked_into();
    let promise: js_sys::Promise = dispatch
        .call3(host.as_js(), &"task.add".into(), &"tasks".into(), &dispatch)
        .unwrap()
        .unchecked_into();
    let error = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .unwrap_err();
    assert!(HostError::from_js(error)
        .message
        .starts_with("payload is not plain data"));

    // At the limit is fine: 32 levels.
    let mut ok = json!(0);
    for _ in 0..32 {
        ok = json!([ok]);
    }
    host.dispatch("task.add", "tasks", &ok).await.unwrap();
    assert_eq!(
        mock.dispatched().len(),
        1,
        "refused commands are not recorded"
    );
}

#[wasm_bindgen_test]
async fn status_updates_follow_delivery_and_failure() {
    let mock = MockHost::new();
    let host = mock.host();
    let (seen, record) = recorder::<CommandUpdate>();
    let subscription = host.on_command_status(record).unwrap();

    let first = host.dispatch("task.add", "tasks", &1).await.unwrap();
    let second = host.dispatch("task.add", "tasks", &2).await.unwrap();
    mock.fail_next("HTTP 422: title is required");
    mock.deliver_all();

    let steps: Vec<(String, CommandStatus)> = seen
        .borrow()
        .iter()
        .map(|u| (u.id.clone(), u.status))
        .collect();
    assert_eq!(
        steps,
        [
            (first.clone(), CommandStatus::Pending),
            (second.clone(), CommandStatus::Pending),
            (first.clone(), CommandStatus::Inflight),
            (first.clone(), CommandStatus::Dead),
            (second.clone(), CommandStatus::Inflight),
            (second.clone(), CommandStatus::Delivered),
        ]
    );
    let last = seen.borrow().last().cloned().unwrap();
    assert_eq!(last.attempts, 1);
    assert_eq!(last.region.as_deref(), Some("mock-region"));
    assert_eq!(last.last_error, None);
    let dead = seen.borrow()[3].clone();
    assert_eq!(
        dead.last_error.as_deref(),
        Some("HTTP 422: title is required")
    );
    assert_eq!(host.command_status(&first), Some(CommandStatus::Dead));
    assert_eq!(host.command_status(&second), Some(CommandStatus::Delivered));
    assert_eq!(
        mock.dispatched()[0].last_error.as_deref(),
        Some("HTTP 422: title is required")
    );

    // Offline nothing is sent; back online it is.
    mock.set_offline(true);
    let third = host.dispatch("task.add", "tasks", &3).await.unwrap();
    mock.deliver_all();
    assert_eq!(host.command_status(&third), Some(CommandStatus::Pending));
    mock.set_offline(false);
    mock.deliver_all();
    assert_eq!(host.command_status(&third), Some(CommandStatus::Delivered));

    // Dropping the subscription unsubscribes.
    drop(subscription);
    let count = seen.borrow().len();
    host.dispatch("task.add", "tasks", &4).await.unwrap();
    mock.deliver_all();
    assert_eq!(seen.borrow().len(), count);
}

#[wasm_bindgen_test]
async fn automatic_delivery_after_a_delay() {
    let mock = MockHost::builder()
        .region("eu-west")
        .deliver_after(Duration::from_millis(10))
        .build();
    let host = mock.host();
    let id = host.dispatch("task.add", "tasks", &1).await.unwrap();
    assert_eq!(host.command_status(&id), Some(CommandStatus::Pending));
    wait_until(
        || host.command_status(&id) == Some(CommandStatus::Delivered),
        SECOND,
    )
    .await
    .unwrap();
    assert_eq!(mock.dispatched()[0].region.as_deref(), Some("eu-west"));
}

#[wasm_bindgen_test]
async fn queries_answer_as_scripted_and_from_the_cache_when_offline() {
    let mock = MockHost::builder()
        .region("eu-west")
        .answer("/q/stream/tasks", &json!([{ "title": "milk" }]))
        .build();
    let host = mock.host();

    let answer = host.query::<Vec<Added>>("/q/stream/tasks").await.unwrap();
    assert_eq!(
        answer.data,
        [Added {
            title: "milk".into()
        }]
    );
    assert_eq!(answer.region, "eu-west");
    assert!(!answer.stale);
    assert!(answer.as_of > 0);

    let unknown = host
        .query::<serde_json::Value>("/q/other")
        .await
        .unwrap_err();
    assert_eq!(unknown.message, "no scripted answer for /q/other");
    let bad = host.query::<serde_json::Value>("/tasks").await.unwrap_err();
    assert_eq!(bad.message, "query path must start with /q/");

    mock.set_offline(true);
    mock.answer("/q/stream/tasks", &json!([]));
    let cached = host.query::<Vec<Added>>("/q/stream/tasks").await.unwrap();
    assert!(cached.stale);
    assert_eq!(
        cached.data, answer.data,
        "offline answers come from the cache"
    );
    assert_eq!(cached.as_of, answer.as_of);
    let nothing = host
        .query::<serde_json::Value>("/q/never")
        .await
        .unwrap_err();
    assert!(nothing.message.contains("nothing is cached"));

    mock.set_offline(false);
    let fresh = host.query::<Vec<Added>>("/q/stream/tasks").await.unwrap();
    assert!(fresh.data.is_empty() && !fresh.stale);

    let paths: Vec<(String, bool, bool)> = mock
        .queries()
        .into_iter()
        .map(|q| (q.path, q.stale, q.error.is_some()))
        .collect();
    assert_eq!(paths.len(), 6);
    assert_eq!(paths[0], ("/q/stream/tasks".into(), false, false));
    assert_eq!(paths[3], ("/q/stream/tasks".into(), true, false));
    assert_eq!(paths[4], ("/q/never".into(), false, true));
}

#[wasm_bindgen_test]
async fn events_arrive_asynchronously_until_unsubscribed() {
    let mock = MockHost::new();
    let host = mock.host();
    let (seen, record) = recorder::<Added>();
    let subscription = host.subscribe(&ADDED, record).unwrap();

    let milk = Added {
        title: "milk".into(),
    };
    host.publish(&ADDED, &milk).unwrap();
    assert!(seen.borrow().is_empty(), "delivered in a later task");
    next_tick().await;
    assert_eq!(seen.borrow().as_slice(), std::slice::from_ref(&milk));
    assert_eq!(mock.published().len(), 1);
    assert_eq!(mock.published()[0].topic, "tasks.added");
    assert_eq!(mock.published()[0].payload, json!({ "title": "milk" }));

    // Another app's event reaches the subscriber, and is not listed as the app's own.
    let eggs = Added {
        title: "eggs".into(),
    };
    mock.emit(&ADDED, &eggs);
    next_tick().await;
    assert_eq!(seen.borrow().len(), 2);
    assert_eq!(mock.published().len(), 1);

    let bad: Topic<Added> = Topic::new("has space");
    let refused = host.publish(&bad, &eggs).unwrap_err();
    assert_eq!(
        refused.message,
        "topic must be 1 to 100 printable characters without spaces"
    );

    drop(subscription);
    assert_eq!(mock.live_subscriptions(), 0);
    host.publish(&ADDED, &eggs).unwrap();
    next_tick().await;
    assert_eq!(seen.borrow().len(), 2, "nothing after unsubscribe");
}

#[wasm_bindgen_test]
fn navigation_is_recorded_and_relative_paths_ignored() {
    let mock = MockHost::new();
    let host = mock.host();
    host.navigate("/tasks/42").unwrap();
    host.navigate("elsewhere").unwrap();
    assert_eq!(mock.navigations(), ["/tasks/42"]);
}

#[wasm_bindgen_test]
fn props_read_like_the_shells() {
    let mock = MockHost::new();
    let element = div();
    let props = Props::from_js(&mock.props(&element)).unwrap();
    assert_eq!(
        (
            props.name.as_str(),
            props.base_path.as_str(),
            props.slot.as_str()
        ),
        ("mock-app", "/", "main")
    );
    assert!(props.params.is_empty());
    assert_eq!(props.host.as_js(), mock.host().as_js());

    let options = PropsOptions {
        name: "tasks".into(),
        version: "1.2.3".into(),
        base_path: "/tasks".into(),
        params: [("id".to_string(), "42".to_string())].into(),
        slot: "sidebar".into(),
    };
    let props = Props::from_js(&mock.props_with(&element, &options)).unwrap();
    assert_eq!(props.version, "1.2.3");
    assert_eq!(props.params.get("id").map(String::as_str), Some("42"));
    assert_eq!(props.slot, "sidebar");
}

/// A minimal app: shows a counter of events it received; holds subscriptions while mounted.
struct Counter {
    element: web_sys::HtmlElement,
    _events: mfe_sdk::Subscription,
    _status: mfe_sdk::Subscription,
}

impl MicroApp for Counter {
    fn mount(props: Props) -> Result<Self, HostError> {
        let element = props.element.clone();
        element.set_inner_html("<p data-testid=count>0</p>");
        let target = element.clone();
        let count = Rc::new(RefCell::new(0));
        let events = props.host.subscribe(&ADDED, move |_: Added| {
            *count.borrow_mut() += 1;
            let p = target
                .query_selector("[data-testid=count]")
                .unwrap()
                .unwrap();
            p.set_text_content(Some(&count.borrow().to_string()));
        })?;
        let status = props.host.on_command_status(|_| {})?;
        Ok(Self {
            element,
            _events: events,
            _status: status,
        })
    }

    fn unmount(self) {
        self.element.set_inner_html("");
    }
}

#[wasm_bindgen_test]
async fn mounted_apps_unmount_on_drop_and_leave_no_subscriptions() {
    let mock = MockHost::new();
    let app = mock.mount::<Counter>().unwrap();
    assert!(app.element().is_connected());
    assert_eq!(mock.live_subscriptions(), 2);
    mock.emit(
        &ADDED,
        &Added {
            title: "milk".into(),
        },
    );
    wait_until(
        || app.text("[data-testid=count]").as_deref() == Some("1"),
        SECOND,
    )
    .await
    .unwrap();

    let element = app.element().clone();
    drop(app);
    assert!(!element.is_connected());
    assert_eq!(element.inner_html(), "");
    assert_eq!(mock.live_subscriptions(), 0);
}

#[wasm_bindgen_test]
async fn wait_until_gives_up_in_time() {
    let started = js_sys::Date::now();
    let result = wait_until(|| false, Duration::from_millis(50)).await;
    assert_eq!(
        result.unwrap_err().to_string(),
        "condition not met within 50 ms"
    );
    assert!(js_sys::Date::now() - started < 1000.0);
}

/// `Host` is what apps hold; it must stay cheap to clone and point at the same object.
#[wasm_bindgen_test]
fn host_handles_share_the_mock() {
    let mock = MockHost::new();
    let a: Host = mock.host();
    let b = a.clone();
    assert_eq!(a.as_js(), b.as_js());
}
