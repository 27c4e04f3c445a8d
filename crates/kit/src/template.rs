//! The files of a new micro app, embedded in the binary so `mfe new` works from anywhere.
//! Placeholders: `__NAME__` (the app's name), `__TITLE__` (its name as a title), `__SHELL__`
//! (absolute path of the shell's checkout, for the SDK crate and the vendored reactive graph;
//! standalone apps only), `__CRATE__` (the name as a Rust identifier: `order-history` →
//! `order_history`).

/// Where the app will live, which decides how its `Cargo.toml` names its dependencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Under the shell's `mfe/apps/`: a member of the shell's workspace.
    InShellWorkspace,
    /// Anywhere else: its own workspace, the SDK by path, the shell's lock file and profile.
    Standalone,
}

/// One file to write: its path inside the app folder and its template text.
pub struct TemplateFile {
    pub path: &'static str,
    pub text: &'static str,
}

const COMMON: &[TemplateFile] = &[
    TemplateFile {
        path: "src/lib.rs",
        text: include_str!("../template/lib.rs.tmpl"),
    },
    TemplateFile {
        path: "src/view.rs",
        text: include_str!("../template/view.rs.tmpl"),
    },
    TemplateFile {
        path: "tests/web.rs",
        text: include_str!("../template/web.rs.tmpl"),
    },
    TemplateFile {
        path: "tests/e2e/__NAME__.spec.ts",
        text: include_str!("../template/app.spec.ts.tmpl"),
    },
    TemplateFile {
        path: "dev/answers.json",
        text: include_str!("../template/answers.json.tmpl"),
    },
    TemplateFile {
        path: "README.md",
        text: include_str!("../template/README.md.tmpl"),
    },
];

const IN_WORKSPACE: &[TemplateFile] = &[TemplateFile {
    path: "Cargo.toml",
    text: include_str!("../template/Cargo.workspace.toml.tmpl"),
}];

const STANDALONE: &[TemplateFile] = &[
    TemplateFile {
        path: "Cargo.toml",
        text: include_str!("../template/Cargo.standalone.toml.tmpl"),
    },
    TemplateFile {
        path: ".cargo/config.toml",
        text: include_str!("../template/cargo-config.toml.tmpl"),
    },
    TemplateFile {
        path: ".gitignore",
        text: include_str!("../template/gitignore.tmpl"),
    },
];

/// Every file of a new app in `layout`.
pub fn files(layout: Layout) -> impl Iterator<Item = &'static TemplateFile> {
    let specific = match layout {
        Layout::InShellWorkspace => IN_WORKSPACE,
        Layout::Standalone => STANDALONE,
    };
    COMMON.iter().chain(specific)
}

/// `order-history` → `Order history`.
pub fn title(name: &str) -> String {
    let spaced = name.replace('-', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Fills the placeholders in a path or a file; `shell` is the shell's checkout.
pub fn render(text: &str, name: &str, shell: &str) -> String {
    text.replace("__CRATE__", &name.replace('-', "_"))
        .replace("__NAME__", name)
        .replace("__TITLE__", &title(name))
        .replace("__SHELL__", shell)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_read_as_words() {
        assert_eq!(title("hello"), "Hello");
        assert_eq!(title("order-history"), "Order history");
    }

    #[test]
    fn every_placeholder_is_filled() {
        for layout in [Layout::InShellWorkspace, Layout::Standalone] {
            for file in files(layout) {
                let text = render(file.text, "order-history", "/shell");
                assert!(!text.contains("__"), "{} keeps a placeholder", file.path);
                assert!(!render(file.path, "x", "/s").contains("__"));
            }
        }
    }

    /// A standalone app must build with the versions the shell pins, or it would pull other
    /// ones than the shell was tested with (and rebuild everything instead of sharing).
    #[test]
    fn standalone_dependencies_match_the_shell_workspace() {
        let root: toml::Value =
            toml::from_str(include_str!("../../../Cargo.toml")).expect("the root Cargo.toml");
        let pinned = &root["workspace"]["dependencies"];
        let app: toml::Value = toml::from_str(&render(
            include_str!("../template/Cargo.standalone.toml.tmpl"),
            "x",
            "/s",
        ))
        .expect("the standalone template is TOML");
        let version = |v: &toml::Value| match v {
            toml::Value::String(s) => s.clone(),
            t => t["version"].as_str().unwrap_or_default().to_string(),
        };
        for section in ["dependencies", "dev-dependencies"] {
            for (name, spec) in app[section].as_table().unwrap() {
                if name == "mfe-sdk" {
                    continue;
                }
                assert_eq!(
                    version(spec),
                    version(&pinned[name.as_str()]),
                    "{section}.{name} differs from the shell's"
                );
            }
        }
        let mut shell_release = root["profile"]["release"].clone();
        // Per-package overrides are for the shell's native tools, not for apps.
        shell_release.as_table_mut().unwrap().remove("package");
        assert_eq!(app["profile"]["release"], shell_release);
        // The same patched crates as the shell (vendor/reactive_graph), from the shell's checkout.
        let patches = |t: &toml::Value| -> Vec<(String, String)> {
            t["patch"]["crates-io"]
                .as_table()
                .expect("a [patch.crates-io] table")
                .iter()
                .map(|(name, spec)| (name.clone(), spec["path"].as_str().unwrap().to_string()))
                .collect()
        };
        let in_app: Vec<_> = patches(&app)
            .into_iter()
            .map(|(name, path)| (name, path.trim_start_matches("/s/").to_string()))
            .collect();
        assert_eq!(in_app, patches(&root));
    }
}
