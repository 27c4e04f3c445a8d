//! The micro-app SDK: everything a team needs to run inside the shell without depending on it.
//!
//! * [`Host`]: a typed handle to the host API the shell passes to `mount(props)`
//!   (dispatch durable commands, query regional read models, publish and subscribe to typed
//!   [`Topic`]s, navigate).
//! * [`MicroApp`] and [`export_lifecycles!`]: implement one trait, write one macro line, and the
//!   crate exports the `bootstrap` / `mount` / `unmount` lifecycles the shell calls.
//! * [`Props`]: what the shell hands to each lifecycle.
//! * `testing` (feature `testing`, for tests only): a mock host to test an app without the
//!   shell.
//!
//! Apps depend on this crate and on `mfe-contract` only, never on the shell.
//!
//! # Testing an app without the shell
//!
//! Enable the test kit in the app's `[dev-dependencies]` only (so the mock never ships):
//!
//! ```toml
//! [dev-dependencies]
//! mfe-sdk = { workspace = true, features = ["testing"] }
//! wasm-bindgen-test.workspace = true
//! ```
//!
//! Then mount the app against a `testing::MockHost` in a browser test
//! (`cargo test --target wasm32-unknown-unknown -p my-app`) and check what it sent to the host:
//!
//! ```ignore
//! use std::time::Duration;
//! use mfe_sdk::testing::{wait_until, MockHost};
//! use mfe_sdk::CommandStatus;
//! use wasm_bindgen_test::*;
//!
//! wasm_bindgen_test_configure!(run_in_browser);
//!
//! #[wasm_bindgen_test]
//! async fn adding_a_task_dispatches_a_command() {
//!     let mock = MockHost::builder().answer("/q/stream/tasks", &Vec::<()>::new()).build();
//!     let app = mock.mount::<my_app::Tasks>().unwrap();
//!     app.type_into("[data-testid=task-title]", "milk");
//!     app.submit("[data-testid=task-form]");
//!     wait_until(|| mock.dispatched().len() == 1, Duration::from_secs(2)).await.unwrap();
//!     assert_eq!(mock.dispatched()[0].payload["title"], "milk");
//!
//!     mock.deliver_all(); // or mock.fail_next("rejected"), mock.set_offline(true), …
//!     assert_eq!(mock.dispatched()[0].status, CommandStatus::Delivered);
//!     // The app's view follows in a later task: wait_until(|| app.find(…) …).
//! } // dropping `app` unmounts it
//! ```
//!
//! The mock is `js/mock-host.js`, a plain ES module: JavaScript apps import the same
//! `MockHost` for their own tests or for a page that runs the app on its own.

mod codec;
pub mod error;
pub mod host;
pub mod lifecycle;
pub mod props;
#[cfg(feature = "testing")]
pub mod testing;
pub mod topic;

pub use error::HostError;
pub use host::{CommandUpdate, Host, QueryResult, Subscription};
pub use lifecycle::MicroApp;
pub use mfe_contract::{CommandStatus, HOST_API_VERSION};
pub use props::Props;
pub use topic::Topic;

/// Re-exports the lifecycle macro needs, so apps do not have to name them.
#[doc(hidden)]
pub mod __private {
    pub use js_sys;
    pub use wasm_bindgen;
}

/// Exports `bootstrap`, `mount` and `unmount` for a type implementing [`MicroApp`].
///
/// ```ignore
/// struct Tasks { _view: leptos::mount::UnmountHandle<...> }
/// impl mfe_sdk::MicroApp for Tasks { ... }
/// mfe_sdk::export_lifecycles!(Tasks);
/// ```
// rustfmt does not format this macro body the same way twice; keep it as written.
#[rustfmt::skip]
#[macro_export]
macro_rules! export_lifecycles {
    ($app:ty) => {
        /// Lifecycle called once before the first mount.
        #[$crate::__private::wasm_bindgen::prelude::wasm_bindgen(wasm_bindgen = $crate::__private::wasm_bindgen)]
        pub fn bootstrap(
            props: $crate::__private::wasm_bindgen::JsValue,
        ) -> $crate::__private::js_sys::Promise {
            $crate::lifecycle::bootstrap::<$app>(props)
        }

        /// Lifecycle that renders the app into `props.element`.
        #[$crate::__private::wasm_bindgen::prelude::wasm_bindgen(wasm_bindgen = $crate::__private::wasm_bindgen)]
        pub fn mount(
            props: $crate::__private::wasm_bindgen::JsValue,
        ) -> $crate::__private::js_sys::Promise {
            $crate::lifecycle::mount::<$app>(props)
        }

        /// Lifecycle that removes the app's DOM and drops its state.
        #[$crate::__private::wasm_bindgen::prelude::wasm_bindgen(wasm_bindgen = $crate::__private::wasm_bindgen)]
        pub fn unmount(
            props: $crate::__private::wasm_bindgen::JsValue,
        ) -> $crate::__private::js_sys::Promise {
            $crate::lifecycle::unmount::<$app>(props)
        }
    };
}
