//! Placeholder until this subcommand lands.

use std::process::ExitCode;

/// The `esp` subcommands.
#[derive(clap::Subcommand)]
pub(crate) enum Command {
    /// Decrypt one ESP packet.
    Decap,
    /// Encrypt one packet into ESP.
    Encap,
}

pub(crate) fn run(_cmd: Command) -> Result<ExitCode, String> {
    Err("this subcommand is not implemented yet".into())
}
