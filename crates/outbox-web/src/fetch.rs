//! `fetch` with a deadline: every network call the shell makes is bounded in time.

use std::future::Future;
use std::time::Duration;

use futures::future::{select, Either};
use gloo_net::http::{RequestBuilder, Response};
use mfe_contract::{REGION_HEALTH_HEADER, SWITCHED_OFF};

/// Why a request produced no HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchFailure {
    /// No answer before the deadline (the request was aborted).
    Timeout,
    /// Connection refused, reset, DNS, CORS or offline: the browser does not say which.
    Network(String),
    /// The request could not even be built.
    Invalid(String),
}

impl std::fmt::Display for FetchFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Timeout => f.write_str("no answer in time"),
            Self::Network(why) => write!(f, "network error: {why}"),
            Self::Invalid(why) => write!(f, "request not sent: {why}"),
        }
    }
}

/// Sends `builder` (its body already attached by `build`), aborting after `timeout`. The
/// deadline covers the answer's body too (the request's signal is `AbortSignal.timeout`): a
/// region or proxy that sends its headers and then stalls would otherwise hold whoever reads
/// the body for good. Reading a body past the deadline fails.
pub async fn send_with_timeout(
    builder: RequestBuilder,
    body: Option<String>,
    timeout: Duration,
) -> Result<Response, FetchFailure> {
    let deadline = timeout.min(LONGEST_TIMER);
    let signal = web_sys::AbortSignal::timeout_with_u32(deadline.as_millis() as u32);
    let builder = builder.abort_signal(Some(&signal));
    let request = match body {
        Some(body) => builder.body(body),
        None => builder.build(),
    }
    .map_err(|e| FetchFailure::Invalid(e.to_string()))?;
    // The signal aborts the request at the same moment; this says it was the deadline.
    match within(request.send(), deadline).await {
        Some(Ok(response)) => Ok(response),
        Some(Err(err)) => Err(FetchFailure::Network(err.to_string())),
        None => Err(FetchFailure::Timeout),
    }
}

/// Whether a region's answer says its kill switch is on (`Region-Health: unhealthy`): the
/// router then takes it out without waiting for its next probe.
pub fn says_switched_off(response: &Response) -> bool {
    response
        .headers()
        .get(REGION_HEALTH_HEADER)
        .is_some_and(|value| value.trim().eq_ignore_ascii_case(SWITCHED_OFF))
}

/// The longest wait a browser timer can make: past 2^31 − 1 ms `setTimeout` fires at once.
pub const LONGEST_TIMER: Duration = Duration::from_millis(i32::MAX as u64);

/// `future`'s output, or `None` when `timeout` passes first. The future is dropped then, not
/// cancelled: whoever started a request aborts it. A `timeout` past [`LONGEST_TIMER`] waits
/// that long, instead of not at all.
pub async fn within<F: Future>(future: F, timeout: Duration) -> Option<F::Output> {
    let deadline = gloo_timers::future::sleep(timeout.min(LONGEST_TIMER));
    match select(std::pin::pin!(future), std::pin::pin!(deadline)).await {
        Either::Left((output, _)) => Some(output),
        Either::Right(_) => None,
    }
}
