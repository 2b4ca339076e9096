//! IKEv1 cryptography: Diffie-Hellman groups, PRFs and hashes, the RFC 2409
//! key schedule, Phase 1 ciphers and RSA signatures.
//!
//! Everything here works on byte slices (SA body bytes, ID body bytes, nonces,
//! g^x values) so it does not depend on the message codec. Secrets are held in
//! types that zeroize on drop and print only their length; hashes are checked
//! in constant time with [`HashValue::verify`].
//!
//! | What | Where |
//! |---|---|
//! | DH groups 1, 2, 5, 14–18, 19–21, 31 | [`dh`] |
//! | HMAC PRFs and hashes | [`prf`] |
//! | SKEYID, SKEYID_d/a/e, Appendix B | [`key_schedule`] |
//! | Phase 1 / Phase 2 IVs and CBC chaining | [`iv`] |
//! | HASH_I, HASH_R | [`phase1_hash`] |
//! | Quick Mode HASH(1)–HASH(4), KEYMAT | [`quick_mode`] |
//! | Informational HASH(1) | [`informational`] |
//! | NAT-D | [`nat_d`] |
//! | DES, 3DES, AES, Blowfish, CAST-128, Camellia in CBC | [`cipher`] |
//! | RSA PKCS#1 v1.5 signatures without DigestInfo | [`rsa_sig`] |

// Peer values and ciphertexts reach this module straight from the network.
#![deny(clippy::indexing_slicing)]

pub mod cipher;
pub mod dh;
mod error;
pub mod informational;
pub mod iv;
pub mod key_schedule;
pub mod nat_d;
pub mod phase1_hash;
pub mod prf;
pub mod quick_mode;
pub mod rsa_sig;
mod secret;

pub use cipher::{CipherAlgorithm, Phase1Cipher};
pub use dh::{DhGroup, DhPrivateKey};
pub use error::CryptoError;
pub use iv::{Iv, IvChain};
pub use key_schedule::{KeySchedule, Phase1Auth, Phase1Inputs, Phase1Keys};
pub use phase1_hash::Phase1HashInputs;
pub use prf::{HashAlgorithm, Prf};
pub use quick_mode::KeymatInputs;
pub use secret::{EncryptionKey, Gxy, HashValue, Keymat, Skeyid, SkeyidA, SkeyidD, SkeyidE};
