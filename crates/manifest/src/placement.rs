//! What mounts where: the apps active on a route (the `main` mount point) and the apps that
//! contribute to a named mount point (`nav`, `sidebar`, …), with the versions each may fall back
//! to. Plain Rust over the manifest core.

use std::collections::BTreeMap;

use crate::{active_apps, check_requires, resolve_slot, versions_to_try, ValidatedManifest};
use mfe_contract::{AppDescriptor, AppVersions};

/// The mount point routed apps go to.
pub const MAIN: &str = "main";

/// The named mount points the shell's frame draws on every page (see `shell.rs`).
pub const FRAME_MOUNT_POINTS: [&str; 2] = ["nav", "sidebar"];

/// Paths the shell's own pages take (see `shell.rs`): no routed app shows there, whatever
/// routes the manifest lists.
pub const SHELL_PAGES: [&str; 2] = ["/", "/inspector"];

/// Whether `path` is one of the shell's own pages, trailing slashes aside (`/inspector/` is the
/// inspector, as the shell's navigation reads it).
pub fn is_shell_page(path: &str) -> bool {
    let trimmed = path.trim_end_matches('/');
    SHELL_PAGES.contains(&if trimmed.is_empty() { "/" } else { trimmed })
}

/// One app to show in one mount point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub slot: String,
    pub name: String,
    /// Versions this host can run, current first; empty when none can (see `unavailable`).
    pub versions: Vec<AppDescriptor>,
    /// Why no version can run here, in words.
    pub unavailable: Option<String>,
    pub base_path: String,
    pub params: BTreeMap<String, String>,
}

impl Placement {
    /// Identity of what is shown: a new version or a new base path means a new mount.
    pub fn key(&self) -> String {
        let versions: Vec<&str> = self.versions.iter().map(|d| d.version.as_str()).collect();
        format!(
            "{}:{}@{}:{}",
            self.slot,
            self.name,
            versions.join(","),
            self.base_path
        )
    }
}

/// The environment slot filters see: `dev` in debug builds, `prod` in release builds.
pub fn env() -> &'static str {
    if cfg!(debug_assertions) {
        "dev"
    } else {
        "prod"
    }
}

/// The versions of an app this host can run (those whose `requires` it meets), or why none.
pub fn runnable(versions: &AppVersions, host_api: u32) -> Result<Vec<AppDescriptor>, String> {
    let mut first_refusal = None;
    let usable: Vec<AppDescriptor> = versions_to_try(versions)
        .filter(|d| match check_requires(d, host_api) {
            Ok(()) => true,
            Err(e) => {
                first_refusal.get_or_insert(e.message);
                false
            }
        })
        .cloned()
        .collect();
    if usable.is_empty() {
        Err(first_refusal.unwrap_or_else(|| "no version is published".into()))
    } else {
        Ok(usable)
    }
}

fn placement(
    slot: &str,
    manifest: &ValidatedManifest,
    name: &str,
    base_path: String,
    params: BTreeMap<String, String>,
    host_api: u32,
) -> Option<Placement> {
    let versions = manifest.app(name)?;
    let (versions, unavailable) = match runnable(versions, host_api) {
        Ok(v) => (v, None),
        Err(why) => (Vec::new(), Some(why)),
    };
    Some(Placement {
        slot: slot.to_string(),
        name: name.to_string(),
        versions,
        unavailable,
        base_path,
        params,
    })
}

/// The apps whose route matches `path`, for the `main` mount point.
pub fn for_route(manifest: &ValidatedManifest, path: &str, host_api: u32) -> Vec<Placement> {
    active_apps(manifest, path)
        .into_iter()
        .filter_map(|a| placement(MAIN, manifest, a.name, a.base_path, a.params, host_api))
        .collect()
}

