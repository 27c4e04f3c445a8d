//! Development overrides: in a debug build only, `localStorage["mfe.override.<app>"]` may point
//! one app at the URL of an `mfe.json` on another server (a developer's local build), and only
//! when the manifest lists that origin in `dev_origins`. Never read from the query string, so
//! a link cannot swap an app's code.
//!
//! The decisions ([`accept`], [`put_in_front`], and `check_dev_origin` in the manifest core)
//! are plain Rust tested natively; [`apply`] is the thin adapter (localStorage + fetch).

use gloo_net::http::Request;
use mfe_contract::{AppDescriptor, Manifest};
use mfe_manifest::{check_dev_origin, origin_of, validate_descriptor, ValidatedManifest};
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

/// Checks the descriptor read from `url` and points its assets at `url`'s origin. A valid
/// descriptor names its assets as paths under `/apps/<name>/<version>/` (never another
/// host), so they load from the same allowed origin as the `mfe.json`.
pub fn accept(mut d: AppDescriptor, app: &str, url: &str) -> Result<AppDescriptor, String> {
    let origin = origin_of(url).ok_or_else(|| format!("{url} is not an absolute http(s) URL"))?;
    validate_descriptor(&d).map_err(|e| format!("{url}: {e}"))?;
    if d.name != app {
        return Err(format!("{url} describes {}, not {app}", d.name));
    }
    d.entry = format!("{origin}{}", d.entry);
    d.wasm = d.wasm.map(|wasm| format!("{origin}{wasm}"));
    Ok(d)
}

/// Makes `d` the version of its app to try first; the published current version becomes the
/// first to fall back to, so a broken local build rolls back to what is published. `false`
/// when the manifest has no such app (an override cannot add an app).
///
/// A local build often carries the version already published (a crate not bumped yet). A
/// slot tells its versions apart by their number, so the override is labelled as the local
/// build of that version (`1.0.0+dev`, semver build metadata) and its fallback is the
/// published build, not itself again.
pub fn put_in_front(manifest: &mut Manifest, mut d: AppDescriptor) -> bool {
    let Some(versions) = manifest.apps.get_mut(&d.name) else {
        return false;
    };
    // Published versions never carry build metadata (the manifest refuses it), nor does a
    // valid override, so the label cannot collide in turn.
    let taken = std::iter::once(&versions.current)
        .chain(&versions.previous)
        .any(|p| p.version == d.version);
    if taken {
        d.version = format!("{}+dev", d.version);
    }
    let published = std::mem::replace(&mut versions.current, d);
    versions.previous.insert(0, published);
    true
}

/// Reads and checks the overriding descriptor at `url`; refused before any request when the
/// manifest does not allow `url`'s origin.
pub async fn resolve(manifest: &Manifest, app: &str, url: &str) -> Result<AppDescriptor, String> {
    check_dev_origin(manifest, url).map_err(|e| format!("override of {app} refused: {e}"))?;
    let request = Request::get(url).cache(RequestCache::NoCache);
    let response = send_with_timeout(request, None, std::time::Duration::from_secs(5))
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if !response.ok() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let d: AppDescriptor = response
        .json()
        .await
        .map_err(|e| format!("{url}: not an mfe.json: {e}"))?;
    accept(d, app, url)
}

/// Puts every allowed override in front of the published versions (debug builds only; a
/// release build returns the manifest untouched). A refused or broken override is logged and
/// changes nothing.
pub async fn apply(mut validated: ValidatedManifest) -> ValidatedManifest {
    if !cfg!(debug_assertions) {
        return validated;
    }
    let names: Vec<String> = validated.manifest.apps.keys().cloned().collect();
    for name in names {
        let Some(url) = url_for(&name) else {
            continue;
        };
        match resolve(&validated.manifest, &name, &url).await {
            Ok(d) => {
                put_in_front(&mut validated.manifest, d);
            }
            Err(e) => leptos::logging::warn!("{e}"),
        }
    }
    validated
}

#[cfg(test)]
mod tests {
    use mfe_manifest::{empty_manifest, merge, sri, SriAlgorithm};

    use super::*;

