//! SA lifetimes in seconds and kilobytes (RFC 2407 §4.5, RFC 2409 Appendix A).

use core::time::Duration;

/// Bytes per "kilobyte" of a lifetime attribute.
///
/// RFC 2407 §4.5 says only "kilobytes". racoon multiplies by 1024 and
/// strongSwan by 1000. We follow racoon, the implementation we replace, so a
/// racoon peer and we expire an SA on the same byte; against strongSwan the
/// two sides differ by 2.4%, which only moves the rekey point.
pub const BYTES_PER_KILOBYTE: u64 = 1024;

/// Seconds assumed when a proposal carries no time lifetime (RFC 2407 §4.5).
pub const DEFAULT_LIFETIME_SECS: u32 = 28_800;

/// A lifetime as proposed or configured. `None` means "no limit of this kind"
/// (for seconds: the RFC default applies when the SA is built).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lifetime {
    /// Lifetime in seconds.
    pub seconds: Option<u32>,
    /// Lifetime in kilobytes (see [`BYTES_PER_KILOBYTE`]).
    pub kilobytes: Option<u32>,
}

impl Lifetime {
    /// A lifetime of `seconds` only.
    pub const fn seconds(seconds: u32) -> Self {
        Self {
            seconds: Some(seconds),
            kilobytes: None,
        }
    }

    /// The time lifetime with the RFC 2407 default applied.
    pub fn effective_seconds(&self) -> u32 {
        self.seconds.unwrap_or(DEFAULT_LIFETIME_SECS)
    }

    /// The time lifetime as a duration.
    pub fn duration(&self) -> Duration {
        Duration::from_secs(u64::from(self.effective_seconds()))
    }

    /// The byte lifetime, if any.
    pub fn bytes(&self) -> Option<u64> {
        self.kilobytes.map(|kb| u64::from(kb) * BYTES_PER_KILOBYTE)
    }

    /// When the soft expiry fires: at 80% of the lifetime, as racoon does,
    /// so a rekey has a fifth of the lifetime to complete.
    pub fn soft_duration(&self) -> Duration {
        self.duration() * 4 / 5
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kilobytes_follow_racoon() {
        let l = Lifetime {
            seconds: None,
            kilobytes: Some(4),
        };
        assert_eq!(l.bytes(), Some(4096));
        assert_eq!(l.effective_seconds(), 28_800);
    }

    #[test]
    fn soft_expiry_is_four_fifths() {
        assert_eq!(
            Lifetime::seconds(3600).soft_duration(),
            Duration::from_secs(2880)
        );
    }
}
