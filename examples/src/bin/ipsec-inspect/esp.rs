//! `ipsec-inspect esp decap|encap`: decrypt one ESP packet, or build one.
//!
//! Keys are given as `ALG:KEYHEX`; for AES-CTR, AES-GCM, AES-GMAC and
//! ChaCha20-Poly1305 the hex ends with the 4-byte salt (the RFC 3686 / 4106
//! / 4543 / 7634 keying-material layout).

use std::path::PathBuf;
use std::process::ExitCode;

use esp_core::crypto::{EncryptionAlgorithm, IntegrityAlgorithm};
use esp_core::wire::esp::EspHeader;
use esp_core::wire::ip;
use esp_core::wire::udp::{NAT_T_PORT, UDP_HEADER_LEN, UdpEncapPayload, UdpHeader, classify};
use esp_core::{InboundSa, Mode, OutboundSa, SaConfig, UdpEncap};
use ipsec_examples::input::{hex_or_raw, parse_hex, read_source, to_hex};

/// The `esp` subcommands.
#[derive(clap::Subcommand)]
pub(crate) enum Command {
    /// Decrypt and verify one ESP packet.
    Decap(DecapArgs),
    /// Encrypt one packet into ESP.
    Encap(EncapArgs),
}

/// What both directions need to know about the SA.
#[derive(clap::Args)]
pub(crate) struct SaArgs {
    /// SPI in hex (e.g. 00004321).
    #[arg(long)]
    spi: String,
    /// Encryption: aes-cbc, 3des-cbc, aes-ctr, aes-gcm-8, aes-gcm-12,
    /// aes-gcm-16, aes-gmac, chacha20-poly1305 or null, then `:KEYHEX`.
    #[arg(long)]
    enc: String,
    /// Integrity: hmac-md5-96, hmac-sha1-96, hmac-sha256-128,
    /// hmac-sha384-192, hmac-sha512-256 or hmac-sha256-96, then `:KEYHEX`.
    #[arg(long)]
    auth: Option<String>,
    /// Extended sequence numbers, with these high-order 32 bits.
    #[arg(long)]
    esn_high: Option<u32>,
    /// UDP encapsulation (RFC 3948).
    #[arg(long)]
    udp_encap: bool,
    /// tunnel or transport.
    #[arg(long, default_value = "tunnel", value_parser = parse_mode)]
    mode: Mode,
}

/// Arguments of `esp decap`.
#[derive(clap::Args)]
pub(crate) struct DecapArgs {
    #[command(flatten)]
    sa: SaArgs,
    /// The packet (hex or raw), starting at the ESP header, at an outer
    /// IPv4 header, or at the UDP header with --udp-encap; `-` or nothing
    /// for standard input.
    input: Option<PathBuf>,
}

/// Arguments of `esp encap`.
#[derive(clap::Args)]
pub(crate) struct EncapArgs {
    #[command(flatten)]
    sa: SaArgs,
    /// Sequence number (low 32 bits with --esn-high).
    #[arg(long, default_value_t = 1)]
    seq: u32,
    /// IV in hex, for reproducible output (default: random for CBC, the
    /// sequence number for counter modes).
    #[arg(long)]
    iv: Option<String>,
    /// Seal the input as a raw ESP payload with this next header instead of
    /// treating it as an IP packet.
    #[arg(long)]
    next_header: Option<u8>,
    /// The packet to protect (hex or raw): the inner packet in tunnel mode,
    /// the IP packet in transport mode; `-` or nothing for standard input.
    input: Option<PathBuf>,
}

fn parse_mode(s: &str) -> Result<Mode, String> {
    match s {
        "tunnel" => Ok(Mode::Tunnel),
        "transport" => Ok(Mode::Transport),
        _ => Err(format!("mode must be tunnel or transport, not {s:?}")),
    }
}

pub(crate) fn run(cmd: Command) -> Result<ExitCode, String> {
    match cmd {
        Command::Decap(args) => decap(args),
        Command::Encap(args) => encap(args),
    }
}

