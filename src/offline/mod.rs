//! Offline boot, page side: registers the service worker (`public/sw.js`), hands it every app
//! asset the manifest lists so the whole workspace opens without a network, and offers a new
//! shell build as an "Update" the user applies when it suits them (no surprise reloads).

use leptos::prelude::*;
use mfe_contract::Manifest;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::state::{ManifestState, ShellState};

#[wasm_bindgen(inline_js = r#"
let applying = false;
export function register_worker(url, on_update) {
  if (!('serviceWorker' in navigator)) return Promise.resolve(false);
  // A module worker: it imports the outbox drain for Background Sync.
  return navigator.serviceWorker.register(url, { type: 'module' }).then((reg) => {
    const check = () => { if (reg.waiting && navigator.serviceWorker.controller) on_update(); };
    check();
    reg.addEventListener('updatefound', () => {
      const worker = reg.installing;
      if (worker) worker.addEventListener('statechange', () => { if (worker.state === 'installed') check(); });
    });
    navigator.serviceWorker.addEventListener('controllerchange', () => {
      if (applying) location.reload();
    });
    return true;
  });
}
export function check_for_update() {
  if (!('serviceWorker' in navigator)) return Promise.resolve();
  return navigator.serviceWorker.getRegistration().then((reg) => reg && reg.update()).catch(() => {});
}
export function apply_update() {
  return navigator.serviceWorker.getRegistration().then((reg) => {
    if (reg && !reg.waiting && reg.active && navigator.serviceWorker.controller) {
      // Another tab applied it: the new version already controls this page; loading the page
      // again runs it.
      location.reload();
      return true;
    }
    if (!reg || !reg.waiting) return false;
    applying = true;
    reg.waiting.postMessage({ type: 'SKIP_WAITING' });
    return true;
  });
}
export function register_sync(tag, preferred) {
  if (!('serviceWorker' in navigator)) return Promise.resolve(false);
  return navigator.serviceWorker.ready
    .then((reg) => {
      if (preferred && reg.active) reg.active.postMessage({ type: 'PREFERRED_REGION', region: preferred });
      return reg.sync ? reg.sync.register(tag).then(() => true) : false;
    })
    .catch(() => false);
}
export function cache_assets(assets) {
  if (!('serviceWorker' in navigator)) return Promise.resolve(null);
  return navigator.serviceWorker.ready.then((reg) => new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = (event) => resolve(event.data);
    reg.active.postMessage({ type: 'CACHE_APPS', assets }, [channel.port2]);
  }));
}
"#)]
extern "C" {
    fn register_worker(url: &str, on_update: &js_sys::Function) -> js_sys::Promise;
    fn check_for_update() -> js_sys::Promise;
    fn apply_update() -> js_sys::Promise;
    fn cache_assets(assets: JsValue) -> js_sys::Promise;
    fn register_sync(tag: &str, preferred: Option<String>) -> js_sys::Promise;
}

/// The Background Sync tag the worker drains the outbox on (`public/sw.js`).
const OUTBOX_SYNC_TAG: &str = "mfe-outbox";

/// Asks the browser to wake the service worker when the network is back, so commands saved
/// now are delivered even if every page of the shell is closed by then. Where Background Sync
/// is missing this does nothing: the next page start delivers them.
///
/// The worker has no latency data of its own, so it is told the region this page would use
/// now (the router's first choice); it tries that one first, then the others. It is told only
/// when the choice changed: the worker writes it to its cache, and a write per saved command
/// would compete with the outbox's own IndexedDB commits. For the same reason the sync is
/// registered once per stretch offline (the browser stores each registration; one wakes the
/// worker for every command saved meanwhile), again after the page was back online.
pub fn deliver_in_background_later() {
    let preferred = crate::routing::candidates().into_iter().next();
    let changed = TOLD_WORKER.with(|told| {
        let mut told = told.borrow_mut();
        if *told == preferred {
            false
        } else {
            told.clone_from(&preferred);
            true
        }
    });
    let first_this_stretch = !SYNC_ASKED.with(|asked| asked.replace(true));
    if changed || first_this_stretch {
        let registering = register_sync(OUTBOX_SYNC_TAG, preferred.filter(|_| changed));
        leptos::task::spawn_local(async move {
            let registered = JsFuture::from(registering)
                .await
                .is_ok_and(|v| v.as_bool() == Some(true));
            if !registered {
                // Not registered (no Background Sync here, or it failed): ask at the next save.
                ask_for_sync_again();
            }
        });
    }
}

/// The next command saved offline registers the sync again: the page is online again or came
/// back from the back/forward cache (the worker's sync may have fired meanwhile), or the last
/// registration did not take.
pub fn ask_for_sync_again() {
    SYNC_ASKED.with(|asked| asked.set(false));
}

