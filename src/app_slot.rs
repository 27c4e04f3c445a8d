//! Mounts one micro app into an element and owns its lifecycle there: load → bootstrap →
//! mount, unmount when the slot goes away, a visible error panel with "Try again" when any
//! step fails. A failing app never takes the shell down.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use leptos::html::Div;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use mfe_contract::AppDescriptor;
use send_wrapper::SendWrapper;
use wasm_bindgen::JsValue;

use crate::host_api::{self, HostHandle};
use crate::loader::{self, LoadedApp, BOOTSTRAP_TIMEOUT, MOUNT_TIMEOUT};
use crate::state::use_shell;

/// A loaded and bootstrapped app version, kept so a remount skips fetch, compile and init.
#[derive(Clone)]
struct Ready {
    app: LoadedApp,
}

thread_local! {
    static READY: RefCell<HashMap<String, Ready>> = RefCell::new(HashMap::new());
}

/// What a mounted app needs at unmount time.
struct Mounted {
    module: JsValue,
    props: JsValue,
    _host: HostHandle,
}

#[derive(Default)]
struct SlotLife {
    mounted: Option<Mounted>,
    /// The slot was removed; a mount that completes later must unmount at once.
    disposed: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Loading,
    Mounted,
    Failed(String),
}

impl Phase {
    fn as_str(&self) -> &'static str {
        match self {
            Self::Loading => "loading",
            Self::Mounted => "mounted",
            Self::Failed(_) => "failed",
        }
    }
}

fn key(d: &AppDescriptor) -> String {
    format!("{}@{}", d.name, d.version)
}

async fn ready(descriptor: &AppDescriptor, props: &JsValue) -> Result<Ready, String> {
    if let Some(ready) = READY.with(|r| r.borrow().get(&key(descriptor)).cloned()) {
        return Ok(ready);
    }
    let app = loader::load(descriptor).await?;
    loader::call(&app.module, "bootstrap", props, BOOTSTRAP_TIMEOUT).await?;
    let ready = Ready { app };
    READY.with(|r| r.borrow_mut().insert(key(descriptor), ready.clone()));
    Ok(ready)
}

fn unmount_later(mounted: Mounted) {
    spawn_local(async move {
        if let Err(e) =
            loader::call(&mounted.module, "unmount", &mounted.props, MOUNT_TIMEOUT).await
        {
            leptos::logging::warn!("unmount failed: {e}");
        }
        drop(mounted);
    });
}

/// The element a micro app renders into, with its loading and error states around it.
#[component]
pub fn AppSlot(
    descriptor: AppDescriptor,
    #[prop(into)] slot_name: String,
    #[prop(into)] base_path: String,
) -> impl IntoView {
    let state = use_shell();
    let navigate = use_navigate();
    let node = NodeRef::<Div>::new();
    let phase = RwSignal::new(Phase::Loading);
    let attempt = RwSignal::new(0u32);
    // Bytes shipped and load time of the running version, for the inspector and benchmarks.
    let loaded = RwSignal::new(None::<(u64, f64)>);
    let life = Rc::new(RefCell::new(SlotLife::default()));
    let name = descriptor.name.clone();

    let effect_life = SendWrapper::new(life.clone());
    let effect_descriptor = SendWrapper::new(descriptor.clone());
    let navigate = SendWrapper::new(
        Rc::new(move |path: &str| navigate(path, Default::default())) as Rc<dyn Fn(&str)>,
    );
    Effect::new(move |_| {
        let _ = attempt.get();
        let Some(element) = node.get() else { return };
        let life = (*effect_life).clone();
        let descriptor = (*effect_descriptor).clone();
        let navigate = (*navigate).clone();
        let base_path = base_path.clone();
        phase.set(Phase::Loading);
        spawn_local(async move {
            let host = host_api::create(state, &descriptor.name, navigate);
            let props = js_sys::Object::new();
            for (k, v) in [
                ("element", JsValue::from(element)),
                ("host", host.object.clone().into()),
                ("name", JsValue::from_str(&descriptor.name)),
                ("version", JsValue::from_str(&descriptor.version)),
                ("basePath", JsValue::from_str(&base_path)),
                ("params", js_sys::Object::new().into()),
            ] {
                let _ = js_sys::Reflect::set(&props, &JsValue::from_str(k), &v);
            }
            let props: JsValue = props.into();
            let result = match ready(&descriptor, &props).await {
                Ok(ready) => loader::call(&ready.app.module, "mount", &props, MOUNT_TIMEOUT)
                    .await
                    .map(|_| ready),
                Err(e) => Err(e),
            };
            match result {
                Ok(ready) => {
                    loaded.set(Some((ready.app.bytes, ready.app.load_ms)));
                    let mounted = Mounted {
                        module: ready.app.module,
                        props,
                        _host: host,
                    };
                    let mut life = life.borrow_mut();
                    if life.disposed {
                        unmount_later(mounted);
                    } else {
                        life.mounted = Some(mounted);
                        phase.set(Phase::Mounted);
                    }
                }
                Err(reason) => {
                    // A failed glue instance may be half-initialised: never reuse it.
                    READY.with(|r| r.borrow_mut().remove(&key(&descriptor)));
                    if !life.borrow().disposed {
                        phase.set(Phase::Failed(reason));
                    }
                }
            }
        });
    });

    let cleanup_life = SendWrapper::new(life);
    on_cleanup(move || {
        let mut life = cleanup_life.borrow_mut();
        life.disposed = true;
        if let Some(mounted) = life.mounted.take() {
            unmount_later(mounted);
        }
    });

    let title = name.clone();
    view! {
        <div
            class="app-slot"
            data-testid=format!("app-slot-{slot_name}")
            data-app=name.clone()
            data-status=move || phase.with(|p| p.as_str())
            data-version=descriptor.version.clone()
            data-bytes=move || loaded.get().map(|(b, _)| b)
            data-load-ms=move || loaded.get().map(|(_, ms)| format!("{ms:.1}"))
        >
            <Show when=move || phase.with(|p| *p == Phase::Loading)>
                <p class="app-loading" role="status">{format!("Loading {title}…")}</p>
            </Show>
            {
                let name = name.clone();
                move || match phase.get() {
                    Phase::Failed(reason) => Some(view! {
                        <div class="app-error" role="alert" data-testid="app-error">
                            <p><strong>{format!("{name} could not start.")}</strong></p>
                            <p class="reason" data-testid="app-error-reason">{reason}</p>
                            <p>"The rest of the page keeps working."</p>
                            <button data-testid="app-retry" on:click=move |_| attempt.update(|a| *a += 1)>
                                "Try again"
                            </button>
                        </div>
                    }),
                    _ => None,
                }
            }
            <div node_ref=node class="app-root" data-testid=format!("app-root-{name}")></div>
        </div>
    }
}
