//! Reading `manifest.json`: whole-file problems are errors, a bad app entry only disables that
//! app (DESIGN §3.2), so one team's broken publish never takes the other apps down.

use std::collections::BTreeMap;

use mfe_contract::{AppVersions, Manifest, RegionInfo, MANIFEST_SCHEMA};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::entry::parse_app;
use crate::rules::{self, quote};
use crate::{check_timestamp, FieldError, ManifestError};

/// Most development origins one manifest may allow; a handful is normal.
const MAX_DEV_ORIGINS: usize = 32;

const TOP_LEVEL_FIELDS: [&str; 5] = ["schema", "apps", "regions", "generated_at", "dev_origins"];

/// An app that is in the file but may not run, and why (the reason names the field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisabledApp {
    pub name: String,
    pub reason: String,
}

/// A manifest whose every app passed validation, plus the apps that did not.
///
/// `manifest.apps` holds only usable apps, so routing and slot resolution cannot pick up a
/// disabled one by accident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedManifest {
    pub manifest: Manifest,
    pub disabled: Vec<DisabledApp>,
}

impl ValidatedManifest {
    pub fn app(&self, name: &str) -> Option<&AppVersions> {
        self.manifest.apps.get(name)
    }

    /// Whether every app in the file was valid.
    pub fn is_clean(&self) -> bool {
        self.disabled.is_empty()
    }
}

/// Parses and validates `manifest.json`.
///
/// Errors for: text that is not JSON, a root that is not an object, an unknown top-level field,
/// a `schema` other than [`MANIFEST_SCHEMA`], a missing or malformed `apps`, `generated_at`
/// or `regions`. An invalid entry under `apps` is listed in
/// [`ValidatedManifest::disabled`] instead.
pub fn parse_manifest(text: &str) -> Result<ValidatedManifest, ManifestError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| ManifestError::NotJson(e.to_string()))?;
    let Value::Object(mut root) = value else {
        return Err(invalid("(root)", "expected a JSON object"));
    };
    if let Some(unknown) = root
        .keys()
        .find(|k| !TOP_LEVEL_FIELDS.contains(&k.as_str()))
    {
        return Err(invalid(
            unknown,
            format!("unknown field (expected {})", TOP_LEVEL_FIELDS.join(", ")),
        ));
    }
    let schema = read_schema(root.get("schema"))?;
    let generated_at = match root.remove("generated_at") {
        Some(Value::String(s)) => {
            check_timestamp(&s).map_err(|e| invalid("generated_at", e.to_string()))?;
            s
        }
        Some(_) => return Err(invalid("generated_at", "expected an RFC 3339 string")),
        None => return Err(invalid("generated_at", "missing")),
    };
    let regions = read_regions(root.remove("regions"))?;
    let dev_origins = read_dev_origins(root.remove("dev_origins"))?;
    let apps_value = match root.remove("apps") {
        Some(Value::Object(apps)) => apps,
        Some(_) => {
            return Err(invalid(
                "apps",
                "expected an object of name -> { current, previous }",
            ))
        }
        None => return Err(invalid("apps", "missing")),
    };
    let (apps, disabled) = read_apps(apps_value);
    Ok(ValidatedManifest {
        manifest: Manifest {
            schema,
            apps,
            regions,
            generated_at,
            dev_origins,
        },
        disabled,
    })
}

/// The canonical text of a manifest: pretty JSON with a final newline, as the deployer
/// writes it. [`parse_manifest`] reads it back unchanged.
pub fn to_json(manifest: &Manifest) -> String {
    // Serialising plain strings, numbers and maps cannot fail.
    let mut text = serde_json::to_string_pretty(manifest).unwrap_or_default();
    text.push('\n');
    text
}

fn invalid(field: &str, message: impl Into<String>) -> ManifestError {
    ManifestError::Invalid(FieldError::new(field, message))
}

fn read_schema(value: Option<&Value>) -> Result<u32, ManifestError> {
    match value {
        None => Err(invalid("schema", "missing")),
        Some(v) => match v.as_u64() {
            Some(n) if n == u64::from(MANIFEST_SCHEMA) => Ok(MANIFEST_SCHEMA),
            Some(n) => Err(invalid(
                "schema",
                format!("expected {MANIFEST_SCHEMA}, found {n}: this reader knows schema {MANIFEST_SCHEMA} only"),
            )),
            None => Err(invalid("schema", format!("expected the number {MANIFEST_SCHEMA}, found {v}"))),
        },
    }
}

fn read_regions(value: Option<Value>) -> Result<Vec<RegionInfo>, ManifestError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let regions: Vec<RegionInfo> = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "regions".to_string()
        } else {
            format!("regions{path}")
        };
        ManifestError::Invalid(FieldError::new(field, e.inner().to_string()))
    })?;
    for (i, region) in regions.iter().enumerate() {
        rules::app_name(&region.name).map_err(|m| invalid(&format!("regions[{i}].name"), m))?;
        let url_ok = (region.url.starts_with("http://") || region.url.starts_with("https://"))
            && region.url.len() <= rules::MAX_PATH_LEN;
        if !url_ok {
            return Err(invalid(
                &format!("regions[{i}].url"),
                format!(
                    "expected an http:// or https:// URL, found {}",
                    quote(&region.url)
                ),
            ));
        }
    }
    Ok(regions)
}

fn read_dev_origins(value: Option<Value>) -> Result<Vec<String>, ManifestError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let origins: Vec<String> = serde_json::from_value(value)
        .map_err(|e| invalid("dev_origins", format!("expected a list of origins: {e}")))?;
    if origins.len() > MAX_DEV_ORIGINS {
        return Err(invalid(
            "dev_origins",
            format!("more than {MAX_DEV_ORIGINS} origins"),
        ));
    }
    for (i, origin) in origins.iter().enumerate() {
        rules::origin(origin).map_err(|m| invalid(&format!("dev_origins[{i}]"), m))?;
    }
    Ok(origins)
}

fn read_apps(apps: Map<String, Value>) -> (BTreeMap<String, AppVersions>, Vec<DisabledApp>) {
    let mut usable = BTreeMap::new();
    let mut disabled = Vec::new();
    for (name, value) in apps {
        match parse_app(&name, value) {
            Ok(versions) => {
                usable.insert(name, versions);
            }
            Err(e) => disabled.push(DisabledApp {
                name,
                reason: e.to_string(),
            }),
        }
    }
    (usable, disabled)
}