/// The contributions to the named mount point `slot`, in order.
pub fn for_slot(
    manifest: &ValidatedManifest,
    slot: &str,
    roles: &[String],
    env: &str,
    host_api: u32,
) -> Vec<Placement> {
    resolve_slot(manifest, slot, roles, env)
        .into_iter()
        .filter_map(|d| {
            placement(
                slot,
                manifest,
                &d.name,
                "/".into(),
                BTreeMap::new(),
                host_api,
            )
        })
        .collect()
}

/// The version each app on the page at `path` tries first (routed apps, then the frame's mount
/// points), once per version: what to fetch before the page is drawn.
pub fn first_tries_on_page(
    manifest: &ValidatedManifest,
    path: &str,
    roles: &[String],
    env: &str,
    host_api: u32,
) -> Vec<AppDescriptor> {
    let mut out: Vec<AppDescriptor> = Vec::new();
    let slots = FRAME_MOUNT_POINTS
        .iter()
        .flat_map(|slot| for_slot(manifest, slot, roles, env, host_api));
    let routed = if is_shell_page(path) {
        Vec::new()
    } else {
        for_route(manifest, path, host_api)
    };
    for placement in routed.into_iter().chain(slots) {
        if let Some(first) = placement.versions.into_iter().next() {
            if !out.iter().any(|d| d == &first) {
                out.push(first);
            }
        }
    }
    out
}

/// The page's app that the boot module may show before the shell has started: the only app
/// routed at `path` that can run, at its current version. None on the shell's own pages and
/// where no app or several apps are routed; those wait for the shell, which also handles every
/// fallback to an earlier version.
pub fn boot_placement(
    manifest: &ValidatedManifest,
    path: &str,
    host_api: u32,
) -> Option<Placement> {
    if is_shell_page(path) {
        return None;
    }
    let mut routed = for_route(manifest, path, host_api);
    if routed.len() != 1 || routed[0].versions.is_empty() {
        return None;
    }
    routed.pop()
}

/// The nav's links: each app's first route that can be linked to (no `:param`), by app name.
pub fn nav_links(manifest: &ValidatedManifest) -> Vec<(String, String)> {
    manifest
        .manifest
        .apps
        .values()
        .filter_map(|v| {
            let route = v.current.routes.iter().find(|r| !r.contains(':'))?;
            let route = route.trim_end_matches("/*");
            Some((
                v.current.name.clone(),
                if route.is_empty() { "/" } else { route }.to_string(),
            ))
        })
        .collect()
}

/// Whether a link to `href` is the current page: the path is `href` or lies under it
/// (`/tasks` for `/tasks/42`), the home link only for the home page. Sets `aria-current`.
pub fn is_current(href: &str, path: &str) -> bool {
    let href = href.trim_end_matches('/');
    let path = path.trim_end_matches('/');
    path == href
        || (!href.is_empty()
            && path
                .strip_prefix(href)
                .is_some_and(|rest| rest.starts_with('/')))
}

#[cfg(test)]
mod tests {
    use crate::{empty_manifest, merge, parse_manifest, sri, to_json, SlotSpec, SriAlgorithm};

    use super::*;

    const T: &str = "2026-01-01T00:00:00Z";

    fn app(name: &str, version: &str, requires: u32, slots: Vec<SlotSpec>) -> AppDescriptor {
        AppDescriptor {
            name: name.into(),
            version: version.into(),
            entry: format!("/apps/{name}/{version}/{name}.js"),
            wasm: None,
            integrity: mfe_contract::AppIntegrity {
                entry: sri(SriAlgorithm::Sha384, version.as_bytes()),
                wasm: None,
            },
            routes: vec![format!("/{name}"), format!("/{name}/*")],
            slots,
            requires,
            budget: None,
            bytes: None,
        }
    }

    fn slot(name: &str, order: i32, env: &[&str]) -> SlotSpec {
        SlotSpec {
            name: name.into(),
            order,
            roles: vec![],
            env: env.iter().map(|e| e.to_string()).collect(),
        }
    }

