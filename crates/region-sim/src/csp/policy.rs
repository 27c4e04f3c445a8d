//! The Content Security Policy of the shell's HTML (issue 9): nothing inline or `eval`-ed runs
//! unless its hash is listed, and the page talks only to its own origin and the regions.
//!
//! ```text
//! default-src 'self'; script-src 'self' 'wasm-unsafe-eval' blob: 'sha256-<inline loader>';
//! style-src 'self'; img-src 'self' data:; connect-src 'self' <region URLs>;
//! object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self';
//! report-uri /csp-report
//! ```
//!
//! Why each source is there: `'wasm-unsafe-eval'` lets the shell compile WebAssembly (its own
//! and each app's, which it fetches with integrity and compiles itself) without allowing
//! JavaScript `eval`; `blob:` is where the loader imports an app's integrity-checked glue
//! from; `data:` images cover the `data:,` favicon. Inline `<style>` elements, if a document
//! has any, are allowed by hash; `style="…"` attributes by hash plus `'unsafe-hashes'`, which
//! allows exactly those attribute values and nothing else.

use std::fmt::Write as _;

use mfe_manifest::{sri, SriAlgorithm};

use super::html::Inline;

/// Where browsers send violation reports (served by the static server).
pub const REPORT_PATH: &str = "/csp-report";

/// The policy for one document, given what it has inline and the regions it may call.
pub fn policy_for(inline: &Inline, regions: &[String]) -> String {
    let hashes = |texts: &[Vec<u8>]| -> String {
        texts.iter().fold(String::new(), |mut out, text| {
            let _ = write!(out, " '{}'", sri(SriAlgorithm::Sha256, text));
            out
        })
    };
    let mut style_src = format!("'self'{}", hashes(&inline.styles));
    if !inline.style_attributes.is_empty() {
        let _ = write!(
            style_src,
            " 'unsafe-hashes'{}",
            hashes(&inline.style_attributes)
        );
    }
    let connect_src = regions.iter().fold(String::from("'self'"), |mut out, url| {
        let _ = write!(out, " {}", url.trim_end_matches('/'));
        out
    });
    [
        "default-src 'self'".to_owned(),
        format!(
            "script-src 'self' 'wasm-unsafe-eval' blob:{}",
            hashes(&inline.scripts)
        ),
        format!("style-src {style_src}"),
        "img-src 'self' data:".to_owned(),
        format!("connect-src {connect_src}"),
        "object-src 'none'".to_owned(),
        "base-uri 'none'".to_owned(),
        "frame-ancestors 'none'".to_owned(),
        "form-action 'self'".to_owned(),
        format!("report-uri {REPORT_PATH}"),
    ]
    .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csp::html::scan;

    #[test]
    fn a_document_without_inline_code_gets_the_base_policy() {
        let policy = policy_for(&Inline::default(), &["http://127.0.0.1:8081/".into()]);
        assert_eq!(
            policy,
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' blob:; style-src 'self'; \
             img-src 'self' data:; connect-src 'self' http://127.0.0.1:8081; \
             object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'; \
             report-uri /csp-report"
        );
    }

    #[test]
    fn inline_code_is_allowed_by_hash_only() {
        // sha256 of "alert(1)" and of "color: red".
        let inline = scan(b"<script>alert(1)</script><p style=\"color: red\">");
        let policy = policy_for(&inline, &[]);
        assert!(policy.contains(
            "script-src 'self' 'wasm-unsafe-eval' blob: \
             'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"
        ));
        assert!(policy.contains(
            "style-src 'self' 'unsafe-hashes' 'sha256-NerDAUWfwD31YdZHveMrq0GLjsNFMwxLpZl0dPUeCcw='"
        ));
        assert!(!policy.contains("'unsafe-inline'") && !policy.contains("'unsafe-eval'"));
    }
}
