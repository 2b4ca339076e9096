//! Phase 1 with RSA signatures (RFC 2409 §5.1, method 3) between two
//! in-process endpoints: Main and Aggressive Mode, ID types address, FQDN
//! and ASN.1 DN, PKCS#7 chains, plain_rsa keys, and each rejection with the
//! reason it must name. Certificates: `tests/data/auth/` and its
//! `engine/make-engine-pki.sh` (valid 2026-12 to 2036-11; the tests set the
//! wall clock to 2030-01-01).

mod sim;

use std::cell::RefCell;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use ike_core::auth::{
    AuthError, DnPattern, ExpectedIdentity, HashSigner, PeerCertificate, RsaCrateSigner, SignError,
    TrustStore, UnixTime, load_certificates, load_plain_rsa_private, load_plain_rsa_public,
};
use ike_core::config::{
    AuthMethod, EndpointConfig, ExchangeMode, Fragmentation, Identity, PeerAuth, PeerConfig,
    Phase1Proposal, PskTable, RsaAuthConfig,
};
use ike_core::endpoint::{DownReason, Endpoint, Event, FailureReason};
use ike_core::wire::{
    CertEncoding, Certificate, CertificateRequest, ExchangeType, Message, PayloadBody, PayloadType,
};
use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRngCore, SeedableRng};
use sim::fixtures::{A, B, children, failures, phase1_up, pix_child, pix_phase1};
use sim::{Faults, Node, Pair, Side};

const ROOT_CA: &[u8] = include_bytes!("data/auth/root-ca.pem");
const SUB_CA: &[u8] = include_bytes!("data/auth/sub-ca.pem");
const A_CERT: &[u8] = include_bytes!("data/auth/engine/a.pem");
const A_KEY: &[u8] = include_bytes!("data/auth/engine/a.key");
const A_CHAIN_P7B: &[u8] = include_bytes!("data/auth/engine/a-chain.p7b");
const B_CERT: &[u8] = include_bytes!("data/auth/engine/b.pem");
const B_KEY: &[u8] = include_bytes!("data/auth/engine/b.key");
const ROGUE_B_CERT: &[u8] = include_bytes!("data/auth/engine/rogue-b.pem");
const ROGUE_B_KEY: &[u8] = include_bytes!("data/auth/engine/rogue-b.key");
const A6_CERT: &[u8] = include_bytes!("data/auth/engine/a6.pem");
const A6_KEY: &[u8] = include_bytes!("data/auth/engine/a6.key");
const B6_CERT: &[u8] = include_bytes!("data/auth/engine/b6.pem");
const B6_KEY: &[u8] = include_bytes!("data/auth/engine/b6.key");
const PIX_CERT: &[u8] = include_bytes!("data/auth/pix.pem");
const PIX_KEY: &[u8] = include_bytes!("data/auth/pix.key");
const GW_PLAINRSA: &str = include_str!("data/auth/gw.plainrsa");
const GW_PLAINRSA_PUB: &str = include_str!("data/auth/gw.plainrsa.pub");

/// 2030-01-01T00:00:00Z, inside every test certificate's validity.
const IN_VALIDITY: u64 = 1_893_456_000;
/// 2040-01-01T00:00:00Z, after every test certificate's notAfter.
const AFTER_VALIDITY: u64 = 2_208_988_800;

/// The seed's 203.0.113.5 Cisco PIX (seed 000), authenticating with pix.pem.
const PIX: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 5));

fn cert(pem: &[u8]) -> PeerCertificate {
    load_certificates(pem).unwrap().remove(0)
}

fn root_only() -> TrustStore {
    let mut t = TrustStore::new();
    t.add_anchor(cert(ROOT_CA));
    t
}

/// The PIX Phase 1 with RSA signatures instead of a PSK.
fn rsa_phase1() -> Phase1Proposal {
    Phase1Proposal {
        auth: AuthMethod::RsaSignature,
        ..pix_phase1()
    }
}

fn signer(key_pem: &[u8]) -> Arc<dyn HashSigner + Send + Sync> {
    Arc::new(RsaCrateSigner::load(key_pem).unwrap())
}

/// Node A: a.pem (by the sub CA), sent with the sub CA's certificate.
fn a_auth() -> RsaAuthConfig {
    RsaAuthConfig::new(signer(A_KEY), vec![cert(A_CERT), cert(SUB_CA)], root_only())
}

/// Node B: b.pem (by the root CA).
fn b_auth() -> RsaAuthConfig {
    RsaAuthConfig::new(signer(B_KEY), vec![cert(B_CERT)], root_only())
}

fn rsa_peer(
    remote: IpAddr,
    mode: ExchangeMode,
    auth: RsaAuthConfig,
    my_id: Option<Identity>,
) -> PeerConfig {
    let mut p = PeerConfig::new(Some(remote), vec![rsa_phase1()], vec![pix_child()]);
    p.exchange_mode = mode;
    p.my_identifier = my_id;
    p.auth = PeerAuth::RsaSignature(Arc::new(auth));
    p
}

