//! The page frame: header with navigation and the `nav` mount point, the routed main area
//! where micro apps mount, the `sidebar` mount point, the inspector route, the status bar, and
//! the boot sequence that feeds them.

use leptos::prelude::*;
use leptos::task::spawn_local;
use mfe_contract::runtime::settings_in_regions_file;
use mfe_contract::{RuntimeConfig, HOST_API_VERSION};

use crate::app_slot::AppSlot;
use crate::fetch::within;
use crate::manifest_source;
use crate::navigation::{self, use_location, Link, Page};
use crate::outbox;
use crate::routing;
use crate::runtime::placement::{self, nav_links, Placement};
use crate::runtime::records::{use_runtime, RuntimeState};
use crate::runtime::{boot, preload, storage};
use crate::state::{use_shell, ManifestState, ShellState};
use crate::ui::inspector::Inspector;
use crate::ui::outbox_panel::OutboxPanel;
use crate::ui::status_bar::StatusBar;
use crate::ui::update_banner::UpdateBanner;

async fn boot(state: ShellState, runtime: RuntimeState) {
    // The outbox opens first: pending commands are shown (and kept) whatever else fails.
    leptos::task::spawn_local(outbox::start(state));
    leptos::task::spawn_local(storage::check(runtime));
    // `regions.json` is read alongside the manifest (`index.html` asked for both at once). Its
    // `"runtime"` settings bound every attempt from the first mount on, so the manifest is
    // published once they are in, or `REGIONS_WAIT` after the manifest at the latest (the boot
    // module waits as long).
    let mut regions = std::pin::pin!(manifest_source::regions_text());
    let mut answered = None;
    let settings = async {
        if let Some(text) = within(regions.as_mut(), REGIONS_WAIT).await {
            answered = Some(read_and_apply(runtime, text));
        }
    };
    let manifest = boot::load_then(state, runtime, settings).await;
    // Synchronously after the manifest is published, before its effects draw the page.
    preload::start_for_page(runtime);
    // The page's slot takes the boot module's app as it mounts; if none does, it goes.
    crate::runtime::instances::release_unclaimed();
    let fallback = runtime
        .validated
        .with_untracked(|m| m.as_ref().map(|m| m.manifest.clone()));
    if manifest.is_ok() {
        preload::start(runtime);
    }
    // Without a region list nothing can be sent: keep asking (e.g. the first visit was never
    // cached and the device is offline) until it comes, for at most an hour.
    for attempt in 0..REGIONS_ATTEMPTS {
        let text = match (attempt, answered.take()) {
            (_, Some(text)) => text,
            (0, None) => read_and_apply(runtime, regions.as_mut().await),
            _ => read_and_apply(runtime, manifest_source::regions_text().await),
        };
        match manifest_source::parse_regions(text, fallback.as_ref()) {
            Ok(file) => {
                routing::start(state, file.regions, file.router.unwrap_or_default());
                // Anything that waited for a region to be known goes now.
                outbox::request_drain(state);
                return;
            }
            Err(e) if attempt == 0 => state.announcement.set(format!(
                "Regions are not known yet ({e}); changes stay saved on this device."
            )),
            Err(_) => {}
        }
        gloo_timers::future::sleep(REGIONS_RETRY).await;
    }
}

/// Puts `regions.json`'s `"runtime"` settings in force, or says why they cannot be, and uses
/// the defaults (the regions in the file are used either way).
fn apply_settings(runtime: RuntimeState, text: &str) {
    let (config, notice) = match settings_in_regions_file(text) {
        Ok(config) => (config, None),
        Err(e) => (
            RuntimeConfig::default(),
            Some(format!("{e}. Apps run with the default time limits.")),
        ),
    };
    runtime.config.set(config);
    runtime.settings_notice.set(notice);
}

/// A `regions.json` answer: its settings apply from the next attempt on.
fn read_and_apply(runtime: RuntimeState, text: Result<String, String>) -> Result<String, String> {
    if let Ok(text) = &text {
        apply_settings(runtime, text);
    }
    text
}

/// Longest wait for `regions.json` once the manifest is in, before the page is drawn.
const REGIONS_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// How often, and how many times, the region list is asked for again when it is missing.
const REGIONS_RETRY: std::time::Duration = std::time::Duration::from_secs(3);
const REGIONS_ATTEMPTS: u32 = 1_200;