fn sa_config(args: &SaArgs) -> Result<SaConfig, String> {
    let spi = u32::from_str_radix(args.spi.trim_start_matches("0x"), 16)
        .map_err(|e| format!("--spi {}: {e}", args.spi))?;
    let (name, key) = args.enc.split_once(':').unwrap_or((&args.enc, ""));
    let enc = EncryptionAlgorithm::from_name(name)
        .ok_or_else(|| format!("unknown encryption algorithm {name:?}"))?;
    let key = parse_hex(key).map_err(|e| format!("--enc key: {e}"))?;
    let mut config = SaConfig::new(spi, args.mode, enc, &key).with_esn(args.esn_high.is_some());
    if let Some(auth) = &args.auth {
        let (name, key) = auth.split_once(':').ok_or("--auth takes ALG:KEYHEX")?;
        let alg = IntegrityAlgorithm::from_name(name)
            .ok_or_else(|| format!("unknown integrity algorithm {name:?}"))?;
        config = config.with_integrity(
            alg,
            &parse_hex(key).map_err(|e| format!("--auth key: {e}"))?,
        );
    }
    Ok(config)
}

fn udp_ports() -> UdpEncap {
    UdpEncap {
        src_port: NAT_T_PORT,
        dst_port: NAT_T_PORT,
    }
}

/// Where the input starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Esp,
    Udp,
    Ipv4,
}

/// Tells an outer IPv4 header (valid checksum, its length equal to the
/// input's, carrying ESP or UDP) from an ESP header that merely starts
/// with 0x45.
fn detect(input: &[u8], udp_encap: bool) -> Framing {
    let ipv4 = input.first().is_some_and(|b| b >> 4 == 4)
        && ip::packet_len(input).is_ok_and(|n| n == input.len())
        && input
            .get(..usize::from(input.first().copied().unwrap_or(0) & 0x0f) * 4)
            .is_some_and(|h| h.len() >= 20 && ip::internet_checksum(h, 0) == 0)
        && input
            .get(9)
            .is_some_and(|p| *p == 50 || (*p == 17 && udp_encap));
    // With --udp-encap the input may still start at the ESP header (the
    // payload of a port-4500 datagram, as a UDP socket or a capture tool's
    // "UDP payload" gives it): take it for a UDP header only if its length
    // fits and either covers exactly the input or a port is 4500.
    let udp = udp_encap
        && UdpHeader::parse(input).is_ok_and(|(h, _)| {
            usize::from(h.length) == input.len()
                || h.src_port == NAT_T_PORT
                || h.dst_port == NAT_T_PORT
        });
    match (ipv4, udp) {
        (true, _) => Framing::Ipv4,
        (false, true) => Framing::Udp,
        (false, false) => Framing::Esp,
    }
}

/// Offset of the ESP header in `input` for the given framing.
fn esp_offset(input: &[u8], framing: Framing, udp_encap: bool) -> Result<usize, String> {
    let ip_len = match framing {
        Framing::Ipv4 => usize::from(input.first().copied().unwrap_or(0) & 0x0f) * 4,
        _ => 0,
    };
    let udp = match framing {
        Framing::Udp => true,
        Framing::Ipv4 => input.get(9) == Some(&17),
        Framing::Esp => false,
    };
    let (payload, esp_at) = if udp {
        let datagram = input.get(ip_len..).unwrap_or_default();
        let (_, payload) = UdpHeader::parse(datagram).map_err(|e| e.to_string())?;
        (payload, ip_len + UDP_HEADER_LEN)
    } else if framing == Framing::Esp && udp_encap {
        // The payload of a port-4500 datagram: IKE and keepalives share it.
        (input, 0)
    } else {
        return Ok(ip_len);
    };
    match classify(payload) {
        UdpEncapPayload::Esp(_) => Ok(esp_at),
        UdpEncapPayload::Ike(_) => Err("the UDP payload is IKE (non-ESP marker), not ESP".into()),
        UdpEncapPayload::Keepalive => Err("the UDP payload is a NAT-keepalive".into()),
        UdpEncapPayload::Invalid => Err("the UDP payload is too short for ESP".into()),
    }
}

