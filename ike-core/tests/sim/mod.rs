//! A deterministic two-peer simulator, after quinn-proto's test `Pair`.
//!
//! Two [`Endpoint`]s exchange datagrams through a simulated network with a
//! virtual clock. Faults (loss, duplication, reordering, tampering) are drawn
//! from a seeded ChaCha stream, so a failing run reproduces exactly. A NAT in
//! front of either node rewrites source addresses and ports like a real one.

#![allow(dead_code, unreachable_pub, missing_docs)]

pub mod fixtures;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ike_core::endpoint::{Endpoint, Event, Transmit};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// Which side of the pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    A,
    B,
}

/// Fault probabilities, each in 0.0..=1.0, applied per datagram.
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    pub loss: f64,
    pub duplicate: f64,
    /// Extra delay (up to 3× latency) so later packets overtake this one.
    pub reorder: f64,
    /// Flip one random bit in the datagram.
    pub tamper: f64,
}

/// A NAPT in front of a node: the node's private address is rewritten to
/// `public` with a port of the NAT's choosing per private port.
#[derive(Debug, Clone)]
pub struct Nat {
    pub public: std::net::IpAddr,
    /// (private, public) mappings made so far.
    pub map: Vec<(SocketAddr, SocketAddr)>,
    pub next_port: u16,
}

impl Nat {
    pub fn new(public: std::net::IpAddr) -> Self {
        Self {
            public,
            map: Vec::new(),
            next_port: 40_000,
        }
    }

    fn outbound(&mut self, private: SocketAddr) -> SocketAddr {
        if let Some((_, p)) = self.map.iter().find(|(i, _)| *i == private) {
            return *p;
        }
        let public = SocketAddr::new(self.public, self.next_port);
        self.next_port += 1;
        self.map.push((private, public));
        public
    }

    fn inbound(&self, public: SocketAddr) -> Option<SocketAddr> {
        self.map.iter().find(|(_, p)| *p == public).map(|(i, _)| *i)
    }
}

/// One datagram in flight.
#[derive(Debug, Clone)]
pub struct Datagram {
    pub deliver_at: Instant,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub bytes: Vec<u8>,
}

/// A node: an endpoint plus its queues and what it reported.
pub struct Node {
    pub ep: Endpoint,
    /// The address the node binds (private if behind a NAT); port 500.
    pub addr: SocketAddr,
    pub nat: Option<Nat>,
    pub inbound: VecDeque<Datagram>,
    pub events: Vec<Event>,
    /// Every datagram this node sent, as sent (before faults and NAT).
    pub sent: Vec<(Transmit, Vec<u8>)>,
    /// Drop everything this node sends while set (a "cable pull").
    pub blackhole: bool,
}

impl Node {
    pub fn new(ep: Endpoint, addr: SocketAddr) -> Self {
        Self {
            ep,
            addr,
            nat: None,
            inbound: VecDeque::new(),
            events: Vec::new(),
            sent: Vec::new(),
            blackhole: false,
        }
    }

    /// The address the other side sees for this node's `port`.
    pub fn public_addr(&self) -> SocketAddr {
        self.addr
    }
}

/// Edits a datagram in flight; returning false drops it.
pub type Intercept = Box<dyn FnMut(Side, &mut Vec<u8>) -> bool>;

/// Two nodes, one network, one virtual clock.
pub struct Pair {
    pub a: Node,
    pub b: Node,
    pub epoch: Instant,
    pub now: Instant,
    pub latency: Duration,
    pub faults: Faults,
    rng: ChaCha8Rng,
    /// Optional in-flight editor: return false to drop the datagram.
    pub intercept: Option<Intercept>,
    pub delivered: usize,
    /// Path MTU: a datagram whose IP packet (UDP payload plus UDP and IP
    /// headers) is larger is dropped, as on a real path that blocks
    /// IP fragments. `None` passes any size.
    pub path_mtu: Option<usize>,
    /// Datagrams dropped for exceeding `path_mtu`.
    pub mtu_drops: usize,
}

impl Pair {
    pub fn new(a: Node, b: Node, seed: u64) -> Self {
        // The one clock read in the simulator: an arbitrary epoch. The engine
        // itself only ever sees `now` values derived from it.
        #[allow(clippy::disallowed_methods)]
        let epoch = Instant::now();
        Self {
            a,
            b,
            epoch,
            now: epoch,
            latency: Duration::from_millis(10),
            faults: Faults::default(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            intercept: None,
            delivered: 0,
            path_mtu: None,
            mtu_drops: 0,
        }
    }

    pub fn node(&mut self, side: Side) -> &mut Node {
        match side {
            Side::A => &mut self.a,
            Side::B => &mut self.b,
        }
    }

    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && (self.rng.next_u32() as f64) < p * (u32::MAX as f64)
    }

