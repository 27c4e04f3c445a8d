//! Delivering one piece of work: walk the router's candidates, fail over at once, hedge, and
//! report every request's end to both cores.

use mfe_outbox::{HedgeVerdict, Outcome};
use mfe_router::RequestOutcome;

use crate::client::{region_index, Attempt};
use crate::coverage::Cover;
use crate::events::Event;
use crate::scenario::{REGIONS, REQUEST_TIMEOUT_MS};
use crate::trace;
use crate::transport::{Reply, Wire};
use crate::world::World;

/// How a request ended, in the two cores' vocabularies.
enum Answer {
    Whole(Outcome),
    Items(Vec<(String, Outcome)>),
}

fn translate(reply: Reply) -> (RequestOutcome, Answer) {
    match reply {
        Reply::NetworkError(why) => (
            RequestOutcome::NetworkError,
            Answer::Whole(Outcome::Network(why.to_string())),
        ),
        Reply::Timeout => (RequestOutcome::Timeout, Answer::Whole(Outcome::Timeout)),
        Reply::Status {
            status,
            retry_after,
        } => {
            let mut outcome = http(status);
            if let Some(value) = retry_after {
                outcome = outcome.with_retry_after(value);
            }
            (RequestOutcome::Status(status), Answer::Whole(outcome))
        }
        Reply::Items(items) => (
            RequestOutcome::Status(200),
            Answer::Items(items.into_iter().map(|(id, s)| (id, http(s))).collect()),
        ),
    }
}

fn http(status: u16) -> Outcome {
    match status {
        422 => Outcome::http(422).with_reason("the region refuses this command"),
        424 => Outcome::http(424).with_reason("an earlier command of the stream failed"),
        s => Outcome::http(s),
    }
}

impl World {
    /// Sends work `w` to the best region not tried yet, or settles it with the last failure.
    pub(super) fn next_attempt(&mut self, t: usize, w: u64) {
        let wall = self.wall();
        let rnow = self.router_now(t);
        let candidates = self.tabs[t].router.candidates(rnow);
        for name in candidates {
            let Some(r) = region_index(&name) else {
                continue;
            };
            let tab = &mut self.tabs[t];
            let Some(flight) = tab.flights.get_mut(&w) else {
                return;
            };
            if flight.tried.contains(&r) {
                continue;
            }
            flight.tried.push(r);
            if let Some(ticket) = tab.router.start_request(&name, rnow) {
                self.send_attempt(t, w, r, ticket, false);
                return;
            }
        }
        // Nothing (else) to try: the outbox decides when to come back.
        let Some(mut flight) = self.tabs[t].flights.remove(&w) else {
            return;
        };
        let (region, outcome) = match flight.last.take() {
            Some((r, o)) => (REGIONS[r], o),
            None => ("", Outcome::Network("no region can be reached".into())),
        };
        trace!(
            self,
            "tab{t}: work {w} found no region: {}",
            outcome.describe()
        );
        self.cover(Cover::NoRegionLeft);
        let done =
            self.tabs[t]
                .outbox
                .complete(wall, &flight.work, region, &outcome, &mut self.rng);
        self.persist(done.changes);
        self.request_drain(t, 0);
    }

