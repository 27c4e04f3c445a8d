//! Typed events between apps (DESIGN §3.3). Two teams agree on a topic name and a payload
//! shape, each declares the same `Topic<T>` with its own type; the host carries the payload as
//! plain JSON, so neither app depends on the other's crate.

use std::marker::PhantomData;

/// A named event channel whose payloads are `T` (serialised with serde).
pub struct Topic<T> {
    name: &'static str,
    _payload: PhantomData<fn() -> T>,
}

impl<T> Topic<T> {
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            _payload: PhantomData,
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }
}
