//! `publish --build` for Rust apps: cargo for wasm32, wasm-bindgen `--target web`, then
//! wasm-opt. Each step is announced before it starts and the tools' own output streams
//! through, so a minute-long build never looks hung.

use std::ffi::OsString;
use std::fs;
use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context as _, Result};
use tempfile::TempDir;

use crate::cargo_meta::workspace_root;
use crate::{AppSource, Progress};

/// The wasm features the wasm-bindgen output uses; wasm-opt must be told, or it rejects or
/// mangles the module (TOOLCHAIN.md pitfall 4).
const WASM_OPT_FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-multivalue",
    "--enable-sign-ext",
    "--enable-mutable-globals",
];

/// Newest binaryen known to silently break wasm-bindgen output (Debian 12's, TOOLCHAIN.md
/// pitfall 3).
const KNOWN_BAD_WASM_OPT: u32 = 108;

/// The external programs a build runs; replaceable so tests can check the orchestration
/// without compiling anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tools {
    pub cargo: OsString,
    pub wasm_bindgen: OsString,
    pub wasm_opt: OsString,
}

impl Default for Tools {
    /// `$CARGO` (set when run under cargo) or `cargo`; `wasm-bindgen` and `wasm-opt` from PATH.
    fn default() -> Self {
        Self {
            cargo: std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
            wasm_bindgen: "wasm-bindgen".into(),
            wasm_opt: "wasm-opt".into(),
        }
    }
}

/// Builds `package` and returns a temporary folder holding `<name>.js` and `<name>_bg.wasm`.
/// `release` is what gets published; the dev profile is for `mfe dev`'s quick rebuilds.
pub(crate) fn build(
    source: &AppSource,
    package: &str,
    tools: &Tools,
    release: bool,
    optimize: bool,
    progress: Progress<'_>,
) -> Result<TempDir> {
    let root = workspace_root(&source.dir)?.unwrap_or_else(|| source.dir.clone());
    let target = target_dir(tools, &root)?;
    let profile: &[&str] = if release { &["--release"] } else { &[] };
    progress(&format!(
        "cargo build {}--target wasm32-unknown-unknown -p {package} (in {}; cargo's progress follows)",
        if release { "--release " } else { "" },
        root.display()
    ));
    run(
        Command::new(&tools.cargo)
            .arg("build")
            .args(profile)
            .args(["--target", "wasm32-unknown-unknown", "-p", package])
            .current_dir(&root),
        "cargo build",
        "is cargo installed?",
        progress,
    )?;
    let wasm = target
        .join("wasm32-unknown-unknown")
        .join(if release { "release" } else { "debug" })
        .join(format!("{}.wasm", package.replace('-', "_")));
    if !wasm.is_file() {
        bail!(
            "cargo build succeeded but {} is missing: does the crate have [lib] crate-type = [\"cdylib\"]?",
            wasm.display()
        );
    }
    let out = tempfile::tempdir().context("creating a folder for wasm-bindgen's output")?;
    progress(&format!(
        "wasm-bindgen --target web --out-name {} {}",
        source.name,
        wasm.display()
    ));
    run(
        Command::new(&tools.wasm_bindgen)
            .args(["--target", "web", "--no-typescript", "--out-dir"])
            .arg(out.path())
            .args(["--out-name", &source.name])
            .arg(&wasm),
        "wasm-bindgen",
        "install it with `cargo install wasm-bindgen-cli --version <the wasm-bindgen version in Cargo.lock>`",
        progress,
    )?;
    let bindgen_wasm = out.path().join(format!("{}_bg.wasm", source.name));
    if optimize {
        optimize_wasm(tools, &bindgen_wasm, progress)?;
    } else {
        progress("skipping wasm-opt (--no-opt)");
    }
    Ok(out)
}

