//! App instances, one per app version per mount point (DESIGN §3.1): each has its own glue
//! instance, wasm memory and host object. An instance that unmounted cleanly stays loaded
//! (NOT_MOUNTED) so coming back to the route is fast; one that failed is dropped at once and
//! never reused; a newer version in the same mount point replaces the older one. An uncaught
//! error from an instance's code at any time stops it (`crash`). The page's first routed app
//! may be one the boot module started, which the shell adopts (`adopt`).

mod adopt;
mod crash;

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use futures::future::{select, Either};
use leptos::prelude::GetUntracked;
use mfe_contract::AppDescriptor;
use wasm_bindgen::JsValue;

pub use adopt::{boot_is_loading, release_unclaimed};
pub use crash::{crashed, watched, Blamed};

use crate::clock::monotonic_ms;
use crate::host_api::{self, HostHandle};
use crate::loader;
use crate::runtime::records::RuntimeState;
use crate::runtime::status::{Event, Status};
use crate::runtime::tripwire::Tripwire;
use crate::state::ShellState;

struct Instance {
    module: JsValue,
    host: HostHandle,
    status: Status,
    /// Tripped when the instance crashed or failed: a pending lifecycle call ends at once.
    trip: Tripwire,
    /// Set while the instance is on screen: tells its slot that it crashed.
    on_crash: Option<Rc<dyn Fn(String)>>,
}

type Shared = Rc<RefCell<Instance>>;

thread_local! {
    static POOL: RefCell<HashMap<String, Shared>> = RefCell::new(HashMap::new());
    static LOADING: Cell<usize> = const { Cell::new(0) };
}

/// How often, and how many times, a mount waits for the same instance's unmount to finish.
const UNMOUNT_POLL: Duration = Duration::from_millis(10);
const UNMOUNT_POLLS: u32 = 500;

/// What a mount needs from the shell.
#[derive(Clone)]
pub struct Context {
    pub state: ShellState,
    pub runtime: RuntimeState,
    pub navigate: Rc<dyn Fn(&str)>,
}

/// Where an app goes: mount point, element and route details.
pub struct Target {
    pub slot: String,
    pub element: web_sys::HtmlElement,
    pub base_path: String,
    pub params: BTreeMap<String, String>,
    /// Called (with the reason) if the instance crashes while mounted here; by then it is
    /// BROKEN, out of the pool and its host subscriptions are ended.
    pub on_crash: Rc<dyn Fn(String)>,
}

/// A mounted instance; hand it back to [`unmount`].
pub struct Mounted {
    key: String,
    instance: Shared,
    props: JsValue,
}

/// Loads currently running (fetch, compile, init); preloading waits for zero.
pub fn loads_in_progress() -> usize {
    LOADING.with(Cell::get)
}

/// Live instances (for the inspector and the memory test).
pub fn count() -> usize {
    POOL.with(|p| p.borrow().len())
}

/// Steps the status machine and tells the slot; an impossible step is a bug worth a warning,
/// never a reason to stop.
struct Tracker<'a> {
    status: Status,
    report: &'a dyn Fn(Status),
}

impl Tracker<'_> {
    fn go(&mut self, event: Event) -> Status {
        match self.status.after(event) {
            Ok(next) => self.status = next,
            Err(e) => leptos::logging::warn!("app status: {e}"),
        }
        (self.report)(self.status);
        self.status
    }
}

fn props(target: &Target, host: &HostHandle, d: &AppDescriptor) -> JsValue {
    loader::lifecycle_props(
        &target.element,
        &host.object,
        d,
        &target.base_path,
        &target.params,
        &target.slot,
    )
}

/// Drops the other versions of this app in this mount point that are not on screen.
fn evict_others(slot: &str, d: &AppDescriptor, keep: &str) {
    let prefix = format!("{slot} {}@", d.name);
    POOL.with(|p| {
        p.borrow_mut().retain(|key, instance| {
            key == keep
                || !key.starts_with(&prefix)
                || !matches!(instance.borrow().status, Status::NotMounted)
        })
    });
}

