//! Certificate, bundle and CRL input from the network or from files: never a
//! panic, and any one-byte change to a valid certificate makes it fail.

use std::time::Duration;

use ike_core::auth::{
    Crl, PeerCertificate, TrustStore, UnixTime, certificates_from_payload, load_certificates,
    load_plain_rsa_private, load_plain_rsa_public, load_public_key,
};
use ike_core::wire::CertEncoding;
use proptest::prelude::*;

const GW_DER: &[u8] = include_bytes!("data/auth/gw.der");
const CHAIN_P7B: &[u8] = include_bytes!("data/auth/gw-chain.p7b");
const CRL_DER: &[u8] = include_bytes!("data/auth/root-ca.crl.der");
const ROOT: &[u8] = include_bytes!("data/auth/root-ca.pem");
const SUB: &[u8] = include_bytes!("data/auth/sub-ca.pem");

fn store() -> TrustStore {
    let mut s = TrustStore::new();
    s.add_anchor(load_certificates(ROOT).unwrap().remove(0));
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = load_certificates(&data);
        let _ = certificates_from_payload(CertEncoding::PKCS7, &data);
        let _ = certificates_from_payload(CertEncoding::X509_SIGNATURE, &data);
        let _ = Crl::load(&data);
        let _ = load_public_key(&data);
        let text = String::from_utf8_lossy(&data);
        let _ = load_plain_rsa_public(&text);
        let _ = load_plain_rsa_private(&text);
        let _ = load_plain_rsa_public(&format!(": PUB 0s{text}"));
        let _ = load_plain_rsa_private(&format!(": RSA {{\n Modulus: 0x{text}\n}}"));
        let mut pem = b"-----BEGIN CERTIFICATE-----\n".to_vec();
        pem.extend_from_slice(&data);
        let _ = load_certificates(&pem);
    }

    #[test]
    fn truncations_never_panic(cut in 0usize..1400) {
        for input in [GW_DER, CHAIN_P7B, CRL_DER] {
            let cut = cut.min(input.len());
            let _ = load_certificates(&input[..cut]);
            let _ = Crl::load(&input[..cut]);
        }
    }

    /// Every byte of a certificate is covered by its signature or decides
    /// how it is checked: one changed byte and the chain no longer verifies.
    #[test]
    fn any_changed_byte_breaks_the_chain(at in 0usize..GW_DER.len(), xor in 1u8..=255) {
        let sub = load_certificates(SUB).unwrap();
        let good = PeerCertificate::from_der(GW_DER).unwrap();
        let validity = good.parsed().tbs_certificate.validity;
        let now = UnixTime::since_unix_epoch(validity.not_before.to_unix_duration() + Duration::from_secs(60));
        prop_assert!(store().verify(&good, &sub, now).is_ok());
        let mut bad = GW_DER.to_vec();
        bad[at] ^= xor;
        if let Ok(cert) = PeerCertificate::from_der(&bad) {
            prop_assert!(store().verify(&cert, &sub, now).is_err());
        }
    }
}
