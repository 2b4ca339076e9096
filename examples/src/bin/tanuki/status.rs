//! What the daemon knows about its SAs: racoon-style log lines as the
//! engine's events arrive, the text `tanuki status` and SIGUSR1 show, and the
//! unix socket that serves it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ike_core::endpoint::{ChildSaId, DownReason, Event, FailureReason, IkeSaHandle, Phase};
use tracing::{error, info, warn};

use crate::phase_name;

/// One ISAKMP SA.
struct IkeEntry {
    remote: SocketAddr,
    local: SocketAddr,
    cookies: String,
    peer_id: String,
    transform: String,
}

/// One IPsec SA pair.
struct ChildEntry {
    ike_sa: IkeSaHandle,
    line: String,
}

/// The SAs the daemon holds, keyed by the engine's handles.
#[derive(Default)]
pub(crate) struct SaTable {
    ike: BTreeMap<IkeSaHandle, IkeEntry>,
    children: BTreeMap<ChildSaId, ChildEntry>,
    /// Per peer: datagrams the engine dropped (malformed, unexpected, bad
    /// hash, unauthenticated notify) since that peer's last ISAKMP-SA came up.
    dropped: BTreeMap<IpAddr, u64>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl SaTable {
    /// The established ISAKMP SAs.
    pub(crate) fn ike_sas(&self) -> Vec<IkeSaHandle> {
        self.ike.keys().copied().collect()
    }

    /// Notes that the engine dropped a datagram from `from`.
    pub(crate) fn note_dropped(&mut self, from: SocketAddr) {
        // By address: the peer may float from 500 to 4500 mid-exchange.
        *self.dropped.entry(from.ip()).or_default() += 1;
    }

    /// Logs `ev` as racoon would and records what it changes.
    pub(crate) fn apply(&mut self, ev: Event, local: SocketAddr) {
        match ev {
            Event::Phase1Up {
                sa,
                remote,
                peer_id,
                transform,
                cookies,
                initiator,
            } => {
                self.dropped.remove(&remote.ip());
                let cookies = format!("{}:{}", hex(&cookies.0), hex(&cookies.1));
                info!(
                    "ISAKMP-SA established {}[{}]-{}[{}] spi:{cookies}",
                    local.ip(),
                    local.port(),
                    remote.ip(),
                    remote.port()
                );
                let transform = format!(
                    "{}-{}/{}/group {}/{} s ({})",
                    transform.cipher.algorithm().name(),
                    transform.cipher.key_len() * 8,
                    transform.hash.name(),
                    transform.group.id(),
                    transform.lifetime.effective_seconds(),
                    if initiator { "initiator" } else { "responder" }
                );
                self.ike.insert(
                    sa,
                    IkeEntry {
                        remote,
                        local,
                        cookies,
                        peer_id: peer_id.to_string(),
                        transform,
                    },
                );
            }
            Event::Phase1Down { sa, remote, reason } => {
                let refused;
                let why = match reason {
                    DownReason::Expired => "expired",
                    DownReason::DeletedByPeer => "deleted by peer",
                    DownReason::RefusedByPeer(notify) => {
                        refused = format!("deleted by peer, which sent {notify}");
                        &refused
                    }
                    DownReason::DeletedLocally => "deleted locally",
                    DownReason::InitialContact => "replaced after INITIAL-CONTACT",
                    DownReason::Replaced => "replaced",
                    _ => "gone",
                };
                info!("ISAKMP-SA deleted {}-{} ({why})", local.ip(), remote);
                self.ike.remove(&sa);
            }
            Event::ChildSaUp(c) => {
                let mode = c.mode.name();
                let udp = c
                    .udp_encapsulation
                    .map_or(String::new(), |(l, r)| format!(" udp-encap {l}<->{r}"));
                // racoon logs each direction: inbound first, then outbound.
                for (from, to, spi) in [
                    (c.remote.ip(), c.local.ip(), c.inbound.spi),
                    (c.local.ip(), c.remote.ip(), c.outbound.spi),
                ] {
                    info!("IPsec-SA established: ESP/{mode} {from}->{to} spi={spi}({spi:#x}){udp}");
                }
                let ts = |t: Option<ike_core::config::TrafficSelector>| {
                    t.map_or("any".to_owned(), |t| t.to_string())
                };
                let line = format!(
                    "ESP/{mode} {} <-> {} {} in spi={:#010x} out spi={:#010x} {} s pfs {}{udp}",
                    ts(c.local_ts),
                    ts(c.remote_ts),
                    c.transform,
                    c.inbound.spi,
                    c.outbound.spi,
                    c.lifetime.effective_seconds(),
                    c.pfs_group
                        .map_or("none".to_owned(), |g| format!("group {}", g.id()))
                );
                self.children.insert(
                    c.id,
                    ChildEntry {
                        ike_sa: c.ike_sa,
                        line,
                    },
                );
            }
            Event::ChildSaExpiring {
                inbound_spi, hard, ..
            } => {
                info!(
                    "IPsec-SA {} expiry: spi={inbound_spi}({inbound_spi:#x})",
                    if hard { "hard" } else { "soft" }
                );
            }
            Event::ChildSaDeleted {
                child,
                inbound_spi,
                outbound_spi,
                by_peer,
            } => {
                info!(
                    "IPsec-SA deleted: spi in={inbound_spi:#x} out={outbound_spi:#x} ({})",
                    if by_peer {
                        "peer sent a Delete"
                    } else {
                        "locally"
                    }
                );
                self.children.remove(&child);
            }
            Event::NegotiationFailed {
                remote,
                phase,
                reason,
                ..
            } => {
                // A peer whose PSK differs answers MM5 with a notify we cannot
                // decrypt, so the engine only sees a stall: say what it likely is.
                let stalled = matches!(
                    reason,
                    FailureReason::Timeout(_) | FailureReason::NegotiationTimeout(_)
                );
                let hint = match self.dropped.remove(&remote.ip()) {
                    Some(n) if stalled && phase == Phase::One => format!(
                        "; {n} message(s) from the peer could not be decrypted or authenticated: the pre-shared keys probably differ"
                    ),
                    _ => String::new(),
                };
                error!(
                    "{} negotiation failed with {remote}: {reason}{hint}",
                    phase_name(phase)
                );
            }
            other => info!("{other:?}"),
        }
    }

    /// The status text: one block per ISAKMP SA with its IPsec SAs.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        if self.ike.is_empty() {
            out.push_str("no ISAKMP-SA\n");
        }
        for (handle, e) in &self.ike {
            let _ = writeln!(
                out,
                "ISAKMP-SA {}-{} {} peer {} {}",
                e.local, e.remote, e.cookies, e.peer_id, e.transform
            );
            for c in self.children.values().filter(|c| c.ike_sa == *handle) {
                let _ = writeln!(out, "  IPsec-SA {}", c.line);
            }
        }
        let orphans = self
            .children
            .values()
            .filter(|c| !self.ike.contains_key(&c.ike_sa));
        for c in orphans {
            let _ = writeln!(out, "IPsec-SA (ISAKMP-SA gone) {}", c.line);
        }
        out
    }
}

