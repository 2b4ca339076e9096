//! The Sans-IO PF_KEY client: it stamps requests with `seq` and `pid`,
//! pairs the kernel's replies with them, and turns kernel-initiated
//! messages into typed [`Event`]s. It does no I/O and reads no clock: feed
//! it every message read from the socket with [`Client::handle_message`]
//! and drain [`Client::poll_event`].
//!
//! Linux behaviours it handles (seen in `tests/data/pfkey-linux/`):
//! - failures come back as a bare header with `sadb_msg_errno` set;
//! - DUMP replies are numbered 1, 2, … and the last has seq 0, so they are
//!   matched by type and pid, not seq; an empty table answers ENOENT;
//! - FLUSH of a non-empty table is answered twice: the copy is dropped;
//! - ACQUIRE and EXPIRE have pid 0; ACQUIRE's seq is a kernel-wide
//!   counter that the key manager echoes in its GETSPI/ADD
//!   ([`Client::send_with_seq`]);
//! - other sockets' changes are broadcast to registered sockets: they
//!   surface as [`Event::Other`].
//!
//! Malformed messages are counted and dropped, never returned as errors.

use std::collections::VecDeque;
use std::fmt;

use zeroize::Zeroizing;

use crate::wire::{
    Address, EmitError, Lifetime, Message, MessageType, Policy, Proposal, Sa, Sa2, SaType,
};

/// At most this many requests may await a reply at once.
pub const MAX_PENDING: usize = 256;
/// Completed (type, seq) pairs remembered to recognise duplicate replies.
const RECENT: usize = 32;
/// `ENOENT`: what an empty DUMP answers.
const ENOENT: u8 = 2;

/// The kernel refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelError {
    /// The request's type.
    pub msg_type: MessageType,
    /// `sadb_msg_errno`, an `errno` value.
    pub errno: u8,
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let os = std::io::Error::from_raw_os_error(i32::from(self.errno));
        write!(f, "kernel refused {:?}: {os}", self.msg_type)
    }
}

impl std::error::Error for KernelError {}

/// Misuse of the client (not a kernel or input error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The message could not be encoded.
    #[error(transparent)]
    Emit(#[from] EmitError),
    /// A request of this type with this seq is already awaiting its reply.
    #[error("a {msg_type:?} with seq {seq} is already pending")]
    SeqInUse {
        /// Type of the pending request.
        msg_type: MessageType,
        /// Its seq.
        seq: u32,
    },
    /// Only one dump of each kind can run at a time: the kernel's replies
    /// do not say which request they answer.
    #[error("a {0:?} is already in progress")]
    DumpInProgress(MessageType),
    /// [`MAX_PENDING`] requests are already pending.
    #[error("too many requests pending")]
    TooManyPending,
}

/// Bytes to write to the PF_KEY socket, one `write()` each.
#[derive(Debug)]
pub struct Transmit {
    /// The seq the request carries.
    pub seq: u32,
    /// The request's type.
    pub msg_type: MessageType,
    /// The encoded message (wiped on drop: it may hold keys).
    pub bytes: Zeroizing<Vec<u8>>,
}

/// Something the kernel said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The reply to request `seq` of type `msg_type`.
    Reply {
        /// The request's seq.
        seq: u32,
        /// The request's type.
        msg_type: MessageType,
        /// The reply, or the kernel's errno.
        result: Result<Message, KernelError>,
    },
    /// One record of a DUMP or X_SPDDUMP in progress.
    DumpRecord {
        /// The dump request's seq.
        seq: u32,
        /// `Dump` or `SpdDump`.
        msg_type: MessageType,
        /// One SA or policy.
        record: Message,
    },
    /// A DUMP or X_SPDDUMP is complete.
    DumpDone {
        /// The dump request's seq.
        seq: u32,
        /// `Dump` or `SpdDump`.
        msg_type: MessageType,
        /// The number of records, or the kernel's errno.
        result: Result<usize, KernelError>,
    },
    /// The kernel wants an SA for traffic a policy requires protection for.
    Acquire(Acquire),
    /// An SA's soft or hard lifetime ran out.
    Expire(Expire),
    /// The peer's NAT mapping of an ESP-in-UDP SA changed.
    NewMapping(NewMapping),
    /// Anything else: another socket's change broadcast to us, an SPD
    /// notification, a reply to a request we no longer wait for.
    Other(Message),
}

/// `SADB_ACQUIRE` (RFC 2367 §3.1.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acquire {
    /// The kernel's acquire counter; echo it in the GETSPI/ADD that answers.
    pub seq: u32,
    /// The SA type wanted.
    pub satype: SaType,
    /// The SA's source (a tunnel policy's tunnel source).
    pub src: Address,
    /// The SA's destination.
    pub dst: Address,
    /// The policy that triggered it (`dir` 2, `id` its index).
    pub policy: Option<Policy>,
    /// The algorithms the kernel would accept; empty for policies
    /// installed through PF_KEY.
    pub proposal: Option<Proposal>,
}

