//! Coordination between tabs of one origin: one drainer at a time (Web Locks) and "the outbox
//! changed" notices to the others (BroadcastChannel).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

#[wasm_bindgen(inline_js = r#"
const LEASE_MS = 10000;
const me = Math.random().toString(36).slice(2);
function readLease(key) {
  try { return JSON.parse(localStorage.getItem(key) || 'null'); } catch (_) { return null; }
}
// Without Web Locks: a lease in localStorage (owner + expiry), renewed while the task runs and
// released after it; an abandoned lease (closed tab) expires by itself.
function withLease(name, task) {
  const key = `mfe.lease.${name}`;
  const held = readLease(key);
  if (held && held.owner !== me && held.until > Date.now()) return task(false);
  localStorage.setItem(key, JSON.stringify({ owner: me, until: Date.now() + LEASE_MS }));
  if (readLease(key)?.owner !== me) return task(false);
  const renew = setInterval(() => {
    localStorage.setItem(key, JSON.stringify({ owner: me, until: Date.now() + LEASE_MS }));
  }, LEASE_MS / 3);
  return Promise.resolve(task(true)).finally(() => {
    clearInterval(renew);
    if (readLease(key)?.owner === me) localStorage.removeItem(key);
  });
}
export function run_exclusive(name, task) {
  const locks = globalThis.navigator && globalThis.navigator.locks;
  if (!locks || typeof locks.request !== 'function') return withLease(name, task);
  return locks.request(name, { ifAvailable: true }, (lock) => task(lock !== null));
}
"#)]
extern "C" {
    fn run_exclusive(name: &str, task: &js_sys::Function) -> js_sys::Promise;
}

/// The lock every drainer (page or worker) takes, so one command is never sent by two.
pub const DRAIN_LOCK: &str = "mfe-outbox-drain";
const CHANNEL: &str = "mfe-outbox";

/// Runs `task` while holding the named Web Lock, if nobody else holds it. Returns whether it
/// ran. Without the Web Locks API it takes a lease in localStorage instead (renewed while the
/// task runs, expiring by itself if the tab dies).
pub async fn exclusive<F>(name: &str, task: impl FnOnce() -> F + 'static) -> bool
where
    F: Future<Output = ()> + 'static,
{
    let ran = Rc::new(Cell::new(false));
    let ran_inner = ran.clone();
    let callback = Closure::once_into_js(move |held: bool| -> js_sys::Promise {
        if !held {
            return js_sys::Promise::resolve(&JsValue::UNDEFINED);
        }
        ran_inner.set(true);
        future_to_promise(async move {
            task().await;
            Ok(JsValue::UNDEFINED)
        })
    });
    let _ = JsFuture::from(run_exclusive(name, callback.unchecked_ref())).await;
    ran.get()
}

/// The open channel and its message handler (kept alive together).
type Listener = (
    web_sys::BroadcastChannel,
    Closure<dyn Fn(web_sys::MessageEvent)>,
);

thread_local! {
    static CHANNEL_HANDLE: RefCell<Option<Listener>> = const { RefCell::new(None) };
}

/// What one tab tells the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// A command was saved: the drainer should pick it up.
    Enqueued,
    /// Statuses changed (delivered, dead, retried, discarded): refresh what you show.
    Changed,
}

impl Notice {
    fn as_str(self) -> &'static str {
        match self {
            Self::Enqueued => "enqueued",
            Self::Changed => "changed",
        }
    }
}

/// Listens for notices from other tabs.
pub fn listen(on_notice: impl Fn(Notice) + 'static) {
    let Ok(channel) = web_sys::BroadcastChannel::new(CHANNEL) else {
        return;
    };
    let handler =
        Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            match event.data().as_string().as_deref() {
                Some("enqueued") => on_notice(Notice::Enqueued),
                Some("changed") => on_notice(Notice::Changed),
                _ => {}
            }
        });
    channel.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    CHANNEL_HANDLE.with(|c| *c.borrow_mut() = Some((channel, handler)));
}

/// Tells the other tabs.
pub fn tell(notice: Notice) {
    CHANNEL_HANDLE.with(|c| {
        if let Some((channel, _)) = c.borrow().as_ref() {
            let _ = channel.post_message(&JsValue::from_str(notice.as_str()));
        }
    });
}

/// Tells the other tabs without listening (the service worker, which has no tab of its own):
/// opens the channel, posts, closes.
pub fn tell_once(notice: Notice) {
    if let Ok(channel) = web_sys::BroadcastChannel::new(CHANNEL) {
        let _ = channel.post_message(&JsValue::from_str(notice.as_str()));
        channel.close();
    }
}
