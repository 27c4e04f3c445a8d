//! The boot module's wasm stack is 256 KiB instead of Rust's default 1 MiB: its linear memory
//! stays alive as long as the page does (the host object it gave the app and its error watch
//! are its functions), and the deepest thing it runs is serde_json on the manifest, which stops
//! at 128 levels of nesting (the browser test feeds it far deeper).
fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-cdylib=-zstack-size=262144");
    }
}
