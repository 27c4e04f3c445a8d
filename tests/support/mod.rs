//! What the browser tests share.

use mfe_contract::Command;

/// A `task.add` command of the `tasks` stream, with its title as payload.
pub fn task_command(id: &str, title: &str, created_at: i64) -> Command {
    Command {
        id: id.into(),
        client_id: "client".into(),
        seq: 0,
        stream: "tasks".into(),
        kind: "task.add".into(),
        app: "tasks".into(),
        payload: serde_json::json!({ "title": title }),
        created_at,
    }
}
