//! The lifecycle status of one app instance (DESIGN §3.1, single-spa's vocabulary) and the
//! only transitions allowed between them. Plain Rust: the browser code reports what happened
//! and shows the result; this module decides whether it makes sense.

use std::fmt;

/// Where one app instance (one app version in one mount point) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    NotLoaded,
    Loading,
    NotBootstrapped,
    Bootstrapping,
    NotMounted,
    Mounting,
    Mounted,
    Unmounting,
    /// Fetching, verifying, compiling or initialising failed; a retry may succeed.
    LoadError,
    /// The app threw, trapped or hung in a lifecycle; its glue instance is never reused.
    Broken,
}

/// What the browser side observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    LoadStarted,
    Loaded,
    LoadFailed,
    BootstrapStarted,
    Bootstrapped,
    MountStarted,
    Mounted,
    UnmountStarted,
    Unmounted,
    /// A lifecycle call threw, rejected, trapped or timed out.
    Failed,
    /// The app's code threw or trapped outside any lifecycle call (e.g. in a click handler
    /// or a timer), as attributed by `blame`. During a lifecycle call the call fails instead.
    Crashed,
    /// Start over with a fresh glue instance (after LOAD_ERROR or BROKEN).
    Retry,
}

/// A transition the machine refuses, e.g. mounting an app that was never bootstrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidTransition {
    pub from: Status,
    pub event: Event,
}

impl fmt::Display for InvalidTransition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not possible while {}", self.event, self.from)
    }
}

impl Status {
    /// The next status after `event`, or why that event cannot happen now.
    pub fn after(self, event: Event) -> Result<Status, InvalidTransition> {
        use Event as E;
        use Status as S;
        let next = match (self, event) {
            (S::NotLoaded, E::LoadStarted) => S::Loading,
            (S::Loading, E::Loaded) => S::NotBootstrapped,
            (S::Loading, E::LoadFailed) => S::LoadError,
            (S::NotBootstrapped, E::BootstrapStarted) => S::Bootstrapping,
            (S::Bootstrapping, E::Bootstrapped) => S::NotMounted,
            (S::NotMounted, E::MountStarted) => S::Mounting,
            (S::Mounting, E::Mounted) => S::Mounted,
            (S::Mounted, E::UnmountStarted) => S::Unmounting,
            (S::Unmounting, E::Unmounted) => S::NotMounted,
            (S::Bootstrapping | S::Mounting | S::Mounted | S::Unmounting, E::Failed) => S::Broken,
            (S::NotBootstrapped | S::NotMounted | S::Mounted, E::Crashed) => S::Broken,
            (S::LoadError | S::Broken, E::Retry) => S::NotLoaded,
            (from, event) => return Err(InvalidTransition { from, event }),
        };
        Ok(next)
    }

