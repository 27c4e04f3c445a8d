//! Client-side rollback (DESIGN §3.1): try the current version, then each previous one, and
//! remember why each failed so the slot and the inspector can say what happened.

/// One version that could not be shown, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub version: String,
    pub reason: String,
}

/// The versions to try for one app in one mount point, in order (current first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FallbackPlan {
    versions: Vec<String>,
    next: usize,
    failures: Vec<Failure>,
}

/// How the plan ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `version` is on screen; `rolled_back` is set when it is not the current version.
    Showing {
        version: String,
        rolled_back: Option<Failure>,
    },
    /// Every version failed; the last failure is what the error panel shows.
    Exhausted(Failure),
}

impl FallbackPlan {
    /// `versions` as `versions_to_try` lists them; at most `limit` are tried, so a long history
    /// never turns one broken publish into minutes of loading.
    pub fn new(versions: impl IntoIterator<Item = String>, limit: usize) -> Self {
        Self {
            versions: versions.into_iter().take(limit.max(1)).collect(),
            next: 0,
            failures: Vec::new(),
        }
    }

    /// The next version to try, or `None` when all were tried.
    pub fn next_version(&mut self) -> Option<String> {
        let version = self.versions.get(self.next).cloned();
        if version.is_some() {
            self.next += 1;
        }
        version
    }

    /// Records that `version` failed.
    pub fn failed(&mut self, version: &str, reason: impl Into<String>) {
        self.failures.push(Failure {
            version: version.to_string(),
            reason: reason.into(),
        });
    }

    /// The result once `version` mounted (or `None` when it did not).
    pub fn outcome(&self, mounted: Option<&str>) -> Outcome {
        match mounted {
            Some(version) => Outcome::Showing {
                version: version.to_string(),
                rolled_back: self.failures.first().cloned(),
            },
            None => Outcome::Exhausted(self.failures.last().cloned().unwrap_or(Failure {
                version: String::new(),
                reason: "no version of this app is published".into(),
            })),
        }
    }

    pub fn failures(&self) -> &[Failure] {
        &self.failures
    }
}

/// The calm notice shown above a rolled-back app.
pub fn rollback_notice(showing: &str, failure: &Failure) -> String {
    format!(
        "Showing version {showing} because {} failed: {}",
        failure.version, failure.reason
    )
}

/// An earlier version on screen because the current one failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollback {
    pub showing: String,
    pub failed: Failure,
}

impl Rollback {
    pub fn notice(&self) -> String {
        rollback_notice(&self.showing, &self.failed)
    }
}

/// The status bar's words for the apps on screen in an earlier version, `(app, rollback)`
/// pairs; an app shown in several mount points is named once. `None` when there are none.
pub fn rollback_summary<'a>(
    rolled_back: impl IntoIterator<Item = (&'a str, &'a Rollback)>,
) -> Option<String> {
    let mut apps: Vec<(&str, &Rollback)> = Vec::new();
    for (app, r) in rolled_back {
        if !apps.iter().any(|(a, _)| *a == app) {
            apps.push((app, r));
        }
    }
    apps.sort_unstable_by_key(|(app, _)| *app);
    match apps.as_slice() {
        [] => None,
        [(app, r)] => Some(format!(
            "{app} rolled back to {} because {} failed",
            r.showing, r.failed.version
        )),
        many => {
            let parts: Vec<String> = many
                .iter()
                .map(|(app, r)| format!("{app} to {} ({} failed)", r.showing, r.failed.version))
                .collect();
            Some(format!(
                "{} apps rolled back: {}",
                many.len(),
                parts.join(", ")
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(versions: &[&str]) -> FallbackPlan {
        FallbackPlan::new(versions.iter().map(|v| v.to_string()), 5)
    }

    #[test]
    fn current_version_works() {
        let mut p = plan(&["2.0.0", "1.0.0"]);
        assert_eq!(p.next_version().as_deref(), Some("2.0.0"));
        assert_eq!(
            p.outcome(Some("2.0.0")),
            Outcome::Showing {
                version: "2.0.0".into(),
                rolled_back: None
            }
        );
    }

    #[test]
    fn falls_back_and_says_why() {
        let mut p = plan(&["2.0.0", "1.1.0", "1.0.0"]);
        let v = p.next_version().unwrap();
        p.failed(&v, "HTTP 404");
        let v = p.next_version().unwrap();
        assert_eq!(v, "1.1.0");
        let Outcome::Showing {
            version,
            rolled_back: Some(failure),
        } = p.outcome(Some(&v))
        else {
            panic!("expected a rollback");
        };
        assert_eq!(
            rollback_notice(&version, &failure),
            "Showing version 1.1.0 because 2.0.0 failed: HTTP 404"
        );
    }

    #[test]
    fn exhausted_reports_the_last_failure_and_the_loop_ends() {
        let mut p = plan(&["2.0.0", "1.0.0"]);
        let mut tried = 0;
        while let Some(v) = p.next_version() {
            tried += 1;
            p.failed(&v, format!("{v} broke"));
        }
        assert_eq!(tried, 2);
        assert_eq!(p.failures().len(), 2);
        assert_eq!(
            p.outcome(None),
            Outcome::Exhausted(Failure {
                version: "1.0.0".into(),
                reason: "1.0.0 broke".into()
            })
        );
    }

    fn rollback(showing: &str, failed: &str) -> Rollback {
        Rollback {
            showing: showing.into(),
            failed: Failure {
                version: failed.into(),
                reason: "HTTP 404".into(),
            },
        }
    }

    #[test]
    fn the_status_bar_summary_names_each_rolled_back_app_once() {
        assert_eq!(rollback_summary([]), None);
        let faulty = rollback("1.0.0", "1.4.0");
        assert_eq!(
            rollback_summary([("faulty", &faulty)]).as_deref(),
            Some("faulty rolled back to 1.0.0 because 1.4.0 failed")
        );
        let tasks = rollback("2.0.0", "2.1.0");
        assert_eq!(
            rollback_summary([("tasks", &tasks), ("faulty", &faulty), ("faulty", &faulty)])
                .as_deref(),
            Some(
                "2 apps rolled back: faulty to 1.0.0 (1.4.0 failed), tasks to 2.0.0 (2.1.0 failed)"
            )
        );
        assert_eq!(
            faulty.notice(),
            "Showing version 1.0.0 because 1.4.0 failed: HTTP 404"
        );
    }

    #[test]
    fn the_limit_bounds_the_attempts() {
        let versions = (0..50).map(|i| format!("1.0.{i}"));
        let mut p = FallbackPlan::new(versions, 3);
        let mut n = 0;
        while p.next_version().is_some() {
            n += 1;
        }
        assert_eq!(n, 3);
        assert_eq!(
            FallbackPlan::new(Vec::new(), 0).outcome(None),
            Outcome::Exhausted(Failure {
                version: String::new(),
                reason: "no version of this app is published".into()
            })
        );
    }
}
