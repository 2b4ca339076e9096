//! `ipsec-setkey`: a setkey(8)-compatible front end to the `pfkey` crate.
//!
//! ```text
//! ipsec-setkey -f FILE      run the commands in FILE (`-` for stdin)
//! ipsec-setkey -c           run the commands read from stdin
//! ipsec-setkey -D | -DP     dump the SAD | the SPD
//! ipsec-setkey -F | -FP     flush the SAD | the SPD
//! -n                        print the PF_KEY messages instead of sending them
//! --hex                     with -n, also print each message's bytes (keys included)
//! ```
//!
//! The whole input is parsed before anything is sent; a syntax error names
//! its line and nothing is sent. Kernel refusals name the statement's line;
//! the remaining statements still run (as setkey does), and the exit status
//! is 1 if any failed.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use pfkey::client::Client;
use pfkey::wire::{Message, SaType};
use pfkey::{Session, request};

mod show;
mod syntax;

use syntax::{Command, Statement};

#[derive(Parser)]
#[command(
    name = "ipsec-setkey",
    version,
    about = "Manage the kernel's IPsec SAD and SPD through PF_KEY, setkey(8) style"
)]
struct Cli {
    /// Read commands from FILE (`-` for standard input).
    #[arg(short = 'f', value_name = "FILE")]
    file: Option<PathBuf>,
    /// Read commands from standard input.
    #[arg(short = 'c')]
    stdin: bool,
    /// Dump the SAD (with -P: the SPD).
    #[arg(short = 'D')]
    dump: bool,
    /// Flush the SAD (with -P: the SPD).
    #[arg(short = 'F')]
    flush: bool,
    /// With -D or -F: act on the SPD instead of the SAD.
    #[arg(short = 'P')]
    policy: bool,
    /// Print the messages that would be sent, decoded; send nothing.
    #[arg(short = 'n')]
    dry_run: bool,
    /// With -n: also print each message as hex (this shows the keys).
    #[arg(long)]
    hex: bool,
}

/// What one statement does on the socket.
enum Action {
    /// One request, one reply.
    Send(Message),
    /// A DUMP or X_SPDDUMP; the records are printed.
    Dump(Message),
    /// setkey's `deleteall`: DUMP, then DELETE each SA between the two hosts.
    DeleteAll {
        satype: SaType,
        src: IpAddr,
        dst: IpAddr,
    },
}

fn action(command: &Command) -> Action {
    match command {
        Command::Add(spec) => Action::Send(request::add(spec)),
        Command::Get(id) => Action::Send(request::get(id.satype, id.spi, id.src, id.dst)),
        Command::Delete(id) => Action::Send(request::delete(id.satype, id.spi, id.src, id.dst)),
        Command::DeleteAll { satype, src, dst } => Action::DeleteAll {
            satype: *satype,
            src: *src,
            dst: *dst,
        },
        Command::Flush(satype) => Action::Send(request::flush(*satype)),
        Command::Dump(satype) => Action::Dump(request::dump(*satype)),
        Command::SpdAdd {
            update,
            src,
            dst,
            policy,
        } => Action::Send(if *update {
            request::spd_update(*src, *dst, policy.clone())
        } else {
            request::spd_add(*src, *dst, policy.clone())
        }),
        Command::SpdDelete { src, dst, policy } => Action::Send(request::spd_delete(
            *src,
            *dst,
            policy.policy_type,
            policy.dir,
        )),
        Command::SpdFlush => Action::Send(request::spd_flush()),
        Command::SpdDump => Action::Dump(request::spd_dump()),
    }
}

