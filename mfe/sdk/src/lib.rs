//! The micro-app SDK: everything a team needs to run inside the shell without depending on it.
//!
//! * [`Host`]: a typed handle to the host API the shell passes to `mount(props)`
//!   (dispatch durable commands, query regional read models, publish and subscribe to typed
//!   [`Topic`]s, navigate).
//! * [`MicroApp`] and [`export_lifecycles!`]: implement one trait, write one macro line, and the
//!   crate exports the `bootstrap` / `mount` / `unmount` lifecycles the shell calls.
//! * [`Props`]: what the shell hands to each lifecycle.
//!
//! Apps depend on this crate and on `mfe-contract` only, never on the shell.

pub mod error;
pub mod host;
pub mod lifecycle;
pub mod props;
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