/// The status socket: every connection gets the status text, then EOF.
pub(crate) struct Listener {
    socket: UnixListener,
    path: PathBuf,
}

impl Listener {
    pub(crate) fn bind(path: &Path) -> Result<Self, String> {
        // A stale socket from a killed run would make bind fail.
        if path.exists() {
            let _ = std::fs::remove_file(path);
        }
        let socket = UnixListener::bind(path)
            .map_err(|e| format!("status socket {}: {e}", path.display()))?;
        socket
            .set_nonblocking(true)
            .map_err(|e| format!("status socket {}: {e}", path.display()))?;
        Ok(Self {
            socket,
            path: path.to_owned(),
        })
    }

    /// Answers the connections waiting now (bounded per call).
    pub(crate) fn serve(&self, text: &str) {
        for _ in 0..8 {
            match self.socket.accept() {
                Ok((mut stream, _)) => {
                    let _ = stream.set_nonblocking(false);
                    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
                    if let Err(e) = stream.write_all(text.as_bytes()) {
                        warn!("status client: {e}");
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) => {
                    warn!("status socket: {e}");
                    return;
                }
            }
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The client side of `tanuki status`.
pub(crate) fn query(path: &Path) -> std::io::Result<String> {
    let stream = UnixStream::connect(path)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut text = String::new();
    // The daemon's answer is a few lines; cap it anyway.
    stream.take(1 << 20).read_to_string(&mut text)?;
    Ok(text)
}
