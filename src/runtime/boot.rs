//! Reading the manifest into the runtime: at boot, and again on navigation (at most every few
//! seconds) so a version published while the page is open takes effect on the next
//! navigation, without disturbing what is on screen in between.

use std::cell::RefCell;

use leptos::prelude::*;

use crate::clock::monotonic_ms;
use crate::manifest_source;
use crate::runtime::dev_override;
use crate::runtime::gate::RefreshGate;
use crate::runtime::records::RuntimeState;
use crate::state::{ManifestState, ShellState};

/// Shortest time between two manifest reads triggered by navigation.
const REFRESH_INTERVAL_MS: f64 = 3_000.0;

thread_local! {
    static GATE: RefCell<RefreshGate> = RefCell::new(RefreshGate::new(REFRESH_INTERVAL_MS));
}

/// Reads the manifest and publishes it to the shell; `Err` only when nothing usable exists.
pub async fn load(state: ShellState, runtime: RuntimeState) -> Result<(), String> {
    load_then(state, runtime, async {}).await
}

/// [`load`], which runs `before_publishing` between reading the manifest and publishing it:
/// at start, the deployment's runtime settings go in there, so the first mounts follow them.
pub async fn load_then(
    state: ShellState,
    runtime: RuntimeState,
    before_publishing: impl std::future::Future<Output = ()>,
) -> Result<(), String> {
    GATE.with(|g| g.borrow_mut().start_anyway(monotonic_ms()));
    let _under_way = ReadUnderWay;
    let loaded = manifest_source::load_validated().await;
    before_publishing.await;
    let loaded = match loaded {
        Ok(loaded) => loaded,
        Err(reason) => {
            state.manifest.set(ManifestState::Failed(reason.clone()));
            return Err(reason);
        }
    };
    let validated = dev_override::apply(loaded.manifest).await;
    runtime.manifest_notice.set(loaded.notice);
    let changed = runtime
        .validated
        .with_untracked(|current| current.as_ref() != Some(&validated));
    if changed {
        state
            .manifest
            .set(ManifestState::Ready(validated.manifest.clone()));
        runtime.validated.set(Some(validated));
    }
    Ok(())
}

/// Tells the gate the read ended, however it ended (returned, failed, or its task dropped).
struct ReadUnderWay;

impl Drop for ReadUnderWay {
    fn drop(&mut self) {
        GATE.with(|g| g.borrow_mut().finish());
    }
}

/// Re-reads the manifest after a navigation, unless it was read moments ago or a read is
/// still under way.
pub fn refresh(state: ShellState, runtime: RuntimeState) {
    if !GATE.with(|g| g.borrow_mut().try_start(monotonic_ms())) {
        return;
    }
    leptos::task::spawn_local(async move {
        // A failed refresh keeps the manifest in use: the open page must not break.
        let _ = load(state, runtime).await;
    });
}
