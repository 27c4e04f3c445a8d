//! The command a user issued, as it travels from the shell to a region, and the region's answer.

use serde::{Deserialize, Serialize};

/// A user command on the wire (`POST /commands`). Its `id` (a UUIDv7) doubles as the
/// `Idempotency-Key`, so any number of resends, to any region, take effect once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Command {
    /// UUIDv7, unique per command, also sent as the `Idempotency-Key` header.
    pub id: String,
    /// Stable id of the browser profile that issued the command.
    pub client_id: String,
    /// Per-client sequence number; orders commands of one stream.
    pub seq: u64,
    /// Ordering domain: commands of one stream are delivered in order.
    pub stream: String,
    /// What the command does, e.g. `task.add`.
    pub kind: String,
    /// The micro app that dispatched it.
    pub app: String,
    /// Application data, opaque to the shell and the transport.
    pub payload: serde_json::Value,
    /// When the user issued it, milliseconds since the Unix epoch.
    pub created_at: i64,
}

/// A region's answer to an accepted command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandAck {
    pub id: String,
    /// Region that executed the command first (replays keep the original answer).
    pub region: String,
    /// Server time of the first execution, ms since the Unix epoch.
    pub accepted_at: i64,
}

/// Most commands a region takes in one `POST /commands:batch` (more: 413 `too_many_commands`).
/// Clients send full batches by default and halve them when a region answers 413 to a batch,
/// so a region with a lower limit is served too, in more requests.
pub const MAX_BATCH_COMMANDS: usize = 500;

/// Body of `POST /commands:batch`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    pub commands: Vec<Command>,
}

/// Result of one command inside a batch, with the status it would have had alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchItemResult {
    pub id: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack: Option<CommandAck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<crate::ErrorBody>,
}

/// Body of a `POST /commands:batch` answer: one result per command, in request order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchResponse {
    pub results: Vec<BatchItemResult>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Command {
        Command {
            id: "0190f3c2-7a2b-7cde-8f00-0123456789ab".into(),
            client_id: "c1".into(),
            seq: 7,
            stream: "tasks".into(),
            kind: "task.add".into(),
            app: "tasks".into(),
            payload: serde_json::json!({"title": "buy milk"}),
            created_at: 1_700_000_000_000,
        }
    }

    #[test]
    fn command_round_trips_through_json() {
        let cmd = sample();
        let text = serde_json::to_string(&cmd).unwrap();
        assert_eq!(serde_json::from_str::<Command>(&text).unwrap(), cmd);
    }

    #[test]
    fn command_rejects_unknown_fields() {
        let mut value = serde_json::to_value(sample()).unwrap();
        value["surprise"] = serde_json::json!(1);
        let err = serde_json::from_value::<Command>(value).unwrap_err();
        assert!(err.to_string().contains("surprise"), "{err}");
    }

    #[test]
    fn batch_round_trips() {
        let batch = BatchRequest {
            commands: vec![sample(), sample()],
        };
        let text = serde_json::to_string(&batch).unwrap();
        assert_eq!(serde_json::from_str::<BatchRequest>(&text).unwrap(), batch);
        let answer = BatchResponse {
            results: vec![BatchItemResult {
                id: "x".into(),
                status: 201,
                ack: Some(CommandAck {
                    id: "x".into(),
                    region: "eu-west".into(),
                    accepted_at: 5,
                }),
                error: None,
            }],
        };
        let text = serde_json::to_string(&answer).unwrap();
        assert!(!text.contains("\"error\""));
        assert_eq!(
            serde_json::from_str::<BatchResponse>(&text).unwrap(),
            answer
        );
    }
}
