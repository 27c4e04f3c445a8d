//! Typed wrapper over the JavaScript host object the shell hands to apps.
//!
//! The host is a plain object of functions, so apps written in JavaScript use the very same API;
//! this wrapper only adds types and readable errors.

use serde::{de::DeserializeOwned, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::HostError;

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

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawQuery<T> {
    data: T,
    as_of: i64,
    region: String,
    stale: bool,
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
        let payload = payload
            .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
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
        let promise = self
            .function("query")?
            .call1(&self.inner, &JsValue::from_str(path))
            .map_err(HostError::from_js)?;
        let raw: RawQuery<T> = serde_wasm_bindgen::from_value(Self::await_promise(promise).await?)
            .map_err(|e| HostError::new(format!("query answer for {path} is malformed: {e}")))?;
        Ok(QueryResult {
            data: raw.data,
            as_of: raw.as_of,
            region: raw.region,
            stale: raw.stale,
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
