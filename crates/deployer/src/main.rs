//! `mfe-deploy`: the manifest deployer's command line; parsing and printing live in
//! [`mfe_deploy::cli`] so the team kit's `mfe` command offers the very same commands.

use std::process::ExitCode;

use clap::Parser;
use mfe_deploy::cli::{self, CdnArg, DeployCmd};
use mfe_deploy::{Cdn, Tools};

/// Publish, roll back and remove micro apps in a static tree served to the shell.
///
/// The tree holds <cdn>/apps/<name>/<version>/… (immutable) and <cdn>/manifest.json (replaced
/// atomically). Runs on the same tree are serialised by <cdn>/.deploy.lock.
#[derive(Debug, Parser)]
#[command(name = "mfe-deploy", version)]
struct Cli {
    #[command(flatten)]
    cdn: CdnArg,
    #[command(subcommand)]
    command: DeployCmd,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli::run(&Cdn::new(cli.cdn.cdn), cli.command, Tools::default()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
