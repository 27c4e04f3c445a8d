//! The hand-over between the boot module (`crates/boot`), which shows a page's routed app
//! before the shell is up, and the shell, which takes the running app over
//! (`src/runtime/instances/adopt.rs`). Both sides run in one page but are separate wasm
//! modules: the names they meet under, and the steps an attempt can reach, are defined once
//! here.

/// Where `index.html` keeps the boot module's promise of its hand-over (or of `null`).
pub const HANDOFF_GLOBAL: &str = "__mfeBoot";
/// Where the boot module names the version it is loading, before it starts: the shell's early
/// preparation of the page's apps leaves that one to it.
pub const LOADING_GLOBAL: &str = "__mfeBootApp";
/// Where `index.html` leaves the boot module a copy of its early answer for `/manifest.json`
/// (a promise of a `Response`, or of `null`): the shell takes the answer itself.
pub const MANIFEST_COPY_GLOBAL: &str = "__mfeBootManifest";
/// The same for `/regions.json`, whose `"runtime"` settings bound the boot module's attempt.
pub const REGIONS_COPY_GLOBAL: &str = "__mfeBootRegions";
/// The id of the boot module's frame.
pub const FRAME_ID: &str = "mfe-boot";
/// The class on `<html>` while the boot module's frame stands in for the shell's.
pub const BOOTING_CLASS: &str = "booting";

/// The step an attempt reached: `load` (fetch, compile, glue, init), `bootstrap`, `mount`, or
/// `mounted` when it succeeded. The hand-over carries it by [`BootStage::name`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootStage {
    Load,
    Bootstrap,
    Mount,
    Mounted,
}

impl BootStage {
    pub const ALL: [BootStage; 4] = [Self::Load, Self::Bootstrap, Self::Mount, Self::Mounted];

    pub fn name(self) -> &'static str {
        match self {
            Self::Load => "load",
            Self::Bootstrap => "bootstrap",
            Self::Mount => "mount",
            Self::Mounted => "mounted",
        }
    }

    /// The stage named `name`; `None` for anything else (a hand-over the shell cannot read).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_names_read_back() {
        for stage in BootStage::ALL {
            assert_eq!(BootStage::from_name(stage.name()), Some(stage));
        }
        assert_eq!(BootStage::from_name("Mounted"), None);
        assert_eq!(BootStage::from_name(""), None);
    }
}
