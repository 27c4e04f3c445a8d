//! `publish --build` with stand-in tools: checks the orchestration (arguments, working
//! directory, where the output is looked for, wasm-opt's flags) without compiling anything.
#![cfg(unix)]

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use common::{world, NOW};
use mfe_deploy::{publish, Tools};
use mfe_manifest::{sri, SriAlgorithm};

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, format!("#!/bin/sh\nset -e\n{body}\n")).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Stand-ins that log their arguments to `<bin>/log` and produce plausible outputs.
fn fake_tools(bin: &Path, target: &Path, wasm_opt_version: u32) -> Tools {
    fs::create_dir_all(bin).unwrap();
    let log = bin.join("log");
    let log = log.display();
    let target = target.display();
    let cargo = script(
        bin,
        "cargo",
        &format!(
            r#"echo "cargo $* (in $(pwd))" >> {log}
case "$1" in
  metadata) echo '{{"target_directory":"{target}","packages":[]}}' ;;
  build) mkdir -p {target}/wasm32-unknown-unknown/release
         printf 'raw wasm' > {target}/wasm32-unknown-unknown/release/mfe_tasks.wasm ;;
esac"#
        ),
    );
    let bindgen = script(
        bin,
        "wasm-bindgen",
        &format!(
            r#"echo "wasm-bindgen $*" >> {log}
while [ $# -gt 0 ]; do
  case "$1" in
    --out-dir) out="$2"; shift ;;
    --out-name) name="$2"; shift ;;
  esac
  shift
done
printf 'glue' > "$out/$name.js"
printf 'bound wasm' > "$out/${{name}}_bg.wasm""#
        ),
    );
    let opt = script(
        bin,
        "wasm-opt",
        &format!(
            r#"if [ "$1" = "--version" ]; then echo "wasm-opt version {wasm_opt_version} (version_{wasm_opt_version})"; exit 0; fi
echo "wasm-opt $*" >> {log}
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out="$2"; shift ;;
    -*) ;;
    *) in="$1" ;;
  esac
  shift
done
printf 'small' > "$out""#
        ),
    );
    Tools {
        cargo: cargo.into(),
        wasm_bindgen: bindgen.into(),
        wasm_opt: opt.into(),
    }
}

/// A workspace with the app crate two levels down, and no `pkg/` at all.
fn workspace_app(root: &Path) -> PathBuf {
    fs::create_dir_all(root.join("mfe/tasks")).unwrap();
    fs::write(
        root.join("Cargo.toml"),
        "[workspace]\nmembers = [\"mfe/*\"]\n",
    )
    .unwrap();
    let app = root.join("mfe/tasks");
    fs::write(
        app.join("Cargo.toml"),
        "[package]\nname = \"mfe-tasks\"\nversion = \"0.2.0\"\n[package.metadata.mfe]\nname = \"tasks\"\nroutes = [\"/tasks\"]\nrequires = 1\n",
    )
    .unwrap();
    app
}

#[test]
fn builds_binds_optimises_and_publishes() {
    let w = world();
    let root = w.dir.path().join("ws");
    let app = workspace_app(&root);
    let bin = w.dir.path().join("bin");
    let target = w.dir.path().join("custom-target");
    let mut opts = w.options(&app);
    opts.build = true;
    opts.tools = fake_tools(&bin, &target, 132);
    let mut said = Vec::new();
    publish(&opts, NOW, &mut |line| said.push(line.to_string())).unwrap();

    let log = fs::read_to_string(bin.join("log")).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    let root = root.display();
    assert_eq!(
        lines[0],
        format!("cargo metadata --format-version 1 --no-deps (in {root})")
    );
    assert_eq!(
        lines[1],
        format!("cargo build --release --target wasm32-unknown-unknown -p mfe-tasks (in {root})")
    );
    assert!(
        lines[2].starts_with("wasm-bindgen --target web --no-typescript --out-dir "),
        "{log}"
    );
    assert!(
        lines[2].ends_with(&format!(
            "--out-name tasks {}/wasm32-unknown-unknown/release/mfe_tasks.wasm",
            target.display()
        )),
        "{log}"
    );
    assert!(lines[3].starts_with("wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue --enable-sign-ext --enable-mutable-globals "), "{log}");

    let dir = w.cdn.version_dir("tasks", "0.2.0");
    assert_eq!(fs::read(dir.join("tasks.js")).unwrap(), b"glue");
    assert_eq!(fs::read(dir.join("tasks_bg.wasm")).unwrap(), b"small");
    let m = w.manifest();
    let d = &m.app("tasks").unwrap().current;
    assert_eq!(d.integrity.wasm, Some(sri(SriAlgorithm::Sha384, b"small")));
    assert_eq!(d.bytes, Some(9));

    let steps = said.join("\n");
    for step in [
        "cargo build --release",
        "cargo build done in",
        "wasm-bindgen --target web",
        "wasm-opt -Oz (binaryen 132) on 10 bytes",
        "wasm-opt: 10 -> 5 bytes",
        "updating",
    ] {
        assert!(steps.contains(step), "missing {step:?} in\n{steps}");
    }
}

#[test]
fn no_opt_skips_wasm_opt() {
    let w = world();
    let app = workspace_app(&w.dir.path().join("ws"));
    let bin = w.dir.path().join("bin");
    let mut opts = w.options(&app);
    opts.build = true;
    opts.optimize = false;
    opts.tools = fake_tools(&bin, &w.dir.path().join("t"), 132);
    publish(&opts, NOW, &mut |_| {}).unwrap();
    assert!(!fs::read_to_string(bin.join("log"))
        .unwrap()
        .contains("wasm-opt"));
    let wasm = fs::read(w.cdn.version_dir("tasks", "0.2.0").join("tasks_bg.wasm")).unwrap();
    assert_eq!(wasm, b"bound wasm");
}

#[test]
fn known_bad_wasm_opt_is_refused() {
    let w = world();
    let app = workspace_app(&w.dir.path().join("ws"));
    let mut opts = w.options(&app);
    opts.build = true;
    opts.tools = fake_tools(&w.dir.path().join("bin"), &w.dir.path().join("t"), 108);
    let err = format!("{:#}", publish(&opts, NOW, &mut |_| {}).unwrap_err());
    assert!(err.contains("binaryen 108, which silently breaks"), "{err}");
    assert!(!w.cdn.root().exists());
}

#[test]
fn failing_build_stops_before_anything_is_written() {
    let w = world();
    let app = workspace_app(&w.dir.path().join("ws"));
    let bin = w.dir.path().join("bin");
    let mut opts = w.options(&app);
    opts.build = true;
    opts.tools = fake_tools(&bin, &w.dir.path().join("t"), 132);
    opts.tools.cargo = script(
        &bin,
        "cargo-fails",
        r#"[ "$1" = metadata ] && echo '{"target_directory":"/x"}' && exit 0; exit 101"#,
    )
    .into();
    let err = format!("{:#}", publish(&opts, NOW, &mut |_| {}).unwrap_err());
    assert!(err.contains("cargo build failed"), "{err}");
    assert!(!w.cdn.root().exists());
}

#[test]
fn build_is_for_rust_apps_only() {
    let w = world();
    let app = w.js_app("hello", "1.0.0", "x", "");
    let mut opts = w.options(&app);
    opts.build = true;
    let err = format!("{:#}", publish(&opts, NOW, &mut |_| {}).unwrap_err());
    assert!(err.contains("--build applies to Rust crates only"), "{err}");
}
