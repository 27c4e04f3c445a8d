//! Uncaught errors from an app's code after it was imported: `blame` ties them to an instance
//! by its glue's `blob:` URL, and the instance is stopped (BROKEN), taken out of the pool and
//! its slot told, so the slot shows its error panel. Nothing else is touched: errors that
//! cannot be tied to an instance stop no app.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use mfe_contract::AppDescriptor;

use super::{Instance, Shared, POOL};
use crate::runtime::blame::ScriptOwners;
use crate::runtime::status::Event;

/// Scripts of instances that are gone, kept so a late error from one of them is still known
/// as that app's (and does not stop a newer instance).
const KEEP_RETIRED: usize = 32;

struct Owner {
    instance: Weak<RefCell<Instance>>,
    slot: String,
    app: String,
    version: String,
}

thread_local! {
    static OWNERS: RefCell<ScriptOwners<Owner>> = RefCell::new(ScriptOwners::default());
}

/// Starts attributing errors thrown by code from `script` to `instance`.
pub(super) fn watch(script: &str, instance: &Shared, slot: &str, d: &AppDescriptor) {
    let owner = Owner {
        instance: Rc::downgrade(instance),
        slot: slot.to_string(),
        app: d.name.clone(),
        version: d.version.clone(),
    };
    OWNERS.with(|o| {
        o.borrow_mut().register(script, owner, KEEP_RETIRED, |o| {
            o.instance.strong_count() == 0
        })
    });
}

/// The app instance an uncaught error was attributed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blamed {
    pub slot: String,
    pub app: String,
    pub version: String,
    /// Whether this error stopped it (false: it had already stopped or failed).
    pub stopped: bool,
}

/// Attributes an uncaught error (see `blame`) and stops the instance it belongs to. `None`
/// when it belongs to no app instance: then nothing is stopped.
pub fn crashed(stack: Option<&str>, filename: Option<&str>, reason: &str) -> Option<Blamed> {
    let (blamed, instance) = OWNERS.with(|o| {
        o.borrow().blame(stack, filename).map(|o| {
            let blamed = Blamed {
                slot: o.slot.clone(),
                app: o.app.clone(),
                version: o.version.clone(),
                stopped: false,
            };
            (blamed, o.instance.upgrade())
        })
    })?;
    let stopped = instance.is_some_and(|i| stop(&i, reason));
    Some(Blamed { stopped, ..blamed })
}

/// While a lifecycle call runs, tripping its wire makes that call fail (and the usual failure
/// path, incl. rollback, follows). Otherwise the instance becomes BROKEN here.
fn stop(instance: &Shared, reason: &str) -> bool {
    let on_crash = {
        let mut i = instance.borrow_mut();
        let Ok(broken) = i.status.after(Event::Crashed) else {
            return i.trip.trip(reason);
        };
        i.status = broken;
        i.trip.trip(reason);
        i.host.end_mount();
        i.on_crash.take()
    };
    POOL.with(|p| p.borrow_mut().retain(|_, i| !Rc::ptr_eq(i, instance)));
    if let Some(tell_slot) = on_crash {
        tell_slot(reason.to_string());
    }
    true
}

/// Registered scripts (for the browser test of the adapter).
pub fn watched() -> usize {
    OWNERS.with(|o| o.borrow().len())
}
