//! In-process IPsec demo: two IKEv1 endpoints negotiate Main Mode + Quick
//! Mode with the Cisco PIX parameters from the "Linux to Cisco PIX" setup
//! (AES-256, SHA-1, DH group 5, 86400 s / 3600 s, pre-shared key), then send
//! ESP packets through esp-core in both directions.
//!
//! Nothing touches the network: the loop below is the I/O shell a daemon
//! would have, with an in-memory "wire" instead of UDP sockets. It prints
//! racoon-style log lines and a summary, and exits 0 when every packet made
//! it through.
//!
//! ```sh
//! cargo run -p ipsec-examples --bin ipsec-demo
//! RUST_LOG=debug cargo run -p ipsec-examples --bin ipsec-demo   # every datagram
//! ```

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use esp_core::{InboundSa, OutboundSa};
use ike_core::config::{
    AuthMethod, ChildPolicy, EncapsulationMode, EndpointConfig, EspCipher, EspTransform, Identity,
    IntegrityAlgorithm, Lifetime, PeerConfig, Phase1Proposal, PresharedKey, PskTable,
    TrafficSelector,
};
use ike_core::crypto::{CipherAlgorithm, DhGroup, HashAlgorithm, Phase1Cipher};
use ike_core::endpoint::{ChildSa, Endpoint, Event};
use ipsec_examples::daemon::esp::esp_config;
use rand_core::OsRng;
use tracing::{debug, error, info};

/// Command line.
#[derive(Parser, Debug)]
#[command(
    about = "Two in-process IKEv1 peers (racoon-style Linux router and a Cisco PIX profile) negotiate, then exchange ESP"
)]
struct Args {
    /// ESP packets to send in each direction.
    #[arg(long, default_value_t = 3)]
    packets: u32,
    /// The pre-shared key both sides use.
    #[arg(long, default_value = "mekmitasdigoat")]
    psk: String,
}

const LINUX: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
const PIX: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 2));

/// Phase 1 as the PIX requires it.
fn phase1() -> Phase1Proposal {
    Phase1Proposal {
        cipher: Phase1Cipher::new(CipherAlgorithm::Aes, Some(256))
            .expect("AES-256 is a valid Phase 1 cipher"),
        hash: HashAlgorithm::Sha1,
        auth: AuthMethod::PreSharedKey,
        group: DhGroup::Modp1536,
        lifetime: Lifetime::seconds(86_400),
    }
}

/// `sainfo` for `local` <-> `remote` subnets: ESP AES-256 / HMAC-SHA1, 1 hour.
fn sainfo(local: &str, remote: &str) -> ChildPolicy {
    let subnet = |s: &str| TrafficSelector::subnet(s.parse().expect("literal subnet"), 24);
    ChildPolicy {
        local: Some(subnet(local)),
        remote: Some(subnet(remote)),
        mode: EncapsulationMode::Tunnel,
        esp: vec![EspTransform {
            cipher: EspCipher::AesCbc,
            key_bits: Some(256),
            integrity: Some(IntegrityAlgorithm::HmacSha1),
        }],
        pfs_group: None,
        lifetime: Lifetime::seconds(3600),
        accept_ah: false,
        ah: Vec::new(),
        ipcomp: false,
    }
}

/// One side: its endpoint, address and what it learned.
struct Side {
    name: &'static str,
    ep: Endpoint,
    addr: SocketAddr,
    children: Vec<ChildSa>,
    failed: bool,
}

