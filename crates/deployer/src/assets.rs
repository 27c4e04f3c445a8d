//! The files that make up one version of an app, read into memory (apps are kilobytes to a
//! few megabytes) so hashing, comparing and copying all see the very same bytes.

use std::fs;
use std::path::Path;

use anyhow::{bail, Context as _, Result};
use tempfile::TempDir;

use crate::{builder, AppKind, AppSource, Progress, Tools};

/// Deepest folder nesting and most files accepted under `snippets/`.
const MAX_DEPTH: usize = 8;
const MAX_FILES: usize = 500;

/// One file, by its path inside the version folder (`/`-separated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Asset {
    pub rel: String,
    pub bytes: Vec<u8>,
}

/// What gets published: the ES module, the wasm (Rust apps), and wasm-bindgen's `snippets/`
/// folder when the glue imports one.
#[derive(Debug)]
pub(crate) struct Assets {
    pub entry: Asset,
    pub wasm: Option<Asset>,
    pub extra: Vec<Asset>,
    /// Keeps a fresh build's output alive until it is copied.
    _build: Option<TempDir>,
}

impl Assets {
    pub fn all(&self) -> impl Iterator<Item = &Asset> {
        std::iter::once(&self.entry)
            .chain(self.wasm.as_ref())
            .chain(&self.extra)
    }

    pub fn total_bytes(&self) -> u64 {
        self.all().map(|a| a.bytes.len() as u64).sum()
    }
}

/// How to get the files: build (Rust, `--build`) or take them as they are.
pub(crate) struct Collect<'a> {
    pub build: bool,
    /// Build with the release profile (what is published) rather than the dev one.
    pub release: bool,
    pub optimize: bool,
    pub tools: &'a Tools,
}

pub(crate) fn collect(
    source: &AppSource,
    how: &Collect<'_>,
    progress: Progress<'_>,
) -> Result<Assets> {
    match &source.kind {
        AppKind::Js { entry } => {
            if how.build {
                bail!(
                    "--build applies to Rust crates only; build the JS app with its own tooling \
                     and point mfe.entry at the bundled module"
                );
            }
            let bytes = fs::read(entry)
                .with_context(|| format!("reading the JS entry {} (mfe.entry)", entry.display()))?;
            let rel = file_name(entry)?;
            Ok(Assets {
                entry: Asset { rel, bytes },
                wasm: None,
                extra: Vec::new(),
                _build: None,
            })
        }
        AppKind::Rust { package } => {
            let (dir, build) = if how.build {
                let out = builder::build(
                    source,
                    package,
                    how.tools,
                    how.release,
                    how.optimize,
                    progress,
                )?;
                (out.path().to_path_buf(), Some(out))
            } else {
                (source.dir.join("pkg"), None)
            };
            let mut assets = from_pkg(&dir, &source.name, package, how.build)?;
            assets._build = build;
            Ok(assets)
        }
    }
}

/// Finds `<name>.js` + `<name>_bg.wasm` in a wasm-bindgen output folder; the crate's own
/// (underscored) name is accepted too, since that is wasm-pack's default.
fn from_pkg(dir: &Path, name: &str, package: &str, built: bool) -> Result<Assets> {
    let crate_stem = package.replace('-', "_");
    let stems = if crate_stem == name {
        vec![name]
    } else {
        vec![name, crate_stem.as_str()]
    };
    let Some(stem) = stems.iter().find(|s| {
        dir.join(format!("{s}.js")).is_file() && dir.join(format!("{s}_bg.wasm")).is_file()
    }) else {
        let hint = if built {
            ""
        } else {
            "; pass --build to build it, or build it with wasm-bindgen --target web first"
        };
        bail!(
            "expected {}/{name}.js and {name}_bg.wasm (wasm-bindgen --target web --out-name {name}){hint}",
            dir.display()
        );
    };
    let read = |rel: String| -> Result<Asset> {
        let path = dir.join(&rel);
        let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        Ok(Asset { rel, bytes })
    };
    let mut extra = Vec::new();
    let snippets = dir.join("snippets");
    if snippets.is_dir() {
        walk(&snippets, "snippets", 0, &mut extra)?;
    }
    Ok(Assets {
        entry: read(format!("{stem}.js"))?,
        wasm: Some(read(format!("{stem}_bg.wasm"))?),
        extra,
        _build: None,
    })
}

/// Collects every file under `dir` as `rel/…`, bounded in depth and count.
fn walk(dir: &Path, rel: &str, depth: usize, out: &mut Vec<Asset>) -> Result<()> {
    if depth > MAX_DEPTH {
        bail!(
            "{} is nested more than {MAX_DEPTH} levels deep",
            dir.display()
        );
    }
    let mut entries = fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("listing {}", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let child = format!("{rel}/{}", file_name(&path)?);
        if path.is_dir() {
            walk(&path, &child, depth + 1, out)?;
        } else {
            if out.len() >= MAX_FILES {
                bail!("more than {MAX_FILES} files under {}", dir.display());
            }
            let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            out.push(Asset { rel: child, bytes });
        }
    }
    Ok(())
}

fn file_name(path: &Path) -> Result<String> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .with_context(|| format!("{} has no UTF-8 file name", path.display()))
}
