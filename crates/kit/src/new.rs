//! `mfe new <name>`: a micro-app crate that builds, tests and publishes as generated, and is
//! listed nowhere by hand (the shell's workspace takes `mfe/apps/*`; `mfe publish` adds the
//! app to the manifest).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};

use crate::template::{self, Layout};

/// Routes the shell keeps for itself; an app named like one could never be reached.
const RESERVED: &[&str] = &["inspector", "apps", "assets", "q", "commands", "health"];

pub struct NewApp {
    pub name: String,
    /// The app's folder; `None`: `<shell>/mfe/apps/<name>` inside the shell's checkout,
    /// `./<name>` anywhere else.
    pub dir: Option<PathBuf>,
    pub shell: PathBuf,
}

/// What was created, for the caller to print.
#[derive(Debug)]
pub struct Created {
    pub dir: PathBuf,
    pub layout: Layout,
    pub files: Vec<PathBuf>,
}

pub fn create(app: &NewApp, cwd: &Path) -> Result<Created> {
    mfe_manifest::check_app_name(&app.name)
        .map_err(|e| anyhow::anyhow!("{:?} cannot be an app name: {e}", app.name))?;
    if RESERVED.contains(&app.name.as_str()) {
        bail!(
            "{:?} is a path the shell uses itself; choose another name",
            app.name
        );
    }
    let apps_dir = app.shell.join("mfe").join("apps");
    let dir = match &app.dir {
        Some(dir) => cwd.join(dir),
        None if cwd.starts_with(&app.shell) => apps_dir.join(&app.name),
        None => cwd.join(&app.name),
    };
    if dir.exists()
        && fs::read_dir(&dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        bail!("{} already exists and is not empty", dir.display());
    }
    let dir = normalize(&dir);
    let parent = dir
        .parent()
        .context("the app folder needs a parent folder")?;
    let layout = if parent == apps_dir {
        Layout::InShellWorkspace
    } else {
        Layout::Standalone
    };
    if layout == Layout::Standalone && parent.starts_with(&app.shell) {
        bail!(
            "{} is inside the shell's checkout but not under mfe/apps/: put the app in mfe/apps/ \
             (a workspace member) or outside the checkout (a standalone crate)",
            dir.display()
        );
    }
    let shell = app
        .shell
        .to_str()
        .context("the shell's path is not UTF-8")?;
    let mut written = Vec::new();
    for file in template::files(layout) {
        let path = dir.join(template::render(file.path, &app.name, shell));
        write_new(&path, &template::render(file.text, &app.name, shell))?;
        written.push(path);
    }
    if layout == Layout::Standalone {
        // The shell's exact dependency versions: what it was tested with, and what makes a
        // shared target folder reuse its builds.
        let lock = dir.join("Cargo.lock");
        fs::copy(app.shell.join("Cargo.lock"), &lock)
            .with_context(|| format!("copying the shell's Cargo.lock to {}", lock.display()))?;
        written.push(lock);
    }
    format_rust(&written);
    Ok(Created {
        dir,
        layout,
        files: written,
    })
}

/// Resolves `.` and `..` without touching the disk (the folder does not exist yet).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn write_new(path: &Path, text: &str) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Formats the generated Rust with rustfmt, so it is tidy whatever the name's length (a name
/// changes where lines wrap). Without rustfmt the files are still valid, only less tidy.
fn format_rust(files: &[PathBuf]) {
    let rust: Vec<&PathBuf> = files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "rs"))
        .collect();
    let formatted = std::process::Command::new("rustfmt")
        .args(["--edition", "2021"])
        .args(&rust)
        .status();
    if !formatted.is_ok_and(|s| s.success()) {
        eprintln!("-> rustfmt did not run; the generated Rust is valid but not formatted");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_shell() -> tempfile::TempDir {
        let shell = tempfile::tempdir().unwrap();
        fs::create_dir_all(shell.path().join("mfe/apps")).unwrap();
        fs::create_dir_all(shell.path().join("mfe/sdk")).unwrap();
        fs::write(shell.path().join("mfe/sdk/Cargo.toml"), "[package]\n").unwrap();
        fs::write(shell.path().join("Cargo.lock"), "version = 4\n").unwrap();
        shell
    }

    fn new_app(shell: &Path, name: &str, dir: Option<&Path>) -> NewApp {
        NewApp {
            name: name.into(),
            dir: dir.map(Path::to_path_buf),
            shell: shell.canonicalize().unwrap(),
        }
    }

    #[test]
    fn inside_the_shell_it_becomes_a_workspace_member() {
        let shell = fake_shell();
        let root = shell.path().canonicalize().unwrap();
        let created = create(&new_app(&root, "orders", None), &root).unwrap();
        assert_eq!(created.dir, root.join("mfe/apps/orders"));
        assert_eq!(created.layout, Layout::InShellWorkspace);
        let toml = fs::read_to_string(created.dir.join("Cargo.toml")).unwrap();
        assert!(toml.contains("mfe-sdk.workspace = true"));
        assert!(toml.contains("name = \"mfe-orders\""));
        assert!(!created.dir.join("Cargo.lock").exists());
        assert!(created.dir.join("tests/e2e/orders.spec.ts").is_file());
    }

    #[test]
    fn elsewhere_it_stands_alone_with_the_shells_lock_file() {
        let shell = fake_shell();
        let root = shell.path().canonicalize().unwrap();
        let team = tempfile::tempdir().unwrap();
        let created = create(&new_app(&root, "orders", None), team.path()).unwrap();
        assert_eq!(created.layout, Layout::Standalone);
        let toml = fs::read_to_string(created.dir.join("Cargo.toml")).unwrap();
        assert!(toml.contains(&format!("path = \"{}\"", root.join("mfe/sdk").display())));
        assert!(toml.contains(&format!(
            "reactive_graph = {{ path = \"{}\" }}",
            root.join("vendor/reactive_graph").display()
        )));
        assert!(toml.contains("[workspace]"));
        assert_eq!(
            fs::read_to_string(created.dir.join("Cargo.lock")).unwrap(),
            "version = 4\n"
        );
        assert!(created.dir.join(".cargo/config.toml").is_file());
        let lib = fs::read_to_string(created.dir.join("tests/web.rs")).unwrap();
        assert!(lib.contains("use mfe_orders::App;"));
    }

    #[test]
    fn refuses_bad_names_existing_folders_and_stray_places() {
        let shell = fake_shell();
        let root = shell.path().canonicalize().unwrap();
        let team = tempfile::tempdir().unwrap();
        let err = |name: &str, dir: Option<&Path>, cwd: &Path| {
            create(&new_app(&root, name, dir), cwd)
                .unwrap_err()
                .to_string()
        };
        assert!(err("Orders", None, team.path()).contains("cannot be an app name"));
        assert!(err("inspector", None, team.path()).contains("the shell uses itself"));
        fs::create_dir_all(team.path().join("taken/src")).unwrap();
        assert!(err("taken", None, team.path()).contains("already exists"));
        assert!(err("x", Some(Path::new("crates/x")), &root).contains("not under mfe/apps/"));
        // Nothing was written by the refusals.
        assert!(!team.path().join("Orders").exists());
        assert!(!root.join("crates").exists());
    }
}
