//! The body of the `ike_endpoint` fuzz target, in the library so the corpus
//! replays under `cargo test` (`ike-core/tests/engine_fuzz_corpus.rs`).
//!
//! Two endpoints with the Cisco PIX profile and a deterministic randomness
//! source run Main Mode + Quick Mode against each other while the fuzz input
//! injects raw datagrams, replays and bit flips of recorded messages, and
//! clock jumps. Because the randomness is fixed, mutations of encrypted
//! messages reach decryption, HASH checks and the Quick Mode and
//! Informational handlers, not just the header parser.
//!
//! [`endpoint_pair_rsa_fragmented`] runs the same script between two peers
//! authenticating with RSA signatures and certificates (the engine test PKI
//! in `tests/data/auth/`) with IKE fragmentation on and a 548-byte
//! fragment size, so MM5/MM6 with their CERT payloads travel as fragments
//! and mutations reach reassembly, certificate parsing and chain checks.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use rand_core::{CryptoRng, RngCore};

use super::{Endpoint, EndpointStats};
use crate::auth::{PeerCertificate, RsaCrateSigner, TrustStore, UnixTime, load_certificates};
use crate::config::{
    AuthMethod, ChildPolicy, EncapsulationMode, EndpointConfig, EspCipher, EspTransform,
    Fragmentation, Identity, IntegrityAlgorithm, Lifetime, PeerAuth, PeerConfig, Phase1Proposal,
    PresharedKey, PskTable, RsaAuthConfig,
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

fn pix_phase1(auth: AuthMethod) -> Option<Phase1Proposal> {
    Some(Phase1Proposal {
        cipher: Phase1Cipher::new(CipherAlgorithm::Aes, Some(256)).ok()?,
        hash: HashAlgorithm::Sha1,
        auth,
        // The smallest group keeps each run fast.
        group: DhGroup::Modp768,
        lifetime: Lifetime::seconds(600),
    })
}

fn pix_child() -> ChildPolicy {
    ChildPolicy {
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
    }
}

fn pix_endpoint(peer: IpAddr, seed: u64) -> Option<Endpoint> {
    let mut psk = PskTable::new();
    psk.insert(Identity::from_ip(peer), PresharedKey::new(b"fuzz".to_vec()));
    let p1 = pix_phase1(AuthMethod::PreSharedKey)?;
    let mut cfg = EndpointConfig::new(
        vec![PeerConfig::new(Some(peer), vec![p1], vec![pix_child()])],
        psk,
    );
    cfg.max_half_open = 4;
    Some(Endpoint::new(
        Arc::new(cfg),
        Box::new(InsecureFuzzRng::new(seed)),
    ))
}

// The engine test PKI (`tests/data/auth/engine/make-engine-pki.sh`): a.pem
// (SAN IP 192.0.2.1, by the sub CA) and b.pem (SAN IP 198.51.100.2, by the
// root CA), valid 2026-12 to 2036-11.
const ROOT_CA: &[u8] = include_bytes!("../../tests/data/auth/root-ca.pem");
const SUB_CA: &[u8] = include_bytes!("../../tests/data/auth/sub-ca.pem");
const A_CERT: &[u8] = include_bytes!("../../tests/data/auth/engine/a.pem");
const A_KEY: &[u8] = include_bytes!("../../tests/data/auth/engine/a.key");
const B_CERT: &[u8] = include_bytes!("../../tests/data/auth/engine/b.pem");
const B_KEY: &[u8] = include_bytes!("../../tests/data/auth/engine/b.key");
/// 2030-01-01T00:00:00Z, inside the certificates' validity.
const IN_VALIDITY: u64 = 1_893_456_000;
/// Small enough that MM5/MM6 (certificate, SIG, two 2048-bit keys' worth
/// of payloads) are cut into several fragments.
const RSA_FRAGMENT_SIZE: usize = 548;

fn first_certificate(pem: &[u8]) -> Option<PeerCertificate> {
    load_certificates(pem).ok()?.into_iter().next()
}

/// One side's configuration with RSA signatures and fragmentation on.
/// Parsing keys and certificates is the slow part, so it is done once.
fn rsa_config(peer: IpAddr, key: &[u8], chain: &[&[u8]]) -> Option<Arc<EndpointConfig>> {
    let signer = Arc::new(RsaCrateSigner::load(key).ok()?);
    let certificates = chain
        .iter()
        .map(|pem| first_certificate(pem))
        .collect::<Option<Vec<_>>>()?;
    let mut trust = TrustStore::new();
    trust.add_anchor(first_certificate(ROOT_CA)?);
    let auth = RsaAuthConfig::new(signer, certificates, trust);
    let mut p = PeerConfig::new(
        Some(peer),
        vec![pix_phase1(AuthMethod::RsaSignature)?],
        vec![pix_child()],
    );
    p.auth = PeerAuth::RsaSignature(Arc::new(auth));
    p.fragmentation = Fragmentation::On;
    let mut cfg = EndpointConfig::new(vec![p], PskTable::new());
    cfg.max_half_open = 4;
    cfg.fragment_size = RSA_FRAGMENT_SIZE;
    Some(Arc::new(cfg))
}

type ConfigPair = Option<(Arc<EndpointConfig>, Arc<EndpointConfig>)>;

fn rsa_configs(a: IpAddr, b: IpAddr) -> ConfigPair {
    static CONFIGS: OnceLock<ConfigPair> = OnceLock::new();
    CONFIGS
        .get_or_init(|| {
            Some((
                rsa_config(b, A_KEY, &[A_CERT, SUB_CA])?,
                rsa_config(a, B_KEY, &[B_CERT])?,
            ))
        })
        .clone()
}

/// Most datagrams moved per run, so every input terminates quickly.
const MAX_DELIVERIES: usize = 256;

/// Runs one fuzz input and returns how many IPsec SA pairs came up (both
/// sides counted), so tests can check the harness reaches Quick Mode. Never
/// panics on any input: that is the property fuzzed.
pub fn endpoint_pair(data: &[u8]) -> usize {
    let (a_addr, b_addr) = addresses();
    let (Some(a), Some(b)) = (pix_endpoint(b_addr.ip(), 1), pix_endpoint(a_addr.ip(), 2)) else {
        return 0;
    };
    run_script(&mut [a, b], epoch(), data)
}

/// Like [`endpoint_pair`], between RSA-signature peers with certificates
/// and IKE fragmentation on (see the module documentation). Returns how
/// many IPsec SA pairs came up; never panics.
pub fn endpoint_pair_rsa_fragmented(data: &[u8]) -> usize {
    rsa_fragmented_outcome(data).map_or(0, |(children, _)| children)
}

/// [`endpoint_pair_rsa_fragmented`] with both endpoints' counters, so tests
/// can check fragments were really sent and reassembled. `None` if the
/// embedded keys or certificates did not load.
pub fn rsa_fragmented_outcome(data: &[u8]) -> Option<(usize, [EndpointStats; 2])> {
    let (a_addr, b_addr) = addresses();
    let (a_cfg, b_cfg) = rsa_configs(a_addr.ip(), b_addr.ip())?;
    let now = epoch();
    let unix = UnixTime::since_unix_epoch(Duration::from_secs(IN_VALIDITY));
    let mut eps = [
        Endpoint::new(a_cfg, Box::new(InsecureFuzzRng::new(1))),
        Endpoint::new(b_cfg, Box::new(InsecureFuzzRng::new(2))),
    ];
    for ep in &mut eps {
        ep.set_wall_clock(now, unix);
    }
    let children = run_script(&mut eps, now, data);
    Some((children, eps.map(|ep| ep.stats())))
}

fn addresses() -> (SocketAddr, SocketAddr) {
    (
        SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 500),
        SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 2)), 500),
    )
}

/// The one clock read: an arbitrary epoch for the virtual clock.
#[allow(clippy::disallowed_methods)]
fn epoch() -> Instant {
    Instant::now()
}

/// Endpoint 0 initiates to endpoint 1; then the input's 4-byte operations
/// run between lossless delivery rounds.
fn run_script(eps: &mut [Endpoint; 2], mut now: Instant, data: &[u8]) -> usize {
    let (a_addr, b_addr) = addresses();
    let addrs = [a_addr, b_addr];
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
                for ep in eps.iter_mut() {
                    ep.handle_timeout(now);
                }
            }
        }
    }
    children
}
