//! The anti-replay window (RFC 4303 §3.4.3) with extended sequence numbers
//! (RFC 4303 §2.2.1 and Appendix A).
//!
//! [`check`](ReplayWindow::check) runs before the ICV is verified and
//! changes nothing; [`mark`](ReplayWindow::mark) runs only after the packet
//! is authenticated, so a forged packet can never move the window.
#![deny(clippy::indexing_slicing)]

use crate::error::DecapError;

/// Largest supported window, in packets.
pub const MAX_WINDOW: u32 = 4096;
/// Smallest window when anti-replay is on (RFC 4303 §3.4.3: 32 minimum).
pub const MIN_WINDOW: u32 = 32;
const WORDS: usize = (MAX_WINDOW / 64) as usize;
const RING_BITS: u64 = MAX_WINDOW as u64;

/// Received sequence numbers in `[top - size + 1, top]`, as a ring of bits
/// indexed by sequence number modulo 4096.
#[derive(Clone)]
pub struct ReplayWindow {
    size: u32,
    esn: bool,
    top: u64,
    bits: [u64; WORDS],
}

impl core::fmt::Debug for ReplayWindow {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ReplayWindow")
            .field("size", &self.size)
            .field("esn", &self.esn)
            .field("top", &self.top)
            .finish_non_exhaustive()
    }
}

impl ReplayWindow {
    /// A window of `size` packets (0 disables replay protection; otherwise
    /// 32..=4096), for 32- or 64-bit sequence numbers. Nothing is received yet.
    pub fn new(size: u32, esn: bool) -> Self {
        Self {
            size: size.min(MAX_WINDOW),
            esn,
            top: 0,
            bits: [0; WORDS],
        }
    }

    /// A window that treats every sequence number up to `last` as received,
    /// for resuming an SA (or decrypting a packet captured mid-stream).
    pub fn starting_after(size: u32, esn: bool, last: u64) -> Self {
        Self {
            top: last,
            bits: [u64::MAX; WORDS],
            ..Self::new(size, esn)
        }
    }

    /// The window size in packets (0: disabled).
    pub fn size(&self) -> u32 {
        self.size
    }

    /// The highest authenticated sequence number so far.
    pub fn highest(&self) -> u64 {
        self.top
    }

    /// The full sequence number of a packet carrying `low` on the wire.
    /// Without ESN it is `low`; with ESN the high half is inferred from the
    /// window, RFC 4303 Appendix A.2.1.
    pub fn infer(&self, low: u32) -> Result<u64, DecapError> {
        if !self.esn {
            return Ok(u64::from(low));
        }
        let w = self.size.max(1);
        let top_low = self.top as u32;
        let top_high = (self.top >> 32) as u32;
        let high = if top_low >= w - 1 {
            // Case A: the window lies within one 2^32 subspace.
            if low >= top_low - (w - 1) {
                Some(top_high)
            } else {
                top_high.checked_add(1)
            }
        } else {
            // Case B: the window spans two subspaces.
            if low >= top_low.wrapping_sub(w - 1) {
                top_high.checked_sub(1)
            } else {
                Some(top_high)
            }
        };
        match high {
            Some(h) => Ok(u64::from(h) << 32 | u64::from(low)),
            // Before sequence number 0 or past 2^64: outside every window.
            None => Err(DecapError::TooOld(u64::from(low))),
        }
    }

    /// Whether `seq` may be accepted. Changes nothing.
    pub fn check(&self, seq: u64) -> Result<(), DecapError> {
        if seq == 0 {
            return Err(DecapError::ZeroSequence);
        }
        if self.size == 0 || seq > self.top {
            return Ok(());
        }
        let age = self.top - seq;
        if age >= u64::from(self.size) {
            return Err(DecapError::TooOld(seq));
        }
        if self.bit(seq) {
            return Err(DecapError::Replayed(seq));
        }
        Ok(())
    }

    /// Records `seq` as received. Call only after the packet's ICV verified
    /// and [`check`](Self::check) accepted it.
    pub fn mark(&mut self, seq: u64) {
        if seq > self.top {
            let advance = seq - self.top;
            if advance >= RING_BITS {
                self.bits = [0; WORDS];
            } else {
                // Clear the slots that now stand for new sequence numbers
                // (bounded by 4096 iterations).
                for s in self.top + 1..seq {
                    self.set_bit(s, false);
                }
            }
            self.top = seq;
        }
        if self.size > 0 && self.top - seq < u64::from(self.size) {
            self.set_bit(seq, true);
        }
    }

