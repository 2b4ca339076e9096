//! tanuki's kernel data path (`data_path = "kernel"`): one PF_KEY socket,
//! registered for ESP and AH so the kernel sends it ACQUIREs; negotiated
//! pairs go in through `daemon::kernel`, and the kernel's ACQUIRE/EXPIRE
//! drive the engine. Requests wait for their reply (the kernel answers
//! while handling the write, so this does not stall the loop); kernel
//! messages are drained without blocking once per loop turn.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use ike_core::endpoint::{ChildSa, Endpoint, Event};
use ipsec_examples::daemon::config::DaemonConfig;
use ipsec_examples::daemon::kernel::{KernelSas, acquire_target, child_spd, expire_action};
use ipsec_examples::daemon::kernel_udp::{bypass_ipsec, enable_esp_in_udp};
use pfkey::client::{Acquire, Event as KernelEvent};
use pfkey::wire::{Message, SaType};
use pfkey::{Session, SocketError, request};
use tracing::{debug, error, info, warn};

/// How often one child may be initiated on ACQUIREs.
const ACQUIRE_RETRY: Duration = Duration::from_secs(10);
/// Kernel messages handled per loop turn.
const MAX_EVENTS_PER_TURN: usize = 64;

pub(crate) struct KernelPath {
    session: Session,
    sas: KernelSas,
    last_acquire: Vec<((usize, usize), Instant)>,
}

impl KernelPath {
    /// Opens PF_KEY, registers for ESP and AH, makes the port-4500 socket
    /// hand ESP-in-UDP to the kernel, and exempts both IKE sockets from the
    /// SPD (racoon does the same: a host-to-host `any` policy would
    /// otherwise hold IKE for the SA only IKE can make).
    pub(crate) fn open(ike: &UdpSocket, natt: &UdpSocket) -> Result<Self, String> {
        let session = Session::open().map_err(|e| match e {
            SocketError::NoPfKey => super::NO_PF_KEY.to_owned(),
            other => format!("data_path = \"kernel\": {other}"),
        })?;
        let mut path = Self {
            session,
            sas: KernelSas::default(),
            last_acquire: Vec::new(),
        };
        path.request(request::register(SaType::Esp))
            .map_err(|e| format!("PF_KEY REGISTER ESP: {e}"))?;
        if let Err(e) = path.request(request::register(SaType::Ah)) {
            warn!("PF_KEY REGISTER AH: {e} (no ACQUIREs for AH policies)");
        }
        match enable_esp_in_udp(natt) {
            Ok(()) => debug!("UDP_ENCAP_ESPINUDP set on the port-4500 socket"),
            Err(e) => warn!("UDP_ENCAP on port 4500: {e} (NAT-T ESP will not reach the kernel)"),
        }
        for (port, socket) in [(500, ike), (4500, natt)] {
            bypass_ipsec(socket)
                .map_err(|e| format!("IPsec bypass policy on the UDP {port} socket: {e}"))?;
        }
        info!("kernel data path: PF_KEY open, registered for ESP and AH; IKE sockets bypass IPsec");
        Ok(path)
    }

    fn set_blocking(&self, blocking: bool) {
        if let Err(e) = self.session.socket().as_socket().set_nonblocking(!blocking) {
            warn!("PF_KEY socket: {e}");
        }
    }

    fn request(&mut self, msg: Message) -> Result<Message, pfkey::socket::SessionError> {
        self.set_blocking(true);
        self.session.request(msg)
    }

    /// Sends messages in order; stops at the first refusal.
    fn send_all(&mut self, msgs: Vec<Message>, what: &str) -> bool {
        for m in msgs {
            let t = m.header.msg_type;
            if let Err(e) = self.request(m) {
                error!("{what}: PF_KEY {t:?}: {e}");
                return false;
            }
        }
        true
    }

    /// Follows the engine's SA events.
    pub(crate) fn follow(&mut self, c: &DaemonConfig, ev: &Event) {
        match ev {
            Event::ChildSaUp(child) => self.install(c, child),
            Event::ChildSaDeleted { child, .. } => {
                let msgs = self.sas.remove(*child);
                // A hard EXPIRE already removed the kernel's copy: ESRCH is fine.
                for m in msgs {
                    let t = m.header.msg_type;
                    if let Err(e) = self.request(m) {
                        debug!("remove {child}: PF_KEY {t:?}: {e}");
                    }
                }
            }
            _ => {}
        }
    }

