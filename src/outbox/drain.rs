//! The drainer: under the origin-wide lock, hands the core's due work to the best region,
//! fails over to the next region at once on a failed request, records the outcome, and sleeps
//! until the core's next wake-up.

use std::time::Duration;

use futures::future::{select, Either, FutureExt, LocalBoxFuture};
use leptos::prelude::*;
use mfe_outbox::{Change, Completion, HedgeVerdict, Outbox, Outcome, Work};
use mfe_outbox_web::background::fails_over;
use mfe_outbox_web::rounds::{drain_rounds, record, DrainHost, Phase};
use mfe_router::{RequestOutcome, RequestTicket};

use super::transport::{self, Answer};
use super::{reload, store, tabs, view, with};
use crate::clock::now_ms;
use crate::routing;
use crate::state::ShellState;

/// When another tab holds the lock, look again after this long (it may be about to finish).
const LOCK_RETRY_MS: u32 = 1_000;
/// Longest sleep between sessions while something waits (the core may say "much later").
const MAX_SLEEP_MS: i64 = 60_000;
/// Most times one request asks whether it may be hedged (the budget's floor answers "later";
/// the send timeout ends the asking sooner).
const MAX_HEDGE_ASKS: usize = 1_000;

/// Asks for a drain soon. Calls while a drain runs coalesce into one more pass. Offline it does
/// nothing: the `online` event asks again, and reading the store for nothing would slow every
/// offline dispatch down.
pub fn request_drain(state: ShellState) {
    if !crate::connectivity::is_online() {
        return;
    }
    let start = with(|s| {
        if s.draining {
            s.again = true;
            false
        } else {
            s.draining = true;
            true
        }
    })
    .unwrap_or(false);
    if start {
        leptos::task::spawn_local(run(state));
    }
}

async fn run(state: ShellState) {
    loop {
        with(|s| s.again = false);
        let held = tabs::exclusive(tabs::DRAIN_LOCK, move || session(state)).await;
        if !held {
            // Another tab is delivering; check back in case it stops before seeing our work.
            schedule(state, now_ms() + LOCK_RETRY_MS as i64);
        }
        let again = with(|s| s.again).unwrap_or(false);
        if !again || !held {
            break;
        }
    }
    with(|s| s.draining = false);
}

/// Reads records other tabs stored since this drainer last looked, and adopts them.
/// `unwritten` are outcomes held only in memory so far (see [`DrainHost::before_round`]).
async fn adopt_new(
    state: ShellState,
    unwritten: &mut Vec<Change>,
) -> Result<(), store::StoreError> {
    if with(|s| s.dirty).unwrap_or(false) {
        // Statuses may have changed too (retry, discard in another tab): read everything, after
        // writing what only memory knows yet, or reading would take it back.
        store::apply(unwritten).await?;
        unwritten.clear();
        return reload(state, true).await;
    }
    let fresh =
        store::load_unknown(|id| with(|s| s.outbox.get(id).is_some()).unwrap_or(true)).await?;
    if !fresh.is_empty() {
        let now = now_ms();
        let changes: Vec<Change> = with(|s| {
            fresh
                .into_iter()
                .flat_map(|entry| s.outbox.adopt(entry, now))
                .collect()
        })
        .unwrap_or_default();
        store::apply(&changes).await?;
    }
    Ok(())
}

fn schedule(state: ShellState, at_ms: i64) {
    let delay = (at_ms - now_ms()).clamp(0, MAX_SLEEP_MS) as u32;
    let timer = gloo_timers::callback::Timeout::new(delay, move || request_drain(state));
    with(|s| s.timer = Some(timer));
}

/// The page as a drain host: the shell's outbox service, the router's regions with hedging,
/// the UI and the other tabs.
struct Page(ShellState);

impl DrainHost for Page {
    fn with_outbox<R>(&self, f: impl FnOnce(&mut Outbox) -> R) -> Option<R> {
        with(|s| f(&mut s.outbox))
    }

    fn online(&self) -> bool {
        crate::connectivity::is_online()
    }

    /// Another tab may have saved commands its notice has not announced yet: adopt every
    /// record this drainer does not know before deciding what to send, or a stream could be
    /// sent out of order.
    async fn before_round(&self, unwritten: &mut Vec<Change>) -> Result<(), store::StoreError> {
        adopt_new(self.0, unwritten).await
    }

    async fn deliver(&self, work: &Work) -> Vec<Change> {
        deliver(self.0, work).await
    }

    fn changed(&self, phase: Phase) {
        view::publish(self.0);
        if phase == Phase::Recorded {
            tabs::tell(tabs::Notice::Changed);
        }
    }
}

/// Whether memory can be trusted as the drain's starting point without reading every record:
/// this page is in step with the store and nobody else changed a record since (one read of the
/// store's `rev` counter instead of every record). Commands other tabs saved meanwhile are
/// adopted before each round either way.
async fn memory_is_current() -> bool {
    with(|s| s.matches_store && !s.dirty).unwrap_or(false)
        && store::unchanged_since_last_read().await.unwrap_or(false)
}

async fn session(state: ShellState) {
    if !memory_is_current().await {
        if let Err(e) = reload(state, true).await {
            state
                .outbox
                .update(|v| v.storage_error = Some(e.to_string()));
            return;
        }
    }
    let drained = drain_rounds(&Page(state)).await;
    // Every round's changes were written: memory and store agree, unless it stopped part-way
    // (or a write of this page's failed meanwhile, which already said so).
    with(|s| s.matches_store &= drained.is_ok());
    if let Err(e) = drained {
        leptos::logging::warn!("outbox drain stopped: {e}");
        return;
    }
    let now = now_ms();
    if let Some(Some(at)) = with(|s| s.outbox.next_wake(now)) {
        schedule(state, at);
    }
}