    fn slot(seq: u64) -> (usize, u64) {
        let index = seq % RING_BITS;
        ((index / 64) as usize, 1u64 << (index % 64))
    }

    fn bit(&self, seq: u64) -> bool {
        let (word, mask) = Self::slot(seq);
        self.bits.get(word).is_some_and(|w| w & mask != 0)
    }

    fn set_bit(&mut self, seq: u64, on: bool) {
        let (word, mask) = Self::slot(seq);
        if let Some(w) = self.bits.get_mut(word) {
            if on {
                *w |= mask;
            } else {
                *w &= !mask;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(w: &mut ReplayWindow, seq: u64) -> Result<(), DecapError> {
        w.check(seq)?;
        w.mark(seq);
        Ok(())
    }

    #[test]
    fn duplicates_and_old_packets_are_refused() {
        let mut w = ReplayWindow::new(32, false);
        assert_eq!(accept(&mut w, 0), Err(DecapError::ZeroSequence));
        accept(&mut w, 1).unwrap();
        assert_eq!(accept(&mut w, 1), Err(DecapError::Replayed(1)));
        accept(&mut w, 40).unwrap();
        // 40 - 32 + 1 = 9 is the oldest acceptable.
        assert_eq!(accept(&mut w, 8), Err(DecapError::TooOld(8)));
        accept(&mut w, 9).unwrap();
        accept(&mut w, 39).unwrap();
        assert_eq!(accept(&mut w, 39), Err(DecapError::Replayed(39)));
        assert_eq!(w.highest(), 40);
    }

    #[test]
    fn check_alone_does_not_move_the_window() {
        let mut w = ReplayWindow::new(64, false);
        accept(&mut w, 10).unwrap();
        w.check(5000).unwrap();
        assert_eq!(w.highest(), 10);
        accept(&mut w, 9).unwrap();
    }

    #[test]
    fn big_jumps_clear_the_ring() {
        let mut w = ReplayWindow::new(4096, false);
        for s in 1..=4096 {
            accept(&mut w, s).unwrap();
        }
        accept(&mut w, 4096 + 4096).unwrap();
        // 4097 maps to the same slot as 1 and must read as not received.
        accept(&mut w, 4097).unwrap();
        assert_eq!(accept(&mut w, 4096), Err(DecapError::TooOld(4096)));
        accept(&mut w, 1 << 31).unwrap();
        accept(&mut w, (1 << 31) - 5).unwrap();
    }

    #[test]
    fn esn_high_bits_follow_appendix_a() {
        let w = ReplayWindow::starting_after(64, true, (5 << 32) | 100);
        // Case A: within the window's subspace or ahead of it.
        assert_eq!(w.infer(100).unwrap(), (5 << 32) | 100);
        assert_eq!(w.infer(37).unwrap(), (5 << 32) | 37);
        assert_eq!(w.infer(36).unwrap(), (6 << 32) | 36);
        // Case B: the window straddles a 2^32 boundary.
        let w = ReplayWindow::starting_after(64, true, (5 << 32) | 10);
        assert_eq!(w.infer(0xffff_fff0).unwrap(), (4 << 32) | 0xffff_fff0);
        assert_eq!(w.infer(11).unwrap(), (5 << 32) | 11);
        assert_eq!(w.infer(0x8000_0000).unwrap(), (5 << 32) | 0x8000_0000);
        // At the very start there is no subspace below 0.
        let w = ReplayWindow::new(64, true);
        assert_eq!(w.infer(1).unwrap(), 1);
        assert!(w.infer(0xffff_fff0).is_err());
    }

    #[test]
    fn esn_wraps_into_the_next_subspace() {
        let mut w = ReplayWindow::starting_after(32, true, 0xffff_fffe);
        let s = w.infer(0xffff_ffff).unwrap();
        accept(&mut w, s).unwrap();
        let s = w.infer(0).unwrap();
        assert_eq!(s, 1 << 32);
        accept(&mut w, s).unwrap();
        let s = w.infer(0xffff_fffd).unwrap();
        assert_eq!(accept(&mut w, s), Err(DecapError::Replayed(0xffff_fffd)));
    }
}
