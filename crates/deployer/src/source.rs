//! What is being published: a Rust micro-app crate or a plain JS package, and the
//! `mfe` settings its team declared in its own manifest file.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use mfe_contract::SlotSpec;

use crate::{cargo_meta, package_json};

/// How the app is built and which files make it up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppKind {
    /// A crate compiled to wasm32 and bound with wasm-bindgen.
    Rust {
        /// The Cargo package name (`cargo build -p <package>`).
        package: String,
    },
    /// A plain ES module, published as it is.
    Js {
        /// The module file, inside the app dir.
        entry: PathBuf,
    },
}

/// A micro app ready to be published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSource {
    pub dir: PathBuf,
    pub kind: AppKind,
    /// The micro-app name (URL segment and manifest key).
    pub name: String,
    pub version: String,
    pub routes: Vec<String>,
    pub slots: Vec<SlotSpec>,
    pub requires: u32,
    pub budget: Option<u64>,
}

/// Reads the app in `dir`: `Cargo.toml` (a Rust crate) wins over `package.json`, since a Rust
/// app may well carry a `package.json` for its browser tests. `version` overrides the
/// declared version.
pub fn read_app_source(dir: &Path, version: Option<&str>) -> Result<AppSource> {
    let mut source = if dir.join("Cargo.toml").is_file() {
        cargo_meta::read(dir)?
    } else if dir.join("package.json").is_file() {
        package_json::read(dir)?
    } else if !dir.is_dir() {
        bail!("{} is not a directory", dir.display());
    } else {
        bail!(
            "{} holds neither Cargo.toml (a Rust micro app) nor package.json (a JS micro app)",
            dir.display()
        );
    };
    if let Some(v) = version {
        source.version = v.to_string();
    }
    Ok(source)
}
