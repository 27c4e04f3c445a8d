//! Slot resolution: which apps contribute to a named mount point, and in which order.

use mfe_contract::{AppDescriptor, SlotSpec};

use crate::ValidatedManifest;

/// The current versions of the apps that contribute to `slot` for a user with `roles` in
/// environment `env`, ordered by the slot's `order` and then by app name (so equal orders are
/// still deterministic). A slot spec with empty `roles` is for everyone, with empty `env` for
/// every environment.
pub fn resolve_slot<'a>(
    manifest: &'a ValidatedManifest,
    slot: &str,
    roles: &[String],
    env: &str,
) -> Vec<&'a AppDescriptor> {
    let mut found: Vec<(i32, &'a AppDescriptor)> = manifest
        .manifest
        .apps
        .values()
        .filter_map(|versions| {
            let d = &versions.current;
            d.slots
                .iter()
                .find(|s| s.name == slot && visible(s, roles, env))
                .map(|s| (s.order, d))
        })
        .collect();
    // Names are unique keys of the manifest, so no two entries compare equal.
    found.sort_unstable_by(|a, b| (a.0, &a.1.name).cmp(&(b.0, &b.1.name)));
    found.into_iter().map(|(_, d)| d).collect()
}

fn visible(spec: &SlotSpec, roles: &[String], env: &str) -> bool {
    (spec.roles.is_empty() || spec.roles.iter().any(|r| roles.contains(r)))
        && (spec.env.is_empty() || spec.env.iter().any(|e| e == env))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use mfe_contract::{AppVersions, Manifest, MANIFEST_SCHEMA};

    use super::*;
    use crate::descriptor::tests::sample;

    fn app(name: &str, slots: Vec<SlotSpec>) -> AppDescriptor {
        let mut d = sample("1.0.0");
        d.name = name.into();
        d.slots = slots;
        d
    }

    fn slot(name: &str, order: i32, roles: &[&str], env: &[&str]) -> SlotSpec {
        SlotSpec {
            name: name.into(),
            order,
            roles: roles.iter().map(|s| s.to_string()).collect(),
            env: env.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn manifest(apps: Vec<AppDescriptor>) -> ValidatedManifest {
        let apps: BTreeMap<_, _> = apps
            .into_iter()
            .map(|d| {
                (
                    d.name.clone(),
                    AppVersions {
                        current: d,
                        previous: vec![],
                    },
                )
            })
            .collect();
        ValidatedManifest {
            manifest: Manifest {
                schema: MANIFEST_SCHEMA,
                apps,
                regions: vec![],
                generated_at: "2026-01-01T00:00:00Z".into(),
                dev_origins: vec![],
            },
            disabled: vec![],
        }
    }

    fn names(found: Vec<&AppDescriptor>) -> Vec<&str> {
        found.into_iter().map(|d| d.name.as_str()).collect()
    }

    #[test]
    fn ordered_by_order_then_name() {
        let m = manifest(vec![
            app("zeta", vec![slot("nav", 1, &[], &[])]),
            app("alpha", vec![slot("nav", 5, &[], &[])]),
            app("beta", vec![slot("nav", 1, &[], &[])]),
            app("other", vec![slot("sidebar", 0, &[], &[])]),
            app("negative", vec![slot("nav", -3, &[], &[])]),
        ]);
        assert_eq!(
            names(resolve_slot(&m, "nav", &[], "prod")),
            ["negative", "beta", "zeta", "alpha"]
        );
        assert_eq!(names(resolve_slot(&m, "sidebar", &[], "prod")), ["other"]);
        assert!(resolve_slot(&m, "status", &[], "prod").is_empty());
    }

    #[test]
    fn filtered_by_roles_and_env() {
        let m = manifest(vec![
            app("admin", vec![slot("nav", 0, &["admin"], &[])]),
            app("devtools", vec![slot("nav", 0, &[], &["dev"])]),
            app("everyone", vec![slot("nav", 0, &[], &[])]),
            app(
                "both",
                vec![slot("nav", 0, &["ops", "admin"], &["dev", "staging"])],
            ),
        ]);
        let roles = |r: &[&str]| r.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(names(resolve_slot(&m, "nav", &[], "prod")), ["everyone"]);
        assert_eq!(
            names(resolve_slot(&m, "nav", &roles(&["admin"]), "prod")),
            ["admin", "everyone"]
        );
        assert_eq!(
            names(resolve_slot(&m, "nav", &roles(&["user"]), "dev")),
            ["devtools", "everyone"]
        );
        assert_eq!(
            names(resolve_slot(&m, "nav", &roles(&["admin"]), "staging")),
            ["admin", "both", "everyone"]
        );
    }
}
