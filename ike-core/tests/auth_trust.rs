//! Trust decisions for RSA-signature peers, against a test PKI made by
//! OpenSSL (`tests/data/auth/make-pki.sh`), including a signature made by
//! OpenSSL itself.

use std::net::Ipv4Addr;
use std::time::Duration;

use ike_core::auth::{
    AuthError, Crl, DnPattern, ExpectedIdentity, PeerAuthPolicy, PeerCertificate, PeerKey,
    TrustStore, UnixTime, authenticate_peer, certificates_from_payload, leaf_first,
    load_certificates, load_private_key, load_public_key, match_identity, verify_signature,
};
use ike_core::crypto::rsa_sig;
use ike_core::wire::{CertEncoding, Identity};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

macro_rules! data {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/auth/",
            $name
        ))
        .as_slice()
    };
}

fn cert(bytes: &[u8]) -> PeerCertificate {
    let mut all = load_certificates(bytes).unwrap();
    assert_eq!(all.len(), 1);
    all.remove(0)
}

fn root_store() -> TrustStore {
    let mut store = TrustStore::new();
    store.add_anchor(cert(data!("root-ca.pem")));
    store
}

/// A day into the certificates' validity.
fn valid_now(c: &PeerCertificate) -> UnixTime {
    let nb = c
        .parsed()
        .tbs_certificate
        .validity
        .not_before
        .to_unix_duration();
    UnixTime::since_unix_epoch(nb + Duration::from_secs(86_400))
}

const GW_SUBJECT: &str = "C=XX, O=IPsec Test, OU=Gateways, CN=gw.example.com";
const GW_IP: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 5);

fn gw_chain() -> Vec<PeerCertificate> {
    load_certificates(data!("gw-chain.pem")).unwrap()
}

#[test]
fn loads_every_encoding() {
    let gw = cert(data!("gw.pem"));
    assert_eq!(gw.subject(), GW_SUBJECT);
    assert_eq!(gw.issuer(), "C=XX, O=IPsec Test, CN=Test Sub CA");
    assert_eq!(cert(data!("gw.der")), gw);
    assert_eq!(gw.der().as_ref(), data!("gw.der"));
    let chain = gw_chain();
    assert_eq!(chain.len(), 2);
    // PKCS#7 is a DER SET OF: the sender's order is lost (here the CA
    // sorts first); leaf_first restores leaf-then-issuers.
    let bundle = load_certificates(data!("gw-chain.p7b")).unwrap();
    assert_eq!(bundle.len(), 2);
    assert_eq!(leaf_first(bundle), chain);
    assert_eq!(
        certificates_from_payload(CertEncoding::PKCS7, data!("gw-chain.p7b")).unwrap(),
        chain
    );
    assert_eq!(
        certificates_from_payload(CertEncoding::X509_SIGNATURE, data!("gw.der")).unwrap(),
        vec![gw.clone()]
    );
    assert!(certificates_from_payload(CertEncoding::PGP, data!("gw.der")).is_err());
    assert!(load_certificates(b"not a certificate").is_err());
    assert!(load_certificates(b"-----BEGIN CERTIFICATE-----\nAAAA\n").is_err());

    let key = gw.rsa_public_key().unwrap();
    assert_eq!(load_public_key(data!("gw.rsapub.pem")).unwrap(), key);
    assert_eq!(load_public_key(data!("gw.spki.pem")).unwrap(), key);
    let private = load_private_key(data!("gw.key")).unwrap();
    assert_eq!(load_private_key(data!("gw.pkcs1.key")).unwrap(), private);
    assert_eq!(rsa::RsaPublicKey::from(&private), key);
}

#[test]
fn valid_chain_through_an_intermediate() {
    let chain = gw_chain();
    let verified = root_store()
        .verify(&chain[0], &chain[1..], valid_now(&chain[0]))
        .unwrap();
    assert_eq!(verified.leaf_subject, GW_SUBJECT);
    assert_eq!(
        verified.anchor_subject,
        "C=XX, O=IPsec Test, CN=Test Root CA"
    );
    assert_eq!(verified.length, 3);
    // SHA-1 (pix) and SHA-512 with a 4096-bit key (big) verify as well.
    for c in [cert(data!("pix.pem")), cert(data!("big.pem"))] {
        assert_eq!(
            root_store().verify(&c, &[], valid_now(&c)).unwrap().length,
            2
        );
    }
}

