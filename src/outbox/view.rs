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
    /// When the UI was last refreshed (monotonic ms), to pace refreshes during bursts.
    static LAST_PUBLISH: std::cell::Cell<Option<f64>> = const { std::cell::Cell::new(None) };
}

/// How long dispatches are gathered before the UI shows them: below what a person notices.
const COALESCE_MS: f64 = 16.0;

/// While saves keep coming, the UI is refreshed at most this often. Each refresh is a frame the
/// browser lays out and paints (1–5 ms on a small machine), and frames landing inside saves
/// made the saves' slow tail; a count that moves four times a second still reads as live.
const BURST_REFRESH_MS: f64 = 250.0;

/// How long to wait before showing a save: within [`COALESCE_MS`] after a quiet spell, and no
/// sooner than [`BURST_REFRESH_MS`] after the previous refresh while a burst lasts.
fn publish_delay(now: f64, last_publish: Option<f64>) -> u32 {
    let since = last_publish.map_or(f64::INFINITY, |t| now - t);
    // A clock that stepped back (never for `performance.now`) counts as a quiet spell.
    let since = if since < 0.0 { f64::INFINITY } else { since };
    (BURST_REFRESH_MS - since).max(COALESCE_MS).ceil() as u32
}

/// Publishes once per refresh (see [`publish_delay`]), however many commands were saved
/// meanwhile, and announces the save once for the whole burst.
pub fn publish_soon(state: ShellState) {
    SOON.with(|soon| {
        let mut soon = soon.borrow_mut();
        if soon.is_none() {
            let delay = publish_delay(crate::clock::monotonic_ms(), LAST_PUBLISH.get());
            *soon = Some(gloo_timers::callback::Timeout::new(delay, move || {
                SOON.with(|s| s.borrow_mut().take());
                state.announcement.set(if crate::connectivity::is_online() {
                    "Saved on this device".to_string()
                } else {
                    "Saved on this device; it will be sent when you are back online".to_string()
                });
                publish(state);
            }));
        }
    });
}

/// Publishes the current outbox to the UI and tells apps about their commands' changes.
pub fn publish(state: ShellState) {
    LAST_PUBLISH.set(Some(crate::clock::monotonic_ms()));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_save_after_a_quiet_spell_shows_within_a_frame() {
        assert_eq!(publish_delay(10_000.0, None), 16);
        assert_eq!(publish_delay(10_000.0, Some(9_000.0)), 16);
        assert_eq!(publish_delay(10_000.0, Some(9_750.0)), 16);
    }

    #[test]
    fn saves_during_a_burst_refresh_the_ui_four_times_a_second_at_most() {
        assert_eq!(publish_delay(10_000.0, Some(10_000.0)), 250);
        assert_eq!(publish_delay(10_000.0, Some(9_900.0)), 150);
        assert_eq!(publish_delay(10_000.0, Some(9_760.5)), 16);
    }

    #[test]
    fn a_clock_that_steps_back_does_not_hold_the_ui() {
        assert_eq!(publish_delay(10_000.0, Some(50_000.0)), 16);
    }
}
