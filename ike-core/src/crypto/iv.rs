//! IVs for the IKEv1 CBC ciphers (RFC 2409 Appendix B) and their chaining.
//!
//! - Phase 1: IV = hash(g^xi | g^xr), cut to the block length; each later
//!   Phase 1 message uses the last ciphertext block of the one before.
//! - Phase 2 and Informational exchanges: IV = hash(last Phase 1 CBC block |
//!   M-ID); later messages with the same M-ID chain from the last block of
//!   the previous one. When no Phase 1 message was encrypted after the keys
//!   existed (Aggressive Mode with a clear AM3), the "last block" is the
//!   Phase 1 IV itself: that is what peers compute and what recordings show.
//! - A retransmission carries the same ciphertext as the first copy, so it
//!   decrypts with the IV the first copy used, not with the chain's head.

use std::collections::VecDeque;

use super::prf::HashAlgorithm;

/// How many Phase 2 / Informational exchanges an [`IvChain`] remembers;
/// the oldest is forgotten first.
const MAX_EXCHANGES: usize = 32;
/// How many recent messages per exchange are recognised as retransmissions.
const HISTORY: usize = 4;

/// One CBC initialisation vector.
#[derive(Clone, PartialEq, Eq)]
pub struct Iv(Vec<u8>);

impl Iv {
    /// Wraps raw IV bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The IV bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn truncated(mut bytes: Vec<u8>, block_len: usize) -> Self {
        bytes.truncate(block_len);
        Self(bytes)
    }

    /// The Phase 1 IV: hash(g^xi | g^xr) cut to `block_len`.
    pub fn phase1(hash: HashAlgorithm, block_len: usize, gxi: &[u8], gxr: &[u8]) -> Self {
        Self::truncated(hash.hash(&[gxi, gxr]), block_len)
    }

    /// The first IV of a Phase 2 or Informational exchange:
    /// hash(last Phase 1 block | M-ID) cut to `block_len`.
    pub fn phase2(
        hash: HashAlgorithm,
        block_len: usize,
        last_phase1_block: &[u8],
        message_id: u32,
    ) -> Self {
        Self::truncated(
            hash.hash(&[last_phase1_block, &message_id.to_be_bytes()]),
            block_len,
        )
    }
}

