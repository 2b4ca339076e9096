//! racoon's `proposal_check`: how a responder treats the initiator's
//! lifetimes, key lengths and PFS group.
//!
//! | mode   | initiator's lifetime longer | shorter        | PFS group differs |
//! |--------|-----------------------------|----------------|-------------------|
//! | obey   | use initiator's             | use initiator's| use initiator's   |
//! | strict | reject                      | use initiator's| reject            |
//! | claim  | use ours + RESPONDER-LIFETIME | use initiator's | reject          |
//! | exact  | reject                      | reject         | reject            |
//!
//! Under strict and claim, a responder that wants no PFS accepts the
//! initiator's group; one that requires PFS rejects an offer without it.
//! Exact rejects any difference.

use core::fmt;

use super::Attribute;
use crate::config::Lifetime;

/// The responder's `proposal_check` mode (racoon.conf).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProposalCheck {
    /// Accept the initiator's lifetime and PFS group.
    Obey,
    /// Accept shorter lifetimes; refuse longer ones and PFS differences. racoon's default.
    #[default]
    Strict,
    /// Like strict, but answer a longer lifetime with our own and a
    /// RESPONDER-LIFETIME notify (RFC 2407 §4.6.3.1) instead of refusing.
    Claim,
    /// Refuse any difference.
    Exact,
}

impl fmt::Display for ProposalCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Obey => "obey",
            Self::Strict => "strict",
            Self::Claim => "claim",
            Self::Exact => "exact",
        })
    }
}

/// The lifetime a responder settles on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LifetimeDecision {
    /// The lifetime the SA will have.
    pub lifetime: Lifetime,
    /// Whether the responder must tell the initiator with RESPONDER-LIFETIME
    /// (its own lifetime is shorter than the offer).
    pub notify: bool,
}

/// One attribute that differed from the responder's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Which attribute.
    pub attribute: Attribute,
    /// What the peer offered, written for a person.
    pub offered: String,
    /// What our policy requires, written for a person.
    pub required: String,
    /// Why the values were compared strictly, when a `proposal_check` mode decided.
    pub check: Option<ProposalCheck>,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "peer offered {} {}, policy requires {}",
            self.attribute, self.offered, self.required
        )?;
        if let Some(c) = self.check {
            write!(f, " (proposal_check {c})")?;
        }
        Ok(())
    }
}

impl ProposalCheck {
    /// Decides the lifetime against one kind (seconds or kilobytes).
    fn one(
        self,
        attribute: Attribute,
        ours: Option<u32>,
        offered: Option<u32>,
    ) -> Result<(Option<u32>, bool), Mismatch> {
        let unit = if attribute == Attribute::LifetimeKilobytes {
            "kB"
        } else {
            "s"
        };
        let show =
            |v: Option<u32>| v.map_or_else(|| "no limit".to_owned(), |v| format!("{v} {unit}"));
        let reject = |ours: Option<u32>, offered: Option<u32>, relation: &str| Mismatch {
            attribute,
            offered: show(offered),
            required: format!("{relation}{}", show(ours)),
            check: Some(self),
        };
        // "No limit" counts as longer than any limit.
        let longer = match (offered, ours) {
            (None, None) => false,
            (None, Some(_)) => true,
            (Some(_), None) => false,
            (Some(o), Some(m)) => o > m,
        };
        match self {
            Self::Obey => Ok((offered, false)),
            Self::Exact if offered != ours => Err(reject(ours, offered, "")),
            Self::Exact => Ok((offered, false)),
            Self::Strict if longer => Err(reject(ours, offered, "at most ")),
            Self::Claim if longer => Ok((ours, true)),
            Self::Strict | Self::Claim => Ok((offered, false)),
        }
    }

    /// Decides the SA lifetime from our configured one and the initiator's offer.
    pub fn lifetime(self, ours: Lifetime, offered: Lifetime) -> Result<LifetimeDecision, Mismatch> {
        // An absent seconds attribute means the RFC 2407 default, not "forever".
        let (seconds, n1) = self.one(
            Attribute::LifetimeSeconds,
            Some(ours.effective_seconds()),
            Some(offered.effective_seconds()),
        )?;
        let (kilobytes, n2) = self.one(
            Attribute::LifetimeKilobytes,
            ours.kilobytes,
            offered.kilobytes,
        )?;
        Ok(LifetimeDecision {
            lifetime: Lifetime { seconds, kilobytes },
            notify: n1 || n2,
        })
    }

