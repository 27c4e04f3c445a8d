//! Typed wrapper over the JavaScript host object the shell hands to apps.
//!
//! The host is a plain object of functions, so apps written in JavaScript use the very same API;
//! this wrapper only adds types and readable errors.

use mfe_contract::CommandStatus;
use serde::de::{value::StringDeserializer, DeserializeOwned, IntoDeserializer};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::{codec, HostError, Topic};

/// Answer of [`Host::query`]: the data plus where and when it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult<T> {
    pub data: T,
    /// When the region produced it, ms since the Unix epoch.
    pub as_of: i64,
    pub region: String,
    /// True when no region answered and this is the last cached copy.
    pub stale: bool,
}

/// A status change of one of the app's commands.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandUpdate {
    pub id: String,
    pub status: CommandStatus,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// Region that acknowledged it, once delivered.
    pub region: Option<String>,
}

/// A live `onCommandStatus` or `subscribe` registration; dropping it unsubscribes.
pub struct Subscription {
    unsubscribe: Option<js_sys::Function>,
    _closure: Closure<dyn Fn(JsValue)>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(unsubscribe) = self.unsubscribe.take() {
            let _ = unsubscribe.call0(&JsValue::UNDEFINED);
        }
    }
}

/// Handle to the shell's host API (version [`crate::HOST_API_VERSION`]).
#[derive(Clone, Debug)]
pub struct Host {
    inner: js_sys::Object,
}

impl Host {
    /// Wraps the `host` object from the lifecycle props (or a mock host in tests).
    pub fn from_js(value: JsValue) -> Result<Self, HostError> {
        let inner = value
            .dyn_into::<js_sys::Object>()
            .map_err(|_| HostError::new("host is not an object"))?;
        Ok(Self { inner })
    }

    /// The underlying JavaScript object.
    pub fn as_js(&self) -> &JsValue {
        self.inner.as_ref()
    }

    fn function(&self, name: &str) -> Result<js_sys::Function, HostError> {
        js_sys::Reflect::get(&self.inner, &JsValue::from_str(name))
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
            .ok_or_else(|| HostError::new(format!("host.{name} is not available")))
    }

    async fn await_promise(value: JsValue) -> Result<JsValue, HostError> {
        let promise = value
            .dyn_into::<js_sys::Promise>()
            .map_err(|_| HostError::new("host did not return a promise"))?;
        JsFuture::from(promise).await.map_err(HostError::from_js)
    }

    /// Hands a command to the shell. Resolves with the command id once it is **durable on this
    /// device** (not when a region has it); the shell delivers it later, exactly once.
    pub async fn dispatch<P: Serialize>(
        &self,
        kind: &str,
        stream: &str,
        payload: &P,
    ) -> Result<String, HostError> {
        let payload = codec::to_js(payload)
            .map_err(|e| HostError::new(format!("payload cannot be sent: {e}")))?;
        let promise = self
            .function("dispatch")?
            .call3(
                &self.inner,
                &JsValue::from_str(kind),
                &JsValue::from_str(stream),
                &payload,
            )
            .map_err(HostError::from_js)?;
        Self::await_promise(promise)
            .await?
            .as_string()
            .ok_or_else(|| HostError::new("host.dispatch resolved without a command id"))
    }

    /// Reads `path` from the nearest healthy region, or the last cached answer when none
    /// answers (then `stale` is true).
    pub async fn query<T: DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<QueryResult<T>, HostError> {
        let (data, as_of, region, stale) = self.query_js(path).await?;
        let data = codec::from_js(data).map_err(|e| malformed(path, &e))?;
        Ok(QueryResult {
            data,
            as_of,
            region,
            stale,
        })
    }

    /// [`Host::query`] up to the data, which stays a JavaScript value: the part that does not
    /// depend on `T`, compiled once.
    async fn query_js(&self, path: &str) -> Result<(JsValue, i64, String, bool), HostError> {
        let promise = self
            .function("query")?
            .call1(&self.inner, &JsValue::from_str(path))
            .map_err(HostError::from_js)?;
        let answer = Self::await_promise(promise).await?;
        let field = |name: &str| {
            js_sys::Reflect::get(&answer, &JsValue::from_str(name))
                .ok()
                .filter(|v| !v.is_undefined())
                .ok_or_else(|| malformed(path, &format_args!("missing field `{name}`")))
        };
        let as_of = field("asOf")?
            .as_f64()
            .filter(|n| n.fract() == 0.0)
            .ok_or_else(|| malformed(path, &"asOf is not an integer"))?;
        let region = field("region")?
            .as_string()
            .ok_or_else(|| malformed(path, &"region is not a string"))?;
        let stale = field("stale")?
            .as_bool()
            .ok_or_else(|| malformed(path, &"stale is not a boolean"))?;
        Ok((field("data")?, as_of as i64, region, stale))
    }

