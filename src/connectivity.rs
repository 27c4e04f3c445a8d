//! The device's own connectivity (`navigator.onLine` and its events).

use leptos::prelude::*;
use wasm_bindgen::prelude::*;

use crate::state::ShellState;

/// Whether the browser believes it has a network. `false` is reliable (no attempts are made
/// then); `true` only means "worth trying".
pub fn is_online() -> bool {
    web_sys::window()
        .map(|w| w.navigator().on_line())
        .unwrap_or(true)
}

/// Keeps `state.online` current and calls `on_change` whenever connectivity changes.
pub fn watch(state: ShellState, on_change: impl Fn(bool) + 'static) {
    state.online.set(is_online());
    let on_change = std::rc::Rc::new(on_change);
    let Some(window) = web_sys::window() else {
        return;
    };
    for (event, online) in [("online", true), ("offline", false)] {
        let on_change = on_change.clone();
        let listener = Closure::<dyn Fn()>::new(move || {
            state.online.set(online);
            state.announcement.set(if online {
                "Back online".to_string()
            } else {
                "You are offline. Changes are saved on this device and sent later.".to_string()
            });
            on_change(online);
        });
        let _ = window.add_event_listener_with_callback(event, listener.as_ref().unchecked_ref());
        // Listeners live as long as the page.
        listener.forget();
    }
}
