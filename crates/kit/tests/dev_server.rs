//! `mfe dev` end to end on a plain-JS app (no compiler needed): the page, the mock host, the
//! staged files at their published URLs with matching integrity, and a rebuild on change.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mfe_manifest::{sri, SriAlgorithm};

struct Dev {
    child: Child,
    base: String,
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `mfe dev` on port 0 and reads the address it prints (within 20 s).
fn start(app: &std::path::Path) -> Dev {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mfe"))
        .args(["dev", "--port", "0", "--exit-after", "60"])
        .arg(app)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("mfe starts");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("-> serving ") {
                let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_string());
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("mfe dev prints where it serves");
    Dev {
        child,
        base: base.trim_end_matches('/').to_string(),
    }
}

async fn get(url: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(url)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

async fn status(base: &str) -> serde_json::Value {
    get(&format!("{base}/__dev/status"))
        .await
        .json()
        .await
        .unwrap()
}

/// Polls the status (at most 15 s) until build `n` is done.
async fn wait_for_build(base: &str, n: u64) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let s = status(base).await;
        if s["build"].as_u64() >= Some(n) || Instant::now() > deadline {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn copy_of_notes() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let notes = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../mfe/js/notes");
    for file in ["package.json", "notes.js"] {
        std::fs::copy(notes.join(file), dir.path().join(file)).unwrap();
    }
    dir
}

#[tokio::test]
async fn serves_the_page_the_mock_host_and_the_app_as_published() {
    let app = copy_of_notes();
    let dev = start(app.path());

    let page = get(&format!("{}/", dev.base)).await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("import { MockHost } from '/mock-host.js'"));
    let mock = get(&format!("{}/mock-host.js", dev.base)).await;
    assert_eq!(
        mock.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert!(mock.text().await.unwrap().contains("export class MockHost"));

    let descriptor = get(&format!("{}/mfe.json", dev.base)).await;
    assert_eq!(descriptor.headers()["access-control-allow-origin"], "*");
    assert_eq!(descriptor.headers()["cache-control"], "no-store");
    let d: serde_json::Value = descriptor.json().await.unwrap();
    assert_eq!(d["name"], "notes");
    let entry = d["entry"].as_str().unwrap();
    assert!(entry.starts_with("/apps/notes/1.0.0/"), "{entry}");
    let bytes = get(&format!("{}{entry}", dev.base))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(d["integrity"]["entry"], sri(SriAlgorithm::Sha384, &bytes));

    let missing = get(&format!("{}/apps/notes/9.9.9/x.js", dev.base)).await;
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn a_change_makes_a_new_build_and_a_broken_one_is_reported() {
    let app = copy_of_notes();
    let dev = start(app.path());
    let first = status(&dev.base).await;
    assert_eq!(first["build"], 1);
    assert_eq!(first["ok"], true);

    std::fs::write(
        app.path().join("notes.js"),
        "export const changed = true;\n",
    )
    .unwrap();
    let second = wait_for_build(&dev.base, 2).await;
    assert_eq!(second["build"], 2, "{second}");
    assert_eq!(second["ok"], true);

    // A package.json that no longer parses: reported, and the last good build kept.
    std::fs::write(app.path().join("package.json"), "{ not json").unwrap();
    let third = wait_for_build(&dev.base, 3).await;
    assert_eq!(third["build"], 3, "{third}");
    assert!(
        third["error"].as_str().unwrap().contains("package.json"),
        "{third}"
    );
    assert_eq!(third["ok"], true, "the last good build is still served");
}
