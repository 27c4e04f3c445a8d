//! Validation of one per-app `mfe.json` (an [`AppDescriptor`]).

use std::collections::BTreeSet;

use mfe_contract::AppDescriptor;

use crate::checks::check_budget;
use crate::routes::parse_pattern;
use crate::rules;
use crate::sri::parse_integrity;
use crate::FieldError;

/// Most routes or slots one app may declare; more is almost certainly a mistake.
const MAX_ENTRIES: usize = 64;

/// Checks every rule of DESIGN §3.2 on one descriptor and reports the first broken one, with
/// the field path relative to the descriptor (`integrity.entry`, `slots[1].name`, …).
///
/// The checks run in document order so that fixing one error never hides an earlier one.
pub fn validate_descriptor(d: &AppDescriptor) -> Result<(), FieldError> {
    rules::app_name(&d.name).map_err(|m| FieldError::new("name", m))?;
    rules::version(&d.version).map_err(|m| FieldError::new("version", m))?;
    let base = format!("/apps/{}/{}/", d.name, d.version);
    rules::asset_path(&d.entry, &base, ".js").map_err(|m| FieldError::new("entry", m))?;
    match (&d.wasm, &d.integrity.wasm) {
        (Some(wasm), _) => {
            rules::asset_path(wasm, &base, ".wasm").map_err(|m| FieldError::new("wasm", m))?
        }
        (None, Some(_)) => {
            return Err(FieldError::new(
                "wasm",
                "missing, but integrity.wasm is set: both or neither",
            ))
        }
        (None, None) => {}
    }
    parse_integrity(&d.integrity.entry).map_err(|m| FieldError::new("integrity.entry", m))?;
    match &d.integrity.wasm {
        Some(sri) => {
            parse_integrity(sri).map_err(|m| FieldError::new("integrity.wasm", m))?;
        }
        None if d.wasm.is_some() => {
            return Err(FieldError::new(
                "integrity.wasm",
                "missing, but wasm is set: the shell only runs wasm it can verify",
            ))
        }
        None => {}
    }
    validate_routes(&d.routes).map_err(|e| e.within("routes"))?;
    validate_slots(d).map_err(|e| e.within("slots"))?;
    if d.requires == 0 {
        return Err(FieldError::new(
            "requires",
            "must be at least 1 (the first host API version)",
        ));
    }
    if let Some(budget) = d.budget {
        rules::byte_count(budget).map_err(|m| FieldError::new("budget", m))?;
    }
    if let Some(bytes) = d.bytes {
        rules::byte_count(bytes).map_err(|m| FieldError::new("bytes", m))?;
    }
    check_budget(d)
}

