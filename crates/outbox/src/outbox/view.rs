//! Read-only views: the status bar's counts, the inspector's list, and the narrower view an
//! app gets, which only ever shows that app's own commands.

use super::Outbox;
use crate::entry::{Counts, Entry};
use mfe_contract::CommandStatus;

impl Outbox {
    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.entries.get(id)
    }

    pub fn status(&self, id: &str) -> Option<CommandStatus> {
        self.entries.get(id).map(|e| e.status)
    }

    /// Every entry, by id (UUIDv7 ids sort by creation time).
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// Open entries of one stream, in the order they will be delivered.
    pub fn stream(&self, stream: &str) -> Vec<&Entry> {
        self.queues
            .get(stream)
            .map(|q| {
                q.iter()
                    .filter_map(|(_, id)| self.entries.get(id))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for e in self.entries.values() {
            c.add(e.status);
        }
        c
    }

    /// The outbox as one app may see it.
    pub fn for_app<'a>(&'a self, app: &'a str) -> AppView<'a> {
        AppView { outbox: self, app }
    }
}

/// An app's window on the outbox: only commands it dispatched.
#[derive(Debug, Clone, Copy)]
pub struct AppView<'a> {
    outbox: &'a Outbox,
    app: &'a str,
}

impl<'a> AppView<'a> {
    /// `None` both for unknown ids and for other apps' commands, so an app can't even learn
    /// whether another app's id exists.
    pub fn get(&self, id: &str) -> Option<&'a Entry> {
        self.outbox.get(id).filter(|e| e.app() == self.app)
    }

    pub fn status(&self, id: &str) -> Option<CommandStatus> {
        self.get(id).map(|e| e.status)
    }

    pub fn entries(&self) -> impl Iterator<Item = &'a Entry> + 'a {
        let app = self.app;
        self.outbox.entries().filter(move |e| e.app() == app)
    }

    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for e in self.entries() {
            c.add(e.status);
        }
        c
    }
}