#[test]
fn openssl_signature_over_hash_verifies_and_flipped_fails() {
    let gw = cert(data!("gw.pem"));
    let hash = data!("gw.hash");
    let sig = data!("gw.hash.sig");
    assert_eq!(hash.len(), 20);
    verify_signature(PeerKey::Certificate(&gw), hash, sig).unwrap();
    let mut bad = sig.to_vec();
    bad[100] ^= 1;
    let err = verify_signature(PeerKey::Certificate(&gw), hash, &bad).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "the peer's SIG payload does not verify over HASH with the key of certificate {GW_SUBJECT}: \
             the peer does not hold that key, or the two sides derived different SKEYIDs"
        )
    );
    // Our signer produces exactly OpenSSL's bytes (PKCS#1 v1.5 is deterministic).
    let private = load_private_key(data!("gw.key")).unwrap();
    let ours = rsa_sig::sign(&mut ChaCha20Rng::seed_from_u64(1), &private, hash).unwrap();
    assert_eq!(ours, sig);
}

fn authenticate(
    policy: &PeerAuthPolicy,
    id: &Identity,
    certs: &[PeerCertificate],
    sig: &[u8],
    now: UnixTime,
) -> Result<(), AuthError> {
    authenticate_peer(policy, &root_store(), id, certs, data!("gw.hash"), sig, now).map(|_| ())
}

#[test]
fn good_peer_is_authenticated() {
    let chain = gw_chain();
    let now = valid_now(&chain[0]);
    let ok = authenticate_peer(
        &PeerAuthPolicy::default(),
        &root_store(),
        &Identity::Ipv4(GW_IP),
        &chain,
        data!("gw.hash"),
        data!("gw.hash.sig"),
        now,
    )
    .unwrap();
    assert_eq!(ok.chain.unwrap().length, 3);
}

/// CVE-2004-0155 class: a valid certificate with a bad signature fails, with
/// verify_cert on or off.
#[test]
fn valid_certificate_bad_signature_fails() {
    let chain = gw_chain();
    let now = valid_now(&chain[0]);
    let mut bad = data!("gw.hash.sig").to_vec();
    bad[0] ^= 0x40;
    for verify_cert in [true, false] {
        let policy = PeerAuthPolicy {
            verify_cert,
            ..PeerAuthPolicy::default()
        };
        let err = authenticate(&policy, &Identity::Ipv4(GW_IP), &chain, &bad, now).unwrap_err();
        assert!(matches!(err, AuthError::BadSignature { .. }), "{err}");
        // Truncated and empty signatures as well.
        for short in [&bad[..255], &[][..]] {
            let err = authenticate(&policy, &Identity::Ipv4(GW_IP), &chain, short, now);
            assert!(matches!(err, Err(AuthError::BadSignature { .. })));
        }
    }
}

#[test]
fn expired_and_not_yet_valid() {
    let chain = gw_chain();
    let validity = chain[0].parsed().tbs_certificate.validity;
    let not_after = validity.not_after.to_unix_duration();
    let not_before = validity.not_before.to_unix_duration();
    let sig = data!("gw.hash.sig");
    let id = Identity::Ipv4(GW_IP);
    let policy = PeerAuthPolicy::default();
    let late = UnixTime::since_unix_epoch(not_after + Duration::from_secs(1));
    let err = authenticate(&policy, &id, &chain, sig, late).unwrap_err();
    assert_eq!(
        err,
        AuthError::Expired {
            subject: GW_SUBJECT.into(),
            not_after: not_after.as_secs(),
            now: not_after.as_secs() + 1,
        }
    );
    assert!(
        err.to_string()
            .starts_with(&format!("certificate {GW_SUBJECT} expired at "))
    );
    let early = UnixTime::since_unix_epoch(not_before - Duration::from_secs(1));
    let err = authenticate(&policy, &id, &chain, sig, early).unwrap_err();
    assert!(matches!(err, AuthError::NotYetValid { ref subject, .. } if subject == GW_SUBJECT));
    // The boundaries themselves are inside the validity period (RFC 5280
    // §4.1.2.5). The root was made first, so its notAfter is the chain's.
    let root = cert(data!("root-ca.pem"));
    let chain_end = root
        .parsed()
        .tbs_certificate
        .validity
        .not_after
        .to_unix_duration();
    for edge in [not_before, chain_end] {
        authenticate(&policy, &id, &chain, sig, UnixTime::since_unix_epoch(edge)).unwrap();
    }
    let err = authenticate(
        &policy,
        &id,
        &chain,
        sig,
        UnixTime::since_unix_epoch(chain_end + Duration::from_secs(1)),
    )
    .unwrap_err();
    assert!(matches!(err, AuthError::Expired { ref subject, .. } if subject.contains(" CA")));
}

