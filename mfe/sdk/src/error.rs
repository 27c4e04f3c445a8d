//! Errors the host API reports to an app, in words an app can show.

use std::fmt;

use wasm_bindgen::JsValue;

/// A host call failed. `message` is meant for people (e.g. "could not save on this device:
/// storage is full").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostError {
    pub message: String,
}

impl HostError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// Turns whatever JavaScript threw or rejected with into a readable message.
    pub fn from_js(value: JsValue) -> Self {
        if let Some(text) = value.as_string() {
            return Self::new(text);
        }
        let message = js_sys::Reflect::get(&value, &JsValue::from_str("message"))
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_else(|| format!("{value:?}"));
        Self::new(message)
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HostError {}

impl From<HostError> for JsValue {
    fn from(err: HostError) -> Self {
        js_sys::Error::new(&err.message).into()
    }
}
