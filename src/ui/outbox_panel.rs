//! The outbox panel: every command still waiting or failed, with its app, age, attempts, last
//! error and region; failed ones can be retried or discarded. Records that could not be read
//! are listed too, never hidden.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use mfe_contract::CommandStatus;

use crate::clock::now_ms;
use crate::outbox::{self, ItemView};
use crate::state::use_shell;

fn age(ms: i64) -> String {
    let s = (ms / 1000).max(0);
    match s {
        0..=59 => format!("{s} s ago"),
        60..=3599 => format!("{} min ago", s / 60),
        _ => format!("{} h ago", s / 3600),
    }
}

fn status_text(item: &ItemView) -> &'static str {
    match item.status {
        CommandStatus::Pending => "waiting",
        CommandStatus::Inflight => "sending",
        CommandStatus::Delivered => "delivered",
        CommandStatus::Dead => "failed",
    }
}

#[component]
pub fn OutboxPanel(open: RwSignal<bool>) -> impl IntoView {
    let state = use_shell();
    let now = RwSignal::new(now_ms());
    // Ages tick while the panel is open.
    Effect::new(move |_| {
        if open.get() {
            spawn_local(async move {
                while open.get_untracked() {
                    now.set(now_ms());
                    gloo_timers::future::sleep(Duration::from_secs(1)).await;
                }
            });
        }
    });
    let act = move |id: String, retry: bool| {
        spawn_local(async move {
            let result = if retry {
                outbox::retry(state, &id).await
            } else {
                outbox::discard(state, &id).await
            };
            state.announcement.set(match (result, retry) {
                (Ok(()), true) => "Sending it again".to_string(),
                (Ok(()), false) => "Discarded".to_string(),
                (Err(e), _) => format!("That did not work: {e}"),
            });
        });
    };
    view! {
        <Show when=move || open.get()>
            <section
                id="outbox-panel"
                class="outbox-panel"
                data-testid="outbox-panel"
                aria-label="Changes on this device"
            >
                <h2>"Changes on this device"</h2>
                <Show when=move || state.outbox.with(|v| v.storage_error.is_some())>
                    <p role="alert" class="storage-error" data-testid="storage-error">
                        {move || state.outbox.with(|v| v.storage_error.clone())}
                    </p>
                </Show>
                <Show
                    when=move || state.outbox.with(|v| !v.items.is_empty())
                    fallback=|| view! { <p class="empty">"Everything has been sent."</p> }
                >
                    <ul class="outbox-items">
                        <For
                            each=move || state.outbox.with(|v| v.items.clone())
                            key=|i| (i.id.clone(), status_text(i), i.attempts, i.last_error.clone())
                            let:item
                        >
                            {
                                let id = item.id.clone();
                                let id2 = item.id.clone();
                                let dead = item.status == CommandStatus::Dead;
                                let enqueued = item.enqueued_at;
                                view! {
                                    <li
                                        class=format!("outbox-item {}", status_text(&item))
                                        data-testid="outbox-item"
                                        data-command-id=item.id.clone()
                                        data-status=status_text(&item)
                                    >
                                        <span class="what">
                                            <strong>{item.app.clone()}</strong>
                                            " · "
                                            {item.kind.clone()}
                                        </span>
                                        <span class="state">{status_text(&item)}</span>
                                        <span class="age">{move || age(now.get() - enqueued)}</span>
                                        <span class="attempts">
                                            {format!("{} attempt(s)", item.attempts)}
                                        </span>
                                        {item.region.clone().map(|r| view! { <span class="region">{r}</span> })}
                                        {item
                                            .dead_reason
                                            .clone()
                                            .or(item.last_error.clone())
                                            .map(|e| {
                                                view! {
                                                    <span class="reason" data-testid="outbox-reason">
                                                        {e}
                                                    </span>
                                                }
                                            })}
                                        <Show when=move || dead>
                                            {
                                                let retry_id = id.clone();
                                                let discard_id = id2.clone();
                                                view! {
                                                    <span class="actions">
                                                        <button
                                                            data-testid="dead-retry"
                                                            on:click=move |_| act(retry_id.clone(), true)
                                                        >
                                                            "Retry"
                                                        </button>
                                                        <button
                                                            class="secondary"
                                                            data-testid="dead-discard"
                                                            on:click=move |_| act(discard_id.clone(), false)
                                                        >
                                                            "Discard"
                                                        </button>
                                                    </span>
                                                }
                                            }
                                        </Show>
                                    </li>
                                }
                            }
                        </For>
                    </ul>
                </Show>
                <Show when=move || state.outbox.with(|v| !v.quarantined.is_empty())>
                    <h3>"Records that could not be read"</h3>
                    <p>"They are kept aside on this device and are not sent."</p>
                    <ul data-testid="quarantine">
                        <For
                            each=move || state.outbox.with(|v| v.quarantined.clone())
                            key=|q| q.key.clone()
                            let:q
                        >
                            <li data-testid="quarantined-item">{q.key.clone()} ": " {q.reason.clone()}</li>
                        </For>
                    </ul>
                </Show>
            </section>
        </Show>
    }
}
