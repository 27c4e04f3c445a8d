//! Checks that depend on something outside the descriptor (the host's API version) or that
//! the deployer repeats after measuring the real bytes.

use mfe_contract::AppDescriptor;

use crate::FieldError;

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
