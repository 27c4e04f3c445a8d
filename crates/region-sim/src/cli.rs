//! Command-line flags. Every flag has a default, so `region-sim` alone, run from the repository
//! root, serves `dist/` and `var/cdn/` with three regions.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::Parser;

use crate::config::SimConfig;

/// Simulated regions (SQLite per region, replication, fault injection) plus the shell's
/// static files, for development and tests.
#[derive(Debug, Parser)]
#[command(name = "region-sim", version)]
pub struct Args {
    /// Region names, comma separated; region i listens on base-port + i.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "us-east,eu-west,ap-south"
    )]
    pub regions: Vec<String>,
    /// Address the regions and the static server listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    #[arg(long, default_value_t = 8081)]
    pub base_port: u16,
    #[arg(long, default_value_t = 8080)]
    pub static_port: u16,
    /// Admin (fault injection) address; must be loopback.
    #[arg(long, default_value = "127.0.0.1")]
    pub admin_host: IpAddr,
    #[arg(long, default_value_t = 8090)]
    pub admin_port: u16,
    /// Trunk's output (index.html and the shell's hashed assets).
    #[arg(long, default_value = "dist")]
    pub shell_dir: PathBuf,
    /// Published micro apps (apps/… and manifest.json), served before the shell.
    #[arg(long, default_value = "var/cdn")]
    pub cdn_dir: PathBuf,
    /// One SQLite file per region, created if missing.
    #[arg(long, default_value = "var/regions")]
    pub data_dir: PathBuf,
    /// Origin allowed by CORS (repeatable); default: the static server's own origin.
    #[arg(long = "origin")]
    pub origins: Vec<String>,
    /// Delete the region databases at start.
    #[arg(long)]
    pub reset: bool,
    /// Delay before accepted commands are copied to the other regions.
    #[arg(long, default_value_t = 200)]
    pub replication_lag_ms: u64,
    /// Replication lag above which /health says "degraded".
    #[arg(long, default_value_t = 10_000)]
    pub health_lag_bound_ms: u64,
}

impl Args {
    pub fn into_config(self) -> SimConfig {
        SimConfig {
            regions: self
                .regions
                .into_iter()
                .map(|r| r.trim().to_owned())
                .collect(),
            host: self.host,
            base_port: self.base_port,
            static_port: self.static_port,
            admin_host: self.admin_host,
            admin_port: self.admin_port,
            shell_dir: self.shell_dir,
            cdn_dir: self.cdn_dir,
            data_dir: self.data_dir,
            origins: self.origins,
            reset: self.reset,
            replication_lag_ms: self.replication_lag_ms,
            health_lag_bound_ms: self.health_lag_bound_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_dev_stack() {
        let config = Args::parse_from(["region-sim"]).into_config();
        assert_eq!(config.regions, ["us-east", "eu-west", "ap-south"]);
        assert_eq!(
            (config.base_port, config.static_port, config.admin_port),
            (8081, 8080, 8090)
        );
        assert_eq!(config.shell_dir, PathBuf::from("dist"));
        assert!(config.origins.is_empty());
        config.validate().unwrap();
    }

    #[test]
    fn flags_override_defaults() {
        let config = Args::parse_from([
            "region-sim",
            "--regions",
            "a,b",
            "--origin",
            "http://x:1",
            "--origin",
            "http://y:2",
            "--reset",
        ])
        .into_config();
        assert_eq!(config.regions, ["a", "b"]);
        assert_eq!(config.origins, ["http://x:1", "http://y:2"]);
        assert!(config.reset);
    }
}
