//! Validation of one `apps.<name>` entry of `manifest.json`: `{ current, previous[] }`.

use std::collections::BTreeSet;

use mfe_contract::{AppDescriptor, AppVersions};
use serde_json::Value;

use crate::{rules, validate_descriptor, FieldError};

/// Longest `previous` list accepted on read; the deployer keeps far fewer.
const MAX_PREVIOUS: usize = 100;

/// Turns `value` into the versions of app `key`, or names the first field that is wrong
/// (`apps.<key>.…`). Every version must be valid, not only `current`: the client may fall back
/// to any of them, and an entry the deployer never wrote is suspect as a whole.
pub(crate) fn parse_app(key: &str, value: Value) -> Result<AppVersions, FieldError> {
    let at = format!("apps.{key}");
    rules::app_name(key)
        .map_err(|m| FieldError::new(at.as_str(), format!("invalid app name: {m}")))?;
    let versions: AppVersions = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            at.clone()
        } else {
            format!("{at}.{path}")
        };
        FieldError::new(field, e.inner().to_string())
    })?;
    check_version(key, &versions.current).map_err(|e| e.within(&format!("{at}.current")))?;
    if versions.previous.len() > MAX_PREVIOUS {
        return Err(FieldError::new(
            format!("{at}.previous"),
            format!("more than {MAX_PREVIOUS} versions"),
        ));
    }
    let mut seen = BTreeSet::from([versions.current.version.as_str()]);
    for (i, d) in versions.previous.iter().enumerate() {
        let at_i = format!("{at}.previous[{i}]");
        check_version(key, d).map_err(|e| e.within(&at_i))?;
        if !seen.insert(d.version.as_str()) {
            return Err(FieldError::new(
                format!("{at_i}.version"),
                format!("version {} is listed twice", d.version),
            ));
        }
    }
    Ok(versions)
}

fn check_version(key: &str, d: &AppDescriptor) -> Result<(), FieldError> {
    validate_descriptor(d)?;
    if d.name != key {
        return Err(FieldError::new(
            "name",
            format!("expected {key:?} (its key under apps), found {:?}", d.name),
        ));
    }
    Ok(())
}