fn node(local: IpAddr, peer: PeerConfig, seed: u64) -> Node {
    let cfg = EndpointConfig::new(vec![peer], PskTable::new());
    let ep = Endpoint::new(Arc::new(cfg), Box::new(ChaCha20Rng::seed_from_u64(seed)));
    Node::new(ep, SocketAddr::new(local, 500))
}

/// A at `a_addr` initiating to B at `b_addr`; both wall clocks at `clock`.
fn pair_at(
    a_addr: IpAddr,
    a: PeerConfig,
    b_addr: IpAddr,
    b: PeerConfig,
    clock: Option<u64>,
    seed: u64,
) -> Pair {
    let mut p = Pair::new(node(a_addr, a, seed), node(b_addr, b, seed + 1), seed);
    if let Some(secs) = clock {
        let unix = UnixTime::since_unix_epoch(Duration::from_secs(secs));
        let now = p.now;
        p.a.ep.set_wall_clock(now, unix);
        p.b.ep.set_wall_clock(now, unix);
    }
    p
}

fn pair(a: PeerConfig, b: PeerConfig, seed: u64) -> Pair {
    pair_at(A, a, B, b, Some(IN_VALIDITY), seed)
}

fn start(p: &mut Pair) {
    let now = p.now;
    p.a.ep
        .initiate(now, p.a.addr, p.b.addr, pix_child())
        .unwrap();
}

fn both_up(p: &Pair) -> bool {
    phase1_up(&p.a.events) && phase1_up(&p.b.events)
}

/// Starts A → B and drives until both report Phase 1 up, or fails with
/// both sides' reasons.
fn start_and_wait_up(p: &mut Pair, limit: Duration) {
    start(p);
    assert!(
        p.drive_until(limit, both_up),
        "A failures {:?}, B failures {:?}",
        failures(&p.a.events),
        failures(&p.b.events)
    );
}

fn any_failure(p: &Pair) -> bool {
    !failures(&p.a.events).is_empty() || !failures(&p.b.events).is_empty()
}

/// The identity the peer authenticated, as A and B report it.
fn peer_ids(p: &Pair) -> (Identity, Identity) {
    let id = |events: &[Event]| {
        events
            .iter()
            .find_map(|e| match e {
                Event::Phase1Up { peer_id, .. } => Some(peer_id.clone()),
                _ => None,
            })
            .unwrap()
    };
    (id(&p.a.events), id(&p.b.events))
}

