//! Criterion benchmarks of ESP encapsulation and decapsulation, next to the
//! raw primitives they are built on (the same crates' AEAD seal, or CBC
//! encrypt + HMAC, without ESP framing), so that `bench/esp-vs-openssl.sh`
//! can report what the framing costs.
//!
//! Benchmark ids: `{esp,raw}-{seal,open}/<suite>/<payload bytes>`.

use aes::{Aes128, Aes256};
use aes_gcm::aead::{AeadInPlace, KeyInit};
use cipher::block_padding::NoPadding;
use cipher::{BlockEncryptMut, InnerIvInit};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_main};
use esp_core::crypto::{EncryptionAlgorithm as E, IntegrityAlgorithm as I};
use esp_core::{InboundSa, Mode, OutboundSa, SaConfig};
use hmac::{Hmac, Mac};
use rand_core::{RngCore, SeedableRng};
use std::hint::black_box;

const SIZES: [usize; 3] = [64, 1400, 8192];

#[derive(Clone, Copy)]
enum Suite {
    Aes128Gcm,
    Aes256Gcm,
    Aes256CbcSha1,
    Aes128CbcSha256,
    ChaCha20Poly1305,
    TripleDesSha1,
}

const SUITES: [Suite; 6] = [
    Suite::Aes128Gcm,
    Suite::Aes256Gcm,
    Suite::Aes256CbcSha1,
    Suite::Aes128CbcSha256,
    Suite::ChaCha20Poly1305,
    Suite::TripleDesSha1,
];

impl Suite {
    fn name(self) -> &'static str {
        match self {
            Self::Aes128Gcm => "aes128-gcm16",
            Self::Aes256Gcm => "aes256-gcm16",
            Self::Aes256CbcSha1 => "aes256-cbc-hmac-sha1-96",
            Self::Aes128CbcSha256 => "aes128-cbc-hmac-sha256-128",
            Self::ChaCha20Poly1305 => "chacha20-poly1305",
            Self::TripleDesSha1 => "3des-cbc-hmac-sha1-96",
        }
    }

    fn config(self) -> SaConfig {
        let key = [0x11u8; 36];
        let mac = [0x22u8; 32];
        let (enc, key_len, auth) = match self {
            Self::Aes128Gcm => (E::AesGcm16, 20, None),
            Self::Aes256Gcm => (E::AesGcm16, 36, None),
            Self::Aes256CbcSha1 => (E::AesCbc, 32, Some((I::HmacSha1_96, 20))),
            Self::Aes128CbcSha256 => (E::AesCbc, 16, Some((I::HmacSha256_128, 32))),
            Self::ChaCha20Poly1305 => (E::ChaCha20Poly1305, 36, None),
            Self::TripleDesSha1 => (E::TripleDesCbc, 24, Some((I::HmacSha1_96, 20))),
        };
        // Replay protection off, so one packet can be opened repeatedly.
        let mut config =
            SaConfig::new(0x100, Mode::Tunnel, enc, &key[..key_len]).with_replay_window(0);
        if let Some((alg, len)) = auth {
            config = config.with_integrity(alg, &mac[..len]);
        }
        config
    }
}

/// The primitive without ESP, keyed once: encrypt (and MAC) `buf` in
/// place, the way the ESP code uses the same crates.
enum Raw {
    Aead128(aes_gcm::Aes128Gcm),
    Aead256(aes_gcm::Aes256Gcm),
    ChaCha(chacha20poly1305::ChaCha20Poly1305),
    Cbc256Sha1(Aes256, Hmac<sha1::Sha1>),
    Cbc128Sha256(Aes128, Hmac<sha2::Sha256>),
    TdesSha1(des::TdesEde3, Hmac<sha1::Sha1>),
}

fn cbc_then_mac<C, M>(
    cipher: &C,
    mac: &M,
    rng: &mut impl RngCore,
    buf: &mut [u8],
    tag: &mut [u8; 32],
) where
    C: cipher::BlockCipher + cipher::BlockEncrypt + Clone,
    M: Mac + Clone,
{
    let mut iv = [0u8; 16];
    let iv = &mut iv[..C::block_size()];
    rng.fill_bytes(iv);
    let len = buf.len();
    cbc::Encryptor::<C>::inner_iv_slice_init(cipher.clone(), iv)
        .unwrap()
        .encrypt_padded_mut::<NoPadding>(buf, len)
        .unwrap();
    let mut m = mac.clone();
    m.update(iv);
    m.update(buf);
    let full = m.finalize().into_bytes();
    let n = full.len().min(32);
    tag[..n].copy_from_slice(&full[..n]);
}

