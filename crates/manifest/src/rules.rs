//! The syntax rules for single values, as small functions returning a message. Callers attach
//! the field name, so a rule reads the same wherever the value appears.

use std::fmt::Write as _;

/// Longest app name: short enough for URLs, log lines and the inspector.
pub(crate) const MAX_NAME_LEN: usize = 40;
/// Longest asset URL or route pattern we accept; longer ones are a mistake, not a need.
pub(crate) const MAX_PATH_LEN: usize = 512;
/// Longest role or environment label.
pub(crate) const MAX_LABEL_LEN: usize = 64;
/// An upper bound for `budget` and `bytes` (1 GiB): anything larger is a unit mistake.
pub(crate) const MAX_BYTES: u64 = 1 << 30;

/// Quotes a value for an error message, shortened so a huge input cannot flood a log.
pub(crate) fn quote(value: &str) -> String {
    const KEEP: usize = 60;
    let mut shown: String = value.chars().take(KEEP).collect();
    if value.chars().nth(KEEP).is_some() {
        shown.push('…');
    }
    let mut out = String::new();
    let _ = write!(out, "{shown:?}");
    out
}

/// `[a-z][a-z0-9-]{0,max-1}`: used for app names and slot names.
fn lower_ident(value: &str, max: usize) -> Result<(), String> {
    let mut chars = value.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if first_ok && rest_ok && value.len() <= max {
        Ok(())
    } else {
        Err(format!(
            "expected a lowercase letter then up to {} of a-z, 0-9, '-', found {}",
            max - 1,
            quote(value)
        ))
    }
}

/// App names appear in URLs (`/apps/<name>/…`) and as manifest keys.
pub(crate) fn app_name(value: &str) -> Result<(), String> {
    lower_ident(value, MAX_NAME_LEN)
}

/// Slot names are the shell's mount-point ids (`nav`, `main`, …).
pub(crate) fn slot_name(value: &str) -> Result<(), String> {
    lower_ident(value, MAX_NAME_LEN)
}

/// A semver version with an optional pre-release and no build metadata: build metadata is
/// ignored by semver precedence, so two "different" versions could compare equal.
pub(crate) fn version(value: &str) -> Result<(), String> {
    if value.len() > MAX_NAME_LEN * 2 {
        return Err(format!("too long: {}", quote(value)));
    }
    let parsed = semver::Version::parse(value).map_err(|e| {
        format!(
            "expected a semver version MAJOR.MINOR.PATCH[-PRE], found {}: {e}",
            quote(value)
        )
    })?;
    if !parsed.build.is_empty() {
        return Err(format!(
            "build metadata (+{}) is not allowed: semver ignores it when comparing versions",
            parsed.build
        ));
    }
    Ok(())
}

/// A same-origin absolute path under `base` (`/apps/<name>/<version>/`) ending in `ext`.
///
/// Only plain file-name characters are allowed, so the path means the same thing to the
/// deployer's file system, the static server and the browser.
pub(crate) fn asset_path(value: &str, base: &str, ext: &str) -> Result<(), String> {
    let found = quote(value);
    if value.len() > MAX_PATH_LEN {
        return Err(format!("longer than {MAX_PATH_LEN} characters: {found}"));
    }
    if value.contains("://") || value.starts_with("//") {
        return Err(format!(
            "must be a same-origin path under \"{base}\" (no scheme or host), found {found}"
        ));
    }
    let Some(rest) = value.strip_prefix(base) else {
        return Err(format!("must be a path under \"{base}\", found {found}"));
    };
    let segment_count = rest.split('/').count();
    for (i, segment) in rest.split('/').enumerate() {
        match segment {
            "" if i + 1 == segment_count => {
                return Err(format!("must name a file, found {found}"));
            }
            "" => return Err(format!("must not contain \"//\", found {found}")),
            "." | ".." => {
                return Err(format!(
                    "must not contain \".\" or \"..\" segments, found {found}"
                ))
            }
            _ if !segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) =>
            {
                return Err(format!(
                    "may only contain letters, digits, '.', '_', '-' and '/', found {found}"
                ))
            }
            _ => {}
        }
    }
    let file = rest.rsplit('/').next().unwrap_or(rest);
    if file.len() <= ext.len() || !file.ends_with(ext) {
        return Err(format!("must end with {ext}, found {found}"));
    }
    Ok(())
}

