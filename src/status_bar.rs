//! The status bar: which region serves this device, each region's health and latency, and
//! what is waiting in the outbox.

use leptos::prelude::*;

use crate::regions::{self, Health};
use crate::state::use_shell;

#[component]
pub fn StatusBar() -> impl IntoView {
    let state = use_shell();
    let current = Memo::new(move |_| state.regions.with(|r| regions::current(r).map(|r| r.name)));
    let all_down = Memo::new(move |_| {
        state
            .regions
            .with(|r| !r.is_empty() && r.iter().all(|r| r.health == Health::Down))
    });
    view! {
        <footer class="status-bar" data-testid="status-bar" aria-label="Connection status">
            <span class="serving" data-testid="current-region">
                {move || match current.get() {
                    Some(name) => format!("Served by {name}"),
                    None if all_down.get() => "All regions unreachable".to_string(),
                    None => "Finding the nearest region…".to_string(),
                }}
            </span>
            <ul class="regions" aria-label="Regions">
                <For
                    each=move || state.regions.get()
                    key=|r| (r.name.clone(), r.health, r.latency_ms.map(|l| l.round() as i64))
                    let:region
                >
                    <li
                        class=format!("region {}", region.health.as_str())
                        data-testid=format!("region-{}", region.name)
                        data-state=region.health.as_str()
                        title=region.url.clone()
                    >
                        <span class="dot" aria-hidden="true"></span>
                        {region.name.clone()}
                        " "
                        <span class="latency">
                            {match (region.health, region.latency_ms) {
                                (Health::Down, _) => "down".to_string(),
                                (_, Some(ms)) => format!("{ms:.0} ms"),
                                (_, None) => "checking…".to_string(),
                            }}
                        </span>
                    </li>
                </For>
            </ul>
            <span class="outbox" data-testid="outbox-counts">
                <span data-testid="outbox-pending" data-count=move || state.outbox.get().pending>
                    {move || match state.outbox.get().pending {
                        0 => "Nothing waiting to send".to_string(),
                        1 => "1 change waiting to send".to_string(),
                        n => format!("{n} changes waiting to send"),
                    }}
                </span>
                <Show when=move || { state.outbox.get().failed > 0 }>
                    <span class="failed" data-testid="outbox-failed">
                        {move || format!(" · {} failed", state.outbox.get().failed)}
                    </span>
                </Show>
            </span>
        </footer>
    }
}
