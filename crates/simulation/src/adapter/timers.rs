//! A tab's two timers, the router's probe loop and the drainer's sleep, and the probes.

use mfe_router::RouterEvent;

use crate::coverage::Cover;
use crate::events::{Event, Timer};
use crate::scenario::REGIONS;
use crate::trace;
use crate::world::World;

/// The shell's longest sleep between drains: a timer armed before a forward clock jump can be
/// late by at most this much.
const MAX_SLEEP_MS: i64 = 60_000;

impl World {
    /// One of a tab's timers fired: the router's (housekeeping and due probes) or the
    /// drainer's.
    pub fn wake(&mut self, t: usize, epoch: u64, timer: Timer) {
        if !self.is_current(t, epoch) || self.tabs[t].timers[timer as usize] != Some(self.now) {
            return; // a stale timer
        }
        self.tabs[t].timers[timer as usize] = None;
        match timer {
            Timer::Router => {
                if !self.net.offline {
                    let rnow = self.router_now(t);
                    let router = &mut self.tabs[t].router;
                    let events = router.tick(rnow);
                    let due = router.probes_due(rnow);
                    self.trace_router(t, &events);
                    for name in due {
                        self.send_probe(t, &name);
                    }
                }
                self.rearm_router(t);
            }
            Timer::Outbox => self.drain(t),
        }
    }

    pub fn probe_done(&mut self, t: usize, epoch: u64, probe: u64) {
        let Some(p) = self.probes.remove(&probe) else {
            return;
        };
        // A probe that ended while the device was offline says nothing about the region.
        if !self.is_current(t, epoch) || self.net.offline {
            return;
        }
        let rnow = self.router_now(t);
        trace!(
            self,
            "tab{t}: probe {} -> {:?}",
            REGIONS[p.region],
            p.result
        );
        let events = self.tabs[t]
            .router
            .on_probe(REGIONS[p.region], rnow, p.result);
        self.trace_router(t, &events);
        self.rearm_router(t);
    }

    /// Arms the router's timer at its `next_wake`. While offline the shell does not probe,
    /// so the router's schedule waits for `online`.
    pub fn rearm_router(&mut self, t: usize) {
        if self.net.offline || !self.tabs[t].alive {
            return;
        }
        let rnow = self.router_now(t);
        let at = self.tabs[t].router.next_wake(rnow);
        self.arm(t, Timer::Router, at, rnow);
    }

    /// Arms the drainer's timer at the outbox's `next_wake` (only the lock holder drains).
    pub fn rearm_outbox(&mut self, t: usize) {
        if self.holder != Some(t) || !self.tabs[t].alive {
            return;
        }
        let wall = self.wall();
        let at = self.tabs[t].outbox.next_wake(wall);
        self.arm(t, Timer::Outbox, at, wall);
    }

    /// Arms a timer for time `at` of a clock that reads `clock_now` now, unless it is already
    /// armed earlier.
    pub(super) fn arm(&mut self, t: usize, timer: Timer, at: Option<i64>, clock_now: i64) {
        let Some(at) = at else {
            return;
        };
        // Never a zero delay: a core that keeps asking for "now" must show up as a spin of
        // many 1 ms steps, not hang the loop at one instant.
        let at_virtual = self.now + (at - clock_now).clamp(1, MAX_SLEEP_MS);
        let tab = &mut self.tabs[t];
        let slot = &mut tab.timers[timer as usize];
        if slot.is_none_or(|w| at_virtual < w) {
            *slot = Some(at_virtual);
            let epoch = tab.epoch;
            self.queue.push(
                at_virtual,
                Event::Wake {
                    tab: t,
                    epoch,
                    timer,
                },
            );
        }
    }

    pub(super) fn trace_router(&mut self, t: usize, events: &[RouterEvent]) {
        for e in events {
            trace!(self, "tab{t}: router {e:?}");
            self.cover(match e {
                RouterEvent::CurrentChanged { reason, .. } if reason.is_failover() => {
                    Cover::RouterFailsOver
                }
                RouterEvent::CurrentChanged { .. } => Cover::RouterChanges,
                RouterEvent::RegionUp { .. } => Cover::RegionUp,
                RouterEvent::RegionDegraded { .. } => Cover::RegionDegraded,
                RouterEvent::RegionDown { .. } => Cover::RegionDown,
                RouterEvent::BreakerOpened { .. } => Cover::BreakerOpened,
                RouterEvent::BreakerHalfOpen { .. } => Cover::BreakerHalfOpen,
                RouterEvent::BreakerClosed { .. } => Cover::BreakerClosed,
            });
        }
    }
}