/// The statements to run: from the file/stdin, or the one -D/-F implies.
fn statements(cli: &Cli) -> Result<(String, Vec<Statement>), String> {
    let one = |command| {
        Ok((
            "command line".to_owned(),
            vec![Statement { line: 0, command }],
        ))
    };
    match (cli.dump, cli.flush, cli.policy) {
        (true, false, false) => return one(Command::Dump(SaType::Unspec)),
        (true, false, true) => return one(Command::SpdDump),
        (false, true, false) => return one(Command::Flush(SaType::Unspec)),
        (false, true, true) => return one(Command::SpdFlush),
        (false, false, true) => return Err("-P goes with -D or -F".into()),
        (true, true, _) => return Err("-D and -F exclude each other".into()),
        (false, false, false) => {}
    }
    let (source, path) = match (&cli.file, cli.stdin) {
        (Some(path), false) => (path.display().to_string(), Some(path.as_path())),
        (None, true) => ("stdin".to_owned(), None),
        (Some(_), true) => return Err("-f and -c exclude each other".into()),
        (None, false) => {
            return Err("nothing to do: give -f FILE, -c, -D or -F (see --help)".into());
        }
    };
    let bytes = ipsec_examples::input::read_source(path)?;
    let text = String::from_utf8(bytes).map_err(|_| format!("{source}: not UTF-8 text"))?;
    let parsed = syntax::parse(&text).map_err(|e| format!("{source}:{}: {}", e.line, e.message))?;
    Ok((source, parsed))
}

/// Writes to stdout; a closed pipe (`| head`) ends the program quietly
/// instead of panicking like `println!`.
fn say(text: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(text).and_then(|()| out.write_all(b"\n")) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("ipsec-setkey: writing output: {e}");
        std::process::exit(1);
    }
}

fn print_message(msg: &Message, show_keys: bool) {
    for line in show::describe(msg, show_keys) {
        say(format_args!("{line}"));
    }
}

/// `-n`: stamp each request as the client would and print it.
fn dry_run(source: &str, statements: &[Statement], hex: bool) -> Result<(), String> {
    let mut client = Client::new(std::process::id());
    for st in statements {
        let (msg, note) = match action(&st.command) {
            Action::Send(msg) | Action::Dump(msg) => (msg, None),
            Action::DeleteAll { satype, src, dst } => (
                request::dump(satype),
                Some(format!(
                    "then DELETE each {satype:?} SA from {src} to {dst} it lists"
                )),
            ),
        };
        let tx = client
            .send(msg)
            .map_err(|e| format!("{source}:{}: {e}", st.line))?;
        // Decode what was encoded, so the output shows the real bytes' meaning.
        let sent = Message::parse(&tx.bytes).map_err(|e| format!("re-parse failed: {e}"))?;
        say(format_args!("{source}:{}:", st.line));
        print_message(&sent, false);
        if let Some(note) = note {
            say(format_args!("  ({note})"));
        }
        if hex {
            say(format_args!(
                "  hex {}",
                ipsec_examples::input::to_hex(&tx.bytes)
            ));
        }
        // Nothing will answer: do not keep the request pending.
        client.forget(tx.msg_type, tx.seq);
    }
    Ok(())
}

fn run(session: &mut Session, st: &Statement) -> Result<(), String> {
    match action(&st.command) {
        Action::Send(msg) => {
            let is_get = msg.header.msg_type == pfkey::wire::MessageType::Get;
            let reply = session.request(msg).map_err(|e| e.to_string())?;
            if is_get {
                print_message(&reply, true);
            }
        }
        Action::Dump(msg) => {
            let records = session.dump(msg).map_err(|e| e.to_string())?;
            if records.is_empty() {
                say(format_args!("(no entries)"));
            }
            for record in &records {
                print_message(record, true);
            }
        }
        Action::DeleteAll { satype, src, dst } => {
            let records = session
                .dump(request::dump(satype))
                .map_err(|e| e.to_string())?;
            for record in records {
                let ends = (record.address_src(), record.address_dst(), record.sa());
                if let (Some(s), Some(d), Some(sa)) = ends
                    && s.addr.ip() == src
                    && d.addr.ip() == dst
                {
                    session
                        .request(request::delete(record.header.satype, sa.spi, src, dst))
                        .map_err(|e| e.to_string())?;
                }
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (source, statements) = match statements(&cli) {
        Ok(s) => s,
        Err(message) => {
            eprintln!("ipsec-setkey: {message}");
            return ExitCode::FAILURE;
        }
    };
    if cli.dry_run {
        return match dry_run(&source, &statements, cli.hex) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("ipsec-setkey: {message}");
                ExitCode::FAILURE
            }
        };
    }
    let mut session = match Session::open() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ipsec-setkey: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut failed = false;
    for st in &statements {
        if let Err(message) = run(&mut session, st) {
            eprintln!("ipsec-setkey: {source}:{}: {message}", st.line);
            failed = true;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
