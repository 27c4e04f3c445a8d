//! `mfe dev [DIR]`: the app alone in a minimal page with the SDK's mock host (in-memory outbox,
//! scripted query answers from `dev/answers.json`, an event log), rebuilt on every change.
//!
//! The app is staged exactly as `publish` would stage it (same checks, same URLs under
//! `/apps/<name>/<version>/`, an `mfe.json` with SRI), only built with the dev profile and kept
//! in memory. That `mfe.json` is also what the shell's dev override loads, so the same server
//! feeds the app into a debug build of the real shell (see `--help` and docs/micro-apps.md).

mod server;
mod watch;

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use anyhow::Result;
use mfe_deploy::{stage, StageOptions, Staged, Tools};

pub use server::serve;

pub struct DevOptions {
    pub app_dir: PathBuf,
    pub port: u16,
    /// Build with the release profile and wasm-opt (slower; what publishing produces).
    pub release: bool,
    /// Stop after this many seconds (scripts and tests); `None`: until Ctrl-C.
    pub exit_after: Option<u64>,
    pub tools: Tools,
}

/// The latest build: the last good files keep being served while a broken one is shown.
#[derive(Default)]
pub struct DevState {
    pub build: u64,
    pub staged: Option<Staged>,
    pub error: Option<String>,
}

pub type Shared = Arc<RwLock<DevState>>;

/// Builds once more and records the result (the previous good build stays if this one fails).
pub fn rebuild(opts: &DevOptions, state: &Shared) {
    let stage_opts = StageOptions {
        app_dir: opts.app_dir.clone(),
        build: true,
        release: opts.release,
        tools: opts.tools.clone(),
    };
    let result = stage(&stage_opts, &mut |line| eprintln!("   {line}"));
    let mut s = state.write().unwrap_or_else(|p| p.into_inner());
    s.build += 1;
    match result {
        Ok(staged) => {
            eprintln!(
                "-> build {} ready: {} {}",
                s.build, staged.descriptor.name, staged.descriptor.version
            );
            s.staged = Some(staged);
            s.error = None;
        }
        Err(e) => {
            eprintln!("-> build {} failed: {e:#}", s.build);
            s.error = Some(format!("{e:#}"));
        }
    }
}

pub fn run(opts: DevOptions) -> Result<()> {
    let state: Shared = Arc::default();
    rebuild(&opts, &state);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.port)).await?;
        let address = listener.local_addr()?;
        eprintln!("-> serving http://{address}/ (Ctrl-C to stop)");
        if let Some(s) = &state.read().unwrap_or_else(|p| p.into_inner()).staged {
            eprintln!(
                "   into the real shell (a debug build whose manifest lists http://{address} in \
                 dev_origins): localStorage.setItem('mfe.override.{}', 'http://{address}/mfe.json')",
                s.descriptor.name
            );
        }
        let opts = Arc::new(opts);
        let watcher = watch::spawn(opts.clone(), state.clone())?;
        let app_dir = opts.app_dir.clone();
        let server = serve(listener, state, app_dir);
        match opts.exit_after {
            Some(secs) => {
                tokio::select! {
                    r = server => r?,
                    _ = tokio::time::sleep(std::time::Duration::from_secs(secs)) => {}
                }
            }
            None => {
                tokio::select! {
                    r = server => r?,
                    _ = tokio::signal::ctrl_c() => eprintln!("-> stopped"),
                }
            }
        }
        drop(watcher);
        Ok(())
    })
}
