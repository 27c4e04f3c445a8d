//! Fault injection and replication through the admin API, over real HTTP and TCP.

mod common;

use std::time::{Duration, Instant};

use common::{command, raw_exchange, Harness};
use mfe_contract::{HealthReport, HealthStatus};
use serde_json::{json, Value};
use tokio::net::TcpStream;

const US: &str = "us-east";
const EU: &str = "eu-west";
const AP: &str = "ap-south";

async fn health(h: &Harness, region: &str) -> reqwest::Response {
    h.http
        .get(format!("{}/health", h.region(region)))
        .send()
        .await
        .unwrap()
}

fn health_request() -> &'static str {
    "GET /health HTTP/1.1\r\nHost: region\r\n\r\n"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_refuses_new_connections_and_closes_open_ones_then_up_serves_again() {
    let h = Harness::start().await;
    let addr = h.sim.region_addr(US).unwrap();
    let mut kept_alive = TcpStream::connect(addr).await.unwrap();
    for _ in 0..2 {
        let answer = raw_exchange(&mut kept_alive, health_request())
            .await
            .unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "kept alive: {answer}");
    }

    let response = h
        .admin_post(&format!("/admin/regions/{US}/down"), json!({}))
        .await;
    assert_eq!(response.status(), 200);
    let state: Value = response.json().await.unwrap();
    assert_eq!(state["up"], json!(false));

    let refused = tokio::time::timeout(common::TIMEOUT, TcpStream::connect(addr))
        .await
        .unwrap();
    assert_eq!(
        refused.unwrap_err().kind(),
        std::io::ErrorKind::ConnectionRefused
    );
    assert_eq!(
        raw_exchange(&mut kept_alive, health_request()).await,
        None,
        "keep-alive connection must be closed"
    );
    let err = h
        .http
        .get(format!("{}/health", h.region(US)))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    assert_eq!(
        health(&h, EU).await.status(),
        200,
        "other regions keep serving"
    );

    let response = h
        .admin_post(&format!("/admin/regions/{US}/up"), json!({}))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(h.sim.region_addr(US).unwrap(), addr);
    assert_eq!(health(&h, US).await.status(), 200);
    let regions: Value = h
        .http
        .get(h.admin("/admin/regions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(regions["regions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["up"] == json!(true)));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn black_hole_accepts_and_never_answers_until_cleared() {
    let h = Harness::start().await;
    h.set_faults(US, json!({"blackhole": true})).await;
    let cmd = command("tasks", 1, json!({}));
    let started = Instant::now();
    let err = h
        .http
        .post(format!("{}/commands", h.region(US)))
        .header("Idempotency-Key", &cmd.id)
        .json(&cmd)
        .timeout(Duration::from_millis(400))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() >= Duration::from_millis(400));
    let err = h
        .http
        .get(format!("{}/health", h.region(US)))
        .timeout(Duration::from_millis(300))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");

    // A held request on a raw connection ends without an answer when the fault is cleared.
    let mut held = TcpStream::connect(h.sim.region_addr(US).unwrap())
        .await
        .unwrap();
    let waiting = tokio::spawn(async move { raw_exchange(&mut held, health_request()).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    h.set_faults(US, json!({})).await;
    assert_eq!(waiting.await.unwrap(), None);

    assert_eq!(health(&h, US).await.status(), 200);
    assert!(
        h.stored(US).await.is_empty(),
        "a black-holed command is never executed"
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_is_added_before_answering() {
    let h = Harness::start().await;
    h.set_faults(EU, json!({"latency_ms": 300})).await;
    let started = Instant::now();
    assert_eq!(health(&h, EU).await.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = Instant::now();
    assert_eq!(
        h.post_command(EU, &command("tasks", 1, json!({})))
            .await
            .status(),
        201
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_rate_answers_before_touching_the_store() {
    let h = Harness::start().await;
    h.set_faults(
        US,
        json!({"error_rate": 1.0, "error_status": 503, "retry_after_s": 7}),
    )
    .await;
    let cmd = command("tasks", 1, json!({}));
    let response = h.post_command(US, &cmd).await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "7");
    let body: mfe_contract::ErrorBody = response.json().await.unwrap();
    assert_eq!(body.error, "injected_fault");
    assert_eq!(health(&h, US).await.status(), 503);

    h.set_faults(US, json!({"error_rate": 1.0, "error_status": 500}))
        .await;
    let response = h.post_command(US, &cmd).await;
    assert_eq!(response.status(), 500);
    assert!(response.headers().get("retry-after").is_none());

    h.set_faults(US, json!({"error_rate": 0.5})).await;
    let mut failures = 0;
    for _ in 0..40 {
        if health(&h, US).await.status() == 503 {
            failures += 1;
        }
    }
    assert!(
        (4..=36).contains(&failures),
        "{failures} of 40 failed at rate 0.5"
    );

    h.set_faults(US, json!({})).await;
    assert!(h.stored(US).await.is_empty());
    assert_eq!(h.post_command(US, &cmd).await.status(), 201);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_after_commit_stores_but_never_answers() {
    let h = Harness::start().await;
    h.set_faults(US, json!({"drop_after_commit": true})).await;
    let cmd = command("tasks", 1, json!({"title": "ambiguous"}));
    let err = h
        .http
        .post(format!("{}/commands", h.region(US)))
        .header("Idempotency-Key", &cmd.id)
        .json(&cmd)
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_timeout(), "the connection closes at once: {err:?}");
    assert!(err.is_request() || err.is_connect(), "{err:?}");
    let stored = h.stored(US).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["id"], json!(cmd.id));

    h.set_faults(US, json!({})).await;
    let again = h.post_command(US, &cmd).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(h.stored(US).await.len(), 1);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_switch_fails_health_only() {
    let h = Harness::start().await;
    h.set_faults(EU, json!({"kill_switch": true})).await;
    let response = health(&h, EU).await;
    assert_eq!(response.status(), 503);
    let report: HealthReport = response.json().await.unwrap();
    assert_eq!(report.status, HealthStatus::Unhealthy);
    assert!(report.store_ok);
    let accepted = h.post_command(EU, &command("tasks", 1, json!({}))).await;
    assert_eq!(accepted.status(), 201);
    // The answer itself says the region is switched off, so a client need not wait for a probe.
    assert_eq!(accepted.headers()["region-health"], "unhealthy");
    assert_eq!(h.stored(EU).await.len(), 1);
    assert_eq!(health(&h, US).await.status(), 200);
    let other = h.post_command(US, &command("tasks", 2, json!({}))).await;
    assert_eq!(other.status(), 201);
    assert!(other.headers().get("region-health").is_none());
    // Switched back on: answers stop saying so.
    h.set_faults(EU, json!({})).await;
    let again = h.post_command(EU, &command("tasks", 3, json!({}))).await;
    assert_eq!(again.status(), 201);
    assert!(again.headers().get("region-health").is_none());
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_validates_and_reset_restores_everything() {
    let h = Harness::start().await;
    let response = h.admin_post("/admin/regions/mars/down", json!({})).await;
    assert_eq!(response.status(), 404);
    let response = h
        .admin_post(
            &format!("/admin/regions/{US}/faults"),
            json!({"error_rate": 2.0}),
        )
        .await;
    assert_eq!(response.status(), 400);
    let response = h
        .admin_post(
            &format!("/admin/regions/{US}/faults"),
            json!({"blakhole": true}),
        )
        .await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("blakhole"));

    h.set_faults(EU, json!({"kill_switch": true, "latency_ms": 50}))
        .await;
    h.admin_post(&format!("/admin/regions/{AP}/down"), json!({}))
        .await;
    assert_eq!(
        h.post_command(US, &command("tasks", 1, json!({})))
            .await
            .status(),
        201
    );
    h.admin_post("/admin/replication", json!({"partitioned": [[US, EU]]}))
        .await;

    let response = h.admin_post("/admin/reset", json!({})).await;
    assert_eq!(response.status(), 200);
    let state: Value = response.json().await.unwrap();
    for region in state["regions"].as_array().unwrap() {
        assert_eq!(region["up"], json!(true));
        assert_eq!(region["faults"]["kill_switch"], json!(false));
        assert_eq!(region["faults"]["latency_ms"], json!(0));
    }
    for region in [US, EU, AP] {
        assert_eq!(health(&h, region).await.status(), 200);
        assert!(h.stored(region).await.is_empty());
    }
    let status = h.replication().await;
    assert_eq!(status["partitioned"], json!([]));
    assert_eq!(status["converged"], json!(true));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_refuses_a_public_address() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = region_sim::SimConfig::for_tests(dir.path());
    config.admin_host = "0.0.0.0".parse().unwrap();
    let err = region_sim::Simulator::start(config).await.err().unwrap();
    assert!(err.to_string().contains("loopback"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replication_copies_every_command_everywhere_once() {
    let h = Harness::start().await;
    let from_us = command("tasks", 1, json!({"n": 1}));
    let from_eu = command("tasks", 2, json!({"n": 2}));
    assert_eq!(h.post_command(US, &from_us).await.status(), 201);
    assert_eq!(h.post_command(EU, &from_eu).await.status(), 201);

    // Ambiguous failure then failover: the same command accepted by two regions.
    let twice = command("tasks", 3, json!({"n": 3}));
    h.set_faults(US, json!({"drop_after_commit": true})).await;
    assert!(h
        .http
        .post(format!("{}/commands", h.region(US)))
        .header("Idempotency-Key", &twice.id)
        .json(&twice)
        .send()
        .await
        .is_err());
    h.set_faults(US, json!({})).await;
    let ack: mfe_contract::CommandAck = {
        let response = h.post_command(AP, &twice).await;
        assert!(response.status() == 201);
        response.json().await.unwrap()
    };

    let status = h.wait_converged(Duration::from_secs(5)).await;
    for region in status["regions"].as_array().unwrap() {
        assert_eq!(region["commands"], json!(3), "{status:#}");
        assert_eq!(region["pending_out"], json!(0));
    }
    let first_accept = h
        .stored(US)
        .await
        .into_iter()
        .find(|c| c["id"] == json!(twice.id))
        .unwrap();
    assert!(first_accept["accepted_at"].as_i64().unwrap() <= ack.accepted_at);
    for region in [US, EU, AP] {
        let stored = h.stored(region).await;
        let ids: Vec<&str> = stored.iter().map(|c| c["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), 3, "{region}: {stored:#?}");
        for id in [&from_us.id, &from_eu.id, &twice.id] {
            assert_eq!(
                ids.iter().filter(|i| *i == id).count(),
                1,
                "{region} has {id} once"
            );
        }
        let merged = stored.iter().find(|c| c["id"] == json!(twice.id)).unwrap();
        assert_eq!(
            merged["region"],
            json!(US),
            "earliest acceptance wins in {region}"
        );
        assert_eq!(merged["accepted_at"], first_accept["accepted_at"]);
        let origin = stored
            .iter()
            .find(|c| c["id"] == json!(from_eu.id))
            .unwrap();
        assert_eq!(origin["region"], json!(EU));
        assert_eq!(origin["replicated"], json!(region != EU));
    }

    // A retry that lands where the command only arrived by replication takes no new effect.
    let retry = h.post_command(EU, &from_us).await;
    assert_eq!(retry.status(), 201);
    let retry_ack: mfe_contract::CommandAck = retry.json().await.unwrap();
    assert_eq!(retry_ack.region, US);
    assert_eq!(h.stored(EU).await.len(), 3);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitions_and_lag_hold_copies_back_until_healed() {
    let h = Harness::start().await;
    let response = h
        .admin_post(
            "/admin/replication",
            json!({"lag_ms": 0, "partitioned": [[US, EU]]}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let cmd = command("tasks", 1, json!({}));
    assert_eq!(h.post_command(US, &cmd).await.status(), 201);

    // ap-south gets the copy, eu-west does not.
    let deadline = Instant::now() + Duration::from_secs(5);
    while h.stored(AP).await.is_empty() {
        assert!(Instant::now() < deadline, "ap-south never got the copy");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(h.stored(EU).await.is_empty());
    let status = h.replication().await;
    assert_eq!(status["converged"], json!(false));
    let eu = status["regions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == json!(EU))
        .unwrap()
        .clone();
    assert_eq!(eu["pending_in"], json!(1));
    assert!(eu["lag_ms"].as_u64().unwrap() >= 150, "{eu}");
    let report: HealthReport = health(&h, EU).await.json().await.unwrap();
    assert!(report.replication_lag_ms >= 150, "{report:?}");
    assert_eq!(report.status, HealthStatus::Ok, "within the 10 s bound");

    let response = h
        .admin_post("/admin/replication", json!({"lag_ms": 0}))
        .await;
    assert_eq!(response.status(), 200);
    h.wait_converged(Duration::from_secs(5)).await;
    assert_eq!(h.stored(EU).await.len(), 1);
    let report: HealthReport = health(&h, EU).await.json().await.unwrap();
    assert_eq!(report.replication_lag_ms, 0);

    // Isolation cuts a region from everyone; a lag delays copies.
    h.admin_post(
        "/admin/replication",
        json!({"lag_ms": 300, "isolated": [AP]}),
    )
    .await;
    let late = command("tasks", 2, json!({}));
    let posted = Instant::now();
    assert_eq!(h.post_command(EU, &late).await.status(), 201);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(h.stored(US).await.len(), 1, "not before the lag");
    let deadline = Instant::now() + Duration::from_secs(5);
    while h.stored(US).await.len() < 2 {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(posted.elapsed() >= Duration::from_millis(300));
    assert_eq!(h.stored(AP).await.len(), 1, "isolated");
    h.admin_post("/admin/replication", json!({"lag_ms": 0}))
        .await;
    h.wait_converged(Duration::from_secs(5)).await;
    assert_eq!(h.stored(AP).await.len(), 2);

    let response = h
        .admin_post("/admin/replication", json!({"isolated": ["mars"]}))
        .await;
    assert_eq!(response.status(), 400);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_injected_4xx_rejects_command_writes_only() {
    let h = Harness::start().await;
    h.set_faults(US, json!({"error_rate": 1.0, "error_status": 422}))
        .await;
    let cmd = command("tasks", 1, json!({}));
    let response = h.post_command(US, &cmd).await;
    assert_eq!(response.status(), 422);
    let body: mfe_contract::ErrorBody = response.json().await.unwrap();
    assert_eq!(body.error, "injected_fault");
    // The region itself is fine: health and reads answer.
    assert_eq!(health(&h, US).await.status(), 200);
    h.set_faults(US, json!({})).await;
    assert_eq!(h.post_command(US, &cmd).await.status(), 201);
    h.stop().await;
}
