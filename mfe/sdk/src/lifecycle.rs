//! The `bootstrap` / `mount` / `unmount` lifecycles behind [`crate::export_lifecycles!`].
//!
//! Every app instance gets its own wasm-bindgen glue instance, so one mounted value per module
//! is all the state a lifecycle needs.

use std::any::Any;
use std::cell::RefCell;

use wasm_bindgen::JsValue;

use crate::{HostError, Props};

/// A micro app: mount renders into `props.element` and returns the live app; unmount is
/// `Drop` plus [`MicroApp::unmount`] for anything that needs explicit teardown.
pub trait MicroApp: Sized + 'static {
    /// Called once per glue instance before the first mount.
    fn bootstrap(_props: &Props) -> Result<(), HostError> {
        Ok(())
    }

    /// Renders the app. Errors become a rejected promise the shell shows in the app's panel.
    fn mount(props: Props) -> Result<Self, HostError>;

    /// Removes everything the app added. The default drops `self`, which is enough for apps
    /// whose views unmount on drop (e.g. Leptos' `UnmountHandle`).
    fn unmount(self) {}
}

thread_local! {
    static MOUNTED: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
}

fn settle(result: Result<(), HostError>) -> js_sys::Promise {
    match result {
        Ok(()) => js_sys::Promise::resolve(&JsValue::UNDEFINED),
        Err(err) => js_sys::Promise::reject(&err.into()),
    }
}

#[doc(hidden)]
pub fn bootstrap<A: MicroApp>(props: JsValue) -> js_sys::Promise {
    settle(Props::from_js(&props).and_then(|p| A::bootstrap(&p)))
}

#[doc(hidden)]
pub fn mount<A: MicroApp>(props: JsValue) -> js_sys::Promise {
    let result = Props::from_js(&props).and_then(|props| {
        if MOUNTED.with(|m| m.borrow().is_some()) {
            return Err(HostError::new("already mounted: unmount first"));
        }
        let app = A::mount(props)?;
        MOUNTED.with(|m| *m.borrow_mut() = Some(Box::new(app)));
        Ok(())
    });
    settle(result)
}

#[doc(hidden)]
pub fn unmount<A: MicroApp>(_props: JsValue) -> js_sys::Promise {
    let app = MOUNTED.with(|m| m.borrow_mut().take());
    if let Some(app) = app.and_then(|a| a.downcast::<A>().ok()) {
        app.unmount();
    }
    settle(Ok(()))
}
