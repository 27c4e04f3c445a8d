//! The built binary, end to end: exit codes, stdout for results, stderr for progress.

mod common;

use std::process::{Command, Output};

use common::world;
use serde_json::Value;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mfe-deploy"))
        .args(args)
        .output()
        .expect("runs the binary")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn publish_then_list_json() {
    let w = world();
    let cdn = w.cdn.root().to_str().unwrap().to_string();
    let app = w.rust_app("tasks", "1.0.0", b"js", b"wasm", "budget = 100");
    let out = run(&["publish", app.to_str().unwrap(), "--cdn", &cdn]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("published tasks 1.0.0"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains("-> publishing tasks 1.0.0"),
        "{}",
        text(&out.stderr)
    );

    let again = run(&["publish", app.to_str().unwrap(), "--cdn", &cdn]);
    assert!(again.status.success());
    assert!(text(&again.stdout).contains("already published, nothing to do"));

    let out = run(&["--cdn", &cdn, "list", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listing: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listing["manifest_exists"], true);
    assert_eq!(listing["apps"][0]["name"], "tasks");
    assert_eq!(listing["apps"][0]["current"], "1.0.0");
    assert_eq!(listing["apps"][0]["bytes"], 6);
    assert_eq!(listing["apps"][0]["routes"][1], "/tasks/*");
    assert_eq!(listing["disabled"], Value::Array(vec![]));
}

#[test]
fn refusals_exit_non_zero_with_the_reason() {
    let w = world();
    let cdn = w.cdn.root().to_str().unwrap().to_string();
    let out = run(&["rollback", "ghost", "--cdn", &cdn]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("error: rolling back ghost: no app named \"ghost\""),
        "{}",
        text(&out.stderr)
    );

    let out = run(&["remove", "ghost", "--cdn", &cdn]);
    assert_eq!(out.status.code(), Some(1));

    let out = run(&["list", "--cdn", &cdn]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("nothing published"));
}

#[test]
fn publish_version_override_rollback_and_remove() {
    let w = world();
    let cdn = w.cdn.root().to_str().unwrap().to_string();
    let app = w.js_app("hello", "1.0.0", "x", "");
    let app = app.to_str().unwrap();
    assert!(run(&["publish", app, "--cdn", &cdn]).status.success());
    let out = run(&["publish", app, "--version", "1.0.1-rc.1", "--cdn", &cdn]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("published hello 1.0.1-rc.1 (was 1.0.0)"),
        "{}",
        text(&out.stdout)
    );

    let out = run(&["rollback", "hello", "--cdn", &cdn]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains("hello: rolled back 1.0.1-rc.1 -> 1.0.0"),
        "{said}"
    );
    assert!(
        said.contains("no longer rollback targets: 1.0.1-rc.1"),
        "{said}"
    );

    let out = run(&["remove", "hello", "--cdn", &cdn]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("were left in place"),
        "{}",
        text(&out.stdout)
    );
    let out = run(&["list", "--json", "--cdn", &cdn]);
    let listing: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listing["apps"], Value::Array(vec![]));
}

#[test]
fn help_lists_the_commands() {
    let out = run(&["--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for command in ["publish", "rollback", "remove", "list", "--cdn"] {
        assert!(help.contains(command), "{help}");
    }
}
