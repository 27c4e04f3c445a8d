//! What one seed stands for: the size of the workload, the client's set-up and the timed plan
//! of faults. Drawn from its own random stream before the run starts, so the plan can be
//! printed in a replay and stays the same whatever the run does.

use mfe_outbox::Config as OutboxConfig;

use crate::rng::Rng;

/// Region names, in the order the router is configured with.
pub const REGIONS: [&str; 3] = ["us-east", "eu-west", "ap-south"];

/// What a region does to requests while a fault is on (one at a time per region; crashes and
/// replication partitions are separate switches).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    None,
    /// Accepts connections and never answers: the client's deadline decides.
    BlackHole,
    /// Executes, but this much later; past the client's deadline the answer arrives to nobody
    /// and the command took effect anyway (an ambiguous failure).
    Slow {
        extra_ms: i64,
    },
    /// Answers 500/502/503/429 at this rate without executing, sometimes with Retry-After
    /// (in seconds or as an HTTP date of the region's clock).
    Errors {
        rate: f64,
        retry_after: bool,
    },
    /// Executes and commits, then drops the answer at this rate (reset or silence).
    DropAfterCommit {
        rate: f64,
    },
    /// Answers 409 "same key in flight" at this rate without executing.
    Conflicts {
        rate: f64,
    },
    /// `/health` says 503 `unhealthy` while commands still work (the region's kill switch).
    KillSwitch,
    /// Answers 401 at this rate without executing: the session token ran out, and the shell
    /// fetches a fresh one before delivery goes on.
    Unauthorized {
        rate: f64,
    },
}

/// One planned change of the world.
#[derive(Debug, Clone, PartialEq)]
pub enum Chaos {
    Fault {
        region: usize,
        fault: Fault,
    },
    /// The region's process dies: connections refused, executions in progress lost, store kept.
    Crash {
        region: usize,
    },
    Restart {
        region: usize,
    },
    /// Cut (or restore) the region's replication links.
    Partition {
        region: usize,
        on: bool,
    },
    /// Network conditions between the client and every region.
    Network(NetConditions),
    /// The device goes offline (or back online): every request fails at once and the browser
    /// says so.
    Offline(bool),
    /// The page dies and reloads after `reload_ms`: memory is lost, the disk is kept.
    TabCrash {
        tab: usize,
        reload_ms: i64,
    },
    /// The drain session ends (only when the holder has nothing in flight, as a session ends
    /// only when idle) and the lock goes to the other tab, or back to the same one, which
    /// then starts its next session from the disk.
    Handover,
    /// The wall clock steps by this much (both ways).
    ClockJump {
        ms: i64,
    },
}

/// Loss on the path between the client and the regions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NetConditions {
    /// A request or an answer silently lost (the client's deadline decides).
    pub drop: f64,
    /// A request failing at once with a network error (reset, refused, "Failed to fetch").
    pub refuse: f64,
    /// Extra one-way delay, up to this many ms.
    pub extra_ms: i64,
}

impl NetConditions {
    pub const CLEAN: NetConditions = NetConditions {
        drop: 0.0,
        refuse: 0.0,
        extra_ms: 0,
    };
}

/// Knobs of a run that are not drawn from the seed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Make some commands unacceptable (422 everywhere) until the heal: they become dead
    /// letters with the server's reason while the rest of their stream is delivered. After
    /// the heal the server accepts half of them again and the user presses Retry on those
    /// (they must end delivered) and Discard on the others (they must end gone, applied
    /// nowhere).
    pub poison: bool,
}

/// Everything a seed decides before the run.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub seed: u64,
    pub commands: usize,
    pub streams: usize,
    pub apps: usize,
    /// Open tabs (1 or 2), sharing one disk and one drain lock.
    pub tabs: usize,
    /// Whether the adapter hedges slow requests to the next region.
    pub hedging: bool,
    /// The outbox's settings: defaults, but for the batch size (1: one command per request)
    /// and how long delivered records are kept (short, so the purge runs too).
    pub outbox: OutboxConfig,
    /// Most commands each region takes per batch (`usize::MAX`: no limit of its own). Now and
    /// then one takes fewer than the outbox sends, and refuses bigger batches whole (413).
    pub region_batch_limits: [usize; 3],
    /// When the chaos ends: network healed, every region up and well.
    pub heal_at: i64,
    /// Round trip between the client and each region when nothing is wrong.
    pub base_rtt_ms: [i64; 3],
    /// Network conditions outside fault episodes, until the heal.
    pub baseline: NetConditions,
    /// Timed faults, all before `heal_at`.
    pub chaos: Vec<(i64, Chaos)>,
    pub options: Options,
}

