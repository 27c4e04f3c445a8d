//! `region-sim`: runs the simulator until Ctrl-C or SIGTERM.

use anyhow::Result;
use clap::Parser;
use region_sim::cli::Args;
use region_sim::Simulator;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = Args::parse().into_config();
    if !config.shell_dir.join("index.html").is_file() {
        eprintln!(
            "note: {}/index.html not found; build the shell (trunk build) to serve it",
            config.shell_dir.display()
        );
    }
    let sim = Simulator::start(config).await?;
    for line in sim.banner() {
        println!("{line}");
    }
    shutdown_signal().await;
    eprintln!("stopping");
    sim.stop().await;
    Ok(())
}

/// Ctrl-C, or SIGTERM (what test runners send to the web server they started).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
