//! A plain JS micro app's settings: `name`, `version` and an `mfe` object in its
//! `package.json`.
//!
//! ```json
//! { "name": "hello", "version": "1.0.0",
//!   "mfe": { "entry": "dist/hello.js", "routes": ["/hello"], "requires": 1, "budget": 20000 } }
//! ```
//!
//! The entry is published alone, so it must be a self-contained ES module (bundled): the shell
//! imports it from a `blob:` URL, where relative imports cannot resolve.

use std::fs;
use std::path::{Component, Path};

use anyhow::{bail, Context as _, Result};
use mfe_contract::SlotSpec;
use serde::Deserialize;

use crate::{AppKind, AppSource};

/// npm's own keys are ignored; only `mfe` is ours.
#[derive(Debug, Deserialize)]
struct PackageJson {
    name: String,
    version: String,
    mfe: Option<MfeSection>,
}

/// Unknown keys are refused so a typo is an error, not a silently missing setting.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MfeSection {
    /// Overrides `name`, e.g. for a scoped npm name like `@team/hello`.
    name: Option<String>,
    entry: String,
    #[serde(default)]
    routes: Vec<String>,
    #[serde(default)]
    slots: Vec<SlotSpec>,
    requires: u32,
    budget: Option<u64>,
}

pub(crate) fn read(dir: &Path) -> Result<AppSource> {
    let path = dir.join("package.json");
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let package: PackageJson =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let Some(mfe) = package.mfe else {
        bail!(
            "{} has no \"mfe\" object: add one with at least \"entry\" and \"requires\" to make \
             the package a micro app",
            path.display()
        );
    };
    let entry = Path::new(&mfe.entry);
    if !entry
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        bail!(
            "{}: mfe.entry {:?} must be a path inside the app directory",
            path.display(),
            mfe.entry
        );
    }
    Ok(AppSource {
        dir: dir.to_path_buf(),
        kind: AppKind::Js {
            entry: dir.join(entry),
        },
        name: mfe.name.unwrap_or(package.name),
        version: package.version,
        routes: mfe.routes,
        slots: mfe.slots,
        requires: mfe.requires,
        budget: mfe.budget,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(json: &str) -> Result<AppSource> {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("package.json"), json).unwrap();
        read(dir.path())
    }

    #[test]
    fn reads_mfe_section() {
        let s = app(r#"{"name":"@team/hello","version":"1.0.0","private":true,
            "mfe":{"name":"hello","entry":"dist/hello.js","routes":["/hello"],
                   "slots":[{"name":"nav","order":3}],"requires":1,"budget":9000}}"#)
        .unwrap();
        assert_eq!((s.name.as_str(), s.version.as_str()), ("hello", "1.0.0"));
        assert!(matches!(&s.kind, AppKind::Js { entry } if entry.ends_with("dist/hello.js")));
        assert_eq!(s.slots[0].order, 3);
        assert_eq!(s.budget, Some(9000));
    }

    #[test]
    fn refusals() {
        let no_mfe = app(r#"{"name":"x","version":"1.0.0"}"#).unwrap_err();
        assert!(no_mfe.to_string().contains("no \"mfe\" object"), "{no_mfe}");
        let escape =
            app(r#"{"name":"x","version":"1.0.0","mfe":{"entry":"../x.js","requires":1}}"#)
                .unwrap_err();
        assert!(
            escape.to_string().contains("inside the app directory"),
            "{escape}"
        );
        let typo =
            app(r#"{"name":"x","version":"1.0.0","mfe":{"entry":"x.js","requires":1,"rutes":[]}}"#)
                .unwrap_err();
        assert!(
            format!("{typo:#}").contains("unknown field `rutes`"),
            "{typo:#}"
        );
    }
}
