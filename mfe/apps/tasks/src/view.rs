//! The tasks screen: add a task (a durable command), see each one's delivery state, and the
//! tasks the nearest region holds, with how old that answer is.

use leptos::prelude::*;
use leptos::task::spawn_local;
use mfe_sdk::{CommandStatus, CommandUpdate, Host, QueryResult, Topic};
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

/// What the region answered for the `tasks` stream, or why it could not.
type ServerList = Result<QueryResult<Vec<AddTask>>, String>;

/// `data-status`, the badge's classes and its text.
fn badge(status: CommandStatus) -> (&'static str, &'static str, &'static str) {
    match status {
        CommandStatus::Pending => ("pending", "mfe-badge pending", "Saved on this device"),
        CommandStatus::Inflight => ("sending", "mfe-badge sending", "Sending…"),
        CommandStatus::Delivered => ("delivered", "mfe-badge delivered", "Sent"),
        CommandStatus::Dead => ("failed", "mfe-badge failed", "Not accepted"),
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

/// What the "On the server" paragraph shows: its test id, `data-stale`, its text, and the
/// titles to list (only for an answer).
type Summary = (
    Option<&'static str>,
    Option<&'static str>,
    String,
    Option<Vec<AddTask>>,
);

fn server_summary(server: &Option<ServerList>) -> Summary {
    match server {
        None => (None, None, "Loading…".into(), None),
        Some(Err(e)) => (
            Some("server-unavailable"),
            None,
            format!("Not available right now: {e}"),
            None,
        ),
        Some(Ok(list)) => (
            Some("server-age"),
            Some(if list.stale { "true" } else { "false" }),
            format!(
                "{} task(s) · from {} · {}{}",
                list.data.len(),
                list.region,
                age_text(list.as_of),
                if list.stale {
                    " · offline copy, may be out of date"
                } else {
                    ""
                },
            ),
            Some(list.data.clone()),
        ),
    }
}

fn refresh(host: Host, server: WriteSignal<Option<ServerList>>) {
    spawn_local(async move {
        let answer = host.query("/q/stream/tasks").await.map_err(|e| e.message);
        server.set(Some(answer));
    });
}

/// One task added here, with its delivery state (and the reason, once refused for good).
fn item_view(task: &Added) -> impl IntoView {
    let (state, class, label) = badge(task.status);
    let refused = task
        .detail
        .clone()
        .filter(|_| task.status == CommandStatus::Dead);
    view! {
        <li data-testid="task-item" data-command-id=task.id.clone() data-status=state>
            <span class="title">{task.title.clone()}</span>
            <span class=class>{label}</span>
            {refused.map(|d| view! { <span class="mfe-muted">{d}</span> })}
        </li>
    }
}

#[allow(non_snake_case)]
pub fn TasksView(host: Host) -> impl IntoView {
    // The field is the state: read on submit, cleared once what it held is saved.
    let title = NodeRef::<leptos::html::Input>::new();
    let (added, set_added) = signal(Vec::<Added>::new());
    let (error, set_error) = signal(None::<String>);
    let (saving, set_saving) = signal(false);
    let (server, set_server) = signal(None::<ServerList>);

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
        let Some(input) = title.get_untracked() else {
            return;
        };
        let text = input.value().trim().to_string();
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
                    if input.value().trim() == text_for_clear {
                        input.set_value("");
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
                    node_ref=title
                />
                <button type="submit" data-testid="task-add" disabled=saving>
                    "Add task"
                </button>
            </form>
            {move || error.get().map(|e| view! {
                <p role="alert" class="mfe-error" data-testid="task-error">{e}</p>
            })}
            <h3>"Added here"</h3>
            <ul class="mfe-list" data-testid="task-list">
                {move || added.with(|list| list.iter().map(item_view).collect_view())}
            </ul>
            <h3>"On the server"</h3>
            {move || {
                let (testid, stale, text, titles) = server.with(server_summary);
                view! {
                    <p class="mfe-muted" data-testid=testid data-stale=stale>{text}</p>
                    {titles.map(|titles| view! {
                        <ul class="mfe-list" data-testid="server-list">
                            {titles.into_iter().map(|t| view! { <li>{t.title}</li> }).collect_view()}
                        </ul>
                    })}
                }
            }}
            <button class="secondary" data-testid="server-refresh" on:click=move |_| refresh(refresh_host.clone(), set_server)>
                "Refresh"
            </button>
        </section>
    }
}
