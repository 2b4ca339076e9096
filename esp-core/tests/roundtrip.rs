//! Both directions of an SA against each other, for every transform, mode,
//! ESN and UDP-encapsulation combination, plus the SA-level rules:
//! sequence exhaustion, lifetimes, TFC padding and alignment.

mod common;

use esp_core::crypto::{EncryptionAlgorithm as E, IntegrityAlgorithm as I};
use esp_core::lifetime::{LifetimeEvent, LifetimeLimit, Lifetimes};
use esp_core::wire::ip;
use esp_core::{DecapError, EncapError, InboundSa, Mode, OutboundSa, SaConfig, UdpEncap};

/// IPv4 UDP packet 10.0.0.1:1234 -> 10.0.0.2:5678 with `len` payload bytes.
pub fn ipv4_udp(len: usize) -> Vec<u8> {
    let total = 28 + len;
    let mut p = vec![
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0x12,
        0x34,
        0x40,
        0,
        64,
        17,
        0,
        0,
        10,
        0,
        0,
        1,
        10,
        0,
        0,
        2,
    ];
    let sum = ip::internet_checksum(&p, 0);
    p[10..12].copy_from_slice(&sum.to_be_bytes());
    p.extend_from_slice(&[
        0x04,
        0xd2,
        0x16,
        0x2e,
        ((len + 8) >> 8) as u8,
        (len + 8) as u8,
        0,
        0,
    ]);
    p.extend((0..len).map(|i| i as u8));
    p
}

/// IPv6 packet with a hop-by-hop header, then UDP with `len` payload bytes.
pub fn ipv6_udp(len: usize) -> Vec<u8> {
    let mut p = vec![0u8; 40];
    p[0] = 0x60;
    let payload = 8 + 8 + len;
    p[4..6].copy_from_slice(&(payload as u16).to_be_bytes());
    p[6] = 0; // hop-by-hop
    p[7] = 64;
    p[8..24].copy_from_slice(
        &"2001:db8::1"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets(),
    );
    p[24..40].copy_from_slice(
        &"2001:db8::2"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets(),
    );
    p.extend_from_slice(&[17, 0, 1, 4, 0, 0, 0, 0]); // hop-by-hop: next UDP, PadN
    p.extend_from_slice(&[
        0x04,
        0xd2,
        0x16,
        0x2e,
        ((len + 8) >> 8) as u8,
        (len + 8) as u8,
        0,
        0,
    ]);
    p.extend((0..len).map(|i| (i * 7) as u8));
    p
}

fn keys(alg: E) -> Vec<u8> {
    let key_len = alg.key_lens().last().copied().unwrap() + alg.salt_len();
    (0..key_len as u8).collect()
}

fn configs(mode: Mode) -> Vec<SaConfig> {
    let mut out = Vec::new();
    for alg in E::ALL {
        let base = SaConfig::new(0xdead_beef, mode, alg, &keys(alg));
        if alg.aead_icv_len().is_some() {
            out.push(base.clone());
        } else {
            for integ in I::ALL {
                let key: Vec<u8> = (0..integ.key_len() as u8).map(|b| !b).collect();
                out.push(base.clone().with_integrity(integ, &key));
            }
            if alg != E::Null {
                out.push(base);
            }
        }
    }
    out
}