fn side(name: &'static str, me: IpAddr, peer: IpAddr, psk: &str, child: ChildPolicy) -> Side {
    let mut table = PskTable::new();
    table.insert(
        Identity::from_ip(peer),
        PresharedKey::new(psk.as_bytes().to_vec()),
    );
    let config = EndpointConfig::new(
        vec![PeerConfig::new(Some(peer), vec![phase1()], vec![child])],
        table,
    );
    Side {
        name,
        ep: Endpoint::new(Arc::new(config), Box::new(OsRng)),
        addr: SocketAddr::new(me, 500),
        children: Vec::new(),
        failed: false,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Logs an event the way racoon words it.
fn log_event(s: &mut Side, ev: Event) {
    match ev {
        Event::Phase1Up {
            remote,
            cookies,
            transform,
            peer_id,
            ..
        } => {
            info!(
                "[{}] ISAKMP-SA established {}[{}]-{}[{}] spi:{}:{}",
                s.name,
                s.addr.ip(),
                s.addr.port(),
                remote.ip(),
                remote.port(),
                hex(&cookies.0),
                hex(&cookies.1)
            );
            debug!(
                "[{}] peer {} authenticated; {} {}-bit/{}/group {}, lifetime {} s",
                s.name,
                peer_id,
                transform.cipher.algorithm().name(),
                transform.cipher.key_len() * 8,
                transform.hash.name(),
                transform.group.id(),
                transform.lifetime.effective_seconds()
            );
        }
        Event::ChildSaUp(c) => {
            let mode = c.mode.name();
            info!(
                "[{}] IPsec-SA established: ESP/{mode} {}[{}]->{}[{}] spi={}({:#x})",
                s.name,
                c.remote.ip(),
                c.remote.port(),
                c.local.ip(),
                c.local.port(),
                c.inbound.spi,
                c.inbound.spi
            );
            info!(
                "[{}] IPsec-SA established: ESP/{mode} {}[{}]->{}[{}] spi={}({:#x})",
                s.name,
                c.local.ip(),
                c.local.port(),
                c.remote.ip(),
                c.remote.port(),
                c.outbound.spi,
                c.outbound.spi
            );
            s.children.push(*c);
        }
        Event::NegotiationFailed {
            phase,
            reason,
            remote,
            ..
        } => {
            error!(
                "[{}] phase {:?} negotiation with {remote} failed: {reason}",
                s.name, phase
            );
            s.failed = true;
        }
        other => debug!("[{}] {other:?}", s.name),
    }
}

/// Runs both endpoints until each has an IPsec SA pair (or something failed),
/// moving datagrams between them in memory and advancing a clock that jumps
/// to the next timer when nothing is in flight.
fn negotiate(a: &mut Side, b: &mut Side) -> Result<(), String> {
    let start = Instant::now();
    let mut now = start;
    let mut wire: VecDeque<(SocketAddr, SocketAddr, Vec<u8>)> = VecDeque::new();
    let mut buf = Vec::new();
    for _ in 0..10_000 {
        for s in [&mut *a, &mut *b] {
            s.ep.handle_timeout(now);
            while let Some(t) = s.ep.poll_transmit(now, &mut buf) {
                let bytes = buf.get(..t.size).unwrap_or_default().to_vec();
                debug!(
                    "[{}] sendto {} -> {} ({} bytes, exchange {})",
                    s.name,
                    t.local,
                    t.remote,
                    t.size,
                    bytes.get(18).copied().unwrap_or(0)
                );
                wire.push_back((t.local, t.remote, bytes));
            }
            while let Some(ev) = s.ep.poll_event() {
                log_event(s, ev);
            }
        }
        if a.failed || b.failed {
            return Err("negotiation failed".into());
        }
        if !a.children.is_empty() && !b.children.is_empty() {
            debug!("negotiation took {:?} of virtual time", now - start);
            return Ok(());
        }
        if let Some((from, to, bytes)) = wire.pop_front() {
            let dst = if to == a.addr { &mut *a } else { &mut *b };
            dst.ep.handle_datagram(now, to, from, &bytes);
        } else {
            let next = [a.ep.poll_timeout(), b.ep.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(t) => now = now.max(t),
                None => return Err("both endpoints are idle without an IPsec SA".into()),
            }
        }
    }
    Err("negotiation did not settle".into())
}

/// A minimal IPv4 ICMP echo request from `src` to `dst` carrying `payload`.
fn icmp_echo(src: Ipv4Addr, dst: Ipv4Addr, seq: u16, payload: &[u8]) -> Vec<u8> {
    fn checksum(data: &[u8]) -> u16 {
        let mut sum: u32 = data
            .chunks(2)
            .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
            .sum();
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }
    let mut icmp = vec![8, 0, 0, 0, 0x12, 0x34];
    icmp.extend_from_slice(&seq.to_be_bytes());
    icmp.extend_from_slice(payload);
    let c = checksum(&icmp).to_be_bytes();
    icmp[2..4].copy_from_slice(&c);
    let total = (20 + icmp.len()) as u16;
    let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 1, 0, 0];
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&src.octets());
    ip.extend_from_slice(&dst.octets());
    let c = checksum(&ip).to_be_bytes();
    ip[10..12].copy_from_slice(&c);
    ip.extend_from_slice(&icmp);
    ip
}

