//! Finds what a Content Security Policy must allow by hash in an HTML document: inline
//! `<script>` and `<style>` elements and `style="…"` attributes.
//!
//! Trunk writes its loader as an inline module script, and its text (hashed file names)
//! changes with every build, so the hash has to come from the file actually served. This is
//! a small scanner for that purpose, not an HTML parser: it skips comments, reads tags and
//! their (quoted or bare) attributes, and takes a script's or style's text up to its end tag,
//! the way the HTML tokenizer does for these raw-text elements. Not handled, because trunk
//! and the shell never produce them: the "escaped" script states (`<!--<script>` inside a
//! script) and character references inside `style` attributes (the browser hashes the
//! decoded value).
//!
//! Every loop advances through the input, so the scan is linear and always ends.

/// Inline code found in a document, each as the exact text a browser hashes (line endings
/// normalised to `\n`, as the HTML parser does before anything sees the text).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Inline {
    /// Text of every non-empty `<script>` without a `src` attribute.
    pub scripts: Vec<Vec<u8>>,
    /// Text of every non-empty `<style>` element.
    pub styles: Vec<Vec<u8>>,
    /// Value of every `style` attribute.
    pub style_attributes: Vec<Vec<u8>>,
}

struct Tag {
    name: Vec<u8>,
    attributes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    /// Index just after the closing `>` (or the end of the input).
    end: usize,
}

impl Tag {
    fn attribute(&self, name: &[u8]) -> Option<&Option<Vec<u8>>> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }
}

/// Scans `html` for inline scripts, styles and style attributes.
pub fn scan(html: &[u8]) -> Inline {
    let mut found = Inline::default();
    let mut pos = 0;
    while let Some(offset) = html[pos..].iter().position(|&b| b == b'<') {
        let open = pos + offset;
        let rest = &html[open..];
        if rest.starts_with(b"<!--") {
            pos = find(html, open + 4, b"-->").map_or(html.len(), |end| end + 3);
            continue;
        }
        if !rest.get(1).is_some_and(u8::is_ascii_alphabetic) {
            // End tags, doctype, processing instructions and stray '<' carry nothing to hash.
            pos = open + 1;
            continue;
        }
        let tag = read_tag(html, open + 1);
        if let Some(Some(value)) = tag.attribute(b"style") {
            found.style_attributes.push(normalise(value));
        }
        pos = tag.end;
        let raw_text = match tag.name.as_slice() {
            b"script" => Some(b"script".as_slice()),
            b"style" => Some(b"style".as_slice()),
            _ => None,
        };
        if let Some(name) = raw_text {
            let close = find_end_tag(html, tag.end, name).unwrap_or(html.len());
            let text = &html[tag.end..close];
            if !text.is_empty() {
                if name == b"style" {
                    found.styles.push(normalise(text));
                } else if tag.attribute(b"src").is_none() {
                    found.scripts.push(normalise(text));
                }
            }
            pos = close;
        }
    }
    found
}

/// Reads a start tag whose name begins at `start` (just after `<`).
fn read_tag(html: &[u8], start: usize) -> Tag {
    let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c');
    let mut pos = start;
    while pos < html.len() && !is_space(html[pos]) && html[pos] != b'/' && html[pos] != b'>' {
        pos += 1;
    }
    let name = html[start..pos].to_ascii_lowercase();
    let mut attributes = Vec::new();
    loop {
        while pos < html.len() && (is_space(html[pos]) || html[pos] == b'/') {
            pos += 1;
        }
        if pos >= html.len() {
            break;
        }
        if html[pos] == b'>' {
            pos += 1;
            break;
        }
        let name_start = pos;
        // The first character is part of the name even if it is '=' (HTML's rule).
        pos += 1;
        while pos < html.len() && !is_space(html[pos]) && !b"/>=".contains(&html[pos]) {
            pos += 1;
        }
        let attribute = html[name_start..pos].to_ascii_lowercase();
        while pos < html.len() && is_space(html[pos]) {
            pos += 1;
        }
        let mut value = None;
        if html.get(pos) == Some(&b'=') {
            pos += 1;
            while pos < html.len() && is_space(html[pos]) {
                pos += 1;
            }
            match html.get(pos) {
                Some(&quote @ (b'"' | b'\'')) => {
                    let end = html[pos + 1..]
                        .iter()
                        .position(|&b| b == quote)
                        .map_or(html.len(), |i| pos + 1 + i);
                    value = Some(html[pos + 1..end].to_vec());
                    pos = (end + 1).min(html.len());
                }
                _ => {
                    let begin = pos;
                    while pos < html.len() && !is_space(html[pos]) && html[pos] != b'>' {
                        pos += 1;
                    }
                    value = Some(html[begin..pos].to_vec());
                }
            }
        }
        attributes.push((attribute, value));
    }
    Tag {
        name,
        attributes,
        end: pos,
    }
}

