//! Store-and-forward: dispatch saves the command on the device, then the drainer sends every
//! pending command to the best region, failing over to the next one on a failed request.

use std::cell::Cell;
use std::time::Duration;

use gloo_net::http::Request;
use mfe_contract::{Command, CommandAck, CommandStatus, ErrorBody, IDEMPOTENCY_KEY_HEADER};

use crate::clock::now_ms;
use crate::fetch::{send_with_timeout, FetchFailure};
use crate::outbox_store::{self, StoredCommand};
use crate::regions::{self, RegionView};
use crate::state::{OutboxCounts, ShellState};

const SEND_TIMEOUT: Duration = Duration::from_secs(5);

thread_local! {
    static DRAINING: Cell<bool> = const { Cell::new(false) };
    static AGAIN: Cell<bool> = const { Cell::new(false) };
}

/// Outcome of one attempt at one region.
enum Attempt {
    Delivered(CommandAck),
    /// The region could not take it now (network, timeout, 5xx, 409, 429): try elsewhere/later.
    Retry(String),
    /// The region refused it for good (other 4xx): it will not succeed as it is.
    Rejected(String),
}

async fn send(command: &Command, region: &RegionView) -> Attempt {
    let body = match serde_json::to_string(command) {
        Ok(body) => body,
        Err(e) => return Attempt::Rejected(format!("cannot encode: {e}")),
    };
    let request = Request::post(&format!("{}/commands", region.url))
        .header("Content-Type", "application/json")
        .header(IDEMPOTENCY_KEY_HEADER, &command.id);
    let response = match send_with_timeout(request, Some(body), SEND_TIMEOUT).await {
        Ok(response) => response,
        Err(FetchFailure::Invalid(why)) => return Attempt::Rejected(why),
        Err(failure) => return Attempt::Retry(failure.to_string()),
    };
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    match status {
        200..=299 => match serde_json::from_str::<CommandAck>(&text) {
            Ok(ack) if ack.id == command.id => Attempt::Delivered(ack),
            Ok(ack) => Attempt::Retry(format!("acknowledged a different command {}", ack.id)),
            Err(e) => Attempt::Retry(format!("malformed acknowledgement: {e}")),
        },
        408 | 409 | 425 | 429 | 500..=599 => Attempt::Retry(format!("HTTP {status}")),
        _ => {
            let reason = serde_json::from_str::<ErrorBody>(&text)
                .map(|b| b.message)
                .unwrap_or(text);
            Attempt::Rejected(format!("HTTP {status}: {reason}"))
        }
    }
}

/// Delivers one command, walking the regions best first. Returns the updated record.
async fn deliver(state: ShellState, mut record: StoredCommand) -> StoredCommand {
    let candidates = regions::candidates(&leptos::prelude::GetUntracked::get_untracked(
        &state.regions,
    ));
    record.attempts += 1;
    for region in candidates {
        match send(&record.command, &region).await {
            Attempt::Delivered(ack) => {
                regions::record_request(state, &region.name, true);
                record.status = CommandStatus::Delivered;
                record.region = Some(ack.region);
                record.delivered_at = Some(now_ms());
                record.last_error = None;
                return record;
            }
            Attempt::Retry(why) => {
                regions::record_request(state, &region.name, false);
                record.last_error = Some(format!("{}: {why}", region.name));
            }
            Attempt::Rejected(why) => {
                record.status = CommandStatus::Dead;
                record.last_error = Some(format!("{}: {why}", region.name));
                return record;
            }
        }
    }
    record
}

fn counts(commands: &[StoredCommand]) -> OutboxCounts {
    let mut counts = OutboxCounts::default();
    for c in commands {
        match c.status {
            CommandStatus::Pending | CommandStatus::Inflight => counts.pending += 1,
            CommandStatus::Delivered => counts.delivered += 1,
            CommandStatus::Dead => counts.failed += 1,
        }
    }
    counts
}

/// Re-reads the outbox and publishes its counts.
pub async fn refresh_counts(state: ShellState) {
    if let Ok(snapshot) = outbox_store::load_all().await {
        leptos::prelude::Set::set(&state.outbox, counts(&snapshot.commands));
    }
}

/// Sends every pending command in order; stops at the first one no region took, so order
/// within the outbox is kept. Concurrent calls coalesce into one more pass.
pub async fn drain(state: ShellState) {
    if DRAINING.with(|d| d.replace(true)) {
        AGAIN.with(|a| a.set(true));
        return;
    }
    for _pass in 0..100 {
        AGAIN.with(|a| a.set(false));
        drain_once(state).await;
        if !AGAIN.with(|a| a.get()) {
            break;
        }
    }
    DRAINING.with(|d| d.set(false));
}

async fn drain_once(state: ShellState) {
    let snapshot = match outbox_store::load_all().await {
        Ok(snapshot) => snapshot,
        Err(e) => {
            leptos::logging::warn!("outbox unreadable: {e}");
            return;
        }
    };
    let pending: Vec<StoredCommand> = snapshot
        .commands
        .iter()
        .filter(|c| matches!(c.status, CommandStatus::Pending | CommandStatus::Inflight))
        .cloned()
        .collect();
    for record in pending {
        let updated = deliver(state, record).await;
        let stuck = matches!(updated.status, CommandStatus::Pending);
        if let Err(e) = outbox_store::put_all(std::slice::from_ref(&updated)).await {
            leptos::logging::warn!("cannot record delivery: {e}");
            break;
        }
        if stuck {
            break;
        }
    }
    refresh_counts(state).await;
}
