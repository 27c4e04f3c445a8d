//! Client-side navigation: the current path as a signal, the History API, and one click
//! handler on the window that keeps same-origin links (the shell's and the micro apps' HTML
//! `<a href>`) inside the page. On the window, as leptos_router did, so an app's own handler
//! on the document or below runs first and may cancel the click. SVG links and links inside
//! closed shadow roots are left to the browser (a full load).
//!
//! The shell has three kinds of page (home, the inspector, and whatever the manifest mounts on
//! any other path), and the manifest, not a route table, says which app a path shows. A route
//! library adds nothing to that here and cost the shell 43 KB of gzip wasm (leptos_router
//! 0.8), so the shell keeps the little it needs in this file.

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The page's current path (`location.pathname`), kept in step with every navigation.
#[derive(Clone, Copy)]
pub struct Location {
    pub pathname: ReadSignal<String>,
    set_pathname: WriteSignal<String>,
}

impl Location {
    /// Goes to `to` (a path on this origin, with optional query and fragment) without
    /// reloading: a new history entry (none when `to` is the address already shown), the path
    /// signal updated, the view scrolled to the top or to the fragment's target.
    pub fn navigate(self, to: &str) {
        let window = window();
        let here = window.location().href().unwrap_or_default();
        let Ok(target) = web_sys::Url::new_with_base(to, &here) else {
            return;
        };
        if target.href() != here {
            let Ok(history) = window.history() else {
                return;
            };
            if history
                .push_state_with_url(&JsValue::NULL, "", Some(&target.href()))
                .is_err()
            {
                return;
            }
        }
        self.sync();
        scroll_to_fragment_or_top(&window.location().hash().unwrap_or_default());
    }

    /// Re-reads the path from the browser; notifies only when it changed.
    fn sync(self) {
        let now = current_path();
        if self.pathname.try_with_untracked(|p| *p != now) == Some(true) {
            self.set_pathname.try_set(now);
        }
    }
}

/// The kind of page a path shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    Home,
    Inspector,
    /// Any other path: the manifest says which apps it mounts (or that none is published).
    App,
}

impl Page {
    pub fn for_path(path: &str) -> Page {
        match path.trim_end_matches('/') {
            "" => Page::Home,
            "/inspector" => Page::Inspector,
            _ => Page::App,
        }
    }
}

/// Whether a link is the current page (shared with the boot module's frame).
pub use mfe_manifest::placement::is_current;

fn current_path() -> String {
    window()
        .location()
        .pathname()
        .unwrap_or_else(|_| "/".into())
}

/// Starts following the page's location and provides it to every component below. Called once,
/// by the shell; the listeners live as long as the owner that called it.
pub fn provide() -> Location {
    let (pathname, set_pathname) = signal(current_path());
    let location = Location {
        pathname,
        set_pathname,
    };
    provide_context(location);
    // Back, forward, and fragment navigations the browser made by itself.
    let on_popstate = Closure::<dyn Fn()>::new(move || location.sync());
    let on_click =
        Closure::<dyn Fn(web_sys::MouseEvent)>::new(move |event| on_link_click(location, &event));
    let window = window();
    let _ =
        window.add_event_listener_with_callback("popstate", on_popstate.as_ref().unchecked_ref());
    let _ = window.add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
    // Gone with the owner that provided them: a handler of a disposed location would take
    // clicks and update a signal nobody reads.
    let listeners = send_wrapper::SendWrapper::new((on_popstate, on_click));
    on_cleanup(move || {
        let (on_popstate, on_click) = listeners.take();
        let window = leptos::prelude::window();
        let _ = window
            .remove_event_listener_with_callback("popstate", on_popstate.as_ref().unchecked_ref());
        let _ =
            window.remove_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
    });
    location
}

/// The location [`provide`] set up.
pub fn use_location() -> Location {
    expect_context::<Location>()
}

