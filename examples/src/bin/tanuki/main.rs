//! tanuki: a small racoon-like IKEv1 daemon built on ike-core.
//!
//! ```sh
//! tanuki check --config /etc/tanuki.toml      # parse and check, print the peers
//! tanuki run --config /etc/tanuki.toml        # negotiate; SIGUSR1 logs the SAs
//! tanuki status --socket /run/tanuki.sock     # the SAs of a running daemon
//! ```
//!
//! The I/O loop is plain std: non-blocking UDP sockets on 500 and 4500, a
//! sleep bounded by the engine's `poll_timeout`, and signal flags. On
//! SIGINT/SIGTERM it deletes every SA (the peer gets authenticated Deletes)
//! and exits 0. See `examples/data/daemon/` for example configurations.

mod kernel;
mod status;

use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use ike_core::endpoint::{Endpoint, Event, Phase};
use ipsec_examples::daemon::config::{self, DaemonConfig, DataPathKind};
use ipsec_examples::daemon::esp::{DataPath, DataPathError, EspDestination, selector_contains};
use rand_core::OsRng;
use tracing::{debug, error, info, warn};

use status::SaTable;

/// Command line.
#[derive(Parser, Debug)]
#[command(about = "tanuki: a racoon-like IKEv1 daemon (ike-core)")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Read and check a configuration file, print what it describes.
    Check {
        /// The TOML configuration.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Run the daemon in the foreground.
    Run {
        /// The TOML configuration.
        #[arg(long, short)]
        config: PathBuf,
        /// Exit (status 1) when a negotiation fails, instead of waiting for
        /// the next attempt; for scripted tests.
        #[arg(long)]
        exit_on_failure: bool,
    },
    /// Print the SAs of a running daemon (from its `status_socket`).
    Status {
        /// The daemon's status socket.
        #[arg(long, short)]
        socket: PathBuf,
    },
}

/// Longest sleep of the loop: how quickly signals and the status socket are seen.
const TICK: Duration = Duration::from_millis(20);
/// How long we keep flushing Deletes at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(300);
/// Largest IKE datagram we read.
const MAX_DATAGRAM: usize = 65_535;
/// RFC 3948 §2.2: the non-ESP marker in front of IKE on port 4500.
const NON_ESP_MARKER: [u8; 4] = [0; 4];
/// IP protocol number of ESP.
const IPPROTO_ESP: i32 = 50;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_target(false)
        .with_ansi(false)
        .init();
    match Args::parse().command {
        Command::Check { config } => match config::load(&config) {
            Ok(c) => {
                if let Err(e) = check_kernel(&c) {
                    eprintln!("tanuki: {e}");
                    return ExitCode::from(2);
                }
                print!("{}", describe(&c));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("tanuki: {e}");
                ExitCode::from(2)
            }
        },
        Command::Run {
            config,
            exit_on_failure,
        } => match config::load(&config) {
            Ok(c) => match run(&c, exit_on_failure) {
                Ok(code) => code,
                Err(e) => {
                    error!("{e}");
                    ExitCode::FAILURE
                }
            },
            Err(e) => {
                error!("{e}");
                ExitCode::from(2)
            }
        },
        Command::Status { socket } => match status::query(&socket) {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("tanuki: status via {}: {e}", socket.display());
                ExitCode::FAILURE
            }
        },
    }
}

/// With `data_path = "kernel"`: whether this kernel has PF_KEY at all.
/// Without root the socket cannot be opened, which still proves `af_key`
/// is there.
fn check_kernel(c: &DaemonConfig) -> Result<(), String> {
    if c.data_path != DataPathKind::Kernel {
        return Ok(());
    }
    match pfkey::PfKeySocket::open() {
        Ok(_) | Err(pfkey::SocketError::PermissionDenied(_)) => Ok(()),
        Err(pfkey::SocketError::NoPfKey) => Err(NO_PF_KEY.into()),
        Err(e) => Err(format!("data_path = \"kernel\": {e}")),
    }
}