impl Raw {
    fn new(suite: Suite) -> Self {
        let key = [0x11u8; 32];
        match suite {
            Suite::Aes128Gcm => {
                Self::Aead128(aes_gcm::Aes128Gcm::new_from_slice(&key[..16]).unwrap())
            }
            Suite::Aes256Gcm => Self::Aead256(aes_gcm::Aes256Gcm::new_from_slice(&key).unwrap()),
            Suite::ChaCha20Poly1305 => {
                Self::ChaCha(chacha20poly1305::ChaCha20Poly1305::new_from_slice(&key).unwrap())
            }
            Suite::Aes256CbcSha1 => Self::Cbc256Sha1(
                Aes256::new_from_slice(&key).unwrap(),
                <Hmac<sha1::Sha1> as Mac>::new_from_slice(&key[..20]).unwrap(),
            ),
            Suite::Aes128CbcSha256 => Self::Cbc128Sha256(
                Aes128::new_from_slice(&key[..16]).unwrap(),
                <Hmac<sha2::Sha256> as Mac>::new_from_slice(&key).unwrap(),
            ),
            Suite::TripleDesSha1 => Self::TdesSha1(
                des::TdesEde3::new_from_slice(&key[..24]).unwrap(),
                <Hmac<sha1::Sha1> as Mac>::new_from_slice(&key[..20]).unwrap(),
            ),
        }
    }

    fn seal(&self, rng: &mut impl RngCore, buf: &mut [u8], tag: &mut [u8; 32]) {
        let nonce = [7u8; 12].into();
        let aad = [0u8; 8];
        match self {
            Self::Aead128(a) => {
                tag[..16].copy_from_slice(&a.encrypt_in_place_detached(&nonce, &aad, buf).unwrap())
            }
            Self::Aead256(a) => {
                tag[..16].copy_from_slice(&a.encrypt_in_place_detached(&nonce, &aad, buf).unwrap())
            }
            Self::ChaCha(a) => {
                tag[..16].copy_from_slice(&a.encrypt_in_place_detached(&nonce, &aad, buf).unwrap())
            }
            Self::Cbc256Sha1(c, m) => cbc_then_mac(c, m, rng, buf, tag),
            Self::Cbc128Sha256(c, m) => cbc_then_mac(c, m, rng, buf, tag),
            Self::TdesSha1(c, m) => cbc_then_mac(c, m, rng, buf, tag),
        }
    }
}

/// Payload sizes rounded to the cipher block so the raw primitive needs no
/// padding step of its own.
fn raw_len(suite: Suite, size: usize) -> usize {
    match suite {
        Suite::Aes256CbcSha1 | Suite::Aes128CbcSha256 => size.next_multiple_of(16),
        Suite::TripleDesSha1 => size.next_multiple_of(8),
        _ => size,
    }
}

/// An IPv4 packet of `size` bytes (the tunnel-mode inner packet).
fn packet(size: usize) -> Vec<u8> {
    let mut p = vec![0xabu8; size.max(20)];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&(size as u16).to_be_bytes());
    p
}

fn benches(c: &mut Criterion) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    for suite in SUITES {
        for size in SIZES {
            let inner = packet(size);
            let mut group = c.benchmark_group(format!("esp-seal/{}", suite.name()));
            group.throughput(Throughput::Bytes(size as u64));
            let mut tx = OutboundSa::new(&suite.config()).unwrap();
            let mut out = vec![0u8; size + 128];
            group.bench_with_input(BenchmarkId::from_parameter(size), &inner, |b, inner| {
                b.iter(|| black_box(tx.encapsulate(&mut rng, inner, &mut out).unwrap().len()))
            });
            group.finish();

            let mut group = c.benchmark_group(format!("raw-seal/{}", suite.name()));
            group.throughput(Throughput::Bytes(size as u64));
            let raw = Raw::new(suite);
            let plain = vec![0xabu8; raw_len(suite, size)];
            let mut buf = plain.clone();
            let mut tag = [0u8; 32];
            group.bench_function(BenchmarkId::from_parameter(size), |b| {
                b.iter(|| {
                    buf.copy_from_slice(&plain);
                    raw.seal(&mut rng, &mut buf, &mut tag);
                    black_box(tag[0])
                })
            });
            group.finish();

            let mut group = c.benchmark_group(format!("esp-open/{}", suite.name()));
            group.throughput(Throughput::Bytes(size as u64));
            let sealed = tx.encapsulate(&mut rng, &inner, &mut out).unwrap().to_vec();
            let mut rx = InboundSa::new(&suite.config()).unwrap();
            let mut buf = sealed.clone();
            group.bench_function(BenchmarkId::from_parameter(size), |b| {
                b.iter(|| {
                    buf.copy_from_slice(&sealed);
                    black_box(rx.decapsulate(&mut buf).unwrap().data.len())
                })
            });
            group.finish();
        }
    }
}

/// The generated group function is `pub`; keep it out of the lints.
mod group {
    #![allow(missing_docs, unreachable_pub)]
    criterion::criterion_group!(esp, super::benches);
}
criterion_main!(group::esp);
