//! Shared set-up for the integration tests: a simulator on free loopback ports with a small
//! shell and app tree, a client with timeouts, and helpers to build commands.

#![allow(dead_code)]

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mfe_contract::{BatchResponse, Command};
use region_sim::{SimConfig, Simulator};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Every client call in the tests is bounded by this.
pub const TIMEOUT: Duration = Duration::from_secs(5);
pub const WASM_BYTES: &[u8] = b"\0asm\x01\0\0\0";

pub struct Harness {
    pub sim: Simulator,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
}

fn write(path: &Path, contents: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
}

/// Files the static tests look for; `secret.txt` sits outside every served folder.
fn lay_out_files(root: &Path) {
    write(&root.join("secret.txt"), b"TOP SECRET");
    write(
        &root.join("dist/index.html"),
        b"<!doctype html><title>shell</title>",
    );
    write(
        &root.join("dist/mfe-shell-0123456789abcdef.js"),
        b"export {};",
    );
    write(
        &root.join("dist/mfe-shell-0123456789abcdef_bg.wasm"),
        WASM_BYTES,
    );
    write(
        &root.join("dist/sw.js"),
        b"self.addEventListener('fetch', () => {});",
    );
    write(&root.join("dist/both.txt"), b"from shell");
    write(&root.join("cdn/both.txt"), b"from cdn");
    write(&root.join("cdn/manifest.json"), br#"{"schema":1}"#);
    write(
        &root.join("cdn/apps/tasks/1.0.0/tasks.js"),
        b"export function mount() {}",
    );
    write(&root.join("cdn/apps/tasks/1.0.0/tasks_bg.wasm"), WASM_BYTES);
}

impl Harness {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut SimConfig)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        lay_out_files(dir.path());
        let mut config = SimConfig::for_tests(dir.path());
        adjust(&mut config);
        let sim = Simulator::start(config).await.unwrap();
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .build()
            .unwrap();
        Self { sim, http, dir }
    }

    pub fn region(&self, name: &str) -> String {
        self.sim.region_url(name).unwrap()
    }

    pub fn admin(&self, path: &str) -> String {
        let base = self
            .sim
            .admin_url()
            .expect("tests run with the admin API on");
        format!("{base}{path}")
    }

    pub fn static_url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.static_url())
    }

    pub async fn post_command(&self, region: &str, command: &Command) -> reqwest::Response {
        self.http
            .post(format!("{}/commands", self.region(region)))
            .header("Idempotency-Key", &command.id)
            .json(command)
            .send()
            .await
            .unwrap()
    }

    /// POSTs `body` to `path` of `region` on a task of its own, so requests can overlap.
    pub fn spawn_post(
        &self,
        region: &str,
        path: &str,
        key: Option<&str>,
        body: Value,
    ) -> tokio::task::JoinHandle<reqwest::Response> {
        let mut request = self
            .http
            .post(format!("{}{path}", self.region(region)))
            .json(&body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        tokio::spawn(async move { request.send().await.unwrap() })
    }

    /// `POST <url>` with a JSON batch body, and its 200 answer read as a `BatchResponse`.
    pub async fn batch(&self, url: &str, body: &impl serde::Serialize) -> BatchResponse {
        self.http
            .post(url)
            .json(body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// `GET /commands` of one region: the `commands` array.
    pub async fn stored(&self, region: &str) -> Vec<Value> {
        let body: Value = self
            .http
            .get(format!("{}/commands", self.region(region)))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["commands"].as_array().unwrap().clone()
    }

    pub async fn admin_post(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(self.admin(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn set_faults(&self, region: &str, faults: Value) {
        let response = self
            .admin_post(&format!("/admin/regions/{region}/faults"), faults)
            .await;
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    }

    pub async fn replication(&self) -> Value {
        self.http
            .get(self.admin("/admin/replication"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Polls `GET /admin/replication` until `converged`, for at most `within`.
    pub async fn wait_converged(&self, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let status = self.replication().await;
            if status["converged"] == json!(true) {
                return status;
            }
            assert!(Instant::now() < deadline, "not converged: {status:#}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn stop(self) {
        self.sim.stop().await;
    }
}

/// A unique id shaped like a UUID.
pub fn new_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    // The counter leads, so ids sort in creation order within a test process.
    format!("{n:08x}-0000-7000-8000-{:012x}", nanos & 0xffff_ffff_ffff)
}

pub fn command(stream: &str, seq: u64, payload: Value) -> Command {
    Command {
        id: new_id(),
        client_id: "client-1".into(),
        seq,
        stream: stream.into(),
        kind: "task.add".into(),
        app: "tasks".into(),
        payload,
        created_at: 1_700_000_000_000 + seq as i64,
    }
}

/// Sends raw bytes on a stream and reads one HTTP/1.1 response (headers plus a
/// `Content-Length` body). `None` if the connection was closed or reset before an answer.
pub async fn raw_exchange(stream: &mut TcpStream, request: &str) -> Option<String> {
    let exchange = async {
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut buffer = Vec::new();
        let mut chunk = [0u8; 4096];
        for _ in 0..1000 {
            let n = stream.read(&mut chunk).await.ok()?;
            if n == 0 {
                break;
            }
            buffer.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buffer).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if buffer.len() >= end + 4 + length {
                    return Some(text);
                }
            }
        }
        (!buffer.is_empty()).then(|| String::from_utf8_lossy(&buffer).to_string())
    };
    tokio::time::timeout(TIMEOUT, exchange).await.ok().flatten()
}
