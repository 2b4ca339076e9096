//! `ipsec-inspect`: look inside ISAKMP messages, recompute IKEv1 keys, verify
//! recorded exchanges and decrypt ESP packets.
//!
//! Every subcommand prints a one-line error and exits 1 on bad input; it never
//! panics.

use std::process::ExitCode;

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
    let cli = Cli::parse();
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
