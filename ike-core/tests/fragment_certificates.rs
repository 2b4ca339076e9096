//! MM5 with a 4096-bit certificate chain, fragmented for 576- and 1280-byte
//! paths, reordered, with a lost fragment resent, reassembled, parsed, and
//! authenticated: fragmentation and the trust decision end to end.

use std::time::Instant;

use ike_core::auth::{
    HashSigner, PeerAuthPolicy, RsaCrateSigner, TrustStore, UnixTime, authenticate_peer,
    certificates_from_payload, load_certificates,
};
use ike_core::fragment::{
    FragmentSizing, Reassembler, ReassemblyLimits, ReassemblyOutcome, fragment_message,
};
use ike_core::wire::{
    Certificate, Cookie, ExchangeType, Header, Identification, Identity, Message, MessageId,
    PayloadBody, Signature, TypedPayload,
};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

const BIG: &[u8] = include_bytes!("data/auth/big.pem");
const BIG_KEY: &[u8] = include_bytes!("data/auth/big.key");
const ROOT: &[u8] = include_bytes!("data/auth/root-ca.pem");

#[allow(clippy::disallowed_methods)] // a test epoch
fn epoch() -> Instant {
    Instant::now()
}

#[test]
fn mm5_with_4096_bit_chain_survives_small_paths() {
    let leaf = load_certificates(BIG).unwrap().remove(0);
    let root = load_certificates(ROOT).unwrap().remove(0);
    let hash_i = [0x5a; 20];
    let signer = RsaCrateSigner::load(BIG_KEY).unwrap();
    let sig = signer
        .sign_hash(&mut ChaCha20Rng::seed_from_u64(9), &hash_i)
        .unwrap();
    let id = Identity::Ipv4("198.51.100.20".parse().unwrap());
    // MM5 as racoon sends it: ID, CERT (leaf), CERT (CA), SIG. Shown in the
    // clear here; the fragmenter does not care whether the body is encrypted.
    let header = Header::new(
        Cookie([3; 8]),
        Cookie([4; 8]),
        ExchangeType::MAIN_MODE,
        MessageId(0),
    );
    let mm5 = Message::new(
        header,
        vec![
            Identification::new(id.clone()).to_payload().unwrap(),
            leaf.to_cert_payload().to_payload().unwrap(),
            root.to_cert_payload().to_payload().unwrap(),
            Signature::new(sig).to_payload().unwrap(),
        ],
    )
    .to_bytes()
    .unwrap();
    assert!(mm5.len() > 2500, "{}", mm5.len());

    for mtu in [576, 1280] {
        let sizing = FragmentSizing::ipv4(mtu);
        let mut datagrams = fragment_message(&mm5, 1, sizing).unwrap();
        assert!(datagrams.len() >= 2);
        assert!(datagrams.iter().all(|d| d.len() + 28 <= mtu));
        // Reverse the order, drop the second, resend everything.
        datagrams.reverse();
        let lost = datagrams.remove(1);
        let mut r = Reassembler::new(ReassemblyLimits::default());
        let now = epoch();
        for d in &datagrams {
            assert_eq!(r.handle(now, "peer", d), Ok(ReassemblyOutcome::Pending));
        }
        datagrams.insert(1, lost);
        let done: Vec<Vec<u8>> = datagrams
            .iter()
            .filter_map(|d| match r.handle(now, "peer", d).unwrap() {
                ReassemblyOutcome::Complete(m) => Some(m),
                _ => None,
            })
            .collect();
        assert_eq!(done, vec![mm5.clone()]);

        // The responder's side: parse, collect CERTs, authenticate.
        let msg = Message::parse(&done[0]).unwrap();
        let (mut peer_id, mut certs, mut sig) = (None, Vec::new(), None);
        for p in msg.payloads().unwrap() {
            match p.decode().unwrap() {
                TypedPayload::Identification(i) => peer_id = Some(i.identity),
                TypedPayload::Certificate(Certificate { encoding, data }) => {
                    certs.extend(certificates_from_payload(encoding, &data).unwrap());
                }
                TypedPayload::Signature(s) => sig = Some(s),
                other => panic!("unexpected {other:?}"),
            }
        }
        let mut trust = TrustStore::new();
        trust.add_anchor(root.clone());
        let nb = leaf
            .parsed()
            .tbs_certificate
            .validity
            .not_before
            .to_unix_duration();
        let ok = authenticate_peer(
            &PeerAuthPolicy::default(),
            &trust,
            &peer_id.unwrap(),
            &certs,
            &hash_i,
            &sig.unwrap().to_body().unwrap(),
            UnixTime::since_unix_epoch(nb + std::time::Duration::from_secs(10)),
        )
        .unwrap();
        assert_eq!(ok.chain.unwrap().length, 2);
    }
    // CR payloads for send_cr name the configured CA.
    let mut trust = TrustStore::new();
    trust.add_anchor(root.clone());
    let crs = trust.certificate_requests();
    assert_eq!(crs.len(), 1);
    assert_eq!(crs[0].authority, root.subject_der().unwrap());
}
