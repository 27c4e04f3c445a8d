//! The sidebar summary: counts `tasks.added` events. The payload type is this team's own;
//! only the topic name and field names are shared with the tasks team.

use leptos::prelude::*;
use mfe_sdk::{Host, Topic};
use serde::Deserialize;

#[derive(Deserialize, Clone)]
struct TaskAdded {
    title: String,
}

const TASK_ADDED: Topic<TaskAdded> = Topic::new("tasks.added");

#[allow(non_snake_case)]
pub fn Summary(host: Host) -> impl IntoView {
    let (count, set_count) = signal(0u32);
    let (last, set_last) = signal(None::<String>);
    let subscription = host.subscribe(&TASK_ADDED, move |event: TaskAdded| {
        set_count.update(|c| *c += 1);
        set_last.set(Some(event.title));
    });
    let error = subscription.as_ref().err().map(|e| e.to_string());
    // Owned by this view's reactive owner: dropped (unsubscribing) when the view unmounts.
    // The shell also ends every subscription of an app instance when it unmounts.
    let _subscription = StoredValue::new_local(subscription.ok());
    view! {
        <section class="mfe-card" data-testid="catalog-summary" aria-labelledby="catalog-summary-heading">
            <h2 id="catalog-summary-heading">"Today"</h2>
            <p data-testid="catalog-summary-count" data-count=move || count.get()>
                {move || match count.get() {
                    0 => "No tasks added while this page is open.".to_string(),
                    1 => "1 task added while this page is open.".to_string(),
                    n => format!("{n} tasks added while this page is open."),
                }}
            </p>
            {move || last.get().map(|title| view! {
                <p data-testid="catalog-summary-last">"Latest: " {title}</p>
            })}
            {error.map(|e| view! { <p role="alert" class="mfe-error">{e}</p> })}
        </section>
    }
}
