//! The status bar: which region serves this device (or why none does), each region's health
//! and latency, what is waiting in the outbox, and which apps on screen run an earlier
//! version because their current one failed. Always visible, announced politely.

use crate::navigation::Link;
use leptos::prelude::*;
use mfe_router::{DownCause, Health, RegionSnapshot};

use crate::outbox::StorageNoticeLine;
use crate::runtime::fallback::rollback_summary;
use crate::runtime::records::use_runtime;
use crate::runtime::status::Status;
use crate::state::use_shell;
use crate::ui::decimal::fixed;

fn health_name(health: Health) -> &'static str {
    match health {
        Health::Unknown => "unknown",
        Health::Up => "up",
        Health::Degraded => "degraded",
        Health::Down => "down",
    }
}

/// Why a region is down, in the words its chip shows (and `data-cause`).
fn down_text(cause: Option<DownCause>) -> &'static str {
    match cause {
        // Its operators took it out of rotation (its kill switch).
        Some(DownCause::Unhealthy) => "switched off",
        Some(DownCause::Refused | DownCause::Unreachable) => "unreachable",
        Some(DownCause::ProbeFailures) => "not answering",
        None => "down",
    }
}

fn latency_text(region: &RegionSnapshot) -> String {
    match (region.health, region.ewma_ms) {
        (Health::Down, _) => down_text(region.down_cause).into(),
        (_, Some(ms)) => format!("{} ms", fixed(ms, 0)),
        (_, None) => "checking…".into(),
    }
}

fn waiting_text(n: usize) -> String {
    match n {
        0 => "Nothing waiting to send".into(),
        1 => "1 change waiting to send".into(),
        n => format!("{n} changes waiting to send"),
    }
}

#[component]
pub fn StatusBar(panel_open: RwSignal<bool>) -> impl IntoView {
    let state = use_shell();
    let open_count = move || {
        let c = state.outbox.with(|v| v.counts);
        c.pending + c.inflight
    };
    let headline = move || {
        let waiting = open_count();
        if !state.online.get() {
            return format!("Offline · {waiting} saved on this device");
        }
        match state.router.get() {
            None => "Finding the nearest region…".to_string(),
            Some(s) if s.all_unreachable => {
                format!("All regions unreachable · {waiting} saved on this device")
            }
            Some(s) => match (s.current, s.failing_over) {
                (Some(current), true) => format!("Failing over… now {current}"),
                (Some(current), false) => format!("Served by {current}"),
                (None, _) => "Finding the nearest region…".to_string(),
            },
        }
    };
    let regions = move || state.router.get().map(|s| s.regions).unwrap_or_default();
    let runtime = use_runtime();
    // Only apps on screen: a rollback is retried from the current version on the next mount.
    let rollback = Memo::new(move |_| {
        runtime.records.with(|records| {
            let shown = records.values().filter_map(|r| {
                let on_screen = r.status == Some(Status::Mounted);
                r.rolled_back
                    .as_ref()
                    .filter(|_| on_screen)
                    .map(|rb| (r.app.as_str(), rb))
            });
            let apps = shown
                .clone()
                .map(|(app, _)| app)
                .collect::<Vec<_>>()
                .join(" ");
            rollback_summary(shown).map(|text| (text, apps))
        })
    });
    view! {
        <footer class="status-bar" data-testid="status-bar" aria-label="Connection status">
            <span
                class="serving"
                data-testid="current-region"
                data-region=move || state.router.get().and_then(|s| s.current).unwrap_or_default()
                data-online=move || state.online.get().to_string()
            >
                {headline}
            </span>
            <StorageNoticeLine/>
            <ul class="regions" aria-label="Regions">
                // Three chips, redrawn together when a region changes (nothing in them takes
                // focus).
                {move || regions().into_iter().map(|region| view! {
                    <li
                        class=format!(
                            "region {}{}",
                            health_name(region.health),
                            if region.is_current { " current" } else { "" },
                        )
                        data-testid=format!("region-{}", region.name)
                        data-state=health_name(region.health)
                        data-cause=region.down_cause.map(|c| down_text(Some(c)))
                        data-current=region.is_current.to_string()
                        title=format!("{} · breaker {:?}", region.url, region.breaker.state)
                    >
                        <span class="dot" aria-hidden="true"></span>
                        {region.name.clone()}
                        " "
                        <span class="latency">{latency_text(&region)}</span>
                    </li>
                }).collect_view()}
            </ul>
            {move || rollback.get().map(|(text, apps)| view! {
                <span class="rollback" data-testid="status-rollback" data-apps=apps>
                    {text}" · "<Link href="/inspector">"details"</Link>
                </span>
            })}
            <button
                class="outbox-toggle"
                data-testid="outbox-toggle"
                aria-expanded=move || panel_open.get().to_string()
                aria-controls="outbox-panel"
                on:click=move |_| panel_open.update(|o| *o = !*o)
            >
                <span data-testid="outbox-pending" data-count=open_count>
                    {move || waiting_text(open_count())}
                </span>
                <Show when=move || state.outbox.with(|v| v.counts.inflight > 0)>
                    <span class="sending" data-testid="outbox-sending">" · sending…"</span>
                </Show>
                <Show when=move || state.outbox.with(|v| v.counts.dead > 0)>
                    <span
                        class="failed"
                        data-testid="outbox-failed"
                        data-count=move || state.outbox.with(|v| v.counts.dead)
                    >
                        {move || format!(" · {} failed", state.outbox.with(|v| v.counts.dead))}
                    </span>
                </Show>
            </button>
        </footer>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_down_region_says_why_in_plain_words() {
        assert_eq!(down_text(Some(DownCause::Unhealthy)), "switched off");
        assert_eq!(down_text(Some(DownCause::Refused)), "unreachable");
        assert_eq!(down_text(Some(DownCause::Unreachable)), "unreachable");
        assert_eq!(down_text(Some(DownCause::ProbeFailures)), "not answering");
        assert_eq!(down_text(None), "down");
    }
}