/// What `check` and `run` say on a kernel without `af_key`.
pub(crate) const NO_PF_KEY: &str = "data_path = \"kernel\", but this kernel has no PF_KEY \
    (af_key module not loaded? try `modprobe af_key`)";

/// What `check` prints: one line per peer and per child.
fn describe(c: &DaemonConfig) -> String {
    let mut out = format!("listen {}\n", c.listen);
    if c.data_path == DataPathKind::Kernel {
        out.push_str("data_path kernel (PF_KEY)\n");
    }
    for (p, d) in c.endpoint.peers.iter().zip(&c.peers) {
        let props: Vec<String> = p
            .proposals
            .iter()
            .map(|x| {
                format!(
                    "{}-{}/{}/group {}/{} s",
                    x.cipher.algorithm().name(),
                    x.cipher.key_len() * 8,
                    x.hash.name(),
                    x.group.id(),
                    x.lifetime.effective_seconds()
                )
            })
            .collect();
        out.push_str(&format!(
            "peer {} {:?} nat_traversal {:?}{} proposals [{}]\n",
            d.address,
            p.exchange_mode,
            p.nat_traversal,
            if d.passive { " passive" } else { "" },
            props.join(", ")
        ));
        for line in &d.auth_summary {
            out.push_str(&format!("  auth {line}\n"));
        }
        for (ch, spd) in p.children.iter().zip(&d.child_spd) {
            let esp: Vec<String> = ch.esp.iter().map(ToString::to_string).collect();
            let mut policy = String::new();
            if let Some(level) = spd.level {
                policy.push_str(&format!(" policy {}", level.name()));
            }
            if spd.reqid != 0 {
                policy.push_str(&format!(" reqid {}", spd.reqid));
            }
            if ch.accept_ah {
                let ah: Vec<&str> = ch.ah.iter().map(|a| a.name()).collect();
                policy.push_str(&format!(" ah [{}]", ah.join(", ")));
            }
            out.push_str(&format!(
                "  child {} <-> {} {} esp [{}] pfs {:?} {} s{policy}\n",
                ch.local.map_or("any".into(), |t| t.to_string()),
                ch.remote.map_or("any".into(), |t| t.to_string()),
                ch.mode.name(),
                esp.join(", "),
                ch.pfs_group.map(|g| g.id()),
                ch.lifetime.effective_seconds()
            ));
        }
    }
    out
}

/// The daemon's sockets: IKE on 500, IKE (after the non-ESP marker) and
/// ESP-in-UDP on 4500.
struct Sockets {
    ike: UdpSocket,
    natt: UdpSocket,
}

impl Sockets {
    fn bind(c: &DaemonConfig) -> Result<Self, String> {
        let bind = |port| {
            let s = UdpSocket::bind(c.local(port))
                .map_err(|e| format!("cannot bind UDP {}: {e}", c.local(port)))?;
            s.set_nonblocking(true)
                .map_err(|e| format!("UDP {}: {e}", c.local(port)))?;
            Ok::<_, String>(s)
        };
        Ok(Self {
            ike: bind(500)?,
            natt: bind(4500)?,
        })
    }

    /// Sends everything the engine has queued.
    fn flush(&self, ep: &mut Endpoint, now: Instant, buf: &mut Vec<u8>) {
        while let Some(t) = ep.poll_transmit(now, buf) {
            let Some(bytes) = buf.get(..t.size) else {
                continue;
            };
            // The engine writes the non-ESP marker itself on port 4500.
            let socket = if t.local.port() == 4500 {
                &self.natt
            } else {
                &self.ike
            };
            let result = socket.send_to(bytes, t.remote);
            match result {
                Ok(_) => debug!("sendto {} -> {} ({} bytes)", t.local, t.remote, t.size),
                Err(e) => warn!("sendto {} failed: {e}", t.remote),
            }
        }
    }
}

