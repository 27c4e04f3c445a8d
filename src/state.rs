//! Reactive state shared by the shell's components, provided once as context.

use leptos::prelude::*;
use mfe_contract::Manifest;
use mfe_router::RouterSnapshot;

use crate::outbox::OutboxView;

/// Where the manifest stands.
#[derive(Debug, Clone, PartialEq)]
pub enum ManifestState {
    Loading,
    Ready(Manifest),
    /// Nothing usable could be read; the reason is shown to the user.
    Failed(String),
}

#[derive(Clone, Copy)]
pub struct ShellState {
    pub manifest: RwSignal<ManifestState>,
    /// The router's latest picture of the regions (None until regions are known).
    pub router: RwSignal<Option<RouterSnapshot>>,
    pub outbox: RwSignal<OutboxView>,
    pub online: RwSignal<bool>,
    /// Service worker, offline readiness and waiting updates.
    pub offline: RwSignal<crate::offline::OfflineStatus>,
    /// Last message worth announcing to screen readers (e.g. "Saved on this device").
    pub announcement: RwSignal<String>,
}

impl Default for ShellState {
    fn default() -> Self {
        Self {
            manifest: RwSignal::new(ManifestState::Loading),
            router: RwSignal::new(None),
            outbox: RwSignal::new(OutboxView::default()),
            online: RwSignal::new(true),
            offline: RwSignal::new(Default::default()),
            announcement: RwSignal::new(String::new()),
        }
    }
}

pub fn use_shell() -> ShellState {
    expect_context::<ShellState>()
}
