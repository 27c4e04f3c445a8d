//! `stage`: everything `publish` does before it touches a served tree — read the app, build it,
//! describe it and check it — returning the files in memory. `mfe dev` serves a staged app
//! from memory at the very URLs a publish would give it, so the shell's dev override loads it
//! exactly as it would load the published version.

use std::path::PathBuf;

use anyhow::Result;
use mfe_contract::{AppDescriptor, HOST_API_VERSION};

use crate::assets::{self, Collect};
use crate::publish::{check, describe};
use crate::{read_app_source, Progress, Tools};

/// What to stage and how.
#[derive(Debug, Clone)]
pub struct StageOptions {
    pub app_dir: PathBuf,
    /// Build a Rust app (otherwise its `pkg/` is used; JS apps are never built).
    pub build: bool,
    /// Release profile and wasm-opt (slow, what is published) or the dev profile (quick).
    pub release: bool,
    pub tools: Tools,
}

/// One staged file: its URL path (`/apps/<name>/<version>/…`) and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedFile {
    pub url: String,
    pub bytes: Vec<u8>,
}

/// A built and checked app, not yet published anywhere.
#[derive(Debug, Clone)]
pub struct Staged {
    pub descriptor: AppDescriptor,
    pub files: Vec<StagedFile>,
}

pub fn stage(opts: &StageOptions, progress: Progress<'_>) -> Result<Staged> {
    let source = read_app_source(&opts.app_dir, None)?;
    let is_rust = matches!(source.kind, crate::AppKind::Rust { .. });
    let how = Collect {
        build: opts.build && is_rust,
        release: opts.release,
        optimize: opts.release,
        tools: &opts.tools,
    };
    let assets = assets::collect(&source, &how, progress)?;
    let mut descriptor = describe(&source, &assets);
    if !opts.release {
        // A dev build is unoptimised and many times its release size: the budget is the
        // published build's promise, checked by `publish`.
        descriptor.budget = None;
    }
    check(&descriptor, HOST_API_VERSION)?;
    let base = format!("/apps/{}/{}/", source.name, source.version);
    let files = assets
        .all()
        .map(|a| StagedFile {
            url: format!("{base}{}", a.rel),
            bytes: a.bytes.clone(),
        })
        .collect();
    Ok(Staged { descriptor, files })
}
