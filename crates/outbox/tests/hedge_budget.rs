//! Properties of the retry budget as hedges see it: the bucket bounds the hedges of a burst,
//! the floor bounds the rest by time, and a spent bucket never stops hedges for longer than
//! one floor period.

use mfe_outbox::{HedgeVerdict, RetryBudget};
use proptest::prelude::*;

const FLOOR_MS: i64 = 500;

#[derive(Debug, Clone)]
enum Step {
    /// Time passes (forward only here; the unit tests cover a clock gone back).
    Wait(i64),
    Hedge,
    Success,
    Failure,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0i64..1_200).prop_map(Step::Wait),
        4 => Just(Step::Hedge),
        2 => Just(Step::Success),
        1 => Just(Step::Failure),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn hedges_past_the_bucket_are_bounded_by_time(
        tokens in 1u32..20,
        steps in prop::collection::vec(step(), 1..300),
    ) {
        let mut budget = RetryBudget::new(tokens, 0.1, FLOOR_MS);
        let mut now = 0i64;
        let mut floor_hedges = 0i64;
        let mut last_refused_until: Option<i64> = None;
        for s in &steps {
            match s {
                Step::Wait(ms) => now += ms,
                Step::Success => budget.on_success(),
                Step::Failure => budget.on_failure(),
                Step::Hedge => {
                    let allowed_by_bucket = budget.allows_retry();
                    let tokens = budget.tokens();
                    match budget.try_spend_hedge(now) {
                        HedgeVerdict::Send => {
                            if !allowed_by_bucket {
                                floor_hedges += 1;
                                prop_assert_eq!(budget.tokens(), tokens, "the floor spends no token");
                                // Whoever was told to ask again was told the truth.
                                if let Some(until) = last_refused_until.take() {
                                    prop_assert!(now >= until);
                                }
                            }
                        }
                        HedgeVerdict::AskAgainAt(at) => {
                            prop_assert!(!allowed_by_bucket, "refused while the bucket allows");
                            prop_assert!(at > now && at <= now + FLOOR_MS, "ask again at {at}, now {now}");
                            // Asking again then is answered.
                            prop_assert_eq!(budget.clone().try_spend_hedge(at), HedgeVerdict::Send);
                            last_refused_until = Some(at);
                        }
                        HedgeVerdict::No => unreachable!("the bucket alone never says no"),
                    }
                }
            }
            // Never more than one floor hedge per period, plus the first.
            prop_assert!(floor_hedges <= 1 + now / FLOOR_MS, "{floor_hedges} floor hedges in {now} ms");
        }
    }

    #[test]
    fn a_burst_spends_at_most_half_the_bucket_plus_one_floor_hedge(tokens in 1u32..50, burst in 1usize..200) {
        let mut budget = RetryBudget::new(tokens, 0.1, FLOOR_MS);
        let sent = (0..burst)
            .filter(|_| budget.try_spend_hedge(7_000) == HedgeVerdict::Send)
            .count();
        // A bucket of n tokens allows hedges while more than n/2 are left: ⌈n/2⌉ of them.
        let from_bucket = (tokens as usize).div_ceil(2);
        prop_assert_eq!(sent, (from_bucket + 1).min(burst));
    }
}
