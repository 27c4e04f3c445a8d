//! Route patterns: which apps are active on a path, and with which parameters.
//!
//! The syntax is deliberately small so the shell, the deployer and a human read a pattern the
//! same way: literal segments, `:param` segments and a trailing `*` that matches the rest of the
//! path (including nothing). Matching ignores a trailing slash, the query and the fragment.

use std::collections::{BTreeMap, BTreeSet};

use mfe_contract::AppDescriptor;

use crate::rules::{quote, MAX_PATH_LEN};
use crate::ValidatedManifest;

/// Most segments a pattern may have; real routes have a handful.
const MAX_SEGMENTS: usize = 32;

/// Parameter name under which a trailing `*` reports what it matched.
pub const REST_PARAM: &str = "*";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Segment<'a> {
    Literal(&'a str),
    Param(&'a str),
    Rest,
}

/// Parses a pattern, or says what is wrong with it.
pub(crate) fn parse_pattern(pattern: &str) -> Result<Vec<Segment<'_>>, String> {
    let found = quote(pattern);
    if pattern.len() > MAX_PATH_LEN {
        return Err(format!("longer than {MAX_PATH_LEN} characters: {found}"));
    }
    let Some(body) = pattern.strip_prefix('/') else {
        return Err(format!("must start with '/', found {found}"));
    };
    if body.is_empty() {
        return Ok(Vec::new());
    }
    let raw: Vec<&str> = body.split('/').collect();
    if raw.len() > MAX_SEGMENTS {
        return Err(format!("more than {MAX_SEGMENTS} segments: {found}"));
    }
    let mut names = BTreeSet::new();
    let mut segments = Vec::with_capacity(raw.len());
    for (i, segment) in raw.iter().copied().enumerate() {
        let last = i + 1 == raw.len();
        let parsed = if segment.is_empty() {
            return Err(format!("empty segment (double or trailing '/') in {found}"));
        } else if segment == "*" {
            if !last {
                return Err(format!("'*' may only be the last segment, in {found}"));
            }
            Segment::Rest
        } else if let Some(name) = segment.strip_prefix(':') {
            if !is_param_name(name) {
                return Err(format!(
                    "parameter names are a letter or '_' then letters, digits or '_', found {}",
                    quote(segment)
                ));
            }
            if !names.insert(name) {
                return Err(format!("parameter :{name} appears twice in {found}"));
            }
            Segment::Param(name)
        } else if segment == "." || segment == ".." {
            return Err(format!("'.' and '..' segments are not allowed, in {found}"));
        } else if segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'))
        {
            Segment::Literal(segment)
        } else {
            return Err(format!(
                "segment {} may only hold letters, digits, '-', '.', '_', '~', or be :param or *",
                quote(segment)
            ));
        };
        segments.push(parsed);
    }
    Ok(segments)
}

fn is_param_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A successful match: the parameters and the part of the path the app owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RouteMatch {
    pub params: BTreeMap<String, String>,
    pub base_path: String,
}

pub(crate) fn match_detail(pattern: &str, path: &str) -> Option<RouteMatch> {
    let segments = parse_pattern(pattern).ok()?;
    let path = path.split(['?', '#']).next().unwrap_or("");
    let rest = path.strip_prefix('/')?;
    let parts: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let mut params = BTreeMap::new();
    for (i, segment) in segments.iter().enumerate() {
        match segment {
            Segment::Rest => {
                params.insert(
                    REST_PARAM.to_string(),
                    parts[i.min(parts.len())..].join("/"),
                );
                return Some(RouteMatch {
                    params,
                    base_path: format!("/{}", parts[..i.min(parts.len())].join("/")),
                });
            }
            Segment::Literal(literal) => {
                if parts.get(i) != Some(literal) {
                    return None;
                }
            }
            Segment::Param(name) => {
                params.insert((*name).to_string(), (*parts.get(i)?).to_string());
            }
        }
    }
    (parts.len() == segments.len()).then(|| RouteMatch {
        params,
        base_path: format!("/{}", parts.join("/")),
    })
}

/// Matches `path` (which may carry a query, fragment or trailing slash) against `pattern`.
///
/// Returns the `:param` values, plus `*` for what a trailing wildcard matched (possibly
/// empty). Values are returned as they appear in the path, still percent-encoded. An invalid
/// pattern matches nothing.
pub fn match_route(pattern: &str, path: &str) -> Option<BTreeMap<String, String>> {
    match_detail(pattern, path).map(|m| m.params)
}

