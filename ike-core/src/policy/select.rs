//! Choosing one transform from a peer's offer.
//!
//! Offers are the attribute values as received (numbers, so an unknown
//! algorithm still shows in the failure message). Our proposals are tried in
//! the peer's order (RFC 2408 §4.2: the initiator lists in preference order),
//! and when nothing fits, the failure names the attribute of the closest
//! candidate that differed.

use super::{Attribute, Mismatch, ProposalCheck};
use crate::config::{
    AuthMethod, ChildPolicy, EncapsulationMode, EspCipher, EspTransform, IntegrityAlgorithm,
    IpsecProtocol, Lifetime, Phase1Proposal,
};
use crate::crypto::{CipherAlgorithm, DhGroup, HashAlgorithm, Phase1Cipher};

/// One Phase 1 transform as offered (RFC 2409 Appendix A attribute values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Phase1Offer {
    /// Proposal number.
    pub proposal: u8,
    /// Transform number.
    pub transform: u8,
    /// Encryption algorithm (class 1).
    pub encryption: Option<u16>,
    /// Hash algorithm (class 2).
    pub hash: Option<u16>,
    /// Authentication method (class 3).
    pub auth: Option<u16>,
    /// Group description (class 4).
    pub group: Option<u16>,
    /// Key length in bits (class 14).
    pub key_bits: Option<u16>,
    /// Lifetime.
    pub lifetime: Lifetime,
}

/// One Phase 2 transform (AH, ESP or IPCOMP) as offered (RFC 2407 §4.5
/// attribute values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Phase2Offer {
    /// Proposal number.
    pub proposal: u8,
    /// Transform number.
    pub transform: u8,
    /// Protocol ID (2 AH, 3 ESP, 4 IPComp).
    pub protocol: u8,
    /// The peer's SPI for this proposal (for IPCOMP, the CPI in the low 16 bits).
    pub spi: u32,
    /// Transform ID.
    pub transform_id: u8,
    /// Encapsulation mode (class 4).
    pub mode: Option<u16>,
    /// Authentication algorithm (class 5).
    pub integrity: Option<u16>,
    /// Key length (class 6).
    pub key_bits: Option<u16>,
    /// Group description (class 3): the PFS group.
    pub group: Option<u16>,
    /// Lifetime.
    pub lifetime: Lifetime,
}

/// What a Phase 1 responder settled on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phase1Choice {
    /// The offer accepted (its numbers go back in our SA payload).
    pub offer: Phase1Offer,
    /// The negotiated transform, lifetime as decided.
    pub proposal: Phase1Proposal,
}

/// What a Phase 2 responder settled on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phase2Choice {
    /// The offer accepted (the ESP or AH transform).
    pub offer: Phase2Offer,
    /// ESP or AH.
    pub protocol: IpsecProtocol,
    /// The transform. For AH the cipher is [`EspCipher::Null`] and
    /// `integrity` is AH's authentication algorithm.
    pub transform: EspTransform,
    /// The IPCOMP (DEFLATE) transform bundled with it, if accepted.
    pub ipcomp: Option<Phase2Offer>,
    /// Mode and whether it is UDP-encapsulated.
    pub mode: (EncapsulationMode, bool),
    /// PFS group.
    pub pfs_group: Option<DhGroup>,
    /// Lifetime as decided.
    pub lifetime: Lifetime,
    /// Whether to send RESPONDER-LIFETIME.
    pub notify_lifetime: bool,
}

fn show_group(g: Option<u16>) -> String {
    g.map_or_else(|| "none".to_owned(), |g| format!("group {g}"))
}

fn mismatch(attribute: Attribute, offered: String, required: String) -> Mismatch {
    Mismatch {
        attribute,
        offered,
        required,
        check: None,
    }
}