/// Index of `</name` (any case) followed by whitespace, `/` or `>`, at or after `from`.
fn find_end_tag(html: &[u8], from: usize, name: &[u8]) -> Option<usize> {
    let mut pos = from;
    while let Some(at) = find(html, pos, b"</") {
        let after = at + 2;
        let matches_name = html
            .get(after..after + name.len())
            .is_some_and(|n| n.eq_ignore_ascii_case(name));
        let terminated = html
            .get(after + name.len())
            .is_none_or(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'/' | b'>'));
        if matches_name && terminated {
            return Some(at);
        }
        pos = after;
    }
    None
}

fn find(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| from + i)
}

/// CRLF and lone CR become LF, as in the HTML parser's input stream.
fn normalise(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'\r' {
            out.push(b'\n');
            if text.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
        } else {
            out.push(text[i]);
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(list: &[Vec<u8>]) -> Vec<&str> {
        list.iter()
            .map(|t| std::str::from_utf8(t).unwrap())
            .collect()
    }

    #[test]
    fn finds_trunks_inline_loader_and_skips_external_scripts() {
        let html = br#"<!DOCTYPE html><html><head>
<script type="module">
import init from '/app-0123.js';
await init();
</script>
<script src="/sw-register.js"></script>
<SCRIPT defer src=/x.js></SCRIPT>
<link rel="modulepreload" href="/app-0123.js"></head><body></body></html>"#;
        let found = scan(html);
        assert_eq!(
            texts(&found.scripts),
            ["\nimport init from '/app-0123.js';\nawait init();\n"]
        );
        assert!(found.styles.is_empty() && found.style_attributes.is_empty());
    }

    #[test]
    fn script_text_runs_to_the_real_end_tag() {
        let found = scan(b"<script>if (a </b) x = '</scripts>';</script ><p>");
        assert_eq!(texts(&found.scripts), ["if (a </b) x = '</scripts>';"]);
    }

    #[test]
    fn comments_and_empty_scripts_are_ignored() {
        let found = scan(b"<!-- <script>alert(1)</script> --><script></script><script>x</script>");
        assert_eq!(texts(&found.scripts), ["x"]);
    }

    #[test]
    fn styles_and_style_attributes_are_found() {
        let found = scan(
            b"<style>\r\nbody{margin:0}\r</style><div class=a style='color: red'>\
              <p STYLE=\"x:y\" id=q></p><span style=bare>",
        );
        assert_eq!(texts(&found.styles), ["\nbody{margin:0}\n"]);
        assert_eq!(
            texts(&found.style_attributes),
            ["color: red", "x:y", "bare"]
        );
    }

    #[test]
    fn data_src_is_not_src() {
        let found = scan(b"<script data-src=\"/x.js\">inline()</script>");
        assert_eq!(texts(&found.scripts), ["inline()"]);
    }

    #[test]
    fn truncated_documents_end_the_scan() {
        for html in [
            &b"<script>never closed"[..],
            b"<script",
            b"<div style=\"open",
            b"<!-- open",
            b"<",
            b"<a b=",
        ] {
            let _ = scan(html);
        }
        assert_eq!(texts(&scan(b"<script>tail").scripts), ["tail"]);
    }
}
