//! The user's side: commands of several apps on several streams, issued at random times
//! during the chaos, in whichever tab happens to be in front.

use mfe_contract::Command;

use crate::rng::Rng;
use crate::scenario::Scenario;

const APPS: [&str; 3] = ["tasks", "notes", "chat"];

/// One command the user will issue.
#[derive(Debug, Clone)]
pub struct Item {
    /// Virtual time of the click.
    pub at: i64,
    pub id: String,
    pub stream: String,
    pub app: &'static str,
    /// Preferred tab (used when it is open).
    pub tab: usize,
    /// Every region refuses it (422) until the heal; only with [`crate::Options::poison`].
    pub poisoned: bool,
    /// For a poisoned command: the regions accept it from the heal on (the server was
    /// fixed), and the user retries the dead letter; otherwise the user discards it.
    pub fixed_at_heal: bool,
}

impl Item {
    /// The wire command, once the store has given it its sequence number.
    pub fn command(&self, client_id: &str, seq: u64, wall_ms: i64) -> Command {
        Command {
            id: self.id.clone(),
            client_id: client_id.to_string(),
            seq,
            stream: self.stream.clone(),
            kind: format!("{}.add", self.app),
            app: self.app.to_string(),
            payload: serde_json::Value::from(seq),
            created_at: wall_ms,
        }
    }
}

/// The workload of a scenario, in click order. Clicks come in bursts (a user working through
/// a list), so several commands of a stream queue up behind each other and travel in batches;
/// all fall in the first 90 % of the chaos so every command meets some of it.
pub fn items(s: &Scenario) -> Vec<Item> {
    let mut r = Rng::new(s.seed, 2);
    let latest = (s.heal_at * 9 / 10).max(1);
    let bursts: Vec<i64> = (0..r.between(1, 8)).map(|_| r.between(0, latest)).collect();
    let mut times: Vec<i64> = (0..s.commands)
        .map(|_| {
            let start = bursts[r.below(bursts.len() as u64) as usize];
            (start + r.between(0, 3_000)).min(latest)
        })
        .collect();
    times.sort_unstable();
    times
        .into_iter()
        .enumerate()
        .map(|(i, at)| {
            let stream = r.below(s.streams as u64) as usize;
            let app = APPS[stream % s.apps];
            Item {
                at,
                // UUIDv7-shaped: time-ordered, unique within the seed.
                id: format!(
                    "{:08x}-{:04x}-7{:03x}-8000-{:012x}",
                    (s.seed >> 16) as u32,
                    s.seed as u16,
                    i,
                    at
                ),
                stream: format!("{app}/list-{stream}"),
                app,
                tab: r.below(s.tabs as u64) as usize,
                poisoned: s.options.poison && r.chance(0.1),
                fixed_at_heal: r.chance(0.5),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Options;
    use std::collections::BTreeSet;

    #[test]
    fn ids_are_unique_and_clicks_come_before_the_heal() {
        let s = Scenario::plan(42, Options::default());
        let items = items(&s);
        assert_eq!(items.len(), s.commands);
        let ids: BTreeSet<&str> = items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids.len(), items.len());
        assert!(items.iter().all(|i| i.at < s.heal_at && !i.poisoned));
    }
}
