//! Client requests on their way between the client and the regions: what reaches whom, when,
//! and what comes back. The client's side of a request (which region, what the answer means) is
//! the adapter's; this file only moves messages and lets regions act.

use mfe_contract::Command;

use crate::coverage::Cover;
use crate::http_date;
use crate::network::Fate;
use crate::region::Admission;
use crate::scenario::{Fault, REGIONS};
use crate::trace;
use crate::world::{World, T0};
use crate::Event;

/// What reaches the client for one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// No HTTP answer: refused, reset, offline, "Failed to fetch".
    NetworkError(&'static str),
    /// One status for the whole request.
    Status {
        status: u16,
        retry_after: Option<String>,
    },
    /// `POST /commands:batch` answered 200 with one status per item.
    Items(Vec<(String, u16)>),
    /// The client's own deadline passed first.
    Timeout,
}

/// One request of one tab, from the moment it leaves until both sides are done with it.
#[derive(Debug, Clone)]
pub struct Wire {
    pub tab: usize,
    pub epoch: u64,
    pub work: u64,
    pub region: usize,
    /// `POST /commands:batch` rather than `POST /commands`.
    pub batch: bool,
    pub commands: Vec<Command>,
    /// Per item: its key was free at the region when the request arrived.
    pub claimed: Vec<bool>,
    /// The answer on its way back.
    pub reply: Option<Reply>,
    /// That answer left a region whose kill switch was on (`Region-Health: unhealthy`).
    pub switched_off: bool,
    /// The client stopped waiting (answered, deadline, cancelled).
    pub client_done: bool,
    /// The region can no longer act on it.
    pub net_done: bool,
}

impl World {
    /// A request leaves the client.
    pub fn send_wire(&mut self, req: u64, wire: Wire) {
        self.stats.requests += 1;
        let region = wire.region;
        self.wires.insert(req, wire);
        match self.net.request(region, &mut self.rng) {
            Fate::Fail(ms) => {
                let why = if self.net.offline {
                    "offline"
                } else {
                    self.stats.faults += 1;
                    "failed to fetch"
                };
                self.finish_net(req, false);
                self.reply_after(req, Reply::NetworkError(why), ms);
            }
            Fate::Lost => {
                self.stats.faults += 1;
                trace!(self, "net: request {req} to {} lost", REGIONS[region]);
                self.finish_net(req, false);
            }
            Fate::Deliver(ms) => {
                self.in_network += 1;
                self.queue
                    .push(self.now + ms, Event::RequestArrives { req });
            }
        }
    }

    /// The region side of a request is over (`counted`: it was in the network).
    fn finish_net(&mut self, req: u64, counted: bool) {
        if counted {
            self.in_network -= 1;
        }
        if let Some(w) = self.wires.get_mut(&req) {
            w.net_done = true;
        }
        self.forget_if_done(req);
    }

    pub fn forget_if_done(&mut self, req: u64) {
        if self
            .wires
            .get(&req)
            .is_some_and(|w| w.net_done && w.client_done)
        {
            self.wires.remove(&req);
        }
    }

    /// Something reaches the client `ms` from now, unless it stopped waiting.
    fn reply_after(&mut self, req: u64, reply: Reply, ms: i64) {
        if let Some(w) = self.wires.get_mut(&req) {
            if !w.client_done {
                w.reply = Some(reply);
                self.queue.push(self.now + ms, Event::Answer { req });
            }
        }
    }

    /// An HTTP answer leaves the region; the network may lose it.
    fn send_answer(&mut self, req: u64, reply: Reply) {
        let Some(wire) = self.wires.get_mut(&req) else {
            return;
        };
        let region = wire.region;
        wire.switched_off = self.regions[region].fault == Fault::KillSwitch;
        match self.net.answer(region, &mut self.rng) {
            Fate::Deliver(ms) => self.reply_after(req, reply, ms),
            _ => {
                self.stats.faults += 1;
                trace!(self, "net: answer to request {req} lost");
            }
        }
    }