    /// Decides the PFS group. `ours` is the group our policy requires
    /// (`None`: PFS not required). Returns the group the SA will use.
    pub fn pfs_group(
        self,
        ours: Option<u16>,
        offered: Option<u16>,
    ) -> Result<Option<u16>, Mismatch> {
        let show = |g: Option<u16>| g.map_or_else(|| "none".to_owned(), |g| g.to_string());
        let ok = match self {
            Self::Obey => true,
            Self::Exact => ours == offered,
            Self::Strict | Self::Claim => ours.is_none() || ours == offered,
        };
        if ok {
            Ok(offered)
        } else {
            Err(Mismatch {
                attribute: Attribute::PfsGroup,
                offered: show(offered),
                required: show(ours),
                check: Some(self),
            })
        }
    }

    /// Decides a cipher key length (bits) for the same algorithm. Obey takes
    /// the initiator's; the others require the configured length.
    pub fn key_length(
        self,
        ours: Option<u16>,
        offered: Option<u16>,
    ) -> Result<Option<u16>, Mismatch> {
        if self == Self::Obey || ours == offered {
            return Ok(offered);
        }
        let show = |k: Option<u16>| k.map_or_else(|| "default".to_owned(), |k| format!("{k} bits"));
        Err(Mismatch {
            attribute: Attribute::KeyLength,
            offered: show(offered),
            required: show(ours),
            check: Some(self),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: Lifetime = Lifetime::seconds(3600);

    fn decide(check: ProposalCheck, offered: u32) -> Result<LifetimeDecision, Mismatch> {
        check.lifetime(OURS, Lifetime::seconds(offered))
    }

    #[test]
    fn lifetime_table_matches_racoon() {
        use ProposalCheck::*;
        // Initiator longer than ours.
        assert_eq!(
            decide(Obey, 7200).unwrap().lifetime,
            Lifetime::seconds(7200)
        );
        assert!(decide(Strict, 7200).is_err());
        assert_eq!(
            decide(Claim, 7200).unwrap(),
            LifetimeDecision {
                lifetime: OURS,
                notify: true
            }
        );
        assert!(decide(Exact, 7200).is_err());
        // Initiator shorter.
        for c in [Obey, Strict, Claim] {
            assert_eq!(
                decide(c, 600).unwrap(),
                LifetimeDecision {
                    lifetime: Lifetime::seconds(600),
                    notify: false
                }
            );
        }
        assert!(decide(Exact, 600).is_err());
        // Equal: everyone agrees.
        for c in [Obey, Strict, Claim, Exact] {
            assert_eq!(decide(c, 3600).unwrap().lifetime, OURS);
        }
    }

    #[test]
    fn refusal_names_the_attribute_and_both_values() {
        let e = decide(ProposalCheck::Strict, 86_400).unwrap_err();
        assert_eq!(
            e.to_string(),
            "peer offered lifetime 86400 s, policy requires at most 3600 s (proposal_check strict)"
        );
    }

    #[test]
    fn pfs_rules() {
        use ProposalCheck::*;
        assert_eq!(Obey.pfs_group(Some(5), Some(2)).unwrap(), Some(2));
        assert_eq!(Strict.pfs_group(None, Some(2)).unwrap(), Some(2));
        let e = Strict.pfs_group(Some(5), Some(2)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "peer offered PFS group 2, policy requires 5 (proposal_check strict)"
        );
        assert!(Claim.pfs_group(Some(5), None).is_err());
        assert!(Exact.pfs_group(None, Some(2)).is_err());
        assert_eq!(Exact.pfs_group(Some(14), Some(14)).unwrap(), Some(14));
    }

    #[test]
    fn kilobyte_lifetime_is_checked_too() {
        let ours = Lifetime {
            seconds: Some(3600),
            kilobytes: Some(1000),
        };
        let offer = Lifetime {
            seconds: Some(3600),
            kilobytes: None,
        };
        assert!(ProposalCheck::Strict.lifetime(ours, offer).is_err());
        let d = ProposalCheck::Claim.lifetime(ours, offer).unwrap();
        assert_eq!(d.lifetime.kilobytes, Some(1000));
        assert!(d.notify);
    }
}
