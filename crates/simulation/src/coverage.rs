//! What the seeds exercised: a counter per interesting situation, summed over a run of seeds
//! and printed with it, so a change that quietly stops reaching a fault shows up.

/// An interesting situation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cover {
    Created,
    Conflict,
    Unauthorized,
    Unprocessable,
    TooMany,
    ServerError,
    NetworkError,
    ClientDeadline,
    BatchAnswer,
    FailedDependency,
    KeyExecuting,
    RetryAfterDate,
    Ambiguous,
    BatchRequest,
    NoRegionLeft,
    AuthPaused,
    Handover,
    BudgetSpent,
    Adopted,
    ResetByCrash,
    Failover,
    HedgeRefused,
    HedgeLater,
    HedgeSent,
    TakeoverInFlight,
    PageReload,
    OfflineFailure,
    RouterFailsOver,
    RouterChanges,
    RegionUp,
    RegionDegraded,
    RegionDown,
    BreakerOpened,
    BreakerHalfOpen,
    BreakerClosed,
    LeaseExpired,
    DeadRetried,
    DeadDiscarded,
    BatchTooLarge,
    SwitchedOffAnswer,
}

impl Cover {
    pub const ALL: [Cover; 40] = [
        Cover::Created,
        Cover::Conflict,
        Cover::Unauthorized,
        Cover::Unprocessable,
        Cover::TooMany,
        Cover::ServerError,
        Cover::NetworkError,
        Cover::ClientDeadline,
        Cover::BatchAnswer,
        Cover::FailedDependency,
        Cover::KeyExecuting,
        Cover::RetryAfterDate,
        Cover::Ambiguous,
        Cover::BatchRequest,
        Cover::NoRegionLeft,
        Cover::AuthPaused,
        Cover::Handover,
        Cover::BudgetSpent,
        Cover::Adopted,
        Cover::ResetByCrash,
        Cover::Failover,
        Cover::HedgeRefused,
        Cover::HedgeLater,
        Cover::HedgeSent,
        Cover::TakeoverInFlight,
        Cover::PageReload,
        Cover::OfflineFailure,
        Cover::RouterFailsOver,
        Cover::RouterChanges,
        Cover::RegionUp,
        Cover::RegionDegraded,
        Cover::RegionDown,
        Cover::BreakerOpened,
        Cover::BreakerHalfOpen,
        Cover::BreakerClosed,
        Cover::LeaseExpired,
        Cover::DeadRetried,
        Cover::DeadDiscarded,
        Cover::BatchTooLarge,
        Cover::SwitchedOffAnswer,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Cover::Created => "201",
            Cover::Conflict => "409",
            Cover::Unauthorized => "401",
            Cover::Unprocessable => "422",
            Cover::TooMany => "429",
            Cover::ServerError => "5xx",
            Cover::NetworkError => "network error",
            Cover::ClientDeadline => "client deadline",
            Cover::BatchAnswer => "batch answer",
            Cover::FailedDependency => "424 in a batch answer",
            Cover::KeyExecuting => "409: key already executing",
            Cover::RetryAfterDate => "Retry-After as an HTTP date",
            Cover::Ambiguous => "ambiguous: committed, answer dropped",
            Cover::BatchRequest => "batch request",
            Cover::NoRegionLeft => "delivery found no region left to try",
            Cover::AuthPaused => "delivery paused by a 401",
            Cover::Handover => "drain lock handed over",
            Cover::BudgetSpent => "drain with the retry budget spent",
            Cover::Adopted => "drainer adopts another tab's command",
            Cover::ResetByCrash => "execution reset by a region crash",
            Cover::Failover => "failover to the next candidate",
            Cover::HedgeRefused => "hedge refused (offline)",
            Cover::HedgeLater => "hedge deferred by the budget's floor",
            Cover::HedgeSent => "hedge sent",
            Cover::TakeoverInFlight => "lock taken over with commands in flight",
            Cover::PageReload => "page crash and reload",
            Cover::OfflineFailure => "request failed while offline (no evidence)",
            Cover::RouterFailsOver => "router fails over",
            Cover::RouterChanges => "router changes region",
            Cover::RegionUp => "region up",
            Cover::RegionDegraded => "region degraded",
            Cover::RegionDown => "region down",
            Cover::BreakerOpened => "breaker opened",
            Cover::BreakerHalfOpen => "breaker half-open",
            Cover::BreakerClosed => "breaker closed",
            Cover::LeaseExpired => "outbox lease expired a send",
            Cover::DeadRetried => "user retried a dead letter",
            Cover::DeadDiscarded => "user discarded a dead letter",
            Cover::BatchTooLarge => "413 to a whole batch: sent again in smaller ones",
            Cover::SwitchedOffAnswer => "an answer said its region is switched off",
        }
    }
}

/// Counts per situation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coverage([u64; Cover::ALL.len()]);

impl Default for Coverage {
    fn default() -> Self {
        Self([0; Cover::ALL.len()])
    }
}

impl Coverage {
    pub fn add(&mut self, what: Cover) {
        self.0[what as usize] += 1;
    }

    pub fn merge(&mut self, other: &Coverage) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }

    pub fn get(&self, what: Cover) -> u64 {
        self.0[what as usize]
    }

    /// `name: count` for every situation, zeros included (a zero is the interesting part).
    pub fn summary(&self) -> String {
        Cover::ALL
            .iter()
            .map(|c| format!("{}: {}", c.name(), self.get(*c)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_situation_has_its_own_slot() {
        for (i, c) in Cover::ALL.iter().enumerate() {
            assert_eq!(*c as usize, i);
        }
        let mut a = Coverage::default();
        a.add(Cover::HedgeSent);
        let mut b = Coverage::default();
        b.merge(&a);
        b.merge(&a);
        assert_eq!(b.get(Cover::HedgeSent), 2);
        assert!(b.summary().contains("hedge sent: 2"));
    }
}
