//! The shell's navigation (`mfe_shell::navigation`) in a real browser: which clicks stay in the
//! page, that the path signal follows pushes, back and forward, which link says it is the
//! current page, and that the app page survives navigations that keep it (so the apps mounted
//! in it are not unmounted under a "mounted" status) while leaving it disposes it.
#![cfg(target_arch = "wasm32")]

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use mfe_shell::navigation::{self, use_location, Link, Location, Page};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

thread_local! {
    static BUILT: Cell<u32> = const { Cell::new(0) };
    static DISPOSED: Cell<u32> = const { Cell::new(0) };
    static LOCATION: Cell<Option<Location>> = const { Cell::new(None) };
}

/// Stands for the app page: counts how often it is built and disposed.
#[component]
fn AppPage() -> impl IntoView {
    BUILT.with(|b| b.set(b.get() + 1));
    on_cleanup(|| DISPOSED.with(|d| d.set(d.get() + 1)));
    view! { <p data-probe="app-page">"app page"</p> }
}

#[component]
fn Frame() -> impl IntoView {
    navigation::provide();
    LOCATION.with(|l| l.set(Some(use_location())));
    view! {
        <nav>
            <Link href="/" attr:id="link-home">"Home"</Link>
            <Link href="/tasks" attr:id="link-tasks">"Tasks"</Link>
            <a id="plain-notes" href="/notes?view=all">"Notes"</a>
            <a id="fragment" href="#main">"Skip"</a>
            <a id="other-origin" href="https://example.invalid/tasks">"Elsewhere"</a>
            <a id="new-tab" href="/catalog" target="_blank">"New tab"</a>
            <a id="download" href="/catalog" download="list.txt">"Download"</a>
            <a id="external" href="/catalog" rel="noopener external">"External"</a>
            <a id="nested" href="/catalog"><span id="inside-link">"Catalog"</span></a>
        </nav>
        <main id="main">
            {navigation::routed(|page| match page {
                Page::Home => view! { <p data-probe="home">"home"</p> }.into_any(),
                Page::Inspector => view! { <p>"inspector"</p> }.into_any(),
                Page::App => view! { <AppPage/> }.into_any(),
            })}
        </main>
    }
}

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

fn path() -> String {
    let signal = LOCATION
        .with(|l| l.get())
        .expect("Frame was rendered")
        .pathname;
    let from_signal = signal.get_untracked();
    assert_eq!(
        from_signal,
        web_sys::window().unwrap().location().pathname().unwrap(),
        "the signal and the address bar agree"
    );
    from_signal
}

fn counts() -> (u32, u32) {
    (BUILT.with(Cell::get), DISPOSED.with(Cell::get))
}

async fn settle() {
    gloo_timers::future::sleep(Duration::from_millis(50)).await;
}

/// Back and forward are asynchronous: waits (up to 5 s) until the path is `expected`.
async fn arrive_at(expected: &str) {
    for _ in 0..100 {
        if web_sys::window().unwrap().location().pathname().unwrap() == expected {
            break;
        }
        settle().await;
    }
    settle().await;
    assert_eq!(path(), expected);
}

/// Clicks the element with `id` (with `ctrl` held or not) and tells whether the shell took the
/// click. A listener on the window, which runs after the shell's on the document, stops every
/// click the shell left to the browser, so no test click leaves the page or opens a tab.
async fn click(id: &str, ctrl: bool) -> bool {
    let taken = Rc::new(Cell::new(false));
    let seen = taken.clone();
    let stop = Closure::<dyn Fn(web_sys::Event)>::new(move |event: web_sys::Event| {
        seen.set(event.default_prevented());
        event.prevent_default();
    });
    let window = web_sys::window().unwrap();
    window
        .add_event_listener_with_callback("click", stop.as_ref().unchecked_ref())
        .unwrap();
    let init = web_sys::MouseEventInit::new();
    init.set_bubbles(true);
    init.set_cancelable(true);
    init.set_composed(true);
    init.set_ctrl_key(ctrl);
    let event = web_sys::MouseEvent::new_with_mouse_event_init_dict("click", &init).unwrap();
    document()
        .get_element_by_id(id)
        .unwrap_or_else(|| panic!("#{id} on screen"))
        .dispatch_event(&event)
        .unwrap();
    window
        .remove_event_listener_with_callback("click", stop.as_ref().unchecked_ref())
        .unwrap();
    settle().await;
    taken.get()
}

fn current(id: &str) -> Option<String> {
    document()
        .get_element_by_id(id)
        .unwrap()
        .get_attribute("aria-current")
}

