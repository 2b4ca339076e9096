//! The Linux socket: `socket(PF_KEY, SOCK_RAW, PF_KEY_V2)` through
//! `socket2`, with no protocol logic ([`PfKeySocket`]), and a small
//! blocking [`Session`] that drives a [`Client`] over it for tools such as
//! the setkey example and the live-kernel tests.
//!
//! No `unsafe`: `socket2` reads into an initialised buffer via `Read`.

use std::io::{self, Read};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use zeroize::Zeroizing;

use crate::client::{Client, ClientError, Event, KernelError, Transmit};
use crate::wire::constants::{AF_KEY, PF_KEY_V2};
use crate::wire::{Message, MessageType};

/// The largest PF_KEY message: `sadb_msg_len` is 16 bits of 8-byte units.
pub const MAX_MESSAGE: usize = u16::MAX as usize * 8;

/// `EAFNOSUPPORT`, `EPERM` and `EACCES` (Linux).
const EAFNOSUPPORT: i32 = 97;
const EPERM: i32 = 1;
const EACCES: i32 = 13;

/// Why the PF_KEY socket could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SocketError {
    /// `socket()` failed with EAFNOSUPPORT.
    #[error(
        "this kernel has no PF_KEY (af_key module not loaded or not built): \
         socket(PF_KEY, SOCK_RAW, PF_KEY_V2) failed with EAFNOSUPPORT"
    )]
    NoPfKey,
    /// `socket()` failed with EPERM/EACCES.
    #[error("opening a PF_KEY socket needs CAP_NET_ADMIN (run as root): {0}")]
    PermissionDenied(io::Error),
    /// Any other failure.
    #[error("PF_KEY socket: {0}")]
    Io(#[from] io::Error),
}

/// A PF_KEY v2 socket. One `send` is one message; one `recv` is one message.
#[derive(Debug)]
pub struct PfKeySocket {
    socket: Socket,
    /// Receive buffer for the largest possible message, wiped on drop
    /// because GET and DUMP replies contain keys.
    buf: Zeroizing<Vec<u8>>,
}

impl PfKeySocket {
    /// Opens the socket. Needs CAP_NET_ADMIN and a kernel with `af_key`.
    pub fn open() -> Result<Self, SocketError> {
        let socket = Socket::new(
            Domain::from(AF_KEY),
            Type::RAW,
            Some(Protocol::from(i32::from(PF_KEY_V2))),
        )
        .map_err(|e| match e.raw_os_error() {
            Some(EAFNOSUPPORT) => SocketError::NoPfKey,
            Some(EPERM | EACCES) => SocketError::PermissionDenied(e),
            _ => SocketError::Io(e),
        })?;
        Ok(Self {
            socket,
            buf: Zeroizing::new(vec![0; MAX_MESSAGE]),
        })
    }

    /// Writes one message.
    pub fn send(&self, bytes: &[u8]) -> io::Result<()> {
        let sent = self.socket.send(bytes)?;
        if sent != bytes.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!("PF_KEY took {sent} of {} bytes", bytes.len()),
            ));
        }
        Ok(())
    }

    /// Reads one message. With a read timeout set, a timeout is
    /// `WouldBlock` or `TimedOut`.
    pub fn recv(&mut self) -> io::Result<&[u8]> {
        let n = (&self.socket).read(&mut self.buf)?;
        Ok(self.buf.get(..n).unwrap_or_default())
    }

    /// Sets how long [`PfKeySocket::recv`] may block (`None`: forever).
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.socket.set_read_timeout(timeout)
    }

    /// The underlying socket, e.g. to poll it.
    pub fn as_socket(&self) -> &Socket {
        &self.socket
    }
}

