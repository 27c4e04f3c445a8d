//! The contract every part of the system agrees on: micro-app manifests, the command envelope,
//! acknowledgements, health reports, error bodies, host-API messages, the micro-app runtime's
//! settings and the boot module's hand-over.
//!
//! Plain serde types with no I/O, so the shell (wasm), the micro apps, the region simulator and
//! the command-line tools all compile the same definitions and cannot drift apart.

pub mod boot;
pub mod command;
pub mod error;
pub mod health;
pub mod host;
pub mod manifest;
pub mod runtime;

pub use boot::BootStage;
pub use command::{
    BatchItemResult, BatchRequest, BatchResponse, Command, CommandAck, MAX_BATCH_COMMANDS,
};
pub use error::ErrorBody;
pub use health::{HealthReport, HealthStatus, REGION_HEALTH_HEADER, SWITCHED_OFF};
pub use host::{CommandStatus, QueryAnswer, HOST_API_VERSION};
pub use manifest::{
    AppDescriptor, AppFile, AppIntegrity, AppVersions, Manifest, RegionInfo, SlotSpec,
    MANIFEST_SCHEMA,
};
pub use runtime::RuntimeConfig;

/// HTTP header that carries a command's id so regions can deduplicate retries.
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";
