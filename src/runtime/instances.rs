//! App instances, one per app version per mount point (DESIGN §3.1): each has its own glue
//! instance, wasm memory and host object. An instance that unmounted cleanly stays loaded
//! (NOT_MOUNTED) so coming back to the route is fast; one that failed is dropped at once and
//! never reused; a newer version in the same mount point replaces the older one.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::GetUntracked;
use mfe_contract::AppDescriptor;
use wasm_bindgen::JsValue;

use crate::clock::monotonic_ms;
use crate::host_api::{self, HostHandle};
use crate::loader;
use crate::runtime::records::RuntimeState;
use crate::runtime::status::{Event, Status};
use crate::state::ShellState;

struct Instance {
    module: JsValue,
    host: HostHandle,
    status: Status,
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
    let props = js_sys::Object::new();
    let params = serde_wasm_bindgen::to_value(&target.params)
        .unwrap_or_else(|_| js_sys::Object::new().into());
    for (k, v) in [
        ("element", JsValue::from(target.element.clone())),
        ("host", host.object.clone().into()),
        ("name", JsValue::from_str(&d.name)),
        ("version", JsValue::from_str(&d.version)),
        ("basePath", JsValue::from_str(&target.base_path)),
        ("params", params),
        ("slot", JsValue::from_str(&target.slot)),
    ] {
        let _ = js_sys::Reflect::set(&props, &JsValue::from_str(k), &v);
    }
    props.into()
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
            tracker.go(Event::LoadStarted);
            LOADING.with(|l| l.set(l.get() + 1));
            let loaded = async {
                let prepared = loader::prepare(d, config.load()).await?;
                let (module, init_ms) = loader::instantiate(&prepared, config.load()).await?;
                Ok::<_, String>((prepared, module, init_ms))
            }
            .await;
            LOADING.with(|l| l.set(l.get().saturating_sub(1)));
            let (prepared, module, init_ms) = match loaded {
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
            tracker.go(Event::Loaded);
            let host = host_api::create(ctx.state, name, ctx.navigate.clone());
            tracker.go(Event::BootstrapStarted);
            let bootstrap_props = props(target, &host, d);
            if let Err(reason) =
                loader::call(&module, "bootstrap", &bootstrap_props, config.bootstrap()).await
            {
                return Err((tracker.go(Event::Failed), reason));
            }
            tracker.go(Event::Bootstrapped);
            let instance = Rc::new(RefCell::new(Instance {
                module,
                host,
                status: Status::NotMounted,
            }));
            POOL.with(|p| p.borrow_mut().insert(key.clone(), instance.clone()));
            evict_others(slot, d, &key);
            instance
        }
    };
    let (module, props) = {
        let i = instance.borrow();
        (i.module.clone(), props(target, &i.host, d))
    };
    instance.borrow_mut().status = tracker.go(Event::MountStarted);
    let started = monotonic_ms();
    match loader::call(&module, "mount", &props, config.mount()).await {
        Ok(_) => {
            instance.borrow_mut().status = tracker.go(Event::Mounted);
            let mount_ms = monotonic_ms() - started;
            ctx.runtime
                .record(slot, name, |r| r.mount_ms = Some(mount_ms));
            Ok(Mounted {
                key,
                instance,
                props,
            })
        }
        Err(reason) => {
            let status = tracker.go(Event::Failed);
            discard(&key, &instance, status);
            Err((status, reason))
        }
    }
}

/// Marks an instance failed and forgets it: the next mount imports a fresh glue instance.
fn discard(key: &str, instance: &Shared, status: Status) {
    instance.borrow_mut().status = status;
    instance.borrow().host.end_mount();
    POOL.with(|p| {
        let mut pool = p.borrow_mut();
        if pool.get(key).is_some_and(|i| Rc::ptr_eq(i, instance)) {
            pool.remove(key);
        }
    });
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
    instance.borrow_mut().status = tracker.go(Event::UnmountStarted);
    let module = instance.borrow().module.clone();
    let result = loader::call(&module, "unmount", &props, timeout).await;
    instance.borrow().host.end_mount();
    match result {
        Ok(_) => instance.borrow_mut().status = tracker.go(Event::Unmounted),
        Err(reason) => {
            leptos::logging::warn!("unmount failed: {reason}");
            let status = tracker.go(Event::Failed);
            discard(&key, &instance, status);
        }
    }
}
