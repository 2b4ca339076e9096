//! Byte and packet lifetimes of an SA (RFC 4301 §4.4.2.1): the soft limit
//! asks for a rekey, the hard limit ends the SA.

/// Limits in bytes and packets; `None` means unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LifetimeLimit {
    /// Payload bytes protected (the cleartext passed to or returned by the SA).
    pub bytes: Option<u64>,
    /// Packets protected.
    pub packets: Option<u64>,
}

impl LifetimeLimit {
    fn reached(&self, bytes: u64, packets: u64) -> bool {
        self.bytes.is_some_and(|b| bytes >= b) || self.packets.is_some_and(|p| packets >= p)
    }

    fn not_after(&self, other: &Self) -> bool {
        let le = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (Some(a), Some(b)) => a <= b,
            _ => true,
        };
        le(self.bytes, other.bytes) && le(self.packets, other.packets)
    }
}

/// Soft and hard limits of one SA.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lifetimes {
    /// Crossing this raises [`LifetimeEvent::Soft`] once.
    pub soft: LifetimeLimit,
    /// Once reached, no further packet is processed.
    pub hard: LifetimeLimit,
}

impl Lifetimes {
    /// Whether every soft limit is at or below its hard limit.
    pub fn is_consistent(&self) -> bool {
        self.soft.not_after(&self.hard)
    }
}

/// A lifetime signal for the key manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifetimeEvent {
    /// The soft limit is reached: start a rekey.
    Soft,
    /// The hard limit is reached: the SA refuses further packets.
    Hard,
}

/// Counts what an SA protected and reports each limit once.
#[derive(Debug, Clone)]
pub(crate) struct LifetimeCounter {
    limits: Lifetimes,
    bytes: u64,
    packets: u64,
    soft_pending: bool,
    hard_pending: bool,
    soft_done: bool,
    hard_done: bool,
}

impl LifetimeCounter {
    pub(crate) fn new(limits: Lifetimes) -> Self {
        Self {
            limits,
            bytes: 0,
            packets: 0,
            soft_pending: false,
            hard_pending: false,
            soft_done: false,
            hard_done: false,
        }
    }

    /// Whether the hard limit forbids processing another packet.
    pub(crate) fn expired(&self) -> bool {
        self.limits.hard.reached(self.bytes, self.packets)
    }

    /// Counts one packet of `bytes` payload bytes.
    pub(crate) fn record(&mut self, bytes: usize) {
        self.bytes = self.bytes.saturating_add(bytes as u64);
        self.packets = self.packets.saturating_add(1);
        if !self.soft_done && self.limits.soft.reached(self.bytes, self.packets) {
            self.soft_done = true;
            self.soft_pending = true;
        }
        if !self.hard_done && self.expired() {
            self.hard_done = true;
            self.hard_pending = true;
        }
    }

    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    pub(crate) fn packets(&self) -> u64 {
        self.packets
    }

    pub(crate) fn poll_event(&mut self) -> Option<LifetimeEvent> {
        if self.soft_pending {
            self.soft_pending = false;
            return Some(LifetimeEvent::Soft);
        }
        if self.hard_pending {
            self.hard_pending = false;
            return Some(LifetimeEvent::Hard);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_then_hard_are_reported_once_each() {
        let mut c = LifetimeCounter::new(Lifetimes {
            soft: LifetimeLimit {
                bytes: Some(150),
                packets: None,
            },
            hard: LifetimeLimit {
                bytes: None,
                packets: Some(3),
            },
        });
        c.record(100);
        assert_eq!(c.poll_event(), None);
        c.record(100);
        assert_eq!(c.poll_event(), Some(LifetimeEvent::Soft));
        assert_eq!(c.poll_event(), None);
        assert!(!c.expired());
        c.record(1);
        assert!(c.expired());
        assert_eq!(c.poll_event(), Some(LifetimeEvent::Hard));
        assert_eq!(c.poll_event(), None);
        assert_eq!((c.bytes(), c.packets()), (201, 3));
    }

    #[test]
    fn soft_beyond_hard_is_inconsistent() {
        let l = Lifetimes {
            soft: LifetimeLimit {
                bytes: Some(10),
                packets: None,
            },
            hard: LifetimeLimit {
                bytes: Some(5),
                packets: None,
            },
        };
        assert!(!l.is_consistent());
        assert!(Lifetimes::default().is_consistent());
    }
}