/// The adapter's deadline for one delivery request (the shell's `SEND_TIMEOUT`).
pub const REQUEST_TIMEOUT_MS: i64 = 8_000;

impl Scenario {
    pub fn plan(seed: u64, options: Options) -> Scenario {
        let mut r = Rng::new(seed, 1);
        let commands = r.between(20, 60) as usize;
        let streams = r.between(2, 6) as usize;
        let apps = r.between(2, 3).min(streams as i64) as usize;
        let tabs = if r.chance(0.6) { 2 } else { 1 };
        let hedging = r.chance(0.5);
        let outbox = OutboxConfig {
            max_batch: [1, 4, 50][r.weighted(&[2, 1, 2])],
            keep_delivered_ms: r.between(5_000, 60_000),
            ..OutboxConfig::default()
        };
        // From a stream of its own, so adding it left every other draw of a seed as it was.
        let mut limits = Rng::new(seed, 4);
        let region_batch_limits = [0; 3].map(|_| {
            if limits.chance(0.3) {
                [2, 3, 10][limits.below(3) as usize]
            } else {
                usize::MAX
            }
        });
        let mut heal_at = r.between(20_000, 120_000);
        // Now and then every region is down for minutes (long enough for breakers to reach
        // their longest cool-down) before the heal.
        let outage = r.chance(0.05).then(|| {
            let start = heal_at / 2;
            let end = start + r.between(150_000, 480_000);
            heal_at = end + r.between(0, 20_000);
            (start, end)
        });
        let base_rtt_ms = [r.between(10, 250), r.between(10, 250), r.between(10, 250)];
        let baseline = NetConditions {
            drop: r.unit() * 0.05,
            refuse: r.unit() * 0.03,
            extra_ms: 0,
        };
        let mut chaos = Vec::new();
        for region in 0..REGIONS.len() {
            let calm_from = outage.map_or(heal_at, |(start, _)| start);
            plan_region(&mut r, region, calm_from, &mut chaos);
            if let Some((start, end)) = outage {
                chaos.push((start, Chaos::Crash { region }));
                chaos.push((end, Chaos::Restart { region }));
            }
        }
        plan_network(&mut r, heal_at, baseline, &mut chaos);
        plan_tabs(&mut r, tabs, heal_at, &mut chaos);
        chaos.sort_by_key(|(at, _)| *at);
        Scenario {
            seed,
            commands,
            streams,
            apps,
            tabs,
            hedging,
            outbox,
            region_batch_limits,
            heal_at,
            base_rtt_ms,
            baseline,
            chaos,
            options,
        }
    }

    /// One line for the replay header.
    pub fn summary(&self) -> String {
        format!(
            "seed {}: {} commands on {} streams of {} apps, {} tab(s), hedging {}, batch {}, \
             region batch limits {}, delivered kept {:.0}s, heal at {:.1}s, rtt {:?} ms, baseline {:?}, {} planned \
             faults{}",
            self.seed,
            self.commands,
            self.streams,
            self.apps,
            self.tabs,
            if self.hedging { "on" } else { "off" },
            self.outbox.max_batch,
            self.region_batch_limits
                .map(|n| if n == usize::MAX { "-".to_string() } else { n.to_string() })
                .join("/"),
            self.outbox.keep_delivered_ms as f64 / 1_000.0,
            self.heal_at as f64 / 1_000.0,
            self.base_rtt_ms,
            self.baseline,
            self.chaos.len(),
            if self.options.poison { ", poison" } else { "" },
        )
    }
}

/// Bound on fault episodes per region or for the network, so planning always ends.
const MAX_EPISODES: usize = 40;