async fn wait_for_unmount(key: &str) {
    for _ in 0..UNMOUNT_POLLS {
        let busy = POOL.with(|p| {
            p.borrow()
                .get(key)
                .is_some_and(|i| i.borrow().status == Status::Unmounting)
        });
        if !busy {
            return;
        }
        gloo_timers::future::sleep(UNMOUNT_POLL).await;
    }
}

/// Runs a lifecycle call of `instance` unless the instance crashes first; a call that succeeds
/// after a crash was attributed to the instance counts as failed.
async fn guarded<T>(
    trip: &Tripwire,
    call: impl Future<Output = Result<T, String>>,
) -> Result<T, String> {
    let crashed = |reason: String| format!("the app crashed: {reason}");
    match select(std::pin::pin!(call), trip.tripped()).await {
        Either::Left((result, _)) => match trip.reason() {
            Some(reason) => Err(crashed(reason)),
            None => result,
        },
        Either::Right((reason, _)) => Err(crashed(reason)),
    }
}

/// Loads (unless an idle instance is ready), bootstraps and mounts version `d` into `target`.
/// On failure returns the status the app ended in (LOAD_ERROR or BROKEN) and the reason.
pub async fn mount(
    ctx: &Context,
    d: &AppDescriptor,
    target: &Target,
    report: &dyn Fn(Status),
) -> Result<Mounted, (Status, String)> {
    let key = format!("{} {}", target.slot, loader::prepared_key(d));
    let config = ctx.runtime.config.get_untracked();
    let (slot, name) = (target.slot.as_str(), d.name.as_str());
    ctx.runtime.record(slot, name, |r| {
        r.version = d.version.clone();
        r.source = d.entry.clone();
    });
    // The page's routed app may already run, started by the boot module before the shell.
    if let Some(outcome) = adopt::claim(ctx, d, target, report).await {
        return outcome;
    }
    wait_for_unmount(&key).await;
    let idle = POOL.with(|p| p.borrow().get(&key).cloned());
    let idle = idle.filter(|i| i.borrow().status == Status::NotMounted);
    let mut tracker = Tracker {
        status: if idle.is_some() {
            Status::NotMounted
        } else {
            Status::NotLoaded
        },
        report,
    };
    let instance = match idle {
        Some(instance) => instance,
        None => {
            POOL.with(|p| p.borrow_mut().remove(&key));
            load(ctx, d, target, &mut tracker, config.load()).await?
        }
    };
    let (module, props, trip) = {
        let i = instance.borrow();
        (i.module.clone(), props(target, &i.host, d), i.trip.clone())
    };
    instance.borrow_mut().status = tracker.go(Event::MountStarted);
    let started = monotonic_ms();
    let mounted = loader::call(&module, "mount", &props, config.mount());
    match guarded(&trip, mounted).await {
        Ok(_) => {
            let mut i = instance.borrow_mut();
            i.status = tracker.go(Event::Mounted);
            i.on_crash = Some(target.on_crash.clone());
            let mount_ms = monotonic_ms() - started;
            ctx.runtime
                .record(slot, name, |r| r.mount_ms = Some(mount_ms));
            drop(i);
            Ok(Mounted {
                key,
                instance,
                props,
            })
        }
        Err(reason) => {
            let status = tracker.go(Event::Failed);
            discard(&instance, status, &reason);
            Err((status, reason))
        }
    }
}