fn failure_reasons(events: &[Event]) -> Vec<FailureReason> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::NegotiationFailed { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

/// Every message `side` sent, parsed.
fn sent_messages(p: &Pair, side: Side) -> Vec<Message> {
    let node = match side {
        Side::A => &p.a,
        Side::B => &p.b,
    };
    node.sent
        .iter()
        .filter_map(|(_, bytes)| Message::parse(bytes).ok())
        .collect()
}

/// Establishes Phase 1 and a Quick Mode, and returns the pair.
fn establish(a: PeerConfig, b: PeerConfig, seed: u64) -> Pair {
    let mut p = pair(a, b, seed);
    start(&mut p);
    let up = p.drive_until(Duration::from_secs(10), |p| {
        !children(&p.a.events).is_empty() && !children(&p.b.events).is_empty()
    });
    assert!(
        up,
        "A failures {:?}, B failures {:?}",
        failures(&p.a.events),
        failures(&p.b.events)
    );
    p
}

/// Removes the vendor IDs from AM1/AM2 in flight, so neither side knows
/// the other takes IKE fragments and AM3 travels whole, for the tests that
/// edit it. (The VIDs are not covered by HASH_I/HASH_R.)
fn without_vendor_ids(bytes: &mut Vec<u8>) {
    if let Ok(msg) = Message::parse(bytes)
        && let Some(payloads) = msg.payloads()
        && payloads.iter().any(|pl| pl.ty == PayloadType::VENDOR_ID)
    {
        let kept = payloads
            .iter()
            .filter(|pl| pl.ty != PayloadType::VENDOR_ID)
            .cloned()
            .collect();
        *bytes = Message::new(msg.header, kept).to_bytes().unwrap();
    }
}

fn dn_of(pem: &[u8]) -> Identity {
    Identity::DerAsn1Dn(cert(pem).subject_der().unwrap())
}

// ---- success cases --------------------------------------------------------

fn address_ids(mode: ExchangeMode, seed: u64) {
    let p = establish(
        rsa_peer(B, mode, a_auth(), None),
        rsa_peer(A, mode, b_auth(), None),
        seed,
    );
    assert_eq!(
        peer_ids(&p),
        (Identity::from_ip(B), Identity::from_ip(A)),
        "each side authenticated the other's address through subjectAltName IP"
    );
}

#[test]
fn main_mode_with_address_ids_matched_through_subject_alt_name_ip() {
    address_ids(ExchangeMode::Main, 10);
}

#[test]
fn aggressive_mode_with_address_ids() {
    address_ids(ExchangeMode::Aggressive, 20);
}

#[test]
fn ipv6_address_ids_in_both_modes() {
    let a6: IpAddr = "2001:db8::1".parse().unwrap();
    let b6: IpAddr = "2001:db8::2".parse().unwrap();
    for (mode, seed) in [(ExchangeMode::Main, 25), (ExchangeMode::Aggressive, 27)] {
        let a = RsaAuthConfig::new(signer(A6_KEY), vec![cert(A6_CERT)], root_only());
        let b = RsaAuthConfig::new(signer(B6_KEY), vec![cert(B6_CERT)], root_only());
        let mut p = pair_at(
            a6,
            rsa_peer(b6, mode, a, None),
            b6,
            rsa_peer(a6, mode, b, None),
            Some(IN_VALIDITY),
            seed,
        );
        start_and_wait_up(&mut p, Duration::from_secs(10));
        // ID_IPV6_ADDR, matched against subjectAltName IP 2001:db8::x.
        assert_eq!(
            peer_ids(&p),
            (Identity::from_ip(b6), Identity::from_ip(a6)),
            "{mode:?}"
        );
    }
}

fn fqdn_ids(mode: ExchangeMode, seed: u64) {
    let a_id = Identity::Fqdn("a.example.com".into());
    let b_id = Identity::Fqdn("b.example.com".into());
    let mut b_auth = b_auth();
    // verify_identifier on: B insists on A's name.
    b_auth.policy.peers_identifier = Some(ExpectedIdentity::Fqdn("a.example.com".into()));
    let p = establish(
        rsa_peer(B, mode, a_auth(), Some(a_id.clone())),
        rsa_peer(A, mode, b_auth, Some(b_id.clone())),
        seed,
    );
    assert_eq!(peer_ids(&p), (b_id, a_id));
}

#[test]
fn main_mode_with_fqdn_ids_matched_through_subject_alt_name_dns() {
    fqdn_ids(ExchangeMode::Main, 30);
}

#[test]
fn aggressive_mode_with_fqdn_ids() {
    fqdn_ids(ExchangeMode::Aggressive, 40);
}

#[test]
fn main_mode_with_user_fqdn_ids_matched_through_subject_alt_name_email() {
    let a_id = Identity::UserFqdn("alice@example.com".into());
    let b_id = Identity::UserFqdn("bob@example.com".into());
    let p = establish(
        rsa_peer(B, ExchangeMode::Main, a_auth(), Some(a_id.clone())),
        rsa_peer(A, ExchangeMode::Main, b_auth(), Some(b_id.clone())),
        45,
    );
    assert_eq!(peer_ids(&p), (b_id, a_id));
}

#[test]
fn user_fqdn_not_in_the_certificate_is_refused() {
    let (b_fails, _) = refused(pair(
        rsa_peer(
            B,
            ExchangeMode::Main,
            a_auth(),
            Some(Identity::UserFqdn("mallory@example.com".into())),
        ),
        rsa_peer(A, ExchangeMode::Main, b_auth(), None),
        47,
    ));
    assert_eq!(
        b_fails.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            "peer identified as mallory@example.com (ID_USER_FQDN), but its certificate's subjectAltName email entries are alice@example.com (subject C=XX, O=IPsec Test, CN=a.example.com); set verify_cert off or fix my_identifier on the peer"
        ]
    );
}

fn asn1dn_ids(mode: ExchangeMode, seed: u64) {
    let a = a_auth();
    let b = b_auth();
    // racoon's `my_identifier asn1dn;`: our certificate's subject.
    let a_id = a.certificate_subject_identity();
    let b_id = b.certificate_subject_identity();
    assert_eq!(a_id, Some(dn_of(A_CERT)));
    let mut b = b;
    // `peers_identifier asn1dn "C=XX, O=IPsec Test, CN=*";` with a wildcard.
    b.policy.peers_identifier = Some(ExpectedIdentity::Asn1Dn(
        DnPattern::parse("C=XX, O=IPsec Test, CN=*").unwrap(),
    ));
    let mut a = a;
    a.policy.peers_identifier = Some(ExpectedIdentity::Asn1DnOfCertificate);
    let p = establish(rsa_peer(B, mode, a, a_id), rsa_peer(A, mode, b, b_id), seed);
    assert_eq!(peer_ids(&p), (dn_of(B_CERT), dn_of(A_CERT)));
    let (a_sees, _) = peer_ids(&p);
    assert_eq!(
        a_sees.to_string(),
        "asn1dn:C=XX, O=IPsec Test, CN=b.example.com"
    );
}

#[test]
fn main_mode_with_asn1dn_ids() {
    asn1dn_ids(ExchangeMode::Main, 50);
}

#[test]
fn aggressive_mode_with_asn1dn_ids() {
    asn1dn_ids(ExchangeMode::Aggressive, 60);
}

