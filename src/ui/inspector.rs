//! The inspector (route `/inspector`): every app instance with its status, version, source,
//! bytes, timings, last error and whether it was rolled back; uncaught errors and which app
//! each was attributed to; what was preloaded; the manifest in use; and whether this device
//! keeps the workspace's storage.

use leptos::prelude::*;

use super::decimal::fixed;
use crate::runtime::records::{use_runtime, CrashRecord, InstanceRecord};
use crate::runtime::{events, instances};

fn ms(value: Option<f64>) -> String {
    value
        .map(|v| format!("{} ms", fixed(v, 1)))
        .unwrap_or_else(|| "–".into())
}

fn megabytes(value: Option<f64>) -> String {
    value
        .map(|v| format!("{} MB", fixed(v / 1_000_000.0, 1)))
        .unwrap_or_else(|| "unknown".into())
}

#[component]
fn Row(record: InstanceRecord) -> impl IntoView {
    let r = record;
    let status = r.status.map(|s| s.name()).unwrap_or("not_loaded");
    let status_words = r.status.map(|s| s.describe()).unwrap_or("Not loaded yet");
    view! {
        <tr data-testid=format!("inspector-row-{}-{}", r.slot, r.app) data-status=status>
            <th scope="row" data-testid="inspector-app">{r.app.clone()}</th>
            <td data-testid="inspector-slot">{r.slot.clone()}</td>
            <td data-testid="inspector-status" title=status>{status_words}</td>
            <td data-testid="inspector-version">{r.version.clone()}</td>
            <td data-testid="inspector-source"><code>{r.source.clone()}</code></td>
            <td data-testid="inspector-bytes">{r.bytes.map(|b| b.to_string()).unwrap_or_else(|| "–".into())}</td>
            <td data-testid="inspector-fetch">{ms(r.fetch_ms)}</td>
            <td data-testid="inspector-compile">{ms(r.compile_ms)}</td>
            <td data-testid="inspector-init">{ms(r.init_ms)}</td>
            <td data-testid="inspector-mount">{ms(r.mount_ms)}</td>
            <td data-testid="inspector-rolled-back" data-rolled-back=if r.rolled_back.is_some() { "true" } else { "false" }>
                {r.rolled_back.as_ref().map(|r| r.notice()).unwrap_or_else(|| "No".into())}
            </td>
            <td data-testid="inspector-error">{r.last_error.clone().unwrap_or_else(|| "None".into())}</td>
        </tr>
    }
}

/// One uncaught error: when, whose (or nobody's), and whether it stopped that app.
#[component]
fn Crash(crash: CrashRecord) -> impl IntoView {
    let (app, whose) = match &crash.app {
        Some((slot, app, version)) => (
            app.clone(),
            format!(
                "{app} {version} in {slot}: {}",
                if crash.stopped {
                    "stopped"
                } else {
                    "had already stopped"
                }
            ),
        ),
        None => (
            String::new(),
            "Not from any app: no app was stopped".to_string(),
        ),
    };
    view! {
        <li data-testid="inspector-crash" data-app=app data-stopped=crash.stopped.to_string()>
            {format!("{} s · {whose} · {}", fixed(crash.at_ms / 1000.0, 0), crash.message)}
        </li>
    }
}

#[component]
pub fn Inspector() -> impl IntoView {
    let runtime = use_runtime();
    let rows = move || runtime.records.get().into_values().collect::<Vec<_>>();
    let storage = move || runtime.storage.get();
    let generated = move || {
        runtime.validated.with(|m| {
            m.as_ref()
                .map(|m| m.manifest.generated_at.clone())
                .unwrap_or_else(|| "not read yet".into())
        })
    };
    view! {
        <section class="inspector" aria-labelledby="inspector-heading" data-testid="inspector">
            <h1 id="inspector-heading">"Inspector"</h1>
            <p data-testid="inspector-manifest">"Manifest written " {generated}</p>
            <div class="table-scroll" tabindex="0" role="region" aria-label="App instances">
                <table data-testid="inspector-apps">
                    <caption>"Apps in each mount point"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"App"</th>
                            <th scope="col">"Mount point"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Version"</th>
                            <th scope="col">"Source"</th>
                            <th scope="col">"Bytes"</th>
                            <th scope="col">"Fetch"</th>
                            <th scope="col">"Compile"</th>
                            <th scope="col">"Init"</th>
                            <th scope="col">"Mount"</th>
                            <th scope="col">"Rolled back"</th>
                            <th scope="col">"Last error"</th>
                        </tr>
                    </thead>
                    <tbody>
                        // A handful of rows, redrawn whole when any record changes: no keyed
                        // diff (and no Debug text of every record as its key) is needed.
                        {move || rows().into_iter().map(|record| view! { <Row record=record/> }).collect_view()}
                    </tbody>
                </table>
            </div>
            <h2>"Uncaught errors"</h2>
            <Show
                when=move || runtime.crashes.with(|c| !c.is_empty())
                fallback=|| view! { <p data-testid="inspector-no-crashes">"None."</p> }
            >
                <ol data-testid="inspector-crashes">
                    {move || {
                        runtime
                            .crashes
                            .get()
                            .into_iter()
                            .map(|crash| view! { <Crash crash=crash/> })
                            .collect_view()
                    }}
                </ol>
            </Show>
            <h2>"Preloaded while idle"</h2>
            <p data-testid="inspector-preloaded">
                {move || {
                    let list = runtime.preloaded.get();
                    if list.is_empty() { "Nothing yet.".to_string() } else { list.join(", ") }
                }}
            </p>
            <p data-testid="inspector-live">
                {move || {
                    let _ = runtime.records.get();
                    format!(
                        "{} loaded app instances, {} event subscriptions.",
                        instances::count(),
                        events::count()
                    )
                }}
            </p>
            <h2>"Storage on this device"</h2>
            <dl>
                <dt>"Kept when space runs low"</dt>
                <dd
                    data-testid="storage-persisted"
                    data-persisted=move || match storage().persisted { Some(true) => "true", Some(false) => "false", None => "unknown" }
                >
                    {move || match storage().persisted {
                        Some(true) => "Yes: the browser granted persistent storage.",
                        Some(false) => "No: the browser may clear it under storage pressure.",
                        None => "Unknown: the browser has not answered.",
                    }}
                </dd>
                <dt>"Used"</dt>
                <dd data-testid="storage-estimate" data-usage=move || storage().usage.map(|u| u.to_string())>
                    {move || format!("{} of {}", megabytes(storage().usage), megabytes(storage().quota))}
                </dd>
            </dl>
        </section>
    }
}
