//! Sends one piece of outbox work to one region: `POST /commands` for a single command,
//! `POST /commands:batch` for several, each command with its id as the idempotency key. Reads
//! the answer into the outbox core's [`Outcome`]s; it decides nothing itself.

use std::time::Duration;

use gloo_net::http::{Request, RequestBuilder, Response};
use mfe_contract::{
    BatchRequest, BatchResponse, Command, CommandAck, ErrorBody, IDEMPOTENCY_KEY_HEADER,
};
use mfe_outbox::{Outcome, Work};

use crate::fetch::{says_switched_off, send_with_timeout, FetchFailure};

/// How long one delivery request may take before it counts as failed.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(8);

/// How a request ended, and whether the region said it is switched off.
pub struct Reply {
    pub answer: Answer,
    /// The answer carried `Region-Health: unhealthy` (its kill switch is on). The answer
    /// still counts: a switched-off region keeps executing what reaches it.
    pub switched_off: bool,
}

impl Reply {
    fn failed(outcome: Outcome) -> Self {
        Self {
            answer: Answer::Whole(outcome),
            switched_off: false,
        }
    }
}

/// How a request ended.
pub enum Answer {
    /// One outcome for the whole request (network failure, timeout, or a whole-request status).
    Whole(Outcome),
    /// A batch answer: one outcome per command.
    Items(Vec<(String, Outcome)>),
}

fn reason(text: &str) -> String {
    serde_json::from_str::<ErrorBody>(text)
        .map(|b| b.message)
        .unwrap_or_else(|_| text.chars().take(300).collect())
}

/// The answer's headers came but its body did not (the deadline aborted it, or the connection
/// broke): whether the region executed the command is unknown, as after a timeout.
fn unread(error: gloo_net::Error) -> Outcome {
    Outcome::Network(format!("the answer's body did not arrive: {error}"))
}

fn from_failure(failure: FetchFailure) -> Outcome {
    match failure {
        FetchFailure::Timeout => Outcome::Timeout,
        other => Outcome::Network(other.to_string()),
    }
}

/// The URL `send` posts `work` to: `/commands` for one command, `/commands:batch` for several.
pub fn endpoint(work: &Work, base_url: &str) -> String {
    if work.is_single() {
        format!("{base_url}/commands")
    } else {
        format!("{base_url}/commands:batch")
    }
}

/// Sends `work` to the region at `base_url`.
pub async fn send(work: &Work, base_url: &str) -> Reply {
    let built = if work.is_single() {
        one_request(work, base_url)
    } else {
        batch_request(work, base_url)
    };
    let (request, body) = match built {
        Ok(built) => built,
        Err(e) => return Reply::failed(Outcome::http(400).with_reason(e.to_string())),
    };
    let response = match send_with_timeout(request, Some(body), SEND_TIMEOUT).await {
        Ok(response) => response,
        Err(failure) => return Reply::failed(from_failure(failure)),
    };
    let switched_off = says_switched_off(&response);
    let answer = if work.is_single() {
        read_one(response, &work.commands[0]).await
    } else {
        read_batch(response).await
    };
    Reply {
        answer,
        switched_off,
    }
}

/// `POST /commands` for the one command of `work`, with its id as the idempotency key.
///
/// The two command requests keep the default cache mode on purpose. Their headers make the
/// browser ask the region first (a CORS preflight), and the region lets it keep that answer for
/// ten minutes. But Chromium skips its cache of preflights for a `no-store` or `no-cache`
/// request, so every command cost two round trips. Nothing else the regions see changes but
/// the `Cache-Control`/`Pragma: no-cache` headers the browser adds to a `no-store` request: no
/// browser serves a `POST`'s answer from its HTTP cache.
fn one_request(work: &Work, base_url: &str) -> serde_json::Result<(RequestBuilder, String)> {
    let command = &work.commands[0];
    let body = serde_json::to_string(command)?;
    let request = Request::post(&endpoint(work, base_url))
        .header("Content-Type", "application/json")
        .header(IDEMPOTENCY_KEY_HEADER, &command.id);
    Ok((request, body))
}

/// `POST /commands:batch` for every command of `work`, in order.
fn batch_request(work: &Work, base_url: &str) -> serde_json::Result<(RequestBuilder, String)> {
    let batch = BatchRequest {
        commands: work.commands.clone(),
    };
    let body = serde_json::to_string(&batch)?;
    let request =
        Request::post(&endpoint(work, base_url)).header("Content-Type", "application/json");
    Ok((request, body))
}

async fn read_one(response: Response, command: &Command) -> Answer {
    let status = response.status();
    let retry_after = response.headers().get("Retry-After");
    let text = match response.text().await {
        Ok(text) => text,
        Err(e) => return Answer::Whole(unread(e)),
    };
    let mut outcome = Outcome::http(status);
    if (200..300).contains(&status) {
        // Only a real acknowledgement of this very command counts (a proxy or captive portal
        // answering 200 must not mark it delivered).
        match serde_json::from_str::<CommandAck>(&text) {
            Ok(ack) if ack.id == command.id => {}
            _ => {
                return Answer::Whole(Outcome::Network(format!(
                    "HTTP {status} without an acknowledgement of {}",
                    command.id
                )))
            }
        }
    } else {
        outcome = outcome.with_reason(reason(&text));
    }
    if let Some(value) = retry_after {
        outcome = outcome.with_retry_after(value);
    }
    Answer::Whole(outcome)
}

async fn read_batch(response: Response) -> Answer {
    let status = response.status();
    let retry_after = response.headers().get("Retry-After");
    let text = match response.text().await {
        Ok(text) => text,
        Err(e) => return Answer::Whole(unread(e)),
    };
    if status != 200 {
        let mut outcome = Outcome::http(status).with_reason(reason(&text));
        if let Some(value) = retry_after {
            outcome = outcome.with_retry_after(value);
        }
        return Answer::Whole(outcome);
    }
    match serde_json::from_str::<BatchResponse>(&text) {
        Ok(answer) => Answer::Items(
            answer
                .results
                .iter()
                .map(|item| (item.id.clone(), Outcome::from_batch_item(item)))
                .collect(),
        ),
        Err(e) => Answer::Whole(Outcome::Network(format!("malformed batch answer: {e}"))),
    }
}