/// `id`'s DN with PrintableString and UTF8String values swapped: the same
/// name in other bytes, as charon encodes a DN from its configuration.
fn in_other_string_types(id: &Identity) -> Identity {
    use der::asn1::{Any, SetOfVec};
    use der::{Decode, Encode, Tag, Tagged};
    use x509_cert::attr::AttributeTypeAndValue;
    let Identity::DerAsn1Dn(der) = id else {
        panic!("not a DN: {id}")
    };
    let mut name = x509_cert::name::Name::from_der(der).unwrap();
    for rdn in &mut name.0 {
        let recoded: Vec<AttributeTypeAndValue> = rdn
            .0
            .iter()
            .map(|atv| AttributeTypeAndValue {
                oid: atv.oid,
                value: match atv.value.tag() {
                    Tag::PrintableString => Any::new(Tag::Utf8String, atv.value.value()),
                    Tag::Utf8String => Any::new(Tag::PrintableString, atv.value.value()),
                    _ => Ok(atv.value.clone()),
                }
                .unwrap(),
            })
            .collect();
        rdn.0 = SetOfVec::try_from(recoded).unwrap();
    }
    Identity::DerAsn1Dn(name.to_der().unwrap())
}

#[test]
fn configured_peer_dn_matches_as_a_name_not_as_bytes() {
    // B's `peers_identifier` is a.pem's subject as OpenSSL encoded it; A
    // claims the same DN in other string types (RFC 5280 §7.1).
    let claimed = in_other_string_types(&dn_of(A_CERT));
    assert_ne!(claimed, dn_of(A_CERT), "other bytes");
    for mode in [ExchangeMode::Main, ExchangeMode::Aggressive] {
        let mut b = rsa_peer(A, mode, b_auth(), None);
        b.peers_identifier = Some(dn_of(A_CERT));
        let p = establish(rsa_peer(B, mode, a_auth(), Some(claimed.clone())), b, 65);
        assert_eq!(peer_ids(&p).1, claimed, "{mode:?}");
    }
}

#[test]
fn configured_peer_dn_refuses_another_name() {
    let mut b = rsa_peer(A, ExchangeMode::Main, b_auth(), None);
    b.peers_identifier = Some(in_other_string_types(&dn_of(B_CERT)));
    let (b_fails, _) = refused(pair(
        rsa_peer(B, ExchangeMode::Main, a_auth(), Some(dn_of(A_CERT))),
        b,
        66,
    ));
    assert_eq!(
        b_fails,
        [FailureReason::WrongIdentity {
            got: "asn1dn:C=XX, O=IPsec Test, CN=a.example.com".into(),
            expected: "asn1dn:C=XX, O=IPsec Test, CN=b.example.com".into(),
        }]
    );
}

#[test]
fn main_mode_asks_for_certificates_with_cr_payloads_naming_the_ca() {
    let p = establish(
        rsa_peer(B, ExchangeMode::Main, a_auth(), None),
        rsa_peer(A, ExchangeMode::Main, b_auth(), None),
        70,
    );
    let root_dn = cert(ROOT_CA).subject_der().unwrap();
    for side in [Side::A, Side::B] {
        let crs: Vec<CertificateRequest> = sent_messages(&p, side)
            .iter()
            .filter(|m| m.header.exchange_type == ExchangeType::MAIN_MODE && !m.is_encrypted())
            .flat_map(|m| m.payloads().unwrap_or_default().to_vec())
            .filter(|pl| pl.ty == PayloadType::CERTIFICATE_REQUEST)
            .map(|pl| CertificateRequest::parse_body(&pl.body).unwrap())
            .collect();
        // One CR in MM3 (A) or MM4 (B), naming the one configured CA.
        assert_eq!(
            crs,
            vec![CertificateRequest {
                cert_type: CertEncoding::X509_SIGNATURE,
                authority: root_dn.clone(),
            }],
            "{side:?}"
        );
    }
}

