//! The deploy commands as the command line offers them: `publish`, `rollback`, `remove` and
//! `list`, parsed and printed here so every binary that embeds them (`mfe-deploy`, and the team
//! kit's `mfe`) says exactly the same things.

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;
use mfe_manifest::DEFAULT_KEEP_PREVIOUS;

use crate::{
    allow_dev_origin, list, now_rfc3339, publish, remove, rollback, Cdn, PublishOptions,
    PublishOutcome, Tools,
};

/// Root of the served tree the deploy commands work on: `--cdn`, else `$MFE_CDN`, else
/// `var/cdn` (the dev stack's, relative to the shell checkout).
#[derive(Debug, Clone, clap::Args)]
pub struct CdnArg {
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        env = "MFE_CDN",
        default_value = "var/cdn"
    )]
    pub cdn: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum DeployCmd {
    /// Publish a micro app (a Rust crate or a JS package) as a new immutable version and make
    /// it current.
    Publish {
        /// The app's folder: a crate with [package.metadata.mfe], or a package.json with "mfe".
        app_dir: PathBuf,
        /// Build a Rust app first (cargo, wasm-bindgen, wasm-opt); otherwise its pkg/ is used.
        #[arg(long)]
        build: bool,
        /// With --build: skip wasm-opt.
        #[arg(long)]
        no_opt: bool,
        /// Publish under this version instead of the declared one.
        #[arg(long, value_name = "V")]
        version: Option<String>,
        /// How many earlier versions to keep as rollback targets.
        #[arg(long, value_name = "N", default_value_t = DEFAULT_KEEP_PREVIOUS)]
        keep: usize,
    },
    /// Make an earlier version current again (the newest previous one by default). The version
    /// rolled back from is no longer a rollback target; publish it again to restore it.
    Rollback {
        /// The app's name (its key in manifest.json).
        name: String,
        /// Roll back to this version (must be listed as a previous version).
        #[arg(long, value_name = "VERSION")]
        to: Option<String>,
    },
    /// Remove an app from manifest.json. Its files stay on disk (they are immutable, and open
    /// pages may still load them).
    Remove {
        /// The app's name (its key in manifest.json).
        name: String,
    },
    /// Let debug shells load development overrides from an origin (a team's `mfe dev` server),
    /// or stop letting them with --remove. Release shells ignore overrides altogether.
    AllowOrigin {
        /// The origin, e.g. http://127.0.0.1:8700.
        origin: String,
        /// Stop allowing it.
        #[arg(long)]
        remove: bool,
    },
    /// List the published apps: current and previous versions, routes, bytes.
    List {
        /// Print JSON for machines instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// Runs one deploy command, printing results on stdout and progress on stderr; `tools` are
/// the programs `publish --build` runs.
pub fn run(cdn: &Cdn, command: DeployCmd, tools: Tools) -> Result<()> {
    let mut progress = |line: &str| eprintln!("-> {line}");
    match command {
        DeployCmd::Publish {
            app_dir,
            build,
            no_opt,
            version,
            keep,
        } => {
            let opts = PublishOptions {
                build,
                optimize: !no_opt,
                version,
                keep_previous: keep,
                tools,
                ..PublishOptions::new(app_dir, cdn.clone())
            };
            match publish(&opts, &now_rfc3339(), &mut progress)? {
                PublishOutcome::Published {
                    descriptor: d,
                    replaced,
                } => {
                    let was = replaced.map(|v| format!(" (was {v})")).unwrap_or_default();
                    println!("published {} {}{was}: {}", d.name, d.version, d.entry);
                }
                PublishOutcome::Restored { descriptor: d } => println!(
                    "{} {} was already on disk with these exact files; it is current again",
                    d.name, d.version
                ),
                PublishOutcome::AlreadyPublished { descriptor: d } => {
                    println!("{} {} already published, nothing to do", d.name, d.version)
                }
            }
        }
        DeployCmd::Rollback { name, to } => {
            let done = rollback(cdn, &name, to.as_deref(), &now_rfc3339(), &mut progress)?;
            println!("{}: rolled back {} -> {}", done.name, done.from, done.to);
            if !done.dropped.is_empty() {
                println!(
                    "no longer rollback targets: {} (files kept under {}; publish again to restore)",
                    done.dropped.join(", "),
                    cdn.app_dir(&done.name).display()
                );
            }
        }
        DeployCmd::Remove { name } => {
            let done = remove(cdn, &name, &now_rfc3339(), &mut progress)?;
            match done.was_disabled {
                Some(reason) => println!("removed invalid entry {} ({reason})", done.name),
                None => println!(
                    "removed {} ({}) from manifest.json",
                    done.name,
                    done.versions.join(", ")
                ),
            }
            println!(
                "its files under {} were left in place: published versions are immutable and open pages may still load them",
                cdn.app_dir(&done.name).display()
            );
        }
        DeployCmd::AllowOrigin { origin, remove } => {
            let now = now_rfc3339();
            let list = allow_dev_origin(cdn, &origin, !remove, &now, &mut progress)?;
            println!(
                "development overrides allowed from: {}",
                if list.is_empty() {
                    "nowhere".to_string()
                } else {
                    list.join(", ")
                }
            );
        }
        DeployCmd::List { json } => {
            let listing = list(cdn)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&listing)?);
            } else {
                print!("{}", listing.to_table());
            }
        }
    }
    Ok(())
}
