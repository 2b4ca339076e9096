//! `SADB_EXT_SENSITIVITY`: `struct sadb_sens` followed by the sensitivity
//! and integrity bitmaps (RFC 2367 §2.3.6).

use super::codec::{Reader, Writer};
use super::{Body, Error};

/// Security labels. Linux never sends this; it is here for completeness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sensitivity {
    /// `sadb_sens_dpd`
    pub dpd: u32,
    /// `sadb_sens_sens_level`
    pub sens_level: u8,
    /// `sadb_sens_integ_level`
    pub integ_level: u8,
    /// The sensitivity bitmap (`sadb_sens_sens_len` 64-bit words).
    pub sens_bitmap: Vec<u64>,
    /// The integrity bitmap (`sadb_sens_integ_len` 64-bit words).
    pub integ_bitmap: Vec<u64>,
}

fn read_words(r: &mut Reader<'_>, count: u8) -> Result<Vec<u64>, Error> {
    // Bounded by the u8 count (at most 255 words).
    (0..count).map(|_| r.u64_ne("sadb_sens bitmap")).collect()
}

fn word_count(words: &[u64]) -> u8 {
    u8::try_from(words.len()).unwrap_or(u8::MAX)
}

impl Body for Sensitivity {
    const NAME: &'static str = "sadb_sens";

    fn parse(r: &mut Reader<'_>) -> Result<Self, Error> {
        let dpd = r.u32_ne(Self::NAME)?;
        let sens_level = r.u8(Self::NAME)?;
        let sens_len = r.u8(Self::NAME)?;
        let integ_level = r.u8(Self::NAME)?;
        let integ_len = r.u8(Self::NAME)?;
        r.skip(4, Self::NAME)?; // sadb_sens_reserved
        let sens_bitmap = read_words(r, sens_len)?;
        let integ_bitmap = read_words(r, integ_len)?;
        Ok(Self {
            dpd,
            sens_level,
            integ_level,
            sens_bitmap,
            integ_bitmap,
        })
    }

    fn emit(&self, w: &mut Writer<'_>) {
        // Extension::emit refuses bitmaps over 255 words; this cut is a fallback.
        let sens = self
            .sens_bitmap
            .get(..usize::from(word_count(&self.sens_bitmap)));
        let integ = self
            .integ_bitmap
            .get(..usize::from(word_count(&self.integ_bitmap)));
        let (sens, integ) = (sens.unwrap_or_default(), integ.unwrap_or_default());
        w.u32_ne(self.dpd);
        w.u8(self.sens_level);
        w.u8(word_count(sens));
        w.u8(self.integ_level);
        w.u8(word_count(integ));
        w.u32_ne(0);
        for word in sens.iter().chain(integ) {
            w.u64_ne(*word);
        }
    }
}