#[test]
fn every_transform_mode_esn_and_encapsulation_round_trips() {
    let mut rng = common::rng();
    let mut count = 0;
    for mode in [Mode::Tunnel, Mode::Transport] {
        for config in configs(mode) {
            for esn in [false, true] {
                for udp in [false, true] {
                    let mut config = config.clone().with_esn(esn);
                    if udp {
                        config = config.with_udp_encap(UdpEncap {
                            src_port: 4500,
                            dst_port: 4501,
                        });
                    }
                    let mut tx = OutboundSa::new(&config).unwrap();
                    let mut rx = InboundSa::new(&config).unwrap();
                    if esn {
                        // Cross a 2^32 boundary of the sequence space.
                        tx.set_next_sequence(u64::from(u32::MAX) - 1).unwrap();
                        rx.resume_after(u64::from(u32::MAX) - 2);
                    }
                    for (i, packet) in [
                        ipv4_udp(0),
                        ipv4_udp(1),
                        ipv4_udp(1400),
                        ipv6_udp(3),
                        ipv6_udp(333),
                    ]
                    .into_iter()
                    .enumerate()
                    {
                        let mut buf = vec![0u8; 2048];
                        let n = tx.encapsulate(&mut rng, &packet, &mut buf).unwrap().len();
                        assert!(n <= tx.encapsulated_len(packet.len()).unwrap() + 40);
                        let wire = buf[..n].to_vec();
                        if udp {
                            let at = if mode == Mode::Tunnel {
                                0
                            } else {
                                ip::transport_insertion_point(&wire).unwrap().header_len
                            };
                            assert_eq!(&wire[at..at + 4], &[0x11, 0x94, 0x11, 0x95], "UDP ports");
                        }
                        let got = rx
                            .decapsulate(&mut buf[..n])
                            .unwrap_or_else(|e| panic!("{config:?} esn={esn} udp={udp} #{i}: {e}"));
                        if mode == Mode::Tunnel {
                            assert_eq!(got.data, &packet[..]);
                        } else {
                            // The rebuilt packet equals the original,
                            // checksum included (it is recomputed).
                            assert_eq!(got.data, &packet[..], "{config:?}");
                            if packet[0] >> 4 == 4 {
                                assert_eq!(ip::internet_checksum(&got.data[..20], 0), 0);
                            }
                        }
                        // The same packet again is a replay.
                        let mut again = wire.clone();
                        let replay = rx.decapsulate(&mut again);
                        assert!(matches!(replay, Err(DecapError::Replayed(_))), "{replay:?}");
                        count += 1;
                    }
                    if esn {
                        assert_eq!(rx.replay_window().highest(), u64::from(u32::MAX) + 3);
                    }
                }
            }
        }
    }
    // Per mode: NULL x 6 MACs, CBC/3DES/CTR x (6 MACs + none), 5 AEADs.
    assert_eq!(count, 2 * (6 + 3 * 7 + 5) * 2 * 2 * 5);
}

#[test]
fn transport_mode_ipv4_header_fields_are_rewritten() {
    let config = SaConfig::new(7, Mode::Transport, E::AesGcm16, &keys(E::AesGcm16));
    let mut tx = OutboundSa::new(&config).unwrap();
    let packet = ipv4_udp(10);
    let mut out = [0u8; 200];
    let wire = tx
        .encapsulate(&mut common::rng(), &packet, &mut out)
        .unwrap();
    assert_eq!(wire[9], 50, "protocol ESP");
    assert_eq!(
        usize::from(u16::from_be_bytes([wire[2], wire[3]])),
        wire.len()
    );
    assert_eq!(ip::internet_checksum(&wire[..20], 0), 0, "checksum valid");
    assert_eq!(
        &wire[20..24],
        &7u32.to_be_bytes(),
        "ESP right after the header"
    );
}

#[test]
fn sequence_numbers_never_wrap() {
    let config = SaConfig::new(1, Mode::Tunnel, E::AesGcm16, &keys(E::AesGcm16));
    let mut tx = OutboundSa::new(&config).unwrap();
    tx.set_next_sequence(u64::from(u32::MAX)).unwrap();
    let mut out = [0u8; 200];
    let p = ipv4_udp(4);
    tx.encapsulate(&mut common::rng(), &p, &mut out).unwrap();
    assert_eq!(tx.next_sequence(), None);
    assert_eq!(
        tx.encapsulate(&mut common::rng(), &p, &mut out),
        Err(EncapError::SequenceExhausted)
    );
    assert!(tx.set_next_sequence(1 << 32).is_err(), "32-bit SA");

    let mut tx = OutboundSa::new(&config.clone().with_esn(true)).unwrap();
    tx.set_next_sequence(u64::MAX).unwrap();
    tx.encapsulate(&mut common::rng(), &p, &mut out).unwrap();
    assert_eq!(
        tx.encapsulate(&mut common::rng(), &p, &mut out),
        Err(EncapError::SequenceExhausted)
    );
}