    /// The name shown in `data-status` and the inspector (single-spa's names, lowercase).
    pub fn name(self) -> &'static str {
        match self {
            Self::NotLoaded => "not_loaded",
            Self::Loading => "loading",
            Self::NotBootstrapped => "not_bootstrapped",
            Self::Bootstrapping => "bootstrapping",
            Self::NotMounted => "not_mounted",
            Self::Mounting => "mounting",
            Self::Mounted => "mounted",
            Self::Unmounting => "unmounting",
            Self::LoadError => "load_error",
            Self::Broken => "broken",
        }
    }

    /// The status in plain words, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Self::NotLoaded => "Not loaded yet",
            Self::Loading => "Loading",
            Self::NotBootstrapped => "Loaded, not started",
            Self::Bootstrapping => "Starting",
            Self::NotMounted => "Ready, not on screen",
            Self::Mounting => "Opening",
            Self::Mounted => "On screen",
            Self::Unmounting => "Closing",
            Self::LoadError => "Could not be loaded",
            Self::Broken => "Stopped after an error",
        }
    }

    /// Whether the instance's glue may be used again (anything but a failure).
    pub fn is_reusable(self) -> bool {
        !matches!(self, Self::LoadError | Self::Broken)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Event as E;
    use Status as S;

    fn run(events: &[Event]) -> Result<Status, InvalidTransition> {
        events
            .iter()
            .try_fold(S::NotLoaded, |status, event| status.after(*event))
    }

    #[test]
    fn the_happy_path_and_a_remount() {
        let mounted = [
            E::LoadStarted,
            E::Loaded,
            E::BootstrapStarted,
            E::Bootstrapped,
            E::MountStarted,
            E::Mounted,
        ];
        assert_eq!(run(&mounted), Ok(S::Mounted));
        let mut cycle = mounted.to_vec();
        cycle.extend([E::UnmountStarted, E::Unmounted, E::MountStarted, E::Mounted]);
        assert_eq!(run(&cycle), Ok(S::Mounted));
    }

    #[test]
    fn failures_and_retries() {
        assert_eq!(run(&[E::LoadStarted, E::LoadFailed]), Ok(S::LoadError));
        assert_eq!(
            run(&[E::LoadStarted, E::LoadFailed, E::Retry]),
            Ok(S::NotLoaded)
        );
        let trap_in_mount = [
            E::LoadStarted,
            E::Loaded,
            E::BootstrapStarted,
            E::Bootstrapped,
            E::MountStarted,
            E::Failed,
        ];
        assert_eq!(run(&trap_in_mount), Ok(S::Broken));
        assert!(!S::Broken.is_reusable());
        assert!(!S::LoadError.is_reusable());
        assert!(S::NotMounted.is_reusable());
    }

    #[test]
    fn a_crash_outside_a_lifecycle_call_breaks_the_instance() {
        let mounted = [
            E::LoadStarted,
            E::Loaded,
            E::BootstrapStarted,
            E::Bootstrapped,
            E::MountStarted,
            E::Mounted,
        ];
        let mut crash_on_screen = mounted.to_vec();
        crash_on_screen.push(E::Crashed);
        assert_eq!(run(&crash_on_screen), Ok(S::Broken));
        let mut crash_idle = mounted.to_vec();
        crash_idle.extend([E::UnmountStarted, E::Unmounted, E::Crashed]);
        assert_eq!(run(&crash_idle), Ok(S::Broken));
        crash_on_screen.push(E::Retry);
        assert_eq!(run(&crash_on_screen), Ok(S::NotLoaded));
        // While a call runs, the call fails (Failed) instead; before loading nothing can crash.
        assert!(S::Mounting.after(E::Crashed).is_err());
        assert!(S::Loading.after(E::Crashed).is_err());
        assert!(S::NotLoaded.after(E::Crashed).is_err());
        assert!(S::Broken.after(E::Crashed).is_err());
    }

    #[test]
    fn impossible_steps_are_refused() {
        assert_eq!(
            run(&[E::MountStarted]),
            Err(InvalidTransition {
                from: S::NotLoaded,
                event: E::MountStarted
            })
        );
        assert!(run(&[E::LoadStarted, E::Failed]).is_err());
        assert!(S::Mounted.after(E::Retry).is_err());
        assert!(S::Loading.after(E::Loaded).is_ok());
        let err = S::NotLoaded.after(E::Mounted).unwrap_err();
        assert_eq!(err.to_string(), "Mounted is not possible while not_loaded");
    }

    #[test]
    fn every_status_has_a_distinct_name() {
        let all = [
            S::NotLoaded,
            S::Loading,
            S::NotBootstrapped,
            S::Bootstrapping,
            S::NotMounted,
            S::Mounting,
            S::Mounted,
            S::Unmounting,
            S::LoadError,
            S::Broken,
        ];
        let names: std::collections::BTreeSet<_> = all.iter().map(|s| s.name()).collect();
        assert_eq!(names.len(), all.len());
        assert!(all.iter().all(|s| !s.describe().is_empty()));
    }
}
