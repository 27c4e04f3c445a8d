//! Test kit: run a micro app against a mock host, without the shell (feature `testing`).
//!
//! [`MockHost`] wraps `js/mock-host.js`, the same mock plain-JavaScript apps import, so Rust and
//! JavaScript apps are tested against one definition of the host API. Its `host` object has the
//! shape of the shell's and refuses what the shell refuses, with the same messages; the test
//! drives the rest of the world: deliver or fail commands, go offline, script query answers,
//! publish as another app.
//!
//! Enable it for tests only, so the mock never ships in the app:
//!
//! ```toml
//! [dev-dependencies]
//! mfe-sdk = { workspace = true, features = ["testing"] }
//! wasm-bindgen-test.workspace = true
//! ```
//!
//! Everything here is meant for tests: the control methods panic, with a message saying why,
//! when given something the mock cannot take (e.g. data serde cannot serialise).

use std::any::TypeId;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::time::Duration;

use mfe_contract::CommandStatus;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::{Host, HostError, MicroApp, Props, Topic};

#[wasm_bindgen(module = "/js/mock-host.js")]
extern "C" {
    #[wasm_bindgen(js_name = MockHost)]
    #[derive(Clone)]
    type JsMockHost;

    #[wasm_bindgen(constructor, js_class = MockHost)]
    fn new(options: &JsValue) -> JsMockHost;
    #[wasm_bindgen(method, getter)]
    fn host(this: &JsMockHost) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn commands(this: &JsMockHost) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn events(this: &JsMockHost) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn queries(this: &JsMockHost) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn navigations(this: &JsMockHost) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn log(this: &JsMockHost) -> JsValue;
    #[wasm_bindgen(method, getter, js_name = liveSubscriptions)]
    fn live_subscriptions(this: &JsMockHost) -> u32;
    #[wasm_bindgen(method)]
    fn answer(this: &JsMockHost, path: &str, data: &JsValue);
    #[wasm_bindgen(method, js_name = deliverAll)]
    fn deliver_all(this: &JsMockHost);
    #[wasm_bindgen(method, js_name = failNext)]
    fn fail_next(this: &JsMockHost, reason: &str);
    #[wasm_bindgen(method, js_name = setOffline)]
    fn set_offline(this: &JsMockHost, offline: bool);
    #[wasm_bindgen(method, js_name = setRegions)]
    fn set_regions(this: &JsMockHost, snapshot: &JsValue);
    #[wasm_bindgen(method, catch)]
    fn emit(this: &JsMockHost, topic: &str, payload: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(method, js_name = endMount)]
    fn end_mount(this: &JsMockHost);
    #[wasm_bindgen(method)]
    fn props(this: &JsMockHost, element: &web_sys::HtmlElement, options: &JsValue) -> JsValue;
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &js_sys::Function, ms: i32) -> JsValue;
}

/// Serialises like the SDK does for the host (maps become plain objects).
fn to_js<T: Serialize + ?Sized>(what: &str, value: &T) -> JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or_else(|e| panic!("mock host: {what} cannot be serialised: {e}"))
}

fn from_js<T: DeserializeOwned>(what: &str, value: JsValue) -> T {
    serde_wasm_bindgen::from_value(value)
        .unwrap_or_else(|e| panic!("mock host: {what} do not have the expected shape: {e}"))
}

fn set(object: &js_sys::Object, name: &str, value: &JsValue) {
    let _ = js_sys::Reflect::set(object, &JsValue::from_str(name), value);
}

/// A command the app dispatched, and where its (simulated) delivery stands.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DispatchedCommand {
    pub id: String,
    pub kind: String,
    pub stream: String,
    pub payload: serde_json::Value,
    pub status: CommandStatus,
    /// Delivery attempts so far.
    pub attempts: u32,
    pub last_error: Option<String>,
    /// The mock's region, once an attempt was made.
    pub region: Option<String>,
    /// When it was dispatched, ms since the Unix epoch.
    pub at: i64,
}

/// An event the app published (events sent with [`MockHost::emit`] are not listed).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PublishedEvent {
    pub topic: String,
    pub payload: serde_json::Value,
    pub at: i64,
}

/// A `query` the app made: `error` is the rejection message, `None` when it was answered.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RecordedQuery {
    pub path: String,
    pub stale: bool,
    pub error: Option<String>,
    pub at: i64,
}

