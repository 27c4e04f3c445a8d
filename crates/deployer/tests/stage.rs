//! `stage`: the app as `publish` would describe it, in memory, with nothing written.

mod common;

use common::world;
use mfe_deploy::{stage, StageOptions, Tools};
use mfe_manifest::{sri, SriAlgorithm};

fn options(app_dir: std::path::PathBuf, release: bool) -> StageOptions {
    StageOptions {
        app_dir,
        build: false,
        release,
        tools: Tools::default(),
    }
}

#[test]
fn staged_files_sit_at_their_published_urls_with_matching_integrity() {
    let w = world();
    let app = w.rust_app(
        "tasks",
        "1.2.0",
        b"export const x = 1;",
        b"\0asm",
        "budget = 100",
    );
    let staged = stage(&options(app, true), &mut |_| {}).unwrap();
    let d = &staged.descriptor;
    assert_eq!(d.entry, "/apps/tasks/1.2.0/tasks.js");
    assert_eq!(d.wasm.as_deref(), Some("/apps/tasks/1.2.0/tasks_bg.wasm"));
    let entry = staged.files.iter().find(|f| f.url == d.entry).unwrap();
    assert_eq!(d.integrity.entry, sri(SriAlgorithm::Sha384, &entry.bytes));
    assert_eq!(d.budget, Some(100));
    assert!(!w.cdn.manifest_path().exists(), "staging publishes nothing");
}

#[test]
fn the_budget_binds_release_builds_only() {
    let w = world();
    let app = w.rust_app("tasks", "1.0.0", &[b'x'; 80], &[0; 80], "budget = 100");
    let err = stage(&options(app.clone(), true), &mut |_| {}).unwrap_err();
    assert!(
        err.to_string()
            .contains("over its budget of 100 bytes by 60"),
        "{err}"
    );
    let dev = stage(&options(app, false), &mut |_| {}).unwrap();
    assert_eq!(dev.descriptor.budget, None);
    assert_eq!(dev.descriptor.bytes, Some(160));
}
