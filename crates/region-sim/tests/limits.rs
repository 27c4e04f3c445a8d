//! Server limits over real HTTP on loopback: per-client rate limit (429 + Retry-After), JSON
//! nesting, header limits, the batch stream rule (424), and the admin API being off unless
//! enabled.

mod common;

use std::time::Duration;

use common::{command, raw_exchange, Harness};
use mfe_contract::ErrorBody;
use region_sim::{RateLimit, SimConfig, Simulator};
use serde_json::json;
use tokio::net::TcpStream;

const US: &str = "us-east";

async fn error_of(response: reqwest::Response) -> (u16, ErrorBody) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn strict(config: &mut SimConfig) {
    config.rate_limit = RateLimit {
        per_second: 1.0,
        burst: 3,
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_over_its_burst_gets_429_with_retry_after_and_others_are_unaffected() {
    let h = Harness::start_with(strict).await;
    let mut noisy = (1..=4).map(|seq| command("tasks", seq, json!({})));
    for _ in 0..3 {
        let response = h.post_command(US, &noisy.next().unwrap()).await;
        assert_eq!(response.status(), 201);
    }
    let refused = h.post_command(US, &noisy.next().unwrap()).await;
    assert_eq!(refused.headers()["retry-after"], "1");
    let (status, body) = error_of(refused).await;
    assert_eq!((status, body.error.as_str()), (429, "rate_limited"));
    assert!(body.message.contains("client-1"), "{}", body.message);

    // Batches are charged to the same client.
    let batch = json!({"commands": [command("tasks", 9, json!({}))]});
    let response = h
        .http
        .post(format!("{}/commands:batch", h.region(US)))
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);

    // Another client, same address: its own bucket.
    let mut other = command("tasks", 1, json!({}));
    other.client_id = "client-2".into();
    assert_eq!(h.post_command(US, &other).await.status(), 201);
    // Another region: its own buckets.
    let elsewhere = command("tasks", 5, json!({}));
    assert_eq!(h.post_command("eu-west", &elsewhere).await.status(), 201);

    // The bucket refills at the configured rate.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(
        h.post_command(US, &command("tasks", 6, json!({})))
            .await
            .status(),
        201
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_a_client_id_are_limited_by_address() {
    let h = Harness::start_with(strict).await;
    let url = format!("{}/commands", h.region(US));
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let response = h
            .http
            .post(&url)
            .header("Content-Type", "application/json")
            .body("{ not json")
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [400, 400, 400, 429]);
    // A client that names itself is not held back by anonymous traffic from its address.
    assert_eq!(
        h.post_command(US, &command("tasks", 1, json!({})))
            .await
            .status(),
        201
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deeply_nested_bodies_are_refused_with_a_reason() {
    let h = Harness::start().await;
    let nest = |depth: usize| {
        let mut value = json!(1);
        for _ in 0..depth {
            value = json!([value]);
        }
        value
    };
    // Command object (1) + payload levels: 31 nested arrays fit, 32 do not.
    let fits = command("tasks", 1, nest(31));
    assert_eq!(h.post_command(US, &fits).await.status(), 201);
    let too_deep = command("tasks", 2, nest(32));
    let (status, body) = error_of(h.post_command(US, &too_deep).await).await;
    assert_eq!((status, body.error.as_str()), (400, "too_deep"));
    assert!(body.message.contains("32 levels"), "{}", body.message);

    // Far deeper than any parser recursion limit, and within the size limit.
    let abyss = "[".repeat(60_000);
    let response = h
        .http
        .post(format!("{}/commands", h.region(US)))
        .header("Idempotency-Key", &too_deep.id)
        .header("Content-Type", "application/json")
        .body(abyss.clone())
        .send()
        .await
        .unwrap();
    let (status, body) = error_of(response).await;
    assert_eq!((status, body.error.as_str()), (400, "too_deep"));

    let batch_url = format!("{}/commands:batch", h.region(US));
    let response = h
        .http
        .post(&batch_url)
        .body(format!(r#"{{"commands":{abyss}"#))
        .send()
        .await
        .unwrap();
    let (status, body) = error_of(response).await;
    assert_eq!((status, body.error.as_str()), (400, "too_deep"));
    // In a batch, each command gets the same depth as alone.
    let batch = json!({"commands": [command("deep", 1, nest(31))]});
    let answer = h.batch(&batch_url, &batch).await;
    assert_eq!(answer.results[0].status, 201);

    assert_eq!(
        h.http
            .get(format!("{}/health", h.region(US)))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_too_many_headers_are_refused() {
    let h = Harness::start().await;
    let cmd = command("tasks", 1, json!({}));
    let response = h
        .http
        .post(format!("{}/commands", h.region(US)))
        .header("Idempotency-Key", "k".repeat(8 * 1024))
        .json(&cmd)
        .send()
        .await
        .unwrap();
    let (status, body) = error_of(response).await;
    assert_eq!(
        (status, body.error.as_str()),
        (400, "invalid_idempotency_key")
    );

    let addr = h.sim.region_addr(US).unwrap();
    let many: String = (0..150).map(|i| format!("X-Filler-{i}: {i}\r\n")).collect();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET /health HTTP/1.1\r\nHost: x\r\n{many}Connection: close\r\n\r\n");
    let answer = raw_exchange(&mut stream, &request)
        .await
        .unwrap_or_default();
    assert!(
        answer.starts_with("HTTP/1.1 431"),
        "too many headers: {answer}"
    );

    // A head over 64 KiB: 431, or the connection is reset before the client reads it (the
    // server closes with part of the head unread). Never an answer from a handler.
    let huge = "v".repeat(100 * 1024);
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET /health HTTP/1.1\r\nHost: x\r\nX-Huge: {huge}\r\n\r\n");
    let answer = raw_exchange(&mut stream, &request)
        .await
        .unwrap_or_default();
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "huge head: {}",
        &answer[..answer.len().min(200)]
    );

    let health = h
        .http
        .get(format!("{}/health", h.region(US)))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_item_stops_the_rest_of_its_stream_in_a_batch_only() {
    let h = Harness::start().await;
    let url = format!("{}/commands:batch", h.region(US));
    let taken = command("a", 1, json!({"v": 1}));
    assert_eq!(h.post_command(US, &taken).await.status(), 201);
    let mut clash = taken.clone();
    clash.payload = json!({"v": "different"});
    let a2 = command("a", 2, json!({}));
    let a3 = command("a", 3, json!({}));
    let b1 = command("b", 1, json!({}));
    let b2 = command("b", 2, json!({}));
    let bad_b = json!({"id": "no-such-command", "stream": "c"});
    let c2 = command("c", 2, json!({}));

    let body = json!({"commands": [b1, clash, a2, b2, a3, bad_b, c2]});
    let answer = h.batch(&url, &body).await;
    let statuses: Vec<u16> = answer.results.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [201, 422, 424, 201, 424, 400, 424]);
    for blocked in [&answer.results[2], &answer.results[4]] {
        let error = blocked.error.as_ref().unwrap();
        assert_eq!(error.error, "failed_dependency");
        assert!(error.message.contains(&taken.id), "{}", error.message);
    }
    let error = answer.results[6].error.as_ref().unwrap();
    assert!(
        error.message.contains("no-such-command"),
        "{}",
        error.message
    );

    let stored: Vec<String> = h
        .stored(US)
        .await
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        stored,
        [taken.id.clone(), b1.id.clone(), b2.id.clone()],
        "blocked items were not run"
    );

    // Once the cause is dealt with, the blocked commands go through.
    let again = json!({"commands": [a2, a3]});
    let answer = h.batch(&url, &again).await;
    assert!(answer.results.iter().all(|r| r.status == 201));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_is_off_unless_enabled() {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut config = SimConfig::for_tests(dir.path());
    config.admin = false;
    config.admin_port = port;
    let sim = Simulator::start(config).await.unwrap();
    assert_eq!(sim.admin_url(), None);
    assert_eq!(sim.admin_addr(), None);
    assert!(sim
        .banner()
        .iter()
        .any(|line| line.contains("admin") && line.contains("off")));
    let connect = tokio::time::timeout(
        Duration::from_secs(5),
        TcpStream::connect(("127.0.0.1", port)),
    )
    .await
    .unwrap();
    assert!(connect.is_err(), "nothing listens on the admin port");
    // Regions do not serve admin routes either.
    let http = reqwest::Client::builder()
        .timeout(common::TIMEOUT)
        .build()
        .unwrap();
    let region = sim.region_url(US).unwrap();
    let response = http
        .post(format!("{region}/admin/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    sim.stop().await;

    // A public admin address is refused even while the admin API is off.
    let mut config = SimConfig::for_tests(dir.path());
    config.admin = false;
    config.admin_host = "0.0.0.0".parse().unwrap();
    let err = Simulator::start(config).await.err().unwrap();
    assert!(err.to_string().contains("loopback"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_gets_a_413_the_client_can_read() {
    let h = Harness::start().await;
    // Over the limit but within what is drained: the client finishes sending, reads the 413,
    // and its connection stays usable for the next command.
    for _ in 0..3 {
        let big = command("tasks", 1, json!({"blob": "x".repeat(600 * 1024)}));
        let response = h.post_command(US, &big).await;
        assert!(response.headers().get("connection").is_none());
        let (status, body) = error_of(response).await;
        assert_eq!((status, body.error.as_str()), (413, "payload_too_large"));
        let small = command("tasks", 2, json!({}));
        assert_eq!(h.post_command(US, &small).await.status(), 201);
    }
    // Without a Content-Length the size is counted while reading.
    let chunk = format!("2000\r\n{}\r\n", " ".repeat(0x2000));
    let request = format!(
        "POST /commands HTTP/1.1\r\nHost: x\r\nIdempotency-Key: k\r\n\
         Transfer-Encoding: chunked\r\n\r\n{}0\r\n\r\n",
        chunk.repeat(25)
    );
    let mut stream = TcpStream::connect(h.sim.region_addr(US).unwrap())
        .await
        .unwrap();
    let answer = raw_exchange(&mut stream, &request)
        .await
        .unwrap_or_default();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // Announced far beyond the limit: answered at once, and the connection is closed.
    let mut stream = TcpStream::connect(h.sim.region_addr(US).unwrap())
        .await
        .unwrap();
    let request = "POST /commands HTTP/1.1\r\nHost: x\r\nIdempotency-Key: k\r\n\
                   Content-Length: 50000000\r\n\r\n";
    let answer = raw_exchange(&mut stream, request).await.unwrap_or_default();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.to_lowercase().contains("connection: close"),
        "{answer}"
    );
    h.stop().await;
}
