//! Fixtures: fake micro apps and a fresh tree in a temporary directory.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

use mfe_deploy::{publish, Cdn, PublishOptions, PublishOutcome};
use mfe_manifest::{parse_manifest, ValidatedManifest};
use tempfile::TempDir;

pub const NOW: &str = "2026-03-01T10:00:00Z";
pub const LATER: &str = "2026-03-02T10:00:00Z";

/// A temporary workspace: `apps/` for sources, `cdn/` for the tree.
pub struct World {
    pub dir: TempDir,
    pub cdn: Cdn,
}

pub fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let cdn = Cdn::new(dir.path().join("cdn"));
    World { dir, cdn }
}

impl World {
    /// A plain JS app: `package.json` plus `dist/<name>.js` holding `body`.
    pub fn js_app(&self, name: &str, version: &str, body: &str, mfe_extra: &str) -> PathBuf {
        let dir = self
            .dir
            .path()
            .join("src")
            .join(format!("{name}-{version}"));
        fs::create_dir_all(dir.join("dist")).unwrap();
        fs::write(dir.join("dist").join(format!("{name}.js")), body).unwrap();
        fs::write(
            dir.join("package.json"),
            format!(
                r#"{{"name":"{name}","version":"{version}","private":true,
                   "mfe":{{"entry":"dist/{name}.js","routes":["/{name}"],"requires":1{mfe_extra}}}}}"#
            ),
        )
        .unwrap();
        dir
    }

    /// A Rust app crate with a prebuilt `pkg/` (the bytes need not be real wasm).
    pub fn rust_app(
        &self,
        name: &str,
        version: &str,
        js: &[u8],
        wasm: &[u8],
        mfe_extra: &str,
    ) -> PathBuf {
        let dir = self
            .dir
            .path()
            .join("src")
            .join(format!("{name}-{version}"));
        fs::create_dir_all(dir.join("pkg")).unwrap();
        fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"mfe-{name}\"\nversion = \"{version}\"\n\n\
                 [package.metadata.mfe]\nname = \"{name}\"\nroutes = [\"/{name}\", \"/{name}/*\"]\n\
                 requires = 1\n{mfe_extra}\n\
                 [[package.metadata.mfe.slots]]\nname = \"nav\"\norder = 5\n"
            ),
        )
        .unwrap();
        fs::write(dir.join("pkg").join(format!("{name}.js")), js).unwrap();
        fs::write(dir.join("pkg").join(format!("{name}_bg.wasm")), wasm).unwrap();
        dir
    }

    pub fn options(&self, app_dir: &Path) -> PublishOptions {
        PublishOptions::new(app_dir, self.cdn.clone())
    }

    pub fn publish(&self, app_dir: &Path, now: &str) -> anyhow::Result<PublishOutcome> {
        publish(&self.options(app_dir), now, &mut |_| {})
    }

    pub fn manifest_text(&self) -> Option<String> {
        fs::read_to_string(self.cdn.manifest_path()).ok()
    }

    pub fn manifest(&self) -> ValidatedManifest {
        parse_manifest(&self.manifest_text().expect("manifest.json exists")).unwrap()
    }

    pub fn current(&self, name: &str) -> String {
        self.manifest()
            .app(name)
            .expect("app listed")
            .current
            .version
            .clone()
    }

    pub fn previous(&self, name: &str) -> Vec<String> {
        let m = self.manifest();
        m.app(name)
            .unwrap()
            .previous
            .iter()
            .map(|d| d.version.clone())
            .collect()
    }

    /// Every path under the tree, relative, sorted.
    pub fn tree(&self) -> Vec<String> {
        let mut out = Vec::new();
        walk(self.cdn.root(), self.cdn.root(), &mut out);
        out.sort();
        out
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        out.push(
            path.strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned(),
        );
        if path.is_dir() {
            walk(root, &path, out);
        }
    }
}