/// Checks one Phase 1 offer against one of our proposals.
fn phase1_against(
    offer: &Phase1Offer,
    ours: &Phase1Proposal,
    check: ProposalCheck,
) -> Result<Phase1Proposal, Mismatch> {
    let our_alg = ours.cipher.algorithm();
    let enc = offer.encryption.and_then(CipherAlgorithm::from_ike_id);
    if enc != Some(our_alg) {
        let offered = enc.map_or_else(
            || format!("{:?}", offer.encryption),
            |e| e.name().to_owned(),
        );
        return Err(mismatch(
            Attribute::EncryptionAlgorithm,
            offered,
            our_alg.name().to_owned(),
        ));
    }
    let our_bits = u16::try_from(ours.cipher.key_len() * 8).ok();
    // A fixed-length cipher has no Key Length attribute; compare the implied length.
    let offered_bits = offer.key_bits.or_else(|| {
        Phase1Cipher::new(our_alg, None)
            .ok()
            .and_then(|c| u16::try_from(c.key_len() * 8).ok())
    });
    let bits = check.key_length(our_bits, offered_bits)?;
    let cipher = Phase1Cipher::new(our_alg, bits).map_err(|_| {
        mismatch(
            Attribute::KeyLength,
            format!("{bits:?} bits"),
            format!("{our_bits:?} bits"),
        )
    })?;
    let hash = offer.hash.and_then(HashAlgorithm::from_ike_id);
    if hash != Some(ours.hash) {
        let offered = hash.map_or_else(|| format!("{:?}", offer.hash), |h| h.name().to_owned());
        return Err(mismatch(
            Attribute::HashAlgorithm,
            offered,
            ours.hash.name().to_owned(),
        ));
    }
    if offer.auth.and_then(AuthMethod::from_ike_id) != Some(ours.auth) {
        return Err(mismatch(
            Attribute::AuthenticationMethod,
            format!("{:?}", offer.auth),
            "pre-shared key".to_owned(),
        ));
    }
    let group = offer.group.and_then(DhGroup::from_id);
    if group != Some(ours.group) {
        let offered = offer
            .group
            .map_or_else(|| "none".to_owned(), |g| g.to_string());
        return Err(mismatch(
            Attribute::DhGroup,
            offered,
            show_group(Some(ours.group.id())),
        ));
    }
    let decision = check.lifetime(ours.lifetime, offer.lifetime)?;
    Ok(Phase1Proposal {
        cipher,
        hash: ours.hash,
        auth: ours.auth,
        group: ours.group,
        lifetime: decision.lifetime,
    })
}

/// The mismatch of the candidate that got furthest (compared attributes in
/// the order above), so the message is about the attribute that matters.
fn furthest(errors: Vec<Mismatch>) -> Option<Mismatch> {
    let rank = |a: Attribute| match a {
        Attribute::EncryptionAlgorithm | Attribute::EspTransform | Attribute::Protocol => 0,
        Attribute::KeyLength => 1,
        Attribute::HashAlgorithm | Attribute::IntegrityAlgorithm => 2,
        Attribute::AuthenticationMethod | Attribute::EncapsulationMode => 3,
        Attribute::DhGroup | Attribute::PfsGroup => 4,
        _ => 5,
    };
    errors.into_iter().rev().max_by_key(|m| rank(m.attribute))
}

/// Phase 1 responder: the first offer (in the peer's order) that one of our
/// proposals accepts.
pub fn select_phase1(
    offers: &[Phase1Offer],
    ours: &[Phase1Proposal],
    check: ProposalCheck,
) -> Result<Phase1Choice, Mismatch> {
    let mut errors = Vec::new();
    for offer in offers {
        for p in ours {
            match phase1_against(offer, p, check) {
                Ok(proposal) => {
                    return Ok(Phase1Choice {
                        offer: *offer,
                        proposal,
                    });
                }
                Err(e) => errors.push(e),
            }
        }
    }
    Err(furthest(errors).unwrap_or_else(|| {
        mismatch(
            Attribute::EncryptionAlgorithm,
            "nothing".into(),
            "a proposal".into(),
        )
    }))
}

