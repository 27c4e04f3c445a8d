//! Content Security Policy for the shell's HTML, and the endpoint that collects violation
//! reports. See `policy.rs` for the policy and why each source is in it.

pub mod headers;
pub mod html;
pub mod policy;
pub mod reports;

pub use headers::{security_headers, Csp};
pub use reports::CspReports;