#[test]
fn aggressive_mode_carries_cert_and_sig_in_clear_and_accepts_a_pkcs7_chain() {
    // AM3 is sent in clear, so the test can rewrite A's two X.509 CERT
    // payloads (a.pem, sub-ca.pem) into one PKCS#7 CERT payload: HASH_I
    // does not cover CERT payloads, so SIG_I still verifies, and B (which
    // trusts only the root) can reach it only through the bundle's sub CA.
    let mut p = pair(
        rsa_peer(B, ExchangeMode::Aggressive, a_auth(), None),
        rsa_peer(A, ExchangeMode::Aggressive, b_auth(), None),
        80,
    );
    let rewritten = Rc::new(std::cell::Cell::new(0));
    let seen = rewritten.clone();
    p.intercept = Some(Box::new(move |from, bytes| {
        without_vendor_ids(bytes);
        let Ok(mut msg) = Message::parse(bytes) else {
            return true;
        };
        if from != Side::A || msg.header.exchange_type != ExchangeType::AGGRESSIVE {
            return true;
        }
        let Some(payloads) = msg.payloads() else {
            return true;
        };
        let certs = payloads
            .iter()
            .filter(|pl| pl.ty == PayloadType::CERTIFICATE)
            .count();
        // AM3: CERT, CERT, SIG (no SA).
        if certs != 2 || payloads.iter().any(|pl| pl.ty == PayloadType::SA) {
            return true;
        }
        let mut rest: Vec<_> = payloads
            .iter()
            .filter(|pl| pl.ty != PayloadType::CERTIFICATE)
            .cloned()
            .collect();
        let bundle = Certificate {
            encoding: CertEncoding::PKCS7,
            data: A_CHAIN_P7B.to_vec(),
        };
        rest.insert(0, bundle.to_payload().unwrap());
        msg = Message::new(msg.header, rest);
        *bytes = msg.to_bytes().unwrap();
        seen.set(seen.get() + 1);
        true
    }));
    start_and_wait_up(&mut p, Duration::from_secs(10));
    assert_eq!(rewritten.get(), 1, "AM3 was rewritten to carry PKCS#7");
    // AM2 as B sent it (vendor IDs aside): SA, KE, NONCE, ID, CERT (b.pem), SIG, CR.
    let am2 = sent_messages(&p, Side::B)
        .into_iter()
        .find(|m| m.header.exchange_type == ExchangeType::AGGRESSIVE)
        .unwrap();
    let types: Vec<PayloadType> = am2
        .payloads()
        .unwrap()
        .iter()
        .map(|pl| pl.ty)
        .filter(|ty| *ty != PayloadType::VENDOR_ID)
        .collect();
    assert_eq!(
        types,
        [
            PayloadType::SA,
            PayloadType::KEY_EXCHANGE,
            PayloadType::NONCE,
            PayloadType::IDENTIFICATION,
            PayloadType::CERTIFICATE,
            PayloadType::SIGNATURE,
            PayloadType::CERTIFICATE_REQUEST,
        ]
    );
    let cert_payload = am2.find(PayloadType::CERTIFICATE).unwrap();
    assert_eq!(
        Certificate::parse_body(&cert_payload.body).unwrap().data,
        cert(B_CERT).der().as_ref()
    );
}

#[test]
fn plain_rsa_keys_without_certificates() {
    // A signs with racoon's plain_rsa private key file (gw.plainrsa), B
    // knows it from the `: PUB 0s…` file; B signs with b.key and A pins the
    // raw key. No certificates anywhere, no CR, and no wall clock needed.
    let a_key = load_plain_rsa_private(GW_PLAINRSA).unwrap();
    let mut a = RsaAuthConfig::new(
        Arc::new(RsaCrateSigner::new(a_key)),
        Vec::new(),
        TrustStore::new(),
    );
    a.send_cr = false;
    a.policy.raw_key = Some(cert(B_CERT).rsa_public_key().unwrap());
    let mut b = RsaAuthConfig::new(signer(B_KEY), Vec::new(), TrustStore::new());
    b.send_cr = false;
    b.policy.raw_key = Some(load_plain_rsa_public(GW_PLAINRSA_PUB).unwrap());
    for (mode, seed) in [(ExchangeMode::Main, 90), (ExchangeMode::Aggressive, 95)] {
        let mut p = pair_at(
            A,
            rsa_peer(B, mode, a.clone(), None),
            B,
            rsa_peer(A, mode, b.clone(), None),
            None,
            seed,
        );
        start_and_wait_up(&mut p, Duration::from_secs(10));
        let plain: Vec<PayloadType> = sent_messages(&p, Side::A)
            .iter()
            .chain(&sent_messages(&p, Side::B))
            .filter_map(|m| m.payloads())
            .flatten()
            .map(|pl| pl.ty)
            .collect();
        assert!(!plain.contains(&PayloadType::CERTIFICATE_REQUEST));
        assert!(!plain.contains(&PayloadType::CERTIFICATE));
    }
}

#[test]
fn pinned_peer_certificate_when_the_peer_sends_none() {
    // B has send_cert off; A pins b.pem (racoon's `peers_certfile x509`).
    let mut a = a_auth();
    a.policy.pinned = Some(cert(B_CERT));
    let mut b = b_auth();
    b.send_cert = false;
    establish(
        rsa_peer(B, ExchangeMode::Main, a, None),
        rsa_peer(A, ExchangeMode::Main, b, None),
        100,
    );
}

#[test]
fn main_mode_with_certificates_survives_loss() {
    let mut p = pair(
        rsa_peer(B, ExchangeMode::Main, a_auth(), None),
        rsa_peer(A, ExchangeMode::Main, b_auth(), None),
        110,
    );
    p.faults = Faults {
        loss: 0.25,
        ..Faults::default()
    };
    start_and_wait_up(&mut p, Duration::from_secs(50));
    assert!(
        p.a.ep.stats().retransmits_sent + p.b.ep.stats().retransmits_sent > 0,
        "the loss actually forced resends"
    );
}

// ---- rejections ------------------------------------------------------------

