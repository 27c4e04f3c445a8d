//! Fetches and compiles apps that are not on screen while the browser is idle
//! (`requestIdleCallback`), one per idle period, never while a load is in progress, so the
//! first visit to their route skips the network and the compile.

use std::cell::RefCell;
use std::collections::BTreeSet;

use leptos::prelude::*;
use wasm_bindgen::prelude::*;

use mfe_contract::{AppDescriptor, HOST_API_VERSION};

use crate::early_reads;
use crate::loader;
use crate::runtime::boot_hint;
use crate::runtime::gate::preload_candidates;
use crate::runtime::instances;
use crate::runtime::placement::{self, first_tries_on_page};
use crate::runtime::records::RuntimeState;

thread_local! {
    /// Versions whose preload failed: not tried again by the preloader (a visit still is).
    static SKIP: RefCell<BTreeSet<String>> = const { RefCell::new(BTreeSet::new()) };
}

/// Upper bound on idle rounds per schedule, whatever the manifest holds.
const MAX_ROUNDS: u32 = 32;

/// Starts (or continues) preloading; `rounds_left` bounds the chain of idle callbacks.
pub fn schedule(runtime: RuntimeState, rounds_left: u32) {
    if rounds_left == 0 {
        return;
    }
    let Some(window) = web_sys::window() else {
        return;
    };
    let callback = Closure::once_into_js(move || {
        leptos::task::spawn_local(round(runtime, rounds_left));
    });
    // Browsers without requestIdleCallback simply do not preload.
    let _ = window.request_idle_callback(callback.unchecked_ref());
}

/// Starts fetching and compiling what the page at the current address shows, as soon as the
/// manifest is known: before the page is drawn, so the download overlaps the drawing. The
/// slots join these loads (one fetch and one compile per version, see `loader`); they take
/// the answers `index.html` already asked for (the boot hint), and the rest are aborted.
pub fn start_for_page(runtime: RuntimeState) {
    let path = current_path();
    let first_tries = first_tries_at(runtime, &path);
    let timeout = runtime.config.get_untracked().load();
    for d in &first_tries {
        // The boot module's app: it fetched or is fetching those files itself.
        if !instances::boot_is_loading(d) {
            loader::start_preparing(d, timeout);
        }
    }
    early_reads::drop_app_files();
    remember_for_next_load(&path, &first_tries);
}

/// Updates the boot hint after a navigation to `path`, so a reload of the new address starts
/// its apps' files early too.
pub fn remember_page(runtime: RuntimeState, path: &str) {
    remember_for_next_load(path, &first_tries_at(runtime, path));
}

fn current_path() -> String {
    web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_default()
}

/// The versions the page at `path` tries first, by the manifest in use (none without one).
fn first_tries_at(runtime: RuntimeState, path: &str) -> Vec<AppDescriptor> {
    let roles = runtime.roles.get_untracked();
    runtime.validated.with_untracked(|m| {
        m.as_ref()
            .map(|m| first_tries_on_page(m, path, &roles, placement::env(), HOST_API_VERSION))
            .unwrap_or_default()
    })
}

/// Writes what `path` asks for first into the boot hint (`boot_hint`); a page without
/// localStorage simply gets no hint.
fn remember_for_next_load(path: &str, first_tries: &[AppDescriptor]) {
    let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) else {
        return;
    };
    let stored = storage.get_item(boot_hint::STORAGE_KEY).ok().flatten();
    let next = boot_hint::updated(stored.as_deref(), path, boot_hint::files_of(first_tries));
    if stored.as_deref() != Some(next.as_str()) {
        let _ = storage.set_item(boot_hint::STORAGE_KEY, &next);
    }
}

/// Preloads from the start, e.g. after boot or a manifest change.
pub fn start(runtime: RuntimeState) {
    schedule(runtime, MAX_ROUNDS);
}

async fn round(runtime: RuntimeState, rounds_left: u32) {
    let descriptors = runtime.validated.with_untracked(|m| {
        m.as_ref()
            .map(|m| {
                m.manifest
                    .apps
                    .values()
                    .map(|v| v.current.clone())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    });
    let on_screen: BTreeSet<String> = runtime.records.with_untracked(|r| {
        r.values()
            .map(|r| format!("{}@{}", r.app, r.version))
            .collect()
    });
    let mut prepared: BTreeSet<String> = descriptors
        .iter()
        .filter(|d| loader::is_prepared(d))
        .map(|d| format!("{}@{}", d.name, d.version))
        .collect();
    SKIP.with(|s| prepared.extend(s.borrow().iter().cloned()));
    let keys: Vec<String> = descriptors
        .iter()
        .map(|d| format!("{}@{}", d.name, d.version))
        .collect();
    let busy = instances::loads_in_progress();
    let next = preload_candidates(
        keys.iter().map(String::as_str),
        &on_screen,
        &prepared,
        busy,
        1,
    );
    if busy > 0 {
        // Try again at the next idle moment, after the load the user waits for.
        schedule(runtime, rounds_left - 1);
        return;
    }
    let Some(key) = next.first() else {
        return;
    };
    let Some(d) = descriptors
        .iter()
        .find(|d| format!("{}@{}", d.name, d.version) == *key)
    else {
        return;
    };
    let timeout = runtime.config.get_untracked().load();
    match loader::prepare(d, timeout).await {
        Ok(_) => runtime.preloaded.update(|p| p.push(key.clone())),
        Err(e) => {
            leptos::logging::warn!("preloading {key} failed: {e}");
            SKIP.with(|s| s.borrow_mut().insert(key.clone()));
        }
    }
    schedule(runtime, rounds_left - 1);
}
