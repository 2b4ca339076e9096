//! Truncated, garbage, oversized, wrong-SPI, forged and bad-padding packets
//! are refused with typed errors, never a panic; unauthenticated ones never
//! move the window.

mod common;

use esp_core::crypto::{
    CryptoBackend, EncryptionAlgorithm as E, IntegrityAlgorithm as I, RustCryptoBackend,
};
use esp_core::{DecapError as D, InboundSa, Mode, SaConfig, UdpEncap};
use rand_core::RngCore;

const SPI: u32 = 0x0102_0304;
const MAC_KEY: [u8; 32] = [0x5a; 32];

/// NULL encryption + HMAC-SHA-256-128 so that packets with a valid ICV but
/// arbitrary contents can be built by hand.
fn null_config(mode: Mode) -> SaConfig {
    SaConfig::new(SPI, mode, E::Null, &[]).with_integrity(I::HmacSha256_128, &MAC_KEY)
}

/// SPI | seq | body, followed by a correct ICV.
fn signed(seq: u32, body: &[u8]) -> Vec<u8> {
    let mut p = SPI.to_be_bytes().to_vec();
    p.extend(seq.to_be_bytes());
    p.extend_from_slice(body);
    let mac = RustCryptoBackend
        .integrity(I::HmacSha256_128, &MAC_KEY)
        .unwrap();
    let mut icv = [0u8; 16];
    mac.compute(&[&p], &mut icv);
    p.extend(icv);
    p
}

fn ipv4(total: u16) -> Vec<u8> {
    let mut h = vec![
        0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];
    h[2..4].copy_from_slice(&total.to_be_bytes());
    h.resize(usize::from(total), 0xee);
    h
}

fn open(config: &SaConfig, packet: &[u8]) -> Result<(u8, Vec<u8>), D> {
    let mut rx = InboundSa::new(config).unwrap();
    let mut buf = packet.to_vec();
    let got = rx
        .decapsulate(&mut buf)
        .map(|d| (d.next_header, d.data.to_vec()));
    // Until the ICV verifies nothing may move the window; after it has,
    // RFC 4303 §3.4.3 marks the packet even if its contents are bad.
    if let Err(e) = got {
        let authenticated = matches!(
            e,
            D::BadPadding | D::PadLength(_) | D::UnexpectedNextHeader(_) | D::MalformedInner(_)
        );
        assert_eq!(
            rx.replay_window().highest(),
            u64::from(authenticated),
            "{e}"
        );
    }
    got
}

#[test]
fn hand_built_packets_are_judged_field_by_field() {
    let tunnel = null_config(Mode::Tunnel);
    let inner = ipv4(24);
    let good = |pad: &[u8], nh: u8| {
        let mut body = inner.clone();
        body.extend_from_slice(pad);
        body.extend([pad.len() as u8, nh]);
        body
    };
    // The reference packet is accepted.
    assert_eq!(
        open(&tunnel, &signed(1, &good(&[1, 2], 4))),
        Ok((4, inner.clone()))
    );

    let mut other_spi = signed(1, &good(&[1, 2], 4));
    other_spi[3] = 9;
    let mut flipped = signed(1, &good(&[1, 2], 4));
    flipped[20] ^= 1;
    let mut too_long_pad = good(&[1, 2], 4);
    let n = too_long_pad.len();
    too_long_pad[n - 2] = 200;
    let mut inner_lies = good(&[1, 2], 4);
    inner_lies[3] = 200; // inner total length 200 > payload

    let cases: Vec<(&str, Vec<u8>, D)> = vec![
        ("empty", vec![], D::Truncated("ESP header")),
        (
            "seven bytes",
            vec![1, 2, 3, 4, 0, 0, 0],
            D::Truncated("ESP header"),
        ),
        (
            "header only",
            signed(1, &[])[..8].to_vec(),
            D::Truncated("ESP payload"),
        ),
        ("no trailer", signed(1, &[4]), D::Truncated("ESP trailer")),
        (
            "wrong SPI",
            other_spi,
            D::WrongSpi {
                expected: SPI,
                got: 0x0102_0309,
            },
        ),
        ("sequence 0", signed(0, &good(&[1, 2], 4)), D::ZeroSequence),
        ("forged", flipped, D::IcvMismatch),
        ("bad padding", signed(1, &good(&[1, 3], 4)), D::BadPadding),
        (
            "pad length past start",
            signed(1, &too_long_pad),
            D::PadLength(200),
        ),
        (
            "tunnel carrying UDP",
            signed(1, &good(&[1, 2], 17)),
            D::UnexpectedNextHeader(17),
        ),
        (
            "inner longer than payload",
            signed(1, &inner_lies),
            D::MalformedInner("inner packet longer than payload"),
        ),
        (
            "IPv6 next header, IPv4 inside",
            signed(1, &good(&[1, 2], 41)),
            D::MalformedInner("IP version does not match next header"),
        ),
    ];
    for (name, packet, want) in cases {
        assert_eq!(open(&tunnel, &packet), Err(want), "{name}");
    }

    // A dummy packet (next header 59) is authenticated and reported empty.
    assert_eq!(
        open(&tunnel, &signed(1, &good(&[1, 2], 59))),
        Ok((59, vec![]))
    );

    // Transport mode: the outer packet must carry ESP.
    let transport = null_config(Mode::Transport);
    assert_eq!(
        open(&transport, &ipv4(40)),
        Err(D::MalformedOuter("protocol not found after the IP headers"))
    );
    let mut short = ipv4(40);
    short.truncate(30);
    assert_eq!(
        open(&transport, &short),
        Err(D::MalformedOuter("packet shorter than its header says"))
    );
}