/// Phase 1 initiator: the transform the responder chose must be one we
/// offered, unchanged except for a lifetime we accept (obey).
pub fn confirm_phase1(
    chosen: &Phase1Offer,
    ours: &[Phase1Proposal],
) -> Result<Phase1Proposal, Mismatch> {
    select_phase1(core::slice::from_ref(chosen), ours, ProposalCheck::Obey).map(|c| c.proposal)
}

/// The AH transform ID for an authentication algorithm (RFC 2407 §4.4.3,
/// RFC 4868 §2.4).
pub(crate) fn ah_transform_id(alg: IntegrityAlgorithm) -> u8 {
    match alg {
        IntegrityAlgorithm::HmacMd5 => 2,
        IntegrityAlgorithm::HmacSha1 => 3,
        IntegrityAlgorithm::HmacSha256 => 5,
        IntegrityAlgorithm::HmacSha384 => 6,
        IntegrityAlgorithm::HmacSha512 => 7,
    }
}

/// IPCOMP_DEFLATE (RFC 2407 §4.4.5), the one compression we negotiate.
pub(crate) const IPCOMP_DEFLATE: u8 = 2;

/// Mode (with the UDP flag), PFS group and lifetime as decided.
type CommonAttributes = (
    (EncapsulationMode, bool),
    Option<DhGroup>,
    super::LifetimeDecision,
);

/// The attributes every Phase 2 transform is judged on: mode, PFS group
/// and lifetime.
fn common_attributes(
    offer: &Phase2Offer,
    policy: &ChildPolicy,
    check: ProposalCheck,
) -> Result<CommonAttributes, Mismatch> {
    // RFC 2407 §4.5: mode defaults to "unspecified"; racoon treats that as tunnel.
    let mode = offer.mode.map_or(
        Some((EncapsulationMode::Tunnel, false)),
        EncapsulationMode::from_ike_id,
    );
    let Some(mode) = mode.filter(|(m, _)| *m == policy.mode) else {
        return Err(mismatch(
            Attribute::EncapsulationMode,
            format!(
                "{:?}",
                offer
                    .mode
                    .map(|m| EncapsulationMode::from_ike_id(m).map_or("unknown", |x| x.0.name()))
            ),
            policy.mode.name().to_owned(),
        ));
    };
    let ours_group = policy.pfs_group.map(DhGroup::id);
    let group = check.pfs_group(ours_group, offer.group)?;
    let pfs_group = match group {
        None => None,
        Some(g) => Some(DhGroup::from_id(g).ok_or_else(|| {
            mismatch(
                Attribute::PfsGroup,
                show_group(Some(g)),
                show_group(ours_group),
            )
        })?),
    };
    let decision = check.lifetime(policy.lifetime, offer.lifetime)?;
    Ok((mode, pfs_group, decision))
}

fn choice(
    offer: &Phase2Offer,
    protocol: IpsecProtocol,
    transform: EspTransform,
    policy: &ChildPolicy,
    check: ProposalCheck,
) -> Result<Phase2Choice, Mismatch> {
    let (mode, pfs_group, decision) = common_attributes(offer, policy, check)?;
    Ok(Phase2Choice {
        offer: *offer,
        protocol,
        transform,
        ipcomp: None,
        mode,
        pfs_group,
        lifetime: decision.lifetime,
        notify_lifetime: decision.notify,
    })
}