#[wasm_bindgen_test]
async fn links_history_and_the_app_page_follow_the_path() {
    let history = web_sys::window().unwrap().history().unwrap();
    history
        .replace_state_with_url(&JsValue::NULL, "", Some("/"))
        .unwrap();
    let body = document().body().unwrap();
    let mounted = leptos::mount::mount_to(body, Frame);
    settle().await;
    assert_eq!(path(), "/");
    assert_eq!(current("link-home").as_deref(), Some("page"));
    assert!(document()
        .query_selector("[data-probe=home]")
        .unwrap()
        .is_some());

    // A plain left click on a same-origin link: a client-side navigation, one history entry.
    let entries = history.length().unwrap();
    assert!(click("link-tasks", false).await);
    assert_eq!(path(), "/tasks");
    assert_eq!(history.length().unwrap(), entries + 1);
    assert_eq!(counts(), (1, 0), "the app page was built once");
    assert_eq!(current("link-tasks").as_deref(), Some("page"));
    assert_eq!(current("link-home"), None);

    // The same path again: taken (no reload), but no new entry and the page kept.
    assert!(click("link-tasks", false).await);
    assert_eq!(history.length().unwrap(), entries + 1);
    assert_eq!(counts(), (1, 0), "same path: neither rebuilt nor disposed");

    // Another app path, from a link the shell did not render (as an app's own link), clicked
    // on an element inside it: the app page stays and follows the path.
    assert!(click("plain-notes", false).await);
    assert_eq!(path(), "/notes");
    assert_eq!(
        web_sys::window().unwrap().location().search().unwrap(),
        "?view=all"
    );
    assert!(click("inside-link", false).await);
    assert_eq!(path(), "/catalog");
    assert_eq!(
        counts(),
        (1, 0),
        "another app path: the app page follows it"
    );
    assert!(document()
        .query_selector("[data-probe=app-page]")
        .unwrap()
        .is_some());
    assert_eq!(current("link-tasks"), None);

    // Left to the browser: modified clicks, new tabs, downloads, rel=external, other
    // origins, and a fragment of the page already open (a skip link).
    assert!(!click("link-tasks", true).await, "ctrl-click");
    assert!(!click("new-tab", false).await, "target=_blank");
    assert!(!click("download", false).await, "download");
    assert!(!click("external", false).await, "rel=external");
    assert!(!click("other-origin", false).await, "another origin");
    assert!(!click("fragment", false).await, "a fragment of this page");
    assert_eq!(path(), "/catalog", "none of them moved the page");

    // Back and forward (popstate) move the signal too; leaving the app page disposes it.
    history.back().unwrap();
    arrive_at("/notes").await;
    history.go_with_delta(-2).unwrap();
    arrive_at("/").await;
    assert_eq!(counts(), (1, 1), "home: the app page was disposed");
    history.forward().unwrap();
    arrive_at("/tasks").await;
    assert_eq!(counts(), (2, 1), "back on an app path: built afresh");

    // A subpath of a link's path: the link is the current page.
    let location = LOCATION.with(|l| l.get()).unwrap();
    location.navigate("/tasks/42");
    settle().await;
    assert_eq!(path(), "/tasks/42");
    assert_eq!(current("link-tasks").as_deref(), Some("page"));
    assert_eq!(counts(), (2, 1));

    // An app asking for the page already shown adds no history entry.
    let entries = history.length().unwrap();
    location.navigate("/tasks/42");
    settle().await;
    assert_eq!(history.length().unwrap(), entries);

    // A blob: link has the page's origin but is not a page of the shell.
    let blob = document().create_element("a").unwrap();
    blob.set_id("blob-link");
    let origin = web_sys::window().unwrap().location().origin().unwrap();
    blob.set_attribute("href", &format!("blob:{origin}/0f6e"))
        .unwrap();
    document().body().unwrap().append_child(&blob).unwrap();
    assert!(!click("blob-link", false).await, "a blob: link");

    // Unmounted, the shell's listeners are gone: a link is the browser's again.
    drop(mounted);
    let link = document().create_element("a").unwrap();
    link.set_id("after-unmount");
    link.set_attribute("href", "/notes").unwrap();
    document().body().unwrap().append_child(&link).unwrap();
    assert!(
        !click("after-unmount", false).await,
        "not taken once unmounted"
    );
    assert_eq!(
        web_sys::window().unwrap().location().pathname().unwrap(),
        "/tasks/42"
    );
}
