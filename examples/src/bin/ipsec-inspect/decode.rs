//! Placeholder until this subcommand lands.

use std::process::ExitCode;

/// Arguments of this subcommand.
#[derive(clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> Result<ExitCode, String> {
    Err("this subcommand is not implemented yet".into())
}
