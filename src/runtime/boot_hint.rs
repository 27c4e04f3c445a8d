//! The boot hint: for the last few addresses the shell started on, the app files it asked for
//! first (URL and integrity), kept in localStorage. On the next load of one of those addresses,
//! `index.html` asks for the same files while the shell's own code downloads and starts, and
//! the loader takes those answers (`loader`, `early_reads`) when the fresh manifest still names
//! a file with the same integrity. A stale or damaged hint costs at most a few unused requests:
//! it never decides what runs.
//!
//! Plain data in, text out: no browser types, so the rules are tested natively.

use mfe_contract::AppDescriptor;
use serde::{Deserialize, Serialize};

/// localStorage key; `index.html` reads the same key.
pub const STORAGE_KEY: &str = "mfe.boot.files";

/// Addresses remembered (the most recent first); older ones are forgotten.
pub const MAX_PAGES: usize = 16;

/// Files remembered per address; `index.html` asks for at most this many too (its inline
/// script repeats the number).
pub const MAX_FILES: usize = 8;

/// One file to ask for early: exactly the request the loader would make.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HintFile {
    pub url: String,
    pub integrity: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct HintPage {
    path: String,
    files: Vec<HintFile>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Hint {
    pages: Vec<HintPage>,
}

/// Whether `url` is a path on the shell's own origin (`/…`, not `//host/…`): the only files
/// hinted. Another origin (a CDN, a dev override's server) is left to the loader, which asks
/// for it only once the fresh manifest (and the override rules) say so.
fn same_origin_path(url: &str) -> bool {
    url.starts_with('/') && !url.starts_with("//")
}

/// The files of `descriptors` in the order the loader asks for them (glue, then wasm), at
/// most [`MAX_FILES`], each once, same-origin paths only.
pub fn files_of(descriptors: &[AppDescriptor]) -> Vec<HintFile> {
    let mut files: Vec<HintFile> = Vec::new();
    for d in descriptors {
        for f in d.files() {
            let file = HintFile {
                url: f.url.to_owned(),
                integrity: f.integrity.to_owned(),
            };
            if same_origin_path(f.url) && files.len() < MAX_FILES && !files.contains(&file) {
                files.push(file);
            }
        }
    }
    files
}

/// The hint after a start on `path` that asked for `files` first: `path` moves to the front
/// with its new files (or is dropped when there are none), and at most [`MAX_PAGES`] stay.
/// An unreadable `stored` hint is replaced, not an error.
pub fn updated(stored: Option<&str>, path: &str, files: Vec<HintFile>) -> String {
    let mut hint: Hint = stored
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default();
    hint.pages.retain(|p| p.path != path);
    if !files.is_empty() {
        let files = files.into_iter().take(MAX_FILES).collect();
        hint.pages.insert(
            0,
            HintPage {
                path: path.to_string(),
                files,
            },
        );
    }
    hint.pages.truncate(MAX_PAGES);
    serde_json::to_string(&hint).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mfe_contract::AppIntegrity;

    /// The files remembered for `path`, read the way `index.html` reads them.
    fn files_for(stored: &str, path: &str) -> Vec<HintFile> {
        serde_json::from_str::<Hint>(stored)
            .ok()
            .and_then(|h| h.pages.into_iter().find(|p| p.path == path))
            .map(|p| p.files)
            .unwrap_or_default()
    }

    fn app(name: &str, wasm: bool) -> AppDescriptor {
        AppDescriptor {
            name: name.into(),
            version: "1.0.0".into(),
            entry: format!("/apps/{name}/1.0.0/{name}.js"),
            wasm: wasm.then(|| format!("/apps/{name}/1.0.0/{name}_bg.wasm")),
            integrity: AppIntegrity {
                entry: format!("sha384-{name}js"),
                wasm: wasm.then(|| format!("sha384-{name}wasm")),
            },
            routes: vec![],
            slots: vec![],
            requires: 1,
            budget: None,
            bytes: None,
        }
    }

    fn file(url: &str, integrity: &str) -> HintFile {
        HintFile {
            url: url.into(),
            integrity: integrity.into(),
        }
    }

    #[test]
    fn files_are_the_glue_then_the_wasm_of_each_app_once() {
        let files = files_of(&[app("tasks", true), app("notes", false), app("tasks", true)]);
        assert_eq!(
            files,
            vec![
                file("/apps/tasks/1.0.0/tasks.js", "sha384-tasksjs"),
                file("/apps/tasks/1.0.0/tasks_bg.wasm", "sha384-taskswasm"),
                file("/apps/notes/1.0.0/notes.js", "sha384-notesjs"),
            ]
        );
    }

    #[test]
    fn only_files_on_the_shells_own_origin_are_hinted() {
        let mut cdn = app("tasks", true);
        cdn.entry = "https://cdn.example.com/apps/tasks/1.0.0/tasks.js".into();
        let mut override_server = app("notes", false);
        override_server.entry = "//127.0.0.1:8700/notes.js".into();
        let files = files_of(&[cdn, override_server]);
        assert_eq!(
            files,
            vec![file("/apps/tasks/1.0.0/tasks_bg.wasm", "sha384-taskswasm")]
        );
    }

    #[test]
    fn a_wasm_without_its_integrity_is_not_hinted() {
        let mut d = app("tasks", true);
        d.integrity.wasm = None;
        assert_eq!(files_of(&[d]).len(), 1);
    }

    #[test]
    fn files_are_bounded() {
        let many: Vec<_> = (0..10).map(|i| app(&format!("a{i}"), true)).collect();
        assert_eq!(files_of(&many).len(), MAX_FILES);
    }

    #[test]
    fn the_latest_start_of_a_path_replaces_its_files_and_moves_it_first() {
        let one = updated(None, "/tasks", files_of(&[app("tasks", true)]));
        let two = updated(Some(&one), "/notes", files_of(&[app("notes", false)]));
        let three = updated(Some(&two), "/tasks", files_of(&[app("catalog", true)]));
        assert_eq!(
            files_for(&three, "/tasks"),
            files_of(&[app("catalog", true)])
        );
        assert_eq!(
            files_for(&three, "/notes"),
            files_of(&[app("notes", false)])
        );
        assert!(three.find("/tasks").unwrap() < three.find("/notes").unwrap());
    }

    #[test]
    fn a_path_that_shows_no_app_is_forgotten() {
        let one = updated(None, "/tasks", files_of(&[app("tasks", true)]));
        let two = updated(Some(&one), "/tasks", vec![]);
        assert!(files_for(&two, "/tasks").is_empty());
        assert_eq!(two, r#"{"pages":[]}"#);
    }

    #[test]
    fn at_most_max_pages_are_kept_the_oldest_going_first() {
        let mut stored = String::new();
        for i in 0..(MAX_PAGES + 3) {
            stored = updated(
                Some(&stored),
                &format!("/p{i}"),
                files_of(&[app("a", false)]),
            );
        }
        assert!(files_for(&stored, "/p0").is_empty());
        assert!(files_for(&stored, "/p2").is_empty());
        assert_eq!(files_for(&stored, "/p3").len(), 1);
        assert_eq!(files_for(&stored, &format!("/p{}", MAX_PAGES + 2)).len(), 1);
    }

    #[test]
    fn an_unreadable_hint_is_replaced() {
        for junk in [
            "",
            "null",
            "[]",
            "{\"pages\":7}",
            "{\"pages\":[{\"path\":1}]}",
        ] {
            let next = updated(Some(junk), "/tasks", files_of(&[app("tasks", false)]));
            assert_eq!(files_for(&next, "/tasks").len(), 1, "{junk}");
        }
        assert!(files_for("not json", "/tasks").is_empty());
    }
}
