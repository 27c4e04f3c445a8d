//! `list`: what the tree serves, for people (a table) and machines (`--json`).

use std::fmt::Write as _;

use anyhow::Result;
use mfe_manifest::{DisabledApp, ValidatedManifest};
use serde::Serialize;

use crate::Cdn;

/// One app as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppListing {
    pub name: String,
    pub current: String,
    /// Rollback targets, newest first.
    pub previous: Vec<String>,
    pub routes: Vec<String>,
    pub slots: Vec<String>,
    pub requires: u32,
    pub bytes: Option<u64>,
    pub budget: Option<u64>,
    /// `wasm` for wasm-bindgen apps, `js` for plain ES modules.
    pub kind: &'static str,
}

/// The whole listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listing {
    /// False when the tree has no `manifest.json` yet.
    pub manifest_exists: bool,
    pub generated_at: Option<String>,
    pub apps: Vec<AppListing>,
    pub disabled: Vec<DisabledApp>,
}

/// Reads the tree's manifest without taking the lock: the file is replaced atomically, so a
/// reader always sees a complete version.
pub fn list(cdn: &Cdn) -> Result<Listing> {
    Ok(match cdn.read()? {
        None => Listing {
            manifest_exists: false,
            generated_at: None,
            apps: Vec::new(),
            disabled: Vec::new(),
        },
        Some(parsed) => from_manifest(parsed),
    })
}

fn from_manifest(parsed: ValidatedManifest) -> Listing {
    let apps = parsed
        .manifest
        .apps
        .iter()
        .map(|(name, versions)| {
            let d = &versions.current;
            AppListing {
                name: name.clone(),
                current: d.version.clone(),
                previous: versions
                    .previous
                    .iter()
                    .map(|p| p.version.clone())
                    .collect(),
                routes: d.routes.clone(),
                slots: d.slots.iter().map(|s| s.name.clone()).collect(),
                requires: d.requires,
                bytes: d.bytes,
                budget: d.budget,
                kind: if d.wasm.is_some() { "wasm" } else { "js" },
            }
        })
        .collect();
    Listing {
        manifest_exists: true,
        generated_at: Some(parsed.manifest.generated_at),
        apps,
        disabled: parsed.disabled,
    }
}

impl Listing {
    /// A plain-text table: name, current, previous versions, routes, bytes.
    pub fn to_table(&self) -> String {
        if !self.manifest_exists {
            return "no manifest.json yet: nothing published\n".into();
        }
        let header = ["NAME", "CURRENT", "PREVIOUS", "ROUTES", "BYTES"].map(String::from);
        let rows: Vec<[String; 5]> = self
            .apps
            .iter()
            .map(|a| {
                [
                    a.name.clone(),
                    a.current.clone(),
                    dash_if_empty(a.previous.join(", ")),
                    dash_if_empty(a.routes.join(" ")),
                    match (a.bytes, a.budget) {
                        (Some(b), Some(max)) => format!("{b} / {max}"),
                        (Some(b), None) => b.to_string(),
                        _ => "-".into(),
                    },
                ]
            })
            .collect();
        let mut widths = header.clone().map(|h| h.len());
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&header).chain(&rows) {
            let mut line = String::new();
            for (cell, w) in row.iter().zip(widths) {
                let _ = write!(line, "{cell:<w$}  ");
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        if self.apps.is_empty() {
            out.push_str("(no apps)\n");
        }
        for d in &self.disabled {
            let _ = writeln!(out, "DISABLED {}: {}", d.name, d.reason);
        }
        out
    }
}

fn dash_if_empty(s: String) -> String {
    if s.is_empty() {
        "-".into()
    } else {
        s
    }
}