#[test]
fn untrusted_ca_fails() {
    // Missing intermediate: the issuer is neither configured nor sent.
    let chain = gw_chain();
    let now = valid_now(&chain[0]);
    let err = root_store().verify(&chain[0], &[], now).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "certificate {GW_SUBJECT} was issued by C=XX, O=IPsec Test, CN=Test Sub CA, which is not a \
             configured CA certificate nor in the chain the peer sent; add the CA's certificate \
             (ca_type / certificate directory) or set verify_cert off"
        )
    );
    // A rogue CA with the trusted CA's exact name: the name matches, the key does not.
    let rogue = cert(data!("rogue.pem"));
    assert_eq!(rogue.subject(), GW_SUBJECT);
    let err = root_store().verify(&rogue, &[], now).unwrap_err();
    assert_eq!(
        err,
        AuthError::BadCertificateSignature {
            subject: GW_SUBJECT.into(),
            issuer: "C=XX, O=IPsec Test, CN=Test Root CA".into(),
        }
    );
    // Even when the peer sends the rogue CA along.
    let rogue_ca = cert(data!("rogue-ca.pem"));
    assert!(matches!(
        root_store().verify(&rogue, &[rogue_ca], now),
        Err(AuthError::BadCertificateSignature { .. })
    ));
    // An empty store trusts nothing.
    assert!(matches!(
        TrustStore::new().verify(&chain[0], &chain[1..], now),
        Err(AuthError::UntrustedIssuer { .. })
    ));
}

#[test]
fn revoked_by_crl_fails() {
    let revoked = cert(data!("revoked.pem"));
    let now = valid_now(&revoked);
    assert!(
        root_store().verify(&revoked, &[], now).is_ok(),
        "no CRL, no revocation"
    );
    for crl in [data!("root-ca.crl.pem"), data!("root-ca.crl.der")] {
        let mut store = root_store();
        store.add_crl(Crl::load(crl).unwrap());
        let err = store.verify(&revoked, &[], now).unwrap_err();
        assert!(
            matches!(&err, AuthError::Revoked { subject, crl_issuer, .. }
                if subject == "C=XX, O=IPsec Test, CN=revoked.example.com"
                && crl_issuer == "C=XX, O=IPsec Test, CN=Test Root CA"),
            "{err}"
        );
        // Others on the same CA are unaffected.
        store.verify(&cert(data!("pix.pem")), &[], now).unwrap();
    }
    assert!(Crl::load(b"garbage").is_err());
}

#[test]
fn non_ca_issuer_fails_basic_constraints() {
    let leaf = cert(data!("leaf-issued.pem"));
    let mut sent = gw_chain();
    let now = valid_now(&leaf);
    sent.insert(0, leaf.clone());
    let err = root_store().verify(&leaf, &sent[1..], now).unwrap_err();
    assert_eq!(
        err,
        AuthError::NotACa {
            subject: GW_SUBJECT.into(),
            child: "CN=leaf-issued.example.com".into(),
        }
    );
}

/// Seed 000: the PIX identifies by address, its certificate has no SAN.
#[test]
fn seed_000_address_without_san_and_relaxed() {
    let pix = cert(data!("pix.pem"));
    let id = Identity::Ipv4(GW_IP);
    let err = match_identity(&id, &pix).unwrap_err();
    assert_eq!(
        err.to_string(),
        "peer identified as 203.0.113.5 (ID_IPV4_ADDR), but its certificate has no subjectAltName IP \
         entry (subject CN=pix.example.com); set verify_cert off or use an ASN.1 DN identity"
    );
    // Through the whole decision too; with verify_cert off only the signature
    // counts (and it is pix's key that must have signed).
    let now = valid_now(&pix);
    let certs = [pix];
    let err = authenticate(&PeerAuthPolicy::default(), &id, &certs, &[0; 256], now).unwrap_err();
    assert!(matches!(err, AuthError::NoSubjectAltName { .. }));
    let relaxed = PeerAuthPolicy {
        verify_cert: false,
        ..PeerAuthPolicy::default()
    };
    let err = authenticate(&relaxed, &id, &certs, data!("gw.hash.sig"), now).unwrap_err();
    assert!(matches!(err, AuthError::BadSignature { ref key } if key.contains("pix.example.com")));
    let pix_key = load_private_key(data!("pix.key")).unwrap();
    let sig = rsa_sig::sign(
        &mut ChaCha20Rng::seed_from_u64(2),
        &pix_key,
        data!("gw.hash"),
    )
    .unwrap();
    authenticate(&relaxed, &id, &certs, &sig, now).unwrap();
}

