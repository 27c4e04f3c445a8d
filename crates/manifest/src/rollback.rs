//! Going back to an earlier version: on the server (the deployer's `rollback`) and on the
//! client (the versions the shell may fall back to when one fails to load or mount).

use std::iter;

use mfe_contract::{AppDescriptor, AppVersions, Manifest};

use crate::{check_timestamp, ManifestError};

/// Makes an earlier version of `name` current: the newest previous one, or version `to`.
///
/// The version rolled back from, and every version newer than the target that was skipped
/// over, leave the manifest: `previous` becomes exactly the versions older than the target.
/// That is what an operator expects after "this release is bad, go back": a second rollback
/// goes further back, never forward to the release just abandoned, and the client's automatic
/// fallback never lands on it either. The files stay on disk; publishing that version again
/// brings it back as current.
pub fn rollback(
    manifest: &Manifest,
    name: &str,
    to: Option<&str>,
    now: &str,
) -> Result<Manifest, ManifestError> {
    check_timestamp(now)?;
    let versions = manifest
        .apps
        .get(name)
        .ok_or_else(|| ManifestError::UnknownApp(name.to_string()))?;
    let index = match to {
        None if versions.previous.is_empty() => {
            return Err(ManifestError::NothingToRollBack(name.to_string()))
        }
        None => 0,
        Some(v) if v == versions.current.version => {
            return Err(ManifestError::AlreadyCurrent {
                name: name.to_string(),
                version: v.to_string(),
            })
        }
        Some(v) => versions
            .previous
            .iter()
            .position(|d| d.version == v)
            .ok_or_else(|| ManifestError::UnknownVersion {
                name: name.to_string(),
                version: v.to_string(),
                available: versions
                    .previous
                    .iter()
                    .map(|d| d.version.clone())
                    .collect(),
            })?,
    };
    let mut next = manifest.clone();
    next.apps.insert(
        name.to_string(),
        AppVersions {
            current: versions.previous[index].clone(),
            previous: versions.previous[index + 1..].to_vec(),
        },
    );
    next.generated_at = now.to_string();
    Ok(next)
}

/// The versions the client may try, in order: current, then previous newest first
/// (DESIGN §3.1, client-side rollback).
pub fn versions_to_try(versions: &AppVersions) -> impl Iterator<Item = &AppDescriptor> {
    iter::once(&versions.current).chain(versions.previous.iter())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptor::tests::sample;
    use crate::{empty_manifest, merge};

    const T: &str = "2026-01-01T00:00:00Z";

    fn published(versions: &[&str]) -> Manifest {
        versions.iter().fold(empty_manifest(T).unwrap(), |m, v| {
            merge(&m, sample(v), T, 5).unwrap()
        })
    }

    fn history(m: &Manifest) -> Vec<String> {
        versions_to_try(&m.apps["tasks"])
            .map(|d| d.version.clone())
            .collect()
    }

    #[test]
    fn to_newest_previous_drops_the_bad_one() {
        let m = published(&["1.0.0", "1.1.0", "1.2.0"]);
        assert_eq!(history(&m), ["1.2.0", "1.1.0", "1.0.0"]);
        let back = rollback(&m, "tasks", None, "2026-02-01T00:00:00Z").unwrap();
        assert_eq!(history(&back), ["1.1.0", "1.0.0"]);
        assert_eq!(back.generated_at, "2026-02-01T00:00:00Z");
        let again = rollback(&back, "tasks", None, T).unwrap();
        assert_eq!(history(&again), ["1.0.0"]);
        assert_eq!(
            rollback(&again, "tasks", None, T),
            Err(ManifestError::NothingToRollBack("tasks".into()))
        );
    }

    #[test]
    fn to_a_given_version_drops_what_was_skipped() {
        let m = published(&["1.0.0", "1.1.0", "1.2.0", "1.3.0"]);
        let back = rollback(&m, "tasks", Some("1.1.0"), T).unwrap();
        assert_eq!(history(&back), ["1.1.0", "1.0.0"]);
    }

    #[test]
    fn republishing_brings_a_rolled_back_version_forward() {
        let m = published(&["1.0.0", "1.1.0"]);
        let back = rollback(&m, "tasks", None, T).unwrap();
        let forward = merge(&back, sample("1.1.0"), T, 5).unwrap();
        assert_eq!(history(&forward), ["1.1.0", "1.0.0"]);
    }

    #[test]
    fn refusals() {
        let m = published(&["1.0.0", "1.1.0"]);
        assert_eq!(
            rollback(&m, "nope", None, T),
            Err(ManifestError::UnknownApp("nope".into()))
        );
        assert_eq!(
            rollback(&m, "tasks", Some("1.1.0"), T),
            Err(ManifestError::AlreadyCurrent {
                name: "tasks".into(),
                version: "1.1.0".into()
            })
        );
        let err = rollback(&m, "tasks", Some("0.9.0"), T).unwrap_err();
        assert!(
            err.to_string().contains("previous versions: 1.0.0"),
            "{err}"
        );
        assert!(matches!(
            rollback(&m, "tasks", None, "soon"),
            Err(ManifestError::InvalidTime(_))
        ));
    }

    #[test]
    fn client_tries_current_then_previous() {
        let m = published(&["1.0.0", "1.1.0", "2.0.0"]);
        assert_eq!(history(&m), ["2.0.0", "1.1.0", "1.0.0"]);
    }
}
