//! The micro-app runtime. Decisions live in plain-Rust modules tested natively (`status`,
//! `fallback`, `gate`, `bus`, `blame`, `tripwire`, `placement` from the manifest core, and the
//! settings in `mfe_contract::runtime`, which the boot module reads too); the browser adapters around them stay thin (`instances`, `events`, `records`,
//! `preload`, `boot`, `storage`, `dev_override`, `crash_watch`).

pub mod blame;
pub mod boot;
pub mod boot_hint;
pub mod bus;
pub mod crash_watch;
pub mod dev_override;
pub mod events;
pub mod fallback;
pub mod gate;
pub mod instances;
/// What mounts where (in the manifest core, shared with the boot module).
pub use mfe_manifest::placement;
pub mod preload;
pub mod records;
pub mod status;
pub mod storage;
pub mod tripwire;
