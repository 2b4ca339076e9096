//! IKE fragmentation payload, type 132 (the Cisco scheme, also spoken by
//! strongSwan and racoon; announced with the FRAGMENTATION vendor ID):
//!
//! ```text
//! Fragment ID (2) | Fragment Number (1) | Flags (1) | Fragment Data
//! ```
//!
//! Fragment numbers start at 1; the last fragment carries flag LAST.

use super::error::Error;
use super::payload::{PayloadBody, PayloadType};
use super::reader::Reader;

/// The body of a fragment payload.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fragment {
    /// Identifies the fragmented message.
    pub id: u16,
    /// Position of this fragment, from 1.
    pub number: u8,
    /// Flags; [`Fragment::LAST`] marks the last fragment.
    pub flags: u8,
    /// A piece of the original message.
    pub data: Vec<u8>,
}

impl Fragment {
    /// The LAST flag.
    pub const LAST: u8 = 0x01;

    /// Whether this is the last fragment.
    #[must_use]
    pub const fn is_last(&self) -> bool {
        self.flags & Self::LAST != 0
    }
}

impl PayloadBody for Fragment {
    const TYPE: PayloadType = PayloadType::FRAGMENT;

    fn parse_body(body: &[u8]) -> Result<Self, Error> {
        const WHAT: &str = "Fragment payload";
        let mut r = Reader::new(body, 0);
        Ok(Self {
            id: r.u16(WHAT)?,
            number: r.u8(WHAT)?,
            flags: r.u8(WHAT)?,
            data: r.rest().to_vec(),
        })
    }

    fn emit_body(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        out.extend_from_slice(&self.id.to_be_bytes());
        out.push(self.number);
        out.push(self.flags);
        out.extend_from_slice(&self.data);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answer_both_directions() {
        let body = [0x00, 0x07, 0x02, 0x01, 0xaa, 0xbb];
        let f = Fragment::parse_body(&body).unwrap();
        assert_eq!(
            f,
            Fragment {
                id: 7,
                number: 2,
                flags: Fragment::LAST,
                data: vec![0xaa, 0xbb]
            }
        );
        assert!(f.is_last());
        assert_eq!(f.to_body().unwrap(), body);
        assert!(Fragment::parse_body(&[0, 7, 2]).is_err());
    }
}
