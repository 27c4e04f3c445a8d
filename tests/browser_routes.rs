//! Why the shell's app pages are a matched `/*any` route and never the router's fallback, shown
//! with leptos_router in a real browser. A view rendered as the fallback is built inside the
//! effect that tracks the URL, so any navigation disposes it; navigating to the path already
//! open then keeps its DOM, so an app slot there would have unmounted its app while still on
//! screen saying "mounted" (an empty app). A matched route's view has its own owner and is
//! neither disposed nor rebuilt by a navigation to the same path, or to another path of the
//! same route.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::use_navigate;
use leptos_router::path;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

static BUILT: AtomicU32 = AtomicU32::new(0);
static DISPOSED: AtomicU32 = AtomicU32::new(0);

type Navigate = Box<dyn Fn(&str)>;

thread_local! {
    static NAVIGATE: RefCell<Option<Navigate>> = RefCell::new(None);
}

/// Stands for an app page: counts how often it is built and disposed.
#[component]
fn Page() -> impl IntoView {
    BUILT.fetch_add(1, Ordering::SeqCst);
    on_cleanup(|| {
        DISPOSED.fetch_add(1, Ordering::SeqCst);
    });
    view! { <p data-probe="page">"app page"</p> }
}

/// Keeps the router's `navigate` for the test.
#[component]
fn Home() -> impl IntoView {
    let navigate = use_navigate();
    NAVIGATE.with(|n| *n.borrow_mut() = Some(Box::new(move |to| navigate(to, Default::default()))));
    view! { <p>"home"</p> }
}

async fn go(to: &str) {
    NAVIGATE.with(|n| (n.borrow().as_ref().expect("Home was rendered"))(to));
    gloo_timers::future::sleep(Duration::from_millis(50)).await;
}

fn counts() -> (u32, u32) {
    (
        BUILT.load(Ordering::SeqCst),
        DISPOSED.load(Ordering::SeqCst),
    )
}

fn page_on_screen() -> bool {
    let document = web_sys::window().unwrap().document().unwrap();
    document
        .query_selector("[data-probe=page]")
        .unwrap()
        .is_some()
}

/// Mounts `app` at `/` with fresh counters; dropping the handle unmounts it.
async fn start<V: IntoView + 'static>(
    app: impl FnOnce() -> V + 'static,
) -> leptos::mount::UnmountHandle<V::State> {
    let _ = web_sys::window()
        .unwrap()
        .history()
        .unwrap()
        .replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/"));
    BUILT.store(0, Ordering::SeqCst);
    DISPOSED.store(0, Ordering::SeqCst);
    let body = web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .body()
        .unwrap();
    let handle = leptos::mount::mount_to(body, app);
    gloo_timers::future::sleep(Duration::from_millis(50)).await;
    handle
}

#[wasm_bindgen_test]
async fn a_matched_route_survives_navigation_and_the_fallback_does_not() {
    // As the shell does it: app pages are one matched route.
    let shell_like = start(|| {
        view! {
            <Router>
                <Routes fallback=|| "nothing here">
                    <Route path=path!("/") view=Home/>
                    <Route path=path!("/*any") view=Page/>
                </Routes>
            </Router>
        }
    })
    .await;
    go("/tasks").await;
    assert_eq!(counts(), (1, 0));
    go("/tasks").await;
    go("/tasks").await;
    assert_eq!(counts(), (1, 0), "same path: neither rebuilt nor disposed");
    go("/notes").await;
    assert_eq!(
        counts(),
        (1, 0),
        "same route: the page follows the path itself"
    );
    assert!(page_on_screen());
    drop(shell_like);

    // The fallback: disposed by a navigation to the same path while its DOM stays.
    let with_fallback = start(|| {
        view! {
            <Router>
                <Routes fallback=|| view! { <Page/> }>
                    <Route path=path!("/") view=Home/>
                </Routes>
            </Router>
        }
    })
    .await;
    go("/tasks").await;
    go("/tasks").await;
    let (built, disposed) = counts();
    assert_eq!(built, 1, "not rebuilt for the same path");
    assert!(disposed >= 1, "but disposed (leptos_router 0.8 behaviour)");
    assert!(
        page_on_screen(),
        "and still on screen: why the shell never uses it"
    );
    drop(with_fallback);
}