/// The user-space ESP path: the TUN device, a raw protocol-50 socket for
/// ESP without NAT-T, and the installed SAs.
struct EspPath {
    tun: tun::Device,
    raw: Option<socket2::Socket>,
    sas: DataPath,
    packets_out: u64,
    packets_in: u64,
}

impl EspPath {
    fn open(c: &DaemonConfig, name: &str) -> Result<Self, String> {
        let mut cfg = tun::Configuration::default();
        cfg.tun_name(name).up();
        let tun = tun::create(&cfg).map_err(|e| format!("TUN device {name}: {e}"))?;
        tun.set_nonblock()
            .map_err(|e| format!("TUN device {name}: {e}"))?;
        // Route every child's remote selector into the TUN device.
        for child in c.peers.iter().flat_map(|p| &p.children) {
            let Some(remote) = child.remote else { continue };
            let mut cmd = std::process::Command::new("ip");
            cmd.args([
                "route",
                "replace",
                &remote.to_string().replace("[any]", ""),
                "dev",
                name,
            ]);
            if let Some(src) = c.tun_source {
                cmd.args(["src", &src.to_string()]);
            }
            match cmd.status() {
                Ok(s) if s.success() => info!("route {remote} via {name}"),
                other => warn!("could not add a route for {remote} via {name}: {other:?}"),
            }
        }
        let raw = socket2::Socket::new(
            socket2::Domain::IPV4,
            socket2::Type::RAW,
            Some(socket2::Protocol::from(IPPROTO_ESP)),
        )
        .and_then(|s| {
            s.set_nonblocking(true)?;
            Ok(s)
        });
        let raw = match raw {
            Ok(s) => Some(s),
            Err(e) => {
                warn!("raw ESP socket: {e} (ESP without NAT-T will not pass)");
                None
            }
        };
        Ok(Self {
            tun,
            raw,
            sas: DataPath::default(),
            packets_out: 0,
            packets_in: 0,
        })
    }