/// One line of the mock's log: everything the app and the test did, in order.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LogEntry {
    pub at: i64,
    /// `dispatch`, `status`, `query`, `publish`, `emit`, `rejected`, `navigate`, …
    #[serde(rename = "type")]
    pub kind: String,
    pub detail: serde_json::Value,
}

/// The lifecycle props other than `element` and `host` (the defaults suit most tests).
#[derive(Debug, Clone, PartialEq)]
pub struct PropsOptions {
    pub name: String,
    pub version: String,
    pub base_path: String,
    pub params: BTreeMap<String, String>,
    pub slot: String,
}

impl Default for PropsOptions {
    fn default() -> Self {
        Self {
            name: "mock-app".into(),
            version: "0.0.0".into(),
            base_path: "/".into(),
            params: BTreeMap::new(),
            slot: "main".into(),
        }
    }
}

impl PropsOptions {
    fn to_js(&self) -> JsValue {
        let object = js_sys::Object::new();
        set(&object, "name", &JsValue::from_str(&self.name));
        set(&object, "version", &JsValue::from_str(&self.version));
        set(&object, "basePath", &JsValue::from_str(&self.base_path));
        set(&object, "params", &to_js("params", &self.params));
        set(&object, "slot", &JsValue::from_str(&self.slot));
        object.into()
    }
}

/// Options of a [`MockHost`], from [`MockHost::builder`].
#[derive(Default)]
pub struct MockHostBuilder {
    region: Option<String>,
    deliver_after: Option<Duration>,
    answers: Vec<(String, JsValue)>,
    regions: Option<JsValue>,
}

impl MockHostBuilder {
    /// Name of the region that acknowledges commands and answers queries (`mock-region`).
    pub fn region(mut self, name: &str) -> Self {
        self.region = Some(name.into());
        self
    }

    /// Delivers pending commands on its own after `delay`, instead of waiting for
    /// [`MockHost::deliver_all`].
    pub fn deliver_after(mut self, delay: Duration) -> Self {
        self.deliver_after = Some(delay);
        self
    }

    /// Scripts the answer to `query(path)`.
    pub fn answer<T: Serialize + ?Sized>(mut self, path: &str, data: &T) -> Self {
        self.answers.push((path.into(), to_js("answer", data)));
        self
    }

    /// What `host.regions()` returns (the shell's router snapshot); `null` otherwise.
    pub fn regions<T: Serialize + ?Sized>(mut self, snapshot: &T) -> Self {
        self.regions = Some(to_js("regions", snapshot));
        self
    }

    pub fn build(self) -> MockHost {
        let options = js_sys::Object::new();
        if let Some(region) = &self.region {
            set(&options, "region", &JsValue::from_str(region));
        }
        if let Some(delay) = self.deliver_after {
            set(
                &options,
                "deliverAfterMs",
                &JsValue::from_f64(delay.as_millis() as f64),
            );
        }
        if let Some(regions) = &self.regions {
            set(&options, "regions", regions);
        }
        let answers = js_sys::Object::new();
        for (path, data) in &self.answers {
            set(&answers, path, data);
        }
        set(&options, "answers", &answers);
        MockHost {
            js: JsMockHost::new(&options),
        }
    }
}

/// A mock of the shell's host API, with the controls and records a test needs. Cloning gives
/// another handle to the same mock.
#[derive(Clone)]
pub struct MockHost {
    js: JsMockHost,
}

impl Default for MockHost {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MockHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockHost").finish_non_exhaustive()
    }
}

impl MockHost {
    /// A mock with no scripted answers whose commands stay pending until
    /// [`deliver_all`](Self::deliver_all).
    pub fn new() -> Self {
        Self::builder().build()
    }

    pub fn builder() -> MockHostBuilder {
        MockHostBuilder::default()
    }

    /// The JavaScript `MockHost`, for what this wrapper does not cover.
    pub fn as_js(&self) -> &JsValue {
        self.js.as_ref()
    }

    /// The host API, as an app receives it in its props.
    pub fn host(&self) -> Host {
        Host::from_js(self.js.host()).expect("the mock's host is an object")
    }

    /// The props object the shell passes to the lifecycles, rendering into `element`.
    pub fn props(&self, element: &web_sys::HtmlElement) -> JsValue {
        self.props_with(element, &PropsOptions::default())
    }