fn esp_against(
    offer: &Phase2Offer,
    ours: &EspTransform,
    policy: &ChildPolicy,
    check: ProposalCheck,
) -> Result<Phase2Choice, Mismatch> {
    let cipher = EspCipher::from_transform_id(offer.transform_id);
    if cipher != Some(ours.cipher) {
        let offered = cipher.map_or_else(
            || format!("transform {}", offer.transform_id),
            |c| c.name().to_owned(),
        );
        return Err(mismatch(
            Attribute::EspTransform,
            offered,
            ours.cipher.name().to_owned(),
        ));
    }
    let key_bits = if ours.cipher.has_key_length() {
        check.key_length(ours.key_bits, offer.key_bits)?
    } else {
        None
    };
    let integrity = offer
        .integrity
        .map(|i| IntegrityAlgorithm::from_ike_id(i).ok_or(i));
    let integrity = match integrity {
        None => None,
        Some(Ok(i)) => Some(i),
        Some(Err(raw)) => {
            let want = ours
                .integrity
                .map_or("none", IntegrityAlgorithm::name)
                .to_owned();
            return Err(mismatch(
                Attribute::IntegrityAlgorithm,
                format!("algorithm {raw}"),
                want,
            ));
        }
    };
    if integrity != ours.integrity {
        let show =
            |i: Option<IntegrityAlgorithm>| i.map_or("none", IntegrityAlgorithm::name).to_owned();
        return Err(mismatch(
            Attribute::IntegrityAlgorithm,
            show(integrity),
            show(ours.integrity),
        ));
    }
    let transform = EspTransform {
        cipher: ours.cipher,
        key_bits,
        integrity,
    };
    choice(offer, IpsecProtocol::Esp, transform, policy, check)
}

/// An AH transform: its transform ID names the algorithm, and the
/// Authentication Algorithm attribute, which RFC 2407 §4.5 requires for
/// AH, must agree with it.
fn ah_against(
    offer: &Phase2Offer,
    ours: IntegrityAlgorithm,
    policy: &ChildPolicy,
    check: ProposalCheck,
) -> Result<Phase2Choice, Mismatch> {
    let by_id = [
        IntegrityAlgorithm::HmacMd5,
        IntegrityAlgorithm::HmacSha1,
        IntegrityAlgorithm::HmacSha256,
        IntegrityAlgorithm::HmacSha384,
        IntegrityAlgorithm::HmacSha512,
    ]
    .into_iter()
    .find(|a| ah_transform_id(*a) == offer.transform_id);
    let attribute = offer.integrity.map(IntegrityAlgorithm::from_ike_id);
    let agrees = attribute.is_none_or(|a| a == by_id);
    if by_id != Some(ours) || !agrees {
        let offered = by_id.map_or_else(
            || format!("AH transform {}", offer.transform_id),
            |a| format!("AH {}", a.name()),
        );
        return Err(mismatch(
            Attribute::IntegrityAlgorithm,
            offered,
            format!("AH {}", ours.name()),
        ));
    }
    let transform = EspTransform {
        cipher: EspCipher::Null,
        key_bits: None,
        integrity: Some(ours),
    };
    choice(offer, IpsecProtocol::Ah, transform, policy, check)
}

/// How a bundle of protocols is written in failure messages.
fn bundle_name(protocols: &[u8]) -> String {
    let names: Vec<String> = protocols
        .iter()
        .map(|p| {
            IpsecProtocol::from_protocol_id(*p).map_or_else(
                || format!("protocol {p}"),
                |x| match x {
                    IpsecProtocol::IpComp => "IPComp".to_owned(),
                    other => other.name().to_owned(),
                },
            )
        })
        .collect();
    names.join("+")
}