    pub(super) fn send_attempt(
        &mut self,
        t: usize,
        w: u64,
        r: usize,
        ticket: mfe_router::RequestTicket,
        hedge: bool,
    ) {
        let req = self.next_id();
        let epoch = self.tabs[t].epoch;
        let hedging = self.scenario.hedging;
        let tab = &mut self.tabs[t];
        let Some(flight) = tab.flights.get_mut(&w) else {
            return;
        };
        flight.out.push(Attempt {
            req,
            region: r,
            ticket,
        });
        let wire = Wire {
            tab: t,
            epoch,
            work: w,
            region: r,
            batch: !flight.work.is_single(),
            commands: flight.work.commands.clone(),
            claimed: Vec::new(),
            reply: None,
            switched_off: false,
            client_done: false,
            net_done: false,
        };
        let hedge_at = (hedging && !hedge && !flight.hedged)
            .then(|| self.now + tab.router.hedge_delay(REGIONS[r]));
        trace!(
            self,
            "tab{t}: request {req} of work {w} to {}{}",
            REGIONS[r],
            if hedge { " (hedge)" } else { "" }
        );
        self.send_wire(req, wire);
        self.queue
            .push(self.now + REQUEST_TIMEOUT_MS, Event::Deadline { req });
        if let Some(at) = hedge_at {
            self.queue.push(
                at,
                Event::Hedge {
                    tab: t,
                    epoch,
                    work: w,
                    req,
                },
            );
        }
    }

    /// An answer of a tab's request said region `r` is switched off: the router takes it out
    /// before its next probe.
    pub fn on_switched_off(&mut self, t: usize, epoch: u64, r: usize) {
        if !self.is_current(t, epoch) {
            return;
        }
        self.cover(Cover::SwitchedOffAnswer);
        let rnow = self.router_now(t);
        let events = self.tabs[t].router.on_switched_off(REGIONS[r], rnow);
        self.trace_router(t, &events);
        self.rearm_router(t);
    }

    /// A request of a tab ended (answer, network failure or deadline).
    pub fn on_result(&mut self, t: usize, epoch: u64, w: u64, req: u64, reply: Reply) {
        if !self.is_current(t, epoch) {
            return; // the page that sent it is gone
        }
        let wall = self.wall();
        let tab = &mut self.tabs[t];
        let Some(flight) = tab.flights.get_mut(&w) else {
            return;
        };
        let Some(pos) = flight.out.iter().position(|a| a.req == req) else {
            return;
        };
        let attempt = flight.out.remove(pos);
        trace!(self, "tab{t}: request {req} ended: {reply:?}");
        self.cover(match &reply {
            Reply::NetworkError(_) => Cover::NetworkError,
            Reply::Timeout => Cover::ClientDeadline,
            Reply::Items(_) => Cover::BatchAnswer,
            Reply::Status { status: 201, .. } => Cover::Created,
            Reply::Status { status: 409, .. } => Cover::Conflict,
            Reply::Status { status: 401, .. } => Cover::Unauthorized,
            Reply::Status { status: 422, .. } => Cover::Unprocessable,
            Reply::Status { status: 429, .. } => Cover::TooMany,
            Reply::Status { status: 413, .. } => Cover::BatchTooLarge,
            Reply::Status { .. } => Cover::ServerError,
        });
        if let Reply::Items(items) = &reply {
            if items.iter().any(|(_, s)| *s == 424) {
                self.cover(Cover::FailedDependency);
            }
        }
        let (mut router_outcome, answer) = translate(reply);
        // A request that failed while the device is offline says nothing about the region
        // (as a probe then says nothing): reporting it as a failure would open every
        // region's breaker during a short offline spell and keep traffic away for minutes
        // after it. Nor is there any point in trying the next region.
        let device_offline = self.net.offline && router_outcome == RequestOutcome::NetworkError;
        if device_offline {
            self.cover(Cover::OfflineFailure);
            router_outcome = RequestOutcome::Cancelled;
        }
        let rnow = self.router_now(t);
        let tab = &mut self.tabs[t];
        let events = tab
            .router
            .on_request_done(attempt.ticket, rnow, router_outcome);
        self.trace_router(t, &events);
        let fail_over =
            !device_offline && matches!(&answer, Answer::Whole(o) if o.class().should_fail_over());
        if fail_over {
            let Answer::Whole(outcome) = answer else {
                return;
            };
            let Some(flight) = self.tabs[t].flights.get_mut(&w) else {
                return;
            };
            flight.last = Some((attempt.region, outcome));
            if flight.out.is_empty() {
                self.cover(Cover::Failover);
                self.next_attempt(t, w);
            }
            self.rearm_router(t);
            return;
        }
        // A final answer: it wins, any other request of this delivery is abandoned.
        let Some(mut flight) = self.tabs[t].flights.remove(&w) else {
            return;
        };
        for other in flight.out.drain(..) {
            let events =
                self.tabs[t]
                    .router
                    .on_request_done(other.ticket, rnow, RequestOutcome::Cancelled);
            self.trace_router(t, &events);
            if let Some(wire) = self.wires.get_mut(&other.req) {
                wire.client_done = true;
            }
            self.forget_if_done(other.req);
        }
        let region = REGIONS[attempt.region];
        let outbox = &mut self.tabs[t].outbox;
        let done = match &answer {
            Answer::Whole(outcome) => {
                outbox.complete(wall, &flight.work, region, outcome, &mut self.rng)
            }
            Answer::Items(items) => {
                outbox.complete_items(wall, &flight.work, region, items, &mut self.rng)
            }
        };
        let auth_paused = done.auth_paused;
        self.persist(done.changes);
        if auth_paused {
            // The host fetches a fresh token; delivery resumes when it has one.
            self.cover(Cover::AuthPaused);
            let ms = self.rng.between(100, 5_000);
            self.queue
                .push(self.now + ms, Event::TokenRefreshed { tab: t, epoch });
        }
        self.request_drain(t, 0);
        self.rearm_router(t);
    }

