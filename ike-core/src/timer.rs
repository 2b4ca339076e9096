//! Timers: a fixed table per ISAKMP SA, and the retransmission schedule.
//!
//! The endpoint never reads a clock; callers pass `now`, and
//! [`crate::endpoint::Endpoint::poll_timeout`] is the earliest deadline over
//! every table. A `handle_timeout` before a deadline does nothing.

use std::time::{Duration, Instant};

/// The timers an ISAKMP SA can have running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// Resend the last Phase 1 message (RFC 2408 §5.3 leaves the schedule to us).
    Retransmit,
    /// Give up on a Phase 1 negotiation that has not completed.
    NegotiationTimeout,
    /// Soft expiry of the ISAKMP SA, at 90% of its lifetime: the SA's
    /// initiator negotiates a successor if pairs or DPD still need one, and
    /// deletes the old SA once the new one is up. Later than the IPsec SAs'
    /// 80% (a Phase 1 lives longer and costs a DH), early enough for a
    /// whole Main Mode with retransmissions inside the last tenth.
    SoftExpiry,
    /// Hard expiry of the ISAKMP SA.
    HardExpiry,
    /// Send a NAT-keepalive (RFC 3948 §2.3).
    NatKeepalive,
}

impl Timer {
    const ALL: [Self; 5] = [
        Self::Retransmit,
        Self::NegotiationTimeout,
        Self::SoftExpiry,
        Self::HardExpiry,
        Self::NatKeepalive,
    ];
}

/// One optional deadline per [`Timer`].
#[derive(Debug, Clone, Default)]
pub struct TimerTable {
    data: [Option<Instant>; Timer::ALL.len()],
}

impl TimerTable {
    /// Arms `timer` for `at`, replacing an earlier setting.
    pub fn set(&mut self, timer: Timer, at: Instant) {
        self.data[timer as usize] = Some(at);
    }

    /// Disarms `timer`.
    pub fn stop(&mut self, timer: Timer) {
        self.data[timer as usize] = None;
    }

    /// The deadline of `timer`, if armed.
    pub fn get(&self, timer: Timer) -> Option<Instant> {
        self.data[timer as usize]
    }

    /// The earliest armed deadline.
    pub fn next_timeout(&self) -> Option<Instant> {
        self.data.iter().flatten().min().copied()
    }

    /// Disarms and returns the timers that are due at `now`, in table order.
    pub fn expire(&mut self, now: Instant) -> impl Iterator<Item = Timer> + use<> {
        let mut due = Vec::new();
        for t in Timer::ALL {
            if self.get(t).is_some_and(|at| at <= now) {
                self.stop(t);
                due.push(t);
            }
        }
        due.into_iter()
    }
}

/// Exponential backoff with a retry limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetransmitPolicy {
    /// Wait before the first resend.
    pub initial: Duration,
    /// Cap on the wait between resends.
    pub max_interval: Duration,
    /// Number of resends before the exchange fails.
    pub max_retries: u32,
}

impl Default for RetransmitPolicy {
    /// 2 s, doubling to at most 16 s, five resends: about a minute, close to
    /// racoon's `retry counter 5` with a shorter first wait.
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(2),
            max_interval: Duration::from_secs(16),
            max_retries: 5,
        }
    }
}

impl RetransmitPolicy {
    /// The wait after the `attempt`th transmission (0 = the original send).
    pub fn interval(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt).unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max_interval)
    }
}

/// The last message we sent in one exchange and when to resend it.
#[derive(Debug, Clone)]
pub struct Retransmission {
    /// The message, byte for byte as first sent (resends must be identical).
    pub bytes: Vec<u8>,
    /// Transmissions so far, including the first.
    pub sent: u32,
    /// When to resend, if we expect an answer.
    pub next: Option<Instant>,
}

impl Retransmission {
    /// Records the first transmission; `expect_reply` arms the resend timer.
    pub fn new(
        bytes: Vec<u8>,
        now: Instant,
        policy: &RetransmitPolicy,
        expect_reply: bool,
    ) -> Self {
        Self {
            bytes,
            sent: 1,
            next: expect_reply.then(|| now + policy.interval(0)),
        }
    }

    /// Called when `next` is due: returns `false` once the retry limit is
    /// spent, otherwise schedules the following resend.
    pub fn on_timeout(&mut self, now: Instant, policy: &RetransmitPolicy) -> bool {
        if self.sent > policy.max_retries {
            self.next = None;
            return false;
        }
        self.next = Some(now + policy.interval(self.sent));
        self.sent += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetransmitPolicy::default();
        let waits: Vec<u64> = (0..6).map(|a| p.interval(a).as_secs()).collect();
        assert_eq!(waits, [2, 4, 8, 16, 16, 16]);
        assert_eq!(p.interval(40), Duration::from_secs(16));
    }

    #[test]
    fn retry_limit_is_enforced() {
        #[allow(clippy::disallowed_methods)] // a test epoch, not engine time
        let t0 = Instant::now();
        let p = RetransmitPolicy {
            max_retries: 2,
            ..RetransmitPolicy::default()
        };
        let mut r = Retransmission::new(vec![1], t0, &p, true);
        assert_eq!(r.next, Some(t0 + Duration::from_secs(2)));
        assert!(r.on_timeout(t0, &p));
        assert!(r.on_timeout(t0, &p));
        assert!(!r.on_timeout(t0, &p));
        assert_eq!(r.sent, 3);
    }

    #[test]
    fn table_expires_only_due_timers() {
        #[allow(clippy::disallowed_methods)] // a test epoch, not engine time
        let t0 = Instant::now();
        let mut t = TimerTable::default();
        t.set(Timer::HardExpiry, t0 + Duration::from_secs(10));
        t.set(Timer::Retransmit, t0 + Duration::from_secs(1));
        assert_eq!(t.next_timeout(), Some(t0 + Duration::from_secs(1)));
        assert_eq!(t.expire(t0).count(), 0);
        let due: Vec<_> = t.expire(t0 + Duration::from_secs(1)).collect();
        assert_eq!(due, [Timer::Retransmit]);
        assert_eq!(t.next_timeout(), Some(t0 + Duration::from_secs(10)));
    }
}
