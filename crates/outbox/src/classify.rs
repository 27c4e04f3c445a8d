//! What a send's result means for the command (DESIGN §3.4). The classes are deliberately few:
//! the outbox only needs to know whether the command is done, must wait, or must stop.

use mfe_contract::BatchItemResult;

/// The result of one send of one command, as the adapter observed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server answered.
    Http {
        status: u16,
        /// Raw `Retry-After` header, if any (seconds or HTTP-date).
        retry_after: Option<String>,
        /// The server's reason (`ErrorBody.message`), shown in dead letters.
        reason: Option<String>,
    },
    /// No answer: connection refused, DNS, CORS, aborted, offline, unreadable answer.
    Network(String),
    /// No answer within the adapter's timeout. The server may still have executed it: only an
    /// acknowledgement ever marks a command delivered.
    Timeout,
}

impl Outcome {
    /// A bare HTTP status.
    pub fn http(status: u16) -> Self {
        Outcome::Http {
            status,
            retry_after: None,
            reason: None,
        }
    }

    /// The same outcome with a `Retry-After` header value.
    pub fn with_retry_after(self, value: impl Into<String>) -> Self {
        match self {
            Outcome::Http { status, reason, .. } => Outcome::Http {
                status,
                retry_after: Some(value.into()),
                reason,
            },
            other => other,
        }
    }

    /// The same outcome with the server's reason.
    pub fn with_reason(self, text: impl Into<String>) -> Self {
        match self {
            Outcome::Http {
                status,
                retry_after,
                ..
            } => Outcome::Http {
                status,
                retry_after,
                reason: Some(text.into()),
            },
            other => other,
        }
    }

    /// One item of a `POST /commands:batch` answer. Batch items carry no `Retry-After`; pass
    /// the response header with [`Outcome::with_retry_after`] if the region sent one.
    pub fn from_batch_item(item: &BatchItemResult) -> Self {
        Outcome::Http {
            status: item.status,
            retry_after: None,
            reason: item.error.as_ref().map(|e| {
                if e.message.is_empty() {
                    e.error.clone()
                } else {
                    e.message.clone()
                }
            }),
        }
    }

    pub fn class(&self) -> Class {
        match self {
            Outcome::Http { status, .. } => classify_status(*status),
            Outcome::Network(_) | Outcome::Timeout => Class::RetryBackoff,
        }
    }

    /// 413: the request was too large for the server.
    pub fn is_too_large(&self) -> bool {
        matches!(self, Outcome::Http { status: 413, .. })
    }

    /// The `Retry-After` value, if any.
    pub fn retry_after(&self) -> Option<&str> {
        match self {
            Outcome::Http { retry_after, .. } => retry_after.as_deref(),
            _ => None,
        }
    }

    /// A one-line description for `last_error` and dead-letter reasons.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Http {
                status,
                reason: Some(r),
                ..
            } if !r.is_empty() => format!("HTTP {status}: {r}"),
            Outcome::Http { status, .. } => format!("HTTP {status}"),
            Outcome::Network(m) if !m.is_empty() => format!("network error: {m}"),
            Outcome::Network(_) => "network error".to_string(),
            Outcome::Timeout => "timeout".to_string(),
        }
    }
}

/// What the outbox does with a command after an outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Acknowledged: done.
    Delivered,
    /// The server is fine but cannot take it yet (409 same key executing, 424 an earlier
    /// command of the stream in the same batch failed): retry after a short delay, same region.
    RetrySoon,
    /// The server or the path to it is in trouble: retry with backoff, spend the retry budget,
    /// and let the router fail over to another region.
    RetryBackoff,
    /// The server refused this command for good: dead letter with its reason.
    Dead,
    /// The credentials were refused: stop all delivery until the host has a fresh token.
    AuthPause,
}

impl Class {
    /// Whether the caller should try another region for the next attempt.
    pub fn should_fail_over(self) -> bool {
        self == Class::RetryBackoff
    }
}

/// The status table of DESIGN §3.4, plus two cases it leaves open: 424 (see [`Class::RetrySoon`])
/// and statuses outside 2xx/4xx/5xx (1xx, 3xx a fetch did not follow, junk), which are retried
/// with backoff because nothing says the command itself is wrong.
pub fn classify_status(status: u16) -> Class {
    match status {
        200..=299 => Class::Delivered,
        401 => Class::AuthPause,
        409 | 424 => Class::RetrySoon,
        408 | 425 | 429 => Class::RetryBackoff,
        400..=499 => Class::Dead,
        _ => Class::RetryBackoff,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mfe_contract::ErrorBody;

    #[test]
    fn status_table() {
        let table = [
            (200, Class::Delivered),
            (201, Class::Delivered),
            (204, Class::Delivered),
            (299, Class::Delivered),
            (409, Class::RetrySoon),
            (424, Class::RetrySoon),
            (408, Class::RetryBackoff),
            (425, Class::RetryBackoff),
            (429, Class::RetryBackoff),
            (500, Class::RetryBackoff),
            (502, Class::RetryBackoff),
            (503, Class::RetryBackoff),
            (504, Class::RetryBackoff),
            (599, Class::RetryBackoff),
            (400, Class::Dead),
            (403, Class::Dead),
            (404, Class::Dead),
            (413, Class::Dead),
            (422, Class::Dead),
            (451, Class::Dead),
            (401, Class::AuthPause),
            (100, Class::RetryBackoff),
            (302, Class::RetryBackoff),
            (600, Class::RetryBackoff),
            (0, Class::RetryBackoff),
        ];
        for (status, class) in table {
            assert_eq!(classify_status(status), class, "{status}");
        }
    }

    #[test]
    fn network_and_timeout_back_off_and_fail_over() {
        assert_eq!(
            Outcome::Network("refused".into()).class(),
            Class::RetryBackoff
        );
        assert_eq!(Outcome::Timeout.class(), Class::RetryBackoff);
        assert!(Outcome::Timeout.class().should_fail_over());
        assert!(Outcome::http(503).class().should_fail_over());
        assert!(!Outcome::http(409).class().should_fail_over());
        assert!(!Outcome::http(422).class().should_fail_over());
    }

    #[test]
    fn describe_and_builders() {
        let o = Outcome::http(422)
            .with_reason("title too long")
            .with_retry_after("5");
        assert_eq!(o.describe(), "HTTP 422: title too long");
        assert_eq!(o.retry_after(), Some("5"));
        assert_eq!(Outcome::http(503).describe(), "HTTP 503");
        assert_eq!(
            Outcome::Network("refused".into()).describe(),
            "network error: refused"
        );
        assert_eq!(Outcome::Timeout.describe(), "timeout");
        assert_eq!(Outcome::Timeout.with_reason("x"), Outcome::Timeout);
    }

    #[test]
    fn batch_items_keep_the_server_reason() {
        let item = BatchItemResult {
            id: "a".into(),
            status: 422,
            ack: None,
            error: Some(ErrorBody::new("key_reused", "same key, different payload")),
        };
        let o = Outcome::from_batch_item(&item);
        assert_eq!(o.class(), Class::Dead);
        assert_eq!(o.describe(), "HTTP 422: same key, different payload");
    }
}
