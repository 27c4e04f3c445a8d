//! Development overrides: in a debug build only, `localStorage["mfe.override.<app>"]` may point
//! one app at the URL of an `mfe.json` on another server (a developer's local build), and only
//! when the manifest lists that origin in `dev_origins`. Never read from the query string, so
//! a link cannot swap an app's code.

use gloo_net::http::Request;
use mfe_contract::AppDescriptor;
use mfe_manifest::{check_dev_origin, validate_descriptor, Manifest};
use web_sys::RequestCache;

use crate::fetch::send_with_timeout;

fn key(app: &str) -> String {
    format!("mfe.override.{app}")
}

/// The override URL for `app`, if this is a debug build and one is set.
pub fn url_for(app: &str) -> Option<String> {
    if !cfg!(debug_assertions) {
        return None;
    }
    web_sys::window()?
        .local_storage()
        .ok()??
        .get_item(&key(app))
        .ok()?
        .filter(|u| !u.is_empty())
}

fn absolute(path: &str, base: &str) -> Result<String, String> {
    web_sys::Url::new_with_base(path, base)
        .map(|u| u.href())
        .map_err(|_| format!("{path} cannot be resolved against {base}"))
}

/// Reads and checks the overriding descriptor; its asset paths are resolved against the
/// `mfe.json` URL, so they load from the allowed origin.
pub async fn resolve(manifest: &Manifest, app: &str, url: &str) -> Result<AppDescriptor, String> {
    check_dev_origin(manifest, url).map_err(|e| format!("override of {app} refused: {e}"))?;
    let request = Request::get(url).cache(RequestCache::NoCache);
    let response = send_with_timeout(request, None, std::time::Duration::from_secs(5))
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if !response.ok() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let mut d: AppDescriptor = response
        .json()
        .await
        .map_err(|e| format!("{url}: not an mfe.json: {e}"))?;
    validate_descriptor(&d).map_err(|e| format!("{url}: {e}"))?;
    if d.name != app {
        return Err(format!("{url} describes {}, not {app}", d.name));
    }
    d.entry = absolute(&d.entry, url)?;
    if let Some(wasm) = d.wasm.take() {
        d.wasm = Some(absolute(&wasm, url)?);
    }
    Ok(d)
}
