//! The deployer's edits as pure functions: each takes a manifest and returns the next one,
//! so they can be tested (and property-tested) without files.

use std::collections::{BTreeMap, BTreeSet};

use mfe_contract::{AppDescriptor, AppVersions, Manifest, MANIFEST_SCHEMA};

use crate::{check_timestamp, validate_descriptor, versions_to_try, FieldError, ManifestError};

/// How many earlier versions per app stay available for rollback unless told otherwise.
pub const DEFAULT_KEEP_PREVIOUS: usize = 5;

/// A manifest with no apps, for the first publish to a new tree.
pub fn empty_manifest(now: &str) -> Result<Manifest, ManifestError> {
    check_timestamp(now)?;
    Ok(Manifest {
        schema: MANIFEST_SCHEMA,
        apps: BTreeMap::new(),
        regions: Vec::new(),
        generated_at: now.to_string(),
        dev_origins: Vec::new(),
    })
}

/// Makes `app` the current version of its app.
///
/// The old current moves to the front of `previous` (newest first); versions are kept unique
/// and at most `keep_previous` are kept. Publishing is ordered by time, not by semver: a lower
/// version published later becomes current.
///
/// A version already in the manifest (current or previous) is immutable: the identical
/// descriptor again is a no-op that returns the manifest unchanged (not even `generated_at`
/// moves), a different one is [`ManifestError::VersionConflict`]. To make an older version
/// current again use [`crate::rollback`].
pub fn merge(
    manifest: &Manifest,
    app: AppDescriptor,
    now: &str,
    keep_previous: usize,
) -> Result<Manifest, ManifestError> {
    validate_descriptor(&app).map_err(ManifestError::InvalidApp)?;
    check_timestamp(now)?;
    check_schema(manifest)?;
    if let Some(versions) = manifest.apps.get(&app.name) {
        if let Some(existing) = versions_to_try(versions).find(|d| d.version == app.version) {
            return if *existing == app {
                Ok(manifest.clone())
            } else {
                Err(ManifestError::VersionConflict {
                    name: app.name,
                    version: app.version,
                })
            };
        }
    }
    let mut next = manifest.clone();
    let name = app.name.clone();
    let versions = match next.apps.remove(&name) {
        None => AppVersions {
            current: app,
            previous: Vec::new(),
        },
        Some(old) => {
            let mut previous = Vec::with_capacity(old.previous.len() + 1);
            previous.push(old.current);
            previous.extend(old.previous);
            let mut seen = BTreeSet::new();
            previous.retain(|d| seen.insert(d.version.clone()));
            previous.truncate(keep_previous);
            AppVersions {
                current: app,
                previous,
            }
        }
    };
    next.apps.insert(name, versions);
    next.generated_at = now.to_string();
    Ok(next)
}

/// Takes app `name` out of the manifest entirely (all its versions). The shell stops showing
/// it on next load; its immutable files are the caller's business.
pub fn remove(manifest: &Manifest, name: &str, now: &str) -> Result<Manifest, ManifestError> {
    check_timestamp(now)?;
    let mut next = manifest.clone();
    if next.apps.remove(name).is_none() {
        return Err(ManifestError::UnknownApp(name.to_string()));
    }
    next.generated_at = now.to_string();
    Ok(next)
}

