//! What the UI and the apps see of the outbox: counts, the commands still waiting or failed,
//! and status-change notifications to each app for its own commands.

use std::collections::HashMap;

use leptos::prelude::*;
use mfe_contract::CommandStatus;
use mfe_outbox::{Counts, Entry};
use wasm_bindgen::JsValue;

use super::{store::Quarantined, with};
use crate::state::ShellState;

/// One waiting or failed command, as the outbox panel lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemView {
    pub id: String,
    pub app: String,
    pub kind: String,
    pub stream: String,
    pub status: CommandStatus,
    pub attempts: u32,
    pub enqueued_at: i64,
    pub next_at: i64,
    pub last_error: Option<String>,
    pub dead_reason: Option<String>,
    pub region: Option<String>,
}

impl ItemView {
    fn of(entry: &Entry) -> Self {
        Self {
            id: entry.id().to_string(),
            app: entry.command.app.clone(),
            kind: entry.command.kind.clone(),
            stream: entry.command.stream.clone(),
            status: entry.status,
            attempts: entry.attempts,
            enqueued_at: entry.enqueued_at,
            next_at: entry.next_at,
            last_error: entry.last_error.clone(),
            dead_reason: entry.dead_reason.clone(),
            region: entry.region.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutboxView {
    pub counts: Counts,
    /// Pending, in flight and dead commands, oldest first.
    pub items: Vec<ItemView>,
    pub quarantined: Vec<Quarantined>,
    /// Why the last write failed, until one succeeds.
    pub storage_error: Option<String>,
}

/// Apps' `onCommandStatus` callbacks, and the last status each was told.
#[derive(Default)]
pub struct Subscribers {
    next: u64,
    callbacks: Vec<(u64, String, js_sys::Function)>,
    told: HashMap<String, CommandStatus>,
}

impl Subscribers {
    pub fn add(&mut self, app: &str, callback: js_sys::Function) -> u64 {
        self.next += 1;
        self.callbacks.push((self.next, app.to_string(), callback));
        self.next
    }

    pub fn remove(&mut self, handle: u64) {
        self.callbacks.retain(|(h, _, _)| *h != handle);
    }
}

fn status_name(status: CommandStatus) -> &'static str {
    match status {
        CommandStatus::Pending => "pending",
        CommandStatus::Inflight => "inflight",
        CommandStatus::Delivered => "delivered",
        CommandStatus::Dead => "dead",
    }
}

fn notice(entry: &Entry) -> JsValue {
    let object = js_sys::Object::new();
    let set = |k: &str, v: JsValue| {
        let _ = js_sys::Reflect::set(&object, &JsValue::from_str(k), &v);
    };
    set("id", entry.id().into());
    set("status", status_name(entry.status).into());
    set("attempts", entry.attempts.into());
    set(
        "lastError",
        entry
            .last_error
            .as_deref()
            .map(JsValue::from)
            .unwrap_or(JsValue::NULL),
    );
    set(
        "region",
        entry
            .region
            .as_deref()
            .map(JsValue::from)
            .unwrap_or(JsValue::NULL),
    );
    object.into()
}

thread_local! {
    /// The pending coalesced publish, if one is scheduled.
    static SOON: std::cell::RefCell<Option<gloo_timers::callback::Timeout>> =
        const { std::cell::RefCell::new(None) };
}

/// How long dispatches are gathered before the UI shows them: below what a person notices.
const COALESCE_MS: u32 = 16;

/// Publishes once within [`COALESCE_MS`], however many commands were saved meanwhile, and
/// announces the save once for the whole burst.
pub fn publish_soon(state: ShellState) {
    SOON.with(|soon| {
        let mut soon = soon.borrow_mut();
        if soon.is_none() {
            *soon = Some(gloo_timers::callback::Timeout::new(
                COALESCE_MS,
                move || {
                    SOON.with(|s| s.borrow_mut().take());
                    state.announcement.set(if crate::connectivity::is_online() {
                        "Saved on this device".to_string()
                    } else {
                        "Saved on this device; it will be sent when you are back online".to_string()
                    });
                    publish(state);
                },
            ));
        }
    });
}

/// Publishes the current outbox to the UI and tells apps about their commands' changes.
pub fn publish(state: ShellState) {
    let Some((view, calls)) = with(|s| {
        let mut items: Vec<ItemView> = s
            .outbox
            .entries()
            .filter(|e| e.status != CommandStatus::Delivered)
            .map(ItemView::of)
            .collect();
        items.sort_unstable_by(|a, b| (a.enqueued_at, &a.id).cmp(&(b.enqueued_at, &b.id)));
        let mut calls = Vec::new();
        // Forget what was told about commands the outbox no longer holds (delivered and
        // pruned), so a long session does not accumulate them.
        if s.subscribers.told.len() > 2 * s.outbox.entries().count() + 64 {
            let held: std::collections::HashSet<&str> =
                s.outbox.entries().map(|e| e.id()).collect();
            s.subscribers
                .told
                .retain(|id, _| held.contains(id.as_str()));
        }
        for entry in s.outbox.entries() {
            if s.subscribers.told.get(entry.id()) != Some(&entry.status) {
                s.subscribers
                    .told
                    .insert(entry.id().to_string(), entry.status);
                for (_, app, callback) in &s.subscribers.callbacks {
                    if app == entry.app() {
                        calls.push((callback.clone(), notice(entry)));
                    }
                }
            }
        }
        let view = OutboxView {
            counts: s.outbox.counts(),
            items,
            quarantined: s.quarantined.clone(),
            storage_error: None,
        };
        (view, calls)
    }) else {
        return;
    };
    state.outbox.update(|v| {
        let storage_error = v.storage_error.take();
        *v = OutboxView {
            storage_error,
            ..view
        };
    });
    // Called outside the borrow: a callback may call back into the host.
    for (callback, value) in calls {
        if let Err(e) = callback.call1(&JsValue::UNDEFINED, &value) {
            leptos::logging::warn!("an app's onCommandStatus callback threw: {e:?}");
        }
    }
}
