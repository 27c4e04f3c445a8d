//! Rebuilds when the app's sources change: file events are gathered for 300 ms (an editor's
//! save is several events) and build outputs are ignored, so one save makes one build.

use std::path::Path;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use anyhow::{Context as _, Result};
use notify::{RecursiveMode, Watcher};

use super::{rebuild, DevOptions, Shared};

/// Folders whose changes are build output or tooling, never source.
const IGNORED: &[&str] = &["target", "pkg", "node_modules", ".git", "test-results"];

fn is_source(path: &Path, root: &Path) -> bool {
    let rel = path.strip_prefix(root).unwrap_or(path);
    !rel.components()
        .any(|c| IGNORED.contains(&c.as_os_str().to_str().unwrap_or("")))
}

/// Watches `opts.app_dir` until the returned watcher is dropped.
pub fn spawn(opts: Arc<DevOptions>, state: Shared) -> Result<notify::RecommendedWatcher> {
    let (tx, rx) = mpsc::channel::<notify::Result<notify::Event>>();
    let mut watcher = notify::recommended_watcher(tx).context("starting the file watcher")?;
    let root = opts.app_dir.canonicalize()?;
    watcher
        .watch(&root, RecursiveMode::Recursive)
        .with_context(|| format!("watching {}", root.display()))?;
    std::thread::spawn(move || {
        // Ends when the watcher (the sender) is dropped.
        while let Ok(event) = rx.recv() {
            let relevant = |e: &notify::Result<notify::Event>| {
                e.as_ref().is_ok_and(|e| {
                    !e.kind.is_access() && e.paths.iter().any(|p| is_source(p, &root))
                })
            };
            if !relevant(&event) {
                continue;
            }
            // Quiet for 300 ms, or 3 s at most under a steady stream of events.
            let deadline = std::time::Instant::now() + Duration::from_secs(3);
            while std::time::Instant::now() < deadline
                && rx.recv_timeout(Duration::from_millis(300)).is_ok()
            {}
            eprintln!("-> change detected, rebuilding");
            rebuild(&opts, &state);
        }
    });
    Ok(watcher)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_output_is_not_source() {
        let root = Path::new("/app");
        assert!(is_source(Path::new("/app/src/view.rs"), root));
        assert!(is_source(Path::new("/app/dev/answers.json"), root));
        assert!(!is_source(Path::new("/app/target/debug/x"), root));
        assert!(!is_source(Path::new("/app/pkg/app.js"), root));
    }
}
