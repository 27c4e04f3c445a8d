//! The path between the client and the regions: latency per region with jitter, silent loss
//! (the client's deadline decides), immediate failures (resets, refusals, "Failed to fetch"),
//! extra delay in bad spells, and whole periods offline.

use crate::rng::Rng;
use crate::scenario::NetConditions;

/// What happens to one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Arrives after this many ms.
    Deliver(i64),
    /// Never arrives.
    Lost,
    /// The sender sees a network error after this many ms.
    Fail(i64),
}

#[derive(Debug, Clone)]
pub struct Network {
    pub conditions: NetConditions,
    /// The device is offline: every request fails at once and the browser says so.
    pub offline: bool,
    base_rtt_ms: [i64; 3],
}

impl Network {
    pub fn new(base_rtt_ms: [i64; 3], conditions: NetConditions) -> Self {
        Self {
            conditions,
            offline: false,
            base_rtt_ms,
        }
    }

    /// One-way delay to or from `region`: half the base round trip, jitter up to a quarter of
    /// it, and the spell's extra delay.
    pub fn one_way(&self, region: usize, rng: &mut Rng) -> i64 {
        let base = self.base_rtt_ms[region];
        base / 2 + rng.between(0, base / 4) + rng.between(0, self.conditions.extra_ms) + 1
    }

    /// A request leaving the client for `region`.
    pub fn request(&self, region: usize, rng: &mut Rng) -> Fate {
        if self.offline {
            return Fate::Fail(0);
        }
        if rng.chance(self.conditions.refuse) {
            return Fate::Fail(self.one_way(region, rng));
        }
        if rng.chance(self.conditions.drop) {
            return Fate::Lost;
        }
        Fate::Deliver(self.one_way(region, rng))
    }

    /// An answer leaving `region` for the client.
    pub fn answer(&self, region: usize, rng: &mut Rng) -> Fate {
        if rng.chance(self.conditions.drop) {
            return Fate::Lost;
        }
        Fate::Deliver(self.one_way(region, rng))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_fails_at_once_and_clean_always_delivers() {
        let mut rng = Rng::new(3, 3);
        let mut net = Network::new([20, 100, 200], NetConditions::CLEAN);
        for _ in 0..100 {
            match net.request(1, &mut rng) {
                Fate::Deliver(ms) => assert!((51..=76).contains(&ms), "{ms}"),
                other => panic!("{other:?}"),
            }
        }
        net.offline = true;
        assert_eq!(net.request(0, &mut rng), Fate::Fail(0));
    }
}