/// Fault episodes of one region until `until` (its faults end there, at the latest).
fn plan_region(r: &mut Rng, region: usize, until: i64, out: &mut Vec<(i64, Chaos)>) {
    let mut t = r.between(0, 10_000);
    for _ in 0..MAX_EPISODES {
        if t >= until {
            break;
        }
        let end = (t + r.between(1_000, 30_000)).min(until);
        let (start, stop) = match r.weighted(&[3, 2, 2, 3, 2, 1, 1, 2, 1]) {
            0 => (Chaos::Crash { region }, Chaos::Restart { region }),
            1 => fault(region, Fault::BlackHole),
            2 => fault(
                region,
                Fault::Slow {
                    extra_ms: r.between(200, 12_000),
                },
            ),
            3 => fault(
                region,
                Fault::Errors {
                    rate: 0.3 + r.unit() * 0.7,
                    retry_after: r.chance(0.5),
                },
            ),
            4 => fault(
                region,
                Fault::DropAfterCommit {
                    rate: 0.2 + r.unit() * 0.8,
                },
            ),
            5 => fault(
                region,
                Fault::Conflicts {
                    rate: 0.2 + r.unit() * 0.6,
                },
            ),
            6 => fault(region, Fault::KillSwitch),
            7 => fault(
                region,
                Fault::Unauthorized {
                    rate: 0.2 + r.unit() * 0.6,
                },
            ),
            _ => (
                Chaos::Partition { region, on: true },
                Chaos::Partition { region, on: false },
            ),
        };
        out.push((t, start));
        out.push((end, stop));
        t = end + r.between(1_000, 15_000);
    }
}

fn fault(region: usize, fault: Fault) -> (Chaos, Chaos) {
    (
        Chaos::Fault { region, fault },
        Chaos::Fault {
            region,
            fault: Fault::None,
        },
    )
}

fn plan_network(r: &mut Rng, heal_at: i64, baseline: NetConditions, out: &mut Vec<(i64, Chaos)>) {
    let mut t = r.between(0, 20_000);
    for _ in 0..MAX_EPISODES {
        if t >= heal_at {
            break;
        }
        let end = (t + r.between(1_000, 20_000)).min(heal_at);
        let (start, stop) = if r.chance(0.3) {
            (Chaos::Offline(true), Chaos::Offline(false))
        } else {
            let bad = NetConditions {
                drop: 0.1 + r.unit() * 0.4,
                refuse: r.unit() * 0.3,
                extra_ms: r.between(0, 2_000),
            };
            (Chaos::Network(bad), Chaos::Network(baseline))
        };
        out.push((t, start));
        if end < heal_at {
            out.push((end, stop));
        }
        t = end + r.between(3_000, 25_000);
    }
}

fn plan_tabs(r: &mut Rng, tabs: usize, heal_at: i64, out: &mut Vec<(i64, Chaos)>) {
    for _ in 0..r.below(5) {
        let tab = r.below(tabs as u64) as usize;
        let reload_ms = r.between(50, 3_000);
        out.push((
            r.between(0, heal_at - 1),
            Chaos::TabCrash { tab, reload_ms },
        ));
    }
    for _ in 0..r.below(if tabs > 1 { 9 } else { 4 }) {
        out.push((r.between(0, heal_at - 1), Chaos::Handover));
    }
    for _ in 0..r.below(4) {
        let ms = r.between(1_000, 180_000) * if r.chance(0.5) { -1 } else { 1 };
        out.push((r.between(0, heal_at - 1), Chaos::ClockJump { ms }));
    }
    // Now and then a jump of hours (a laptop waking with a wrong clock that NTP then fixes):
    // past the outbox's `max_delay_ms`, where its clock repair has to step in.
    if r.chance(0.02) {
        let ms = r.between(65 * 60_000, 3 * 3_600_000) * if r.chance(0.5) { -1 } else { 1 };
        out.push((r.between(0, heal_at - 1), Chaos::ClockJump { ms }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_always_plans_the_same_run_and_chaos_ends_before_the_heal() {
        for seed in 0..200 {
            let a = Scenario::plan(seed, Options::default());
            let b = Scenario::plan(seed, Options::default());
            assert_eq!(a.summary(), b.summary());
            assert_eq!(a.chaos, b.chaos);
            assert!((20..=60).contains(&a.commands));
            assert!(a.chaos.iter().all(|(at, _)| *at <= a.heal_at));
            assert!(a.chaos.windows(2).all(|w| w[0].0 <= w[1].0));
        }
    }
}
