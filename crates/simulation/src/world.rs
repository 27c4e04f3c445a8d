//! The world of one seed: regions, network, disk, tabs, and the event loop that drives them on
//! the virtual clock until the run is quiescent or a limit is hit.

use std::collections::{BTreeMap, BTreeSet};

use crate::client::Tab;
use crate::coverage::{Cover, Coverage};
use crate::disk::Disk;
use crate::events::{Event, Queue};
use crate::network::Network;
use crate::probes::Probe;
use crate::region::Region;
use crate::rng::Rng;
use crate::scenario::{Chaos, Fault, NetConditions, Scenario, REGIONS};
use crate::trace;
use crate::trace::Trace;
use crate::transport::Wire;
use crate::workload::{self, Item};

/// Wall clock at virtual time 0 (ms since the Unix epoch).
pub const T0: i64 = 1_700_000_000_000;
/// A run stops this long after the heal even if it is not quiescent (the checks then say
/// so); well past the bound of `checks::heal_bound_ms`.
pub const RUN_LIMIT_AFTER_HEAL_MS: i64 = 2 * 60 * 60 * 1_000;
/// Upper bound on events in one run.
pub const MAX_STEPS: u64 = 400_000;
/// Upper bound on events at one virtual instant: more means something reschedules itself
/// without time passing.
const MAX_STEPS_AT_ONE_INSTANT: u64 = 5_000;

/// Counters of one run.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub commands: u64,
    /// Planned faults applied plus faults injected into single requests.
    pub faults: u64,
    pub requests: u64,
    pub hedges: u64,
    pub probes: u64,
    pub restores: u64,
    pub steps: u64,
    /// Virtual time from the heal to the last first delivery (0 if all were delivered before).
    pub drain_after_heal_ms: i64,
    /// How long the wall clock may hold work back: the total it was stepped back, at most
    /// the outbox's `max_delay_ms` (its clock repair).
    pub clock_hold_ms: i64,
    /// Virtual time the run lasted.
    pub duration_ms: i64,
}

pub struct World {
    pub scenario: Scenario,
    pub items: Vec<Item>,
    /// Ids every region refuses (422) right now.
    pub poisoned: BTreeSet<String>,
    pub client_id: String,
    /// Virtual time, ms since the start of the run.
    pub now: i64,
    /// Wall clock minus virtual time: clock jumps move it.
    pub skew: i64,
    /// Sum of backward clock steps (work may wait that much longer).
    pub stepped_back_ms: i64,
    pub queue: Queue,
    pub rng: Rng,
    pub regions: Vec<Region>,
    pub net: Network,
    pub disk: Disk,
    pub tabs: Vec<Tab>,
    /// The tab holding the drain lock.
    pub holder: Option<usize>,
    pub wires: BTreeMap<u64, Wire>,
    pub probes: BTreeMap<u64, Probe>,
    next_id: u64,
    pub healed: bool,
    /// Clicks that found no open tab; replayed when one opens.
    pub deferred: Vec<usize>,
    pub enqueued: usize,
    /// Sequence number each item was given, by item index.
    pub seq_of: Vec<Option<u64>>,
    /// Requests whose effect on a region may still happen.
    pub in_network: usize,
    /// Replication messages not merged yet.
    pub replicating: usize,
    /// Replication messages waiting for a region to come back or be reconnected.
    pub parked: Vec<(usize, usize, String)>,
    /// First application of each command at any region, by a client request:
    /// (virtual time, global application order, region).
    pub first_applied: BTreeMap<String, (i64, u64, usize)>,
    pub applications: u64,
    pub violations: Vec<String>,
    pub stats: Stats,
    pub trace: Trace,
    pub quiescent: bool,
    pub coverage: Coverage,
    /// A page load already read the disk through JSON and the decoder.
    pub decoded_once: bool,
}

impl World {
    pub fn new(scenario: Scenario, tracing: bool) -> Self {
        let items = workload::items(&scenario);
        let mut world = World {
            client_id: format!("client-{}", scenario.seed),
            seq_of: vec![None; items.len()],
            poisoned: items
                .iter()
                .filter(|i| i.poisoned)
                .map(|i| i.id.clone())
                .collect(),
            items,
            now: 0,
            skew: 0,
            stepped_back_ms: 0,
            queue: Queue::default(),
            rng: Rng::new(scenario.seed, 3),
            regions: (0..REGIONS.len())
                .map(|i| {
                    let mut region = Region::new(i);
                    region.max_batch = scenario.region_batch_limits[i];
                    region
                })
                .collect(),
            net: Network::new(scenario.base_rtt_ms, scenario.baseline),
            disk: Disk::default(),
            tabs: (0..scenario.tabs)
                .map(|i| Tab::new(i, &scenario.outbox))
                .collect(),
            holder: None,
            wires: BTreeMap::new(),
            probes: BTreeMap::new(),
            next_id: 1,
            healed: false,
            deferred: Vec::new(),
            enqueued: 0,
            in_network: 0,
            replicating: 0,
            parked: Vec::new(),
            first_applied: BTreeMap::new(),
            applications: 0,
            violations: Vec::new(),
            stats: Stats::default(),
            trace: Trace::new(tracing),
            quiescent: false,
            coverage: Coverage::default(),
            decoded_once: false,
            scenario,
        };
        for t in 0..world.tabs.len() {
            world.queue.push(0, Event::TabBack { tab: t });
        }
        for (i, item) in world.items.iter().enumerate() {
            world.queue.push(item.at, Event::Enqueue { item: i });
        }
        for (at, chaos) in world.scenario.chaos.clone() {
            world.queue.push(at, Event::Chaos(chaos));
        }
        world.queue.push(world.scenario.heal_at, Event::Heal);
        world
    }

