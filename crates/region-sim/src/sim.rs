//! Starting and stopping a whole simulator: regions, static server, admin API, replication.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use anyhow::{Context as _, Result};
use mfe_contract::RegionInfo;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::admin::{self, RegionServer};
use crate::config::{http_url, SimConfig};
use crate::csp::CspReports;
use crate::listener::{self, Listener};
use crate::region::store::{self, Store};
use crate::region::{api, cors, Cluster, Region, RegionCtx};
use crate::replication::{self, Replication};
use crate::static_files;

/// A running simulator. Dropping it without [`Simulator::stop`] leaves its tasks running until
/// the runtime ends.
pub struct Simulator {
    cluster: Arc<Cluster>,
    servers: Arc<Vec<RegionServer>>,
    static_listener: Listener,
    /// `None` unless the configuration enables the admin API.
    admin_listener: Option<Listener>,
    csp_reports: Arc<CspReports>,
    origins: Vec<String>,
    config: SimConfig,
    replication_stop: CancellationToken,
    replication_task: JoinHandle<()>,
}

/// The host to put in URLs: a wildcard bind address is reachable as loopback.
fn url_host(ip: IpAddr) -> IpAddr {
    if ip.is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        ip
    }
}

fn bind(what: &str, ip: IpAddr, port: u16) -> Result<tokio::net::TcpListener> {
    let addr = SocketAddr::new(ip, port);
    listener::bind(addr).with_context(|| format!("binding the {what} on {addr}"))
}