impl core::fmt::Debug for Iv {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Iv(")?;
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

/// The CBC state of one exchange: the IV for its next message, and the
/// IVs its recent messages were processed with.
#[derive(Debug, Clone)]
struct Exchange {
    next: Iv,
    /// (last ciphertext block, IV used) of recent messages, oldest first.
    recent: VecDeque<(Vec<u8>, Iv)>,
}

impl Exchange {
    fn new(first: Iv) -> Self {
        Self {
            next: first,
            recent: VecDeque::with_capacity(HISTORY),
        }
    }

    fn last_block(ciphertext: &[u8], block_len: usize) -> Option<&[u8]> {
        ciphertext
            .len()
            .checked_sub(block_len)
            .and_then(|start| ciphertext.get(start..))
            .filter(|b| !b.is_empty())
    }

    fn iv_for(&self, ciphertext: &[u8], block_len: usize) -> Iv {
        Self::last_block(ciphertext, block_len)
            .and_then(|last| self.recent.iter().find(|(block, _)| block == last))
            .map_or_else(|| self.next.clone(), |(_, iv)| iv.clone())
    }

    fn advance(&mut self, ciphertext: &[u8], block_len: usize) {
        let Some(last) = Self::last_block(ciphertext, block_len) else {
            return;
        };
        if self.recent.iter().any(|(block, _)| block == last) {
            return; // a retransmission: the chain does not move
        }
        if self.recent.len() == HISTORY {
            self.recent.pop_front();
        }
        let used = core::mem::replace(&mut self.next, Iv(last.to_vec()));
        self.recent.push_back((last.to_vec(), used));
    }
}

/// Tracks the CBC IVs of one ISAKMP SA: Phase 1 (message ID 0) and every
/// Phase 2 / Informational exchange by its message ID.
///
/// Call [`IvChain::iv_for`] to get the IV for a message (to encrypt or to
/// decrypt it), then [`IvChain::advance`] with its ciphertext once it has
/// been accepted (sent, or received and its hash verified).
#[derive(Debug, Clone)]
pub struct IvChain {
    hash: HashAlgorithm,
    block_len: usize,
    phase1: Exchange,
    others: VecDeque<(u32, Exchange)>,
}

impl IvChain {
    /// A chain starting from the Phase 1 IV.
    pub fn new(hash: HashAlgorithm, block_len: usize, phase1_iv: Iv) -> Self {
        Self {
            hash,
            block_len,
            phase1: Exchange::new(phase1_iv),
            others: VecDeque::new(),
        }
    }

    /// The last Phase 1 CBC block (the Phase 1 IV if no Phase 1 message has
    /// been encrypted): the input of every Phase 2 IV.
    pub fn last_phase1_block(&self) -> &[u8] {
        self.phase1.next.as_bytes()
    }

    fn exchange(&mut self, message_id: u32) -> &mut Exchange {
        if message_id == 0 {
            return &mut self.phase1;
        }
        let pos = match self.others.iter().position(|(id, _)| *id == message_id) {
            Some(pos) => pos,
            None => {
                if self.others.len() == MAX_EXCHANGES {
                    self.others.pop_front();
                }
                let first = Iv::phase2(
                    self.hash,
                    self.block_len,
                    self.phase1.next.as_bytes(),
                    message_id,
                );
                self.others.push_back((message_id, Exchange::new(first)));
                self.others.len() - 1
            }
        };
        match self.others.get_mut(pos) {
            Some((_, exchange)) => exchange,
            // Unreachable: `pos` indexes an element that exists.
            None => &mut self.phase1,
        }
    }

    /// The IV for the next message to send in exchange `message_id`.
    pub fn next_iv(&mut self, message_id: u32) -> Iv {
        self.exchange(message_id).next.clone()
    }

    /// The IV to decrypt `ciphertext`, received in exchange `message_id`:
    /// the chain's head, or, for a retransmission of a recent message, the
    /// IV that message used.
    pub fn iv_for(&mut self, message_id: u32, ciphertext: &[u8]) -> Iv {
        let block_len = self.block_len;
        self.exchange(message_id).iv_for(ciphertext, block_len)
    }

    /// Moves exchange `message_id` past a message with this ciphertext.
    /// A retransmission of a recent message leaves the chain where it is.
    pub fn advance(&mut self, message_id: u32, ciphertext: &[u8]) {
        let block_len = self.block_len;
        self.exchange(message_id).advance(ciphertext, block_len);
    }

    /// Forgets a finished Phase 2 or Informational exchange.
    pub fn forget(&mut self, message_id: u32) {
        self.others.retain(|(id, _)| *id != message_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain() -> IvChain {
        IvChain::new(HashAlgorithm::Sha1, 8, Iv::new(vec![0x11; 8]))
    }

    #[test]
    fn phase1_chains_on_last_block_and_recognises_retransmissions() {
        let mut c = chain();
        let m5 = [[0xaa; 8], [0xbb; 8]].concat();
        let m6 = [[0xcc; 8], [0xdd; 8]].concat();
        assert_eq!(c.iv_for(0, &m5).as_bytes(), &[0x11; 8]);
        c.advance(0, &m5);
        assert_eq!(c.iv_for(0, &m6).as_bytes(), &[0xbb; 8]);
        c.advance(0, &m6);
        // MM5 again: same IV as the first time, and the chain stays.
        assert_eq!(c.iv_for(0, &m5).as_bytes(), &[0x11; 8]);
        c.advance(0, &m5);
        assert_eq!(c.last_phase1_block(), &[0xdd; 8]);
    }

    #[test]
    fn phase2_iv_hashes_last_phase1_block_and_message_id() {
        let mut c = chain();
        let expected = HashAlgorithm::Sha1.hash(&[&[0x11; 8], &[0, 0, 0, 7]]);
        // No Phase 1 message encrypted: the Phase 1 IV is the "last block".
        assert_eq!(c.next_iv(7).as_bytes(), expected.get(..8).unwrap());
        let qm1 = [0x42; 16];
        c.advance(7, &qm1);
        assert_eq!(c.next_iv(7).as_bytes(), &[0x42; 8]);
        // Another exchange is independent of the first.
        let other = HashAlgorithm::Sha1.hash(&[&[0x11; 8], &[0, 0, 0, 8]]);
        assert_eq!(c.next_iv(8).as_bytes(), other.get(..8).unwrap());
    }

    #[test]
    fn exchange_table_is_bounded() {
        let mut c = chain();
        for id in 1..=(MAX_EXCHANGES as u32 * 3) {
            c.advance(id, &[id as u8; 8]);
        }
        assert_eq!(c.others.len(), MAX_EXCHANGES);
    }
}
