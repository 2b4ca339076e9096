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

/// An AH transform for `alg`: the transform ID names the algorithm and the
/// Authentication Algorithm attribute repeats it (RFC 2407 §4.4.3, §4.5).
fn ah_transform(
    number: u8,
    alg: crate::config::IntegrityAlgorithm,
    encapsulation: u16,
    group: Option<u16>,
    lifetime: &Lifetime,
) -> Transform {
    let t = crate::config::EspTransform {
        cipher: crate::config::EspCipher::Null,
        key_bits: None,
        integrity: Some(alg),
    };
    Transform::ipsec(
        number,
        TransformId(crate::policy::ah_transform_id(alg)),
        &phase2_attributes(&t, encapsulation, group, lifetime),
    )
}

/// An IPCOMP_DEFLATE proposal with our CPI, bundled under `number`
/// (RFC 2393 §4.1: a 2-byte CPI in the SPI field).
fn ipcomp_proposal(
    number: u8,
    transform: u8,
    cpi: u16,
    encapsulation: u16,
    group: Option<u16>,
    lifetime: &Lifetime,
) -> Proposal {
    let attrs = Phase2Attributes {
        lifetimes: wire_lifetimes(lifetime),
        group: group.map(GroupDescription),
        encapsulation: Some(WireMode(encapsulation)),
        ..Phase2Attributes::default()
    };
    let t = Transform::ipsec(
        transform,
        TransformId(crate::policy::IPCOMP_DEFLATE),
        &attrs,
    );
    Proposal::new(
        number,
        ProtocolId::IPCOMP,
        cpi.to_be_bytes().to_vec(),
        vec![t],
    )
}

/// QM1: an ESP proposal carrying every configured transform, then (with
/// `accept_ah`) an AH alternative, each bundled with IPCOMP when
/// `ipcomp` is set and `cpi` given. ESP and AH share `spi`: only one of
/// them is chosen, and their SPI spaces are separate.
pub(crate) fn phase2_sa(
    policy: &ChildPolicy,
    spi: u32,
    cpi: Option<u16>,
    carriage: Carriage,
) -> Payload {
    let group = policy.pfs_group.map(crate::crypto::DhGroup::id);
    let encapsulation = encapsulation_value(policy.mode, carriage);
    let mut proposals = Vec::new();
    let mut number = 1u8;
    let bundle = |main: Proposal, proposals: &mut Vec<Proposal>, number: &mut u8| {
        proposals.push(main);
        if let Some(cpi) = cpi.filter(|_| policy.ipcomp) {
            proposals.push(ipcomp_proposal(
                *number,
                1,
                cpi,
                encapsulation,
                group,
                &policy.lifetime,
            ));
        }
        *number = number.saturating_add(1);
    };
    if !policy.esp.is_empty() {
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
        let esp = Proposal::new(
            number,
            ProtocolId::ESP,
            spi.to_be_bytes().to_vec(),
            transforms,
        );
        bundle(esp, &mut proposals, &mut number);
    }
    let ah = policy.ah_algorithms();
    if !ah.is_empty() {
        let transforms = ah
            .iter()
            .zip(1u8..)
            .map(|(a, n)| ah_transform(n, *a, encapsulation, group, &policy.lifetime))
            .collect();
        let p = Proposal::new(
            number,
            ProtocolId::AH,
            spi.to_be_bytes().to_vec(),
            transforms,
        );
        bundle(p, &mut proposals, &mut number);
    }
    payload_of(&SecurityAssociation::ipsec(proposals))
}

/// QM2: the chosen transform with our SPI, and the chosen IPCOMP transform
/// with our CPI under the same proposal number.
pub(crate) fn phase2_reply(
    choice: &Phase2Choice,
    policy: &ChildPolicy,
    spi: u32,
    cpi: Option<u16>,
) -> Payload {
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
    let protocol = ProtocolId(choice.protocol.protocol_id());
    let mut proposals = vec![Proposal::new(
        choice.offer.proposal,
        protocol,
        spi.to_be_bytes().to_vec(),
        vec![t],
    )];
    if let (Some(ipcomp), Some(cpi)) = (choice.ipcomp, cpi) {
        let mode = ipcomp.mode.unwrap_or(encapsulation);
        proposals.push(ipcomp_proposal(
            ipcomp.proposal,
            ipcomp.transform,
            cpi,
            mode,
            group,
            &ipcomp.lifetime,
        ));
    }
    payload_of(&SecurityAssociation::ipsec(proposals))
}

