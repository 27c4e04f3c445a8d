//! Checks that depend on something outside the descriptor (the host's API version) or that
//! the deployer repeats after measuring the real bytes.

use mfe_contract::{AppDescriptor, Manifest};

use crate::FieldError;

/// The origin (`scheme://host[:port]`) of an absolute http(s) URL, lowercased; `None` for
/// anything else (relative paths, other schemes, user info).
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    Some(format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

/// Whether a development override may load an app from `url`: only from an origin the
/// manifest lists in `dev_origins`, so a stray localStorage entry cannot point the shell at an
/// arbitrary server.
pub fn check_dev_origin(manifest: &Manifest, url: &str) -> Result<(), FieldError> {
    let origin = origin_of(url).ok_or_else(|| {
        FieldError::new(
            "dev_origins",
            format!("{url:?} is not an absolute http(s) URL"),
        )
    })?;
    if manifest.dev_origins.contains(&origin) {
        Ok(())
    } else if manifest.dev_origins.is_empty() {
        Err(FieldError::new(
            "dev_origins",
            "this manifest allows no development origins",
        ))
    } else {
        Err(FieldError::new(
            "dev_origins",
            format!(
                "{origin} is not allowed (allowed: {})",
                manifest.dev_origins.join(", ")
            ),
        ))
    }
}

/// Refuses an app that needs a newer host API than `host_api_version`, so it is rejected at
/// publish time (or skipped by the shell) instead of failing inside `mount`.
pub fn check_requires(descriptor: &AppDescriptor, host_api_version: u32) -> Result<(), FieldError> {
    if descriptor.requires > host_api_version {
        return Err(FieldError::new(
            "requires",
            format!(
                "{} {} needs host API v{}, but this shell provides v{host_api_version}",
                descriptor.name, descriptor.version, descriptor.requires
            ),
        ));
    }
    Ok(())
}

/// Refuses an app whose shipped `bytes` exceed its own `budget`. Either being absent passes:
/// a budget is the team's promise, not a requirement to have one.
pub fn check_budget(descriptor: &AppDescriptor) -> Result<(), FieldError> {
    match (descriptor.bytes, descriptor.budget) {
        (Some(bytes), Some(budget)) if bytes > budget => Err(FieldError::new(
            "bytes",
            format!(
                "{} {} ships {bytes} bytes, over its budget of {budget} bytes by {}",
                descriptor.name,
                descriptor.version,
                bytes - budget
            ),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptor::tests::sample;

    #[test]
    fn requires_at_most_the_host_version() {
        let mut d = sample("1.0.0");
        d.requires = 2;
        assert!(check_requires(&d, 2).is_ok());
        assert!(check_requires(&d, 3).is_ok());
        let err = check_requires(&d, 1).unwrap_err();
        assert_eq!(err.field, "requires");
        assert!(err.message.contains("needs host API v2"), "{err}");
    }

    #[test]
    fn dev_origins_allow_listed_origins_only() {
        let mut m = crate::empty_manifest("2026-01-01T00:00:00Z").unwrap();
        let url = "http://localhost:5173/apps/tasks/mfe.json";
        let err = check_dev_origin(&m, url).unwrap_err();
        assert!(err.message.contains("allows no"), "{err}");
        m.dev_origins = vec!["http://localhost:5173".into()];
        assert!(check_dev_origin(&m, url).is_ok());
        assert!(check_dev_origin(&m, "HTTP://LOCALHOST:5173/x").is_ok());
        let err = check_dev_origin(&m, "http://localhost:5174/x").unwrap_err();
        assert!(err.message.contains("not allowed"), "{err}");
        assert!(check_dev_origin(&m, "http://user@localhost:5173/x").is_err());
        assert!(check_dev_origin(&m, "/apps/tasks/mfe.json").is_err());
        assert!(check_dev_origin(&m, "javascript://localhost:5173/").is_err());
    }

    #[test]
    fn bytes_within_budget() {
        let mut d = sample("1.0.0");
        d.budget = Some(100);
        d.bytes = Some(100);
        assert!(check_budget(&d).is_ok());
        d.bytes = Some(101);
        let err = check_budget(&d).unwrap_err();
        assert_eq!(err.field, "bytes");
        assert!(
            err.message.contains("over its budget of 100 bytes by 1"),
            "{err}"
        );
        d.budget = None;
        assert!(check_budget(&d).is_ok());
    }
}
