//! `mfe test [DIR]`: an app's own tests, as its team runs them — first its browser unit tests
//! (wasm-bindgen-test in headless Chromium, against the SDK's mock host), then its Playwright
//! tests in the real shell: the app is built and published into a fresh CDN folder of its
//! own, served with the shell and three simulated regions by the shell's test fixtures.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context as _, Result};
use mfe_deploy::{now_rfc3339, publish, read_app_source, AppKind, Cdn, PublishOptions};

pub struct TestOptions {
    pub app_dir: PathBuf,
    pub shell: PathBuf,
    /// First loopback port of the test stack (static server; regions follow; admin at +10).
    pub port: u16,
    /// Skip the Playwright part (browser unit tests only).
    pub unit_only: bool,
}

fn status(command: &mut Command, what: &str) -> Result<()> {
    eprintln!("-> {what}");
    let status = command
        .status()
        .with_context(|| format!("starting {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

pub fn run(opts: &TestOptions) -> Result<()> {
    // Absolute: Playwright runs from the shell's checkout, not from here.
    let app_dir = opts
        .app_dir
        .canonicalize()
        .with_context(|| format!("{}: no such folder", opts.app_dir.display()))?;
    let source = read_app_source(&app_dir, None)?;
    if let AppKind::Rust { package } = &source.kind {
        let chromedriver =
            std::env::var_os("CHROMEDRIVER").unwrap_or_else(|| "/usr/bin/chromedriver".into());
        status(
            Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
                .args(["test", "--target", "wasm32-unknown-unknown", "-p", package])
                .current_dir(&source.dir)
                .env("CHROMEDRIVER", chromedriver),
            &format!(
                "browser unit tests of {package} (cargo test --target wasm32-unknown-unknown)"
            ),
        )?;
    }
    let specs = source.dir.join("tests").join("e2e");
    if opts.unit_only || !specs.is_dir() {
        eprintln!(
            "-> no Playwright tests run ({})",
            if opts.unit_only {
                "--unit-only"
            } else {
                "no tests/e2e/"
            }
        );
        return Ok(());
    }
    end_to_end(opts, &app_dir, &source.name, &specs)
}

fn end_to_end(opts: &TestOptions, app_dir: &Path, name: &str, specs: &Path) -> Result<()> {
    let shell = &opts.shell;
    let playwright = shell.join("node_modules/.bin/playwright");
    let simulator = shell.join("target/debug/region-sim");
    for (path, fix) in [
        (
            shell.join("dist/index.html"),
            "build the shell: scripts/build in the shell's checkout",
        ),
        (
            simulator.clone(),
            "build it: cargo build -p region-sim in the shell's checkout",
        ),
        (
            playwright.clone(),
            "install it: scripts/bootstrap in the shell's checkout",
        ),
    ] {
        if !path.exists() {
            bail!("{} is missing; {fix}", path.display());
        }
    }
    let work = std::env::temp_dir().join(format!("mfe-test-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&work);
    let cdn_dir = work.join("cdn");
    fs::create_dir_all(&cdn_dir).with_context(|| format!("creating {}", cdn_dir.display()))?;
    let options = PublishOptions {
        build: true,
        ..PublishOptions::new(app_dir, Cdn::new(&cdn_dir))
    };
    eprintln!(
        "-> publishing {name} into a test CDN of its own ({})",
        cdn_dir.display()
    );
    publish(&options, &now_rfc3339(), &mut |line| eprintln!("   {line}"))?;
    let result = status(
        Command::new(&playwright)
            .args(["test", "--config"])
            .arg(shell.join("tests/kit/playwright.config.ts"))
            .current_dir(shell)
            .env("MFE_SHELL", shell)
            .env("MFE_APP_TESTS", specs)
            .env("MFE_TEST_CDN", &cdn_dir)
            .env("MFE_TEST_OUTPUT", work.join("results"))
            .env("MFE_TEST_PORT", opts.port.to_string())
            .env("REGION_SIM", &simulator)
            // Lets the app's specs import the shell's fixtures (`mfe-shell-testing`) and
            // Playwright itself without an npm install of their own.
            .env("NODE_PATH", shell.join("node_modules")),
        &format!("Playwright tests in {}", specs.display()),
    );
    if result.is_ok() {
        let _ = fs::remove_dir_all(&work);
    } else {
        eprintln!(
            "   traces and screenshots: {}",
            work.join("results").display()
        );
    }
    result
}
