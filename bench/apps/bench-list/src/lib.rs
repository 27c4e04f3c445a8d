//! Benchmark micro app (bench/, `scripts/bench`): `<main id="bench-app">` with a small form and
//! a list of 100 rows, the same screen as the single-spa + React app it is compared with.
//! While mounted it leaves its host handle at `window.__mfeBench.host`, so the benchmark
//! driver can call `host.dispatch` from page JavaScript (the shell exposes nothing extra).

use leptos::mount::mount_to;
use leptos::prelude::*;
use mfe_sdk::{HostError, MicroApp, Props};
use wasm_bindgen::JsValue;

const STATUSES: [&str; 3] = ["queued", "sent", "acked"];

#[derive(Clone, PartialEq)]
struct Row {
    id: u32,
    sku: String,
    name: String,
    qty: u32,
    status: &'static str,
}

fn make_rows(n: u32) -> Vec<Row> {
    (0..n)
        .map(|i| Row {
            id: i + 1,
            sku: format!("SKU-{:05}", 1000 + i * 7),
            name: format!("Item {}", i + 1),
            qty: 1 + i % 9,
            status: STATUSES[(i % 3) as usize],
        })
        .collect()
}

#[allow(non_snake_case)]
fn BenchList(name: String) -> impl IntoView {
    let rows = RwSignal::new(make_rows(100));
    let item = RwSignal::new(String::new());
    let qty = RwSignal::new(String::from("1"));
    let priority = RwSignal::new(String::from("normal"));
    let on_submit = move |ev: web_sys::SubmitEvent| {
        ev.prevent_default();
        let text = item.get_untracked().trim().to_string();
        if text.is_empty() {
            return;
        }
        let qty = qty.get_untracked().parse().unwrap_or(1);
        rows.update(|rs| {
            let id = rs.last().map(|r| r.id + 1).unwrap_or(1);
            rs.push(Row {
                id,
                sku: "SKU-NEW".into(),
                name: text,
                qty,
                status: "queued",
            });
        });
        item.set(String::new());
    };
    view! {
        <main id="bench-app" data-app=name data-rows=move || rows.with(Vec::len)>
            <h2>"Orders"</h2>
            <form on:submit=on_submit aria-label="add item">
                <label>"Item " <input name="item" required prop:value=item on:input=move |ev| item.set(event_target_value(&ev))/></label>
                " "
                <label>"Qty " <input name="qty" type="number" min="1" prop:value=qty on:input=move |ev| qty.set(event_target_value(&ev))/></label>
                " "
                <label>"Priority "
                    <select name="priority" prop:value=priority on:change=move |ev| priority.set(event_target_value(&ev))>
                        <option value="low">"low"</option>
                        <option value="normal">"normal"</option>
                        <option value="high">"high"</option>
                    </select>
                </label>
                " "
                <button type="submit">"Add"</button>
            </form>
            <ul class="rows">
                <For each=move || rows.get() key=|r| r.id let:row>
                    <li class="row" data-id=row.id>
                        <span class="sku">{row.sku.clone()}</span>" "
                        <span class="name">{row.name.clone()}</span>" "
                        <span class="qty">{format!("×{}", row.qty)}</span>" "
                        <span class=format!("status {}", row.status)>{row.status}</span>" "
                        <button type="button" on:click=move |_| rows.update(|rs| rs.retain(|r| r.id != row.id))>"remove"</button>
                    </li>
                </For>
            </ul>
        </main>
    }
}

fn bench_slot() -> Option<js_sys::Object> {
    let window: JsValue = web_sys::window()?.into();
    let key = JsValue::from_str("__mfeBench");
    let slot = js_sys::Reflect::get(&window, &key)
        .ok()
        .filter(JsValue::is_object);
    let slot = match slot {
        Some(slot) => slot,
        None => {
            let fresh: JsValue = js_sys::Object::new().into();
            js_sys::Reflect::set(&window, &key, &fresh).ok()?;
            fresh
        }
    };
    Some(slot.into())
}

/// The mounted app; dropping the view handle removes its DOM and reactive state.
pub struct BenchApp {
    _view: Box<dyn std::any::Any>,
}

impl MicroApp for BenchApp {
    fn mount(props: Props) -> Result<Self, HostError> {
        if let Some(slot) = bench_slot() {
            let _ = js_sys::Reflect::set(&slot, &JsValue::from_str("host"), props.host.as_js());
        }
        let name = props.name.clone();
        let handle = mount_to(props.element.clone(), move || BenchList(name));
        Ok(Self {
            _view: Box::new(handle),
        })
    }

    fn unmount(self) {
        if let Some(slot) = bench_slot() {
            let _ = js_sys::Reflect::delete_property(&slot, &JsValue::from_str("host"));
        }
    }
}

mfe_sdk::export_lifecycles!(BenchApp);