/// An app that should be mounted for the current path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveApp<'a> {
    pub name: &'a str,
    pub descriptor: &'a AppDescriptor,
    /// The pattern that matched (the first of the app's routes that does).
    pub route: &'a str,
    pub params: BTreeMap<String, String>,
    /// The path prefix the app owns: everything before a trailing `*`, or the whole path.
    /// Passed to the app as `basePath` so it can build its own links.
    pub base_path: String,
}

/// The apps whose current version has a route matching `path`, ordered by app name so the
/// result (and so the mount order) does not depend on the manifest's key order. Disabled apps
/// are not in a [`ValidatedManifest`] and never show up.
pub fn active_apps<'a>(manifest: &'a ValidatedManifest, path: &str) -> Vec<ActiveApp<'a>> {
    manifest
        .manifest
        .apps
        .iter()
        .filter_map(|(name, versions)| {
            let descriptor = &versions.current;
            descriptor.routes.iter().find_map(|route| {
                match_detail(route, path).map(|m| ActiveApp {
                    name: name.as_str(),
                    descriptor,
                    route: route.as_str(),
                    params: m.params,
                    base_path: m.base_path,
                })
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, String>> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn exact_segments() {
        assert_eq!(match_route("/tasks", "/tasks"), params(&[]));
        assert_eq!(match_route("/tasks", "/tasks/"), params(&[]));
        assert_eq!(match_route("/tasks", "/tasks?x=1#top"), params(&[]));
        assert_eq!(match_route("/tasks", "/tasks/1"), None);
        assert_eq!(match_route("/tasks", "/task"), None);
        assert_eq!(match_route("/tasks", "/Tasks"), None);
        assert_eq!(match_route("/tasks/list", "/tasks"), None);
        assert_eq!(match_route("/", "/"), params(&[]));
        assert_eq!(match_route("/", "/?q"), params(&[]));
        assert_eq!(match_route("/", "/tasks"), None);
        assert_eq!(match_route("/tasks", "tasks"), None);
    }

    #[test]
    fn params_and_rest() {
        assert_eq!(
            match_route("/tasks/:id", "/tasks/42"),
            params(&[("id", "42")])
        );
        assert_eq!(match_route("/tasks/:id", "/tasks"), None);
        assert_eq!(
            match_route("/u/:user/t/:id", "/u/ann/t/7/"),
            params(&[("user", "ann"), ("id", "7")])
        );
        assert_eq!(match_route("/tasks/*", "/tasks"), params(&[("*", "")]));
        assert_eq!(match_route("/tasks/*", "/tasks/"), params(&[("*", "")]));
        assert_eq!(
            match_route("/tasks/*", "/tasks/1/edit?x"),
            params(&[("*", "1/edit")])
        );
        assert_eq!(match_route("/tasks/*", "/task"), None);
        assert_eq!(match_route("/*", "/"), params(&[("*", "")]));
        assert_eq!(match_route("/*", "/a/b"), params(&[("*", "a/b")]));
        assert_eq!(
            match_route("/:team/*", "/red/x"),
            params(&[("team", "red"), ("*", "x")])
        );
    }

    #[test]
    fn base_path_is_the_owned_prefix() {
        assert_eq!(
            match_detail("/tasks/*", "/tasks/1/edit").unwrap().base_path,
            "/tasks"
        );
        assert_eq!(match_detail("/*", "/a").unwrap().base_path, "/");
        assert_eq!(
            match_detail("/tasks/:id", "/tasks/9/").unwrap().base_path,
            "/tasks/9"
        );
        assert_eq!(match_detail("/", "/").unwrap().base_path, "/");
    }

    #[test]
    fn invalid_patterns_are_rejected_and_match_nothing() {
        let cases = [
            ("", "must start with '/'"),
            ("tasks", "must start with '/'"),
            ("/tasks/", "empty segment"),
            ("//tasks", "empty segment"),
            ("/*/x", "last segment"),
            ("/:", "parameter names"),
            ("/:1x", "parameter names"),
            ("/:id/:id", "twice"),
            ("/a b", "may only hold"),
            ("/a?b", "may only hold"),
            ("/..", "'..'"),
        ];
        for (pattern, why) in cases {
            let err = parse_pattern(pattern).unwrap_err();
            assert!(err.contains(why), "{pattern}: {err}");
            assert_eq!(match_route(pattern, "/tasks"), None, "{pattern}");
        }
        let deep = "/a".repeat(MAX_SEGMENTS + 1);
        assert!(parse_pattern(&deep).unwrap_err().contains("segments"));
    }
}