/// Creates a new instance of `d`: a fresh glue instance (watched for crashes from then on; for
/// the first instance of a wasm app, the one imported while it was prepared), wasm init and
/// `bootstrap`. It joins the pool once bootstrapped.
async fn load(
    ctx: &Context,
    d: &AppDescriptor,
    target: &Target,
    tracker: &mut Tracker<'_>,
    timeout: Duration,
) -> Result<Shared, (Status, String)> {
    let config = ctx.runtime.config.get_untracked();
    let (slot, name) = (target.slot.as_str(), d.name.as_str());
    tracker.go(Event::LoadStarted);
    LOADING.with(|l| l.set(l.get() + 1));
    let loaded = async {
        let prepared = loader::prepare(d, timeout).await?;
        let started = monotonic_ms();
        let imported = loader::import(&prepared).await?;
        let instance = Rc::new(RefCell::new(Instance {
            module: imported.module,
            host: host_api::create(ctx.state, name, ctx.navigate.clone()),
            status: Status::Loading,
            trip: Tripwire::default(),
            on_crash: None,
        }));
        crash::watch(&imported.script, &instance, slot, d);
        let (module, trip) = {
            let i = instance.borrow();
            (i.module.clone(), i.trip.clone())
        };
        guarded(&trip, loader::init(&prepared, &module, timeout)).await?;
        Ok::<_, String>((prepared, instance, monotonic_ms() - started))
    }
    .await;
    LOADING.with(|l| l.set(l.get().saturating_sub(1)));
    let (prepared, instance, init_ms) = match loaded {
        Ok(done) => done,
        Err(reason) => {
            loader::forget(d);
            return Err((tracker.go(Event::LoadFailed), reason));
        }
    };
    ctx.runtime.record(slot, name, |r| {
        r.bytes = Some(prepared.bytes);
        r.fetch_ms = Some(prepared.fetch_ms);
        r.compile_ms = Some(prepared.compile_ms);
        r.init_ms = Some(init_ms);
    });
    instance.borrow_mut().status = tracker.go(Event::Loaded);
    instance.borrow_mut().status = tracker.go(Event::BootstrapStarted);
    let (module, bootstrap_props, trip) = {
        let i = instance.borrow();
        (i.module.clone(), props(target, &i.host, d), i.trip.clone())
    };
    let bootstrap = loader::call(&module, "bootstrap", &bootstrap_props, config.bootstrap());
    if let Err(reason) = guarded(&trip, bootstrap).await {
        let status = tracker.go(Event::Failed);
        discard(&instance, status, &reason);
        return Err((status, reason));
    }
    instance.borrow_mut().status = tracker.go(Event::Bootstrapped);
    let key = format!("{slot} {}", loader::prepared_key(d));
    POOL.with(|p| p.borrow_mut().insert(key.clone(), instance.clone()));
    evict_others(slot, d, &key);
    Ok(instance)
}

/// Marks an instance failed and forgets it: the next mount imports a fresh glue instance.
/// The tripwire is set too, so errors its code still throws are known to be from a stopped
/// instance.
fn discard(instance: &Shared, status: Status, reason: &str) {
    {
        let mut i = instance.borrow_mut();
        i.status = status;
        i.on_crash = None;
        i.trip.trip(reason);
        i.host.end_mount();
    }
    POOL.with(|p| p.borrow_mut().retain(|_, i| !Rc::ptr_eq(i, instance)));
}

/// Unmounts; the instance stays loaded for the next mount unless unmount failed.
pub async fn unmount(mounted: Mounted, timeout: Duration, report: &dyn Fn(Status)) {
    let Mounted {
        key,
        instance,
        props,
    } = mounted;
    let mut tracker = Tracker {
        status: instance.borrow().status,
        report,
    };
    if instance.borrow().status != Status::Mounted {
        // It crashed while on screen: already stopped and out of the pool; never call it again.
        return;
    }
    let (module, trip) = {
        let mut i = instance.borrow_mut();
        i.status = tracker.go(Event::UnmountStarted);
        i.on_crash = None;
        (i.module.clone(), i.trip.clone())
    };
    let result = guarded(&trip, loader::call(&module, "unmount", &props, timeout)).await;
    instance.borrow().host.end_mount();
    match result {
        Ok(_) => instance.borrow_mut().status = tracker.go(Event::Unmounted),
        Err(reason) => {
            leptos::logging::warn!("unmount of {key} failed: {reason}");
            let status = tracker.go(Event::Failed);
            discard(&instance, status, &reason);
        }
    }
}