    /// Moves packets TUN -> ESP -> peer (bounded per call). Destinations no
    /// SA covers go to `unrouted`, for on-demand initiation.
    fn pump_out(
        &mut self,
        natt: &UdpSocket,
        buf: &mut [u8],
        esp: &mut [u8],
        unrouted: &mut Vec<IpAddr>,
    ) {
        for _ in 0..64 {
            let n = match self.tun.recv(buf) {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) => {
                    warn!("TUN read: {e}");
                    return;
                }
            };
            let Some(packet) = buf.get(..n) else { continue };
            match self.sas.outbound(&mut OsRng, packet, esp) {
                Ok((EspDestination::Udp(to), bytes)) => {
                    if let Err(e) = natt.send_to(bytes, to) {
                        warn!("ESP-in-UDP to {to}: {e}");
                    }
                    self.packets_out += 1;
                }
                Ok((EspDestination::Raw(to), bytes)) => {
                    if let Some(raw) = &self.raw {
                        let addr = socket2::SockAddr::from(SocketAddr::new(to, 0));
                        if let Err(e) = raw.send_to(bytes, &addr) {
                            warn!("ESP to {to}: {e}");
                        }
                        self.packets_out += 1;
                    }
                }
                Err(DataPathError::NoOutboundSa(dst)) => {
                    debug!("outbound packet to {dst} dropped: no IPsec-SA yet");
                    if !unrouted.contains(&dst) {
                        unrouted.push(dst);
                    }
                }
                Err(e) => debug!("outbound packet dropped: {e}"),
            }
        }
    }

    /// Opens one ESP packet and writes the inner packet to the TUN device.
    fn deliver(&mut self, esp: &mut [u8]) {
        match self.sas.inbound(esp) {
            Ok(inner) => {
                if let Err(e) = self.tun.send(inner) {
                    warn!("TUN write: {e}");
                }
                self.packets_in += 1;
            }
            Err(e) => debug!("inbound ESP dropped: {e}"),
        }
    }

    /// Reads the raw protocol-50 socket (bounded per call).
    fn pump_raw(&mut self, buf: &mut [u8]) {
        for _ in 0..64 {
            let Some(raw) = &self.raw else { return };
            let n = match std::io::Read::read(&mut &*raw, buf) {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) => {
                    warn!("raw ESP socket: {e}");
                    return;
                }
            };
            let Some(datagram) = buf.get_mut(..n) else {
                continue;
            };
            let ihl = usize::from(datagram.first().copied().unwrap_or(0) & 0x0f) * 4;
            if let Some(esp) = datagram.get_mut(ihl.max(20)..) {
                self.deliver(esp);
            }
        }
    }

    /// Tells the engine which pairs reached their byte lifetime: soft starts
    /// the make-before-break rekey, hard deletes the pair (the data path
    /// already stopped using it).
    fn report_lifetimes(&mut self, ep: &mut Endpoint, now: Instant) {
        while let Some(r) = self.sas.poll_lifetime() {
            // The engine decides: the initiator rekeys at soft, hard deletes.
            info!(
                "data path: {} byte lifetime of {} reached{}",
                if r.hard { "hard" } else { "soft" },
                r.child,
                if r.hard {
                    ": the pair carries no more traffic"
                } else {
                    ""
                }
            );
            if let Err(e) = ep.child_lifetime_reached(now, r.child, r.hard) {
                debug!("{}: {e}", r.child);
            }
        }
    }

    /// Follows the engine's SA events.
    fn follow(&mut self, ev: &Event) {
        match ev {
            Event::ChildSaUp(c) => match self.sas.install(c) {
                Ok(()) => debug!("data path: {} SA pair(s) installed", self.sas.len()),
                Err(e) => error!(
                    "cannot install IPsec-SA spi={:#x} in the data path: {e}",
                    c.inbound.spi
                ),
            },
            Event::ChildSaDeleted { child, .. } => self.sas.remove(*child),
            _ => {}
        }
    }
}

/// On-demand initiation: the first packet for an `on_demand` peer's child
/// starts the negotiation; further packets wait [`ON_DEMAND_RETRY`].
#[derive(Default)]
struct OnDemand {
    last_try: Vec<((usize, usize), Instant)>,
}

/// How long dropped packets for one child do not start another attempt.
const ON_DEMAND_RETRY: Duration = Duration::from_secs(10);

impl OnDemand {
    fn trigger(&mut self, ep: &mut Endpoint, c: &DaemonConfig, now: Instant, dst: IpAddr) {
        let found = c.peers.iter().enumerate().find_map(|(pi, p)| {
            let ci = p.children.iter().position(|ch| {
                p.on_demand && !p.passive && selector_contains(ch.remote.as_ref(), dst)
            })?;
            Some(((pi, ci), p))
        });
        let Some((key, peer)) = found else { return };
        if self
            .last_try
            .iter()
            .any(|(k, t)| *k == key && now.saturating_duration_since(*t) < ON_DEMAND_RETRY)
        {
            return;
        }
        self.last_try.retain(|(k, _)| *k != key);
        self.last_try.push((key, now));
        let Some(child) = peer.children.get(key.1) else {
            return;
        };
        let remote = SocketAddr::new(peer.address, 500);
        info!(
            "traffic for {dst}: initiate new phase 1 negotiation: {}[500]<=>{remote}",
            c.listen
        );
        if let Err(e) = ep.initiate(now, c.local(500), remote, child.clone()) {
            error!("cannot initiate to {remote}: {e}");
        }
    }
}

/// Signal flags set by signal-hook's handlers.
struct Signals {
    terminate: Arc<AtomicBool>,
    status: Arc<AtomicBool>,
}

