//! Entry point of the shell's wasm binary (built by trunk from index.html).

fn main() {
    mfe_shell::start();
}
