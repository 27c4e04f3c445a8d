//! Which app instance an uncaught error belongs to. Plain Rust over the error's stack text, so
//! the rule is tested natively; `crash_watch` only hands it what the page reported.
//!
//! Every app instance runs glue imported from its own `blob:` URL (see `loader`), so the
//! JavaScript frames of its code carry a URL no other instance and no shell code has. The
//! rule: read the stack from the innermost frame outwards, skip frames that name no script
//! (`<anonymous>`, `native`) and WebAssembly frames (which only name a module, not the
//! instance, and in some browsers name the shell's script that compiled it); the first frame
//! that names a script decides. If that script is an app instance's, the error is that
//! instance's; anything else (the shell's files, an unknown `blob:`, an extension, page
//! scripts) is not blamed on any app. So a shell bug reached through an app's call into the
//! host stops no app, and an error with no usable stack stops nothing unless the event's own
//! `filename` names an app's script.

/// The script URL a stack frame names, if any. Understands V8 (`at f (url:1:2)`, `at url:1:2`)
/// and Firefox/Safari (`f@url:1:2`) frames.
pub fn frame_url(frame: &str) -> Option<&str> {
    let frame = frame.trim();
    let location = if let Some(rest) = frame.strip_prefix("at ") {
        // `at f (location)` or `at location`.
        match (rest.find(" ("), rest.ends_with(')')) {
            (Some(open), true) => &rest[open + 2..rest.len() - 1],
            _ => rest,
        }
    } else if let Some((_, location)) = frame.split_once('@') {
        location
    } else {
        return None;
    };
    if location.contains("wasm-function[") || location.starts_with("wasm://") {
        return None;
    }
    // V8's `eval at f (url…)` and Firefox's `url line N > eval` name the script that ran
    // eval or compiled the code, not the code's own script.
    if location.starts_with("eval at ") || location.contains(" > ") {
        return None;
    }
    let url = strip_position(location);
    let is_url = url.contains("://") || url.starts_with("blob:");
    (is_url && !url.contains(char::is_whitespace)).then_some(url)
}

/// `url:line:col` or `url:line` → `url` (URLs keep their own `:port`).
fn strip_position(location: &str) -> &str {
    let mut url = location;
    for _ in 0..2 {
        match url.rsplit_once(':') {
            Some((head, tail)) if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) => {
                url = head;
            }
            _ => break,
        }
    }
    url
}

/// The script of the innermost frame that names one (see the module doc). In a V8 stack only
/// `at …` lines are frames: the message above them may contain anything, even an `@`.
pub fn deciding_script(stack: &str) -> Option<&str> {
    let v8 = stack.lines().any(|l| l.trim_start().starts_with("at "));
    stack
        .lines()
        .filter(|l| !v8 || l.trim_start().starts_with("at "))
        .find_map(frame_url)
}

/// App scripts (`blob:` URLs) and who runs each, in registration order.
pub struct ScriptOwners<T> {
    owners: Vec<(String, T)>,
}

impl<T> Default for ScriptOwners<T> {
    fn default() -> Self {
        Self { owners: Vec::new() }
    }
}

impl<T> ScriptOwners<T> {
    /// Records that `url` is the script of `owner`. Keeps at most `keep_retired` entries for
    /// which `retired` holds (their instance is gone; kept so a late error from a stopped app
    /// is still recognised as that app's), dropping the oldest first.
    pub fn register(
        &mut self,
        url: impl Into<String>,
        owner: T,
        keep_retired: usize,
        retired: impl Fn(&T) -> bool,
    ) {
        self.owners.push((url.into(), owner));
        let mut excess = self
            .owners
            .iter()
            .filter(|(_, o)| retired(o))
            .count()
            .saturating_sub(keep_retired);
        self.owners.retain(|(_, o)| {
            if excess > 0 && retired(o) {
                excess -= 1;
                false
            } else {
                true
            }
        });
    }

    pub fn len(&self) -> usize {
        self.owners.len()
    }

    pub fn is_empty(&self) -> bool {
        self.owners.is_empty()
    }

    fn owner_of(&self, url: &str) -> Option<&T> {
        self.owners.iter().find(|(u, _)| u == url).map(|(_, o)| o)
    }