#[test]
fn identity_types_against_the_certificate() {
    let gw = cert(data!("gw.pem"));
    let ok = [
        Identity::Ipv4(GW_IP),
        Identity::Fqdn(b"gw.example.com".to_vec()),
        Identity::Fqdn(b"GW.Example.COM".to_vec()),
        Identity::UserFqdn(b"admin@example.com".to_vec()),
        Identity::DerAsn1Dn(gw.subject_der().unwrap()),
    ];
    for id in &ok {
        match_identity(id, &gw).unwrap_or_else(|e| panic!("{id:?}: {e}"));
    }
    let err = match_identity(&Identity::Ipv4(Ipv4Addr::new(192, 0, 2, 99)), &gw).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "peer identified as 192.0.2.99 (ID_IPV4_ADDR), but its certificate's subjectAltName IP \
             entries are 203.0.113.5 (subject {GW_SUBJECT}); set verify_cert off or fix my_identifier on the peer"
        )
    );
    let err = match_identity(&Identity::Ipv6("2001:db8::1".parse().unwrap()), &gw).unwrap_err();
    assert!(matches!(
        err,
        AuthError::SubjectAltNameMismatch {
            kind: "IP",
            id_type: "ID_IPV6_ADDR",
            ..
        }
    ));
    let err = match_identity(&Identity::Fqdn(b"vpn.example.com".to_vec()), &gw).unwrap_err();
    assert!(
        matches!(err, AuthError::SubjectAltNameMismatch { kind: "DNS", ref found, .. } if found == "gw.example.com")
    );
    let err = match_identity(&Identity::UserFqdn(b"root@example.com".to_vec()), &gw).unwrap_err();
    assert!(matches!(
        err,
        AuthError::SubjectAltNameMismatch { kind: "email", .. }
    ));
    let pix = cert(data!("pix.pem"));
    let err = match_identity(&Identity::DerAsn1Dn(pix.subject_der().unwrap()), &gw).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "peer identified as CN=pix.example.com (ID_DER_ASN1_DN), but its certificate's subject is \
             {GW_SUBJECT}; set verify_cert off or use the certificate's subject as my_identifier on the peer"
        )
    );
    let err = match_identity(&Identity::KeyId(b"k".to_vec()), &gw).unwrap_err();
    assert!(matches!(err, AuthError::UncheckableIdType { .. }));
}