#[test]
fn lifetimes_signal_soft_then_refuse_at_hard() {
    let lifetimes = Lifetimes {
        soft: LifetimeLimit {
            bytes: None,
            packets: Some(2),
        },
        hard: LifetimeLimit {
            bytes: Some(3 * 48),
            packets: None,
        },
    };
    let config = SaConfig::new(1, Mode::Tunnel, E::AesCbc, &keys(E::AesCbc))
        .with_integrity(I::HmacSha256_128, &[1; 32])
        .with_lifetimes(lifetimes);
    let mut tx = OutboundSa::new(&config).unwrap();
    let mut rx = InboundSa::new(&config).unwrap();
    let p = ipv4_udp(20); // 48 bytes
    let mut events = Vec::new();
    let mut rx_events = Vec::new();
    for _ in 0..3 {
        let mut out = [0u8; 200];
        let n = tx
            .encapsulate(&mut common::rng(), &p, &mut out)
            .unwrap()
            .len();
        rx.decapsulate(&mut out[..n]).unwrap();
        events.extend(std::iter::from_fn(|| tx.poll_event()));
        rx_events.extend(std::iter::from_fn(|| rx.poll_event()));
    }
    assert_eq!(events, [LifetimeEvent::Soft, LifetimeEvent::Hard]);
    assert_eq!(rx_events, events);
    assert_eq!(tx.counters(), (3, 144));
    let mut out = [0u8; 200];
    assert_eq!(
        tx.encapsulate(&mut common::rng(), &p, &mut out),
        Err(EncapError::LifetimeExpired)
    );
    // The hard limit also stops the inbound side.
    let mut tx2 = OutboundSa::new(&config).unwrap();
    tx2.set_next_sequence(10).unwrap();
    let n = tx2
        .encapsulate(&mut common::rng(), &p, &mut out)
        .unwrap()
        .len();
    assert_eq!(
        rx.decapsulate(&mut out[..n]),
        Err(DecapError::LifetimeExpired)
    );
}

#[test]
fn tfc_padding_and_alignment_are_applied_and_removed() {
    let config = SaConfig::new(1, Mode::Tunnel, E::AesCtr, &keys(E::AesCtr))
        .with_integrity(I::HmacSha1_96, &[2; 20])
        .with_tfc_padding(300)
        .with_pad_alignment(16);
    let mut tx = OutboundSa::new(&config).unwrap();
    let mut rx = InboundSa::new(&config).unwrap();
    let p = ipv4_udp(10);
    let mut out = [0u8; 512];
    let n = tx
        .encapsulate(&mut common::rng(), &p, &mut out)
        .unwrap()
        .len();
    // 8 header + 8 IV + round_up(300 + 2, 16) + 12 ICV.
    assert_eq!(n, 8 + 8 + 304 + 12);
    assert_eq!(rx.decapsulate(&mut out[..n]).unwrap().data, &p[..]);
    assert_eq!(
        OutboundSa::new(&config.clone().with_pad_alignment(6)).map(|_| ()),
        Err(esp_core::ConfigError::PadAlignment(6))
    );
    let transport = SaConfig {
        mode: Mode::Transport,
        ..config
    };
    assert!(
        OutboundSa::new(&transport).is_err(),
        "TFC needs tunnel mode"
    );
}

#[test]
fn cbc_ivs_come_from_the_injected_rng_and_ctr_ivs_from_the_sequence() {
    let cbc = SaConfig::new(1, Mode::Tunnel, E::AesCbc, &keys(E::AesCbc))
        .with_integrity(I::HmacSha1_96, &[2; 20]);
    let p = ipv4_udp(10);
    let seal = |config: &SaConfig, seed: u64| {
        let mut tx = OutboundSa::new(config).unwrap();
        let mut rng: rand_chacha::ChaCha20Rng = rand_core::SeedableRng::seed_from_u64(seed);
        let mut out = [0u8; 200];
        let n = tx.encapsulate(&mut rng, &p, &mut out).unwrap().len();
        let second = tx.encapsulate(&mut rng, &p, &mut [0u8; 200]).unwrap()[8..16].to_vec();
        (out[..n].to_vec(), second)
    };
    assert_eq!(
        seal(&cbc, 1).0,
        seal(&cbc, 1).0,
        "reproducible with a seeded source"
    );
    assert_ne!(seal(&cbc, 1).0[8..24], seal(&cbc, 2).0[8..24]);
    let gcm = SaConfig::new(1, Mode::Tunnel, E::AesGcm16, &keys(E::AesGcm16));
    let (first, second) = seal(&gcm, 1);
    assert_eq!(first[8..16], 1u64.to_be_bytes());
    assert_eq!(second, 2u64.to_be_bytes());
}