/// Where cargo puts build output, as cargo itself reports it: honours `CARGO_TARGET_DIR` and
/// `build.target-dir` in `.cargo/config.toml` alike.
fn target_dir(tools: &Tools, root: &Path) -> Result<PathBuf> {
    let output = Command::new(&tools.cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root)
        .stderr(Stdio::inherit())
        .output()
        .context("running cargo metadata (is cargo installed?)")?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed in {} ({})",
            root.display(),
            output.status
        );
    }
    #[derive(serde::Deserialize)]
    struct Metadata {
        target_directory: PathBuf,
    }
    let metadata: Metadata =
        serde_json::from_slice(&output.stdout).context("reading cargo metadata's output")?;
    Ok(metadata.target_directory)
}

fn optimize_wasm(tools: &Tools, wasm: &Path, progress: Progress<'_>) -> Result<()> {
    let version = wasm_opt_version(tools)?;
    if version <= KNOWN_BAD_WASM_OPT {
        bail!(
            "wasm-opt on PATH is binaryen {version}, which silently breaks wasm-bindgen output; \
             put a newer one first on PATH (npm binaryen@132: node_modules/.bin) or pass --no-opt"
        );
    }
    let before = file_len(wasm)?;
    let optimized = wasm.with_extension("opt.wasm");
    progress(&format!(
        "wasm-opt -Oz (binaryen {version}) on {before} bytes"
    ));
    run(
        Command::new(&tools.wasm_opt)
            .arg("-Oz")
            .args(WASM_OPT_FEATURES)
            .arg(wasm)
            .arg("-o")
            .arg(&optimized),
        "wasm-opt",
        "install binaryen (npm binaryen@132) and put it on PATH, or pass --no-opt",
        progress,
    )?;
    fs::rename(&optimized, wasm).with_context(|| format!("replacing {}", wasm.display()))?;
    progress(&format!("wasm-opt: {before} -> {} bytes", file_len(wasm)?));
    Ok(())
}

fn wasm_opt_version(tools: &Tools) -> Result<u32> {
    let output = Command::new(&tools.wasm_opt)
        .arg("--version")
        .output()
        .map_err(|e| {
            not_found_hint(
                e,
                "wasm-opt",
                "install binaryen (npm binaryen@132) and put it on PATH, or pass --no-opt",
            )
        })?;
    let text = String::from_utf8_lossy(&output.stdout);
    parse_wasm_opt_version(&text)
        .with_context(|| format!("could not read wasm-opt's version from {:?}", text.trim()))
}

/// `wasm-opt version 132 (version_132)` → 132.
fn parse_wasm_opt_version(text: &str) -> Option<u32> {
    let mut words = text.split_whitespace();
    words.find(|w| *w == "version")?;
    words.next()?.parse().ok()
}

/// Runs a step with its output on our stderr (stdout stays clean for results), timing it.
fn run(command: &mut Command, what: &str, hint: &str, progress: Progress<'_>) -> Result<()> {
    let started = Instant::now();
    let status = command
        .stdin(Stdio::null())
        .stdout(Stdio::from(io::stderr()))
        .stderr(Stdio::inherit())
        .status()
        .map_err(|e| not_found_hint(e, what, hint))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    progress(&format!(
        "{what} done in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

fn not_found_hint(e: io::Error, what: &str, hint: &str) -> anyhow::Error {
    if e.kind() == ErrorKind::NotFound {
        anyhow::anyhow!("{what}: program not found: {hint}")
    } else {
        anyhow::Error::new(e).context(format!("starting {what}"))
    }
}

fn file_len(path: &Path) -> Result<u64> {
    Ok(fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_binaryen_versions() {
        assert_eq!(
            parse_wasm_opt_version("wasm-opt version 132 (version_132)\n"),
            Some(132)
        );
        assert_eq!(parse_wasm_opt_version("wasm-opt version 108"), Some(108));
        assert_eq!(parse_wasm_opt_version("something else"), None);
    }

    #[test]
    fn missing_program_says_how_to_get_it() {
        let mut command = Command::new("/nonexistent/wasm-bindgen");
        let err = run(&mut command, "wasm-bindgen", "install it", &mut |_| {}).unwrap_err();
        assert_eq!(
            err.to_string(),
            "wasm-bindgen: program not found: install it"
        );
    }
}
