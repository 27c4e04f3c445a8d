//! What happened to this device's stored data, in plain words: shown in the status bar and
//! announced. Set from the store's events (see `store`'s module docs for when each happens).

use leptos::prelude::*;

use crate::state::ShellState;

/// The storage situation the person using the page should know about.
#[derive(Debug, Clone, PartialEq)]
pub enum StorageNotice {
    /// This page's update of the database waits for another, older tab.
    Blocked,
    /// Another tab runs a newer version of the app and now owns the database.
    Outdated,
    /// The database was deleted or cleared under the page; it is being restored.
    Restoring,
    /// The database was restored and the page's unsent commands written back.
    Restored { unsent: usize },
    /// Restoring failed; the commands are still held by this page.
    RestoreFailed { unsent: usize, reason: String },
}

fn commands(n: usize) -> String {
    match n {
        1 => "1 unsent command".to_string(),
        n => format!("{n} unsent commands"),
    }
}

impl StorageNotice {
    /// A stable name, for styling and tests.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Blocked => "blocked",
            Self::Outdated => "outdated",
            Self::Restoring => "restoring",
            Self::Restored { .. } => "restored",
            Self::RestoreFailed { .. } => "restore-failed",
        }
    }

    pub fn text(&self) -> String {
        match self {
            Self::Blocked => "Close the other tabs of this app to finish updating; your saved \
                              commands are safe."
                .to_string(),
            Self::Outdated => "This app was updated in another tab; reload to keep saving here. \
                               Your saved commands are safe."
                .to_string(),
            Self::Restoring => {
                "Stored data was cleared by the browser; saving your unsent commands again…"
                    .to_string()
            }
            Self::Restored { unsent: 0 } => {
                "Stored data was cleared by the browser; nothing unsent was lost.".to_string()
            }
            Self::Restored { unsent } => format!(
                "Stored data was cleared by the browser; {} {} saved again.",
                commands(*unsent),
                if *unsent == 1 { "was" } else { "were" }
            ),
            Self::RestoreFailed { unsent, reason } => format!(
                "Stored data was cleared by the browser and {} could not be saved again \
                 ({reason}). Keep this tab open: this page still holds them and tries again.",
                commands(*unsent)
            ),
        }
    }
}

thread_local! {
    /// Not owned by any component, so it lives as long as the page whatever mounts first.
    static NOTICE: ArcRwSignal<Option<StorageNotice>> = ArcRwSignal::new(None);
}

fn signal() -> ArcRwSignal<Option<StorageNotice>> {
    NOTICE.with(Clone::clone)
}

/// Shows `notice` (and announces it), replacing the previous one.
pub(super) fn show(state: ShellState, notice: StorageNotice) {
    state.announcement.set(notice.text());
    signal().set(Some(notice));
}

/// Removes the notice if it is of the given kind (e.g. "blocked" once the open went through).
pub(super) fn clear(kind: &str) {
    let notice = signal();
    if notice.with_untracked(|n| n.as_ref().is_some_and(|n| n.kind() == kind)) {
        notice.set(None);
    }
}

/// The notice line of the status bar; empty when all is well.
#[component]
pub fn StorageNoticeLine() -> impl IntoView {
    let notice = signal();
    move || {
        let dismiss = signal();
        notice.get().map(|n| {
            let action = match &n {
                StorageNotice::Outdated => Some(
                    view! {
                        <button
                            data-testid="storage-notice-reload"
                            on:click=|_| {
                                if let Some(w) = web_sys::window() {
                                    let _ = w.location().reload();
                                }
                            }
                        >
                            "Reload"
                        </button>
                    }
                    .into_any(),
                ),
                StorageNotice::Restored { .. } => Some(
                    view! {
                        <button
                            data-testid="storage-notice-dismiss"
                            on:click=move |_| dismiss.set(None)
                        >
                            "OK"
                        </button>
                    }
                    .into_any(),
                ),
                _ => None,
            };
            view! {
                <span
                    class="storage-notice storage-error"
                    role="alert"
                    data-testid="storage-notice"
                    data-kind=n.kind()
                >
                    {n.text()}
                    " "
                    {action}
                </span>
            }
        })
    }
}