    pub fn request_arrives(&mut self, req: u64) {
        let Some(wire) = self.wires.get(&req) else {
            return;
        };
        let region = wire.region;
        let admission = self.regions[region].admit(req, &wire.commands, &mut self.rng);
        trace!(
            self,
            "{}: request {req} ({} command(s)) arrives: {admission:?}",
            REGIONS[region],
            wire.commands.len()
        );
        match admission {
            Admission::Refused => {
                self.finish_net(req, true);
                let ms = self.net.one_way(region, &mut self.rng);
                self.reply_after(req, Reply::NetworkError("connection refused"), ms);
            }
            Admission::Hang => {
                self.stats.faults += 1;
                self.finish_net(req, true);
            }
            Admission::Error {
                status,
                retry_after,
                date,
            } => {
                self.stats.faults += 1;
                self.finish_net(req, true);
                let retry_after = retry_after.map(|secs| {
                    if date {
                        self.cover(Cover::RetryAfterDate);
                        // The region's clock is true time; the client's may be off.
                        http_date::format((T0 + self.now) / 1_000 + secs + 1)
                    } else {
                        secs.to_string()
                    }
                });
                self.send_answer(
                    req,
                    Reply::Status {
                        status,
                        retry_after,
                    },
                );
            }
            Admission::Execute { claimed, after_ms } => {
                if claimed.iter().any(|c| !c) {
                    self.stats.faults += 1;
                    self.cover(Cover::KeyExecuting);
                }
                if let Some(w) = self.wires.get_mut(&req) {
                    w.claimed = claimed;
                }
                self.queue.push(self.now + after_ms, Event::Commit { req });
            }
        }
    }

    /// The region executes what it admitted, unless a crash reset it meanwhile.
    pub fn commit(&mut self, req: u64) {
        let Some(wire) = self.wires.get(&req) else {
            return;
        };
        let r = wire.region;
        if !self.regions[r].executing.contains(&req) {
            return; // reset by a crash, already answered as such
        }
        let poisoned = &self.poisoned;
        let results = self.regions[r].commit(req, &wire.commands, &wire.claimed, self.now, |id| {
            poisoned.contains(id)
        });
        let batch = wire.batch;
        self.finish_net(req, true);
        for (id, status, effect) in &results {
            trace!(
                self,
                "{}: {id} -> {status}{}",
                REGIONS[r],
                if *effect { " (applied)" } else { "" }
            );
            if *effect {
                self.applications += 1;
                let order = self.applications;
                self.first_applied
                    .entry(id.clone())
                    .or_insert((self.now, order, r));
                self.replicate_out(r, id);
            }
        }
        let reply = if batch {
            Reply::Items(results.into_iter().map(|(id, s, _)| (id, s)).collect())
        } else {
            let status = results.first().map_or(500, |x| x.1);
            Reply::Status {
                status,
                retry_after: (status == 409).then(|| "1".to_string()),
            }
        };
        if let Fault::DropAfterCommit { rate } = self.regions[r].fault {
            if self.rng.chance(rate) {
                self.stats.faults += 1;
                self.cover(Cover::Ambiguous);
                trace!(
                    self,
                    "{}: committed request {req}, answer dropped",
                    REGIONS[r]
                );
                if self.rng.chance(0.5) {
                    let ms = self.net.one_way(r, &mut self.rng);
                    self.reply_after(req, Reply::NetworkError("connection reset"), ms);
                }
                return;
            }
        }
        self.send_answer(req, reply);
    }

    /// The region's process dies: executions in progress lose their connections.
    pub fn crash_region(&mut self, r: usize) {
        for req in self.regions[r].crash() {
            if self.wires.contains_key(&req) {
                self.stats.faults += 1;
                self.cover(Cover::ResetByCrash);
                self.finish_net(req, true);
                let ms = self.net.one_way(r, &mut self.rng);
                self.reply_after(req, Reply::NetworkError("connection reset"), ms);
            }
        }
    }

    /// An answer (or a network failure) reaches the client.
    pub fn answer_arrives(&mut self, req: u64) {
        let Some(w) = self.wires.get_mut(&req) else {
            return;
        };
        if w.client_done {
            return;
        }
        w.client_done = true;
        let mut reply = w.reply.take().unwrap_or(Reply::NetworkError("no answer"));
        let (tab, epoch, work, region) = (w.tab, w.epoch, w.work, w.region);
        let mut switched_off = w.switched_off && !matches!(reply, Reply::NetworkError(_));
        if self.net.offline {
            reply = Reply::NetworkError("offline");
            switched_off = false;
        }
        self.forget_if_done(req);
        self.on_result(tab, epoch, work, req, reply);
        if switched_off {
            self.on_switched_off(tab, epoch, region);
        }
    }

    /// The client's deadline for a request.
    pub fn deadline(&mut self, req: u64) {
        let Some(w) = self.wires.get_mut(&req) else {
            return;
        };
        if w.client_done {
            return;
        }
        w.client_done = true;
        let (tab, epoch, work) = (w.tab, w.epoch, w.work);
        self.forget_if_done(req);
        self.on_result(tab, epoch, work, req, Reply::Timeout);
    }
}