/// Which lifetime ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpireKind {
    /// The soft lifetime: time to rekey; the SA still works.
    Soft,
    /// The hard lifetime: the SA is gone.
    Hard,
}

/// `SADB_EXPIRE` (RFC 2367 §3.1.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expire {
    /// Soft or hard.
    pub kind: ExpireKind,
    /// The SA's type.
    pub satype: SaType,
    /// The SA (its state is dying or dead).
    pub sa: Sa,
    /// The SA's source address.
    pub src: Address,
    /// The SA's destination address.
    pub dst: Address,
    /// The SA's mode and reqid.
    pub sa2: Option<Sa2>,
    /// The limit that was reached.
    pub limit: Lifetime,
    /// The usage so far.
    pub current: Option<Lifetime>,
}

/// `SADB_X_NAT_T_NEW_MAPPING`: the peer of an ESP-in-UDP SA now appears
/// from a different address or port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewMapping {
    /// The SA's type.
    pub satype: SaType,
    /// The SA's SPI.
    pub spi: u32,
    /// The new source address.
    pub src: Address,
    /// The new source port.
    pub sport: u16,
    /// The destination address.
    pub dst: Address,
    /// The destination port.
    pub dport: u16,
}

/// Counters of what the client dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Messages that did not parse, or lacked a required extension.
    pub malformed: u64,
    /// Second copies of replies already delivered (FLUSH's broadcast).
    pub duplicates: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pending {
    msg_type: MessageType,
    seq: u32,
    /// Records received so far, for dumps.
    records: usize,
}

fn is_dump(t: MessageType) -> bool {
    matches!(t, MessageType::Dump | MessageType::SpdDump)
}

/// The PF_KEY protocol state of one socket.
#[derive(Debug)]
pub struct Client {
    pid: u32,
    next_seq: u32,
    pending: Vec<Pending>,
    recent: VecDeque<(MessageType, u32)>,
    events: VecDeque<Event>,
    stats: Stats,
}

impl Client {
    /// A client whose requests carry `pid` (conventionally the process id,
    /// as racoon and setkey do; the kernel echoes it in replies).
    pub fn new(pid: u32) -> Self {
        Self::with_first_seq(pid, 1)
    }

    /// Like [`Client::new`], numbering requests from `first_seq` (0 is
    /// skipped). Linux broadcasts SA and policy changes to every PF_KEY
    /// socket, so two sockets of one process must not share seq numbers or
    /// one would take the other's broadcast reply for its own.
    pub fn with_first_seq(pid: u32, first_seq: u32) -> Self {
        Self {
            pid,
            next_seq: first_seq.max(1),
            pending: Vec::new(),
            recent: VecDeque::with_capacity(RECENT),
            events: VecDeque::new(),
            stats: Stats::default(),
        }
    }

    /// The pid stamped on requests.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// What was dropped so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Stamps `msg` with the next seq and our pid, and expects its reply.
    pub fn send(&mut self, msg: Message) -> Result<Transmit, ClientError> {
        let seq = self.next_seq;
        // Skip 0: dump replies use it to mark their last record.
        self.next_seq = self.next_seq.checked_add(1).unwrap_or(1);
        self.send_with_seq(msg, seq)
    }

    /// Like [`Client::send`] with a chosen seq: racoon answers an ACQUIRE
    /// with GETSPI/ADD carrying the ACQUIRE's seq.
    pub fn send_with_seq(&mut self, mut msg: Message, seq: u32) -> Result<Transmit, ClientError> {
        let msg_type = msg.header.msg_type;
        if self.pending.len() >= MAX_PENDING {
            return Err(ClientError::TooManyPending);
        }
        if is_dump(msg_type) && self.pending.iter().any(|p| p.msg_type == msg_type) {
            return Err(ClientError::DumpInProgress(msg_type));
        }
        if self
            .pending
            .iter()
            .any(|p| p.msg_type == msg_type && p.seq == seq)
        {
            return Err(ClientError::SeqInUse { msg_type, seq });
        }
        msg.header.seq = seq;
        msg.header.pid = self.pid;
        let bytes = msg.to_bytes()?;
        self.pending.push(Pending {
            msg_type,
            seq,
            records: 0,
        });
        Ok(Transmit {
            seq,
            msg_type,
            bytes,
        })
    }

    /// Stops waiting for request (`msg_type`, `seq`), e.g. after the
    /// caller's timeout; a late reply then surfaces as [`Event::Other`].
    pub fn forget(&mut self, msg_type: MessageType, seq: u32) {
        self.pending
            .retain(|p| !(p.msg_type == msg_type && p.seq == seq));
    }

