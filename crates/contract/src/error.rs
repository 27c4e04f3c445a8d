//! The error body every region answers with, so clients can show the server's reason.

use serde::{Deserialize, Serialize};

/// `{ "error": "<stable code>", "message": "<plain words>" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Machine-readable code, e.g. `missing_idempotency_key`.
    pub error: String,
    /// What went wrong, in words a person can act on.
    pub message: String,
}

impl ErrorBody {
    pub fn new(error: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_round_trips() {
        let body = ErrorBody::new("payload_too_large", "body over 64 KiB");
        let text = serde_json::to_string(&body).unwrap();
        assert_eq!(
            text,
            r#"{"error":"payload_too_large","message":"body over 64 KiB"}"#
        );
        assert_eq!(serde_json::from_str::<ErrorBody>(&text).unwrap(), body);
    }
}
