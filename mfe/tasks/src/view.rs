//! The tasks screen.

use leptos::prelude::*;
use leptos::task::spawn_local;
use mfe_sdk::Host;
use serde::Serialize;

/// Payload of a `task.add` command.
#[derive(Serialize)]
struct AddTask {
    title: String,
}

#[derive(Clone)]
struct Added {
    id: String,
    title: String,
}

#[allow(non_snake_case)]
pub fn TasksView(host: Host) -> impl IntoView {
    let (title, set_title) = signal(String::new());
    let (added, set_added) = signal(Vec::<Added>::new());
    let (error, set_error) = signal(None::<String>);
    let (saving, set_saving) = signal(false);

    let submit = move |ev: web_sys::SubmitEvent| {
        ev.prevent_default();
        let text = title.get_untracked().trim().to_string();
        if text.is_empty() {
            set_error.set(Some("Write a title first.".into()));
            return;
        }
        let host = host.clone();
        set_saving.set(true);
        spawn_local(async move {
            let payload = AddTask {
                title: text.clone(),
            };
            match host.dispatch("task.add", "tasks", &payload).await {
                Ok(id) => {
                    set_added.update(|list| list.push(Added { id, title: text }));
                    set_title.set(String::new());
                    set_error.set(None);
                }
                // Keep what the user typed: nothing was saved.
                Err(err) => set_error.set(Some(format!("Not saved: {err}"))),
            }
            set_saving.set(false);
        });
    };

    view! {
        <section class="mfe-tasks" data-testid="tasks-app" aria-labelledby="tasks-heading">
            <h2 id="tasks-heading">"Tasks"</h2>
            <form on:submit=submit data-testid="task-form">
                <label for="task-title">"New task"</label>
                <input
                    id="task-title"
                    data-testid="task-title"
                    type="text"
                    autocomplete="off"
                    maxlength="200"
                    prop:value=move || title.get()
                    on:input=move |ev| set_title.set(event_target_value(&ev))
                />
                <button type="submit" data-testid="task-add" disabled=move || saving.get()>
                    "Add task"
                </button>
            </form>
            <Show when=move || error.get().is_some()>
                <p role="alert" class="error" data-testid="task-error">{move || error.get()}</p>
            </Show>
            <ul data-testid="task-list">
                <For each=move || added.get() key=|t| t.id.clone() let:task>
                    <li data-testid="task-item" data-command-id=task.id.clone()>
                        <span class="title">{task.title.clone()}</span>
                        <span class="badge">"saved"</span>
                    </li>
                </For>
            </ul>
        </section>
    }
}
