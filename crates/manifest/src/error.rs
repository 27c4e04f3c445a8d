//! Errors that name the field at fault, so whoever reads them can fix the input without
//! guessing which of a dozen similar strings was wrong.

/// One rule broken by one field, e.g. `integrity.entry: expected "sha384-<base64>" …`.
///
/// `field` is a path in the JSON document (`apps.tasks.previous[1].routes[0]`); functions that
/// check a single descriptor report paths relative to it, and callers that know where the
/// descriptor sits put their prefix in front with [`FieldError::within`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Puts `prefix` in front of the field path: `current` + `integrity.entry` gives
    /// `current.integrity.entry`, `routes` + `[2]` gives `routes[2]`.
    pub fn within(mut self, prefix: &str) -> Self {
        self.field = if prefix.is_empty() {
            self.field
        } else if self.field.is_empty() {
            prefix.to_string()
        } else if self.field.starts_with('[') {
            format!("{prefix}{}", self.field)
        } else {
            format!("{prefix}.{}", self.field)
        };
        self
    }
}

/// Why a manifest could not be read or edited.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// The text is not JSON at all.
    #[error("manifest is not valid JSON: {0}")]
    NotJson(String),
    /// The file as a whole is unusable (wrong schema, no `apps`, bad `generated_at`, …).
    #[error("manifest is invalid: {0}")]
    Invalid(FieldError),
    /// A descriptor handed to [`crate::merge`] breaks a rule.
    #[error("app descriptor is invalid: {0}")]
    InvalidApp(FieldError),
    /// Published versions are immutable: the same version must mean the same bytes.
    #[error("{name}: version {version} already published with different content")]
    VersionConflict { name: String, version: String },
    #[error("no app named {0:?} in the manifest")]
    UnknownApp(String),
    #[error("{0} has no previous version to roll back to")]
    NothingToRollBack(String),
    #[error(
        "{name} has no previous version {version} (previous versions: {})",
        if .available.is_empty() { "none".to_string() } else { .available.join(", ") }
    )]
    UnknownVersion {
        name: String,
        version: String,
        available: Vec<String>,
    },
    #[error("{name} {version} is already the current version")]
    AlreadyCurrent { name: String, version: String },
    #[error("time {0:?} is not an RFC 3339 timestamp (e.g. 2026-11-26T08:00:00Z)")]
    InvalidTime(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_joins_paths() {
        let e = FieldError::new("integrity.entry", "bad").within("apps.tasks.current");
        assert_eq!(e.field, "apps.tasks.current.integrity.entry");
        assert_eq!(
            FieldError::new("[2]", "x").within("routes").field,
            "routes[2]"
        );
        assert_eq!(FieldError::new("", "x").within("apps.a").field, "apps.a");
        assert_eq!(e.to_string(), "apps.tasks.current.integrity.entry: bad");
    }

    #[test]
    fn unknown_version_lists_what_exists() {
        let e = ManifestError::UnknownVersion {
            name: "tasks".into(),
            version: "9.9.9".into(),
            available: vec!["1.1.0".into(), "1.0.0".into()],
        };
        assert_eq!(
            e.to_string(),
            "tasks has no previous version 9.9.9 (previous versions: 1.1.0, 1.0.0)"
        );
    }
}
