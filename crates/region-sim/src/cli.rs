//! Command-line flags. Every flag has a default, so `region-sim` alone, run from the repository
//! root, serves `dist/` and `var/cdn/` with three regions.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::Parser;

use crate::config::SimConfig;
use crate::region::rate_limit::RateLimit;

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
    /// Start the admin (fault injection) API; without it there is no admin listener.
    #[arg(long)]
    pub admin: bool,
    /// Admin address; must be loopback.
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
    /// Command writes (POST /commands, /commands:batch) each client may send per second,
    /// per region, after its burst; 0 turns the limit off.
    #[arg(long, default_value_t = RateLimit::DEFAULT.per_second)]
    pub rate_limit_per_s: f64,
    /// Command writes a quiet client may send at once before the rate applies.
    #[arg(long, default_value_t = RateLimit::DEFAULT.burst)]
    pub rate_burst: u32,
    /// Router settings served to the shell in /regions.json (JSON object of the router core's
    /// configuration fields). This stack probes every 2 s (1 s when a region is suspect) so
    /// demos and tests see a change within seconds; pass '{}' for production's 30 s / 5 s.
    #[arg(long, default_value = DEFAULT_ROUTER_CONFIG, value_parser = parse_json_object)]
    pub router_config: serde_json::Value,
    /// An origin a team's `mfe dev` server runs on (e.g. http://127.0.0.1:8700): the page's
    /// Content Security Policy lets it fetch from there, so a debug shell's dev override can
    /// load the app. Repeatable; for development stacks only.
    #[arg(long = "dev-origin", value_name = "ORIGIN")]
    pub dev_origins: Vec<String>,
}

/// Probe faster than production: a region that dies shows as down within a few seconds.
pub const DEFAULT_ROUTER_CONFIG: &str =
    r#"{"probe_interval_healthy_ms":2000,"probe_interval_unhealthy_ms":1000}"#;

fn parse_json_object(text: &str) -> Result<serde_json::Value, String> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value) if value.is_object() => Ok(value),
        Ok(_) => Err("expected a JSON object".into()),
        Err(e) => Err(e.to_string()),
    }
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
            admin: self.admin,
            admin_host: self.admin_host,
            admin_port: self.admin_port,
            shell_dir: self.shell_dir,
            cdn_dir: self.cdn_dir,
            data_dir: self.data_dir,
            origins: self.origins,
            reset: self.reset,
            replication_lag_ms: self.replication_lag_ms,
            health_lag_bound_ms: self.health_lag_bound_ms,
            rate_limit: RateLimit {
                per_second: self.rate_limit_per_s,
                burst: self.rate_burst,
            },
            router_config: Some(self.router_config)
                .filter(|v| v.as_object().is_some_and(|o| !o.is_empty())),
            dev_origins: self.dev_origins,
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
        assert!(!config.admin, "the admin API is off unless asked for");
        assert_eq!(config.rate_limit, RateLimit::DEFAULT);
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
            "--admin",
            "--rate-limit-per-s",
            "5.5",
            "--rate-burst",
            "7",
        ])
        .into_config();
        assert_eq!(config.regions, ["a", "b"]);
        assert_eq!(config.origins, ["http://x:1", "http://y:2"]);
        assert!(config.reset);
        assert!(config.admin);
        assert_eq!(
            config.rate_limit,
            RateLimit {
                per_second: 5.5,
                burst: 7
            }
        );
    }
}
