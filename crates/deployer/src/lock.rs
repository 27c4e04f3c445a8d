//! One deployer at a time per tree: every read-modify-write of `manifest.json` happens under
//! an exclusive lock on `<cdn>/.deploy.lock`, so two concurrent publishes cannot lose each
//! other's update. The lock is released when the process exits, even on a crash, so a stale
//! lock file is harmless and is never deleted (deleting it would let two holders in).

use std::fs::{File, OpenOptions};
use std::path::Path;

use anyhow::{Context as _, Result};
use fs4::TryLockError;

use crate::Progress;

/// Held for as long as the value lives.
#[derive(Debug)]
pub struct DeployLock {
    _file: File,
}

impl DeployLock {
    /// Takes the lock at `path`, saying so when it has to wait for another deployer.
    pub fn acquire(path: &Path, progress: Progress<'_>) -> Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .with_context(|| format!("opening lock file {}", path.display()))?;
        // Called through the trait: std's inherent `File::try_lock` is newer than our MSRV.
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                progress(&format!(
                    "waiting for another deploy to finish (lock {})",
                    path.display()
                ));
                fs4::FileExt::lock(&file).with_context(|| format!("locking {}", path.display()))?;
            }
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("locking {}", path.display()))
            }
        }
        Ok(Self { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::thread;
    use std::time::Duration;

    use super::*;

    #[test]
    fn second_holder_waits_for_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".deploy.lock");
        let first = DeployLock::acquire(&path, &mut |_| {}).unwrap();
        let (tx, rx) = mpsc::channel();
        let waiter = {
            let path = path.clone();
            thread::spawn(move || {
                let mut said = Vec::new();
                let lock = DeployLock::acquire(&path, &mut |m| said.push(m.to_string()));
                tx.send(()).unwrap();
                (lock.is_ok(), said)
            })
        };
        assert!(
            rx.recv_timeout(Duration::from_millis(200)).is_err(),
            "must wait"
        );
        drop(first);
        rx.recv_timeout(Duration::from_secs(10))
            .expect("gets the lock");
        let (ok, said) = waiter.join().unwrap();
        assert!(ok);
        assert!(
            said[0].starts_with("waiting for another deploy"),
            "{said:?}"
        );
    }
}
