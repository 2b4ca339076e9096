//! SA payloads from configuration, offers from SA payloads, and the
//! notifications the exchanges send.

#![allow(
    dead_code,
    reason = "the Quick Mode builders are used once Quick Mode lands"
)]

use crate::config::{ChildPolicy, Lifetime, Phase1Proposal};
use crate::policy::{Phase1Offer, Phase2Choice, Phase2Offer};
use crate::wire::{
    AuthAlgorithm, AuthMethod, Cookie, EncapsulationMode as WireMode, EncryptionAlgorithm,
    GroupDescription, HashAlgorithm as WireHash, LifeType, Lifetime as WireLifetime, Notification,
    NotifyType, Payload, PayloadBody, PayloadType, Phase1Attributes, Phase2Attributes, Proposal,
    ProtocolId, SecurityAssociation, Transform, TransformId, emit_attributes,
};

fn wire_lifetimes(l: &Lifetime) -> Vec<WireLifetime> {
    let mut v = vec![WireLifetime {
        ty: LifeType::SECONDS,
        duration: u64::from(l.effective_seconds()),
    }];
    if let Some(kb) = l.kilobytes {
        v.push(WireLifetime {
            ty: LifeType::KILOBYTES,
            duration: u64::from(kb),
        });
    }
    v
}

fn lifetime_of(ls: &[WireLifetime]) -> Lifetime {
    let get = |ty| {
        ls.iter()
            .find(|l| l.ty == ty)
            .map(|l| u32::try_from(l.duration).unwrap_or(u32::MAX))
    };
    Lifetime {
        seconds: get(LifeType::SECONDS),
        kilobytes: get(LifeType::KILOBYTES),
    }
}

fn phase1_attributes(p: &Phase1Proposal) -> Phase1Attributes {
    let variable_key = p.cipher.algorithm() == crate::crypto::CipherAlgorithm::Aes
        || p.cipher.algorithm() == crate::crypto::CipherAlgorithm::Camellia
        || p.cipher.algorithm() == crate::crypto::CipherAlgorithm::Blowfish
        || p.cipher.algorithm() == crate::crypto::CipherAlgorithm::Cast128;
    Phase1Attributes {
        encryption: Some(EncryptionAlgorithm(p.cipher.algorithm().ike_id())),
        key_length: variable_key.then(|| u16::try_from(p.cipher.key_len() * 8).unwrap_or(0)),
        hash: Some(WireHash(p.hash.ike_id())),
        auth_method: Some(AuthMethod(p.auth.ike_id())),
        group: Some(GroupDescription(p.group.id())),
        lifetimes: wire_lifetimes(&p.lifetime),
        ..Phase1Attributes::default()
    }
}

fn payload_of(sa: &SecurityAssociation) -> Payload {
    // Our own SA payloads are far below the 64 KiB limit.
    sa.to_payload()
        .unwrap_or_else(|_| Payload::new(PayloadType::SA, Vec::new()))
}

/// MM1/AM1: one ISAKMP proposal with one transform per configured proposal.
pub(crate) fn phase1_sa(proposals: &[Phase1Proposal]) -> Payload {
    let transforms = proposals
        .iter()
        .zip(1u8..)
        .map(|(p, n)| Transform::ike(n, &phase1_attributes(p)))
        .collect();
    payload_of(&SecurityAssociation::ipsec(vec![Proposal::new(
        1,
        ProtocolId::ISAKMP,
        Vec::new(),
        transforms,
    )]))
}

/// MM2/AM2: the chosen transform, with its original numbers.
pub(crate) fn phase1_reply(offer: &Phase1Offer, chosen: &Phase1Proposal) -> Payload {
    let t = Transform::ike(offer.transform, &phase1_attributes(chosen));
    payload_of(&SecurityAssociation::ipsec(vec![Proposal::new(
        offer.proposal,
        ProtocolId::ISAKMP,
        Vec::new(),
        vec![t],
    )]))
}

/// The Phase 1 transforms of an SA payload body, in the peer's order.
pub(crate) fn parse_phase1_offers(body: &[u8]) -> Option<Vec<Phase1Offer>> {
    let sa = SecurityAssociation::parse_body(body).ok()?;
    let mut out = Vec::new();
    for p in sa
        .proposals
        .iter()
        .filter(|p| p.protocol == ProtocolId::ISAKMP)
    {
        for t in &p.transforms {
            let a = t.phase1_attributes();
            out.push(Phase1Offer {
                proposal: p.number,
                transform: t.number,
                encryption: a.encryption.map(|e| e.0),
                hash: a.hash.map(|h| h.0),
                auth: a.auth_method.map(|m| m.0),
                group: a.group.map(|g| g.0),
                key_bits: a.key_length,
                lifetime: lifetime_of(&a.lifetimes),
            });
        }
    }
    (!out.is_empty()).then_some(out)
}

/// How ESP is carried: directly, or in UDP with the RFC 3947 or the
/// draft-02/03 Encapsulation Mode values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Carriage {
    /// ESP over IP.
    Plain,
    /// UDP-encapsulated, RFC 3947 values 3/4.
    Udp,
    /// UDP-encapsulated, draft values 61443/61444.
    UdpDraft,
}