/// Sends `n` packets from `from` to `to` through ESP and checks each arrives intact.
fn send_esp(from: &Side, to: &Side, n: u32, src: Ipv4Addr, dst: Ipv4Addr) -> Result<u32, String> {
    let (tx, rx) = (&from.children[0], &to.children[0]);
    let mut out = OutboundSa::new(&esp_config(tx, &tx.outbound).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let mut inb = InboundSa::new(&esp_config(rx, &rx.inbound).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let mut ok = 0;
    for seq in 1..=n {
        let inner = icmp_echo(
            src,
            dst,
            u16::try_from(seq).unwrap_or(u16::MAX),
            format!("hello from {} #{seq}", from.name).as_bytes(),
        );
        let mut buf = vec![0u8; inner.len() + 128];
        let esp = out
            .encapsulate(&mut OsRng, &inner, &mut buf)
            .map_err(|e| e.to_string())?;
        let mut wire = esp.to_vec();
        let spi = u32::from_be_bytes([wire[0], wire[1], wire[2], wire[3]]);
        let got = inb
            .decapsulate(&mut wire)
            .map_err(|e| format!("{} could not decapsulate: {e}", to.name))?;
        if got.data != inner.as_slice() {
            return Err(format!("packet {seq} from {} arrived altered", from.name));
        }
        info!(
            "[{}] ESP spi={spi:#x} seq={} {} bytes on the wire -> [{}] {} -> {} ICMP echo, {} bytes, intact",
            from.name,
            got.sequence,
            wire.len(),
            to.name,
            src,
            dst,
            inner.len()
        );
        ok += 1;
    }
    Ok(ok)
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            // The demo prints its own racoon-style lines; the engine's own
            // records are there with RUST_LOG=ike_core=info (or debug).
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,ike_core=warn".into()),
        )
        .with_target(false)
        // Colour only on a terminal, so logs and pipes stay plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let args = Args::parse();
    let mut linux = side(
        "linux",
        LINUX,
        PIX,
        &args.psk,
        sainfo("10.1.0.0", "10.2.0.0"),
    );
    let mut pix = side("pix", PIX, LINUX, &args.psk, sainfo("10.2.0.0", "10.1.0.0"));
    info!(
        "[linux] initiate to {} (as a kernel ACQUIRE for 10.1.0.0/24 -> 10.2.0.0/24 would)",
        pix.addr
    );
    if let Err(e) = linux.ep.initiate(
        Instant::now(),
        linux.addr,
        pix.addr,
        sainfo("10.1.0.0", "10.2.0.0"),
    ) {
        error!("initiate: {e}");
        return ExitCode::FAILURE;
    }
    if let Err(e) = negotiate(&mut linux, &mut pix) {
        error!("{e}");
        return ExitCode::FAILURE;
    }
    let there = send_esp(
        &linux,
        &pix,
        args.packets,
        Ipv4Addr::new(10, 1, 0, 1),
        Ipv4Addr::new(10, 2, 0, 1),
    );
    let back = send_esp(
        &pix,
        &linux,
        args.packets,
        Ipv4Addr::new(10, 2, 0, 1),
        Ipv4Addr::new(10, 1, 0, 1),
    );
    match (there, back) {
        (Ok(t), Ok(b)) => {
            let c = &linux.children[0];
            println!(
                "summary: ISAKMP-SA aes-256/sha1/modp1536 86400 s; IPsec-SA ESP/{} {} {} s; spi out={:#x} in={:#x}; ESP packets linux->pix {t}/{n}, pix->linux {b}/{n}; dropped by endpoints: {}",
                c.mode.name(),
                c.transform,
                c.lifetime.effective_seconds(),
                c.outbound.spi,
                c.inbound.spi,
                linux.ep.stats().malformed
                    + pix.ep.stats().malformed
                    + linux.ep.stats().bad_hash
                    + pix.ep.stats().bad_hash,
                n = args.packets
            );
            ExitCode::SUCCESS
        }
        (Err(e), _) | (_, Err(e)) => {
            error!("ESP: {e}");
            ExitCode::FAILURE
        }
    }
}
