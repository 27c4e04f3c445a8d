//! The micro-app runtime. Decisions live in plain-Rust modules tested natively (`status`,
//! `config`, `fallback`, `gate`, `bus`, `placement`, `blame`, `tripwire`); the browser
//! adapters around them stay thin (`instances`, `events`, `records`, `preload`, `boot`,
//! `storage`, `dev_override`, `crash_watch`).

pub mod blame;
pub mod boot;
pub mod boot_hint;
pub mod bus;
pub mod config;
pub mod crash_watch;
pub mod dev_override;
pub mod events;
pub mod fallback;
pub mod gate;
pub mod instances;
pub mod placement;
pub mod preload;
pub mod records;
pub mod status;
pub mod storage;
pub mod tripwire;
