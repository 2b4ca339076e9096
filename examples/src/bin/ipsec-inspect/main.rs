//! `ipsec-inspect`: look inside ISAKMP messages, recompute IKEv1 keys, verify
//! recorded exchanges and decrypt ESP packets.
//!
//! Every subcommand prints a one-line error and exits 1 on bad input; it never
//! panics.

use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{Parser, Subcommand};

mod decode;
mod esp;
mod exchange;
mod keys;

#[derive(Parser)]
#[command(name = "ipsec-inspect", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode one ISAKMP message (raw bytes or hex) into a tree of payloads.
    Decode(decode::Args),
    /// Compute SKEYID, SKEYID_d, SKEYID_a and SKEYID_e from the exchange inputs.
    Keys(keys::Args),
    /// Decrypt and verify a recorded IKEv1 exchange.
    Exchange(exchange::Args),
    /// Encapsulate or decapsulate one ESP packet.
    #[command(subcommand)]
    Esp(esp::Command),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version are not errors.
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        // No subcommand at all: show the usage, but still fail.
        Err(e) if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            return ExitCode::FAILURE;
        }
        // A bad argument is bad input too: one line, exit 1 (clap's own
        // exit code 2 and multi-line usage text would break that promise).
        Err(e) => {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            eprintln!("ipsec-inspect: error: {first} (see --help)");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Decode(args) => decode::run(args),
        Command::Keys(args) => keys::run(args),
        Command::Exchange(args) => exchange::run(args),
        Command::Esp(cmd) => esp::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("ipsec-inspect: error: {message}");
            ExitCode::FAILURE
        }
    }
}
