//! The publish/subscribe registry behind `host.publish` / `host.subscribe` (DESIGN §3.3),
//! generic over the callback so it is tested natively. Every subscription belongs to an owner
//! (one mounted app instance), so unmounting drops all of that instance's subscriptions at once.

use std::collections::BTreeMap;

/// Longest topic name accepted.
pub const MAX_TOPIC: usize = 100;
/// Most live subscriptions per owner: a loop that subscribes on every render hits this
/// instead of growing memory without bound.
pub const MAX_PER_OWNER: usize = 256;

/// Identifies a subscription for `unsubscribe`.
pub type SubscriptionId = u64;

struct Entry<C> {
    owner: u64,
    topic: String,
    callback: C,
}

/// Subscriptions by id, in the order they were made.
pub struct Bus<C> {
    next_id: SubscriptionId,
    entries: BTreeMap<SubscriptionId, Entry<C>>,
}

impl<C> Default for Bus<C> {
    fn default() -> Self {
        Self {
            next_id: 1,
            entries: BTreeMap::new(),
        }
    }
}

/// Checks a topic name: 1 to [`MAX_TOPIC`] printable ASCII characters.
pub fn check_topic(topic: &str) -> Result<(), String> {
    if topic.is_empty() || topic.len() > MAX_TOPIC || !topic.chars().all(|c| c.is_ascii_graphic()) {
        return Err(format!(
            "topic must be 1 to {MAX_TOPIC} printable characters without spaces"
        ));
    }
    Ok(())
}

impl<C: Clone> Bus<C> {
    pub fn subscribe(
        &mut self,
        owner: u64,
        topic: &str,
        callback: C,
    ) -> Result<SubscriptionId, String> {
        check_topic(topic)?;
        if self.entries.values().filter(|e| e.owner == owner).count() >= MAX_PER_OWNER {
            return Err(format!(
                "an app may hold at most {MAX_PER_OWNER} subscriptions"
            ));
        }
        let id = self.next_id;
        self.next_id += 1;
        self.entries.insert(
            id,
            Entry {
                owner,
                topic: topic.to_string(),
                callback,
            },
        );
        Ok(id)
    }

    /// Ends one subscription; only its owner may end it.
    pub fn unsubscribe(&mut self, owner: u64, id: SubscriptionId) {
        if self.entries.get(&id).is_some_and(|e| e.owner == owner) {
            self.entries.remove(&id);
        }
    }

    /// Ends every subscription of `owner` (its app instance was unmounted).
    pub fn drop_owner(&mut self, owner: u64) {
        self.entries.retain(|_, e| e.owner != owner);
    }

    /// The callbacks to call for a message on `topic`, oldest subscription first. Cloned out so
    /// a callback may subscribe or unsubscribe while the message is delivered.
    pub fn subscribers(&self, topic: &str) -> Vec<C> {
        self.entries
            .values()
            .filter(|e| e.topic == topic)
            .map(|e| e.callback.clone())
            .collect()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivers_by_topic_in_subscription_order() {
        let mut bus = Bus::default();
        bus.subscribe(1, "task.added", "a").unwrap();
        bus.subscribe(2, "task.added", "b").unwrap();
        bus.subscribe(2, "other", "c").unwrap();
        assert_eq!(bus.subscribers("task.added"), ["a", "b"]);
        assert!(bus.subscribers("none").is_empty());
    }

    #[test]
    fn unsubscribe_is_scoped_to_the_owner() {
        let mut bus = Bus::default();
        let a = bus.subscribe(1, "t", "a").unwrap();
        bus.unsubscribe(2, a);
        assert_eq!(bus.len(), 1);
        bus.unsubscribe(1, a);
        assert!(bus.is_empty());
        bus.subscribe(1, "t", "a").unwrap();
        bus.subscribe(1, "u", "b").unwrap();
        bus.subscribe(3, "t", "c").unwrap();
        bus.drop_owner(1);
        assert_eq!(bus.subscribers("t"), ["c"]);
        assert_eq!(bus.len(), 1);
    }

    #[test]
    fn topics_and_counts_are_bounded() {
        let mut bus = Bus::default();
        assert!(bus.subscribe(1, "", "x").is_err());
        assert!(bus.subscribe(1, "has space", "x").is_err());
        assert!(bus.subscribe(1, &"t".repeat(MAX_TOPIC + 1), "x").is_err());
        for _ in 0..MAX_PER_OWNER {
            bus.subscribe(1, "t", "x").unwrap();
        }
        assert!(bus.subscribe(1, "t", "x").is_err());
        assert!(bus.subscribe(2, "t", "x").is_ok());
    }
}