/// One proposal (RFC 2408 §4.2: the payloads sharing a proposal number are
/// one bundle, all of whose protocols must be accepted together). ESP or
/// AH, each optionally with IPCOMP, are supported; AH+ESP is refused.
fn bundle_against(
    bundle: &[Phase2Offer],
    policy: &ChildPolicy,
    check: ProposalCheck,
) -> Result<Phase2Choice, Mismatch> {
    let mut protocols: Vec<u8> = Vec::new();
    for o in bundle {
        if !protocols.contains(&o.protocol) {
            protocols.push(o.protocol);
        }
    }
    let offered = bundle_name(&protocols);
    let refuse = |required: &str| mismatch(Attribute::Protocol, offered.clone(), required.into());
    let has = |p: IpsecProtocol| protocols.contains(&p.protocol_id());
    if protocols
        .iter()
        .any(|p| IpsecProtocol::from_protocol_id(*p).is_none())
    {
        return Err(refuse("ESP"));
    }
    let main = match (has(IpsecProtocol::Esp), has(IpsecProtocol::Ah)) {
        (true, true) => {
            return Err(refuse(
                "ESP or AH, not both (AH+ESP bundles are not supported)",
            ));
        }
        (false, false) => return Err(refuse("ESP or AH with IPComp")),
        (false, true) if !policy.accept_ah => return Err(refuse("ESP (accept_ah off)")),
        (false, true) => IpsecProtocol::Ah,
        (true, false) => IpsecProtocol::Esp,
    };
    let ipcomp = has(IpsecProtocol::IpComp);
    if ipcomp && !policy.ipcomp {
        return Err(refuse(&format!(
            "{} without IPComp (ipcomp off)",
            main.name()
        )));
    }
    let mut errors = Vec::new();
    let mut chosen = None;
    'offers: for offer in bundle.iter().filter(|o| o.protocol == main.protocol_id()) {
        let attempts: Vec<Result<Phase2Choice, Mismatch>> = match main {
            IpsecProtocol::Ah => policy
                .ah_algorithms()
                .into_iter()
                .map(|a| ah_against(offer, a, policy, check))
                .collect(),
            _ => policy
                .esp
                .iter()
                .map(|t| esp_against(offer, t, policy, check))
                .collect(),
        };
        for a in attempts {
            match a {
                Ok(c) => {
                    chosen = Some(c);
                    break 'offers;
                }
                Err(e) => errors.push(e),
            }
        }
    }
    let Some(mut c) = chosen else {
        return Err(furthest(errors).unwrap_or_else(|| {
            mismatch(
                Attribute::Protocol,
                offered.clone(),
                format!("{} with a configured algorithm", main.name()),
            )
        }));
    };
    if ipcomp {
        let deflate = bundle.iter().find(|o| {
            o.protocol == IpsecProtocol::IpComp.protocol_id() && o.transform_id == IPCOMP_DEFLATE
        });
        let Some(d) = deflate else {
            return Err(mismatch(
                Attribute::Protocol,
                offered,
                "IPComp DEFLATE".into(),
            ));
        };
        c.ipcomp = Some(*d);
    }
    Ok(c)
}

