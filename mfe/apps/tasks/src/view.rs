//! The tasks screen: add a task (a durable command), see each one's delivery state, and the
//! tasks the nearest region holds, with how old that answer is.

use leptos::prelude::*;
use leptos::task::spawn_local;
use mfe_sdk::{CommandStatus, CommandUpdate, Host, Topic};
use serde::{Deserialize, Serialize};

/// Payload of a `task.add` command.
#[derive(Serialize, Deserialize, Clone, PartialEq)]
struct AddTask {
    title: String,
}

/// Event other apps may follow: a task was saved on this device. The topic name and the
/// payload's fields are the contract; subscribers declare their own matching type.
#[derive(Serialize)]
struct TaskAdded {
    id: String,
    title: String,
}

const TASK_ADDED: Topic<TaskAdded> = Topic::new("tasks.added");

#[derive(Clone, PartialEq)]
struct Added {
    id: String,
    title: String,
    status: CommandStatus,
    detail: Option<String>,
}

#[derive(Clone, PartialEq)]
struct ServerList {
    titles: Vec<String>,
    as_of: i64,
    region: String,
    stale: bool,
}

fn badge(status: CommandStatus) -> (&'static str, &'static str) {
    match status {
        CommandStatus::Pending => ("pending", "Saved on this device"),
        CommandStatus::Inflight => ("sending", "Sending…"),
        CommandStatus::Delivered => ("delivered", "Sent"),
        CommandStatus::Dead => ("failed", "Not accepted"),
    }
}

fn age_text(as_of: i64) -> String {
    let seconds = ((js_sys::Date::now() as i64 - as_of) / 1000).max(0);
    match seconds {
        0..=4 => "just now".into(),
        5..=59 => format!("{seconds} s ago"),
        60..=3599 => format!("{} min ago", seconds / 60),
        _ => format!("{} h ago", seconds / 3600),
    }
}

fn refresh(host: Host, server: WriteSignal<Option<Result<ServerList, String>>>) {
    spawn_local(async move {
        let answer = host
            .query::<Vec<AddTask>>("/q/stream/tasks")
            .await
            .map(|q| ServerList {
                titles: q.data.into_iter().map(|t| t.title).collect(),
                as_of: q.as_of,
                region: q.region,
                stale: q.stale,
            })
            .map_err(|e| e.to_string());
        server.set(Some(answer));
    });
}

#[allow(non_snake_case)]
pub fn TasksView(host: Host) -> impl IntoView {
    let (title, set_title) = signal(String::new());
    let (added, set_added) = signal(Vec::<Added>::new());
    let (error, set_error) = signal(None::<String>);
    let (saving, set_saving) = signal(false);
    let (server, set_server) = signal(None::<Result<ServerList, String>>);

    let status_host = host.clone();
    let on_update = move |update: CommandUpdate| {
        set_added.update(|list| {
            if let Some(item) = list.iter_mut().find(|a| a.id == update.id) {
                item.status = update.status;
                item.detail = update.last_error.clone();
            }
        });
        if update.status == CommandStatus::Delivered {
            refresh(status_host.clone(), set_server);
        }
    };
    // Lives as long as this view; dropping it unsubscribes.
    let subscription = host.on_command_status(on_update).ok();
    StoredValue::new_local(subscription);
    refresh(host.clone(), set_server);

    let submit_host = host.clone();
    let submit = move |ev: web_sys::SubmitEvent| {
        ev.prevent_default();
        let text = title.get_untracked().trim().to_string();
        if text.is_empty() {
            set_error.set(Some("Write a title first.".into()));
            return;
        }
        let host = submit_host.clone();
        set_saving.set(true);
        spawn_local(async move {
            let text_for_clear = text.clone();
            let payload = AddTask {
                title: text.clone(),
            };
            match host.dispatch("task.add", "tasks", &payload).await {
                Ok(id) => {
                    let event = TaskAdded {
                        id: id.clone(),
                        title: text.clone(),
                    };
                    // A missed notification is not worth an error: the task is saved.
                    let _ = host.publish(&TASK_ADDED, &event);
                    let status = host.command_status(&id).unwrap_or(CommandStatus::Pending);
                    set_added.update(|list| {
                        list.push(Added {
                            id,
                            title: text,
                            status,
                            detail: None,
                        })
                    });
                    // Clear only what was saved: the user may already be typing the next one.
                    if title.get_untracked().trim() == text_for_clear {
                        set_title.set(String::new());
                    }
                    set_error.set(None);
                }
                // Keep what the user typed: nothing was saved.
                Err(err) => set_error.set(Some(format!("Not saved: {err}"))),
            }
            set_saving.set(false);
        });
    };

    let refresh_host = host.clone();
    view! {
        <section class="mfe-card mfe-tasks" data-testid="tasks-app" aria-labelledby="tasks-heading">
            <h2 id="tasks-heading">"Tasks"</h2>
            <form class="mfe-form" on:submit=submit data-testid="task-form">
                <label for="task-title">"New task"</label>
                <input
                    id="task-title"
                    data-testid="task-title"
                    type="text"
                    autocomplete="off"
                    maxlength="200"
                    placeholder="What needs doing?"
                    prop:value=move || title.get()
                    on:input=move |ev| set_title.set(event_target_value(&ev))
                />
                <button type="submit" data-testid="task-add" disabled=move || saving.get()>
                    "Add task"
                </button>
            </form>
            <Show when=move || error.get().is_some()>
                <p role="alert" class="mfe-error" data-testid="task-error">{move || error.get()}</p>
            </Show>
            <h3>"Added here"</h3>
            <ul class="mfe-list" data-testid="task-list">
                <For each=move || added.get() key=|t| (t.id.clone(), badge(t.status).0) let:task>
                    <li data-testid="task-item" data-command-id=task.id.clone() data-status=badge(task.status).0>
                        <span class="title">{task.title.clone()}</span>
                        <span class=format!("mfe-badge {}", badge(task.status).0)>{badge(task.status).1}</span>
                        {task.detail.clone().filter(|_| task.status == CommandStatus::Dead).map(|d| view! { <span class="mfe-muted">{d}</span> })}
                    </li>
                </For>
            </ul>
            <h3>"On the server"</h3>
            {move || match server.get() {
                None => view! { <p class="mfe-muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! {
                    <p class="mfe-muted" data-testid="server-unavailable">
                        {format!("Not available right now: {e}")}
                    </p>
                }.into_any(),
                Some(Ok(list)) => view! {
                    <p class="mfe-muted" data-testid="server-age" data-stale=list.stale.to_string()>
                        {format!(
                            "{} task(s) · from {} · {}{}",
                            list.titles.len(),
                            list.region,
                            age_text(list.as_of),
                            if list.stale { " · offline copy, may be out of date" } else { "" },
                        )}
                    </p>
                    <ul class="mfe-list" data-testid="server-list">
                        {list.titles.into_iter().map(|t| view! { <li>{t}</li> }).collect_view()}
                    </ul>
                }.into_any(),
            }}
            <button class="secondary" data-testid="server-refresh" on:click=move |_| refresh(refresh_host.clone(), set_server)>
                "Refresh"
            </button>
        </section>
    }
}
