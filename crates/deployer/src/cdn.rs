//! The static tree the deployer writes and the shell reads: its paths, and reading its
//! manifest without ever trusting (or overwriting) a broken one.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _, Result};
use mfe_manifest::{empty_manifest, parse_manifest, to_json, DisabledApp, Manifest};

use crate::lock::DeployLock;
use crate::{write_atomic, Progress};

pub const MANIFEST_FILE: &str = "manifest.json";
pub const LOCK_FILE: &str = ".deploy.lock";

/// A served tree rooted at a directory, e.g. `var/cdn`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cdn {
    root: PathBuf,
}

/// The manifest as read for an edit.
#[derive(Debug)]
pub(crate) struct Loaded {
    /// The file's manifest, or an empty one when the tree has none yet.
    pub manifest: Manifest,
    /// A disabled app that the caller said it is about to drop (see [`Cdn::load_for_edit`]).
    pub dropped: Option<DisabledApp>,
}

impl Cdn {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn manifest_path(&self) -> PathBuf {
        self.root.join(MANIFEST_FILE)
    }

    /// `<cdn>/apps/<name>`: every version of one app.
    pub fn app_dir(&self, name: &str) -> PathBuf {
        self.root.join("apps").join(name)
    }

    /// `<cdn>/apps/<name>/<version>`, served as `/apps/<name>/<version>/`.
    pub fn version_dir(&self, name: &str, version: &str) -> PathBuf {
        self.app_dir(name).join(version)
    }

    /// Creates the tree if needed and takes the deploy lock.
    pub(crate) fn lock(&self, progress: Progress<'_>) -> Result<DeployLock> {
        fs::create_dir_all(&self.root)
            .with_context(|| format!("creating {}", self.root.display()))?;
        DeployLock::acquire(&self.root.join(LOCK_FILE), progress)
    }

    /// Reads `manifest.json` for reading only: whole-file problems are errors, disabled apps
    /// are reported in the result.
    pub(crate) fn read(&self) -> Result<Option<mfe_manifest::ValidatedManifest>> {
        let path = self.manifest_path();
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        parse_manifest(&text)
            .map(Some)
            .map_err(|e| anyhow!("{} is unusable: {e}", path.display()))
    }

    /// Reads `manifest.json` before changing it. Refuses (and so never overwrites) a file that
    /// is invalid as a whole or has a disabled app: writing back only the valid part would
    /// silently delete the broken app's history. The one exception is `may_drop`, the app a
    /// `remove` is about to delete anyway, so a broken entry can be cleaned up with the tool.
    pub(crate) fn load_for_edit(&self, now: &str, may_drop: Option<&str>) -> Result<Loaded> {
        let path = self.manifest_path();
        let Some(parsed) = self
            .read()
            .map_err(|e| e.context("refusing to change it"))?
        else {
            return Ok(Loaded {
                manifest: empty_manifest(now)?,
                dropped: None,
            });
        };
        let mut dropped = None;
        let mut blocking = Vec::new();
        for app in parsed.disabled {
            if Some(app.name.as_str()) == may_drop {
                dropped = Some(app);
            } else {
                blocking.push(format!("  {}", app.reason));
            }
        }
        if !blocking.is_empty() {
            bail!(
                "{} has invalid app entries; refusing to change it until they are fixed by hand \
                 or removed with `mfe-deploy remove <name>`:\n{}",
                path.display(),
                blocking.join("\n")
            );
        }
        Ok(Loaded {
            manifest: parsed.manifest,
            dropped,
        })
    }

    /// Replaces `manifest.json` atomically with the canonical text of `manifest`.
    pub(crate) fn write_manifest(&self, manifest: &Manifest) -> Result<()> {
        write_atomic(&self.manifest_path(), to_json(manifest).as_bytes())
    }
}
