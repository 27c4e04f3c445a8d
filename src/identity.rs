//! This browser profile's client id and command ids.

const CLIENT_ID_KEY: &str = "mfe.client_id";

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// A stable random id for this browser profile, created on first use. Regions use it with
/// `seq` to tell one client's commands apart; it is not a credential.
pub fn client_id() -> String {
    let storage = local_storage();
    if let Some(id) = storage
        .as_ref()
        .and_then(|s| s.get_item(CLIENT_ID_KEY).ok().flatten())
        .filter(|id| uuid::Uuid::parse_str(id).is_ok())
    {
        return id;
    }
    let id = uuid::Uuid::now_v7().to_string();
    if let Some(storage) = storage {
        let _ = storage.set_item(CLIENT_ID_KEY, &id);
    }
    id
}

/// A new command id: UUIDv7, so ids sort by creation time and double as idempotency keys.
pub fn new_command_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