fn encapsulation_value(mode: crate::config::EncapsulationMode, carriage: Carriage) -> u16 {
    match carriage {
        Carriage::Plain => mode.ike_id(false),
        Carriage::Udp => mode.ike_id(true),
        Carriage::UdpDraft => mode.draft_ike_id(),
    }
}

fn phase2_attributes(
    t: &crate::config::EspTransform,
    encapsulation: u16,
    group: Option<u16>,
    lifetime: &Lifetime,
) -> Phase2Attributes {
    Phase2Attributes {
        lifetimes: wire_lifetimes(lifetime),
        group: group.map(GroupDescription),
        encapsulation: Some(WireMode(encapsulation)),
        auth_algorithm: t.integrity.map(|i| AuthAlgorithm(i.ike_id())),
        key_length: if t.cipher.has_key_length() {
            t.key_bits
        } else {
            None
        },
        ..Phase2Attributes::default()
    }
}

/// QM1: one ESP proposal carrying every configured transform.
pub(crate) fn phase2_sa(policy: &ChildPolicy, spi: u32, carriage: Carriage) -> Payload {
    let group = policy.pfs_group.map(crate::crypto::DhGroup::id);
    let encapsulation = encapsulation_value(policy.mode, carriage);
    let transforms = policy
        .esp
        .iter()
        .zip(1u8..)
        .map(|(t, n)| {
            Transform::ipsec(
                n,
                TransformId(t.cipher.transform_id()),
                &phase2_attributes(t, encapsulation, group, &policy.lifetime),
            )
        })
        .collect();
    let prop = Proposal::new(1, ProtocolId::ESP, spi.to_be_bytes().to_vec(), transforms);
    payload_of(&SecurityAssociation::ipsec(vec![prop]))
}

/// QM2: the chosen transform with our SPI.
pub(crate) fn phase2_reply(choice: &Phase2Choice, policy: &ChildPolicy, spi: u32) -> Payload {
    let group = choice.pfs_group.map(crate::crypto::DhGroup::id);
    // The responder echoes the offer's lifetime; a shorter one of ours goes
    // in RESPONDER-LIFETIME (RFC 2407 §4.6.3.1).
    // Echo the peer's Encapsulation Mode value, so a draft peer gets its
    // draft value back.
    let carriage = if choice.mode.1 {
        Carriage::Udp
    } else {
        Carriage::Plain
    };
    let encapsulation = choice
        .offer
        .mode
        .unwrap_or_else(|| encapsulation_value(policy.mode, carriage));
    let attrs = phase2_attributes(
        &choice.transform,
        encapsulation,
        group,
        &choice.offer.lifetime,
    );
    let t = Transform::ipsec(
        choice.offer.transform,
        TransformId(choice.offer.transform_id),
        &attrs,
    );
    let prop = Proposal::new(
        choice.offer.proposal,
        ProtocolId::ESP,
        spi.to_be_bytes().to_vec(),
        vec![t],
    );
    payload_of(&SecurityAssociation::ipsec(vec![prop]))
}

/// The Phase 2 transforms of an SA payload body, in the peer's order.
pub(crate) fn parse_phase2_offers(body: &[u8]) -> Option<Vec<Phase2Offer>> {
    let sa = SecurityAssociation::parse_body(body).ok()?;
    let mut out = Vec::new();
    for p in &sa.proposals {
        let spi = <[u8; 4]>::try_from(p.spi.as_slice())
            .map(u32::from_be_bytes)
            .unwrap_or(0);
        for t in &p.transforms {
            let a = t.phase2_attributes();
            out.push(Phase2Offer {
                proposal: p.number,
                transform: t.number,
                protocol: p.protocol.0,
                spi,
                transform_id: t.id.0,
                mode: a.encapsulation.map(|m| m.0),
                integrity: a.auth_algorithm.map(|i| i.0),
                key_bits: a.key_length,
                group: a.group.map(|g| g.0),
                lifetime: lifetime_of(&a.lifetimes),
            });
        }
    }
    (!out.is_empty()).then_some(out)
}

/// INITIAL-CONTACT for the ISAKMP SA named by its cookies (RFC 2407 §4.6.3.3).
pub(crate) fn initial_contact(cky_i: &Cookie, cky_r: &Cookie) -> Payload {
    Notification::initial_contact(*cky_i, *cky_r)
        .to_payload()
        .unwrap_or_else(|_| Payload::new(PayloadType::NOTIFICATION, Vec::new()))
}

/// RESPONDER-LIFETIME for our SPI (RFC 2407 §4.6.3.1): the lifetime we hold
/// the initiator to, as SA attributes.
pub(crate) fn responder_lifetime(spi: u32, lifetime: &Lifetime) -> Payload {
    let attrs = Phase2Attributes {
        lifetimes: wire_lifetimes(lifetime),
        ..Phase2Attributes::default()
    };
    let mut data = Vec::new();
    let _ = emit_attributes(&attrs.to_attributes(), &mut data);
    Notification::new(
        NotifyType::RESPONDER_LIFETIME,
        ProtocolId::ESP,
        spi.to_be_bytes().to_vec(),
        data,
    )
    .to_payload()
    .unwrap_or_else(|_| Payload::new(PayloadType::NOTIFICATION, Vec::new()))
}

