//! Protected Informational exchanges (RFC 2408 §4.8, RFC 2409 §5.7):
//! `HDR*, HASH(1), N/D` with HASH(1) = prf(SKEYID_a, M-ID | N/D).
//!
//! Only a message whose HASH(1) verifies under an established ISAKMP SA is
//! acted on; anything else is counted and ignored, so an attacker cannot
//! tear SAs down with forged notifies or deletes.

use super::proof::{HashVerified, verify_hash};
use super::{Decrypted, Phase1Session, chain_bytes};
use crate::crypto::informational::hash1;
use crate::wire::{
    Cookie, Delete, ExchangeType, Header, MessageId, Notification, NotifyType, Payload,
    PayloadBody, PayloadType, ProtocolId,
};

/// Seals an Informational carrying `rest` behind its HASH(1).
pub(crate) fn seal(
    session: &mut Phase1Session,
    cky_i: Cookie,
    cky_r: Cookie,
    mid: u32,
    rest: Vec<Payload>,
) -> Option<Vec<u8>> {
    let keys = &session.keys;
    let h = hash1(keys.prf(), &keys.keys().skeyid_a, mid, &chain_bytes(&rest));
    let mut all = vec![Payload::new(PayloadType::HASH, h.as_bytes().to_vec())];
    all.extend(rest);
    let header = Header::new(cky_i, cky_r, ExchangeType::INFORMATIONAL, MessageId(mid));
    let bytes = session.seal(header, &all);
    session.ivs.forget(mid);
    bytes
}

/// Verifies a decrypted Informational's HASH(1).
pub(crate) fn verify(
    session: &mut Phase1Session,
    mid: u32,
    msg: &Decrypted,
) -> Option<HashVerified> {
    let first = msg.payloads.first().filter(|p| p.ty == PayloadType::HASH)?;
    let keys = &session.keys;
    let proof = verify_hash(
        &hash1(keys.prf(), &keys.keys().skeyid_a, mid, msg.after_first()),
        &first.body,
    )?;
    session.ivs.forget(mid);
    Some(proof)
}

/// What an authenticated Informational asks of us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Request {
    /// Delete these ESP SAs (SPIs the peer chose: its inbound, our outbound).
    DeleteEsp(Vec<u32>),
    /// Delete the ISAKMP SA with these cookies.
    DeleteIsakmp(Cookie, Cookie),
    /// A notify, with the SPI it names when that is a 4-byte ESP/AH SPI
    /// (RFC 2408 §3.14: the SPI of the SA the notify is about).
    Notify {
        /// The message type.
        ty: NotifyType,
        /// The SPI field, if it holds one ESP/AH SPI.
        spi: Option<u32>,
    },
    /// DPD R-U-THERE with its sequence number (RFC 3706 §5): answer it.
    AreYouThere(u32),
    /// DPD R-U-THERE-ACK: the peer is alive.
    Alive(u32),
}

/// Reads the requests out of an Informational whose hash verified. The
/// proof argument is what makes an unverified message impossible to act on.
pub(crate) fn requests(msg: &Decrypted, _proof: HashVerified) -> Vec<Request> {
    let mut out = Vec::new();
    for p in msg.all(PayloadType::DELETE) {
        let Ok(d) = Delete::parse_body(&p.body) else {
            continue;
        };
        match d.protocol {
            ProtocolId::ESP | ProtocolId::AH => {
                let spis = d
                    .spis
                    .iter()
                    .filter_map(|s| <[u8; 4]>::try_from(s.as_slice()).ok())
                    .map(u32::from_be_bytes);
                out.push(Request::DeleteEsp(spis.collect()));
            }
            ProtocolId::ISAKMP => {
                for s in &d.spis {
                    if let Some((i, r)) = s.split_at_checked(8)
                        && let (Ok(i), Ok(r)) = (<[u8; 8]>::try_from(i), <[u8; 8]>::try_from(r))
                    {
                        out.push(Request::DeleteIsakmp(Cookie(i), Cookie(r)));
                    }
                }
            }
            _ => {}
        }
    }
    for p in msg.all(PayloadType::NOTIFICATION) {
        if let Ok(n) = Notification::parse_body(&p.body) {
            match (n.notify_type, n.dpd_sequence()) {
                (NotifyType::R_U_THERE, Some(seq)) => out.push(Request::AreYouThere(seq)),
                (NotifyType::R_U_THERE_ACK, Some(seq)) => out.push(Request::Alive(seq)),
                (NotifyType::R_U_THERE_ACK, None) => {}
                (ty, _) => out.push(Request::Notify {
                    ty,
                    spi: <[u8; 4]>::try_from(n.spi.as_slice())
                        .ok()
                        .map(u32::from_be_bytes),
                }),
            }
        }
    }
    out
}

/// A Delete for our inbound ESP or AH SPIs.
pub(crate) fn delete_ipsec(protocol: crate::config::IpsecProtocol, spis: &[u32]) -> Payload {
    let d = Delete::new(
        ProtocolId(protocol.protocol_id()),
        4,
        spis.iter().map(|s| s.to_be_bytes().to_vec()).collect(),
    );
    d.to_payload()
        .unwrap_or_else(|_| Payload::new(PayloadType::DELETE, Vec::new()))
}

/// A Delete for an ISAKMP SA (the SPI is the cookie pair, RFC 2408 §3.15).
pub(crate) fn delete_isakmp(cky_i: Cookie, cky_r: Cookie) -> Payload {
    let d = Delete::new(ProtocolId::ISAKMP, 16, vec![[cky_i.0, cky_r.0].concat()]);
    d.to_payload()
        .unwrap_or_else(|_| Payload::new(PayloadType::DELETE, Vec::new()))
}

/// R-U-THERE (`ack: false`) or R-U-THERE-ACK for `seq` (RFC 3706 §5).
pub(crate) fn dpd(ack: bool, cky_i: Cookie, cky_r: Cookie, seq: u32) -> Payload {
    Notification::dpd(ack, cky_i, cky_r, seq)
        .to_payload()
        .unwrap_or_else(|_| Payload::new(PayloadType::NOTIFICATION, Vec::new()))
}

/// CONNECTED for our inbound ESP SPI: the pair is installed, the
/// initiator may use it (RFC 2408 §4.6.1 with the commit bit of §3.1).
pub(crate) fn connected(spi: u32) -> Payload {
    Notification::new(
        NotifyType::CONNECTED,
        ProtocolId::ESP,
        spi.to_be_bytes().to_vec(),
        Vec::new(),
    )
    .to_payload()
    .unwrap_or_else(|_| Payload::new(PayloadType::NOTIFICATION, Vec::new()))
}

/// An error notify (e.g. NO-PROPOSAL-CHOSEN) about the ESP negotiation
/// that offered `spi`, so the peer can tell which of its Quick Modes failed
/// (RFC 2408 §3.14.1: the SPI field names the SA concerned).
pub(crate) fn notify(ty: NotifyType, spi: Option<u32>) -> Payload {
    let spi = spi.map_or_else(Vec::new, |s| s.to_be_bytes().to_vec());
    Notification::new(ty, ProtocolId::ESP, spi, Vec::new())
        .to_payload()
        .unwrap_or_else(|_| Payload::new(PayloadType::NOTIFICATION, Vec::new()))
}
