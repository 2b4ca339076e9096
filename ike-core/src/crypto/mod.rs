//! IKEv1 cryptography: Diffie-Hellman groups, PRFs and hashes, the RFC 2409
//! key schedule, Phase 1 ciphers and RSA signatures.
