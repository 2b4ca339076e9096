//! Collecting fragments into whole messages, within fixed bounds.

#![deny(clippy::indexing_slicing)]

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::time::{Duration, Instant};

use super::FragmentError;
use crate::wire::{Cookie, Fragment, Header, Message, PayloadType};

/// Bounds on what a [`Reassembler`] holds. Every limit is enforced before
/// a fragment is stored, so memory never exceeds `max_total_bytes` of
/// fragment data plus a fixed cost per partial message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReassemblyLimits {
    /// Highest fragment number accepted (numbers run from 1).
    pub max_fragments: u8,
    /// Largest reassembled message.
    pub max_message_bytes: usize,
    /// Fragment data held for one peer over all its partial messages.
    pub max_peer_bytes: usize,
    /// Partial messages held for one peer; a new one evicts that peer's oldest.
    pub max_peer_messages: usize,
    /// Fragment data held for all peers together.
    pub max_total_bytes: usize,
    /// Partial messages held for all peers together.
    pub max_total_messages: usize,
    /// How long a partial message waits for its missing fragments, counted
    /// from its first fragment.
    pub timeout: Duration,
}

impl Default for ReassemblyLimits {
    /// Room for a Main Mode message with a 4096-bit certificate chain cut
    /// for a 576-byte path (about 20 fragments), a few such messages per
    /// peer, and a modest total.
    fn default() -> Self {
        Self {
            max_fragments: 64,
            max_message_bytes: 32 * 1024,
            max_peer_bytes: 64 * 1024,
            max_peer_messages: 4,
            max_total_bytes: 1024 * 1024,
            max_total_messages: 256,
            timeout: Duration::from_secs(30),
        }
    }
}

