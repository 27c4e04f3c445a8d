//! Loading micro apps in the browser, with no UI framework: the boot module (crates/boot) uses
//! it to show the page's app before the shell has started, and the shell for every other mount.

pub mod clock;
pub mod early_reads;
pub mod loader;