    /// The status of one of this app's commands (`None` for an unknown id).
    pub fn command_status(&self, id: &str) -> Option<CommandStatus> {
        let value = self
            .function("commandStatus")
            .ok()?
            .call1(&self.inner, &JsValue::from_str(id))
            .ok()?;
        status(value)
    }

    /// Calls `callback` whenever one of this app's commands changes status (saved, sending,
    /// delivered, failed). The subscription ends when the returned value is dropped.
    pub fn on_command_status(
        &self,
        callback: impl Fn(CommandUpdate) + 'static,
    ) -> Result<Subscription, HostError> {
        let closure = Closure::<dyn Fn(JsValue)>::new(move |value: JsValue| {
            if let Some(update) = command_update(&value) {
                callback(update);
            }
        });
        let unsubscribe = self
            .function("onCommandStatus")?
            .call1(&self.inner, closure.as_ref())
            .map_err(HostError::from_js)?
            .dyn_into::<js_sys::Function>()
            .ok();
        Ok(Subscription {
            unsubscribe,
            _closure: closure,
        })
    }

    /// Sends `payload` to every app subscribed to `topic` (through the shell, never through
    /// shared globals). Delivery is asynchronous; apps that are not mounted get nothing.
    pub fn publish<T: Serialize>(&self, topic: &Topic<T>, payload: &T) -> Result<(), HostError> {
        let payload = codec::to_js(payload)
            .map_err(|e| HostError::new(format!("event cannot be sent: {e}")))?;
        self.function("publish")?
            .call2(&self.inner, &JsValue::from_str(topic.name()), &payload)
            .map(|_| ())
            .map_err(HostError::from_js)
    }

    /// Calls `callback` with each payload published on `topic`. Payloads that do not match `T`
    /// are skipped. The subscription ends when the returned value is dropped, and in any case
    /// when the app unmounts.
    pub fn subscribe<T: DeserializeOwned + 'static>(
        &self,
        topic: &Topic<T>,
        callback: impl Fn(T) + 'static,
    ) -> Result<Subscription, HostError> {
        let closure = Closure::<dyn Fn(JsValue)>::new(move |value: JsValue| {
            if let Ok(payload) = codec::from_js::<T>(value) {
                callback(payload);
            }
        });
        let unsubscribe = self
            .function("subscribe")?
            .call2(
                &self.inner,
                &JsValue::from_str(topic.name()),
                closure.as_ref(),
            )
            .map_err(HostError::from_js)?
            .dyn_into::<js_sys::Function>()
            .ok();
        Ok(Subscription {
            unsubscribe,
            _closure: closure,
        })
    }

    /// Asks the shell to navigate to `path` (client-side, no reload).
    pub fn navigate(&self, path: &str) -> Result<(), HostError> {
        self.function("navigate")?
            .call1(&self.inner, &JsValue::from_str(path))
            .map(|_| ())
            .map_err(HostError::from_js)
    }
}

fn malformed(path: &str, why: &dyn std::fmt::Display) -> HostError {
    HostError::new(format!("query answer for {path} is malformed: {why}"))
}

/// A command status as the host API spells it (`"pending"`, `"inflight"`, …).
fn status(value: JsValue) -> Option<CommandStatus> {
    let name: StringDeserializer<codec::Error> = value.as_string()?.into_deserializer();
    CommandStatus::deserialize(name).ok()
}

/// Reads an `onCommandStatus` update field by field (cheaper than a derived reader).
fn command_update(value: &JsValue) -> Option<CommandUpdate> {
    let field = |name: &str| js_sys::Reflect::get(value, &JsValue::from_str(name)).ok();
    let text = |name: &str| field(name).and_then(|v| v.as_string());
    let attempts = field("attempts")?.as_f64()?;
    Some(CommandUpdate {
        id: text("id")?,
        status: status(field("status")?)?,
        attempts: u32::try_from(attempts as i64).ok()?,
        last_error: text("lastError"),
        region: text("region"),
    })
}