/// What became of an accepted fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReassemblyOutcome {
    /// Stored; the message is not complete yet.
    Pending,
    /// This fragment number was already held; nothing changed (the first copy
    /// is kept even if this one differs).
    Duplicate,
    /// The last missing fragment: here is the whole message, header first,
    /// ready for [`Message::parse`].
    Complete(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key<P> {
    peer: P,
    initiator_cookie: Cookie,
    responder_cookie: Cookie,
    fragment_id: u16,
}

#[derive(Debug)]
struct Partial {
    pieces: BTreeMap<u8, Vec<u8>>,
    last: Option<u8>,
    bytes: usize,
    started: Instant,
}

impl Partial {
    fn highest(&self) -> u8 {
        self.pieces.keys().next_back().copied().unwrap_or(0)
    }

    fn complete(&self) -> bool {
        self.last
            .is_some_and(|last| self.pieces.len() == usize::from(last))
    }
}

/// Reassembles fragment datagrams per peer (`P` is whatever identifies the
/// sender to the caller, usually its `SocketAddr`) and per (cookies,
/// fragment ID). Sans-IO: the caller passes `now` and may call
/// [`Reassembler::handle_timeout`] at [`Reassembler::poll_timeout`].
#[derive(Debug)]
pub struct Reassembler<P> {
    limits: ReassemblyLimits,
    partial: HashMap<Key<P>, Partial>,
    peer_bytes: HashMap<P, usize>,
    total_bytes: usize,
}

impl<P: Clone + Eq + Hash> Reassembler<P> {
    /// An empty reassembler.
    #[must_use]
    pub fn new(limits: ReassemblyLimits) -> Self {
        Self {
            limits,
            partial: HashMap::new(),
            peer_bytes: HashMap::new(),
            total_bytes: 0,
        }
    }

    /// Whether `datagram` is a fragment datagram (its first payload is a
    /// fragment payload), so it should go to [`Reassembler::handle`] rather
    /// than to the exchange. Looks at the header only.
    #[must_use]
    pub fn is_fragment(datagram: &[u8]) -> bool {
        Header::parse(datagram).is_ok_and(|h| h.next_payload == PayloadType::FRAGMENT)
    }

    /// Takes one fragment datagram from `peer`. Errors mean the datagram
    /// was dropped; what was already held is kept.
    pub fn handle(
        &mut self,
        now: Instant,
        peer: P,
        datagram: &[u8],
    ) -> Result<ReassemblyOutcome, FragmentError> {
        self.handle_timeout(now);
        let message = Message::parse(datagram)?;
        let first = message.payloads().and_then(<[_]>::first);
        let payload = match first {
            Some(p) if p.ty == PayloadType::FRAGMENT => p,
            Some(p) => return Err(FragmentError::NotAFragment(p.ty)),
            None => return Err(FragmentError::NotAFragment(PayloadType::NONE)),
        };
        let fragment: Fragment = payload.parse_as()?;
        let (id, number) = (fragment.id, fragment.number);
        if number == 0 {
            return Err(FragmentError::ZeroNumber { id });
        }
        if fragment.data.is_empty() {
            return Err(FragmentError::Empty { id, number });
        }
        if number > self.limits.max_fragments {
            return Err(FragmentError::TooManyFragments {
                id,
                number,
                limit: self.limits.max_fragments,
            });
        }
        let key = Key {
            peer,
            initiator_cookie: message.header.initiator_cookie,
            responder_cookie: message.header.responder_cookie,
            fragment_id: id,
        };
        let len = fragment.data.len();

        if let Some(held) = self.partial.get(&key) {
            if held.pieces.contains_key(&number) {
                return Ok(ReassemblyOutcome::Duplicate);
            }
            Self::check_consistent(held, &fragment)?;
            if held.bytes.saturating_add(len) > self.limits.max_message_bytes {
                return Err(FragmentError::MessageTooLarge {
                    id,
                    limit: self.limits.max_message_bytes,
                });
            }
        } else if len > self.limits.max_message_bytes {
            return Err(FragmentError::MessageTooLarge {
                id,
                limit: self.limits.max_message_bytes,
            });
        }
        self.make_room(&key, len)?;

        let partial = self.partial.entry(key.clone()).or_insert_with(|| Partial {
            pieces: BTreeMap::new(),
            last: None,
            bytes: 0,
            started: now,
        });
        if fragment.is_last() {
            partial.last = Some(number);
        }
        partial.bytes = partial.bytes.saturating_add(len);
        partial.pieces.insert(number, fragment.data);
        *self.peer_bytes.entry(key.peer.clone()).or_insert(0) += len;
        self.total_bytes = self.total_bytes.saturating_add(len);

        if !partial.complete() {
            return Ok(ReassemblyOutcome::Pending);
        }
        let Some(done) = self.remove(&key) else {
            return Ok(ReassemblyOutcome::Pending);
        };
        let mut whole = Vec::with_capacity(done.bytes);
        for piece in done.pieces.values() {
            whole.extend_from_slice(piece);
        }
        Self::check_reassembled(&key, &whole)?;
        Ok(ReassemblyOutcome::Complete(whole))
    }

    /// A new fragment may neither move nor contradict the last fragment.
    fn check_consistent(held: &Partial, fragment: &Fragment) -> Result<(), FragmentError> {
        let (id, number) = (fragment.id, fragment.number);
        match held.last {
            Some(last) if fragment.is_last() => Err(FragmentError::ConflictingLast {
                id,
                number,
                held: last,
            }),
            Some(last) if number > last => Err(FragmentError::PastLast { id, number, last }),
            None if fragment.is_last() && held.highest() > number => {
                Err(FragmentError::ConflictingLast {
                    id,
                    number,
                    held: held.highest(),
                })
            }
            _ => Ok(()),
        }
    }

    /// The reassembled bytes must be one ISAKMP message of exactly that
    /// length, for the same ISAKMP SA as the fragments.
    fn check_reassembled(key: &Key<P>, whole: &[u8]) -> Result<(), FragmentError> {
        let id = key.fragment_id;
        let bad = |reason| FragmentError::BadReassembly { id, reason };
        let parsed = Header::parse(whole).map_err(|_| bad("no ISAKMP header"))?;
        if usize::try_from(parsed.length).ok() != Some(whole.len()) {
            return Err(bad("its length field differs from the reassembled length"));
        }
        if parsed.header.initiator_cookie != key.initiator_cookie
            || parsed.header.responder_cookie != key.responder_cookie
        {
            return Err(bad("its cookies differ from the fragments' cookies"));
        }
        Ok(())
    }

    /// Makes room for `len` more bytes under `key`: a new partial message
    /// may evict the same peer's oldest; global limits only refuse.
    fn make_room(&mut self, key: &Key<P>, len: usize) -> Result<(), FragmentError> {
        let is_new = !self.partial.contains_key(key);
        loop {
            let peer_messages = self.partial.keys().filter(|k| k.peer == key.peer).count();
            let peer_bytes = self.peer_bytes.get(&key.peer).copied().unwrap_or(0);
            let over_count = is_new && peer_messages >= self.limits.max_peer_messages;
            let over_bytes = peer_bytes.saturating_add(len) > self.limits.max_peer_bytes;
            if !over_count && !over_bytes {
                break;
            }
            let oldest = self
                .partial
                .iter()
                .filter(|(k, _)| k.peer == key.peer && *k != key)
                .min_by_key(|(_, p)| p.started)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(victim) => {
                    self.remove(&victim);
                }
                None => {
                    return Err(FragmentError::MessageTooLarge {
                        id: key.fragment_id,
                        limit: self.limits.max_peer_bytes,
                    });
                }
            }
        }
        if self.total_bytes.saturating_add(len) > self.limits.max_total_bytes
            || (is_new && self.partial.len() >= self.limits.max_total_messages)
        {
            return Err(FragmentError::GlobalMemoryFull {
                limit: self.limits.max_total_bytes,
            });
        }
        Ok(())
    }

    fn remove(&mut self, key: &Key<P>) -> Option<Partial> {
        let partial = self.partial.remove(key)?;
        self.total_bytes = self.total_bytes.saturating_sub(partial.bytes);
        if let Some(bytes) = self.peer_bytes.get_mut(&key.peer) {
            *bytes = bytes.saturating_sub(partial.bytes);
            if *bytes == 0 {
                self.peer_bytes.remove(&key.peer);
            }
        }
        Some(partial)
    }

    /// Drops every partial message older than [`ReassemblyLimits::timeout`].
    pub fn handle_timeout(&mut self, now: Instant) {
        let timeout = self.limits.timeout;
        let expired: Vec<Key<P>> = self
            .partial
            .iter()
            .filter(|(_, p)| now.saturating_duration_since(p.started) >= timeout)
            .map(|(k, _)| k.clone())
            .collect();
        for key in expired {
            self.remove(&key);
        }
    }

    /// When the oldest partial message expires.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.partial
            .values()
            .map(|p| {
                p.started
                    .checked_add(self.limits.timeout)
                    .unwrap_or(p.started)
            })
            .min()
    }

    /// Drops what is held for `peer` (e.g. when its ISAKMP SA is deleted).
    pub fn forget_peer(&mut self, peer: &P) {
        let keys: Vec<Key<P>> = self
            .partial
            .keys()
            .filter(|k| k.peer == *peer)
            .cloned()
            .collect();
        for key in keys {
            self.remove(&key);
        }
    }

    /// Partial messages held.
    #[must_use]
    pub fn pending_messages(&self) -> usize {
        self.partial.len()
    }

    /// Fragment data bytes held for all peers.
    #[must_use]
    pub fn held_bytes(&self) -> usize {
        self.total_bytes
    }
}
