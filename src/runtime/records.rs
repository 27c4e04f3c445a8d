//! Reactive runtime state the shell shows: the validated manifest, the user context for slot
//! filters, and one record per app instance for the inspector.

use std::collections::BTreeMap;

use leptos::prelude::*;
use mfe_manifest::ValidatedManifest;

use crate::runtime::fallback::Rollback;
use crate::runtime::status::Status;
use mfe_contract::RuntimeConfig;

/// Uncaught errors kept for the inspector (the newest).
pub const MAX_CRASHES: usize = 20;

/// What the inspector shows about one app in one mount point.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InstanceRecord {
    pub slot: String,
    pub app: String,
    pub status: Option<Status>,
    pub version: String,
    pub source: String,
    pub bytes: Option<u64>,
    pub fetch_ms: Option<f64>,
    pub compile_ms: Option<f64>,
    pub init_ms: Option<f64>,
    pub mount_ms: Option<f64>,
    pub last_error: Option<String>,
    /// Set while an earlier version is shown instead of the current one.
    pub rolled_back: Option<Rollback>,
}

/// One uncaught error the page reported, and what the runtime made of it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CrashRecord {
    /// Milliseconds since the page started.
    pub at_ms: f64,
    /// The app instance it was attributed to: (slot, app, version); `None`: no app's.
    pub app: Option<(String, String, String)>,
    /// Whether this error stopped that instance (false: already stopped, or no app's).
    pub stopped: bool,
    pub message: String,
}

/// `navigator.storage`: whether storage is persistent, and how much is used.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StorageInfo {
    /// `None` until `persist()` answered (or when the browser lacks it).
    pub persisted: Option<bool>,
    pub usage: Option<f64>,
    pub quota: Option<f64>,
}

#[derive(Clone, Copy)]
pub struct RuntimeState {
    /// The manifest in use: fetched and validated, or the last known good one.
    pub validated: RwSignal<Option<ValidatedManifest>>,
    /// Set when the manifest in use is not the one just fetched, saying why.
    pub manifest_notice: RwSignal<Option<String>>,
    /// Why `regions.json`'s `"runtime"` settings are not in force, when they cannot be used.
    pub settings_notice: RwSignal<Option<String>>,
    pub config: RwSignal<RuntimeConfig>,
    /// Roles of the signed-in user, for slot filters (none by default).
    pub roles: RwSignal<Vec<String>>,
    pub records: RwSignal<BTreeMap<String, InstanceRecord>>,
    /// App versions fetched and compiled ahead of time (`name@version`).
    pub preloaded: RwSignal<Vec<String>>,
    pub storage: RwSignal<StorageInfo>,
    /// Uncaught errors, oldest first, at most [`MAX_CRASHES`].
    pub crashes: RwSignal<Vec<CrashRecord>>,
}

impl Default for RuntimeState {
    fn default() -> Self {
        Self {
            validated: RwSignal::new(None),
            manifest_notice: RwSignal::new(None),
            settings_notice: RwSignal::new(None),
            config: RwSignal::new(RuntimeConfig::default()),
            roles: RwSignal::new(Vec::new()),
            records: RwSignal::new(BTreeMap::new()),
            preloaded: RwSignal::new(Vec::new()),
            storage: RwSignal::new(StorageInfo::default()),
            crashes: RwSignal::new(Vec::new()),
        }
    }
}

impl RuntimeState {
    /// Updates the record of `slot`/`app`, creating it on first use.
    pub fn record(&self, slot: &str, app: &str, edit: impl FnOnce(&mut InstanceRecord)) {
        self.records.update(|records| {
            let record = records
                .entry(format!("{slot}/{app}"))
                .or_insert_with(|| InstanceRecord {
                    slot: slot.to_string(),
                    app: app.to_string(),
                    ..InstanceRecord::default()
                });
            edit(record);
        });
    }

    /// Keeps `crash` for the inspector, dropping the oldest beyond [`MAX_CRASHES`].
    pub fn log_crash(&self, crash: CrashRecord) {
        self.crashes.update(|c| {
            c.push(crash);
            let excess = c.len().saturating_sub(MAX_CRASHES);
            c.drain(..excess);
        });
    }
}

pub fn use_runtime() -> RuntimeState {
    expect_context::<RuntimeState>()
}