fn decap(args: DecapArgs) -> Result<ExitCode, String> {
    let mut config = sa_config(&args.sa)?;
    let mut input = hex_or_raw(read_source(args.input.as_deref())?)?;
    let framing = detect(&input, args.sa.udp_encap);
    let esp_at = esp_offset(&input, framing, args.sa.udp_encap)?;
    let header =
        EspHeader::parse(input.get(esp_at..).unwrap_or_default()).map_err(|e| e.to_string())?;
    // The SA sees exactly the framing it is asked to remove: the whole
    // packet in transport mode, what follows the outer header in tunnel mode.
    let ip_len = match framing {
        Framing::Ipv4 => usize::from(input.first().copied().unwrap_or(0) & 0x0f) * 4,
        _ => 0,
    };
    let whole_packet = args.sa.mode == Mode::Transport && framing == Framing::Ipv4;
    let start = if whole_packet { 0 } else { ip_len };
    if esp_at - ip_len == UDP_HEADER_LEN {
        config = config.with_udp_encap(udp_ports());
    }
    let mut sa = InboundSa::new(&config).map_err(|e| e.to_string())?;
    if let Some(high) = args.sa.esn_high {
        let seq = u64::from(high) << 32 | u64::from(header.sequence);
        let last = seq
            .checked_sub(1)
            .ok_or("sequence number 0 is never sent")?;
        sa.resume_after(last);
    }
    let buf = input.get_mut(start..).unwrap_or_default();
    let transport_esp_only = args.sa.mode == Mode::Transport && !whole_packet;
    let got = if transport_esp_only {
        // No IP header to put back: show what ESP carried.
        let esp = buf.get_mut(esp_at - start..).unwrap_or_default();
        sa.open(esp)
    } else {
        sa.decapsulate(buf)
    }
    .map_err(|e| e.to_string())?;
    println!(
        "input: {}",
        match framing {
            Framing::Esp => "ESP",
            Framing::Udp => "UDP-encapsulated ESP",
            Framing::Ipv4 if esp_at - ip_len == UDP_HEADER_LEN => "IPv4 + UDP + ESP",
            Framing::Ipv4 => "IPv4 + ESP",
        }
    );
    println!("spi: {:#010x}", header.spi);
    println!("sequence: {}", got.sequence);
    println!("next header: {}", got.next_header);
    if got.is_dummy() {
        println!("dummy packet (next header 59): nothing inside");
    } else if whole_packet {
        println!("packet: {}", to_hex(got.data));
    } else {
        println!("inner: {}", to_hex(got.data));
    }
    Ok(ExitCode::SUCCESS)
}

fn encap(args: EncapArgs) -> Result<ExitCode, String> {
    let input = hex_or_raw(read_source(args.input.as_deref())?)?;
    let mut config = sa_config(&args.sa)?;
    if args.sa.udp_encap {
        config = config.with_udp_encap(udp_ports());
    }
    let mut sa = OutboundSa::new(&config).map_err(|e| e.to_string())?;
    let seq = u64::from(args.sa.esn_high.unwrap_or(0)) << 32 | u64::from(args.seq);
    sa.set_next_sequence(seq)
        .map_err(|_| "sequence number 0 is never sent")?;
    let iv = match &args.iv {
        Some(hex) => parse_hex(hex)?,
        None if config.encryption.iv_from_sequence() => seq.to_be_bytes().to_vec(),
        None => random_iv(config.encryption.iv_len())?,
    };
    let mut out = vec![0u8; input.len() + 512];
    let packet = match args.next_header {
        Some(nh) => sa.seal_with_iv(&iv, nh, &input, &mut out),
        None => sa.encapsulate_with_iv(&iv, &input, &mut out),
    }
    .map_err(|e| e.to_string())?;
    println!("{}", to_hex(packet));
    Ok(ExitCode::SUCCESS)
}

/// A CBC IV from the operating system (the example program, not the core
/// crate, reads the OS random source).
fn random_iv(len: usize) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut iv = vec![0u8; len];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut iv))
        .map_err(|e| format!("reading /dev/urandom: {e}"))?;
    Ok(iv)
}
