//! `publish`: read the app, collect (or build) its files, check it, copy it into its
//! immutable version folder and merge it into `manifest.json`, all under the deploy lock.

use std::path::PathBuf;

use anyhow::{anyhow, Context as _, Result};
use mfe_contract::{AppDescriptor, AppIntegrity, HOST_API_VERSION};
use mfe_manifest::{
    check_budget, check_requires, sri, validate_descriptor, versions_to_try, SriAlgorithm,
    DEFAULT_KEEP_PREVIOUS,
};

use crate::assets::{self, Assets, Collect};
use crate::version_dir::{self, OnDisk};
use crate::{read_app_source, AppKind, AppSource, Cdn, Progress, Tools};

/// Everything `publish` needs besides the time.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    pub app_dir: PathBuf,
    pub cdn: Cdn,
    /// Build a Rust app first (otherwise its `pkg/` folder is used as it is).
    pub build: bool,
    /// Run wasm-opt after wasm-bindgen when building.
    pub optimize: bool,
    /// Publish under this version instead of the declared one.
    pub version: Option<String>,
    pub keep_previous: usize,
    /// The host API the shell provides; apps requiring more are refused.
    pub host_api_version: u32,
    pub tools: Tools,
}

impl PublishOptions {
    /// Defaults: no build, optimise when building, keep 5 previous versions, this contract's
    /// host API version, tools from PATH.
    pub fn new(app_dir: impl Into<PathBuf>, cdn: Cdn) -> Self {
        Self {
            app_dir: app_dir.into(),
            cdn,
            build: false,
            optimize: true,
            version: None,
            keep_previous: DEFAULT_KEEP_PREVIOUS,
            host_api_version: HOST_API_VERSION,
            tools: Tools::default(),
        }
    }
}

/// What `publish` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishOutcome {
    /// A new version is current; `replaced` is the version that was current before.
    Published {
        descriptor: AppDescriptor,
        replaced: Option<String>,
    },
    /// The version's identical files were already on disk but the manifest no longer listed
    /// it (rolled back from, or removed): it is current again.
    Restored { descriptor: AppDescriptor },
    /// This exact version is already published and listed: nothing changed.
    AlreadyPublished { descriptor: AppDescriptor },
}

pub fn publish(opts: &PublishOptions, now: &str, progress: Progress<'_>) -> Result<PublishOutcome> {
    let source = read_app_source(&opts.app_dir, opts.version.as_deref())?;
    progress(&format!(
        "publishing {} {} from {} ({})",
        source.name,
        source.version,
        source.dir.display(),
        match &source.kind {
            AppKind::Rust { package } => format!("Rust crate {package}"),
            AppKind::Js { .. } => "JS module".to_string(),
        }
    ));
    let how = Collect {
        build: opts.build,
        release: true,
        optimize: opts.optimize,
        tools: &opts.tools,
    };
    let assets = assets::collect(&source, &how, progress)?;
    let descriptor = describe(&source, &assets);
    progress(&format!(
        "{} bytes in {} file(s); entry {}",
        assets.total_bytes(),
        assets.all().count(),
        descriptor.integrity.entry
    ));
    check(&descriptor, opts.host_api_version)?;

    let _lock = opts.cdn.lock(progress)?;
    let loaded = opts.cdn.load_for_edit(now, None)?;
    let listed = loaded.manifest.apps.get(&descriptor.name).and_then(|v| {
        versions_to_try(v)
            .find(|d| d.version == descriptor.version)
            .cloned()
    });
    let replaced = loaded
        .manifest
        .apps
        .get(&descriptor.name)
        .map(|v| v.current.version.clone());
    let dir = opts.cdn.version_dir(&descriptor.name, &descriptor.version);
    let on_disk = version_dir::compare(&dir, &assets, &descriptor)?;
    // Decided before anything is written, so a refused publish changes nothing.
    let next = mfe_manifest::merge(
        &loaded.manifest,
        descriptor.clone(),
        now,
        opts.keep_previous,
    )
    .with_context(|| format!("merging into {}", opts.cdn.manifest_path().display()))?;
    match on_disk {
        OnDisk::Absent => {
            progress(&format!("copying to {}", dir.display()));
            version_dir::write(&opts.cdn, &assets, &descriptor)?;
        }
        OnDisk::Identical => progress(&format!(
            "{} already holds these exact files",
            dir.display()
        )),
    }
    if listed.is_some() {
        return Ok(PublishOutcome::AlreadyPublished { descriptor });
    }
    progress(&format!("updating {}", opts.cdn.manifest_path().display()));
    opts.cdn.write_manifest(&next)?;
    Ok(match on_disk {
        OnDisk::Identical => PublishOutcome::Restored { descriptor },
        OnDisk::Absent => PublishOutcome::Published {
            descriptor,
            replaced,
        },
    })
}

/// The version's `mfe.json`: URLs under `/apps/<name>/<version>/`, sha384 SRI of the ES
/// module and the wasm, and `bytes` = everything published.
pub(crate) fn describe(source: &AppSource, assets: &Assets) -> AppDescriptor {
    let base = format!("/apps/{}/{}/", source.name, source.version);
    AppDescriptor {
        name: source.name.clone(),
        version: source.version.clone(),
        entry: format!("{base}{}", assets.entry.rel),
        wasm: assets.wasm.as_ref().map(|w| format!("{base}{}", w.rel)),
        integrity: AppIntegrity {
            entry: sri(SriAlgorithm::Sha384, &assets.entry.bytes),
            wasm: assets
                .wasm
                .as_ref()
                .map(|w| sri(SriAlgorithm::Sha384, &w.bytes)),
        },
        routes: source.routes.clone(),
        slots: source.slots.clone(),
        requires: source.requires,
        budget: source.budget,
        bytes: Some(assets.total_bytes()),
    }
}

/// The refusals a team can act on, with the reason first: host API, then budget, then every
/// other descriptor rule (which also guards the paths written below: the name and version
/// become folder names).
pub(crate) fn check(descriptor: &AppDescriptor, host_api_version: u32) -> Result<()> {
    let refuse = |e: mfe_manifest::FieldError| {
        anyhow!(
            "refusing to publish {} {}: {}",
            descriptor.name,
            descriptor.version,
            e.message
        )
    };
    check_requires(descriptor, host_api_version).map_err(refuse)?;
    check_budget(descriptor).map_err(refuse)?;
    validate_descriptor(descriptor).map_err(|e| {
        anyhow!(
            "refusing to publish {} {}: its mfe.json would be invalid: {e}",
            descriptor.name,
            descriptor.version
        )
    })
}
