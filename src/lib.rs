//! The shell: boots from `manifest.json`, mounts micro apps on their routes, keeps every user
//! command durable on the device before sending it, and sends it to the nearest healthy region.

pub mod app_slot;
/// The browser's clocks, the early reads of `index.html` and the app loader (shared with the
/// boot module).
pub use mfe_app_loader::{clock, early_reads, loader};
pub mod connectivity;
pub mod host_api;
/// `fetch` with a deadline (shared with the service worker's drain).
pub use mfe_outbox_web::fetch;
pub mod identity;
pub mod manifest_source;
pub mod navigation;
pub mod offline;
pub mod outbox;
pub mod routing;
pub mod runtime;
pub mod shell;
pub mod state;
pub mod ui;

/// Starts the shell in the current page.
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(shell::Shell);
}
