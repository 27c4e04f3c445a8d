//! The host's event API in a real browser: a payload published by one app instance reaches
//! another as a copy, `unsubscribe` and unmount (`end_mount`) both stop delivery.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;

use mfe_shell::host_api;
use mfe_shell::runtime::events;
use mfe_shell::state::ShellState;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn function(host: &JsValue, name: &str) -> js_sys::Function {
    js_sys::Reflect::get(host, &JsValue::from_str(name))
        .unwrap()
        .unchecked_into()
}

async fn settle() {
    gloo_timers::future::sleep(std::time::Duration::from_millis(20)).await;
}

#[wasm_bindgen_test]
async fn events_go_through_the_host_and_end_on_unmount() {
    let state = ShellState::default();
    let publisher = host_api::create(state, "tasks", Rc::new(|_: &str| {}));
    let subscriber = host_api::create(state, "catalog", Rc::new(|_: &str| {}));
    let seen = Rc::new(RefCell::new(Vec::<String>::new()));
    let sink = seen.clone();
    let callback = Closure::<dyn Fn(JsValue)>::new(move |payload: JsValue| {
        let title = js_sys::Reflect::get(&payload, &"title".into()).unwrap();
        sink.borrow_mut().push(title.as_string().unwrap());
    });
    let unsubscribe: js_sys::Function = function(subscriber.object.as_ref(), "subscribe")
        .call2(&subscriber.object, &"tasks.added".into(), callback.as_ref())
        .unwrap()
        .unchecked_into();

    let payload = js_sys::Object::new();
    js_sys::Reflect::set(&payload, &"title".into(), &"milk".into()).unwrap();
    let publish = function(publisher.object.as_ref(), "publish");
    publish
        .call2(&publisher.object, &"tasks.added".into(), &payload)
        .unwrap();
    settle().await;
    assert_eq!(*seen.borrow(), ["milk"]);

    // Functions are not plain data: refused with a reason, nothing delivered.
    let err = publish
        .call2(&publisher.object, &"tasks.added".into(), callback.as_ref())
        .unwrap_err();
    assert!(mfe_shell::loader::describe(&err).contains("plain data"));

    unsubscribe.call0(&JsValue::UNDEFINED).unwrap();
    publish
        .call2(&publisher.object, &"tasks.added".into(), &payload)
        .unwrap();
    settle().await;
    assert_eq!(seen.borrow().len(), 1);

    // Unmount ends whatever the app still had.
    function(subscriber.object.as_ref(), "subscribe")
        .call2(&subscriber.object, &"tasks.added".into(), callback.as_ref())
        .unwrap();
    assert_eq!(events::count(), 1);
    subscriber.end_mount();
    assert_eq!(events::count(), 0);
}
