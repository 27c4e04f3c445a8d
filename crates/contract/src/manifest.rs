//! Per-app `mfe.json` and the merged `manifest.json` (DESIGN §3.2).
//!
//! Only the shapes live here; validation, merging and routing live in the manifest core, which
//! every reader (shell, deployer, simulator) runs before trusting a manifest.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Schema version of `manifest.json` this contract reads and writes.
pub const MANIFEST_SCHEMA: u32 = 1;

/// Subresource-integrity strings (`sha384-<base64>`) for an app's assets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppIntegrity {
    pub entry: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wasm: Option<String>,
}

/// A named mount point an app contributes to, e.g. `nav` or `sidebar`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotSpec {
    pub name: String,
    /// Position among the slot's contributions; lower comes first.
    #[serde(default)]
    pub order: i32,
    /// Only users with one of these roles see it; empty means everyone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Only in these environments (e.g. `dev`, `prod`); empty means all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
}

/// One published version of one micro app: the per-app `mfe.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppDescriptor {
    pub name: String,
    pub version: String,
    /// URL of the ES module (wasm-bindgen glue or plain JS), usually
    /// `/apps/<name>/<version>/<file>.js`.
    pub entry: String,
    /// URL of the `.wasm`, absent for plain JS apps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wasm: Option<String>,
    pub integrity: AppIntegrity,
    /// Route patterns the app is active on, e.g. `/tasks` or `/tasks/*`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slots: Vec<SlotSpec>,
    /// Host-API version the app needs.
    pub requires: u32,
    /// Maximum bytes (entry + wasm) the app may ship.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<u64>,
    /// Bytes actually shipped (entry + wasm), written by the deployer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
}

/// One file of a published version: its URL and the integrity it must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppFile<'a> {
    pub url: &'a str,
    pub integrity: &'a str,
}

impl AppDescriptor {
    /// The ES module (glue or plain JS) with its integrity.
    pub fn entry_file(&self) -> AppFile<'_> {
        AppFile {
            url: &self.entry,
            integrity: &self.integrity.entry,
        }
    }

    /// The `.wasm` with its integrity. `None` for a plain JS app, and for a descriptor that
    /// names only one of the two: validation refuses that, and no reader fetches a file it
    /// cannot check.
    pub fn wasm_file(&self) -> Option<AppFile<'_>> {
        match (&self.wasm, &self.integrity.wasm) {
            (Some(url), Some(integrity)) => Some(AppFile { url, integrity }),
            _ => None,
        }
    }

    /// Every file of this version, the entry first: what a preloader, a cache or a boot hint
    /// asks for.
    pub fn files(&self) -> impl Iterator<Item = AppFile<'_>> {
        std::iter::once(self.entry_file()).chain(self.wasm_file())
    }
}

/// The versions of one app the shell may run: `current`, then older ones for rollback,
/// newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppVersions {
    pub current: AppDescriptor,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previous: Vec<AppDescriptor>,
}

/// A regional endpoint the shell may send commands and queries to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionInfo {
    pub name: String,
    /// Base URL, e.g. `http://127.0.0.1:8081`.
    pub url: String,
}

/// The merged `manifest.json` the shell boots from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub schema: u32,
    pub apps: BTreeMap<String, AppVersions>,
    /// Regions, when not served separately as `regions.json`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<RegionInfo>,
    /// RFC 3339 time the deployer wrote this file.
    pub generated_at: String,
    /// Origins (`https://host[:port]`) a development build of the shell may load an app from
    /// instead of the published version (a developer's override). Empty: no overrides at all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dev_origins: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn descriptor(version: &str) -> AppDescriptor {
        AppDescriptor {
            name: "tasks".into(),
            version: version.into(),
            entry: format!("/apps/tasks/{version}/tasks.js"),
            wasm: Some(format!("/apps/tasks/{version}/tasks_bg.wasm")),
            integrity: AppIntegrity {
                entry: "sha384-AAAA".into(),
                wasm: Some("sha384-BBBB".into()),
            },
            routes: vec!["/tasks".into()],
            slots: vec![SlotSpec {
                name: "nav".into(),
                order: 10,
                roles: vec![],
                env: vec!["dev".into()],
            }],
            requires: 1,
            budget: Some(80_000),
            bytes: Some(50_000),
        }
    }

    #[test]
    fn manifest_round_trips() {
        let mut apps = BTreeMap::new();
        apps.insert(
            "tasks".to_string(),
            AppVersions {
                current: descriptor("1.1.0"),
                previous: vec![descriptor("1.0.0")],
            },
        );
        let manifest = Manifest {
            schema: MANIFEST_SCHEMA,
            apps,
            regions: vec![RegionInfo {
                name: "us-east".into(),
                url: "http://127.0.0.1:8081".into(),
            }],
            generated_at: "2026-11-26T00:00:00Z".into(),
            dev_origins: vec!["http://localhost:5173".into()],
        };
        let text = serde_json::to_string_pretty(&manifest).unwrap();
        assert_eq!(serde_json::from_str::<Manifest>(&text).unwrap(), manifest);
    }

    #[test]
    fn descriptor_rejects_unknown_field_by_name() {
        let mut value = serde_json::to_value(descriptor("1.0.0")).unwrap();
        value["entrypoint"] = serde_json::json!("x.js");
        let err = serde_json::from_value::<AppDescriptor>(value).unwrap_err();
        assert!(err.to_string().contains("entrypoint"), "{err}");
    }

    #[test]
    fn plain_js_app_has_no_wasm() {
        let mut d = descriptor("1.0.0");
        d.wasm = None;
        d.integrity.wasm = None;
        let text = serde_json::to_string(&d).unwrap();
        assert!(!text.contains("wasm"), "{text}");
        assert_eq!(serde_json::from_str::<AppDescriptor>(&text).unwrap(), d);
    }

    #[test]
    fn files_are_the_entry_then_the_wasm_each_with_its_integrity() {
        let d = descriptor("1.0.0");
        let files: Vec<AppFile> = d.files().collect();
        assert_eq!(
            files,
            [
                AppFile {
                    url: "/apps/tasks/1.0.0/tasks.js",
                    integrity: "sha384-AAAA",
                },
                AppFile {
                    url: "/apps/tasks/1.0.0/tasks_bg.wasm",
                    integrity: "sha384-BBBB",
                },
            ]
        );
    }

    #[test]
    fn a_wasm_without_its_integrity_is_no_file_to_fetch() {
        let mut d = descriptor("1.0.0");
        d.integrity.wasm = None;
        assert_eq!(d.wasm_file(), None);
        assert_eq!(d.files().count(), 1);
        d.wasm = None;
        d.integrity.wasm = Some("sha384-BBBB".into());
        assert_eq!(d.wasm_file(), None);
        assert_eq!(
            d.files().map(|f| f.url).collect::<Vec<_>>(),
            [d.entry.as_str()]
        );
    }
}
