//! The frame the boot module draws while the shell loads: the shell's header and nav and the
//! main mount point, with the same classes so nothing moves when the shell's own frame takes
//! its place (`#mfe-boot`, see `style/shell.css`). It has no `data-testid`s: the shell's frame
//! is the one tests and scripts talk to. While it is up, `<html>` has the class `booting`,
//! which hides the shell's frame until the shell has taken the app over.

use mfe_manifest::placement::{is_current, nav_links, Placement};
use mfe_manifest::ValidatedManifest;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, HtmlElement};

/// The id of the frame's root, which the shell removes when it takes over, and the class on
/// `<html>` while the frame is up.
pub use mfe_contract::boot::{BOOTING_CLASS, FRAME_ID as ROOT_ID};

/// The frame drawn (its root is found by [`ROOT_ID`]).
pub struct Frame {
    /// The element the app renders into; the shell moves it into its own slot.
    pub element: HtmlElement,
    loading: Element,
}

fn el(document: &Document, tag: &str, class: &str) -> Result<Element, JsValue> {
    let e = document.create_element(tag)?;
    if !class.is_empty() {
        e.set_class_name(class);
    }
    Ok(e)
}

fn link(document: &Document, href: &str, text: &str, path: &str) -> Result<Element, JsValue> {
    let a = el(document, "a", "")?;
    a.set_attribute("href", href)?;
    if is_current(href, path) {
        a.set_attribute("aria-current", "page")?;
    }
    a.set_text_content(Some(text));
    Ok(a)
}

/// Draws the frame at the top of `<body>` with a loading line for `placement`'s app.
pub fn show(
    document: &Document,
    manifest: &ValidatedManifest,
    placement: &Placement,
    path: &str,
) -> Result<Frame, JsValue> {
    let body = document.body().ok_or("no <body> yet")?;
    let root = el(document, "div", "")?;
    root.set_id(ROOT_ID);

    let header = el(document, "header", "shell-header")?;
    let brand = el(document, "span", "brand")?;
    brand.set_text_content(Some("Workspace"));
    header.append_child(&brand)?;
    let nav = el(document, "nav", "")?;
    nav.set_attribute("aria-label", "Apps")?;
    let home = link(document, "/", "Home", path)?;
    nav.append_child(&home)?;
    for (name, route) in nav_links(manifest) {
        let app = link(document, &route, &name, path)?;
        nav.append_child(&app)?;
    }
    let inspector = link(document, "/inspector", "Inspector", path)?;
    nav.append_child(&inspector)?;
    header.append_child(&nav)?;
    root.append_child(&header)?;

    let shell_body = el(document, "div", "shell-body")?;
    let main = el(document, "main", "shell-main")?;
    main.set_id("main");
    let slot = el(document, "div", "app-slot")?;
    slot.set_attribute("data-app", &placement.name)?;
    slot.set_attribute("data-slot", &placement.slot)?;
    let loading = el(document, "p", "app-loading")?;
    loading.set_attribute("role", "status")?;
    loading.set_text_content(Some(&format!("{}: Loading…", placement.name)));
    slot.append_child(&loading)?;
    let element: HtmlElement = el(document, "div", "")?.unchecked_into();
    slot.append_child(&element)?;
    main.append_child(&slot)?;
    shell_body.append_child(&main)?;
    root.append_child(&shell_body)?;

    body.insert_before(&root, body.first_child().as_ref())?;
    if let Some(html) = document.document_element() {
        html.class_list().add_1(BOOTING_CLASS)?;
    }
    Ok(Frame { element, loading })
}

impl Frame {
    /// The app is on screen: the loading line goes.
    pub fn mounted(&self) {
        self.loading.remove();
    }
}
