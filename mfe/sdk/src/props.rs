//! What the shell passes to every lifecycle call (DESIGN §3.1).

use std::collections::BTreeMap;

use wasm_bindgen::{JsCast, JsValue};

use crate::{Host, HostError};

/// `{ element, host, name, version, basePath, params, slot }`, read and checked once.
#[derive(Clone)]
pub struct Props {
    /// The element the app renders into; the app owns its children while mounted.
    pub element: web_sys::HtmlElement,
    pub host: Host,
    pub name: String,
    pub version: String,
    /// Route prefix the app is mounted under, e.g. `/tasks`.
    pub base_path: String,
    /// Route parameters matched by the shell, e.g. `{ "id": "42" }`.
    pub params: BTreeMap<String, String>,
    /// The mount point the app is shown in: `main` for its routes, or a named one such as
    /// `nav` or `sidebar` it contributes to.
    pub slot: String,
}

fn field(props: &JsValue, name: &str) -> Result<JsValue, HostError> {
    let value = js_sys::Reflect::get(props, &JsValue::from_str(name))
        .map_err(|_| HostError::new(format!("props.{name} cannot be read")))?;
    if value.is_undefined() || value.is_null() {
        return Err(HostError::new(format!("props.{name} is missing")));
    }
    Ok(value)
}

fn string_field(props: &JsValue, name: &str) -> Result<String, HostError> {
    field(props, name)?
        .as_string()
        .ok_or_else(|| HostError::new(format!("props.{name} is not a string")))
}

/// `params`' own properties; every value must be a string.
fn params(object: &JsValue) -> Result<BTreeMap<String, String>, HostError> {
    let mut params = BTreeMap::new();
    for entry in js_sys::Object::entries(object.unchecked_ref()) {
        let entry: js_sys::Array = entry.unchecked_into();
        let name = entry.get(0).as_string().unwrap_or_default();
        let Some(value) = entry.get(1).as_string() else {
            return Err(HostError::new(format!(
                "props.params.{name} is not a string"
            )));
        };
        params.insert(name, value);
    }
    Ok(params)
}

impl Props {
    /// Reads the props object the shell passed, naming the field that is wrong.
    pub fn from_js(props: &JsValue) -> Result<Self, HostError> {
        let element = field(props, "element")?
            .dyn_into::<web_sys::HtmlElement>()
            .map_err(|_| HostError::new("props.element is not an HTML element"))?;
        let host = Host::from_js(field(props, "host")?)?;
        let params = match js_sys::Reflect::get(props, &JsValue::from_str("params")) {
            Ok(value) if value.is_object() => params(&value)?,
            _ => BTreeMap::new(),
        };
        Ok(Self {
            element,
            host,
            name: string_field(props, "name")?,
            version: string_field(props, "version")?,
            base_path: string_field(props, "basePath").unwrap_or_else(|_| "/".into()),
            params,
            slot: string_field(props, "slot").unwrap_or_else(|_| "main".into()),
        })
    }
}