#[test]
fn invalid_configurations_are_refused() {
    use esp_core::ConfigError as C;
    let gcm = SaConfig::new(1, Mode::Tunnel, E::AesGcm16, &[0; 20]);
    assert!(matches!(
        OutboundSa::new(&SaConfig::new(1, Mode::Tunnel, E::AesGcm16, &[0; 16])),
        Err(C::EncryptionKeyLength { .. })
    ));
    assert!(matches!(
        InboundSa::new(&gcm.clone().with_integrity(I::HmacSha1_96, &[0; 20])),
        Err(C::IntegrityWithAead(_))
    ));
    assert!(matches!(
        InboundSa::new(&SaConfig::new(1, Mode::Tunnel, E::Null, &[])),
        Err(C::NullWithoutIntegrity)
    ));
    assert!(matches!(
        InboundSa::new(
            &SaConfig::new(1, Mode::Tunnel, E::AesCbc, &[0; 16])
                .with_integrity(I::HmacSha256_128, &[0; 20])
        ),
        Err(C::IntegrityKeyLength { .. })
    ));
    assert!(matches!(
        InboundSa::new(&gcm.clone().with_replay_window(16)),
        Err(C::ReplayWindowSize(16))
    ));
    assert!(matches!(
        InboundSa::new(&gcm.clone().with_replay_window(4097)),
        Err(C::ReplayWindowSize(4097))
    ));
    assert!(matches!(
        InboundSa::new(&gcm.clone().with_replay_window(0).with_esn(true)),
        Err(C::EsnWithoutReplayWindow)
    ));
    assert!(InboundSa::new(&gcm.clone().with_replay_window(4096)).is_ok());
    assert!(InboundSa::new(&gcm.clone().with_replay_window(0)).is_ok());
    let debug = format!("{:?}", gcm.with_integrity(I::HmacSha1_96, &[0xab; 20]));
    assert!(
        debug.contains("encryption_key_len: 20") && !debug.contains("171"),
        "{debug}"
    );
}

#[test]
fn bare_esp_for_udp_sockets_round_trips() {
    // With UDP encapsulation configured, a socket user sends and receives
    // bare ESP; the kernel adds and strips the UDP header.
    let config = SaConfig::new(
        9,
        Mode::Tunnel,
        E::ChaCha20Poly1305,
        &keys(E::ChaCha20Poly1305),
    )
    .with_udp_encap(UdpEncap {
        src_port: 4500,
        dst_port: 4500,
    });
    let mut tx = OutboundSa::new(&config).unwrap();
    let mut rx = InboundSa::new(&config).unwrap();
    let p = ipv6_udp(50);
    let mut out = [0u8; 256];
    let n = tx
        .encapsulate_esp(&mut common::rng(), &p, &mut out)
        .unwrap()
        .len();
    assert_eq!(&out[..4], &9u32.to_be_bytes(), "starts at the SPI");
    assert_eq!(
        esp_core::wire::udp::classify(&out[..n]),
        esp_core::wire::udp::UdpEncapPayload::Esp(&out[..n])
    );
    let got = rx.decapsulate_esp(&mut out[..n]).unwrap();
    assert_eq!((got.next_header, got.data.to_vec()), (41, p.clone()));
    assert!(
        tx.encapsulate_esp(&mut common::rng(), &p[..30], &mut out)
            .is_err(),
        "truncated inner packet"
    );
}
