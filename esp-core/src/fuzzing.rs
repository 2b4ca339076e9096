//! Entry points shared by the fuzz targets and the tests that replay their
//! corpora, so both exercise exactly the same code.

use crate::crypto::{EncryptionAlgorithm as E, IntegrityAlgorithm as I};
use crate::sa::{Mode, SaConfig, UdpEncap};
use crate::{InboundSa, OutboundSa};

/// A fixed SA configuration chosen by the first input byte. The
/// encryption-only ones let random bytes reach decryption, the trailer
/// checks and the inner-packet parsing; the others stop at the ICV.
fn config(selector: u8) -> SaConfig {
    let key = [0x42u8; 36];
    let auth = [0x24u8; 64];
    let spi = 0x0000_1000;
    let base = match selector % 12 {
        0 => SaConfig::new(spi, Mode::Tunnel, E::AesCbc, &key[..16]),
        1 => SaConfig::new(spi, Mode::Transport, E::AesCbc, &key[..32]),
        2 => SaConfig::new(spi, Mode::Tunnel, E::AesCtr, &key[..20]),
        3 => SaConfig::new(spi, Mode::Transport, E::TripleDesCbc, &key[..24]),
        4 => SaConfig::new(spi, Mode::Tunnel, E::AesGcm16, &key[..20]),
        5 => SaConfig::new(spi, Mode::Transport, E::AesGcm8, &key[..36]),
        6 => SaConfig::new(spi, Mode::Tunnel, E::ChaCha20Poly1305, &key[..36]),
        7 => SaConfig::new(spi, Mode::Tunnel, E::AesGmac, &key[..20]),
        8 => SaConfig::new(spi, Mode::Tunnel, E::AesCbc, &key[..16])
            .with_integrity(I::HmacSha1_96, &auth[..20]),
        9 => SaConfig::new(spi, Mode::Transport, E::Null, &[])
            .with_integrity(I::HmacSha256_128, &auth[..32]),
        10 => SaConfig::new(spi, Mode::Tunnel, E::AesCtr, &key[..36]).with_tfc_padding(64),
        _ => SaConfig::new(spi, Mode::Transport, E::AesCtr, &key[..28]),
    };
    let mut config = base.with_esn(selector & 0x10 != 0);
    if selector & 0x20 != 0 {
        config = config.with_udp_encap(UdpEncap {
            src_port: 4500,
            dst_port: 4500,
        });
    }
    config
}

/// Fuzz entry point for decapsulation. The first byte picks an SA
/// configuration and a test; the rest is the packet.
///
/// - Bit 7 clear: the rest is decapsulated as received. It must never
///   panic, and anything accepted must fit inside the input.
/// - Bit 7 set: the rest is a payload that is encapsulated and then
///   decapsulated by the peer SA, which must give it back unchanged.
pub fn esp_decap(data: &[u8]) {
    let Some((&selector, packet)) = data.split_first() else {
        return;
    };
    let config = config(selector);
    let Ok(mut rx) = InboundSa::new(&config) else {
        return;
    };
    if selector & 0x80 == 0 {
        let mut buf = [0u8; 2048];
        let Some(slot) = buf.get_mut(..packet.len()) else {
            return;
        };
        slot.copy_from_slice(packet);
        if selector & 0x40 != 0 {
            rx.resume_after(u64::from(u32::MAX) - 8);
        }
        if let Ok(got) = rx.decapsulate(slot) {
            assert!(got.data.len() <= packet.len());
        }
        return;
    }
    let Ok(mut tx) = OutboundSa::new(&config) else {
        return;
    };
    let mut out = [0u8; 4096];
    // Random bytes are not an IP packet; wrap them as the upper layer of
    // (or as) a minimal IPv4 packet so the round trip is meaningful.
    let mut inner = [0u8; 2048];
    let len = packet.len().min(inner.len() - 20);
    let total = 20 + len;
    if let Some(h) = inner.get_mut(..20) {
        h.copy_from_slice(&[
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0,
            0,
            0,
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
        ]);
    }
    if let (Some(dst), Some(src)) = (inner.get_mut(20..total), packet.get(..len)) {
        dst.copy_from_slice(src);
    }
    let Some(inner) = inner.get(..total) else {
        return;
    };
    let iv = [7u8; 16];
    let iv = iv.get(..config.encryption.iv_len()).unwrap_or_default();
    let sealed = match tx.encapsulate_with_iv(iv, inner, &mut out) {
        Ok(s) => s,
        Err(e) => panic!("encapsulation of a valid packet failed: {e}"),
    };
    let got = rx
        .decapsulate(sealed)
        .unwrap_or_else(|e| panic!("round trip failed: {e}"));
    if config.mode == Mode::Tunnel {
        assert_eq!(got.data, inner);
    } else {
        // Transport mode rewrites the checksum; compare all but that.
        assert_eq!(got.data.len(), inner.len());
        assert_eq!(got.data.get(20..), inner.get(20..));
    }
}