/// Phase 2 responder: the first proposal (in the peer's order) whose
/// bundle our policy accepts, with its first acceptable transform.
pub fn select_phase2(
    offers: &[Phase2Offer],
    policy: &ChildPolicy,
    check: ProposalCheck,
) -> Result<Phase2Choice, Mismatch> {
    let mut errors = Vec::new();
    for bundle in offers.chunk_by(|a, b| a.proposal == b.proposal) {
        match bundle_against(bundle, policy, check) {
            Ok(c) => return Ok(c),
            Err(e) => errors.push(e),
        }
    }
    Err(furthest(errors)
        .unwrap_or_else(|| mismatch(Attribute::EspTransform, "nothing".into(), "ESP".into())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::EncapsulationMode;

    fn pix() -> Phase1Proposal {
        Phase1Proposal {
            cipher: Phase1Cipher::new(CipherAlgorithm::Aes, Some(256)).unwrap(),
            hash: HashAlgorithm::Sha1,
            auth: AuthMethod::PreSharedKey,
            group: DhGroup::Modp1536,
            lifetime: Lifetime::seconds(86_400),
        }
    }

    fn offer_of(p: &Phase1Proposal) -> Phase1Offer {
        Phase1Offer {
            proposal: 1,
            transform: 1,
            encryption: Some(p.cipher.algorithm().ike_id()),
            hash: Some(p.hash.ike_id()),
            auth: Some(1),
            group: Some(p.group.id()),
            key_bits: Some(u16::try_from(p.cipher.key_len() * 8).unwrap()),
            lifetime: p.lifetime,
        }
    }

    #[test]
    fn identical_offer_is_chosen() {
        let c = select_phase1(&[offer_of(&pix())], &[pix()], ProposalCheck::Strict).unwrap();
        assert_eq!(c.proposal, pix());
    }

    #[test]
    fn group_mismatch_says_which_groups() {
        let mut o = offer_of(&pix());
        o.group = Some(2);
        let e = select_phase1(&[o], &[pix()], ProposalCheck::Strict).unwrap_err();
        assert_eq!(
            e.to_string(),
            "peer offered DH group 2, policy requires group 5"
        );
    }

    #[test]
    fn second_offer_matches_when_first_does_not() {
        let mut first = offer_of(&pix());
        first.encryption = Some(5); // 3DES
        first.key_bits = None;
        let mut second = offer_of(&pix());
        second.transform = 2;
        let c = select_phase1(&[first, second], &[pix()], ProposalCheck::Strict).unwrap();
        assert_eq!(c.offer.transform, 2);
    }

    #[test]
    fn key_length_mismatch_is_named() {
        let mut o = offer_of(&pix());
        o.key_bits = Some(128);
        let e = select_phase1(&[o], &[pix()], ProposalCheck::Strict).unwrap_err();
        assert_eq!(e.attribute, Attribute::KeyLength);
        assert!(e.to_string().contains("128 bits"), "{e}");
    }

    fn child() -> ChildPolicy {
        ChildPolicy {
            local: None,
            remote: None,
            mode: EncapsulationMode::Tunnel,
            esp: vec![EspTransform {
                cipher: EspCipher::AesCbc,
                key_bits: Some(256),
                integrity: Some(IntegrityAlgorithm::HmacSha1),
            }],
            pfs_group: Some(DhGroup::Modp1536),
            lifetime: Lifetime::seconds(3600),
            accept_ah: false,
            ah: Vec::new(),
            ipcomp: false,
        }
    }

    fn esp_offer() -> Phase2Offer {
        Phase2Offer {
            proposal: 1,
            transform: 1,
            protocol: 3,
            spi: 0x1234,
            transform_id: 12,
            mode: Some(1),
            integrity: Some(2),
            key_bits: Some(256),
            group: Some(5),
            lifetime: Lifetime::seconds(3600),
        }
    }

    #[test]
    fn phase2_matching_offer() {
        let c = select_phase2(&[esp_offer()], &child(), ProposalCheck::Strict).unwrap();
        assert_eq!(c.pfs_group, Some(DhGroup::Modp1536));
        assert_eq!(c.transform.keymat_len(), 32 + 20);
        assert!(!c.notify_lifetime);
    }

    #[test]
    fn phase2_pfs_and_lifetime_rules() {
        let mut o = esp_offer();
        o.group = Some(2);
        let e = select_phase2(&[o], &child(), ProposalCheck::Strict).unwrap_err();
        assert_eq!(
            e.to_string(),
            "peer offered PFS group 2, policy requires 5 (proposal_check strict)"
        );
        let mut o = esp_offer();
        o.lifetime = Lifetime::seconds(28_800);
        let c = select_phase2(&[o], &child(), ProposalCheck::Claim).unwrap();
        assert!(c.notify_lifetime);
        assert_eq!(c.lifetime, Lifetime::seconds(3600));
        assert!(select_phase2(&[o], &child(), ProposalCheck::Exact).is_err());
    }

    #[test]
    fn ah_is_refused_by_name() {
        let mut o = esp_offer();
        o.protocol = 2;
        let e = select_phase2(&[o], &child(), ProposalCheck::Obey).unwrap_err();
        assert_eq!(
            e.to_string(),
            "peer offered protocol AH, policy requires ESP (accept_ah off)"
        );
    }
}
