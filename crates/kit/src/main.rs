//! `mfe`: the micro-app team kit. One command per step of a micro app's life — create it, run it
//! alone, test it, publish it, roll it back, remove it. See docs/micro-apps.md.

mod dev;
mod new;
mod shell_root;
mod template;
mod test_cmd;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};
use mfe_deploy::cli::{CdnArg, DeployCmd};
use mfe_deploy::{Cdn, Tools};

/// The micro-app team kit: new, dev, test, publish, rollback, remove, list.
#[derive(Debug, Parser)]
#[command(name = "mfe", version)]
struct Cli {
    #[command(flatten)]
    cdn: CdnArg,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Create a micro app from the template: one component, one command, one query, one
    /// event, a browser unit test and a Playwright test, all passing as generated.
    New {
        /// The app's name: its route (/<name>) and manifest key, e.g. `orders`.
        name: String,
        /// Where to create it. Default: mfe/apps/<name> inside the shell's checkout (a
        /// workspace member), ./<name> anywhere else (a standalone crate).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Run the app alone in a page with a mock host, rebuilding and reloading on every change;
    /// the same server feeds it into a debug shell through a dev override.
    Dev {
        /// The app's folder.
        #[arg(default_value = ".")]
        app_dir: PathBuf,
        /// Loopback port to serve on.
        #[arg(long, default_value_t = 8700)]
        port: u16,
        /// Build with the release profile and wasm-opt, as publishing does (slower).
        #[arg(long)]
        release: bool,
        /// Stop after this many seconds (for scripts).
        #[arg(long, value_name = "SECONDS")]
        exit_after: Option<u64>,
    },
    /// Run the app's tests: browser unit tests, then its Playwright tests in the real shell.
    Test {
        /// The app's folder.
        #[arg(default_value = ".")]
        app_dir: PathBuf,
        /// First loopback port of the test stack.
        #[arg(long, default_value_t = 48080)]
        port: u16,
        /// Browser unit tests only.
        #[arg(long)]
        unit_only: bool,
    },
    #[command(flatten)]
    Deploy(DeployCmd),
}

/// The build tools, preferring the shell's own wasm-opt (npm binaryen: the Debian one breaks
/// wasm-bindgen output).
fn tools(shell: &Path) -> Tools {
    let mut tools = Tools::default();
    let wasm_opt = shell.join("node_modules/.bin/wasm-opt");
    if wasm_opt.is_file() {
        tools.wasm_opt = wasm_opt.into_os_string();
    }
    tools
}

fn run(cli: Cli) -> Result<()> {
    let shell = shell_root::shell_root()?;
    match cli.command {
        Cmd::New { name, dir } => {
            let created = new::create(
                &new::NewApp {
                    name: name.clone(),
                    dir,
                    shell,
                },
                &std::env::current_dir()?,
            )?;
            for file in &created.files {
                eprintln!("-> wrote {}", file.display());
            }
            println!(
                "created {name} in {} ({}); next: cd there, `mfe dev`, `mfe test`, `mfe publish . --build`",
                created.dir.display(),
                match created.layout {
                    template::Layout::InShellWorkspace => "a member of the shell's workspace",
                    template::Layout::Standalone => "a standalone crate",
                }
            );
        }
        Cmd::Dev {
            app_dir,
            port,
            release,
            exit_after,
        } => dev::run(dev::DevOptions {
            app_dir,
            port,
            release,
            exit_after,
            tools: tools(&shell),
        })?,
        Cmd::Test {
            app_dir,
            port,
            unit_only,
        } => test_cmd::run(&test_cmd::TestOptions {
            app_dir,
            shell,
            port,
            unit_only,
        })?,
        Cmd::Deploy(command) => {
            mfe_deploy::cli::run(&Cdn::new(cli.cdn.cdn), command, tools(&shell))?
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
