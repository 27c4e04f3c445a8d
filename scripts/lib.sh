# Shared helpers for the scripts in this folder (sourced, not run).

# Prints a numbered, timestamped step so long runs never look hung.
step() {
  STEP_NO=$(( ${STEP_NO:-0} + 1 ))
  printf '\n\033[1m==> [%s] %s\033[0m\n' "$(date +%H:%M:%S)" "$*"
}

note() { printf '    %s\n' "$*"; }

die() {
  printf '\033[31merror:\033[0m %s\n' "$*" >&2
  exit 1
}

# Runs a command as root (directly when already root, else through sudo).
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# The wasm-bindgen version locked in Cargo.lock (trunk and the test runner must match it).
locked_wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

# The tools the build uses come first on PATH: npm's wasm-opt, cargo-installed binaries.
use_project_tools() {
  export PATH="$PWD/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
}
