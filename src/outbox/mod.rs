//! Browser adapter of the outbox: IndexedDB storage, the drainer, tab coordination and the
//! view the UI and apps see. Every rule (order, batching, classification, backoff, budget,
//! retention, dead letters, what to write back after the store was lost) is the sans-IO
//! core's (`mfe-outbox`); this module only moves data between it, the store and the network,
//! and tells the user in plain words when the store was blocked, taken over by a newer tab or
//! cleared under the page (`notice`).

mod drain;
mod notice;
pub use mfe_outbox_web::store;
use mfe_outbox_web::{tabs, transport};
mod view;

use std::cell::RefCell;

use leptos::prelude::*;
use mfe_contract::{Command, CommandStatus};
use mfe_outbox::{Change, Config, Outbox};

pub use drain::request_drain;
pub use notice::{StorageNotice, StorageNoticeLine};
pub use view::{ItemView, OutboxView};

use crate::clock::now_ms;
use crate::identity;
use crate::state::ShellState;
use store::{Quarantined, StoreError, StoreEvent};

/// The outbox as this tab knows it.
struct Service {
    outbox: Outbox,
    quarantined: Vec<Quarantined>,
    /// Another tab wrote to the store: reload before relying on memory.
    dirty: bool,
    /// Memory holds what the store held when this page last read it, plus this page's own
    /// committed writes since: false after a write that failed, a drain that stopped part-way,
    /// or a read whose fix-ups were not written. With the store's `rev` counter unmoved by
    /// others, a drain can then start without reading every record again.
    matches_store: bool,
    draining: bool,
    again: bool,
    timer: Option<gloo_timers::callback::Timeout>,
    subscribers: view::Subscribers,
}

thread_local! {
    static SERVICE: RefCell<Option<Service>> = const { RefCell::new(None) };
}

/// Runs `f` on this tab's outbox (never across an await).
fn with<R>(f: impl FnOnce(&mut Service) -> R) -> Option<R> {
    SERVICE.with(|s| s.borrow_mut().as_mut().map(f))
}

/// Reads the store into memory (for display, or as the drainer's starting point when
/// `persist` is set: then interrupted sends become pending again, durably).
async fn reload(state: ShellState, persist: bool) -> Result<(), StoreError> {
    with(|s| s.matches_store = false);
    // A write this page starts while the read runs changed memory first; the read's older
    // picture then replaces it, so memory cannot be trusted until the next full read.
    let writes_before = store::own_writes_started();
    let loaded = store::load().await?;
    let raced = store::own_writes_started() != writes_before;
    let now = now_ms();
    let changes = with(|s| {
        s.quarantined = loaded.quarantined;
        s.dirty = false;
        s.outbox.restore(loaded.entries, now)
    })
    .unwrap_or_default();
    if persist {
        store::apply(&changes).await?;
    }
    with(|s| s.matches_store = !raced && (persist || changes.is_empty()));
    view::publish(state);
    Ok(())
}

/// Opens the outbox, shows what it holds, and starts delivering.
pub async fn start(state: ShellState) {
    SERVICE.with(|s| {
        *s.borrow_mut() = Some(Service {
            outbox: Outbox::new(Config::default()),
            quarantined: Vec::new(),
            dirty: false,
            matches_store: false,
            draining: false,
            again: false,
            timer: None,
            subscribers: Default::default(),
        })
    });
    // After the database was deleted or cleared under the page, what this tab holds in memory
    // is written back before anything else may use the store.
    store::rescue_from(|| with(|s| s.outbox.rescue()).unwrap_or_default());
    store::on_event(move |event| storage_event(state, event));
    if let Err(e) = reload(state, false).await {
        state
            .outbox
            .update(|v| v.storage_error = Some(e.to_string()));
    }
    tabs::listen(move |notice| {
        with(|s| s.dirty = true);
        let draining = with(|s| s.draining).unwrap_or(false);
        if !draining {
            leptos::task::spawn_local(async move {
                let _ = reload(state, false).await;
            });
        }
        if notice == tabs::Notice::Enqueued {
            request_drain(state);
        }
    });
    watch_visibility(state);
    crate::connectivity::watch(state, move |online| {
        with(|s| s.outbox.set_online(online));
        if online {
            crate::offline::ask_for_sync_again();
            request_drain(state);
        }
    });
    request_drain(state);
}

/// How long to wait before trying again to write back commands after a failed restore.
const RESTORE_RETRY: std::time::Duration = std::time::Duration::from_secs(5);

