//! Finds the shell's checkout: the kit needs its SDK (for new apps), its `Cargo.lock` (so a new
//! app builds with the very versions the shell was tested with), and its test tooling.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

/// `$MFE_SHELL` if set, else the checkout this binary was built from.
pub fn shell_root() -> Result<PathBuf> {
    let candidate = match std::env::var_os("MFE_SHELL") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
    };
    let Ok(root) = candidate.canonicalize() else {
        bail!(
            "the shell's checkout {} does not exist; set MFE_SHELL to it",
            candidate.display()
        );
    };
    if !root.join("mfe/sdk/Cargo.toml").is_file() {
        bail!(
            "{} is not the shell's checkout (no mfe/sdk/Cargo.toml); set MFE_SHELL to it",
            root.display()
        );
    }
    Ok(root)
}