    fn manifest(apps: Vec<AppDescriptor>) -> ValidatedManifest {
        let m = apps.into_iter().fold(empty_manifest(T).unwrap(), |m, d| {
            merge(&m, d, T, 5).unwrap()
        });
        parse_manifest(&to_json(&m)).unwrap()
    }

    #[test]
    fn routes_give_main_placements_with_fallback_versions() {
        let m = manifest(vec![
            app("tasks", "1.0.0", 1, vec![]),
            app("tasks", "1.1.0", 1, vec![]),
            app("notes", "1.0.0", 1, vec![]),
        ]);
        let found = for_route(&m, "/tasks/7", 1);
        assert_eq!(found.len(), 1);
        let p = &found[0];
        assert_eq!((p.slot.as_str(), p.name.as_str()), (MAIN, "tasks"));
        assert_eq!(p.base_path, "/tasks");
        assert_eq!(p.params["*"], "7");
        let versions: Vec<_> = p.versions.iter().map(|d| d.version.as_str()).collect();
        assert_eq!(versions, ["1.1.0", "1.0.0"]);
        assert_eq!(p.key(), "main:tasks@1.1.0,1.0.0:/tasks");
        assert!(for_route(&m, "/nowhere", 1).is_empty());
    }

    #[test]
    fn versions_needing_a_newer_host_are_skipped_or_explained() {
        let m = manifest(vec![
            app("tasks", "1.0.0", 1, vec![]),
            app("tasks", "2.0.0", 2, vec![]),
            app("future", "1.0.0", 9, vec![]),
        ]);
        let tasks = &for_route(&m, "/tasks", 1)[0];
        assert_eq!(tasks.versions.len(), 1);
        assert_eq!(tasks.versions[0].version, "1.0.0");
        let future = &for_route(&m, "/future", 1)[0];
        assert!(future.versions.is_empty());
        assert!(future
            .unavailable
            .as_deref()
            .unwrap()
            .contains("needs host API v9"));
    }

    #[test]
    fn the_page_fetches_first_tries_of_its_routed_and_frame_apps_once() {
        let m = manifest(vec![
            app("tasks", "1.0.0", 1, vec![slot("sidebar", 10, &[])]),
            app("tasks", "1.1.0", 1, vec![slot("sidebar", 10, &[])]),
            app("catalog", "1.0.0", 1, vec![slot("nav", 0, &[])]),
            app("notes", "1.0.0", 1, vec![]),
            app("side", "1.0.0", 1, vec![slot("elsewhere", 0, &[])]),
        ]);
        let names = |path| -> Vec<String> {
            first_tries_on_page(&m, path, &[], "prod", 1)
                .into_iter()
                .map(|d| format!("{}@{}", d.name, d.version))
                .collect()
        };
        // tasks is routed and in the sidebar: one fetch of its current version.
        assert_eq!(names("/tasks"), ["tasks@1.1.0", "catalog@1.0.0"]);
        assert_eq!(
            names("/notes"),
            ["notes@1.0.0", "catalog@1.0.0", "tasks@1.1.0"]
        );
        // Not a mount point the frame draws: never fetched for the page.
        assert!(!names("/").iter().any(|n| n.starts_with("side@")));
        // The shell's own pages show no routed app, even one whose route would match.
        let mut everywhere = app("home-grabber", "1.0.0", 1, vec![]);
        everywhere.routes = vec!["/*".into()];
        let m = manifest(vec![everywhere]);
        assert!(first_tries_on_page(&m, "/", &[], "prod", 1).is_empty());
        assert!(first_tries_on_page(&m, "/inspector", &[], "prod", 1).is_empty());
        // With a trailing slash too, as the shell's navigation reads them.
        assert!(first_tries_on_page(&m, "/inspector/", &[], "prod", 1).is_empty());
        assert!(first_tries_on_page(&m, "//", &[], "prod", 1).is_empty());
        assert_eq!(
            first_tries_on_page(&m, "/elsewhere", &[], "prod", 1).len(),
            1
        );
    }

