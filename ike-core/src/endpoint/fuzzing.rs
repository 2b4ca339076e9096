//! The body of the `ike_endpoint` fuzz target, in the library so the corpus
//! replays under `cargo test` (`ike-core/tests/engine_fuzz_corpus.rs`).
//!
//! Two endpoints with the Cisco PIX profile and a deterministic randomness
//! source run Main Mode + Quick Mode against each other while the fuzz input
//! injects raw datagrams, replays and bit flips of recorded messages, and
//! clock jumps. Because the randomness is fixed, mutations of encrypted
//! messages reach decryption, HASH checks and the Quick Mode and
//! Informational handlers, not just the header parser.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand_core::{CryptoRng, RngCore};

use super::Endpoint;
use crate::config::{
    AuthMethod, ChildPolicy, EncapsulationMode, EndpointConfig, EspCipher, EspTransform, Identity,
    IntegrityAlgorithm, Lifetime, PeerConfig, Phase1Proposal, PresharedKey, PskTable,
};
use crate::crypto::{CipherAlgorithm, DhGroup, HashAlgorithm, Phase1Cipher};

/// Deterministic SplitMix64 stream. NO SECURITY: it implements `CryptoRng`
/// only so fuzzing and tests can reproduce whole transcripts. Never use it
/// for real keys.
#[derive(Debug, Clone)]
pub struct InsecureFuzzRng(u64);

impl InsecureFuzzRng {
    /// A stream starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
}

impl RngCore for InsecureFuzzRng {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let v = self.next_u64().to_be_bytes();
            chunk.copy_from_slice(v.get(..chunk.len()).unwrap_or_default());
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for InsecureFuzzRng {}

fn pix_endpoint(peer: IpAddr, seed: u64) -> Option<Endpoint> {
    let mut psk = PskTable::new();
    psk.insert(Identity::from_ip(peer), PresharedKey::new(b"fuzz".to_vec()));
    let p1 = Phase1Proposal {
        cipher: Phase1Cipher::new(CipherAlgorithm::Aes, Some(256)).ok()?,
        hash: HashAlgorithm::Sha1,
        auth: AuthMethod::PreSharedKey,
        // The smallest group keeps each run fast.
        group: DhGroup::Modp768,
        lifetime: Lifetime::seconds(600),
    };
    let child = ChildPolicy {
        local: None,
        remote: None,
        mode: EncapsulationMode::Tunnel,
        esp: vec![EspTransform {
            cipher: EspCipher::AesCbc,
            key_bits: Some(128),
            integrity: Some(IntegrityAlgorithm::HmacSha1),
        }],
        pfs_group: Some(DhGroup::Modp768),
        lifetime: Lifetime::seconds(300),
        accept_ah: false,
        ah: Vec::new(),
        ipcomp: false,
    };
    let mut cfg = EndpointConfig::new(
        vec![PeerConfig::new(Some(peer), vec![p1], vec![child])],
        psk,
    );
    cfg.max_half_open = 4;
    Some(Endpoint::new(
        Arc::new(cfg),
        Box::new(InsecureFuzzRng::new(seed)),
    ))
}

/// Most datagrams moved per run, so every input terminates quickly.
const MAX_DELIVERIES: usize = 256;

/// Runs one fuzz input and returns how many IPsec SA pairs came up (both
/// sides counted), so tests can check the harness reaches Quick Mode. Never
/// panics on any input: that is the property fuzzed.
pub fn endpoint_pair(data: &[u8]) -> usize {
    let a_addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 500);
    let b_addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 2)), 500);
    let (Some(a), Some(b)) = (pix_endpoint(b_addr.ip(), 1), pix_endpoint(a_addr.ip(), 2)) else {
        return 0;
    };
    let mut eps = [a, b];
    let addrs = [a_addr, b_addr];
    // The one clock read: an arbitrary epoch for the virtual clock.
    #[allow(clippy::disallowed_methods)]
    let mut now = Instant::now();
    let child = eps[0]
        .config()
        .peers
        .first()
        .and_then(|p| p.children.first())
        .cloned();
    if let Some(child) = child {
        let _ = eps[0].initiate(now, a_addr, b_addr, child);
    }
    // Every datagram sent so far, with its receiver.
    let mut recorded: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut deliveries = 0;
    let mut children = 0;
    let mut ops = data.chunks(4);
    loop {
        // Drain both sides and deliver, like a lossless network.
        let mut moved = true;
        while moved && deliveries < MAX_DELIVERIES {
            moved = false;
            for from in 0..2 {
                let to = 1 - from;
                let mut buf = Vec::new();
                while let Some(t) = eps[from].poll_transmit(now, &mut buf) {
                    let bytes = buf.get(..t.size).unwrap_or_default().to_vec();
                    recorded.push((to, bytes.clone()));
                    if let (Some(ep), Some(src)) = (eps.get_mut(to), addrs.get(from)) {
                        ep.handle_datagram(now, t.remote, *src, &bytes);
                    }
                    deliveries += 1;
                    moved = true;
                }
                while let Some(ev) = eps[from].poll_event() {
                    children += usize::from(matches!(ev, super::Event::ChildSaUp(_)));
                }
            }
        }
        let Some(op) = ops.next() else { break };
        let [kind, x, y, z] = [0, 1, 2, 3].map(|i| op.get(i).copied().unwrap_or(0));
        let to = usize::from(kind >> 7);
        let src = addrs.get(1 - to).copied().unwrap_or(a_addr);
        let dst = addrs.get(to).copied().unwrap_or(b_addr);
        match kind % 4 {
            // A raw datagram: the rest of the input, up to x bytes.
            0 => {
                let rest: Vec<u8> = ops
                    .by_ref()
                    .flatten()
                    .take(usize::from(x))
                    .copied()
                    .collect();
                if let Some(ep) = eps.get_mut(to) {
                    ep.handle_datagram(now, dst, src, &rest);
                }
            }
            // Replay a recorded message to its receiver.
            1 => {
                if let Some((r, bytes)) = recorded
                    .get(usize::from(x) % recorded.len().max(1))
                    .cloned()
                    && let (Some(ep), Some(d), Some(s)) =
                        (eps.get_mut(r), addrs.get(r), addrs.get(1 - r))
                {
                    ep.handle_datagram(now, *d, *s, &bytes);
                }
            }
            // Flip bits of a recorded message and deliver it.
            2 => {
                if let Some((r, mut bytes)) = recorded
                    .get(usize::from(x) % recorded.len().max(1))
                    .cloned()
                {
                    let len = bytes.len().max(1);
                    if let Some(b) = bytes.get_mut(usize::from(y) % len) {
                        *b ^= z | 1;
                    }
                    if let (Some(ep), Some(d), Some(s)) =
                        (eps.get_mut(r), addrs.get(r), addrs.get(1 - r))
                    {
                        ep.handle_datagram(now, *d, *s, &bytes);
                    }
                }
            }
            // Let time pass and fire timers.
            _ => {
                now += Duration::from_secs(u64::from(x) * 4);
                for ep in &mut eps {
                    ep.handle_timeout(now);
                }
            }
        }
    }
    children
}