/// The lifetime in a RESPONDER-LIFETIME notification, if `body` is one.
pub(crate) fn parse_responder_lifetime(body: &[u8]) -> Option<Lifetime> {
    let n = Notification::parse_body(body).ok()?;
    let attrs = n.responder_lifetime()?.ok()?;
    Some(lifetime_of(
        &Phase2Attributes::from_attributes(&attrs).lifetimes,
    ))
}

/// Whether `body` is an INITIAL-CONTACT notification.
pub(crate) fn is_initial_contact(body: &[u8]) -> bool {
    Notification::parse_body(body).is_ok_and(|n| n.notify_type == NotifyType::INITIAL_CONTACT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{
        AuthMethod, EncapsulationMode, EspCipher, EspTransform, IntegrityAlgorithm,
    };
    use crate::crypto::{CipherAlgorithm, DhGroup, HashAlgorithm, Phase1Cipher};
    use crate::policy::{ProposalCheck, select_phase1, select_phase2};

    #[test]
    fn phase1_sa_round_trips_through_the_codec_and_selection() {
        let p = Phase1Proposal {
            cipher: Phase1Cipher::new(CipherAlgorithm::Aes, Some(256)).unwrap(),
            hash: HashAlgorithm::Sha1,
            auth: AuthMethod::PreSharedKey,
            group: DhGroup::Modp1536,
            lifetime: Lifetime::seconds(86_400),
        };
        let offers = parse_phase1_offers(&phase1_sa(&[p]).body).unwrap();
        assert_eq!(offers.len(), 1);
        assert_eq!(offers[0].key_bits, Some(256));
        assert_eq!(offers[0].lifetime, Lifetime::seconds(86_400));
        let c = select_phase1(&offers, &[p], ProposalCheck::Exact).unwrap();
        assert_eq!(c.proposal, p);
    }

    #[test]
    fn phase2_sa_round_trips_with_spi_mode_and_pfs() {
        let policy = ChildPolicy {
            local: None,
            remote: None,
            mode: EncapsulationMode::Transport,
            esp: vec![
                EspTransform {
                    cipher: EspCipher::AesGcm16,
                    key_bits: Some(128),
                    integrity: None,
                },
                EspTransform {
                    cipher: EspCipher::AesCbc,
                    key_bits: Some(256),
                    integrity: Some(IntegrityAlgorithm::HmacSha256),
                },
            ],
            pfs_group: Some(DhGroup::Modp2048),
            lifetime: Lifetime {
                seconds: Some(3600),
                kilobytes: Some(4608),
            },
            accept_ah: false,
        };
        let offers =
            parse_phase2_offers(&phase2_sa(&policy, 0xc0ffee01, Carriage::Udp).body).unwrap();
        assert_eq!(offers.len(), 2);
        assert!(
            offers
                .iter()
                .all(|o| o.spi == 0xc0ffee01 && o.protocol == 3 && o.group == Some(14))
        );
        assert_eq!(
            offers[0].mode,
            Some(4),
            "UDP-encapsulated transport (RFC 3947)"
        );
        let c = select_phase2(&offers, &policy, ProposalCheck::Exact).unwrap();
        assert_eq!(c.transform, policy.esp[0]);
        assert_eq!(c.mode, (EncapsulationMode::Transport, true));
        let reply = parse_phase2_offers(&phase2_reply(&c, &policy, 7).body).unwrap();
        assert_eq!(reply.len(), 1);
        assert_eq!(
            (reply[0].spi, reply[0].transform_id, reply[0].key_bits),
            (7, 20, Some(128))
        );
    }

    #[test]
    fn draft_nat_t_peers_get_draft_encapsulation_values() {
        let mut policy = ChildPolicy {
            local: None,
            remote: None,
            mode: EncapsulationMode::Tunnel,
            esp: vec![EspTransform {
                cipher: EspCipher::AesCbc,
                key_bits: Some(128),
                integrity: Some(IntegrityAlgorithm::HmacSha1),
            }],
            pfs_group: None,
            lifetime: Lifetime::seconds(3600),
            accept_ah: false,
        };
        let offers =
            parse_phase2_offers(&phase2_sa(&policy, 0x1000, Carriage::UdpDraft).body).unwrap();
        assert_eq!(offers[0].mode, Some(61443));
        let c = select_phase2(&offers, &policy, ProposalCheck::Strict).unwrap();
        assert_eq!(c.mode, (EncapsulationMode::Tunnel, true));
        // The responder echoes the draft value.
        let reply = parse_phase2_offers(&phase2_reply(&c, &policy, 9).body).unwrap();
        assert_eq!(reply[0].mode, Some(61443));
        policy.mode = EncapsulationMode::Transport;
        let plain = parse_phase2_offers(&phase2_sa(&policy, 0x1000, Carriage::Plain).body).unwrap();
        assert_eq!(plain[0].mode, Some(2));
    }
}
