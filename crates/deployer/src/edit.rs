//! `rollback` and `remove`: manifest-only edits under the deploy lock. Neither touches the
//! immutable version folders, so pages that are open keep loading what they loaded.

use anyhow::{Context as _, Result};
use mfe_manifest::versions_to_try;

use crate::{Cdn, Progress};

/// What a rollback did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackOutcome {
    pub name: String,
    pub from: String,
    pub to: String,
    /// Versions that are no longer rollback targets: the one rolled back from, and any newer
    /// ones skipped by `--to`.
    pub dropped: Vec<String>,
}

/// Makes an earlier version of `name` current (the newest previous one, or `to`).
pub fn rollback(
    cdn: &Cdn,
    name: &str,
    to: Option<&str>,
    now: &str,
    progress: Progress<'_>,
) -> Result<RollbackOutcome> {
    let _lock = cdn.lock(progress)?;
    let loaded = cdn.load_for_edit(now, None)?;
    let before = loaded.manifest;
    let after = mfe_manifest::rollback(&before, name, to, now)
        .with_context(|| format!("rolling back {name}"))?;
    let old = &before.apps[name];
    let new = &after.apps[name];
    let kept: Vec<&str> = versions_to_try(new).map(|d| d.version.as_str()).collect();
    let dropped = versions_to_try(old)
        .map(|d| d.version.clone())
        .filter(|v| !kept.contains(&v.as_str()))
        .collect();
    cdn.write_manifest(&after)?;
    Ok(RollbackOutcome {
        name: name.to_string(),
        from: old.current.version.clone(),
        to: new.current.version.clone(),
        dropped,
    })
}

/// What a remove did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoveOutcome {
    pub name: String,
    /// The versions the manifest listed (empty when the entry was invalid).
    pub versions: Vec<String>,
    /// Why the entry was disabled, when it was.
    pub was_disabled: Option<String>,
}

/// Takes `name` out of `manifest.json`. Its files under `<cdn>/apps/<name>/` stay: they are
/// immutable, and a page that is already open may still need them.
pub fn remove(cdn: &Cdn, name: &str, now: &str, progress: Progress<'_>) -> Result<RemoveOutcome> {
    let _lock = cdn.lock(progress)?;
    let loaded = cdn.load_for_edit(now, Some(name))?;
    if let Some(disabled) = loaded.dropped {
        // The invalid entry is already absent from the parsed manifest: writing it removes it.
        let mut next = loaded.manifest;
        next.generated_at = now.to_string();
        cdn.write_manifest(&next)?;
        return Ok(RemoveOutcome {
            name: name.to_string(),
            versions: Vec::new(),
            was_disabled: Some(disabled.reason),
        });
    }
    let versions = loaded
        .manifest
        .apps
        .get(name)
        .map(|v| versions_to_try(v).map(|d| d.version.clone()).collect())
        .unwrap_or_default();
    let next = mfe_manifest::remove(&loaded.manifest, name, now)
        .with_context(|| format!("removing {name}"))?;
    cdn.write_manifest(&next)?;
    Ok(RemoveOutcome {
        name: name.to_string(),
        versions,
        was_disabled: None,
    })
}

/// Allows (or, with `allow == false`, stops allowing) development overrides from the origin
/// of `url` (e.g. a team's `mfe dev` server): debug shells load an overriding `mfe.json` only
/// from origins listed here. Returns the list as written.
pub fn allow_dev_origin(
    cdn: &Cdn,
    url: &str,
    allow: bool,
    now: &str,
    progress: Progress<'_>,
) -> Result<Vec<String>> {
    let origin = mfe_manifest::origin_of(url)
        .filter(|o| o == url.trim_end_matches('/'))
        .with_context(|| format!("{url:?} is not an origin such as http://127.0.0.1:8700"))?;
    let _lock = cdn.lock(progress)?;
    let loaded = cdn.load_for_edit(now, None)?;
    let mut next = loaded.manifest;
    next.dev_origins.retain(|o| *o != origin);
    if allow {
        next.dev_origins.push(origin);
    }
    next.generated_at = now.to_string();
    cdn.write_manifest(&next)?;
    Ok(next.dev_origins)
}