impl Signals {
    fn register() -> Result<Self, String> {
        use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR1};
        let terminate = Arc::new(AtomicBool::new(false));
        let status = Arc::new(AtomicBool::new(false));
        for sig in [SIGINT, SIGTERM] {
            signal_hook::flag::register(sig, Arc::clone(&terminate))
                .map_err(|e| format!("signal {sig}: {e}"))?;
        }
        signal_hook::flag::register(SIGUSR1, Arc::clone(&status))
            .map_err(|e| format!("signal SIGUSR1: {e}"))?;
        Ok(Self { terminate, status })
    }
}

fn run(c: &DaemonConfig, exit_on_failure: bool) -> Result<ExitCode, String> {
    check_kernel(c)?;
    let signals = Signals::register()?;
    let sockets = Sockets::bind(c)?;
    let status_listener = c
        .status_socket
        .as_deref()
        .map(status::Listener::bind)
        .transpose()?;
    let mut esp = c
        .tun
        .as_deref()
        .map(|name| EspPath::open(c, name))
        .transpose()?;
    let mut kernel = match c.data_path {
        DataPathKind::Kernel => Some(kernel::KernelPath::open(&sockets.ike, &sockets.natt)?),
        DataPathKind::User => None,
    };
    let mut esp_buf = vec![0u8; MAX_DATAGRAM];
    let mut ep = Endpoint::new(Arc::new(c.endpoint.clone()), Box::new(OsRng));
    let mut table = SaTable::default();
    let mut buf = Vec::new();
    let mut datagram = vec![0u8; MAX_DATAGRAM];
    info!(
        "tanuki started: listening on {}[500] and {}[4500], {} peer(s)",
        c.listen,
        c.listen,
        c.peers.len()
    );

    let start = Instant::now();
    for peer in c.peers.iter().filter(|p| !p.passive && !p.on_demand) {
        let remote = SocketAddr::new(peer.address, 500);
        for child in &peer.children {
            info!(
                "initiate new phase 1 negotiation: {}[500]<=>{remote}",
                c.listen
            );
            if let Err(e) = ep.initiate(start, c.local(500), remote, child.clone()) {
                error!("cannot initiate to {remote}: {e}");
            }
        }
    }

    let mut on_demand = OnDemand::default();
    let mut failed = false;
    loop {
        let now = Instant::now();
        // Certificate validity is judged in wall-clock time, which the
        // engine never reads itself; telling it every turn follows clock
        // corrections.
        ep.set_wall_clock(now, ike_core::auth::UnixTime::now());
        if signals.terminate.load(Ordering::Relaxed) {
            info!("caught signal, deleting all SAs and exiting");
            shutdown(&mut ep, &sockets, &mut table, &mut buf, c, kernel.as_mut());
            return Ok(ExitCode::SUCCESS);
        }
        if signals.status.swap(false, Ordering::Relaxed) {
            for line in table.render().lines() {
                info!("status: {line}");
            }
        }
        if let Some(l) = &status_listener {
            l.serve(&table.render());
        }

        receive(
            &sockets,
            &mut ep,
            now,
            c,
            &mut datagram,
            &mut table,
            esp.as_mut(),
        );
        if let Some(path) = esp.as_mut() {
            path.pump_raw(&mut datagram);
            let mut unrouted = Vec::new();
            path.pump_out(&sockets.natt, &mut datagram, &mut esp_buf, &mut unrouted);
            for dst in unrouted {
                on_demand.trigger(&mut ep, c, now, dst);
            }
            path.report_lifetimes(&mut ep, now);
        }
        if let Some(k) = kernel.as_mut() {
            k.poll(&mut ep, c, now);
        }
        if ep.poll_timeout().is_some_and(|t| t <= now) {
            ep.handle_timeout(now);
        }
        sockets.flush(&mut ep, now, &mut buf);
        while let Some(ev) = ep.poll_event() {
            if let Event::NegotiationFailed { .. } = ev {
                failed = true;
            }
            if let Some(path) = esp.as_mut() {
                path.follow(&ev);
            }
            if let Some(k) = kernel.as_mut() {
                k.follow(c, &ev);
            }
            table.apply(ev, c.local(500));
        }
        if failed && exit_on_failure {
            shutdown(&mut ep, &sockets, &mut table, &mut buf, c, kernel.as_mut());
            return Ok(ExitCode::FAILURE);
        }

        let wake = ep.poll_timeout().map_or(TICK, |t| {
            t.saturating_duration_since(Instant::now()).min(TICK)
        });
        std::thread::sleep(wake.max(Duration::from_millis(1)));
    }
}

