//! Reads `manifest.json` and `regions.json` from the origin the shell was served from.
//!
//! The manifest goes through the manifest core: an invalid app entry disables that app only;
//! an unusable file falls back to the last known good one kept in localStorage, and the
//! caller shows a notice saying so.

use std::time::Duration;

use gloo_net::http::Request;
use mfe_contract::{Manifest, RegionInfo, MANIFEST_SCHEMA};
use mfe_manifest::{parse_manifest, ValidatedManifest};
use web_sys::RequestCache;

use crate::early_reads;
use crate::fetch::send_with_timeout;

const TIMEOUT: Duration = Duration::from_secs(5);

async fn get_text(path: &str) -> Result<String, String> {
    // The answer `index.html` already asked for (its first inline script fetches both files
    // while the shell's code downloads), taken once: every later read fetches afresh.
    let response = match early_reads::take_shell_read(path) {
        Some(answer) => early_reads::response(path, answer, TIMEOUT).await?,
        None => {
            let request = Request::get(path).cache(RequestCache::NoCache);
            send_with_timeout(request, None, TIMEOUT)
                .await
                .map_err(|e| format!("{path}: {e}"))?
        }
    };
    if !response.ok() {
        return Err(format!("{path}: HTTP {}", response.status()));
    }
    response.text().await.map_err(|e| format!("{path}: {e}"))
}

/// Fetches and validates the merged manifest.
pub async fn load_manifest() -> Result<Manifest, String> {
    let text = get_text("/manifest.json").await?;
    let manifest: Manifest =
        serde_json::from_str(&text).map_err(|e| format!("manifest.json is invalid: {e}"))?;
    if manifest.schema != MANIFEST_SCHEMA {
        return Err(format!(
            "manifest.json has schema {}, this shell reads schema {MANIFEST_SCHEMA}",
            manifest.schema
        ));
    }
    Ok(manifest)
}

/// localStorage key of the last manifest text that validated.
const LAST_GOOD_KEY: &str = "mfe.manifest.last-good";

/// The manifest to use, and a notice when it is not the one just fetched.
pub struct ManifestLoad {
    pub manifest: ValidatedManifest,
    pub notice: Option<String>,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// Fetches `manifest.json` (no-cache) and validates it; falls back to the last known good one.
pub async fn load_validated() -> Result<ManifestLoad, String> {
    let fetched = get_text("/manifest.json").await.and_then(|text| {
        parse_manifest(&text)
            .map(|m| (m, text))
            .map_err(|e| e.to_string())
    });
    match fetched {
        Ok((manifest, text)) => {
            if let Some(s) = storage() {
                let _ = s.set_item(LAST_GOOD_KEY, &text);
            }
            Ok(ManifestLoad {
                manifest,
                notice: None,
            })
        }
        Err(reason) => {
            let last_good = storage()
                .and_then(|s| s.get_item(LAST_GOOD_KEY).ok().flatten())
                .and_then(|text| parse_manifest(&text).ok());
            match last_good {
                Some(manifest) => Ok(ManifestLoad {
                    notice: Some(format!(
                        "The app list could not be read ({reason}). Showing the last good one, from {}.",
                        manifest.manifest.generated_at
                    )),
                    manifest,
                }),
                None => Err(reason),
            }
        }
    }
}

/// `regions.json`: the regions, and optionally router settings for this deployment (e.g. a
/// test stack that probes more often than the 30 s default). Its micro-app runtime settings
/// (`"runtime"`) are read apart (`mfe_contract::runtime::settings_in_regions_file`), as the
/// boot module reads them.
#[derive(serde::Deserialize)]
pub struct RegionsFile {
    pub regions: Vec<RegionInfo>,
    #[serde(default)]
    pub router: Option<mfe_router::Config>,
}

/// The text of `regions.json` (the early read the first time).
pub async fn regions_text() -> Result<String, String> {
    get_text("/regions.json").await
}

/// Regions from a `regions.json` answer (`Err` when it could not be fetched), or from the
/// manifest when that file is missing.
pub fn parse_regions(
    text: Result<String, String>,
    manifest: Option<&Manifest>,
) -> Result<RegionsFile, String> {
    let text = match text {
        Ok(text) => text,
        Err(e) => match manifest.filter(|m| !m.regions.is_empty()) {
            Some(m) => {
                return Ok(RegionsFile {
                    regions: m.regions.clone(),
                    router: None,
                })
            }
            None => return Err(e),
        },
    };
    let file: RegionsFile =
        serde_json::from_str(&text).map_err(|e| format!("regions.json is invalid: {e}"))?;
    for region in &file.regions {
        if !(region.url.starts_with("http://") || region.url.starts_with("https://")) {
            return Err(format!(
                "regions.json: region {} has a URL that is not http(s): {}",
                region.name, region.url
            ));
        }
    }
    Ok(file)
}