fn validate_routes(routes: &[String]) -> Result<(), FieldError> {
    if routes.len() > MAX_ENTRIES {
        return Err(FieldError::new(
            "",
            format!("more than {MAX_ENTRIES} routes"),
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, route) in routes.iter().enumerate() {
        let at = format!("[{i}]");
        parse_pattern(route).map_err(|m| FieldError::new(at.as_str(), m))?;
        if !seen.insert(route.as_str()) {
            return Err(FieldError::new(at, format!("duplicate route {route:?}")));
        }
    }
    Ok(())
}

fn validate_slots(d: &AppDescriptor) -> Result<(), FieldError> {
    if d.slots.len() > MAX_ENTRIES {
        return Err(FieldError::new(
            "",
            format!("more than {MAX_ENTRIES} slots"),
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, slot) in d.slots.iter().enumerate() {
        let at = format!("[{i}]");
        rules::slot_name(&slot.name).map_err(|m| FieldError::new("name", m).within(&at))?;
        if !seen.insert(slot.name.as_str()) {
            return Err(FieldError::new(
                "name",
                format!(
                    "duplicate slot {:?}: an app contributes once per slot",
                    slot.name
                ),
            )
            .within(&at));
        }
        for (list, labels) in [("roles", &slot.roles), ("env", &slot.env)] {
            if labels.len() > MAX_ENTRIES {
                return Err(
                    FieldError::new(list, format!("more than {MAX_ENTRIES} entries")).within(&at),
                );
            }
            for (j, value) in labels.iter().enumerate() {
                rules::label(value)
                    .map_err(|m| FieldError::new(format!("{list}[{j}]"), m).within(&at))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use mfe_contract::{AppIntegrity, SlotSpec};

    use super::*;
    use crate::{sri, SriAlgorithm};

    /// A valid Rust-app descriptor for `tasks` at `version`.
    pub(crate) fn sample(version: &str) -> AppDescriptor {
        AppDescriptor {
            name: "tasks".into(),
            version: version.into(),
            entry: format!("/apps/tasks/{version}/tasks.js"),
            wasm: Some(format!("/apps/tasks/{version}/tasks_bg.wasm")),
            integrity: AppIntegrity {
                entry: sri(SriAlgorithm::Sha384, b"js"),
                wasm: Some(sri(SriAlgorithm::Sha384, b"wasm")),
            },
            routes: vec!["/tasks".into(), "/tasks/*".into()],
            slots: vec![SlotSpec {
                name: "nav".into(),
                order: 10,
                roles: vec!["user".into()],
                env: vec!["dev".into()],
            }],
            requires: 1,
            budget: Some(200_000),
            bytes: Some(150_000),
        }
    }

    fn rejects(edit: impl FnOnce(&mut AppDescriptor), field: &str, words: &str) {
        let mut d = sample("1.0.0");
        edit(&mut d);
        let err = validate_descriptor(&d).expect_err("should be rejected");
        assert_eq!(err.field, field, "{err}");
        assert!(err.message.contains(words), "{err}");
    }

    #[test]
    fn sample_is_valid() {
        assert_eq!(validate_descriptor(&sample("1.0.0")), Ok(()));
        assert_eq!(validate_descriptor(&sample("2.0.0-rc.1")), Ok(()));
    }

    #[test]
    fn plain_js_app_is_valid() {
        let mut d = sample("1.0.0");
        d.wasm = None;
        d.integrity.wasm = None;
        assert_eq!(validate_descriptor(&d), Ok(()));
    }

    #[test]
    fn name_and_version() {
        rejects(|d| d.name = "Tasks".into(), "name", "lowercase");
        rejects(|d| d.name = String::new(), "name", "lowercase");
        rejects(|d| d.version = "1.0".into(), "version", "semver");
        rejects(
            |d| d.version = "1.0.0+b1".into(),
            "version",
            "build metadata",
        );
    }

    #[test]
    fn asset_urls() {
        rejects(
            |d| d.entry = "/apps/tasks/1.0.0/tasks.mjs".into(),
            "entry",
            ".js",
        );
        rejects(
            |d| d.entry = "/apps/other/1.0.0/tasks.js".into(),
            "entry",
            "/apps/tasks/1.0.0/",
        );
        rejects(
            |d| d.entry = "https://cdn.example/apps/tasks/1.0.0/t.js".into(),
            "entry",
            "no scheme",
        );
        rejects(
            |d| d.entry = "/apps/tasks/1.0.0/../2.0.0/t.js".into(),
            "entry",
            "..",
        );
        rejects(
            |d| d.wasm = Some("/apps/tasks/1.0.0/t.js".into()),
            "wasm",
            ".wasm",
        );
        rejects(
            |d| d.wasm = Some("//x/apps/tasks/1.0.0/t.wasm".into()),
            "wasm",
            "no scheme",
        );
    }

    #[test]
    fn integrity() {
        rejects(
            |d| d.integrity.entry = "sha384-AAAA".into(),
            "integrity.entry",
            "expected \"sha384-<base64>\"",
        );
        rejects(
            |d| d.integrity.entry = "md5-AAAA".into(),
            "integrity.entry",
            "expected \"sha384-<base64>\"",
        );
        rejects(
            |d| d.integrity.wasm = Some("sha384".into()),
            "integrity.wasm",
            "expected",
        );
        rejects(|d| d.integrity.wasm = None, "integrity.wasm", "wasm is set");
        rejects(
            |d| {
                d.integrity.wasm = Some(sri(SriAlgorithm::Sha512, b""));
                d.wasm = None;
            },
            "wasm",
            "both or neither",
        );
        let mut d = sample("1.0.0");
        d.integrity.entry = sri(SriAlgorithm::Sha256, b"js");
        d.integrity.wasm = Some(sri(SriAlgorithm::Sha512, b"wasm"));
        assert_eq!(validate_descriptor(&d), Ok(()));
    }

    #[test]
    fn routes() {
        rejects(
            |d| d.routes = vec!["tasks".into()],
            "routes[0]",
            "start with '/'",
        );
        rejects(
            |d| d.routes.push("/a/*/b".into()),
            "routes[2]",
            "last segment",
        );
        rejects(|d| d.routes.push("/tasks".into()), "routes[2]", "duplicate");
        rejects(
            |d| d.routes = vec!["/x".into(); MAX_ENTRIES + 1],
            "routes",
            "more than",
        );
        let mut d = sample("1.0.0");
        d.routes.clear();
        assert_eq!(
            validate_descriptor(&d),
            Ok(()),
            "slot-only apps have no routes"
        );
    }

    #[test]
    fn slots() {
        rejects(
            |d| d.slots[0].name = "Nav".into(),
            "slots[0].name",
            "lowercase",
        );
        rejects(
            |d| d.slots[0].name = "main_area".into(),
            "slots[0].name",
            "lowercase",
        );
        rejects(
            |d| d.slots.push(d.slots[0].clone()),
            "slots[1].name",
            "duplicate",
        );
        rejects(
            |d| d.slots[0].roles.push(String::new()),
            "slots[0].roles[1]",
            "printable",
        );
        rejects(
            |d| d.slots[0].env = vec!["my env".into()],
            "slots[0].env[0]",
            "printable",
        );
    }

    #[test]
    fn requires_budget_bytes() {
        rejects(|d| d.requires = 0, "requires", "at least 1");
        rejects(|d| d.budget = Some(0), "budget", "at least 1");
        rejects(|d| d.budget = Some(u64::MAX), "budget", "unit");
        rejects(|d| d.bytes = Some(0), "bytes", "at least 1");
        rejects(|d| d.bytes = Some(200_001), "bytes", "over its budget");
    }
}