    fn descriptor(name: &str, version: &str) -> AppDescriptor {
        AppDescriptor {
            name: name.into(),
            version: version.into(),
            entry: format!("/apps/{name}/{version}/{name}.js"),
            wasm: Some(format!("/apps/{name}/{version}/{name}_bg.wasm")),
            integrity: mfe_contract::AppIntegrity {
                entry: sri(SriAlgorithm::Sha384, b"js"),
                wasm: Some(sri(SriAlgorithm::Sha384, b"wasm")),
            },
            routes: vec![format!("/{name}")],
            slots: vec![],
            requires: 1,
            budget: None,
            bytes: None,
        }
    }

    const URL: &str = "http://localhost:5173/apps/tasks/2.0.0-dev/mfe.json";

    #[test]
    fn an_accepted_override_loads_its_assets_from_its_own_origin() {
        let d = accept(descriptor("tasks", "2.0.0-dev"), "tasks", URL).unwrap();
        assert_eq!(
            d.entry,
            "http://localhost:5173/apps/tasks/2.0.0-dev/tasks.js"
        );
        assert_eq!(
            d.wasm.as_deref(),
            Some("http://localhost:5173/apps/tasks/2.0.0-dev/tasks_bg.wasm")
        );
    }

    #[test]
    fn an_override_must_describe_that_app_validly() {
        let err = accept(descriptor("catalog", "1.0.0"), "tasks", URL).unwrap_err();
        assert!(err.contains("describes catalog, not tasks"), "{err}");
        let mut elsewhere = descriptor("tasks", "2.0.0");
        elsewhere.entry = "http://evil.example/apps/tasks/2.0.0/tasks.js".into();
        let err = accept(elsewhere, "tasks", URL).unwrap_err();
        assert!(err.contains("entry"), "{err}");
        let err = accept(descriptor("tasks", "2.0.0"), "tasks", "/apps/mfe.json").unwrap_err();
        assert!(err.contains("not an absolute"), "{err}");
    }

    #[test]
    fn only_listed_origins_may_override() {
        let mut m = empty_manifest("2026-01-01T00:00:00Z").unwrap();
        m.dev_origins = vec!["http://localhost:5173".into()];
        assert!(check_dev_origin(&m, URL).is_ok());
        assert!(check_dev_origin(&m, "http://evil.example/apps/tasks/mfe.json").is_err());
        m.dev_origins.clear();
        assert!(check_dev_origin(&m, URL).is_err());
    }

    #[test]
    fn the_override_comes_first_and_the_published_version_next() {
        let t = "2026-01-01T00:00:00Z";
        let m = empty_manifest(t).unwrap();
        let m = merge(&m, descriptor("tasks", "1.0.0"), t, 5).unwrap();
        let mut m = merge(&m, descriptor("tasks", "1.1.0"), t, 5).unwrap();
        let local = accept(descriptor("tasks", "2.0.0-dev"), "tasks", URL).unwrap();
        assert!(put_in_front(&mut m, local));
        let tasks = &m.apps["tasks"];
        assert_eq!(tasks.current.version, "2.0.0-dev");
        let previous: Vec<_> = tasks.previous.iter().map(|d| d.version.as_str()).collect();
        assert_eq!(previous, ["1.1.0", "1.0.0"]);
        assert!(!put_in_front(&mut m, descriptor("nobody", "1.0.0")));
    }

    #[test]
    fn an_override_with_a_published_number_falls_back_to_the_published_build() {
        let t = "2026-01-01T00:00:00Z";
        let m = empty_manifest(t).unwrap();
        let m = merge(&m, descriptor("tasks", "1.0.0"), t, 5).unwrap();
        let mut m = merge(&m, descriptor("tasks", "1.1.0"), t, 5).unwrap();
        let local = accept(descriptor("tasks", "1.1.0"), "tasks", URL).unwrap();
        assert!(put_in_front(&mut m, local));
        let tasks = &m.apps["tasks"];
        let versions: Vec<_> = std::iter::once(&tasks.current)
            .chain(&tasks.previous)
            .map(|d| d.version.as_str())
            .collect();
        assert_eq!(versions, ["1.1.0+dev", "1.1.0", "1.0.0"]);
        // The local build loads from the dev origin, the published one from the CDN.
        assert!(tasks.current.entry.starts_with("http://localhost:5173/"));
        assert!(tasks.previous[0].entry.starts_with("/apps/"));
    }
}