#[test]
fn peers_identifier_with_wildcards() {
    let gw = cert(data!("gw.pem"));
    let name = &gw.parsed().tbs_certificate.subject;
    for pattern in [
        "C=XX, O=IPsec Test, OU=Gateways, CN=gw.example.com",
        "C=XX, O=IPsec Test, OU=*, CN=gw.example.com",
        "C=*, O=*, OU=*, CN=*",
        "/C=XX/O=IPsec Test/OU=Gateways/CN=*",
        "c=XX,o=IPsec Test,ou=Gateways,cn=*",
    ] {
        assert!(
            DnPattern::parse(pattern).unwrap().matches(name),
            "{pattern}"
        );
    }
    for pattern in [
        "C=XX, O=Other, OU=*, CN=*",
        "C=XX, O=IPsec Test, CN=*",
        "CN=gw.example.com, OU=Gateways, O=IPsec Test, C=XX",
        "C=XX, O=IPsec Test, OU=Gateways, CN=gw*",
    ] {
        assert!(
            !DnPattern::parse(pattern).unwrap().matches(name),
            "{pattern}"
        );
    }
    assert!(DnPattern::parse("").is_none());
    assert!(DnPattern::parse("C=XX, garbage").is_none());

    let chain = gw_chain();
    let now = valid_now(&chain[0]);
    let dn_id = Identity::DerAsn1Dn(gw.subject_der().unwrap());
    let policy = |expected| PeerAuthPolicy {
        peers_identifier: Some(expected),
        ..PeerAuthPolicy::default()
    };
    let wildcard =
        ExpectedIdentity::Asn1Dn(DnPattern::parse("C=XX, O=IPsec Test, OU=*, CN=*").unwrap());
    authenticate(&policy(wildcard), &dn_id, &chain, data!("gw.hash.sig"), now).unwrap();
    let other = ExpectedIdentity::Asn1Dn(
        DnPattern::parse("C=XX, O=IPsec Test, OU=*, CN=pix.example.com").unwrap(),
    );
    let err = authenticate(&policy(other), &dn_id, &chain, data!("gw.hash.sig"), now).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "peer identified as {GW_SUBJECT} (ID_DER_ASN1_DN), but peers_identifier expects \
             C=XX, O=IPsec Test, OU=*, CN=pix.example.com (asn1dn); fix peers_identifier or set verify_identifier off"
        )
    );
    let addr = ExpectedIdentity::Address(GW_IP.into());
    authenticate(
        &policy(addr.clone()),
        &Identity::Ipv4(GW_IP),
        &chain,
        data!("gw.hash.sig"),
        now,
    )
    .unwrap();
    assert!(!addr.matches(&dn_id, None));
    assert!(
        ExpectedIdentity::Fqdn("GW.example.com".into())
            .matches(&Identity::Fqdn(b"gw.example.com".to_vec()), None)
    );
}