/// Why a [`Session`] request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// Socket I/O failed.
    #[error("PF_KEY I/O: {0}")]
    Io(#[from] io::Error),
    /// The request could not be sent.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The kernel answered with an errno.
    #[error(transparent)]
    Kernel(#[from] KernelError),
    /// No reply arrived within the read timeout.
    #[error("no reply to {0:?} from the kernel")]
    Timeout(MessageType),
}

/// How many unrelated messages one request may skip over while waiting.
const MAX_SKIPPED: usize = 100_000;
/// Events kept for [`Session::next_event`]; beyond this the oldest go.
const MAX_QUEUED: usize = 4096;

/// A blocking request/reply loop over one socket. Events that are not the
/// awaited reply are queued for [`Session::next_event`].
#[derive(Debug)]
pub struct Session {
    socket: PfKeySocket,
    client: Client,
    queued: std::collections::VecDeque<Event>,
}

impl Session {
    /// Opens a socket with a 5-second read timeout; requests carry this
    /// process's id as pid. Each session of a process numbers its requests
    /// in its own range of 2^24 seqs (see [`Client::with_first_seq`]).
    pub fn open() -> Result<Self, SocketError> {
        static SESSIONS: AtomicU32 = AtomicU32::new(0);
        let socket = PfKeySocket::open()?;
        socket.set_read_timeout(Some(Duration::from_secs(5)))?;
        let index = SESSIONS.fetch_add(1, Ordering::Relaxed) & 0xff;
        Ok(Self {
            socket,
            client: Client::with_first_seq(std::process::id(), (index << 24) | 1),
            queued: std::collections::VecDeque::new(),
        })
    }

    /// The socket, e.g. to change its timeout.
    pub fn socket(&self) -> &PfKeySocket {
        &self.socket
    }

    /// The protocol state.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Sends `msg` and waits for its reply.
    pub fn request(&mut self, msg: Message) -> Result<Message, SessionError> {
        let tx = self.client.send(msg)?;
        self.wait_reply(tx)
    }

    /// Sends `msg` with a chosen seq (e.g. an ACQUIRE's) and waits for its reply.
    pub fn request_with_seq(&mut self, msg: Message, seq: u32) -> Result<Message, SessionError> {
        let tx = self.client.send_with_seq(msg, seq)?;
        self.wait_reply(tx)
    }

    fn wait_reply(&mut self, tx: Transmit) -> Result<Message, SessionError> {
        let outcome = self.send_and_wait_reply(&tx);
        if outcome.is_err() {
            // Send failure or timeout: a late reply must not match later.
            self.client.forget(tx.msg_type, tx.seq);
        }
        outcome
    }

    fn send_and_wait_reply(&mut self, tx: &Transmit) -> Result<Message, SessionError> {
        self.socket.send(&tx.bytes)?;
        for _ in 0..MAX_SKIPPED {
            match self.next_from_socket(tx.msg_type)? {
                Event::Reply {
                    seq,
                    msg_type,
                    result,
                } if seq == tx.seq && msg_type == tx.msg_type => {
                    return Ok(result?);
                }
                other => self.queue(other),
            }
        }
        Err(SessionError::Timeout(tx.msg_type))
    }

    fn queue(&mut self, event: Event) {
        if self.queued.len() == MAX_QUEUED {
            self.queued.pop_front();
        }
        self.queued.push_back(event);
    }

    /// Sends a DUMP or X_SPDDUMP and collects every record.
    pub fn dump(&mut self, msg: Message) -> Result<Vec<Message>, SessionError> {
        let tx = self.client.send(msg)?;
        let outcome = self.send_and_collect(&tx);
        if outcome.is_err() {
            self.client.forget(tx.msg_type, tx.seq);
        }
        outcome
    }

    fn send_and_collect(&mut self, tx: &Transmit) -> Result<Vec<Message>, SessionError> {
        self.socket.send(&tx.bytes)?;
        let mut records = Vec::new();
        for _ in 0..MAX_SKIPPED {
            match self.next_from_socket(tx.msg_type)? {
                Event::DumpRecord { seq, record, .. } if seq == tx.seq => records.push(record),
                Event::DumpDone { seq, result, .. } if seq == tx.seq => {
                    result?;
                    return Ok(records);
                }
                other => self.queue(other),
            }
        }
        Err(SessionError::Timeout(tx.msg_type))
    }

    /// The next event: a queued one, or the next from the socket within
    /// its read timeout (`Ok(None)` on timeout).
    pub fn next_event(&mut self) -> Result<Option<Event>, SessionError> {
        if let Some(event) = self.queued.pop_front() {
            return Ok(Some(event));
        }
        match self.next_from_socket(MessageType::Reserved) {
            Ok(event) => Ok(Some(event)),
            Err(SessionError::Timeout(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Reads until the client produces an event (bounded, in case the
    /// kernel keeps sending messages that produce none).
    fn next_from_socket(&mut self, awaited: MessageType) -> Result<Event, SessionError> {
        for _ in 0..MAX_SKIPPED {
            if let Some(event) = self.client.poll_event() {
                return Ok(event);
            }
            match self.socket.recv() {
                Ok(bytes) => self.client.handle_message(bytes),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(SessionError::Timeout(awaited));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(SessionError::Timeout(awaited))
    }
}
