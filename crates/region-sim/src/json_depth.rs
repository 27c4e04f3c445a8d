//! Nesting limit for JSON bodies, checked before parsing.
//!
//! `serde_json` already stops at 128 levels, so deep input cannot overflow the stack; this
//! check refuses much earlier (commands are shallow: an envelope and an application payload)
//! and names the limit and the byte where it was crossed, so a client gets a reason it can
//! act on instead of a parser message. It is a single loop over the bytes with a counter: no
//! recursion, no allocation, linear time whatever the input.

/// Deepest nesting of objects and arrays accepted in one command (the command object is
/// level 1, its `payload` object level 2, …).
pub const MAX_COMMAND_DEPTH: usize = 32;

/// Where a body first nests deeper than allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep {
    pub limit: usize,
    /// Byte offset of the bracket that crossed the limit.
    pub at: usize,
}

impl std::fmt::Display for TooDeep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "JSON nests objects and arrays deeper than {} levels (at byte {})",
            self.limit, self.at
        )
    }
}

/// Checks that `bytes` never nest `{`/`[` deeper than `limit`, ignoring brackets inside
/// strings. It does not validate JSON: the parser that runs next does.
pub fn check_depth(bytes: &[u8], limit: usize) -> Result<(), TooDeep> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (at, &byte) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > limit {
                    return Err(TooDeep { limit, at });
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> String {
        format!("{}{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn counts_objects_and_arrays() {
        assert!(check_depth(nested(32).as_bytes(), 32).is_ok());
        assert_eq!(
            check_depth(nested(33).as_bytes(), 32),
            Err(TooDeep { limit: 32, at: 32 })
        );
        assert!(check_depth(br#"{"a":{"b":[1,{"c":2}]}}"#, 4).is_ok());
        assert!(check_depth(br#"{"a":{"b":[1,{"c":2}]}}"#, 3).is_err());
    }

    #[test]
    fn brackets_inside_strings_do_not_count() {
        assert!(check_depth(br#"{"a":"[[[[[[{{{{"}"#, 1).is_ok());
        assert!(check_depth(br#"{"a":"\"[[[["}"#, 1).is_ok());
        assert!(check_depth(br#"{"a":"\\"}"#, 1).is_ok());
        assert!(check_depth(br#"{"a":"\\",  "b":[[]]}"#, 2).is_err());
    }

    #[test]
    fn siblings_do_not_add_up() {
        let wide = format!("[{}]", vec!["[[]]"; 1000].join(","));
        assert!(check_depth(wide.as_bytes(), 3).is_ok());
    }

    #[test]
    fn a_million_brackets_are_refused_quickly() {
        let deep = "[".repeat(1_000_000);
        assert_eq!(check_depth(deep.as_bytes(), 32).unwrap_err().at, 32);
        let closers = "]".repeat(1_000_000);
        assert!(check_depth(closers.as_bytes(), 32).is_ok());
    }
}
