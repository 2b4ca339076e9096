//! Costs of the IKEv1 cryptography, and a check on the constant-time MODP
//! exponentiation: `cargo bench -p ike-core --bench crypto`.
//!
//! - `modp2048/shared/...`: g^xy with the default 256-bit exponent and
//!   with a full-length one (the default is several times faster).
//! - `modp2048/weight/...`: two exponents of the same length, one with
//!   almost no bits set and one with all bits set. A square-and-multiply
//!   that skips zero bits (num-bigint's `modpow`) separates them clearly;
//!   the Montgomery ladder used here should not.
//! - ECP-256, X25519, and the Phase 1 key schedule for scale.

use std::hint::black_box;

use criterion::{Criterion, criterion_main};
use ike_core::crypto::key_schedule::Phase1Inputs;
use ike_core::crypto::{DhGroup, Phase1Auth, Phase1Keys, Prf};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn dh(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let g = DhGroup::Modp2048;
    let peer = g.generate(&mut rng, None).unwrap();
    let short = g.generate(&mut rng, None).unwrap();
    let full = g.generate(&mut rng, Some(2047)).unwrap();
    c.bench_function("modp2048/shared/256-bit exponent", |b| {
        b.iter(|| {
            short
                .compute_shared(black_box(peer.public_value()))
                .unwrap()
        })
    });
    c.bench_function("modp2048/shared/2047-bit exponent", |b| {
        b.iter(|| full.compute_shared(black_box(peer.public_value())).unwrap())
    });

    let mut sparse = vec![0u8; 32];
    sparse[0] = 0x80;
    sparse[31] = 0x03;
    let dense = vec![0xffu8; 32];
    let sparse = g.private_key_from_bytes(&sparse).unwrap();
    let dense = g.private_key_from_bytes(&dense).unwrap();
    c.bench_function("modp2048/weight/sparse 256-bit exponent", |b| {
        b.iter(|| {
            sparse
                .compute_shared(black_box(peer.public_value()))
                .unwrap()
        })
    });
    c.bench_function("modp2048/weight/dense 256-bit exponent", |b| {
        b.iter(|| {
            dense
                .compute_shared(black_box(peer.public_value()))
                .unwrap()
        })
    });

    for g in [DhGroup::Ecp256, DhGroup::Curve25519] {
        let a = g.generate(&mut rng, None).unwrap();
        let b_key = g.generate(&mut rng, None).unwrap();
        c.bench_function(&format!("{g:?}/shared"), |b| {
            b.iter(|| a.compute_shared(black_box(b_key.public_value())).unwrap())
        });
    }
}

fn key_schedule(c: &mut Criterion) {
    let gxy = ike_core::crypto::Gxy::new(vec![0x5a; 256]);
    let inputs = Phase1Inputs {
        prf: Prf::HmacSha256,
        auth: Phase1Auth::PreSharedKey(b"secret"),
        gxy: &gxy,
        ni: &[1; 32],
        nr: &[2; 32],
        cky_i: &[3; 8],
        cky_r: &[4; 8],
    };
    c.bench_function("phase1 keys/HMAC-SHA256, 2048-bit g^xy", |b| {
        b.iter(|| Phase1Keys::derive(black_box(&inputs)))
    });
}

#[allow(missing_docs, reason = "criterion_group! generates an undocumented fn")]
mod group {
    criterion::criterion_group!(benches, super::dh, super::key_schedule);
}
use group::benches;
criterion_main!(benches);
