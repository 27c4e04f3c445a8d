//! A Rust micro app's settings: `[package] name/version` and `[package.metadata.mfe]` in its
//! `Cargo.toml`, where the team keeps them next to its code.
//!
//! ```toml
//! [package.metadata.mfe]
//! name = "tasks"                 # optional, defaults to the package name
//! routes = ["/tasks", "/tasks/*"]
//! requires = 1                   # host API version
//! budget = 250000                # bytes, optional
//! [[package.metadata.mfe.slots]]
//! name = "nav"
//! order = 10
//! ```

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use mfe_contract::SlotSpec;
use serde::Deserialize;

use crate::{AppKind, AppSource};

#[derive(Debug, Deserialize)]
struct CargoToml {
    package: Option<Package>,
    workspace: Option<Workspace>,
}

#[derive(Debug, Deserialize)]
struct Package {
    name: String,
    version: Option<toml::Value>,
    metadata: Option<PackageMetadata>,
}

/// Other tools keep their own keys under `package.metadata`; only `mfe` is ours.
#[derive(Debug, Deserialize)]
struct PackageMetadata {
    mfe: Option<MfeMetadata>,
}

/// Unknown keys are refused so a typo (`route = …`) is an error, not a silently missing route.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MfeMetadata {
    name: Option<String>,
    #[serde(default)]
    routes: Vec<String>,
    #[serde(default)]
    slots: Vec<SlotSpec>,
    requires: u32,
    budget: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct Workspace {
    package: Option<WorkspacePackage>,
}

#[derive(Debug, Deserialize)]
struct WorkspacePackage {
    version: Option<String>,
}

fn parse(path: &Path) -> Result<CargoToml> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

pub(crate) fn read(dir: &Path) -> Result<AppSource> {
    let path = dir.join("Cargo.toml");
    let manifest = parse(&path)?;
    let Some(package) = manifest.package else {
        bail!(
            "{} has no [package]: point publish at the micro app's crate",
            path.display()
        );
    };
    let Some(mfe) = package.metadata.and_then(|m| m.mfe) else {
        bail!(
            "{} has no [package.metadata.mfe] table: add one with at least `requires = 1` \
             (and routes / slots) to make the crate a micro app",
            path.display()
        );
    };
    let version = match package.version {
        Some(toml::Value::String(v)) => v,
        Some(toml::Value::Table(t)) if t.get("workspace") == Some(&toml::Value::Boolean(true)) => {
            workspace_version(dir)?
        }
        Some(other) => bail!(
            "{}: package.version: unexpected value {other}",
            path.display()
        ),
        None => bail!("{}: package.version is missing", path.display()),
    };
    Ok(AppSource {
        dir: dir.to_path_buf(),
        name: mfe.name.unwrap_or_else(|| package.name.clone()),
        kind: AppKind::Rust {
            package: package.name,
        },
        version,
        routes: mfe.routes,
        slots: mfe.slots,
        requires: mfe.requires,
        budget: mfe.budget,
    })
}

/// The nearest directory at or above `dir` whose `Cargo.toml` has a `[workspace]` table:
/// where cargo must run for `-p <package>` to find the crate. `None` for a crate outside any
/// workspace.
pub(crate) fn workspace_root(dir: &Path) -> Result<Option<PathBuf>> {
    // A relative `mfe/tasks` has `""` among its ancestors, which is no directory to run in.
    let dir = dir
        .canonicalize()
        .with_context(|| format!("{}: no such folder", dir.display()))?;
    for candidate in dir.ancestors() {
        let path = candidate.join("Cargo.toml");
        if path.is_file() && parse(&path)?.workspace.is_some() {
            return Ok(Some(candidate.to_path_buf()));
        }
    }
    Ok(None)
}

fn workspace_version(dir: &Path) -> Result<String> {
    let root = workspace_root(dir)?.with_context(|| {
        format!(
            "{}: version.workspace = true but no workspace above it",
            dir.display()
        )
    })?;
    parse(&root.join("Cargo.toml"))?
        .workspace
        .and_then(|w| w.package)
        .and_then(|p| p.version)
        .with_context(|| {
            format!(
                "{}: version.workspace = true but [workspace.package] has no version",
                root.join("Cargo.toml").display()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    const APP: &str = r#"
[package]
name = "mfe-tasks"
version = "1.2.3"

[package.metadata.mfe]
name = "tasks"
routes = ["/tasks", "/tasks/*"]
requires = 1
budget = 250000

[[package.metadata.mfe.slots]]
name = "nav"
order = 10
roles = ["user"]

[package.metadata.other-tool]
anything = true
"#;

    #[test]
    fn reads_package_and_mfe_metadata() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "Cargo.toml", APP);
        let s = read(dir.path()).unwrap();
        assert_eq!(s.name, "tasks");
        assert_eq!(s.version, "1.2.3");
        assert_eq!(
            s.kind,
            AppKind::Rust {
                package: "mfe-tasks".into()
            }
        );
        assert_eq!(s.routes, ["/tasks", "/tasks/*"]);
        assert_eq!(s.slots[0].name, "nav");
        assert_eq!(s.slots[0].order, 10);
        assert_eq!(s.slots[0].roles, ["user"]);
        assert_eq!(s.requires, 1);
        assert_eq!(s.budget, Some(250_000));
    }

    #[test]
    fn name_defaults_to_package_and_version_to_workspace() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "Cargo.toml",
            "[workspace]\nmembers = [\"apps/*\"]\n[workspace.package]\nversion = \"0.4.0\"\n",
        );
        write(
            dir.path(),
            "apps/hello/Cargo.toml",
            "[package]\nname = \"hello\"\nversion.workspace = true\n[package.metadata.mfe]\nrequires = 1\n",
        );
        let app = dir.path().join("apps/hello");
        let s = read(&app).unwrap();
        assert_eq!((s.name.as_str(), s.version.as_str()), ("hello", "0.4.0"));
        assert_eq!(workspace_root(&app).unwrap().as_deref(), Some(dir.path()));
    }

    #[test]
    fn refusals_say_what_to_add() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "Cargo.toml",
            "[package]\nname = \"x\"\nversion = \"1.0.0\"\n",
        );
        let err = read(dir.path()).unwrap_err().to_string();
        assert!(err.contains("[package.metadata.mfe]"), "{err}");

        write(
            dir.path(),
            "Cargo.toml",
            "[package]\nname = \"x\"\nversion = \"1.0.0\"\n[package.metadata.mfe]\nrequires = 1\nroute = [\"/x\"]\n",
        );
        let err = format!("{:#}", read(dir.path()).unwrap_err());
        assert!(err.contains("unknown field `route`"), "{err}");

        write(
            dir.path(),
            "Cargo.toml",
            "[package]\nname = \"x\"\nversion = \"1.0.0\"\n[package.metadata.mfe]\n",
        );
        let err = format!("{:#}", read(dir.path()).unwrap_err());
        assert!(err.contains("missing field `requires`"), "{err}");
    }
}
