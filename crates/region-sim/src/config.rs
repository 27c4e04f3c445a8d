//! What one simulator run looks like: region names, addresses, folders and CORS origins.
//!
//! The CLI fills it from flags; tests build it with [`SimConfig::for_tests`] so every listener
//! gets a free port.

use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::{bail, ensure, Result};

use crate::region::rate_limit::RateLimit;

/// Region names become file names and URL segments, so they are kept to a safe alphabet.
const MAX_REGION_NAME: usize = 32;
/// One listener per region on consecutive ports; more than this is a typo, not a simulation.
const MAX_REGIONS: usize = 16;

/// Configuration of one simulator process.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Region names, in port order (region `i` listens on `base_port + i`).
    pub regions: Vec<String>,
    /// Address the regions and the static server listen on.
    pub host: IpAddr,
    /// Port of the first region; 0 gives every region a free port (tests).
    pub base_port: u16,
    /// Port of the static server (`cdn_dir`, then `shell_dir`, plus `/regions.json`).
    pub static_port: u16,
    /// Whether the admin (fault injection) API listens at all. Off unless asked for: it can
    /// take regions down and empty their stores.
    pub admin: bool,
    /// Address of the admin listener; must be a loopback address.
    pub admin_host: IpAddr,
    pub admin_port: u16,
    /// Trunk's output: `index.html` and the shell's hashed assets.
    pub shell_dir: PathBuf,
    /// Published micro apps: `apps/<name>/<version>/…` and `manifest.json`.
    pub cdn_dir: PathBuf,
    /// One SQLite file per region, `<data_dir>/<region>.sqlite`.
    pub data_dir: PathBuf,
    /// Origins allowed by CORS on the regions; empty means the static server's own origin
    /// (`http://127.0.0.1:<port>` and `http://localhost:<port>`).
    pub origins: Vec<String>,
    /// Delete the region databases before opening them.
    pub reset: bool,
    /// Initial delay before a region's accepted command is copied to the others.
    pub replication_lag_ms: u64,
    /// Replication lag above which `/health` reports `degraded`.
    pub health_lag_bound_ms: u64,
    /// Per-client token bucket of each region's command writes.
    pub rate_limit: RateLimit,
    /// Router settings for the shell, served as `router` in `/regions.json` (None: the
    /// shell's defaults).
    pub router_config: Option<serde_json::Value>,
    /// Origins of `mfe dev` servers the page may fetch from (CSP `connect-src`), for dev
    /// overrides in a debug shell. Empty in production.
    pub dev_origins: Vec<String>,
}

impl SimConfig {
    /// Three regions on free loopback ports, files under `root` (`dist/`, `cdn/`, `regions/`),
    /// with the admin API on (tests inject faults through it).
    pub fn for_tests(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        Self {
            regions: vec!["us-east".into(), "eu-west".into(), "ap-south".into()],
            host: IpAddr::from([127, 0, 0, 1]),
            base_port: 0,
            static_port: 0,
            admin: true,
            admin_host: IpAddr::from([127, 0, 0, 1]),
            admin_port: 0,
            shell_dir: root.join("dist"),
            cdn_dir: root.join("cdn"),
            data_dir: root.join("regions"),
            origins: Vec::new(),
            reset: false,
            replication_lag_ms: 0,
            health_lag_bound_ms: 10_000,
            rate_limit: RateLimit::DEFAULT,
            router_config: None,
            dev_origins: Vec::new(),
        }
    }

    /// Rejects what would fail later in a confusing way (bad names, public admin address, a
    /// meaningless rate limit). The admin address is checked even when the admin API is off,
    /// so turning it on later cannot expose it.
    pub fn validate(&self) -> Result<()> {
        ensure!(!self.regions.is_empty(), "at least one region is needed");
        for origin in &self.dev_origins {
            // It goes into the page's CSP: only a bare origin, nothing that could add a source
            // or a directive.
            let bare =
                mfe_manifest::origin_of(origin).filter(|o| o == origin.trim_end_matches('/'));
            ensure!(
                bare.is_some_and(|o| o
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && b != b';' && b != b',')),
                "--dev-origin {origin:?}: expected an origin such as http://127.0.0.1:8700"
            );
        }
        ensure!(
            self.regions.len() <= MAX_REGIONS,
            "at most {MAX_REGIONS} regions are supported"
        );
        for (i, name) in self.regions.iter().enumerate() {
            validate_region_name(name)?;
            ensure!(
                !self.regions[..i].contains(name),
                "region {name:?} is listed twice"
            );
        }
        if !self.admin_host.is_loopback() {
            bail!(
                "refusing to bind the admin API on {}: it can take regions down, so it only \
                 listens on a loopback address",
                self.admin_host
            );
        }
        self.rate_limit.validate().map_err(anyhow::Error::msg)?;
        if self.base_port != 0 {
            let last = u32::from(self.base_port) + self.regions.len() as u32 - 1;
            ensure!(last <= u32::from(u16::MAX), "region ports would pass 65535");
        }
        Ok(())
    }
}

/// `[a-z0-9-]`, 1 to 32 characters, starting with a letter or digit.
pub fn validate_region_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_REGION_NAME
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    ensure!(
        ok,
        "region name {name:?} must be 1-{MAX_REGION_NAME} characters of a-z, 0-9 and '-'"
    );
    Ok(())
}

/// `http://<ip>:<port>` with IPv6 addresses in brackets.
pub fn http_url(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(v4) => format!("http://{v4}:{port}"),
        IpAddr::V6(v6) => format!("http://[{v6}]:{port}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_must_be_loopback() {
        let mut config = SimConfig::for_tests("/tmp/x");
        config.validate().unwrap();
        config.admin_host = IpAddr::from([0, 0, 0, 0]);
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("loopback"), "{err}");
        config.admin = false;
        assert!(config.validate().is_err(), "checked even while off");
    }

    #[test]
    fn dev_origins_must_be_bare_origins() {
        let mut config = SimConfig::for_tests("/tmp/x");
        config.dev_origins = vec!["http://127.0.0.1:8700".into()];
        config.validate().unwrap();
        for bad in [
            "http://127.0.0.1:8700/mfe.json",
            "127.0.0.1:8700",
            "http://a; script-src *",
            "javascript://x",
        ] {
            config.dev_origins = vec![bad.into()];
            let err = config.validate().unwrap_err().to_string();
            assert!(err.contains("expected an origin"), "{bad}: {err}");
        }
    }

    #[test]
    fn rate_limit_is_checked() {
        let mut config = SimConfig::for_tests("/tmp/x");
        config.rate_limit.burst = 0;
        assert!(config.validate().unwrap_err().to_string().contains("burst"));
    }

    #[test]
    fn region_names_are_checked() {
        assert!(validate_region_name("us-east").is_ok());
        assert!(validate_region_name("../etc").is_err());
        assert!(validate_region_name("US").is_err());
        assert!(validate_region_name("").is_err());
        let mut config = SimConfig::for_tests("/tmp/x");
        config.regions = vec!["a".into(), "a".into()];
        assert!(config.validate().is_err());
    }

    #[test]
    fn urls_bracket_ipv6() {
        assert_eq!(
            http_url(IpAddr::from([127, 0, 0, 1]), 8081),
            "http://127.0.0.1:8081"
        );
        assert_eq!(http_url("::1".parse().unwrap(), 8081), "http://[::1]:8081");
    }
}