/// Reads every pending datagram from both sockets into the engine.
fn receive(
    s: &Sockets,
    ep: &mut Endpoint,
    now: Instant,
    c: &DaemonConfig,
    buf: &mut [u8],
    table: &mut SaTable,
    mut esp: Option<&mut EspPath>,
) {
    let dropped = |ep: &Endpoint| {
        let st = ep.stats();
        st.malformed + st.unexpected + st.bad_hash + st.unauthenticated_notifies
    };
    let mut feed = |ep: &mut Endpoint, local: SocketAddr, from: SocketAddr, data: &[u8]| {
        let before = dropped(ep);
        ep.handle_datagram(now, local, from, data);
        if dropped(ep) > before {
            table.note_dropped(from);
        }
    };
    // Bounded: at most this many datagrams per socket per loop turn.
    for _ in 0..64 {
        match s.ike.recv_from(buf) {
            Ok((n, from)) => {
                if let Some(data) = buf.get(..n) {
                    feed(ep, c.local(500), from, data);
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) => {
                warn!("recv on UDP 500: {e}");
                break;
            }
        }
    }
    for _ in 0..64 {
        match s.natt.recv_from(buf) {
            Ok((n, from)) => {
                let Some(data) = buf.get_mut(..n) else {
                    continue;
                };
                // RFC 3948 §2.2: IKE after a zero marker (the engine strips
                // it), a lone 0xff is a NAT keepalive, anything else is ESP.
                if data.starts_with(&NON_ESP_MARKER) {
                    feed(ep, c.local(4500), from, data);
                } else if data == [0xff] {
                    debug!("NAT keepalive from {from}");
                } else if let Some(path) = esp.as_deref_mut() {
                    path.deliver(data);
                } else {
                    debug!("ESP-in-UDP from {from} ({n} bytes): no tun configured, dropped");
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) => {
                warn!("recv on UDP 4500: {e}");
                break;
            }
        }
    }
}

/// Deletes every ISAKMP SA (the engine sends the IPsec SAs' Deletes first),
/// flushes the Deletes, logs the removals, and takes out of the kernel
/// whatever the kernel data path installed.
fn shutdown(
    ep: &mut Endpoint,
    s: &Sockets,
    table: &mut SaTable,
    buf: &mut Vec<u8>,
    c: &DaemonConfig,
    mut kernel: Option<&mut kernel::KernelPath>,
) {
    let local = c.local(500);
    let now = Instant::now();
    for sa in table.ike_sas() {
        if let Err(e) = ep.delete(now, sa) {
            debug!("delete {sa:?}: {e}");
        }
    }
    s.flush(ep, now, buf);
    while let Some(ev) = ep.poll_event() {
        if let Some(k) = kernel.as_deref_mut() {
            k.follow(c, &ev);
        }
        table.apply(ev, local);
    }
    // Answer a last retransmission or two while the peer takes the Deletes in.
    let until = now + SHUTDOWN_GRACE;
    while Instant::now() < until {
        std::thread::sleep(TICK);
        s.flush(ep, Instant::now(), buf);
    }
    if let Some(k) = kernel {
        k.shutdown();
    }
    info!("tanuki stopped");
}

/// Names the phase the way racoon's messages do.
pub(crate) fn phase_name(p: Phase) -> &'static str {
    match p {
        Phase::One => "phase 1",
        Phase::Two => "phase 2",
    }
}