/// A signer whose signature is valid, but over a different value than the
/// HASH it was given: what a peer with other SKEYIDs or a forger produces.
struct WrongSigner(RsaCrateSigner);

impl HashSigner for WrongSigner {
    fn signature_len(&self) -> usize {
        self.0.signature_len()
    }

    fn sign_hash(&self, rng: &mut dyn CryptoRngCore, hash: &[u8]) -> Result<Vec<u8>, SignError> {
        let mut other = hash.to_vec();
        if let Some(b) = other.first_mut() {
            *b ^= 1;
        }
        self.0.sign_hash(rng, &other)
    }
}

/// Runs A → B until someone fails; returns B's and A's failures.
fn refused(mut p: Pair) -> (Vec<FailureReason>, Pair) {
    start(&mut p);
    p.drive_until(Duration::from_secs(10), any_failure);
    assert!(!both_up(&p), "must not come up");
    (failure_reasons(&p.b.events), p)
}

const BAD_SIG_A: &str = "the peer's SIG payload does not verify over HASH with the key of certificate C=XX, O=IPsec Test, CN=a.example.com: the peer does not hold that key, or the two sides derived different SKEYIDs";

#[test]
fn bad_signature_is_refused_with_the_reason_and_an_encrypted_notify() {
    let mut a = a_auth();
    a.signer = Arc::new(WrongSigner(RsaCrateSigner::load(A_KEY).unwrap()));
    let (b_fails, p) = refused(pair(
        rsa_peer(B, ExchangeMode::Main, a, None),
        rsa_peer(A, ExchangeMode::Main, b_auth(), None),
        120,
    ));
    assert_eq!(
        b_fails,
        [FailureReason::PeerAuthentication(AuthError::BadSignature {
            key: "certificate C=XX, O=IPsec Test, CN=a.example.com".into()
        })]
    );
    assert_eq!(b_fails[0].to_string(), BAD_SIG_A);
    assert_eq!(
        b_fails[0].notify_type(),
        Some(ike_core::wire::NotifyType::INVALID_SIGNATURE)
    );
    // B's last datagram: an Informational encrypted under the Phase 1 keys.
    let last = sent_messages(&p, Side::B).pop().unwrap();
    assert_eq!(last.header.exchange_type, ExchangeType::INFORMATIONAL);
    assert!(last.is_encrypted());
    assert_ne!(last.header.message_id.0, 0);
    // A reads it with the keys of its half-done Phase 1 and, when its MM5
    // resends go unanswered, names it.
    assert_eq!(
        initiator_gives_up(p),
        ["peer did not complete the negotiation; it sent an unauthenticated INVALID-SIGNATURE"]
    );
}