/// An origin as browsers write it: `http(s)://host[:port]`, lowercase, nothing after it.
pub(crate) fn origin(value: &str) -> Result<(), String> {
    let found = quote(value);
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .ok_or_else(|| format!("expected http:// or https:// then a host, found {found}"))?;
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-'));
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit()));
    if host_ok && port_ok {
        Ok(())
    } else {
        Err(format!(
            "expected an origin such as \"https://dev.example.com:8443\" (lowercase host, no path), found {found}"
        ))
    }
}

/// A role or environment label: printable, no spaces, not empty.
pub(crate) fn label(value: &str) -> Result<(), String> {
    if value.is_empty()
        || value.len() > MAX_LABEL_LEN
        || !value.chars().all(|c| c.is_ascii_graphic())
    {
        return Err(format!(
            "expected 1 to {MAX_LABEL_LEN} printable ASCII characters without spaces, found {}",
            quote(value)
        ));
    }
    Ok(())
}

/// A byte count that is at least 1 and at most [`MAX_BYTES`].
pub(crate) fn byte_count(value: u64) -> Result<(), String> {
    if value == 0 {
        Err("must be at least 1 byte".into())
    } else if value > MAX_BYTES {
        Err(format!(
            "{value} is more than 1 GiB ({MAX_BYTES}): check the unit (bytes)"
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_names() {
        for ok in ["a", "tasks", "my-app-2", &"a".repeat(40)] {
            assert!(app_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Tasks",
            "1app",
            "-app",
            "my_app",
            "app.js",
            "ä",
            &"a".repeat(41),
        ] {
            assert!(app_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn versions() {
        for ok in ["0.1.0", "1.2.3", "1.0.0-rc.1", "10.20.30-alpha"] {
            assert!(version(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1", "1.2", "v1.2.3", "01.2.3", "1.2.3.4", "latest"] {
            assert!(version(bad).unwrap_err().contains("semver"), "{bad}");
        }
        assert!(version("1.2.3+build.5")
            .unwrap_err()
            .contains("build metadata"));
    }

    #[test]
    fn asset_paths() {
        let base = "/apps/tasks/1.0.0/";
        for ok in [
            "/apps/tasks/1.0.0/tasks.js",
            "/apps/tasks/1.0.0/sub/x-y_z.1.js",
        ] {
            assert!(asset_path(ok, base, ".js").is_ok(), "{ok}");
        }
        let cases = [
            ("https://evil.example/apps/tasks/1.0.0/t.js", "no scheme"),
            ("//evil.example/apps/tasks/1.0.0/t.js", "no scheme"),
            ("/apps/tasks/1.0.1/t.js", "must be a path under"),
            ("apps/tasks/1.0.0/t.js", "must be a path under"),
            ("/apps/tasks/1.0.0/../../other/1.0.0/t.js", "\"..\""),
            ("/apps/tasks/1.0.0/./t.js", "\"..\""),
            ("/apps/tasks/1.0.0//t.js", "\"//\""),
            ("/apps/tasks/1.0.0/", "must name a file"),
            ("/apps/tasks/1.0.0/dir/", "must name a file"),
            ("/apps/tasks/1.0.0/t.js?v=1", "may only contain"),
            ("/apps/tasks/1.0.0/t%2e.js", "may only contain"),
            ("/apps/tasks/1.0.0/t.wasm", "must end with .js"),
            ("/apps/tasks/1.0.0/.js", "must end with .js"),
        ];
        for (bad, why) in cases {
            let err = asset_path(bad, base, ".js").unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
        let long = format!("{base}{}.js", "a".repeat(600));
        assert!(asset_path(&long, base, ".js")
            .unwrap_err()
            .contains("longer"));
    }

    #[test]
    fn labels_and_bytes() {
        assert!(label("admin").is_ok());
        assert!(label("").is_err());
        assert!(label("two words").is_err());
        assert!(byte_count(1).is_ok());
        assert!(byte_count(0).is_err());
        assert!(byte_count(MAX_BYTES + 1).unwrap_err().contains("unit"));
    }

    #[test]
    fn quote_shortens() {
        let q = quote(&"x".repeat(500));
        assert!(q.len() < 80, "{q}");
        assert!(q.contains('…'));
    }
}