    pub fn token_refreshed(&mut self, t: usize, epoch: u64) {
        if self.is_current(t, epoch) {
            trace!(self, "tab{t}: fresh token, delivery resumes");
            self.tabs[t].outbox.resume_auth();
            self.request_drain(t, 0);
        }
    }

    /// The hedge delay of a request ran out and it is still unanswered: send the same work,
    /// same keys, to the next region, if the retry budget allows.
    pub fn hedge(&mut self, t: usize, epoch: u64, w: u64, req: u64) {
        if !self.is_current(t, epoch) {
            return;
        }
        let rnow = self.router_now(t);
        let tab = &mut self.tabs[t];
        let Some(flight) = tab.flights.get(&w) else {
            return;
        };
        let Some(primary) = flight.out.iter().find(|a| a.req == req).map(|a| a.region) else {
            return;
        };
        if flight.hedged {
            return;
        }
        let Some(target) = tab
            .router
            .hedge_target(rnow, REGIONS[primary])
            .and_then(|n| region_index(&n))
        else {
            return;
        };
        if flight.tried.contains(&target) {
            return;
        }
        // The target's leave first, as the page does: a spent allowance must never be a hedge
        // that did not go out.
        let Some(ticket) = tab.router.start_request(REGIONS[target], rnow) else {
            return;
        };
        let wall = self.wall();
        let verdict = self.tabs[t].outbox.try_spend_hedge(wall);
        if verdict != HedgeVerdict::Send {
            let events =
                self.tabs[t]
                    .router
                    .on_request_done(ticket, rnow, RequestOutcome::Cancelled);
            self.trace_router(t, &events);
            if let HedgeVerdict::AskAgainAt(at) = verdict {
                // Only the floor can let it out now: ask again when it may (the request may
                // be answered by then, which ends this hedge).
                self.cover(Cover::HedgeLater);
                let again = self.now + (at - wall).max(1);
                let event = Event::Hedge {
                    tab: t,
                    epoch,
                    work: w,
                    req,
                };
                self.queue.push(again, event);
            } else {
                self.cover(Cover::HedgeRefused);
            }
            return;
        }
        let tab = &mut self.tabs[t];
        if let Some(flight) = tab.flights.get_mut(&w) {
            flight.hedged = true;
            flight.tried.push(target);
        }
        self.stats.hedges += 1;
        self.cover(Cover::HedgeSent);
        self.send_attempt(t, w, target, ticket, true);
    }
}
