//! Crash detection in a real browser, through the real loader (blob: import) and the real
//! `window` error event: a plain JS app mounted twice (two instances, two mount points) throws
//! from a click handler after mount; only the instance that threw is stopped and its slot
//! told, and an error made by other code stops nothing. `fetch` is replaced by a stub that
//! serves the app's module, so no server is needed.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use leptos::prelude::GetUntracked;
use mfe_contract::{AppDescriptor, AppIntegrity};
use mfe_shell::runtime::crash_watch;
use mfe_shell::runtime::instances::{self, Context, Target};
use mfe_shell::runtime::records::RuntimeState;
use mfe_shell::state::ShellState;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
const APP = `
export async function bootstrap() {}
export async function mount(props) {
  const button = document.createElement('button');
  button.textContent = 'boom';
  button.onclick = () => { throw new Error('boom: click throws on purpose'); };
  props.element.appendChild(button);
}
export async function unmount(props) { props.element.innerHTML = ''; }
`;
export function serve_app(path) {
  const real = window.fetch;
  window.fetch = async (request) => {
    const url = typeof request === 'string' ? request : request.url;
    if (url.endsWith(path)) return new Response(APP, { headers: { 'content-type': 'text/javascript' } });
    return real.call(window, request);
  };
}
export function error_from_test_code() { return new Error('not from any app'); }
"#)]
extern "C" {
    fn serve_app(path: &str);
    fn error_from_test_code() -> JsValue;
}

const ENTRY: &str = "/apps/boom/1.0.0/boom.js";

fn descriptor() -> AppDescriptor {
    AppDescriptor {
        name: "boom".into(),
        version: "1.0.0".into(),
        entry: ENTRY.into(),
        wasm: None,
        integrity: AppIntegrity {
            // The stub answers whatever the integrity; the real check is the browser's.
            entry: mfe_manifest::sri(mfe_manifest::SriAlgorithm::Sha384, b"any"),
            wasm: None,
        },
        routes: vec!["/boom".into()],
        slots: vec![],
        requires: 1,
        budget: None,
        bytes: None,
    }
}

/// A mount point in the page and what its slot was told when the app crashed.
fn target(slot: &str) -> (Target, Rc<RefCell<Option<String>>>) {
    let document = web_sys::window().unwrap().document().unwrap();
    let element: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&element).unwrap();
    let told = Rc::new(RefCell::new(None));
    let sink = told.clone();
    let target = Target {
        slot: slot.into(),
        element,
        base_path: "/boom".into(),
        params: BTreeMap::new(),
        on_crash: Rc::new(move |reason| *sink.borrow_mut() = Some(reason)),
    };
    (target, told)
}

fn click_button_in(target: &Target) {
    let button: web_sys::HtmlElement = target
        .element
        .query_selector("button")
        .unwrap()
        .expect("the app rendered its button")
        .unchecked_into();
    // Dispatches synchronously; the handler's exception goes to window's `error` event.
    button.click();
}

#[wasm_bindgen_test]
async fn a_throw_after_mount_stops_only_the_instance_that_threw() {
    serve_app(ENTRY);
    let runtime = RuntimeState::default();
    crash_watch::install(runtime);
    let ctx = Context {
        state: ShellState::default(),
        runtime,
        navigate: Rc::new(|_: &str| {}),
    };
    let d = descriptor();
    let (main, main_told) = target("main");
    let (side, side_told) = target("sidebar");
    let main_mounted = instances::mount(&ctx, &d, &main, &|_| {})
        .await
        .ok()
        .unwrap();
    let _side_mounted = instances::mount(&ctx, &d, &side, &|_| {})
        .await
        .ok()
        .unwrap();
    assert_eq!(instances::count(), 2, "two instances, one per mount point");

    click_button_in(&main);
    let reason = main_told.borrow().clone().expect("the main slot was told");
    assert!(reason.contains("boom: click throws on purpose"), "{reason}");
    assert_eq!(*side_told.borrow(), None, "the other instance is untouched");
    assert_eq!(instances::count(), 1, "the broken instance left the pool");
    let crashes = runtime.crashes.get_untracked();
    assert_eq!(crashes.len(), 1);
    assert_eq!(
        crashes[0].app,
        Some(("main".into(), "boom".into(), "1.0.0".into()))
    );
    assert!(crashes[0].stopped);

    // An error thrown by other code (here: this test's own script) is nobody's.
    assert_eq!(crash_watch::report(&error_from_test_code(), None), None);
    let crashes = runtime.crashes.get_untracked();
    assert_eq!(crashes.len(), 2);
    assert_eq!(crashes[1].app, None);
    assert!(!crashes[1].stopped);
    assert_eq!(*side_told.borrow(), None);

    // The sidebar instance still runs; when it throws, it is the one stopped.
    click_button_in(&side);
    assert!(side_told.borrow().is_some());
    assert_eq!(instances::count(), 0);
    // Unmounting a crashed instance never calls into it again.
    instances::unmount(main_mounted, std::time::Duration::from_secs(1), &|_| {}).await;
}