thread_local! {
    /// The region last handed to the worker by this page.
    static TOLD_WORKER: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
    /// The background sync was registered since the page was last online.
    static SYNC_ASKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// What the offline layer reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OfflineStatus {
    /// The browser runs service workers and ours is registered.
    pub registered: bool,
    /// Every app asset of the current manifest is cached: the workspace opens offline.
    pub ready: bool,
    /// A new shell build is installed and waits for "Update".
    pub update_waiting: bool,
    pub cached_entries: u64,
    pub cached_bytes: u64,
    /// Assets that could not be cached, with the reason.
    pub failed: Vec<String>,
}

#[derive(serde::Serialize)]
struct Asset {
    url: String,
    integrity: String,
}

#[derive(serde::Deserialize, Default)]
struct CacheReport {
    #[serde(default)]
    entries: u64,
    #[serde(default)]
    bytes: u64,
    #[serde(default)]
    failed: Vec<String>,
}

/// Every asset of every version the shell may run (current and rollback targets).
fn assets(manifest: &Manifest) -> Vec<Asset> {
    let mut list = Vec::new();
    for versions in manifest.apps.values() {
        for app in std::iter::once(&versions.current).chain(&versions.previous) {
            list.extend(app.files().map(|f| Asset {
                url: f.url.to_owned(),
                integrity: f.integrity.to_owned(),
            }));
        }
    }
    list
}

/// Registers the worker and keeps the app cache in step with the manifest.
pub fn start(state: ShellState) {
    let on_update = Closure::<dyn Fn()>::new(move || {
        state.offline.update(|o| o.update_waiting = true);
        state.announcement.set(
            "A new version of the workspace is ready. Choose Update when it suits you.".into(),
        );
    });
    let registering = register_worker("/sw.js", on_update.as_ref().unchecked_ref());
    // Lives as long as the page.
    on_update.forget();
    // Back from the back/forward cache: the `online` event may have come and gone meanwhile.
    let restored = Closure::<dyn Fn(web_sys::PageTransitionEvent)>::new(
        |event: web_sys::PageTransitionEvent| {
            if event.persisted() {
                ask_for_sync_again();
            }
        },
    );
    if let Some(window) = web_sys::window() {
        let _ =
            window.add_event_listener_with_callback("pageshow", restored.as_ref().unchecked_ref());
    }
    restored.forget();
    leptos::task::spawn_local(async move {
        match JsFuture::from(registering).await {
            Ok(value) => state
                .offline
                .update(|o| o.registered = value.as_bool() == Some(true)),
            Err(e) => leptos::logging::warn!("service worker not registered: {e:?}"),
        }
    });
    Effect::new(move |_| {
        let ManifestState::Ready(manifest) = state.manifest.get() else {
            return;
        };
        let list = assets(&manifest);
        leptos::task::spawn_local(async move {
            let Ok(value) = serde_wasm_bindgen::to_value(&list) else {
                return;
            };
            let report = JsFuture::from(cache_assets(value))
                .await
                .ok()
                .filter(|v| !v.is_null())
                .and_then(|v| serde_wasm_bindgen::from_value::<CacheReport>(v).ok());
            if let Some(report) = report {
                state.offline.update(|o| {
                    o.ready = report.failed.is_empty();
                    o.cached_entries = report.entries;
                    o.cached_bytes = report.bytes;
                    o.failed = report.failed;
                });
            }
        });
    });
}

/// Shortest time between two looks for a newer shell build triggered by navigation.
const UPDATE_CHECK_INTERVAL_MS: f64 = 60_000.0;
/// Longest a look for a newer build keeps the next one from starting.
const UPDATE_LOOK_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

thread_local! {
    static UPDATE_GATE: std::cell::RefCell<crate::runtime::gate::RefreshGate> =
        std::cell::RefCell::new(crate::runtime::gate::RefreshGate::new(UPDATE_CHECK_INTERVAL_MS));
}

/// Asks the browser to look for a newer shell build (a navigation is a good moment), at most
/// once a minute: each look fetches the worker's script again, and the promise of every look
/// the browser is still busy with stays in memory until it settles (one look per navigation
/// kept ≈ 0.3 KB per route change alive and sent a request to the origin each time).
pub fn check_after_navigation() {
    let due = UPDATE_GATE.with(|g| g.borrow_mut().try_start(crate::clock::monotonic_ms()));
    if due {
        let look = check_for_update();
        leptos::task::spawn_local(async move {
            // A look the browser never settles must not stop the later ones.
            let _ = crate::fetch::within(JsFuture::from(look), UPDATE_LOOK_LIMIT).await;
            UPDATE_GATE.with(|g| g.borrow_mut().finish());
        });
    }
}

/// Activates the waiting shell build; the page reloads into it. The outbox lives in
/// IndexedDB, so pending commands survive and are sent by the new version.
pub fn update_now() {
    let _ = apply_update();
}