/// Roles for slot filters: a small user context kept in localStorage (none by default).
fn user_roles() -> Vec<String> {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item("mfe.user.roles").ok().flatten())
        .map(|text| {
            text.split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .take(32)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[component]
pub fn Shell() -> impl IntoView {
    let state = ShellState::default();
    let runtime = RuntimeState::default();
    runtime.roles.set(user_roles());
    provide_context(state);
    provide_context(runtime);
    // Before any app is imported, so every uncaught error after that is seen.
    crate::runtime::crash_watch::install(runtime);
    crate::offline::start(state);
    spawn_local(boot(state, runtime));
    let panel_open = RwSignal::new(false);
    navigation::provide();
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="shell-header">
            <span class="brand" data-testid="shell-brand">"Workspace"</span>
            <Nav/>
            <MountPoint name="nav" label="Shortcuts"/>
        </header>
        <ManifestNotices/>
        <UpdateBanner/>
        <RefreshOnNavigation/>
        <div class="shell-body">
            <main id="main" class="shell-main" data-testid="shell-main">
                {navigation::routed(|page| match page {
                    Page::Home => view! { <Home/> }.into_any(),
                    Page::Inspector => view! { <Inspector/> }.into_any(),
                    Page::App => view! { <AppPage/> }.into_any(),
                })}
            </main>
            <MountPoint name="sidebar" label="Sidebar"/>
        </div>
        <OutboxPanel open=panel_open/>
        <StatusBar panel_open=panel_open/>
        <div class="sr-only" aria-live="polite" data-testid="announcer">
            {move || state.announcement.get()}
        </div>
    }
}

/// After each navigation (not at boot): re-reads the manifest (rate-limited in
/// `boot::refresh`), updates the boot hint for the new address, and looks for a new shell build
/// (at most once a minute; loading the page already made the browser look).
#[component]
fn RefreshOnNavigation() -> impl IntoView {
    let state = use_shell();
    let runtime = use_runtime();
    let location = use_location();
    Effect::new(move |previous: Option<String>| {
        let path = location.pathname.get();
        if previous.is_some_and(|p| p != path) {
            boot::refresh(state, runtime);
            preload::remember_page(runtime, &path);
            crate::offline::check_after_navigation();
        }
        path
    });
}

#[component]
fn Nav() -> impl IntoView {
    let runtime = use_runtime();
    // A memo: the links are redrawn only when they change (a manifest refresh that changes
    // nothing keeps them, and the keyboard focus on them).
    let links = Memo::new(move |_| {
        runtime
            .validated
            .with(|m| m.as_ref().map(nav_links).unwrap_or_default())
    });
    view! {
        <nav aria-label="Apps" data-testid="shell-nav">
            <Link href="/">"Home"</Link>
            {move || {
                links
                    .get()
                    .into_iter()
                    .map(|(name, route)| {
                        let testid = format!("nav-{name}");
                        view! { <Link href=route attr:data-testid=testid>{name}</Link> }
                    })
                    .collect_view()
            }}
            <Link href="/inspector" attr:data-testid="nav-inspector">"Inspector"</Link>
        </nav>
    }
}

/// What the user should know about the manifest: a fallback to the last good one, and apps
/// that are switched off because their entry is invalid.
#[component]
fn ManifestNotices() -> impl IntoView {
    let runtime = use_runtime();
    let disabled = move || {
        runtime
            .validated
            .with(|m| m.as_ref().map(|m| m.disabled.clone()).unwrap_or_default())
    };
    view! {
        {move || runtime.manifest_notice.get().map(|text| view! {
            <p class="notice" role="status" data-testid="manifest-notice">{text}</p>
        })}
        {move || runtime.settings_notice.get().map(|text| view! {
            <p class="notice" role="status" data-testid="settings-notice">{text}</p>
        })}
        <Show when=move || !disabled().is_empty()>
            <section class="notice" aria-label="Unavailable apps" data-testid="disabled-apps">
                <p>"Some apps are switched off because their published entry is invalid:"</p>
                <ul>
                    {move || {
                        disabled()
                            .into_iter()
                            .map(|d| view! {
                                <li data-testid=format!("disabled-app-{}", d.name)>
                                    <strong>{d.name.clone()}</strong>": "{d.reason}
                                </li>
                            })
                            .collect_view()
                    }}
                </ul>
            </section>
        </Show>
    }
}

/// A named mount point (`nav`, `sidebar`, …): every app contributing to it, in order, each in
/// its own slot with its own glue instance.
#[component]
fn MountPoint(name: &'static str, label: &'static str) -> impl IntoView {
    let runtime = use_runtime();
    let placements = Memo::new(move |_| {
        let roles = runtime.roles.get();
        runtime.validated.with(|m| {
            m.as_ref()
                .map(|m| placement::for_slot(m, name, &roles, placement::env(), HOST_API_VERSION))
                .unwrap_or_default()
        })
    });
    view! {
        <Show when=move || placements.with(|p| !p.is_empty())>
            <aside
                class=format!("mount-point mount-{name}")
                aria-label=label
                data-testid=format!("mount-{name}")
            >
                <For each=move || placements.get() key=Placement::key let:p>
                    {
                        let testid = format!("app-slot-{name}-{}", p.name);
                        view! { <AppSlot placement=p testid=testid/> }
                    }
                </For>
            </aside>
        </Show>
    }
}

#[component]
fn Home() -> impl IntoView {
    view! {
        <section class="home" data-testid="home">
            <h1>"Welcome"</h1>
            <p>
                "Pick an app above. Everything you do is saved on this device first and sent "
                "when a region can take it, so nothing is lost offline."
            </p>
        </section>
    }
}

#[component]
fn AppPage() -> impl IntoView {
    let state = use_shell();
    let runtime = use_runtime();
    let location = use_location();
    let active = Memo::new(move |_| {
        let path = location.pathname.get();
        let found = runtime.validated.with(|m| {
            m.as_ref()
                .map(|m| placement::for_route(m, &path, HOST_API_VERSION))
        });
        match (found, state.manifest.get()) {
            (Some(found), _) if !found.is_empty() => Ok(found),
            (Some(_), _) => Err(Some(format!("Nothing is published at {path}."))),
            (None, ManifestState::Failed(reason)) => Err(Some(reason)),
            (None, _) => Err(None),
        }
    });
    move || match active.get() {
        Ok(found) => view! {
            <For each=move || found.clone() key=Placement::key let:p>
                <AppSlot placement=p testid="app-slot-main"/>
            </For>
        }
        .into_any(),
        Err(None) => view! { <p role="status" class="app-loading">"Loading…"</p> }.into_any(),
        Err(Some(reason)) => view! {
            <p role="alert" class="notice" data-testid="page-notice">{reason}</p>
        }
        .into_any(),
    }
}
