//! Reactive state shared by the shell's components, provided once as context.

use leptos::prelude::*;
use mfe_contract::Manifest;

use crate::regions::RegionView;

/// Where the manifest stands.
#[derive(Debug, Clone, PartialEq)]
pub enum ManifestState {
    Loading,
    Ready(Manifest),
    /// Nothing usable could be read; the reason is shown to the user.
    Failed(String),
}

/// Counts of the device's outbox, for the status bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub pending: usize,
    pub delivered: usize,
    pub failed: usize,
}

#[derive(Clone, Copy)]
pub struct ShellState {
    pub manifest: RwSignal<ManifestState>,
    pub regions: RwSignal<Vec<RegionView>>,
    pub outbox: RwSignal<OutboxCounts>,
    /// Last message worth announcing to screen readers (e.g. "Saved on this device").
    pub announcement: RwSignal<String>,
}

impl Default for ShellState {
    fn default() -> Self {
        Self {
            manifest: RwSignal::new(ManifestState::Loading),
            regions: RwSignal::new(Vec::new()),
            outbox: RwSignal::new(OutboxCounts::default()),
            announcement: RwSignal::new(String::new()),
        }
    }
}

pub fn use_shell() -> ShellState {
    expect_context::<ShellState>()
}