/// Shows what happened to the store and picks up the work that waited for it.
fn storage_event(state: ShellState, event: StoreEvent) {
    match event {
        StoreEvent::Blocked => notice::show(state, StorageNotice::Blocked),
        StoreEvent::Unblocked => {
            notice::clear("blocked");
            // The first read and any delivery waited for the open (or gave up): go now.
            if !with(|s| s.draining).unwrap_or(false) {
                leptos::task::spawn_local(async move {
                    if reload(state, false).await.is_ok() {
                        state.outbox.update(|v| v.storage_error = None);
                    }
                });
            }
            request_drain(state);
        }
        StoreEvent::Outdated => notice::show(state, StorageNotice::Outdated),
        StoreEvent::Lost => notice::show(state, StorageNotice::Restoring),
        StoreEvent::Restored { unsent, .. } => {
            notice::show(state, StorageNotice::Restored { unsent });
            with(|s| s.dirty = true);
            tabs::tell(tabs::Notice::Changed);
            request_drain(state);
        }
        StoreEvent::RestoreFailed { unsent, reason } => {
            notice::show(state, StorageNotice::RestoreFailed { unsent, reason });
            // The store stays marked lost: the next call reopens it and writes back again.
            leptos::task::spawn_local(async move {
                gloo_timers::future::sleep(RESTORE_RETRY).await;
                let _ = reload(state, false).await;
            });
        }
    }
}

/// A tab coming back to the foreground drains at once (timers of hidden tabs are throttled).
fn watch_visibility(state: ShellState) {
    use wasm_bindgen::prelude::*;
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let probe = document.clone();
    let listener = Closure::<dyn Fn()>::new(move || {
        if probe.visibility_state() == web_sys::VisibilityState::Visible {
            request_drain(state);
        }
    });
    let _ = document
        .add_event_listener_with_callback("visibilitychange", listener.as_ref().unchecked_ref());
    // Lives as long as the page.
    listener.forget();
}

/// Saves a command durably and schedules its delivery. Resolves with the command id once the
/// write has committed; fails with a plain-words reason when it could not be stored.
pub async fn dispatch(
    state: ShellState,
    app: &str,
    kind: String,
    stream: String,
    payload: serde_json::Value,
) -> Result<String, String> {
    let now = now_ms();
    let command = Command {
        id: identity::new_command_id(),
        client_id: identity::client_id(),
        seq: 0, // allocated by the store, inside the write
        stream,
        kind,
        app: app.to_string(),
        payload,
        created_at: now,
    };
    let entry = match store::save_new(command, now).await {
        Ok(entry) => entry,
        Err(e) => {
            state
                .outbox
                .update(|v| v.storage_error = Some(e.to_string()));
            state
                .announcement
                .set(format!("Not saved on this device: {e}"));
            return Err(format!("could not save on this device: {e}"));
        }
    };
    let id = entry.id().to_string();
    with(|s| {
        let now = now_ms();
        // A fresh record needs no fix-up; if the core still asks for writes (e.g. pruning old
        // delivered records), memory is ahead of the store until the next full read.
        if !s.outbox.adopt(entry, now).is_empty() {
            s.matches_store = false;
        }
    });
    // The command is durable: resolve now. Showing it (status bar, panel, the apps' status
    // callbacks, the announcement) is coalesced into one update per burst of dispatches, so a
    // long queue does not make each dispatch slower.
    if state.outbox.with_untracked(|v| v.storage_error.is_some()) {
        state.outbox.update(|v| v.storage_error = None);
    }
    view::publish_soon(state);
    tabs::tell(tabs::Notice::Enqueued);
    if crate::connectivity::is_online() {
        request_drain(state);
    } else {
        crate::offline::deliver_in_background_later();
    }
    Ok(id)
}

async fn apply_and_publish(state: ShellState, changes: Vec<Change>) -> Result<(), String> {
    if let Err(e) = store::apply(&changes).await {
        with(|s| s.matches_store = false);
        return Err(e.to_string());
    }
    view::publish(state);
    tabs::tell(tabs::Notice::Changed);
    Ok(())
}

/// Sends a dead command again (the user pressed Retry).
pub async fn retry(state: ShellState, id: &str) -> Result<(), String> {
    let now = now_ms();
    let changes = with(|s| s.outbox.retry_dead(id, now))
        .ok_or("outbox not ready")?
        .map_err(|e| e.to_string())?;
    apply_and_publish(state, changes).await?;
    request_drain(state);
    Ok(())
}

/// Deletes a dead command for good (the user pressed Discard).
pub async fn discard(state: ShellState, id: &str) -> Result<(), String> {
    let changes = with(|s| s.outbox.discard(id))
        .ok_or("outbox not ready")?
        .map_err(|e| e.to_string())?;
    apply_and_publish(state, changes).await
}

/// The status of one of `app`'s commands (an app never sees another app's commands).
pub fn status_for_app(app: &str, id: &str) -> Option<CommandStatus> {
    with(|s| s.outbox.for_app(app).status(id)).flatten()
}

/// Registers `callback` for status changes of `app`'s commands; returns a handle for removal.
pub fn subscribe(app: &str, callback: js_sys::Function) -> u64 {
    with(|s| s.subscribers.add(app, callback)).unwrap_or(0)
}

pub fn unsubscribe(handle: u64) {
    with(|s| s.subscribers.remove(handle));
}
