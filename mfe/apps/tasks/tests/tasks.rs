//! The tasks app against the SDK's mock host, without the shell: what a user does in the form
//! becomes exactly one `task.add` command and one `tasks.added` event, and each item's badge
//! follows its command's delivery.
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use mfe_sdk::testing::{next_tick, wait_until, MockHost, Mounted};
use mfe_sdk::CommandStatus;
use mfe_tasks::Tasks;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const TIMEOUT: Duration = Duration::from_secs(2);
const TITLE: &str = "[data-testid=task-title]";
const FORM: &str = "[data-testid=task-form]";
const ITEM: &str = "[data-testid=task-item]";

/// A mock whose region holds `titles`, and the app mounted against it.
fn mount(titles: &[&str]) -> (MockHost, Mounted<Tasks>) {
    let tasks: Vec<_> = titles
        .iter()
        .map(|t| std::collections::BTreeMap::from([("title", *t)]))
        .collect();
    let mock = MockHost::builder()
        .answer("/q/stream/tasks", &tasks)
        .build();
    let app = mock.mount::<Tasks>().expect("the tasks app mounts");
    (mock, app)
}

fn item_status(app: &Mounted<Tasks>) -> Option<String> {
    app.find(ITEM)
        .and_then(|item| item.get_attribute("data-status"))
}

#[wasm_bindgen_test]
async fn adding_a_task_dispatches_one_command_and_follows_its_delivery() {
    let (mock, app) = mount(&[]);
    app.type_into(TITLE, "Buy milk");
    app.submit(FORM);

    wait_until(
        || mock.dispatched().len() == 1 && mock.published().len() == 1,
        TIMEOUT,
    )
    .await
    .expect("one command and one event");
    let command = mock.dispatched().remove(0);
    assert_eq!(
        (command.kind.as_str(), command.stream.as_str()),
        ("task.add", "tasks")
    );
    assert_eq!(command.payload["title"], "Buy milk");
    assert_eq!(command.payload.as_object().map(|o| o.len()), Some(1));
    let event = mock.published().remove(0);
    assert_eq!(event.topic, "tasks.added");
    assert_eq!(event.payload["id"], command.id.as_str());
    assert_eq!(event.payload["title"], "Buy milk");

    wait_until(|| item_status(&app).as_deref() == Some("pending"), TIMEOUT)
        .await
        .expect("the item shows as saved on this device");
    let item = app.find(ITEM).unwrap();
    assert_eq!(
        item.get_attribute("data-command-id"),
        Some(command.id.clone())
    );
    assert!(item.text_content().unwrap().contains("Buy milk"));
    let input: web_sys::HtmlInputElement =
        wasm_bindgen::JsCast::unchecked_into(app.find(TITLE).unwrap());
    assert_eq!(input.value(), "", "the saved title is cleared");

    mock.deliver_all();
    wait_until(
        || item_status(&app).as_deref() == Some("delivered"),
        TIMEOUT,
    )
    .await
    .expect("the item shows as sent");
    assert_eq!(mock.dispatched()[0].status, CommandStatus::Delivered);
    // Delivery makes the app read the server's list again.
    wait_until(|| mock.queries().len() == 2, TIMEOUT)
        .await
        .expect("the list is refreshed after delivery");
    next_tick().await;
    assert_eq!(mock.dispatched().len(), 1, "exactly one command");
}

#[wasm_bindgen_test]
async fn an_empty_title_dispatches_nothing_and_says_why() {
    let (mock, app) = mount(&[]);
    app.type_into(TITLE, "   ");
    app.submit(FORM);
    wait_until(|| app.find("[data-testid=task-error]").is_some(), TIMEOUT)
        .await
        .expect("an error is shown");
    assert_eq!(
        app.text("[data-testid=task-error]").as_deref(),
        Some("Write a title first.")
    );
    next_tick().await;
    assert!(mock.dispatched().is_empty());
    assert!(mock.published().is_empty());
    assert!(app.find(ITEM).is_none());
}

#[wasm_bindgen_test]
async fn a_refused_command_shows_as_failed_with_the_reason() {
    let (mock, app) = mount(&[]);
    app.type_into(TITLE, "Buy milk");
    app.submit(FORM);
    wait_until(|| item_status(&app).as_deref() == Some("pending"), TIMEOUT)
        .await
        .expect("the item appears");
    mock.fail_next("HTTP 422: title too long");
    mock.deliver_all();
    wait_until(|| item_status(&app).as_deref() == Some("failed"), TIMEOUT)
        .await
        .expect("the item shows as not accepted");
    assert!(app.text(ITEM).unwrap().contains("HTTP 422: title too long"));
}

#[wasm_bindgen_test]
async fn the_servers_list_shows_and_goes_stale_offline() {
    let (mock, app) = mount(&["Buy milk", "Call Bob"]);
    let list = "[data-testid=server-list] li";
    wait_until(|| app.find_all(list).len() == 2, TIMEOUT)
        .await
        .expect("the region's tasks are listed");
    assert!(app
        .text("[data-testid=server-age]")
        .unwrap()
        .contains("from mock-region"));

    mock.set_offline(true);
    app.click("[data-testid=server-refresh]");
    let stale = || {
        app.find("[data-testid=server-age]")
            .and_then(|p| p.get_attribute("data-stale"))
            .as_deref()
            == Some("true")
    };
    wait_until(stale, TIMEOUT)
        .await
        .expect("the cached list is shown as stale");
    assert_eq!(app.find_all(list).len(), 2);
}