/// Why each ISAKMP SA went down.
fn down_reasons(events: &[Event]) -> Vec<DownReason> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Phase1Down { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

/// Drives on until A's negotiation fails, and returns A's failures.
fn initiator_gives_up(mut p: Pair) -> Vec<String> {
    p.drive_until(Duration::from_secs(120), |p| {
        !failures(&p.a.events).is_empty()
    });
    failures(&p.a.events)
}

/// Rewrites `bytes`, if it is AM3 (A's Aggressive Mode message without an
/// SA payload), with a bit flipped in its SIG: what a forger on the path
/// sends. Returns whether it did.
fn forge_am3_sig(bytes: &mut Vec<u8>) -> bool {
    let Ok(msg) = Message::parse(bytes) else {
        return false;
    };
    if msg.header.exchange_type != ExchangeType::AGGRESSIVE
        || msg.find(PayloadType::SA).is_some()
        || msg.find(PayloadType::SIGNATURE).is_none()
    {
        return false;
    }
    let mut payloads = msg.payloads().unwrap().to_vec();
    for pl in &mut payloads {
        if pl.ty == PayloadType::SIGNATURE {
            pl.body[10] ^= 0x40;
        }
    }
    *bytes = Message::new(msg.header, payloads).to_bytes().unwrap();
    true
}

fn aggressive_pair(seed: u64) -> Pair {
    pair(
        rsa_peer(B, ExchangeMode::Aggressive, a_auth(), None),
        rsa_peer(A, ExchangeMode::Aggressive, b_auth(), None),
        seed,
    )
}

#[test]
fn only_bad_sigs_in_aggressive_mode_fail_after_the_timeout_with_the_reason() {
    // Every AM3 (the first and each resend) reaches B with a bad SIG. AM3
    // is in clear, so B cannot tell a forger from the initiator: it drops
    // each and gives up only when the negotiation runs out of time.
    let mut p = aggressive_pair(130);
    p.intercept = Some(Box::new(|from, bytes| {
        without_vendor_ids(bytes);
        if from == Side::A {
            forge_am3_sig(bytes);
        }
        true
    }));
    let started = p.now;
    start(&mut p);
    p.drive_until(Duration::from_secs(120), any_failure);
    assert!(!both_up(&p), "must not come up");
    assert!(
        p.now - started >= Duration::from_secs(40),
        "B waited for a good AM3, failed after {:?}",
        p.now - started
    );
    assert!(p.b.ep.stats().bad_hash >= 2, "{:?}", p.b.ep.stats());
    assert_eq!(
        failures(&p.b.events),
        [BAD_SIG_A],
        "the last SIG's reason, not a bare timeout"
    );
    // A counted its SA up when it sent AM3; B's encrypted refusal, sent
    // when it gave up, deletes it, and A names the notify beside the Delete.
    p.drive_for(Duration::from_secs(5));
    assert!(phase1_up(&p.a.events));
    assert_eq!(
        down_reasons(&p.a.events),
        [DownReason::RefusedByPeer("INVALID-SIGNATURE".into())]
    );
}

#[test]
fn forged_am3_before_the_real_one_does_not_stop_aggressive_mode() {
    // The intercept turns A's first AM3 into a forgery and keeps the real
    // one, which the test then delivers after it.
    let real: Rc<RefCell<Option<Vec<u8>>>> = Rc::default();
    let kept = Rc::clone(&real);
    let mut p = aggressive_pair(135);
    p.intercept = Some(Box::new(move |from, bytes| {
        without_vendor_ids(bytes);
        if from == Side::A && kept.borrow().is_none() {
            let original = bytes.clone();
            if forge_am3_sig(bytes) {
                *kept.borrow_mut() = Some(original);
            }
        }
        true
    }));
    start(&mut p);
    assert!(p.drive_until(Duration::from_secs(1), |p| p.b.ep.stats().bad_hash == 1));
    assert!(failures(&p.b.events).is_empty(), "B is still waiting");
    let bytes = real.borrow_mut().take().unwrap();
    let deliver_at = p.now + p.latency;
    p.b.inbound.push_back(sim::Datagram {
        deliver_at,
        src: p.a.addr,
        dst: p.b.addr,
        bytes,
    });
    assert!(p.drive_until(Duration::from_secs(1), both_up));
    assert_eq!(peer_ids(&p).1, Identity::from_ip(A));
    assert!(failures(&p.b.events).is_empty());
}

#[test]
fn expired_certificate_is_refused() {
    let (b_fails, _) = refused(pair_at(
        A,
        rsa_peer(B, ExchangeMode::Main, a_auth(), None),
        B,
        rsa_peer(A, ExchangeMode::Main, b_auth(), None),
        Some(AFTER_VALIDITY),
        140,
    ));
    let [FailureReason::PeerAuthentication(AuthError::Expired { subject, now, .. })] = &b_fails[..]
    else {
        panic!("{b_fails:?}");
    };
    assert_eq!(subject, "C=XX, O=IPsec Test, CN=a.example.com");
    assert_eq!(*now, AFTER_VALIDITY);
    let text = b_fails[0].to_string();
    assert!(
        text.starts_with("certificate C=XX, O=IPsec Test, CN=a.example.com expired at ")
            && text.ends_with(" (unix time), checked at 2208988800; renew it, or check the clock"),
        "{text}"
    );
}

#[test]
fn certificate_from_an_untrusted_ca_is_refused() {
    // B signs with rogue-b.pem: same names as b.pem and the root CA, but
    // issued by another key. A, the initiator, refuses it at MM6.
    let b = RsaAuthConfig::new(signer(ROGUE_B_KEY), vec![cert(ROGUE_B_CERT)], root_only());
    let (_, mut p) = refused(pair(
        rsa_peer(B, ExchangeMode::Main, a_auth(), None),
        rsa_peer(A, ExchangeMode::Main, b, None),
        150,
    ));
    assert_eq!(
        failures(&p.a.events),
        [
            "the signature on certificate C=XX, O=IPsec Test, CN=b.example.com does not verify with the key of C=XX, O=IPsec Test, CN=Test Root CA (a CA of that name is configured, but it did not sign this certificate)"
        ]
    );
    // B sent MM6 and counted its SA up; A's encrypted refusal deletes it,
    // and B names A's notify.
    p.drive_for(Duration::from_secs(5));
    assert!(phase1_up(&p.b.events));
    assert_eq!(
        down_reasons(&p.b.events),
        [DownReason::RefusedByPeer("INVALID-CERTIFICATE".into())]
    );
}

#[test]
fn certificate_whose_issuer_is_not_configured_is_refused() {
    // A trusts only the sub CA, which did not issue b.pem.
    let mut a = a_auth();
    a.trust = TrustStore::new();
    a.trust.add_anchor(cert(SUB_CA));
    let (_, p) = refused(pair(
        rsa_peer(B, ExchangeMode::Main, a, None),
        rsa_peer(A, ExchangeMode::Main, b_auth(), None),
        160,
    ));
    assert_eq!(
        failures(&p.a.events),
        [
            "certificate C=XX, O=IPsec Test, CN=b.example.com was issued by C=XX, O=IPsec Test, CN=Test Root CA, which is not a configured CA certificate nor in the chain the peer sent; add the CA's certificate (ca_type / certificate directory) or set verify_cert off"
        ]
    );
}

/// Seed 000: the PIX identifies by address, its certificate has no
/// subjectAltName IP.
fn pix_to_b(verify_cert: bool, seed: u64) -> Pair {
    let pix = RsaAuthConfig::new(signer(PIX_KEY), vec![cert(PIX_CERT)], root_only());
    let mut b = b_auth();
    b.policy.verify_cert = verify_cert;
    pair_at(
        PIX,
        rsa_peer(B, ExchangeMode::Main, pix, None),
        B,
        rsa_peer(PIX, ExchangeMode::Main, b, None),
        Some(IN_VALIDITY),
        seed,
    )
}

#[test]
fn id_mismatch_gives_seed_000s_message_and_passes_with_verify_cert_off() {
    let (b_fails, p) = refused(pix_to_b(true, 170));
    assert_eq!(
        b_fails.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            "peer identified as 203.0.113.5 (ID_IPV4_ADDR), but its certificate has no subjectAltName IP entry (subject CN=pix.example.com); set verify_cert off or use an ASN.1 DN identity"
        ]
    );
    assert_eq!(
        b_fails[0].notify_type(),
        Some(ike_core::wire::NotifyType::INVALID_ID_INFORMATION)
    );
    assert_eq!(
        initiator_gives_up(p),
        [
            "peer did not complete the negotiation; it sent an unauthenticated INVALID-ID-INFORMATION"
        ]
    );

    let mut p = pix_to_b(false, 175);
    start_and_wait_up(&mut p, Duration::from_secs(10));
}

