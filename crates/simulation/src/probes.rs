//! `GET /health` probes: the result is decided when the probe leaves (network, then the
//! region's health answer, then the way back, all within the router's probe timeout) and
//! delivered when it would arrive.

use mfe_contract::HealthReport;
use mfe_router::ProbeResult;

use crate::client::region_index;
use crate::network::Fate;
use crate::region::HealthAnswer;
use crate::scenario::REGIONS;
use crate::world::World;
use crate::Event;

/// A `/health` probe whose result is already decided and on its way.
#[derive(Debug, Clone)]
pub struct Probe {
    pub tab: usize,
    pub epoch: u64,
    pub region: usize,
    pub result: ProbeResult,
}

impl World {
    /// Sends `GET /health` to a region for a tab; the result is decided now and arrives later.
    pub fn send_probe(&mut self, tab: usize, region_name: &str) {
        let Some(r) = region_index(region_name) else {
            return;
        };
        self.stats.probes += 1;
        let timeout = self.tabs[tab].router.probe_timeout_ms();
        let (result, after) = match self.net.request(r, &mut self.rng) {
            Fate::Fail(ms) => (ProbeResult::Unreachable, ms),
            Fate::Lost => (ProbeResult::Timeout, timeout),
            Fate::Deliver(ms) => match self.regions[r].health(&mut self.rng) {
                HealthAnswer::Refused => {
                    let back = self.net.one_way(r, &mut self.rng);
                    (ProbeResult::Unreachable, ms + back)
                }
                HealthAnswer::Hang => (ProbeResult::Timeout, timeout),
                HealthAnswer::Answer {
                    status,
                    report,
                    extra_ms,
                } => match self.net.answer(r, &mut self.rng) {
                    Fate::Deliver(back) if ms + extra_ms + back < timeout => {
                        let rtt = ms + extra_ms + back;
                        let report = HealthReport {
                            region: REGIONS[r].to_string(),
                            status: report,
                            store_ok: true,
                            replication_lag_ms: 0,
                            version: "sim".to_string(),
                        };
                        (
                            ProbeResult::Answered {
                                status,
                                rtt_ms: rtt as f64,
                                report: Some(report),
                            },
                            rtt,
                        )
                    }
                    _ => (ProbeResult::Timeout, timeout),
                },
            },
        };
        let probe = self.next_id();
        let epoch = self.tabs[tab].epoch;
        self.probes.insert(
            probe,
            Probe {
                tab,
                epoch,
                region: r,
                result,
            },
        );
        self.queue
            .push(self.now + after, Event::ProbeDone { tab, epoch, probe });
    }
}
