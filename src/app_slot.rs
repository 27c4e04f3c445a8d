//! One app in one mount point: tries the current version, then earlier ones (client-side
//! rollback), shows the status in plain words, a calm notice when an earlier version is shown,
//! and an error panel with "Try again" when none could start or when the app crashed while on
//! screen. A failing app never takes the shell or the other apps down. The lifecycle work
//! itself is in `runtime::instances`.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use crate::navigation::use_location;
use leptos::html::Div;
use leptos::prelude::*;
use leptos::task::spawn_local;
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;

use crate::runtime::fallback::{FallbackPlan, Outcome, Rollback};
use crate::runtime::instances::{self, Context, Mounted, Target};
use crate::runtime::placement::Placement;
use crate::runtime::records::use_runtime;
use crate::runtime::status::Status;
use crate::state::use_shell;
use crate::ui::decimal::fixed;

/// Most versions tried for one mount (current plus earlier ones).
const MAX_VERSIONS_TRIED: usize = 5;

#[derive(Default)]
struct SlotLife {
    mounted: Option<Mounted>,
    /// The slot was removed; a mount that completes later must unmount at once.
    disposed: bool,
    /// Automatic retries spent after LOAD_ERROR.
    auto_retries: u32,
}

/// The element a micro app renders into, with its loading, rollback and error states.
#[component]
pub fn AppSlot(placement: Placement, #[prop(into)] testid: String) -> impl IntoView {
    let state = use_shell();
    let runtime = use_runtime();
    let location = use_location();
    let node = NodeRef::<Div>::new();
    let status = RwSignal::new(Status::NotLoaded);
    let version = RwSignal::new(
        placement
            .versions
            .first()
            .map(|d| d.version.clone())
            .unwrap_or_default(),
    );
    let failure = RwSignal::new(placement.unavailable.clone());
    let notice = RwSignal::new(None::<String>);
    let retry_in = RwSignal::new(None::<u64>);
    // The error panel is about an app that crashed on screen, not one that could not start.
    let stopped = RwSignal::new(false);
    let attempt = RwSignal::new(0u32);
    let life = Rc::new(RefCell::new(SlotLife::default()));
    let name = placement.name.clone();
    let slot = placement.slot.clone();

    let ctx = SendWrapper::new(Context {
        state,
        runtime,
        navigate: Rc::new(move |path: &str| location.navigate(path)),
    });
    let effect_life = SendWrapper::new(life.clone());
    let effect_placement = SendWrapper::new(placement.clone());
    Effect::new(move |_| {
        let this_attempt = attempt.get();
        let Some(element) = node.get() else { return };
        let element: web_sys::HtmlElement = element.unchecked_into();
        let placement = (*effect_placement).clone();
        if placement.versions.is_empty() {
            status.set(Status::LoadError);
            return;
        }
        let life = (*effect_life).clone();
        let ctx = (*ctx).clone();
        spawn_local(async move {
            // Removed before this task ran (e.g. the route changed again at once): no mount.
            // A slot replaced in the same render by one for the same app version needs no
            // ordering here: `instances::mount` waits for an unmount in progress, and an
            // instance still mounted elsewhere is never shared (a fresh one is loaded).
            if life.borrow().disposed {
                return;
            }
            element.set_inner_html("");
            failure.set(None);
            stopped.set(false);
            retry_in.set(None);
            let (slot, name) = (placement.slot.clone(), placement.name.clone());
            let report = move |s: Status| {
                let _ = status.try_set(s);
                runtime.record(&slot, &name, |r| r.status = Some(s));
            };
            let crashed = CrashPanel {
                life: Rc::downgrade(&life),
                element: element.clone(),
                slot: placement.slot.clone(),
                name: placement.name.clone(),
                runtime,
                status,
                version,
                notice,
                failure,
                stopped,
            };
            let target = Target {
                slot: placement.slot.clone(),
                element,
                base_path: placement.base_path.clone(),
                params: placement.params.clone(),
                on_crash: Rc::new(move |reason| crashed.show(reason)),
            };
            let versions = placement.versions.iter().map(|d| d.version.clone());
            let mut plan = FallbackPlan::new(versions, MAX_VERSIONS_TRIED);
            let mut mounted = None;
            let mut last = Status::NotLoaded;
            while let Some(v) = plan.next_version() {
                if life.borrow().disposed {
                    return;
                }
                let Some(d) = placement.versions.iter().find(|d| d.version == v) else {
                    continue;
                };
                let _ = version.try_set(v.clone());
                match instances::mount(&ctx, d, &target, &report).await {
                    Ok(m) => {
                        mounted = Some((v, m));
                        break;
                    }
                    Err((s, reason)) => {
                        last = s;
                        runtime.record(&placement.slot, &placement.name, |r| {
                            r.last_error = Some(format!("{v}: {reason}"))
                        });
                        plan.failed(&v, reason);
                        target.element.set_inner_html("");
                    }
                }
            }
            let shown = mounted.as_ref().map(|(v, _)| v.as_str());
            match plan.outcome(shown) {
                Outcome::Showing {
                    version: shown,
                    rolled_back,
                } => {
                    let rollback = rolled_back.map(|failed| Rollback {
                        showing: shown.clone(),
                        failed,
                    });
                    let text = rollback.as_ref().map(Rollback::notice);
                    runtime.record(&placement.slot, &placement.name, |r| {
                        r.rolled_back = rollback
                    });
                    let _ = notice.try_set(text);
                    let (_, m) = mounted.expect("Showing implies a mounted version");
                    let mut life = life.borrow_mut();
                    if life.disposed {
                        // Removed while it mounted: unmount it, and say so in its record, or
                        // the status bar and the inspector keep showing it (and its rollback).
                        let timeout = runtime.config.get_untracked().unmount();
                        let report = report.clone();
                        spawn_local(async move {
                            instances::unmount(m, timeout, &report).await;
                        });
                    } else {
                        life.mounted = Some(m);
                    }
                }
                Outcome::Exhausted(f) => {
                    let _ = notice.try_set(None);
                    let _ = failure.try_set(Some(if f.version.is_empty() {
                        f.reason
                    } else {
                        format!("Version {}: {}", f.version, f.reason)
                    }));
                    if last == Status::LoadError {
                        schedule_retry(
                            &life,
                            runtime.config.get_untracked(),
                            attempt,
                            this_attempt,
                            retry_in,
                        );
                    }
                }
            }
        });
    });

    let cleanup_life = SendWrapper::new(life);
    let cleanup_names = (slot.clone(), name.clone());
    on_cleanup(move || {
        let mut life = cleanup_life.borrow_mut();
        life.disposed = true;
        if let Some(mounted) = life.mounted.take() {
            let timeout = runtime.config.get_untracked().unmount();
            let (slot, name) = cleanup_names.clone();
            spawn_local(async move {
                let report = move |s: Status| runtime.record(&slot, &name, |r| r.status = Some(s));
                instances::unmount(mounted, timeout, &report).await;
            });
        }
    });

    let busy = move || {
        matches!(
            status.get(),
            Status::NotLoaded
                | Status::Loading
                | Status::NotBootstrapped
                | Status::Bootstrapping
                | Status::NotMounted
                | Status::Mounting
        ) && failure.with(Option::is_none)
    };
    let record_key = format!("{slot}/{name}");
    let stats = Memo::new(move |_| {
        runtime.records.with(|r| {
            r.get(&record_key).map(|r| {
                let load = r.fetch_ms.unwrap_or(0.0)
                    + r.compile_ms.unwrap_or(0.0)
                    + r.init_ms.unwrap_or(0.0);
                (r.bytes, load)
            })
        })
    });
    let title = name.clone();
    let panel_name = name.clone();
    view! {
        <div
            class="app-slot"
            data-testid=testid
            data-app=name.clone()
            data-slot=slot
            data-status=move || status.get().name()
            data-version=move || version.get()
            data-rolled-back=move || notice.with(|n| if n.is_some() { "true" } else { "false" })
            data-bytes=move || stats.get().and_then(|(b, _)| b)
            data-load-ms=move || stats.get().map(|(_, ms)| fixed(ms, 1))
        >
            {move || notice.get().map(|text| view! {
                <p class="app-notice" role="status" data-testid="app-rollback-notice">{text}</p>
            })}
            <Show when=busy>
                <p class="app-loading" role="status" data-testid="app-loading">
                    {format!("{title}: ")}{move || status.get().describe()}"…"
                </p>
            </Show>
            {move || failure.get().map(|reason| {
                let name = panel_name.clone();
                view! {
                    <div class="app-error" role="alert" data-testid="app-error">
                        <p data-testid="app-error-title"><strong>{
                            let name = name.clone();
                            move || if stopped.get() {
                                format!("{name} stopped after an error.")
                            } else {
                                format!("{name} could not start.")
                            }
                        }</strong></p>
                        <p class="reason" data-testid="app-error-reason">{reason}</p>
                        <p>"The rest of the page keeps working."</p>
                        {move || retry_in.get().map(|s| view! {
                            <p data-testid="app-retry-scheduled">{format!("Trying again in {s} s.")}</p>
                        })}
                        <button
                            type="button"
                            data-testid="app-retry"
                            aria-label=format!("Try loading {name} again")
                            on:click=move |_| attempt.update(|a| *a += 1)
                        >
                            "Try again"
                        </button>
                    </div>
                }
            })}
            <div node_ref=node class="app-root" data-testid=format!("app-root-{name}")></div>
        </div>
    }
}

