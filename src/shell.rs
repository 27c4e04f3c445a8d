//! The page frame: header with navigation, the routed main area where micro apps mount, the
//! status bar, and the boot sequence that feeds them.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::hooks::use_location;
use leptos_router::path;
use mfe_contract::{AppDescriptor, Manifest};

use crate::app_slot::AppSlot;
use crate::manifest_source;
use crate::outbox;
use crate::routing;
use crate::state::{use_shell, ManifestState, ShellState};
use crate::ui::outbox_panel::OutboxPanel;
use crate::ui::status_bar::StatusBar;

/// Whether `pattern` (`/tasks`, `/tasks/*`) matches `path`.
fn route_matches(pattern: &str, path: &str) -> bool {
    let path = path.trim_end_matches('/');
    match pattern.strip_suffix("/*") {
        Some(prefix) => path == prefix || path.starts_with(&format!("{prefix}/")),
        None => path == pattern.trim_end_matches('/'),
    }
}

/// The app whose route matches `path`, with the route prefix it is mounted under.
fn app_for(manifest: &Manifest, path: &str) -> Option<(AppDescriptor, String)> {
    manifest.apps.values().find_map(|versions| {
        let app = &versions.current;
        app.routes
            .iter()
            .find(|pattern| route_matches(pattern, path))
            .map(|pattern| (app.clone(), pattern.trim_end_matches("/*").to_string()))
    })
}

async fn boot(state: ShellState) {
    // The outbox opens first: pending commands are shown (and kept) whatever else fails.
    leptos::task::spawn_local(outbox::start(state));
    let manifest = manifest_source::load_manifest().await;
    let regions = manifest_source::load_regions(manifest.as_ref().ok()).await;
    state.manifest.set(match manifest {
        Ok(m) => ManifestState::Ready(m),
        Err(e) => ManifestState::Failed(e),
    });
    match regions {
        Ok(file) => {
            routing::start(state, file.regions, file.router.unwrap_or_default());
            // Anything that waited for a region to be known goes now.
            outbox::request_drain(state);
        }
        Err(e) => state
            .announcement
            .set(format!("No regions are configured: {e}")),
    }
}

#[component]
pub fn Shell() -> impl IntoView {
    let state = ShellState::default();
    provide_context(state);
    spawn_local(boot(state));
    let panel_open = RwSignal::new(false);
    view! {
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="shell-header">
                <span class="brand" data-testid="shell-brand">"Workspace"</span>
                <Nav/>
            </header>
            <main id="main" class="shell-main" data-testid="shell-main">
                <Routes fallback=|| view! { <AppPage/> }>
                    <Route path=path!("/") view=Home/>
                </Routes>
            </main>
            <OutboxPanel open=panel_open/>
            <StatusBar panel_open=panel_open/>
            <div class="sr-only" aria-live="polite" data-testid="announcer">
                {move || state.announcement.get()}
            </div>
        </Router>
    }
}

#[component]
fn Nav() -> impl IntoView {
    let state = use_shell();
    let links = move || match state.manifest.get() {
        ManifestState::Ready(m) => m
            .apps
            .values()
            .filter_map(|v| {
                let route = v.current.routes.first()?.trim_end_matches("/*").to_string();
                Some((v.current.name.clone(), route))
            })
            .collect::<Vec<_>>(),
        _ => Vec::new(),
    };
    view! {
        <nav aria-label="Apps" data-testid="shell-nav">
            <A href="/">"Home"</A>
            <For each=links key=|(name, _)| name.clone() let:link>
                {
                    let (name, route) = link;
                    let testid = format!("nav-{name}");
                    view! { <A href=route attr:data-testid=testid>{name}</A> }
                }
            </For>
        </nav>
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
    let location = use_location();
    let active = Memo::new(move |_| {
        let path = location.pathname.get();
        match state.manifest.get() {
            ManifestState::Loading => Err(None),
            ManifestState::Failed(reason) => Err(Some(reason)),
            ManifestState::Ready(m) => {
                app_for(&m, &path).ok_or_else(|| Some(format!("Nothing is published at {path}.")))
            }
        }
    });
    move || match active.get() {
        Ok((descriptor, base_path)) => view! {
            <AppSlot descriptor=descriptor slot_name="main" base_path=base_path/>
        }
        .into_any(),
        Err(None) => view! { <p role="status" class="app-loading">"Loading…"</p> }.into_any(),
        Err(Some(reason)) => view! {
            <p role="alert" class="notice" data-testid="page-notice">{reason}</p>
        }
        .into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::route_matches;

    #[test]
    fn routes_match_exact_and_wildcard() {
        assert!(route_matches("/tasks", "/tasks"));
        assert!(route_matches("/tasks", "/tasks/"));
        assert!(!route_matches("/tasks", "/tasks/1"));
        assert!(route_matches("/tasks/*", "/tasks/1/edit"));
        assert!(route_matches("/tasks/*", "/tasks"));
        assert!(!route_matches("/tasks/*", "/tasksx"));
    }
}
