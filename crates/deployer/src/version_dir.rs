//! `<cdn>/apps/<name>/<version>/`: written once, never changed. A new version is assembled in
//! a hidden staging folder next to it and renamed into place, so the served tree never shows a
//! half-copied version.

use std::fs::{self, File};
use std::io::{ErrorKind, Write as _};
use std::path::Path;

use anyhow::{bail, Context as _, Result};
use mfe_contract::AppDescriptor;

use crate::assets::Assets;
use crate::atomic::sync_dir;
use crate::Cdn;

/// The per-version descriptor's file name.
pub(crate) const DESCRIPTOR_FILE: &str = "mfe.json";

/// What is already on disk for the version being published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnDisk {
    Absent,
    /// Every file and `mfe.json` equal what would be written.
    Identical,
}

/// Compares an existing version folder with what would be written, and refuses if anything
/// differs: a version number names one set of bytes forever (browsers and the service worker
/// cache these URLs as immutable).
pub(crate) fn compare(dir: &Path, assets: &Assets, descriptor: &AppDescriptor) -> Result<OnDisk> {
    if !dir.exists() {
        return Ok(OnDisk::Absent);
    }
    let mut differences = Vec::new();
    for asset in assets.all() {
        let path = dir.join(&asset.rel);
        match fs::read(&path) {
            Ok(bytes) if bytes == asset.bytes => {}
            Ok(_) => differences.push(format!("{} has different bytes", asset.rel)),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                differences.push(format!("{} is missing", asset.rel))
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }
    differences.extend(descriptor_differences(
        &dir.join(DESCRIPTOR_FILE),
        descriptor,
    )?);
    if differences.is_empty() {
        return Ok(OnDisk::Identical);
    }
    bail!(
        "refusing to overwrite {} {}: {} already holds different content ({}). Published \
         versions are immutable: bump the version and publish again",
        descriptor.name,
        descriptor.version,
        dir.display(),
        differences.join("; ")
    )
}

/// Which top-level fields of the existing `mfe.json` differ from `descriptor`.
fn descriptor_differences(path: &Path, descriptor: &AppDescriptor) -> Result<Vec<String>> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Ok(vec![format!("{DESCRIPTOR_FILE} is missing")])
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let Ok(serde_json::Value::Object(old)) = serde_json::from_str(&text) else {
        return Ok(vec![format!("{DESCRIPTOR_FILE} is not a JSON object")]);
    };
    let serde_json::Value::Object(new) = serde_json::to_value(descriptor)? else {
        bail!("a descriptor always serialises to an object");
    };
    let mut fields: Vec<&String> = old.keys().chain(new.keys()).collect();
    fields.sort();
    fields.dedup();
    Ok(fields
        .into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .map(|k| format!("{DESCRIPTOR_FILE} field `{k}` differs"))
        .collect())
}

/// Writes the version folder: staged beside its final place, synced, then renamed.
pub(crate) fn write(cdn: &Cdn, assets: &Assets, descriptor: &AppDescriptor) -> Result<()> {
    let parent = cdn.app_dir(&descriptor.name);
    let dest = cdn.version_dir(&descriptor.name, &descriptor.version);
    fs::create_dir_all(&parent).with_context(|| format!("creating {}", parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(&format!(".staging-{}-", descriptor.version))
        .tempdir_in(&parent)
        .with_context(|| format!("creating a staging folder in {}", parent.display()))?;
    let mut descriptor_text = serde_json::to_string_pretty(descriptor)?;
    descriptor_text.push('\n');
    let files = assets
        .all()
        .map(|a| (a.rel.as_str(), a.bytes.as_slice()))
        .chain([(DESCRIPTOR_FILE, descriptor_text.as_bytes())]);
    for (rel, bytes) in files {
        let path = staging.path().join(rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let mut file =
            File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    open_for_serving(staging.path())?;
    let staged = staging.keep();
    if let Err(e) = fs::rename(&staged, &dest) {
        let _ = fs::remove_dir_all(&staged);
        return Err(e).with_context(|| format!("moving the staged version to {}", dest.display()));
    }
    sync_dir(&parent)
}

/// Staging folders are created private (0700); the served folder must be readable (0755).
fn open_for_serving(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o755))
            .with_context(|| format!("setting permissions on {}", dir.display()))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}
