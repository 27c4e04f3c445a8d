//! The outbox's browser adapters: everything between the sans-IO outbox core (`mfe-outbox`)
//! and the browser that does not depend on the page. The shell uses them for its drainer, and
//! the service worker (`crates/sw-drain`) for delivery while no page is open, so both read and
//! write IndexedDB, take the drain lock and talk to the regions with the very same code.
//!
//! Nothing here touches `window`: IndexedDB, `fetch`, timers, Web Locks and BroadcastChannel are
//! reached through the global scope, which is a window in a page and a `ServiceWorkerGlobalScope`
//! in the worker.

pub mod background;
pub mod fetch;
pub mod rounds;
pub mod store;
pub mod tabs;
pub mod transport;
