//! The service worker's entry into the outbox: `drain(regionsJson, preferred)` delivers what
//! the pages saved, under the same lock and with the same store, transport and outbox core as a
//! page (see `mfe_outbox_web::background`), trying the region the pages chose last first. Built
//! by `scripts/post-build.mjs` with `wasm-bindgen --target web`, imported by `sw.js` (a module
//! worker).

use mfe_contract::RegionInfo;
use serde::Deserialize;
use wasm_bindgen::prelude::*;

/// `regions.json` as the static server writes it (router settings are the page's business).
#[derive(Deserialize)]
struct RegionsFile {
    regions: Vec<RegionInfo>,
}

/// Regions in the order to try them: `preferred` first (the page's last choice, if known),
/// then as `regions.json` lists them.
fn order(file: RegionsFile, preferred: Option<String>) -> Vec<(String, String)> {
    let mut regions: Vec<(String, String)> =
        file.regions.into_iter().map(|r| (r.name, r.url)).collect();
    if let Some(first) = preferred {
        regions.sort_by_key(|(name, _)| *name != first);
    }
    regions
}

/// Delivers the outbox once; resolves with `{ ran, delivered, dead, waiting, error }`.
#[wasm_bindgen]
pub async fn drain(regions_json: String, preferred: Option<String>) -> Result<JsValue, JsValue> {
    let file: RegionsFile = serde_json::from_str(&regions_json)
        .map_err(|e| JsValue::from_str(&format!("regions.json: {e}")))?;
    let report = mfe_outbox_web::background::drain(order(file, preferred)).await;
    serde_wasm_bindgen::to_value(&report).map_err(|e| JsValue::from_str(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preferred_region_goes_first_and_the_rest_keep_their_order() {
        let file: RegionsFile = serde_json::from_str(
            r#"{"regions":[{"name":"a","url":"http://a"},{"name":"b","url":"http://b"},{"name":"c","url":"http://c"}],"router":{}}"#,
        )
        .unwrap();
        let names: Vec<String> = order(file, Some("c".into()))
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, ["c", "a", "b"]);
    }
}