fn scroll_to_fragment_or_top(hash: &str) {
    let target = hash
        .strip_prefix('#')
        .filter(|id| !id.is_empty())
        .map(|id| {
            js_sys::decode_uri_component(id)
                .map(String::from)
                .unwrap_or_else(|_| id.to_string())
        })
        .and_then(|id| document().get_element_by_id(&id));
    match target {
        Some(element) => element.scroll_into_view(),
        None => window().scroll_to_with_x_and_y(0.0, 0.0),
    }
}

/// A plain left click on a link to another path of this origin becomes a client-side
/// navigation. Everything else stays the browser's: modified clicks (new tab, download),
/// links with a `target`, `download` or `rel="external"`, other origins, and links that only
/// change the fragment (so a skip link moves the focus as the browser does).
fn on_link_click(location: Location, event: &web_sys::MouseEvent) {
    if event.default_prevented()
        || event.button() != 0
        || event.meta_key()
        || event.alt_key()
        || event.ctrl_key()
        || event.shift_key()
    {
        return;
    }
    let Some(link) = event
        .composed_path()
        .iter()
        .find_map(|node| node.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    else {
        return;
    };
    let external = link
        .get_attribute("rel")
        .is_some_and(|rel| rel.split_ascii_whitespace().any(|r| r == "external"));
    let target = link.target();
    if link.href().is_empty()
        || !(target.is_empty() || target == "_self")
        || link.has_attribute("download")
        || external
    {
        return;
    }
    let Ok(url) = web_sys::Url::new(&link.href()) else {
        return;
    };
    let here = window().location();
    // The protocol too: a `blob:` link (an app's download) has the page's origin.
    if Some(url.origin()) != here.origin().ok() || Some(url.protocol()) != here.protocol().ok() {
        return;
    }
    let (path, search, hash) = (url.pathname(), url.search(), url.hash());
    let same_document = Some(&path) == here.pathname().ok().as_ref()
        && Some(&search) == here.search().ok().as_ref();
    if same_document && !hash.is_empty() {
        return;
    }
    event.prevent_default();
    // A link to the page already shown: nothing to do, unless the address carries a fragment
    // the link does not (then back to the top, as the browser would).
    let shown_fragment = here.hash().is_ok_and(|h| !h.is_empty());
    if !same_document || shown_fragment {
        location.navigate(&format!("{path}{search}{hash}"));
    }
}

/// The view for the kind of page the current path is, built by `render`. Rebuilt only when the
/// kind changes: a navigation to the same path, or to another app path, keeps the app page
/// (and the apps mounted in it), which follows the path itself.
pub fn routed(render: impl Fn(Page) -> AnyView + Send + Sync + 'static) -> impl IntoView {
    let location = use_location();
    let page = Memo::new(move |_| location.pathname.with(|path| Page::for_path(path)));
    // Only the kind of page decides: a signal read while building the page must not.
    move || {
        let page = page.get();
        untrack(|| render(page))
    }
}

/// A link that says whether it is the current page (`aria-current="page"`).
#[component]
pub fn Link(#[prop(into)] href: String, children: Children) -> impl IntoView {
    let location = use_location();
    let target = href.clone();
    let current = move || {
        location
            .pathname
            .with(|path| is_current(&target, path))
            .then_some("page")
    };
    view! { <a href=href aria-current=current>{children()}</a> }
}

#[cfg(test)]
mod tests {
    use super::Page;

    #[test]
    fn a_path_is_home_the_inspector_or_an_app_page() {
        assert_eq!(Page::for_path("/"), Page::Home);
        assert_eq!(Page::for_path(""), Page::Home);
        assert_eq!(Page::for_path("/inspector"), Page::Inspector);
        assert_eq!(Page::for_path("/inspector/"), Page::Inspector);
        assert_eq!(Page::for_path("/tasks"), Page::App);
        assert_eq!(Page::for_path("/inspector-notes"), Page::App);
        assert_eq!(Page::for_path("/tasks/inspector"), Page::App);
    }
}