fn router_outcome(answer: &Answer) -> RequestOutcome {
    match answer {
        Answer::Whole(Outcome::Network(_)) => RequestOutcome::NetworkError,
        Answer::Whole(Outcome::Timeout) => RequestOutcome::Timeout,
        Answer::Whole(Outcome::Http { status, .. }) => RequestOutcome::Status(*status),
        Answer::Items(_) => RequestOutcome::Status(200),
    }
}

fn complete(work: &Work, region: &str, answer: &Answer) -> Completion {
    with(|s| record(&mut s.outbox, work, region, answer)).unwrap_or_default()
}

/// One request to one region, reported to the router when it ends.
async fn attempt(state: ShellState, work: Work, region: String, url: String) -> (String, Answer) {
    match routing::start_request(&region) {
        Some(ticket) => send_with(state, work, ticket, url).await,
        None => (
            region,
            Answer::Whole(Outcome::Network("breaker open".into())),
        ),
    }
}

/// One request under the router's leave (`ticket`) to the ticket's region.
async fn send_with(
    state: ShellState,
    work: Work,
    ticket: RequestTicket,
    url: String,
) -> (String, Answer) {
    let region = ticket.region().to_string();
    let timing = routing::network_time::start(&transport::endpoint(&work, &url));
    let reply = transport::send(&work, &url).await;
    // A request that failed because this device went offline says nothing about the region.
    let outcome = if crate::connectivity::is_online() {
        router_outcome(&reply.answer)
    } else {
        RequestOutcome::Cancelled
    };
    routing::finish_request(state, ticket, outcome, timing.network_ms());
    if reply.switched_off {
        routing::switched_off(state, &region);
    }
    (region, reply.answer)
}

/// Sends to `region`; if it has not answered within its hedge delay (its recent p95), sends
/// the same request, with the same idempotency key, to the next healthy region too. The first
/// usable answer wins; the other request runs on in the background so the router still learns
/// how it ended. Hedges spend the outbox's retry budget, so an outage cannot double the load;
/// once it is spent, its floor still lets one hedge out every so often, and a request refused
/// one asks again when the floor allows, until its own send timeout.
async fn send_hedged(
    state: ShellState,
    work: &Work,
    region: String,
    url: String,
) -> (String, Answer) {
    let mut primary = attempt(state, work.clone(), region.clone(), url).boxed_local();
    let mut wait = routing::hedge_delay(&region);
    // Bounded in turns; the primary's own send timeout ends the asking sooner (it wins the
    // select below).
    for _ in 0..MAX_HEDGE_ASKS {
        primary = match select(primary, Box::pin(gloo_timers::future::sleep(wait))).await {
            Either::Left((done, _)) => return done,
            Either::Right((_, primary)) => primary,
        };
        // The target's leave first: a spent allowance must never be a hedge that did not go out.
        let Some((ticket, url)) = routing::hedge_target(&region).and_then(|target| {
            let url = routing::url(&target)?;
            Some((routing::start_request(&target)?, url))
        }) else {
            break;
        };
        let now = now_ms();
        let verdict = with(|s| s.outbox.try_spend_hedge(now)).unwrap_or(HedgeVerdict::No);
        if verdict == HedgeVerdict::Send {
            let hedge = send_with(state, work.clone(), ticket, url).boxed_local();
            return first_usable(primary, hedge).await;
        }
        routing::finish_request(state, ticket, RequestOutcome::Cancelled, None);
        let HedgeVerdict::AskAgainAt(at) = verdict else {
            break;
        };
        wait = Duration::from_millis((at - now).max(1) as u64);
    }
    primary.await
}

/// The first of two requests for the same work to give a usable answer, or the other's if
/// the first failed. The loser runs on in the background so the router learns how it ended.
async fn first_usable(
    a: LocalBoxFuture<'static, (String, Answer)>,
    b: LocalBoxFuture<'static, (String, Answer)>,
) -> (String, Answer) {
    match select(a, b).await {
        Either::Left((done, other)) | Either::Right((done, other)) => {
            if fails_over(&done.1) {
                // The faster one failed: the other may still succeed.
                other.await
            } else {
                leptos::task::spawn_local(async move {
                    let _ = other.await;
                });
                done
            }
        }
    }
}

/// Sends one piece of work, walking the regions best first: a failure that says "this region
/// is unwell" moves on to the next region at once; any other answer is final for this round.
async fn deliver(state: ShellState, work: &Work) -> Vec<Change> {
    let mut last: Option<(String, Answer)> = None;
    let mut tried = Vec::new();
    for region in routing::candidates() {
        // Offline: no other region will do better; the outbox waits for `online`.
        if !crate::connectivity::is_online() && last.is_some() {
            break;
        }
        if tried.contains(&region) {
            continue;
        }
        let Some(url) = routing::url(&region) else {
            continue;
        };
        let (answered_by, answer) = send_hedged(state, work, region.clone(), url).await;
        tried.push(region);
        if !tried.contains(&answered_by) {
            tried.push(answered_by.clone());
        }
        if !fails_over(&answer) {
            return complete(work, &answered_by, &answer).changes;
        }
        last = Some((answered_by, answer));
    }
    match last {
        Some((region, answer)) => complete(work, &region, &answer).changes,
        None => {
            complete(
                work,
                "",
                &Answer::Whole(Outcome::Network("no region can be reached".into())),
            )
            .changes
        }
    }
}