#[test]
fn pinned_certificate_and_raw_key() {
    let chain = gw_chain();
    let now = valid_now(&chain[0]);
    let sig = data!("gw.hash.sig");
    let id = Identity::Ipv4(GW_IP);
    let pinned = PeerAuthPolicy {
        pinned: Some(chain[0].clone()),
        ..PeerAuthPolicy::default()
    };
    authenticate(&pinned, &id, &chain, sig, now).unwrap();
    // Nothing sent: the pinned certificate is used (its chain needs the
    // intermediate, so relax verify_cert as a peers_certfile user would).
    let pinned_only = PeerAuthPolicy {
        verify_cert: false,
        ..pinned.clone()
    };
    authenticate(&pinned_only, &id, &[], sig, now).unwrap();
    let rogue = cert(data!("rogue.pem"));
    let err = authenticate(&pinned, &id, &[rogue], sig, now).unwrap_err();
    assert!(matches!(err, AuthError::NotPinned { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("not the pinned peers_certfile certificate")
    );

    let plain_rsa = PeerAuthPolicy {
        raw_key: Some(load_public_key(data!("gw.rsapub.pem")).unwrap()),
        ..PeerAuthPolicy::default()
    };
    authenticate(&plain_rsa, &id, &[], sig, now).unwrap();
    let err = authenticate(&plain_rsa, &id, &[], &sig[1..], now).unwrap_err();
    assert!(err.to_string().contains("the raw RSA key (plain_rsa)"));

    assert_eq!(
        authenticate(&PeerAuthPolicy::default(), &id, &[], sig, now),
        Err(AuthError::NoPeerKey)
    );
}

#[test]
fn our_signer_matches_openssl_and_hides_the_key() {
    use ike_core::auth::{HashSigner, RsaCrateSigner};
    let signer = RsaCrateSigner::load(data!("gw.key")).unwrap();
    assert_eq!(signer.signature_len(), 256);
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let sig = signer.sign_hash(&mut rng, data!("gw.hash")).unwrap();
    assert_eq!(sig, data!("gw.hash.sig"));
    let gw = cert(data!("gw.pem"));
    verify_signature(PeerKey::Certificate(&gw), data!("gw.hash"), &sig).unwrap();
    assert_eq!(
        format!("{signer:?}"),
        "RsaCrateSigner { modulus_bits: 2048 }"
    );
    // A value longer than the padding allows is refused, not truncated.
    assert!(signer.sign_hash(&mut rng, &[0; 250]).is_err());
    let big = RsaCrateSigner::load(data!("big.key")).unwrap();
    assert_eq!(big.sign_hash(&mut rng, &[1; 64]).unwrap().len(), 512);
}

/// Seeds 001/003: `my_identifier asn1dn; peers_identifier asn1dn;
/// verify_identifier on;` — the peer's ID must be its certificate's subject.
#[test]
fn peers_identifier_asn1dn_without_a_name() {
    let chain = gw_chain();
    let now = valid_now(&chain[0]);
    let policy = PeerAuthPolicy {
        peers_identifier: Some(ExpectedIdentity::Asn1DnOfCertificate),
        ..PeerAuthPolicy::default()
    };
    let own = Identity::DerAsn1Dn(chain[0].subject_der().unwrap());
    authenticate(&policy, &own, &chain, data!("gw.hash.sig"), now).unwrap();
    let err = authenticate(
        &policy,
        &Identity::Ipv4(GW_IP),
        &chain,
        data!("gw.hash.sig"),
        now,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "peer identified as 203.0.113.5 (ID_IPV4_ADDR), but peers_identifier expects {GW_SUBJECT} \
             (asn1dn, its certificate's subject); fix peers_identifier or set verify_identifier off"
        )
    );
    let sub = Identity::DerAsn1Dn(chain[1].subject_der().unwrap());
    assert!(matches!(
        authenticate(&policy, &sub, &chain, data!("gw.hash.sig"), now),
        Err(AuthError::UnexpectedIdentity { .. })
    ));
}

/// racoon's plain_rsa files (plainrsa-gen layout) of the gw key.
#[test]
fn racoon_plain_rsa_files() {
    use ike_core::auth::{load_plain_rsa_private, load_plain_rsa_public};
    let gw_key = cert(data!("gw.pem")).rsa_public_key().unwrap();
    let block = std::str::from_utf8(data!("gw.plainrsa")).unwrap();
    let pub_line = std::str::from_utf8(data!("gw.plainrsa.pub")).unwrap();
    assert_eq!(load_plain_rsa_public(pub_line).unwrap(), gw_key);
    assert_eq!(load_plain_rsa_public(block).unwrap(), gw_key);
    let private = load_plain_rsa_private(block).unwrap();
    assert_eq!(private, load_private_key(data!("gw.key")).unwrap());
    let sig = rsa_sig::sign(
        &mut ChaCha20Rng::seed_from_u64(4),
        &private,
        data!("gw.hash"),
    )
    .unwrap();
    assert_eq!(sig, data!("gw.hash.sig"));
    // Broken files say what is wrong.
    assert!(load_plain_rsa_public(": PUB 0s").is_err());
    assert!(load_plain_rsa_public(": PUB 0sAQ==").is_err());
    assert!(load_plain_rsa_public(": PUB 0xzz").is_err());
    let no_d = block.replace("PrivateExponent", "Unknown");
    let e = load_plain_rsa_private(&no_d).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot read plain_rsa key: RSA block lacks PrivateExponent"
    );
    let bad_prime = block.replace("Prime1: 0x", "Prime1: 0x1");
    assert!(load_plain_rsa_private(&bad_prime).is_err());
    assert!(load_plain_rsa_private(": RSA {\n Modulus: 0x01\n").is_err());
}

/// A leaf whose issuer field spells its CA's DN in PrintableString while the
/// CA's subject uses UTF8String (`string-types/make-string-types.py`) is the
/// same name (RFC 5280 §7.1); OpenSSL's `verify` accepts the pair too. A CA
/// of another name still does not issue it.
#[test]
fn issuer_names_compare_across_string_types() {
    let ca = cert(data!("string-types/ca.pem"));
    let leaf = cert(data!("string-types/leaf.pem"));
    assert_ne!(
        ca.parsed().tbs_certificate.subject,
        leaf.parsed().tbs_certificate.issuer,
        "the test needs differently encoded names"
    );
    let mut store = TrustStore::new();
    store.add_anchor(ca);
    let verified = store.verify(&leaf, &[], valid_now(&leaf)).unwrap();
    assert_eq!(verified.length, 2);
    assert_eq!(
        verified.anchor_subject,
        "C=XX, O=String Types Test, CN=String Types CA"
    );
    // With the CA only in the peer's bundle and another PKI's root trusted,
    // the issuer is found by name across the string types and the chain ends
    // at an issuer we do not trust.
    let err = root_store()
        .verify(
            &leaf,
            &[cert(data!("string-types/ca.pem"))],
            valid_now(&leaf),
        )
        .unwrap_err();
    assert!(matches!(err, AuthError::UntrustedIssuer { .. }), "{err}");
}
