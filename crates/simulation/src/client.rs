//! A browser tab as the shell's adapter sees it: its own in-memory outbox and router, and the
//! deliveries it has in flight. A reload throws all of it away; only the shared disk stays.

use std::collections::BTreeMap;

use mfe_contract::RegionInfo;
use mfe_outbox::{Config as OutboxConfig, Outbox, Outcome, Work};
use mfe_router::{Config as RouterConfig, RequestTicket, Router};

use crate::scenario::REGIONS;

/// One request of a delivery, to one region.
#[derive(Debug)]
pub struct Attempt {
    pub req: u64,
    pub region: usize,
    /// The router's leave to send; handed back exactly once.
    pub ticket: RequestTicket,
}

/// The delivery of one piece of work: walks the router's candidates, maybe with one hedge.
#[derive(Debug)]
pub struct Flight {
    pub work: Work,
    /// Regions already tried by this delivery (each at most once).
    pub tried: Vec<usize>,
    /// Requests still awaited.
    pub out: Vec<Attempt>,
    pub hedged: bool,
    /// The latest failure, reported to the outbox if no region answers.
    pub last: Option<(usize, Outcome)>,
}

#[derive(Debug)]
pub struct Tab {
    pub index: usize,
    pub alive: bool,
    /// Bumped by every reload; events of an older page are ignored.
    pub epoch: u64,
    pub outbox: Outbox,
    pub router: Router,
    pub flights: BTreeMap<u64, Flight>,
    /// When each timer (`Timer as usize`) fires next, in virtual time, if armed.
    pub timers: [Option<i64>; 2],
    /// A drain is already scheduled.
    pub drain_pending: bool,
    /// How much of the disk's foreign-enqueue log this tab has adopted.
    pub foreign_seen: usize,
    /// The router's clock minus virtual time: the wall clock when the page loaded.
    pub clock_base: i64,
}

pub fn regions() -> Vec<RegionInfo> {
    REGIONS
        .iter()
        .enumerate()
        .map(|(i, name)| RegionInfo {
            name: (*name).to_string(),
            url: format!("http://127.0.0.1:{}", 8081 + i),
        })
        .collect()
}

pub fn region_index(name: &str) -> Option<usize> {
    REGIONS.iter().position(|r| *r == name)
}

impl Tab {
    /// A page that just loaded: empty memory (the caller restores it from the disk).
    pub fn new(index: usize, config: &OutboxConfig) -> Self {
        Self {
            index,
            alive: true,
            epoch: 0,
            outbox: Outbox::new(config.clone()),
            router: Router::new(RouterConfig::default(), regions()),
            flights: BTreeMap::new(),
            timers: [None; 2],
            drain_pending: false,
            foreign_seen: 0,
            clock_base: 0,
        }
    }

    /// The page reloads: everything in memory is gone, including router tickets (their
    /// requests may still reach a region).
    pub fn reset(&mut self, config: &OutboxConfig) {
        let epoch = self.epoch + 1;
        *self = Tab::new(self.index, config);
        self.epoch = epoch;
    }
}
