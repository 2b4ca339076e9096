//! The IKEv1 exchanges, each a set of state structs holding only what is
//! valid in that state:
//!
//! - [`main_mode`]: Phase 1 Main Mode (RFC 2409 §5), pre-shared keys or
//!   RSA signatures;
//! - [`aggressive_mode`]: Phase 1 Aggressive Mode, likewise;
//! - [`signature`]: what RSA-signature authentication (§5.1) adds to both;
//! - [`quick_mode`]: Phase 2 Quick Mode (RFC 2409 §5.5), PFS optional;
//! - [`informational`]: protected Notify and Delete (RFC 2408 §4.8, RFC 2409 §5.7);
//! - [`nat`]: NAT-T vendor IDs, NAT-D and detection (RFC 3947);
//! - [`proposals`]: SA payloads built from configuration and chosen from offers.
//!
//! This module holds what they share: the encryption of message bodies
//! under the ISAKMP SA and the IV chain.

pub(crate) mod aggressive_mode;
pub(crate) mod informational;
pub(crate) mod main_mode;
pub(crate) mod nat;
pub(crate) mod proof;
pub(crate) mod proposals;
pub(crate) mod quick_mode;
pub(crate) mod signature;

use crate::crypto::{IvChain, KeySchedule, Prf};
use crate::wire::{
    Header, Message, MessageBody, Payload, PayloadType, emit_chain, parse_plaintext,
};

/// The keys of an ISAKMP SA once SKEYID is known, and its IV chain.
#[derive(Debug)]
pub(crate) struct Phase1Session {
    pub(crate) keys: KeySchedule,
    pub(crate) ivs: IvChain,
}

/// A decrypted message: its payloads and the received bytes of the chain.
#[allow(dead_code, reason = "chain positions serve the Quick Mode hashes")]
pub(crate) struct Decrypted {
    pub(crate) payloads: Vec<Payload>,
    /// The chain as received, without padding.
    pub(crate) chain: Vec<u8>,
    /// Where each payload starts in `chain`.
    pub(crate) starts: Vec<usize>,
    /// The ciphertext, to advance the IV chain once the message is accepted.
    pub(crate) ciphertext: Vec<u8>,
}

#[allow(dead_code, reason = "used by Quick Mode and Informational")]
impl Decrypted {
    /// The first payload of type `ty`.
    pub(crate) fn find(&self, ty: PayloadType) -> Option<&Payload> {
        self.payloads.iter().find(|p| p.ty == ty)
    }

    /// Every payload of type `ty`.
    pub(crate) fn all(&self, ty: PayloadType) -> impl Iterator<Item = &Payload> {
        self.payloads.iter().filter(move |p| p.ty == ty)
    }

    /// The bytes after the first payload (the HASH payload of a Phase 2 or
    /// Informational message), as received.
    pub(crate) fn after_first(&self) -> &[u8] {
        let start = self.starts.get(1).copied().unwrap_or(self.chain.len());
        self.chain.get(start..).unwrap_or_default()
    }
}

#[allow(dead_code, reason = "used by Quick Mode and Informational")]
impl Phase1Session {
    /// The PRF.
    pub(crate) fn prf(&self) -> Prf {
        self.keys.prf()
    }

    /// Builds an encrypted message: `payloads` emitted as a chain, padded,
    /// and encrypted under the IV chain of `header.message_id`.
    pub(crate) fn seal(&mut self, header: Header, payloads: &[Payload]) -> Option<Vec<u8>> {
        let mut plain = Vec::new();
        let first = emit_chain(payloads, &mut plain).ok()?;
        let mid = header.message_id.0;
        let iv = self.ivs.next_iv(mid);
        let ciphertext = self
            .keys
            .cipher()
            .encrypt(self.keys.encryption_key(), iv.as_bytes(), &plain)
            .ok()?;
        self.ivs.advance(mid, &ciphertext);
        let msg = Message {
            header,
            body: MessageBody::Encrypted {
                first_payload: first,
                ciphertext,
            },
        };
        msg.to_bytes().ok()
    }

    /// Decrypts a received message body. The IV chain is not advanced: call
    /// [`Phase1Session::accept`] once the message's HASH verified, so a forged
    /// message cannot desynchronise the chain.
    pub(crate) fn open(
        &mut self,
        message_id: u32,
        first: PayloadType,
        ciphertext: &[u8],
    ) -> Option<Decrypted> {
        let iv = self.ivs.iv_for(message_id, ciphertext);
        let plain = self
            .keys
            .cipher()
            .decrypt(self.keys.encryption_key(), iv.as_bytes(), ciphertext)
            .ok()?;
        let chain = parse_plaintext(first, &plain).ok()?;
        Some(Decrypted {
            payloads: chain.payloads.clone(),
            chain: chain.chain.to_vec(),
            starts: chain.starts.clone(),
            ciphertext: ciphertext.to_vec(),
        })
    }

    /// Decrypts `msg` under its own message ID; `None` for a plain message.
    pub(crate) fn open_message(&mut self, msg: &Message) -> Option<Decrypted> {
        let MessageBody::Encrypted {
            first_payload,
            ciphertext,
        } = &msg.body
        else {
            return None;
        };
        self.open(msg.header.message_id.0, *first_payload, ciphertext)
    }

    /// Moves the IV chain past an accepted message.
    pub(crate) fn accept(&mut self, message_id: u32, msg: &Decrypted) {
        self.ivs.advance(message_id, &msg.ciphertext);
    }
}

#[allow(dead_code, reason = "used by Quick Mode")]
/// The emitted bytes of `payloads` as a chain (for hashes over "the rest of
/// the message" that we send).
pub(crate) fn chain_bytes(payloads: &[Payload]) -> Vec<u8> {
    let mut out = Vec::new();
    // Emitting fails only for a payload over 64 KiB, which we never build.
    let _ = emit_chain(payloads, &mut out);
    out
}
