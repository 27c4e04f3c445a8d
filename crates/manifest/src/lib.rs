//! Manifest core (DESIGN §2, §3.2): everything the shell, the deployer and the region simulator
//! need to decide whether a micro app may run, and which version of it.
//!
//! The crate is sans-IO: no files, no network, no clock. Callers read the bytes, pass the
//! current time in as an RFC 3339 string, and write the result themselves. That keeps one
//! implementation for the browser (wasm32) and the native tools, and makes every rule testable
//! without a browser.
//!
//! - [`parse_manifest`] validates a whole `manifest.json`; a bad app entry disables that app
//!   only, with a reason that names the field.
//! - [`merge`], [`rollback`] and [`remove`] are the deployer's edits, as pure functions.
//! - [`match_route`], [`active_apps`] and [`resolve_slot`] decide what mounts where.
//! - [`versions_to_try`] lists the versions the client may fall back to.
//! - [`placement`] puts those decisions together: which app versions mount in which mount
//!   point of a page.
//! - [`sri`] and [`verify_sri`] compute and check subresource-integrity strings.

mod checks;
mod descriptor;
mod edit;
mod entry;
mod error;
mod parse;
pub mod placement;
mod rollback;
mod routes;
mod rules;
mod slots;
mod sri;
mod timestamp;

pub use checks::{check_budget, check_dev_origin, check_requires, origin_of};
pub use descriptor::validate_descriptor;
pub use edit::{empty_manifest, merge, remove, DEFAULT_KEEP_PREVIOUS};
pub use error::{FieldError, ManifestError};
pub use parse::{parse_manifest, to_json, DisabledApp, ValidatedManifest};
pub use rollback::{rollback, versions_to_try};
pub use routes::{active_apps, match_route, ActiveApp};
pub use slots::resolve_slot;
pub use sri::{sri, verify_sri, SriAlgorithm};
pub use timestamp::{check_timestamp, timestamp_from_unix_ms};

/// The contract shapes this crate works on, re-exported so callers need one import.
pub use mfe_contract::{
    AppDescriptor, AppIntegrity, AppVersions, Manifest, RegionInfo, SlotSpec, HOST_API_VERSION,
    MANIFEST_SCHEMA,
};

/// Checks a micro-app name (`[a-z][a-z0-9-]*`, at most 40 characters): it becomes a URL segment
/// and a manifest key, so tools that create apps refuse a bad one before anything is written.
pub fn check_app_name(value: &str) -> Result<(), String> {
    rules::app_name(value)
}
