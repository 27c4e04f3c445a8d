//! "A new version is ready" banner, and the offline-ready marker tests and users rely on.

use leptos::prelude::*;

use crate::offline;
use crate::state::use_shell;

#[component]
pub fn UpdateBanner() -> impl IntoView {
    let state = use_shell();
    view! {
        <span
            class="sr-only"
            data-testid="offline-status"
            data-ready=move || state.offline.with(|o| o.ready.to_string())
            data-cached-bytes=move || state.offline.with(|o| o.cached_bytes)
            data-cached-entries=move || state.offline.with(|o| o.cached_entries)
        >
            {move || {
                if state.offline.with(|o| o.ready) {
                    "Available offline"
                } else {
                    ""
                }
            }}
        </span>
        <Show when=move || state.offline.with(|o| o.update_waiting)>
            <div class="update-banner" role="status" data-testid="update-available">
                <span>"A new version of the workspace is ready. Your unsent changes are kept."</span>
                <button data-testid="update-apply" on:click=move |_| offline::update_now()>
                    "Update"
                </button>
            </div>
        </Show>
    }
}