    pub fn props_with(&self, element: &web_sys::HtmlElement, options: &PropsOptions) -> JsValue {
        self.js.props(element, &options.to_js())
    }

    /// Mounts `A` into a new element attached to the document (so events and focus work as on
    /// a page), with default props. Dropping the guard unmounts it.
    pub fn mount<A: MicroApp>(&self) -> Result<Mounted<A>, HostError> {
        self.mount_with(&PropsOptions::default())
    }

    /// Like [`mount`](Self::mount), with the given props. Calls `A::bootstrap` first, once per
    /// app type, as the shell does once per loaded module.
    pub fn mount_with<A: MicroApp>(&self, options: &PropsOptions) -> Result<Mounted<A>, HostError> {
        let document = web_sys::window()
            .and_then(|w| w.document())
            .ok_or_else(|| HostError::new("no document to mount into"))?;
        let element: web_sys::HtmlElement = document
            .create_element("div")
            .map_err(HostError::from_js)?
            .unchecked_into();
        let _ = element.set_attribute("data-mock-host-mount", &options.name);
        document
            .body()
            .ok_or_else(|| HostError::new("the document has no body"))?
            .append_child(&element)
            .map_err(HostError::from_js)?;
        // Read exactly as the exported lifecycles read them, so a props mistake shows here too.
        let mounted = Props::from_js(&self.props_with(&element, options)).and_then(|props| {
            if BOOTSTRAPPED.with(|b| b.borrow_mut().insert(TypeId::of::<A>())) {
                A::bootstrap(&props)?;
            }
            A::mount(props)
        });
        match mounted {
            Ok(app) => Ok(Mounted {
                app: Some(app),
                element,
                mock: self.clone(),
            }),
            Err(e) => {
                element.remove();
                Err(e)
            }
        }
    }

    /// The commands the app dispatched, oldest first.
    pub fn dispatched(&self) -> Vec<DispatchedCommand> {
        from_js("commands", self.js.commands())
    }

    /// The events the app published, oldest first.
    pub fn published(&self) -> Vec<PublishedEvent> {
        from_js("events", self.js.events())
    }

    /// The queries the app made, oldest first.
    pub fn queries(&self) -> Vec<RecordedQuery> {
        from_js("queries", self.js.queries())
    }

    /// Paths the app navigated to (the ones the shell would follow).
    pub fn navigations(&self) -> Vec<String> {
        from_js("navigations", self.js.navigations())
    }

    /// Everything that happened, in order.
    pub fn log(&self) -> Vec<LogEntry> {
        from_js("log entries", self.js.log())
    }

    /// The app's live `subscribe` and `onCommandStatus` registrations.
    pub fn live_subscriptions(&self) -> u32 {
        self.js.live_subscriptions()
    }

    /// Scripts (or replaces) the answer to `query(path)`.
    pub fn answer<T: Serialize + ?Sized>(&self, path: &str, data: &T) {
        self.js.answer(path, &to_js("answer", data));
    }

    /// Delivers every pending command (inflight, then delivered; the app's `onCommandStatus`
    /// callbacks run before this returns). Does nothing while offline.
    pub fn deliver_all(&self) {
        self.js.deliver_all();
    }

    /// The next delivery attempt (of the oldest pending command) fails for good: the command
    /// goes dead with `reason` as its `last_error`.
    pub fn fail_next(&self, reason: &str) {
        self.js.fail_next(reason);
    }

    /// Offline, commands stay pending and queries answer from the cache, marked stale.
    pub fn set_offline(&self, offline: bool) {
        self.js.set_offline(offline);
    }

    /// What `host.regions()` returns from now on.
    pub fn set_regions<T: Serialize + ?Sized>(&self, snapshot: &T) {
        self.js.set_regions(&to_js("regions", snapshot));
    }

    /// Publishes `payload` on `topic` as another app would. Panics if the shell would refuse
    /// it (bad topic name, payload too large).
    pub fn emit<T: Serialize>(&self, topic: &Topic<T>, payload: &T) {
        if let Err(e) = self.js.emit(topic.name(), &to_js("event", payload)) {
            panic!("mock host refused the event: {}", HostError::from_js(e));
        }
    }

    /// Ends the app's subscriptions, as the shell does after `unmount`.
    pub fn end_mount(&self) {
        self.js.end_mount();
    }
}

thread_local! {
    static BOOTSTRAPPED: RefCell<HashSet<TypeId>> = RefCell::new(HashSet::new());
}