fn check_schema(manifest: &Manifest) -> Result<(), ManifestError> {
    if manifest.schema == MANIFEST_SCHEMA {
        Ok(())
    } else {
        Err(ManifestError::Invalid(FieldError::new(
            "schema",
            format!("expected {MANIFEST_SCHEMA}, found {}", manifest.schema),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptor::tests::sample;

    const T0: &str = "2026-01-01T00:00:00Z";
    const T1: &str = "2026-01-02T00:00:00Z";

    fn publish_all(versions: &[&str], keep: usize) -> Manifest {
        let mut m = empty_manifest(T0).unwrap();
        for v in versions {
            m = merge(&m, sample(v), T1, keep).unwrap();
        }
        m
    }

    fn history(m: &Manifest) -> (String, Vec<String>) {
        let v = &m.apps["tasks"];
        (
            v.current.version.clone(),
            v.previous.iter().map(|d| d.version.clone()).collect(),
        )
    }

    #[test]
    fn first_publish_and_upgrade() {
        let m = publish_all(&["1.0.0"], 5);
        assert_eq!(history(&m), ("1.0.0".into(), vec![]));
        assert_eq!(m.generated_at, T1);
        let m = merge(&m, sample("1.1.0"), T1, 5).unwrap();
        assert_eq!(history(&m), ("1.1.0".into(), vec!["1.0.0".into()]));
    }

    #[test]
    fn previous_is_newest_first_and_capped() {
        let m = publish_all(&["1.0.0", "1.1.0", "1.2.0", "2.0.0"], 2);
        assert_eq!(
            history(&m),
            ("2.0.0".into(), vec!["1.2.0".into(), "1.1.0".into()])
        );
        let m = publish_all(&["1.0.0", "1.1.0"], 0);
        assert_eq!(history(&m), ("1.1.0".into(), vec![]));
    }

    #[test]
    fn publish_order_not_semver_order() {
        let m = publish_all(&["2.0.0", "1.5.0"], 5);
        assert_eq!(history(&m), ("1.5.0".into(), vec!["2.0.0".into()]));
    }

    #[test]
    fn identical_republish_is_a_no_op() {
        let m = publish_all(&["1.0.0", "1.1.0"], 5);
        assert_eq!(
            merge(&m, sample("1.1.0"), "2027-01-01T00:00:00Z", 5).unwrap(),
            m
        );
        assert_eq!(
            merge(&m, sample("1.0.0"), "2027-01-01T00:00:00Z", 5).unwrap(),
            m
        );
    }

    #[test]
    fn same_version_different_content_is_refused() {
        let m = publish_all(&["1.0.0", "1.1.0"], 5);
        for v in ["1.1.0", "1.0.0"] {
            let mut d = sample(v);
            d.routes.push("/other".into());
            let err = merge(&m, d, T1, 5).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("tasks: version {v} already published with different content")
            );
        }
    }

    #[test]
    fn invalid_input_is_refused() {
        let m = publish_all(&[], 5);
        let mut d = sample("1.0.0");
        d.integrity.entry = "sha384-x".into();
        let err = merge(&m, d, T1, 5).unwrap_err();
        assert!(
            matches!(&err, ManifestError::InvalidApp(f) if f.field == "integrity.entry"),
            "{err}"
        );
        assert!(matches!(
            merge(&m, sample("1.0.0"), "now", 5),
            Err(ManifestError::InvalidTime(_))
        ));
        let mut future = m.clone();
        future.schema = 99;
        assert!(matches!(
            merge(&future, sample("1.0.0"), T1, 5),
            Err(ManifestError::Invalid(_))
        ));
    }

    #[test]
    fn other_apps_are_untouched() {
        let mut other = sample("3.0.0");
        other.name = "catalog".into();
        other.entry = "/apps/catalog/3.0.0/catalog.js".into();
        other.wasm = Some("/apps/catalog/3.0.0/catalog_bg.wasm".into());
        let m = merge(&publish_all(&["1.0.0"], 5), other, T1, 5).unwrap();
        let m2 = merge(&m, sample("1.1.0"), T1, 5).unwrap();
        assert_eq!(m.apps["catalog"], m2.apps["catalog"]);
    }

    #[test]
    fn remove_takes_every_version() {
        let m = publish_all(&["1.0.0", "1.1.0"], 5);
        let gone = remove(&m, "tasks", T1).unwrap();
        assert!(gone.apps.is_empty());
        assert_eq!(
            remove(&gone, "tasks", T1),
            Err(ManifestError::UnknownApp("tasks".into()))
        );
    }
}