/// The Phase 2 transforms of an SA payload body, in the peer's order.
pub(crate) fn parse_phase2_offers(body: &[u8]) -> Option<Vec<Phase2Offer>> {
    let sa = SecurityAssociation::parse_body(body).ok()?;
    let mut out = Vec::new();
    for p in &sa.proposals {
        // 4 bytes for AH/ESP; IPCOMP's CPI in 2 bytes, or in the low 2 of 4
        // (RFC 2393 §4.1).
        let spi = match p.spi.as_slice() {
            [a, b] => u32::from(u16::from_be_bytes([*a, *b])),
            s => <[u8; 4]>::try_from(s).map(u32::from_be_bytes).unwrap_or(0),
        };
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
pub(crate) fn responder_lifetime(
    protocol: crate::config::IpsecProtocol,
    spi: u32,
    lifetime: &Lifetime,
) -> Payload {
    let attrs = Phase2Attributes {
        lifetimes: wire_lifetimes(lifetime),
        ..Phase2Attributes::default()
    };
    let mut data = Vec::new();
    let _ = emit_attributes(&attrs.to_attributes(), &mut data);
    Notification::new(
        NotifyType::RESPONDER_LIFETIME,
        ProtocolId(protocol.protocol_id()),
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
            ah: Vec::new(),
            ipcomp: false,
        };
        let offers =
            parse_phase2_offers(&phase2_sa(&policy, 0xc0ffee01, None, Carriage::Udp).body).unwrap();
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
        let reply = parse_phase2_offers(&phase2_reply(&c, &policy, 7, None).body).unwrap();
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
            ah: Vec::new(),
            ipcomp: false,
        };
        let offers =
            parse_phase2_offers(&phase2_sa(&policy, 0x1000, None, Carriage::UdpDraft).body)
                .unwrap();
        assert_eq!(offers[0].mode, Some(61443));
        let c = select_phase2(&offers, &policy, ProposalCheck::Strict).unwrap();
        assert_eq!(c.mode, (EncapsulationMode::Tunnel, true));
        // The responder echoes the draft value.
        let reply = parse_phase2_offers(&phase2_reply(&c, &policy, 9, None).body).unwrap();
        assert_eq!(reply[0].mode, Some(61443));
        policy.mode = EncapsulationMode::Transport;
        let plain =
            parse_phase2_offers(&phase2_sa(&policy, 0x1000, None, Carriage::Plain).body).unwrap();
        assert_eq!(plain[0].mode, Some(2));
    }

    #[test]
    fn esp_and_ah_alternatives_each_bundle_ipcomp_with_a_two_byte_cpi() {
        let policy = ChildPolicy {
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
            accept_ah: true,
            ah: vec![IntegrityAlgorithm::HmacSha256],
            ipcomp: true,
        };
        let payload = phase2_sa(&policy, 0x0102_0304, Some(0x1234), Carriage::Plain);
        let sa = SecurityAssociation::parse_body(&payload.body).unwrap();
        let shape: Vec<(u8, ProtocolId, Vec<u8>, u8)> = sa
            .proposals
            .iter()
            .map(|p| (p.number, p.protocol, p.spi.clone(), p.transforms[0].id.0))
            .collect();
        assert_eq!(
            shape,
            [
                (1, ProtocolId::ESP, vec![1, 2, 3, 4], 12),
                (1, ProtocolId::IPCOMP, vec![0x12, 0x34], 2),
                (2, ProtocolId::AH, vec![1, 2, 3, 4], 5),
                (2, ProtocolId::IPCOMP, vec![0x12, 0x34], 2),
            ]
        );
        // RFC 2407 §4.5: AH carries its Authentication Algorithm attribute.
        let ah = sa.proposals[2].transforms[0].phase2_attributes();
        assert_eq!(ah.auth_algorithm, Some(AuthAlgorithm(5)));
        let offers = parse_phase2_offers(&payload.body).unwrap();
        assert_eq!(offers[1].spi, 0x1234, "the CPI");
        let c = select_phase2(&offers, &policy, ProposalCheck::Strict).unwrap();
        assert_eq!(c.protocol, crate::config::IpsecProtocol::Esp);
        assert_eq!(c.ipcomp.map(|o| o.spi), Some(0x1234));
        let reply = parse_phase2_offers(&phase2_reply(&c, &policy, 7, Some(0x2345)).body).unwrap();
        assert_eq!(
            reply
                .iter()
                .map(|o| (o.proposal, o.protocol, o.spi))
                .collect::<Vec<_>>(),
            [(1, 3, 7), (1, 4, 0x2345)]
        );
    }

    #[test]
    fn responder_lifetime_names_the_chosen_protocol_and_spi() {
        use crate::config::IpsecProtocol;
        let l = Lifetime::seconds(600);
        let p = responder_lifetime(IpsecProtocol::Ah, 0x0a0b_0c0d, &l);
        let n = Notification::parse_body(&p.body).unwrap();
        assert_eq!(n.protocol, ProtocolId::AH);
        assert_eq!(n.spi, [0x0a, 0x0b, 0x0c, 0x0d]);
        assert_eq!(parse_responder_lifetime(&p.body), Some(l));
    }
}