/// An app mounted by [`MockHost::mount`]. Dropping it unmounts the app, removes its element and
/// ends its subscriptions, as the shell does.
pub struct Mounted<A: MicroApp> {
    app: Option<A>,
    element: web_sys::HtmlElement,
    mock: MockHost,
}

impl<A: MicroApp> Mounted<A> {
    /// The element the app renders into.
    pub fn element(&self) -> &web_sys::HtmlElement {
        &self.element
    }

    /// The mounted app value.
    pub fn app(&self) -> &A {
        self.app.as_ref().expect("mounted until dropped")
    }

    /// The first element inside the app matching `selector`.
    pub fn find(&self, selector: &str) -> Option<web_sys::HtmlElement> {
        self.element
            .query_selector(selector)
            .unwrap_or_else(|_| panic!("invalid selector {selector}"))
            .and_then(|e| e.dyn_into().ok())
    }

    /// Every element inside the app matching `selector`, in document order.
    pub fn find_all(&self, selector: &str) -> Vec<web_sys::HtmlElement> {
        let list = self
            .element
            .query_selector_all(selector)
            .unwrap_or_else(|_| panic!("invalid selector {selector}"));
        (0..list.length())
            .filter_map(|i| list.item(i))
            .filter_map(|n| n.dyn_into().ok())
            .collect()
    }

    fn expect(&self, selector: &str) -> web_sys::HtmlElement {
        self.find(selector)
            .unwrap_or_else(|| panic!("nothing in the app matches {selector}"))
    }

    /// The text of the first element matching `selector`, if any.
    pub fn text(&self, selector: &str) -> Option<String> {
        self.find(selector).and_then(|e| e.text_content())
    }

    /// Types `text` into the input matching `selector`: sets its value and fires `input`, as a
    /// user's keystrokes do.
    pub fn type_into(&self, selector: &str, text: &str) {
        let input: web_sys::HtmlInputElement = self
            .expect(selector)
            .dyn_into()
            .unwrap_or_else(|_| panic!("{selector} is not an input"));
        input.set_value(text);
        let init = web_sys::EventInit::new();
        init.set_bubbles(true);
        let event = web_sys::Event::new_with_event_init_dict("input", &init)
            .expect("an input event can be created");
        let _ = input.dispatch_event(&event);
    }

    /// Submits the form matching `selector` as its submit button would (`requestSubmit`).
    pub fn submit(&self, selector: &str) {
        let form: web_sys::HtmlFormElement = self
            .expect(selector)
            .dyn_into()
            .unwrap_or_else(|_| panic!("{selector} is not a form"));
        form.request_submit()
            .unwrap_or_else(|e| panic!("{selector} cannot be submitted: {e:?}"));
    }

    /// Clicks the element matching `selector`.
    pub fn click(&self, selector: &str) {
        self.expect(selector).click();
    }
}

impl<A: MicroApp> Drop for Mounted<A> {
    fn drop(&mut self) {
        if let Some(app) = self.app.take() {
            app.unmount();
        }
        self.element.remove();
        self.mock.end_mount();
    }
}

/// Waits `duration` (a timer, so other tasks, microtasks and rendering run meanwhile).
pub async fn sleep(duration: Duration) {
    let ms = i32::try_from(duration.as_millis()).unwrap_or(i32::MAX);
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        set_timeout(&resolve, ms);
    });
    let _ = JsFuture::from(promise).await;
}

/// Lets everything already scheduled run: spawned futures, promise callbacks, event delivery
/// and reactive effects.
pub async fn next_tick() {
    sleep(Duration::ZERO).await;
}

/// [`wait_until`] gave up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedOut {
    pub after: Duration,
}

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "condition not met within {} ms", self.after.as_millis())
    }
}

impl std::error::Error for TimedOut {}

/// Checks `condition` after every tick until it holds, or fails after `timeout`: tests wait
/// for what the app does asynchronously without a fixed sleep and without hanging.
pub async fn wait_until(
    mut condition: impl FnMut() -> bool,
    timeout: Duration,
) -> Result<(), TimedOut> {
    let deadline = js_sys::Date::now() + timeout.as_millis() as f64;
    loop {
        if condition() {
            return Ok(());
        }
        if js_sys::Date::now() >= deadline {
            return Err(TimedOut { after: timeout });
        }
        sleep(Duration::from_millis(5)).await;
    }
}
