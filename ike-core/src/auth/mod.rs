//! Trust decisions for RSA-signature authentication (RFC 2409 §5.1,
//! method 3): loading certificates and keys, verifying the peer's chain to
//! configured CAs, matching its ID payload against its certificate, and
//! checking its SIG payload over HASH_I / HASH_R.
//!
//! The options mirror racoon's:
//! - `verify_cert` ([`PeerAuthPolicy::verify_cert`]): chain, validity, CRL
//!   and ID ↔ certificate checks;
//! - `peers_identifier` + `verify_identifier`
//!   ([`PeerAuthPolicy::peers_identifier`]): the ID the peer must claim,
//!   with `*` wildcards in DNs;
//! - `peers_certfile` ([`PeerAuthPolicy::pinned`]): a pinned certificate or
//!   a raw RSA key (`plain_rsa`).
//!
//! Whatever the options, the signature is always verified with the peer's
//! key (racoon's CVE-2004-0155 accepted unverified signatures); only
//! [`verify_signature`] builds the [`SignatureVerified`] token.
//!
//! Time is the caller's: [`UnixTime`] is passed in, never read here.
//!
//! Every rejection is an [`AuthError`] whose `Display` names what did not
//! match and, where there is one, the option that would relax it.
//!
//! Our own signatures come from a [`HashSigner`]; `README.md` in this
//! directory shows the engine-facing calls and records why the backend is
//! the blinded `rsa` crate rather than aws-lc-rs (RUSTSEC-2023-0071).

mod chain;
mod error;
mod identity;
mod load;
mod name;
mod plain_rsa;
mod signer;
mod verify;

pub use chain::{TrustStore, VerifiedChain};
pub use error::AuthError;
pub use identity::{ExpectedIdentity, match_identity};
pub use load::{
    Crl, LoadError, PeerCertificate, certificates_from_payload, leaf_first, load_certificates,
    load_private_key, load_public_key,
};
pub use name::DnPattern;
pub(crate) use name::{display_name, same_der_name};
pub use plain_rsa::{load_plain_rsa_private, load_plain_rsa_public};
pub use rustls_pki_types::UnixTime;
pub use signer::{HashSigner, RsaCrateSigner, SignError};
pub use verify::{
    PeerAuthPolicy, PeerAuthenticated, PeerKey, SignatureVerified, authenticate_peer,
    verify_signature,
};
