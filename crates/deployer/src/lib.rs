//! The deployer (DESIGN §2, §3.2): turns a micro app's build output into an immutable,
//! versioned folder of a static tree and registers it in the tree's `manifest.json`.
//!
//! ```text
//! <cdn>/manifest.json                   merged manifest, replaced atomically
//! <cdn>/apps/<name>/<version>/…         the app's assets, never modified once written
//! <cdn>/apps/<name>/<version>/mfe.json  the version's descriptor
//! <cdn>/.deploy.lock                    serialises deployers working on the same tree
//! ```
//!
//! Everything a command does lives here so it can be tested on real files; `main.rs` only
//! parses arguments and prints. The decisions about the manifest itself (validation, merge,
//! rollback) are the manifest core's, shared with the shell.

mod assets;
mod atomic;
mod builder;
mod cargo_meta;
mod cdn;
pub mod cli;
mod clock;
mod edit;
mod list;
mod lock;
mod package_json;
mod publish;
mod source;
mod stage;
mod version_dir;

pub use atomic::write_atomic;
pub use builder::Tools;
pub use cdn::{Cdn, LOCK_FILE, MANIFEST_FILE};
pub use clock::now_rfc3339;
pub use edit::{allow_dev_origin, remove, rollback, RemoveOutcome, RollbackOutcome};
pub use list::{list, AppListing, Listing};
pub use publish::{publish, PublishOptions, PublishOutcome};
pub use source::{read_app_source, AppKind, AppSource};
pub use stage::{stage, StageOptions, Staged, StagedFile};

/// Where progress lines go: each long-running step announces itself before it starts, so a
/// slow build never looks hung.
pub type Progress<'a> = &'a mut dyn FnMut(&str);
