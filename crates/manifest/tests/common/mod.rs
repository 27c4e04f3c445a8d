//! Fixtures shared by the integration tests.
#![allow(dead_code)]

use mfe_manifest::{sri, AppDescriptor, AppIntegrity, SlotSpec, SriAlgorithm};

pub const T0: &str = "2026-01-01T00:00:00Z";
pub const T1: &str = "2026-01-02T00:00:00Z";

/// A valid descriptor whose content depends only on `name` and `version`, like a real publish
/// of the same bytes.
pub fn app(name: &str, version: &str) -> AppDescriptor {
    AppDescriptor {
        name: name.into(),
        version: version.into(),
        entry: format!("/apps/{name}/{version}/{name}.js"),
        wasm: Some(format!("/apps/{name}/{version}/{name}_bg.wasm")),
        integrity: AppIntegrity {
            entry: sri(
                SriAlgorithm::Sha384,
                format!("{name}@{version}.js").as_bytes(),
            ),
            wasm: Some(sri(
                SriAlgorithm::Sha384,
                format!("{name}@{version}.wasm").as_bytes(),
            )),
        },
        routes: vec![format!("/{name}"), format!("/{name}/*")],
        slots: vec![SlotSpec {
            name: "nav".into(),
            order: 0,
            roles: vec![],
            env: vec![],
        }],
        requires: 1,
        budget: Some(500_000),
        bytes: Some(1_000),
    }
}