#[test]
fn udp_encapsulated_non_esp_is_refused() {
    let config = null_config(Mode::Tunnel).with_udp_encap(UdpEncap {
        src_port: 4500,
        dst_port: 4500,
    });
    let udp = |payload: &[u8]| {
        let mut d = vec![0x11, 0x94, 0x11, 0x94, 0, 0, 0, 0];
        d[4..6].copy_from_slice(&((payload.len() + 8) as u16).to_be_bytes());
        d.extend_from_slice(payload);
        d
    };
    assert_eq!(open(&config, &udp(&[0xff])), Err(D::NotEsp), "keepalive");
    assert_eq!(
        open(&config, &udp(&[0u8; 40])),
        Err(D::NotEsp),
        "IKE behind the non-ESP marker"
    );
    assert_eq!(
        open(&config, &udp(&[1, 2, 3])),
        Err(D::Truncated("ESP header"))
    );
    let mut lying = udp(&signed(1, &[0, 0]));
    lying[5] = 255;
    assert_eq!(open(&config, &lying), Err(D::MalformedOuter("UDP length")));
    assert_eq!(
        open(&config, &[0x11, 0x94]),
        Err(D::Truncated("UDP header"))
    );
}

#[test]
fn garbage_and_oversized_input_never_panics() {
    let mut rng = common::rng();
    let key = [9u8; 36];
    let configs = [
        SaConfig::new(SPI, Mode::Tunnel, E::AesCbc, &key[..16]),
        SaConfig::new(SPI, Mode::Transport, E::AesCtr, &key[..20]),
        SaConfig::new(SPI, Mode::Tunnel, E::TripleDesCbc, &key[..24]).with_esn(true),
        SaConfig::new(SPI, Mode::Tunnel, E::AesGcm8, &key[..20]),
        SaConfig::new(SPI, Mode::Transport, E::AesGmac, &key[..36]),
        null_config(Mode::Transport).with_udp_encap(UdpEncap {
            src_port: 1,
            dst_port: 2,
        }),
    ];
    let mut accepted = 0;
    for config in &configs {
        let mut rx = InboundSa::new(config).unwrap();
        for i in 0..3000 {
            let len = (rng.next_u32() % 200) as usize;
            let mut buf = vec![0u8; len];
            rng.fill_bytes(&mut buf);
            if i % 2 == 0 && len >= 8 {
                // Half the packets carry the right SPI to get past the lookup.
                buf[..4].copy_from_slice(&SPI.to_be_bytes());
            }
            if i % 3 == 0 && len >= 24 {
                // An outer IPv4 header carrying ESP, for the transport SAs.
                buf[0] = 0x45;
                buf[2..4].copy_from_slice(&(len as u16).to_be_bytes());
                buf[6..8].fill(0);
                buf[9] = 50;
                buf[20..24].copy_from_slice(&SPI.to_be_bytes());
            }
            if let Ok(d) = rx.decapsulate(&mut buf) {
                assert!(d.data.len() <= len);
                accepted += 1;
            }
        }
        let mut huge = vec![0xa5u8; 70_000];
        huge[..4].copy_from_slice(&SPI.to_be_bytes());
        assert!(rx.decapsulate(&mut huge).is_err());
    }
    // Encryption-only CBC/CTR accept random bytes now and then (nothing
    // authenticates them); the authenticated SAs never do.
    assert!(accepted < 3000, "{accepted}");
}
