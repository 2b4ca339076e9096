//! Complete Main Mode + Quick Mode handshakes per second between two
//! in-process endpoints, for DH groups 2, 5, 14 and 19, against the cost of
//! the Diffie-Hellman operations alone in the same run (each handshake does
//! two key generations and two shared-secret computations).
//!
//! `cargo bench -p ike-core --bench handshake` (release build). Target: the
//! protocol costs at most 15% on top of the DH work.

#![allow(clippy::disallowed_methods, missing_docs)] // a benchmark reads the clock

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ike_core::config::{
    AuthMethod, ChildPolicy, EncapsulationMode, EndpointConfig, EspCipher, EspTransform, Identity,
    IntegrityAlgorithm, Lifetime, PeerConfig, Phase1Proposal, PresharedKey, PskTable,
};
use ike_core::crypto::{CipherAlgorithm, DhGroup, HashAlgorithm, Phase1Cipher};
use ike_core::endpoint::{Endpoint, Event};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const A: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
const B: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 2));

fn endpoint(peer: IpAddr, group: DhGroup, seed: u64) -> Endpoint {
    let mut psk = PskTable::new();
    psk.insert(
        Identity::from_ip(peer),
        PresharedKey::new(b"bench".to_vec()),
    );
    let p1 = Phase1Proposal {
        cipher: Phase1Cipher::new(CipherAlgorithm::Aes, Some(256)).unwrap(),
        hash: HashAlgorithm::Sha1,
        auth: AuthMethod::PreSharedKey,
        group,
        lifetime: Lifetime::seconds(86_400),
    };
    let child = ChildPolicy {
        local: None,
        remote: None,
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
    };
    let cfg = EndpointConfig::new(
        vec![PeerConfig::new(Some(peer), vec![p1], vec![child])],
        psk,
    );
    Endpoint::new(Arc::new(cfg), Box::new(ChaCha20Rng::seed_from_u64(seed)))
}

/// One full handshake; returns when both sides report the IPsec SA pair.
fn handshake(group: DhGroup, seed: u64) {
    let (a_addr, b_addr) = (SocketAddr::new(A, 500), SocketAddr::new(B, 500));
    let mut eps = [endpoint(B, group, seed), endpoint(A, group, seed + 1)];
    let now = Instant::now();
    let child = eps[0].config().peers[0].children[0].clone();
    eps[0].initiate(now, a_addr, b_addr, child).unwrap();
    let mut up = [false, false];
    let mut buf = Vec::new();
    for _ in 0..64 {
        for i in 0..2 {
            while let Some(t) = eps[i].poll_transmit(now, &mut buf) {
                let bytes = buf[..t.size].to_vec();
                eps[1 - i].handle_datagram(now, t.remote, t.local, &bytes);
            }
            while let Some(ev) = eps[i].poll_event() {
                up[i] |= matches!(ev, Event::ChildSaUp(_));
            }
        }
        if up == [true, true] {
            return;
        }
    }
    panic!("handshake with {group:?} did not complete");
}

fn dh_only(group: DhGroup, rng: &mut ChaCha20Rng) {
    let a = group.generate(rng, None).unwrap();
    let b = group.generate(rng, None).unwrap();
    std::hint::black_box(a.compute_shared(b.public_value()).unwrap());
    std::hint::black_box(b.compute_shared(a.public_value()).unwrap());
}

fn per_second(mut f: impl FnMut(u64), budget: Duration) -> f64 {
    f(0); // warm up
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < budget {
        f(n);
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let budget = Duration::from_millis(
        std::env::var("HANDSHAKE_BENCH_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2000),
    );
    println!(
        "{:<10} {:>14} {:>14} {:>10}",
        "group", "handshakes/s", "DH-only/s", "overhead"
    );
    for group in [
        DhGroup::Modp1024,
        DhGroup::Modp1536,
        DhGroup::Modp2048,
        DhGroup::Ecp256,
    ] {
        // The machine is shared: alternate the two measurements and keep
        // the best of three rounds of each.
        let (mut hs, mut dh) = (0.0f64, 0.0f64);
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        for _ in 0..3 {
            hs = hs.max(per_second(|n| handshake(group, n * 2), budget));
            dh = dh.max(per_second(|_| dh_only(group, &mut rng), budget));
        }
        let overhead = (dh / hs - 1.0) * 100.0;
        println!(
            "{:<10} {:>14.1} {:>14.1} {:>9.1}%",
            format!("{}", group.id()),
            hs,
            dh,
            overhead
        );
    }
}