/// What the slot does when its mounted instance crashed (the instance is already BROKEN and
/// out of the pool): forget it without calling it again, remove its DOM, and show the error
/// panel whose "Try again" mounts a fresh instance. No automatic retry: a crash tends to
/// happen again the same way.
struct CrashPanel {
    life: Weak<RefCell<SlotLife>>,
    element: web_sys::HtmlElement,
    slot: String,
    name: String,
    runtime: crate::runtime::records::RuntimeState,
    status: RwSignal<Status>,
    version: RwSignal<String>,
    notice: RwSignal<Option<String>>,
    failure: RwSignal<Option<String>>,
    stopped: RwSignal<bool>,
}

impl CrashPanel {
    fn show(&self, reason: String) {
        if let Some(life) = self.life.upgrade() {
            if let Ok(mut life) = life.try_borrow_mut() {
                life.mounted = None;
            }
        }
        self.element.set_inner_html("");
        let version = self.version.try_get_untracked().unwrap_or_default();
        let _ = self.status.try_set(Status::Broken);
        let _ = self.notice.try_set(None);
        let _ = self.stopped.try_set(true);
        let _ = self
            .failure
            .try_set(Some(format!("Version {version}: {reason}")));
        self.runtime.record(&self.slot, &self.name, |r| {
            r.status = Some(Status::Broken);
            r.last_error = Some(format!("{version}: {reason}"));
            r.rolled_back = None;
        });
    }
}

/// After a LOAD_ERROR, tries again by itself after a growing delay (a few times), unless the
/// user already did or the slot is gone.
fn schedule_retry(
    life: &Rc<RefCell<SlotLife>>,
    config: mfe_contract::RuntimeConfig,
    attempt: RwSignal<u32>,
    this_attempt: u32,
    retry_in: RwSignal<Option<u64>>,
) {
    let spent = life.borrow().auto_retries;
    let Some(delay) = config.retry_delay(spent) else {
        return;
    };
    life.borrow_mut().auto_retries = spent + 1;
    let _ = retry_in.try_set(Some(delay.as_secs().max(1)));
    let life = life.clone();
    spawn_local(async move {
        gloo_timers::future::sleep(delay).await;
        if life.borrow().disposed {
            return;
        }
        if attempt.try_get_untracked() == Some(this_attempt) {
            attempt.update(|a| *a += 1);
        }
    });
}