    /// Wall clock as the page reads it (`Date.now()`).
    pub fn wall(&self) -> i64 {
        T0 + self.now + self.skew
    }

    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Counts one occurrence of an interesting situation.
    pub fn cover(&mut self, what: Cover) {
        self.coverage.add(what);
    }

    pub fn violation(&mut self, text: String) {
        trace!(self, "VIOLATION: {text}");
        self.violations.push(text);
    }

    /// Runs the seed to quiescence (or a limit).
    pub fn run(&mut self) {
        let limit = self.scenario.heal_at + RUN_LIMIT_AFTER_HEAL_MS;
        let mut same_instant = 0u64;
        for step in 0..MAX_STEPS {
            self.stats.steps = step;
            if self.is_quiescent() {
                self.quiescent = true;
                break;
            }
            let Some((at, event)) = self.queue.pop() else {
                break;
            };
            if at > limit {
                break;
            }
            if at == self.now {
                same_instant += 1;
                if same_instant > MAX_STEPS_AT_ONE_INSTANT {
                    self.violation(format!(
                        "more than {MAX_STEPS_AT_ONE_INSTANT} events at virtual time {at} ms: \
                         something reschedules itself without time passing (last: {event:?})"
                    ));
                    break;
                }
            } else {
                same_instant = 0;
            }
            self.now = self.now.max(at);
            self.handle(event);
        }
        self.stats.duration_ms = self.now;
        self.stats.clock_hold_ms = self.stepped_back_ms.min(self.scenario.outbox.max_delay_ms);
    }

    /// Every command settled (delivered, or ended as the scenario allows), nothing left on the
    /// wire, replication converged.
    fn is_quiescent(&self) -> bool {
        // With poison, the user still goes through any dead letter; otherwise a dead letter
        // is final (and the checks say whether it was allowed).
        let ended = if self.scenario.options.poison {
            if !self.disk.dead.is_empty() {
                return false;
            }
            self.disk.discarded.len()
        } else {
            self.disk.dead.len()
        };
        self.healed
            && self.enqueued == self.items.len()
            && self.in_network == 0
            && self.replicating == 0
            && self.disk.delivered_at.len() + ended == self.items.len()
            && self.disk.entries.values().all(|e| !e.is_open())
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Enqueue { item } => self.click(item),
            Event::Chaos(chaos) => self.chaos(chaos),
            Event::Heal => self.heal(),
            Event::RequestArrives { req } => self.request_arrives(req),
            Event::Commit { req } => self.commit(req),
            Event::Answer { req } => self.answer_arrives(req),
            Event::Deadline { req } => self.deadline(req),
            Event::Hedge {
                tab,
                epoch,
                work,
                req,
            } => self.hedge(tab, epoch, work, req),
            Event::ProbeDone { tab, epoch, probe } => self.probe_done(tab, epoch, probe),
            Event::Wake { tab, epoch, timer } => self.wake(tab, epoch, timer),
            Event::Notice { tab, epoch } => {
                if self.is_current(tab, epoch) {
                    self.tabs[tab].drain_pending = false;
                    self.drain(tab);
                }
            }
            Event::TryLock { tab, epoch } => {
                if self.is_current(tab, epoch) {
                    self.try_lock(tab);
                }
            }
            Event::TabBack { tab } => self.open_tab(tab),
            Event::TokenRefreshed { tab, epoch } => self.token_refreshed(tab, epoch),
            Event::UserActs => self.user_acts(),
            Event::Replicate { from, to, id } => self.replicate(from, to, id),
        }
    }

    pub fn is_current(&self, tab: usize, epoch: u64) -> bool {
        self.tabs
            .get(tab)
            .is_some_and(|t| t.alive && t.epoch == epoch)
    }

    fn chaos(&mut self, chaos: Chaos) {
        trace!(self, "chaos: {chaos:?}");
        self.stats.faults += 1;
        match chaos {
            Chaos::Fault { region, fault } => self.regions[region].fault = fault,
            Chaos::Crash { region } => self.crash_region(region),
            Chaos::Restart { region } => {
                self.regions[region].restart();
                self.resume_replication();
            }
            Chaos::Partition { region, on } => {
                self.regions[region].partitioned = on;
                if !on {
                    self.resume_replication();
                }
            }
            Chaos::Network(conditions) => self.net.conditions = conditions,
            Chaos::Offline(offline) => self.set_offline(offline),
            Chaos::TabCrash { tab, reload_ms } => self.crash_tab(tab, reload_ms),
            Chaos::Handover => self.handover(),
            Chaos::ClockJump { ms } => {
                self.skew += ms;
                if ms < 0 {
                    self.stepped_back_ms += -ms;
                }
            }
        }
    }

    fn heal(&mut self) {
        trace!(self, "heal: network clean, every region up and well");
        self.healed = true;
        for r in 0..self.regions.len() {
            let region = &mut self.regions[r];
            region.fault = Fault::None;
            region.partitioned = false;
            region.restart();
        }
        self.net.conditions = NetConditions::CLEAN;
        self.set_offline(false);
        self.resume_replication();
        if self.scenario.options.poison {
            for item in &self.items {
                if item.fixed_at_heal {
                    self.poisoned.remove(&item.id);
                }
            }
            // Late enough that no request sent before the heal is still on its way.
            self.queue.push(self.now + 30_000, Event::UserActs);
        }
    }
}
