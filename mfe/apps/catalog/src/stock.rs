//! The catalog page: the `tasks` read model from the nearest region (`host.query`), with which
//! region answered and how old the answer is.

use leptos::prelude::*;
use leptos::task::spawn_local;
use mfe_sdk::{Host, QueryResult};

fn age_text(as_of: i64) -> String {
    let seconds = ((js_sys::Date::now() as i64 - as_of) / 1000).max(0);
    match seconds {
        0..=4 => "just now".into(),
        5..=59 => format!("{seconds} s ago"),
        60..=3599 => format!("{} min ago", seconds / 60),
        _ => format!("{} h ago", seconds / 3600),
    }
}

type Answer = Option<Result<QueryResult<Vec<serde_json::Value>>, String>>;

fn load(host: Host, set: WriteSignal<Answer>) {
    spawn_local(async move {
        let answer = host
            .query::<Vec<serde_json::Value>>("/q/stream/tasks")
            .await
            .map_err(|e| e.to_string());
        set.set(Some(answer));
    });
}

#[allow(non_snake_case)]
pub fn Stock(host: Host) -> impl IntoView {
    let (answer, set_answer) = signal(None::<Result<QueryResult<Vec<serde_json::Value>>, String>>);
    load(host.clone(), set_answer);
    let refresh_host = host.clone();
    view! {
        <section class="mfe-card" data-testid="catalog-app" aria-labelledby="catalog-heading">
            <h2 id="catalog-heading">"Catalog"</h2>
            {move || match answer.get() {
                None => view! { <p role="status">"Asking the nearest region…"</p> }.into_any(),
                Some(Err(e)) => view! {
                    <p role="alert" class="mfe-error" data-testid="catalog-error">{format!("Could not read the catalog: {e}")}</p>
                }.into_any(),
                Some(Ok(q)) => view! {
                    <p data-testid="catalog-count" data-count=q.data.len()>
                        {format!("{} tasks in the region's catalog.", q.data.len())}
                    </p>
                    <p data-testid="catalog-age" data-as-of=q.as_of data-stale=q.stale.to_string()>
                        {format!(
                            "{} from {}, {}.",
                            if q.stale { "Saved answer" } else { "Answer" },
                            q.region,
                            age_text(q.as_of)
                        )}
                    </p>
                }.into_any(),
            }}
            <button type="button" data-testid="catalog-refresh" on:click=move |_| load(refresh_host.clone(), set_answer)>
                "Refresh"
            </button>
        </section>
    }
}