impl Simulator {
    /// Binds every listener (port 0 picks a free one), opens the stores and starts serving.
    pub async fn start(config: SimConfig) -> Result<Self> {
        config.validate()?;

        let mut region_sockets = Vec::with_capacity(config.regions.len());
        for (i, name) in config.regions.iter().enumerate() {
            let port = if config.base_port == 0 {
                0
            } else {
                config.base_port + u16::try_from(i).context("too many regions")?
            };
            region_sockets.push(bind(&format!("region {name}"), config.host, port)?);
        }
        let static_socket = bind("static server", config.host, config.static_port)?;
        let admin_socket = if config.admin {
            Some(bind("admin API", config.admin_host, config.admin_port)?)
        } else {
            None
        };

        let host = url_host(config.host);
        let region_infos = config
            .regions
            .iter()
            .zip(&region_sockets)
            .map(|(name, socket)| {
                Ok(RegionInfo {
                    name: name.clone(),
                    url: http_url(host, socket.local_addr()?.port()),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let static_port = static_socket.local_addr()?.port();
        let origins = if config.origins.is_empty() {
            let mut origins = vec![
                http_url(host, static_port),
                format!("http://localhost:{static_port}"),
            ];
            origins.dedup();
            origins
        } else {
            config.origins.clone()
        };
        let cors = cors::layer(&origins)?;

        let mut regions = Vec::with_capacity(config.regions.len());
        for name in &config.regions {
            let path = config.data_dir.join(format!("{name}.sqlite"));
            let store = Store::open(&path, config.reset)?;
            let known = config.regions.clone();
            store
                .write(move |tx| store::outbox_forget_unknown(tx, &known))
                .await
                .with_context(|| format!("cleaning the replication outbox of {name}"))?;
            let peers = config
                .regions
                .iter()
                .filter(|p| *p != name)
                .cloned()
                .collect();
            regions.push(Arc::new(Region::new(
                name.clone(),
                store,
                peers,
                config.health_lag_bound_ms,
                config.rate_limit,
            )));
        }
        let cluster = Arc::new(Cluster {
            regions,
            replication: Replication::new(config.replication_lag_ms),
        });

        let mut servers = Vec::with_capacity(cluster.regions.len());
        for ((region, socket), info) in cluster
            .regions
            .iter()
            .zip(region_sockets)
            .zip(&region_infos)
        {
            let router = api::router(
                RegionCtx {
                    region: Arc::clone(region),
                    cluster: Arc::clone(&cluster),
                },
                cors.clone(),
            );
            servers.push(RegionServer {
                region: Arc::clone(region),
                listener: Arc::new(Listener::serve(
                    format!("region {}", region.name),
                    socket,
                    router,
                )?),
                url: info.url.clone(),
            });
        }
        let servers = Arc::new(servers);

        let csp_reports = Arc::new(CspReports::default());
        let static_listener = Listener::serve(
            "static",
            static_socket,
            static_files::router(
                config.cdn_dir.clone(),
                config.shell_dir.clone(),
                &region_infos,
                config.router_config.as_ref(),
                &config.dev_origins,
                Arc::clone(&csp_reports),
            ),
        )?;
        let admin_listener = admin_socket
            .map(|socket| {
                Listener::serve(
                    "admin",
                    socket,
                    admin::router(
                        Arc::clone(&cluster),
                        Arc::clone(&servers),
                        Arc::clone(&csp_reports),
                    ),
                )
            })
            .transpose()?;

        let replication_stop = CancellationToken::new();
        let replication_task = tokio::spawn(replication::run(
            Arc::clone(&cluster),
            replication_stop.clone(),
        ));

        Ok(Self {
            cluster,
            servers,
            static_listener,
            admin_listener,
            csp_reports,
            origins,
            config,
            replication_stop,
            replication_task,
        })
    }

    /// Base URL of the static server, e.g. `http://127.0.0.1:8080`.
    pub fn static_url(&self) -> String {
        http_url(
            url_host(self.config.host),
            self.static_listener.addr().port(),
        )
    }

    /// Base URL of the admin API, e.g. `http://127.0.0.1:8090`; `None` when it is off.
    pub fn admin_url(&self) -> Option<String> {
        self.admin_addr()
            .map(|addr| http_url(self.config.admin_host, addr.port()))
    }

    pub fn static_addr(&self) -> SocketAddr {
        self.static_listener.addr()
    }

    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_listener.as_ref().map(Listener::addr)
    }

    /// Content Security Policy violations reported to the static server so far.
    pub fn csp_reports(&self) -> Vec<serde_json::Value> {
        self.csp_reports.list()
    }

    /// Every region with its base URL, as `/regions.json` lists them.
    pub fn regions(&self) -> Vec<RegionInfo> {
        self.servers
            .iter()
            .map(|s| RegionInfo {
                name: s.region.name.clone(),
                url: s.url.clone(),
            })
            .collect()
    }

    /// Base URL of one region, e.g. `http://127.0.0.1:8081`.
    pub fn region_url(&self, name: &str) -> Option<String> {
        self.server(name).map(|s| s.url.clone())
    }

    pub fn region_addr(&self, name: &str) -> Option<SocketAddr> {
        self.server(name).map(|s| s.listener.addr())
    }

    /// Origins the regions accept through CORS.
    pub fn origins(&self) -> &[String] {
        &self.origins
    }

    /// One line per listener, then where to point the browser.
    pub fn banner(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for server in self.servers.iter() {
            lines.push(format!(
                "region {:<10} {}  (store {})",
                server.region.name,
                server.url,
                server.region.store.path().display()
            ));
        }
        lines.push(format!(
            "static            {}  (apps from {}, shell from {})",
            self.static_url(),
            self.config.cdn_dir.display(),
            self.config.shell_dir.display()
        ));
        lines.push(match self.admin_url() {
            Some(url) => format!("admin             {url}/admin/regions  (loopback only)"),
            None => "admin             off (start with --admin to inject faults)".to_owned(),
        });
        lines.push(format!("open {}/", self.static_url()));
        lines
    }

    /// Copies every due replication entry now instead of waiting for the next tick.
    pub async fn replicate_now(&self) -> usize {
        replication::step(&self.cluster).await
    }

    /// Closes every listener and connection and stops replication.
    pub async fn stop(self) {
        self.replication_stop.cancel();
        let _ = self.replication_task.await;
        for server in self.servers.iter() {
            server.listener.down().await;
        }
        self.static_listener.down().await;
        if let Some(admin) = &self.admin_listener {
            admin.down().await;
        }
    }

    fn server(&self, name: &str) -> Option<&RegionServer> {
        self.servers.iter().find(|s| s.region.name == name)
    }
}