    /// Moves what `from` wants to send onto the network.
    fn drain(&mut self, from: Side) {
        let now = self.now;
        let mut out = Vec::new();
        {
            let node = self.node(from);
            let mut buf = Vec::new();
            while let Some(t) = node.ep.poll_transmit(now, &mut buf) {
                let bytes = buf[..t.size].to_vec();
                node.sent.push((t.clone(), bytes.clone()));
                buf.clear();
                if !node.blackhole {
                    out.push((t, bytes));
                }
            }
            while let Some(ev) = node.ep.poll_event() {
                node.events.push(ev);
            }
        }
        for (t, mut bytes) in out {
            let ip_header = if t.remote.is_ipv4() { 20 } else { 40 };
            if self
                .path_mtu
                .is_some_and(|mtu| bytes.len() + 8 + ip_header > mtu)
            {
                self.mtu_drops += 1;
                continue;
            }
            if self.chance(self.faults.loss) {
                continue;
            }
            let side = from;
            if let Some(f) = self.intercept.as_mut()
                && !f(side, &mut bytes)
            {
                continue;
            }
            if self.chance(self.faults.tamper) && !bytes.is_empty() {
                let bit = self.rng.next_u32() as usize % (bytes.len() * 8);
                bytes[bit / 8] ^= 1 << (bit % 8);
            }
            // Source NAT on the way out of `from`.
            let mut src = t.local;
            if let Some(nat) = self.node(from).nat.as_mut() {
                src = nat.outbound(t.local);
            }
            let mut deliver_at = now + self.latency;
            if self.chance(self.faults.reorder) {
                deliver_at += self.latency * (1 + self.rng.next_u32() % 3);
            }
            let copies = if self.chance(self.faults.duplicate) {
                2
            } else {
                1
            };
            let to = match from {
                Side::A => Side::B,
                Side::B => Side::A,
            };
            for _ in 0..copies {
                let d = Datagram {
                    deliver_at,
                    src,
                    dst: t.remote,
                    bytes: bytes.clone(),
                };
                self.node(to).inbound.push_back(d);
            }
        }
    }

    /// Delivers what is due at `now` to `to`.
    fn deliver(&mut self, to: Side) {
        let now = self.now;
        let node = self.node(to);
        let mut due = Vec::new();
        node.inbound.retain(|d| {
            if d.deliver_at <= now {
                due.push(d.clone());
                false
            } else {
                true
            }
        });
        due.sort_by_key(|d| d.deliver_at);
        let mut delivered = 0;
        for d in due {
            // Destination NAT on the way in: only mapped ports get through.
            let dst = match node.nat.as_ref() {
                Some(nat) => match nat.inbound(d.dst) {
                    Some(private) => private,
                    None => continue,
                },
                None => d.dst,
            };
            node.ep.handle_datagram(now, dst, d.src, &d.bytes);
            delivered += 1;
        }
        self.delivered += delivered;
    }

    /// One step: deliver due datagrams, fire due timers, drain outputs.
    pub fn step(&mut self) {
        let now = self.now;
        for side in [Side::A, Side::B] {
            self.deliver(side);
            self.node(side).ep.handle_timeout(now);
            self.drain(side);
        }
    }

    /// The next moment anything happens, if anything is pending.
    pub fn next_wakeup(&self) -> Option<Instant> {
        let deliveries = self
            .a
            .inbound
            .iter()
            .chain(self.b.inbound.iter())
            .map(|d| d.deliver_at);
        let timers = [self.a.ep.poll_timeout(), self.b.ep.poll_timeout()]
            .into_iter()
            .flatten();
        deliveries.chain(timers).min()
    }

    /// Steps until `done` holds, nothing is pending, or the virtual clock
    /// passes `limit` after the start of this call. Returns whether `done` held.
    pub fn drive_until(&mut self, limit: Duration, mut done: impl FnMut(&Self) -> bool) -> bool {
        let end = self.now + limit;
        for _ in 0..100_000 {
            self.step();
            if done(self) {
                return true;
            }
            match self.next_wakeup() {
                Some(t) if t <= end => self.now = self.now.max(t),
                _ => return false,
            }
        }
        panic!("simulation did not settle in 100000 steps (livelock?)");
    }

    /// Runs until nothing is pending before `limit` elapses.
    pub fn drive_for(&mut self, limit: Duration) {
        self.drive_until(limit, |_| false);
        self.now = self.now.max(self.now);
    }

    /// Advances the clock to `now + d`, processing everything on the way.
    pub fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        for _ in 0..100_000 {
            self.step();
            match self.next_wakeup() {
                Some(t) if t <= end => self.now = self.now.max(t),
                _ => {
                    self.now = end;
                    self.step();
                    return;
                }
            }
        }
        panic!("simulation did not settle in 100000 steps (livelock?)");
    }

    /// Seconds of virtual time since the epoch.
    pub fn elapsed(&self) -> Duration {
        self.now - self.epoch
    }
}