    /// The owner an uncaught error belongs to: decided by its stack when the stack names any
    /// script, else by the event's `filename`; `None` when neither names an app's script.
    pub fn blame(&self, stack: Option<&str>, filename: Option<&str>) -> Option<&T> {
        match stack.and_then(deciding_script) {
            Some(script) => self.owner_of(script),
            None => filename.and_then(|f| self.owner_of(f)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: &str = "blob:http://127.0.0.1:28080/7f3c1a52-5d0e-4a7e-9b1e-3c1d2e4f5a6b";
    const OTHER: &str = "blob:http://127.0.0.1:28080/0b9d2c41-1111-4222-8333-944455566677";
    const SHELL: &str = "http://127.0.0.1:28080/mfe-shell-5c1e0f.js";

    fn owners() -> ScriptOwners<&'static str> {
        let mut o = ScriptOwners::default();
        o.register(APP, "faulty#1", 8, |_| false);
        o.register(OTHER, "faulty#2", 8, |_| false);
        o
    }

    /// A trap in an app's click handler, as Chromium 156 reported it for `tests/apps/faulty`
    /// (panic = "abort"; only the blob URL is replaced).
    fn trap_stack(glue: &str) -> String {
        [
            "RuntimeError: unreachable".to_string(),
            "    at wasm://wasm/0001af26:wasm-function[41]:0x3e05".into(),
            "    at wasm://wasm/0001af26:wasm-function[80]:0x4b06".into(),
            "    at wasm://wasm/0001af26:wasm-function[135]:0x5e92".into(),
            "    at wasm://wasm/0001af26:wasm-function[105]:0x5ae2".into(),
            format!("    at wasm_bindgen__convert__closures_____invoke__h52d424bbcf6c1f6e ({glue}:152:10)"),
            format!("    at HTMLButtonElement.real ({glue}:210:20)"),
        ]
        .join("\n")
    }

    #[test]
    fn frames_name_their_script() {
        assert_eq!(frame_url(&format!("    at real ({APP}:231:21)")), Some(APP));
        assert_eq!(frame_url(&format!("    at {APP}:3:9")), Some(APP));
        assert_eq!(frame_url(&format!("handler@{APP}:231:21")), Some(APP));
        assert_eq!(frame_url(&format!("@{SHELL}:1")), Some(SHELL));
        assert_eq!(frame_url("    at Array.map (<anonymous>)"), None);
        assert_eq!(
            frame_url("    at wasm://wasm/0012ab34:wasm-function[12]:0x99"),
            None
        );
        assert_eq!(
            frame_url(&format!(
                "f@{SHELL} line 2 > WebAssembly.compile:wasm-function[40]:0x1a2b"
            )),
            None
        );
        assert_eq!(frame_url("RuntimeError: unreachable"), None);
        // An eval frame names the evaluating script inside nested parentheses: not a URL.
        assert_eq!(
            frame_url("    at eval (eval at run (http://x/a.js:1:2), <anonymous>:3:11)"),
            None
        );
        assert_eq!(
            frame_url("    at http://127.0.0.1:28080/a.js"),
            Some("http://127.0.0.1:28080/a.js")
        );
        assert_eq!(frame_url("    at async Promise.all (index 0)"), None);
    }

    #[test]
    fn a_message_is_not_a_frame() {
        let o = owners();
        let stack = format!("Error: mail me@{APP}:1:1\n    at f ({SHELL}:1:1)");
        assert_eq!(o.blame(Some(&stack), None), None);
        let firefox = format!("f@{APP}:1:1\ng@{SHELL}:2:2");
        assert_eq!(o.blame(Some(&firefox), None), Some(&"faulty#1"));
    }

    #[test]
    fn a_trap_belongs_to_the_instance_whose_glue_called_the_wasm() {
        let o = owners();
        assert_eq!(o.blame(Some(&trap_stack(APP)), None), Some(&"faulty#1"));
        assert_eq!(o.blame(Some(&trap_stack(OTHER)), None), Some(&"faulty#2"));
    }

    #[test]
    fn the_innermost_script_decides() {
        let o = owners();
        // The shell failed inside a host call made by the app: the shell's frame is innermost.
        let shell_bug = format!(
            "Error: boom\n    at __wbg_new ({SHELL}:10:5)\n    at wasm://wasm/ff:wasm-function[3]:0x1\n    at dispatch ({SHELL}:99:1)\n    at onClick ({APP}:5:5)"
        );
        assert_eq!(o.blame(Some(&shell_bug), None), None);
        // An app callback called by the shell threw: the app's frame is innermost.
        let app_throw = format!("Error: no\n    at cb ({OTHER}:1:1)\n    at deliver ({SHELL}:1:1)");
        assert_eq!(o.blame(Some(&app_throw), None), Some(&"faulty#2"));
    }

    #[test]
    fn unknown_or_missing_sources_blame_nobody() {
        let o = owners();
        let unknown = "blob:http://127.0.0.1:28080/aaaaaaaa-0000-4000-8000-000000000000";
        assert_eq!(o.blame(Some(&trap_stack(unknown)), None), None);
        let page = "Error: x\n    at eval (eval at evaluate (:234:30), <anonymous>:3:11)";
        assert_eq!(o.blame(Some(page), None), None);
        assert_eq!(o.blame(None, None), None);
        assert_eq!(o.blame(Some(""), Some(SHELL)), None);
        // A thrown string has no stack; the event's filename still names the app's script.
        assert_eq!(o.blame(None, Some(APP)), Some(&"faulty#1"));
        // A stack that names a script wins over the filename.
        assert_eq!(o.blame(Some(&trap_stack(SHELL)), Some(APP)), None);
        // Only whole URLs match: a prefix of a registered URL is another script.
        assert_eq!(o.blame(None, Some(&APP[..APP.len() - 1])), None);
    }

    #[test]
    fn retired_owners_are_bounded() {
        let mut o = ScriptOwners::default();
        for i in 0..10 {
            o.register(format!("blob:x/{i}"), i, 3, |n: &i32| *n < 8);
        }
        // 0..8 are retired: only the newest three of them are kept, plus the two live ones.
        assert_eq!(o.len(), 5);
        assert_eq!(o.blame(None, Some("blob:x/4")), None);
        assert_eq!(o.blame(None, Some("blob:x/5")), Some(&5));
        assert_eq!(o.blame(None, Some("blob:x/9")), Some(&9));
        assert!(!o.is_empty());
    }
}