#[test]
fn wall_clock_not_set_is_named() {
    let (b_fails, _) = refused(pair_at(
        A,
        rsa_peer(B, ExchangeMode::Main, a_auth(), None),
        B,
        rsa_peer(A, ExchangeMode::Main, b_auth(), None),
        None,
        180,
    ));
    assert_eq!(
        b_fails.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            "wall-clock time not set: call Endpoint::set_wall_clock before authenticating certificate peers"
        ]
    );
}

#[test]
fn wall_clock_follows_the_engine_clock() {
    // Set at 2036-11-29 (before notAfter, 2036-11-30 11:11), checked two
    // days of engine time later: the derived wall clock is past notAfter.
    const NOV_29_2036: u64 = 2_111_529_600;
    let mut p = pair_at(
        A,
        rsa_peer(B, ExchangeMode::Main, a_auth(), None),
        B,
        rsa_peer(A, ExchangeMode::Main, b_auth(), None),
        Some(NOV_29_2036),
        190,
    );
    p.advance(Duration::from_secs(2 * 86_400));
    let (b_fails, _) = refused(p);
    let [FailureReason::PeerAuthentication(AuthError::Expired { now, .. })] = &b_fails[..] else {
        panic!("{b_fails:?}");
    };
    assert!(
        (NOV_29_2036 + 2 * 86_400..NOV_29_2036 + 2 * 86_400 + 60).contains(now),
        "{now}"
    );
}

#[test]
fn undecryptable_mm5_is_not_blamed_on_a_pre_shared_key() {
    // Every MM5 arrives with its first ciphertext byte flipped: B cannot
    // parse it, and when the negotiation stalls says so without the PSK
    // hint of the pre-shared-key path.
    let mut a = rsa_peer(B, ExchangeMode::Main, a_auth(), None);
    let mut b = rsa_peer(A, ExchangeMode::Main, b_auth(), None);
    a.fragmentation = Fragmentation::Off;
    b.fragmentation = Fragmentation::Off;
    let mut p = pair(a, b, 210);
    p.intercept = Some(Box::new(|from, bytes| {
        if from == Side::A
            && Message::parse(bytes).is_ok_and(|m| {
                m.header.exchange_type == ExchangeType::MAIN_MODE && m.is_encrypted()
            })
            && let Some(first) = bytes.get_mut(28)
        {
            *first ^= 0x80;
        }
        true
    }));
    start(&mut p);
    p.drive_until(Duration::from_secs(120), |p| {
        !failures(&p.b.events).is_empty()
    });
    assert_eq!(
        failures(&p.b.events),
        [
            "protocol error: MM5 did not decrypt: with RSA signatures the keys come from the DH exchange alone, so the peers derived different SKEYIDs or the message was damaged"
        ]
    );
    assert!(p.b.ep.stats().bad_hash > 0);
}

#[test]
fn psk_and_rsa_transforms_do_not_mix() {
    // A offers RSA signatures, B accepts only PSK: no proposal chosen,
    // naming the authentication method.
    let b = PeerConfig::new(Some(A), vec![pix_phase1()], vec![pix_child()]);
    let (b_fails, _) = refused(pair(
        rsa_peer(B, ExchangeMode::Main, a_auth(), None),
        b,
        200,
    ));
    assert_eq!(b_fails.len(), 1);
    assert!(
        matches!(b_fails[0], FailureReason::NoProposalChosen(_)),
        "{b_fails:?}"
    );
}