    /// Whether request (`msg_type`, `seq`) still awaits its reply.
    pub fn is_pending(&self, msg_type: MessageType, seq: u32) -> bool {
        self.pending
            .iter()
            .any(|p| p.msg_type == msg_type && p.seq == seq)
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Processes one message read from the socket.
    pub fn handle_message(&mut self, bytes: &[u8]) {
        let Ok(msg) = Message::parse(bytes) else {
            self.stats.malformed = self.stats.malformed.saturating_add(1);
            return;
        };
        let event = if msg.header.pid == self.pid {
            self.handle_own(msg)
        } else if msg.header.pid == 0 {
            self.handle_kernel(msg)
        } else {
            Some(Event::Other(msg))
        };
        if let Some(event) = event {
            self.events.push_back(event);
        }
    }

    fn remember(&mut self, msg_type: MessageType, seq: u32) {
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back((msg_type, seq));
    }

    fn take_pending(&mut self, msg_type: MessageType, seq: u32) -> Option<Pending> {
        let at = self
            .pending
            .iter()
            .position(|p| p.msg_type == msg_type && p.seq == seq)?;
        Some(self.pending.swap_remove(at))
    }

    /// A message carrying our pid: a reply (or a copy of one).
    fn handle_own(&mut self, msg: Message) -> Option<Event> {
        let msg_type = msg.header.msg_type;
        let kernel_error = msg.errno().map(|errno| KernelError { msg_type, errno });
        if is_dump(msg_type)
            && let Some(p) = self.pending.iter_mut().find(|p| p.msg_type == msg_type)
        {
            let seq = p.seq;
            let done = match kernel_error {
                // An empty table is not a failure.
                Some(e) if e.errno == ENOENT && p.records == 0 => Some(Ok(0)),
                Some(e) => Some(Err(e)),
                None => {
                    p.records = p.records.saturating_add(1);
                    let last = msg.header.seq == 0;
                    let records = p.records;
                    self.events.push_back(Event::DumpRecord {
                        seq,
                        msg_type,
                        record: msg,
                    });
                    last.then_some(Ok(records))
                }
            };
            let result = done?;
            self.take_pending(msg_type, seq);
            return Some(Event::DumpDone {
                seq,
                msg_type,
                result,
            });
        }
        let seq = msg.header.seq;
        if self.take_pending(msg_type, seq).is_some() {
            self.remember(msg_type, seq);
            let result = match kernel_error {
                Some(e) => Err(e),
                None => Ok(msg),
            };
            return Some(Event::Reply {
                seq,
                msg_type,
                result,
            });
        }
        if self.recent.contains(&(msg_type, seq)) {
            self.stats.duplicates = self.stats.duplicates.saturating_add(1);
            return None;
        }
        Some(Event::Other(msg))
    }

    /// A kernel-initiated message (pid 0).
    fn handle_kernel(&mut self, msg: Message) -> Option<Event> {
        let typed = match msg.header.msg_type {
            MessageType::Acquire => acquire(&msg).map(Event::Acquire),
            MessageType::Expire => expire(&msg).map(Event::Expire),
            MessageType::NatTNewMapping => new_mapping(&msg).map(Event::NewMapping),
            _ => return Some(Event::Other(msg)),
        };
        if typed.is_none() {
            self.stats.malformed = self.stats.malformed.saturating_add(1);
        }
        typed
    }
}

fn acquire(msg: &Message) -> Option<Acquire> {
    Some(Acquire {
        seq: msg.header.seq,
        satype: msg.header.satype,
        src: *msg.address_src()?,
        dst: *msg.address_dst()?,
        policy: msg.policy().cloned(),
        proposal: msg.proposal().cloned(),
    })
}

fn expire(msg: &Message) -> Option<Expire> {
    // RFC 2367 §3.1.7: the message carries the lifetime that expired.
    let (kind, limit) = match (msg.lifetime_hard(), msg.lifetime_soft()) {
        (Some(hard), _) => (ExpireKind::Hard, *hard),
        (None, Some(soft)) => (ExpireKind::Soft, *soft),
        (None, None) => return None,
    };
    Some(Expire {
        kind,
        satype: msg.header.satype,
        sa: *msg.sa()?,
        src: *msg.address_src()?,
        dst: *msg.address_dst()?,
        sa2: msg.sa2().copied(),
        limit,
        current: msg.lifetime_current().copied(),
    })
}

fn new_mapping(msg: &Message) -> Option<NewMapping> {
    Some(NewMapping {
        satype: msg.header.satype,
        spi: msg.sa()?.spi,
        src: *msg.address_src()?,
        sport: msg.nat_t_sport()?.port,
        dst: *msg.address_dst()?,
        dport: msg.nat_t_dport()?.port,
    })
}