    #[test]
    fn slots_are_ordered_and_filtered_by_env() {
        let m = manifest(vec![
            app("catalog", "1.0.0", 1, vec![slot("sidebar", 20, &[])]),
            app("tasks", "1.0.0", 1, vec![slot("sidebar", 10, &[])]),
            app("devtools", "1.0.0", 1, vec![slot("sidebar", 0, &["dev"])]),
        ]);
        let names = |env| -> Vec<String> {
            for_slot(&m, "sidebar", &[], env, 1)
                .into_iter()
                .map(|p| p.name)
                .collect()
        };
        assert_eq!(names("prod"), ["tasks", "catalog"]);
        assert_eq!(names("dev"), ["devtools", "tasks", "catalog"]);
        assert!(["dev", "prod"].contains(&env()));
    }

    #[test]
    fn the_boot_module_takes_only_a_single_runnable_routed_app_at_its_current_version() {
        let m = manifest(vec![
            app("tasks", "1.0.0", 1, vec![slot("sidebar", 10, &[])]),
            app("tasks", "1.1.0", 1, vec![]),
            app("future", "1.0.0", 9, vec![]),
        ]);
        let tasks = boot_placement(&m, "/tasks/7", 1).unwrap();
        assert_eq!((tasks.slot.as_str(), tasks.name.as_str()), (MAIN, "tasks"));
        assert_eq!(tasks.versions[0].version, "1.1.0");
        assert_eq!(
            (tasks.base_path.as_str(), tasks.params["*"].as_str()),
            ("/tasks", "7")
        );
        // No runnable version, nothing routed, or the shell's own pages: the shell decides.
        assert_eq!(boot_placement(&m, "/future", 1), None);
        assert_eq!(boot_placement(&m, "/nowhere", 1), None);
        let mut everywhere = app("home-grabber", "1.0.0", 1, vec![]);
        everywhere.routes = vec!["/*".into()];
        let m = manifest(vec![everywhere.clone()]);
        assert_eq!(boot_placement(&m, "/", 1), None);
        assert_eq!(boot_placement(&m, "/inspector", 1), None);
        assert_eq!(boot_placement(&m, "/inspector/", 1), None);
        assert!(boot_placement(&m, "/elsewhere", 1).is_some());
        assert!(boot_placement(&m, "/inspectors", 1).is_some());
        // Two apps on one route: the order and fallbacks of both are the shell's to handle.
        let mut second = app("second", "1.0.0", 1, vec![]);
        second.routes = vec!["/*".into()];
        let m = manifest(vec![everywhere, second]);
        assert_eq!(for_route(&m, "/elsewhere", 1).len(), 2);
        assert_eq!(boot_placement(&m, "/elsewhere", 1), None);
    }

    #[test]
    fn nav_links_use_the_first_linkable_route() {
        let mut tasks = app("tasks", "1.0.0", 1, vec![]);
        tasks.routes = vec!["/tasks/:id".into(), "/tasks/*".into()];
        let mut home = app("home", "1.0.0", 1, vec![]);
        home.routes = vec!["/*".into()];
        let mut hidden = app("hidden", "1.0.0", 1, vec![slot("sidebar", 0, &[])]);
        hidden.routes = vec![];
        let m = manifest(vec![tasks, home, hidden]);
        assert_eq!(
            nav_links(&m),
            [
                ("home".to_string(), "/".to_string()),
                ("tasks".to_string(), "/tasks".to_string())
            ]
        );
    }

    #[test]
    fn a_link_is_current_on_its_path_and_below_it() {
        assert!(is_current("/", "/"));
        assert!(!is_current("/", "/tasks"));
        assert!(is_current("/tasks", "/tasks"));
        assert!(is_current("/tasks", "/tasks/"));
        assert!(is_current("/tasks/", "/tasks"));
        assert!(is_current("/tasks", "/tasks/42"));
        assert!(!is_current("/tasks", "/tasks-archive"));
        assert!(!is_current("/tasks/42", "/tasks"));
        assert!(!is_current("/catalog", "/tasks"));
    }
}