    fn install(&mut self, c: &DaemonConfig, child: &ChildSa) {
        let spd = child_spd(&c.peers, child);
        let what = format!(
            "install IPsec-SA spi={:#010x}/{:#010x}",
            child.inbound.spi, child.outbound.spi
        );
        match self.sas.install(child, spd) {
            Ok(msgs) => {
                if self.send_all(msgs, &what) {
                    info!(
                        "kernel: IPsec-SA pair installed: {}->{} spi={:#010x}, {}->{} spi={:#010x}{}",
                        child.remote.ip(),
                        child.local.ip(),
                        child.inbound.spi,
                        child.local.ip(),
                        child.remote.ip(),
                        child.outbound.spi,
                        spd.level
                            .map(|l| format!(", policies {}", l.name()))
                            .unwrap_or_default()
                    );
                } else {
                    // Take out what went in before the refusal.
                    let undo = self.sas.remove(child.id);
                    for m in undo {
                        let _ = self.request(m);
                    }
                }
            }
            Err(e) => error!("{what}: {e}"),
        }
    }

    /// Handles what the kernel sent since the last turn (bounded).
    pub(crate) fn poll(&mut self, ep: &mut Endpoint, c: &DaemonConfig, now: Instant) {
        for _ in 0..MAX_EVENTS_PER_TURN {
            self.set_blocking(false);
            let event = self.session.next_event();
            self.set_blocking(true);
            match event {
                Ok(Some(KernelEvent::Acquire(a))) => self.acquire(ep, c, now, &a),
                Ok(Some(KernelEvent::Expire(e))) => match expire_action(&self.sas, &e) {
                    Some((child, hard)) => {
                        info!(
                            "kernel: {} EXPIRE of spi={:#010x} ({child}): {}",
                            if hard { "hard" } else { "soft" },
                            e.sa.spi,
                            if hard {
                                "forgetting the pair"
                            } else {
                                "rekeying"
                            }
                        );
                        if let Err(err) = ep.child_lifetime_reached(now, child, hard) {
                            debug!("{child}: {err}");
                        }
                    }
                    None => debug!("EXPIRE of spi={:#010x}: not ours", e.sa.spi),
                },
                Ok(Some(KernelEvent::NewMapping(m))) => info!(
                    "kernel: NAT mapping of spi={:#010x} changed: peer now {}[{}] \
                     (the engine follows the peer on its next authenticated message)",
                    m.spi,
                    m.src.addr.ip(),
                    m.sport
                ),
                Ok(Some(other)) => debug!("PF_KEY: {other:?}"),
                Ok(None) => return,
                Err(e) => {
                    warn!("PF_KEY: {e}");
                    return;
                }
            }
        }
    }

    fn acquire(&mut self, ep: &mut Endpoint, c: &DaemonConfig, now: Instant, a: &Acquire) {
        // The ACQUIRE names the policy by id; its selectors pick the child.
        let selectors = a.policy.as_ref().and_then(|p| {
            let reply = self.request(request::spd_get(p.id)).ok()?;
            Some((*reply.address_src()?, *reply.address_dst()?))
        });
        let Some((pi, ci)) = acquire_target(&c.peers, c.listen, a, selectors) else {
            debug!(
                "ACQUIRE for {}->{}: no active peer configured",
                a.src.addr.ip(),
                a.dst.addr.ip()
            );
            return;
        };
        let key = (pi, ci);
        if self
            .last_acquire
            .iter()
            .any(|(k, t)| *k == key && now.saturating_duration_since(*t) < ACQUIRE_RETRY)
        {
            return;
        }
        self.last_acquire.retain(|(k, _)| *k != key);
        self.last_acquire.push((key, now));
        let (Some(peer), Some(child)) = (
            c.peers.get(pi),
            c.peers.get(pi).and_then(|p| p.children.get(ci)),
        ) else {
            return;
        };
        let remote = SocketAddr::new(peer.address, 500);
        info!(
            "kernel ACQUIRE for {}->{}: initiate new phase 1 negotiation: {}[500]<=>{remote}",
            a.src.addr.ip(),
            a.dst.addr.ip(),
            c.listen
        );
        if let Err(e) = ep.initiate(now, c.local(500), remote, child.clone()) {
            error!("cannot initiate to {remote}: {e}");
        }
    }

    /// Removes every SA and policy still installed.
    pub(crate) fn shutdown(&mut self) {
        let n = self.sas.len();
        let msgs = self.sas.remove_all();
        for m in msgs {
            let t = m.header.msg_type;
            if let Err(e) = self.request(m) {
                debug!("shutdown: PF_KEY {t:?}: {e}");
            }
        }
        if n > 0 {
            info!("kernel: removed {n} IPsec-SA pair(s) and their policies");
        }
    }
}
