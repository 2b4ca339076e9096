//! A PF_KEY probe for the kernel VM harness, independent of the `pfkey`
//! crate: it builds RFC 2367 messages by hand, so a failure here points at
//! the guest kernel, and a failure only in `pfkey`'s live tests points at the
//! crate. The host kernel has no PF_KEY, so these tests are ignored by a
//! plain `cargo test`; `tests/kernel-vm/ci.sh` runs them inside the QEMU
//! guest with `--include-ignored`.

#![allow(unsafe_code)] // socket(2) and recv(2): std has no PF_KEY sockets.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

// Linux <linux/pfkeyv2.h>, <sys/socket.h>, <errno.h>.
const PF_KEY: i32 = 15;
const SOCK_RAW: i32 = 3;
const PF_KEY_V2: u8 = 2;
const MSG_DONTWAIT: i32 = 0x40;
const SADB_FLUSH: u8 = 9;
const SADB_DUMP: u8 = 10;
const SADB_REGISTER: u8 = 7;
const SADB_SATYPE_ESP: u8 = 3;
const SADB_EXT_SUPPORTED_AUTH: u16 = 14;
const SADB_EXT_SUPPORTED_ENCRYPT: u16 = 15;
const SADB_AALG_SHA1HMAC: u8 = 3;
const SADB_X_AALG_SHA2_256HMAC: u8 = 5;
const SADB_EALG_3DESCBC: u8 = 3;
const SADB_X_EALG_AESCBC: u8 = 12;
/// AES-CCM (14–16) and AES-GCM (18–20) ids, RFC 4309 / RFC 4106.
const AEAD_IDS: [u8; 6] = [14, 15, 16, 18, 19, 20];
const ENOENT: u8 = 2;
const EAGAIN: i32 = 11;
const EMSGSIZE: i32 = 90;

unsafe extern "C" {
    fn socket(domain: i32, kind: i32, protocol: i32) -> i32;
    fn recv(fd: i32, buf: *mut u8, len: usize, flags: i32) -> isize;
}

/// One `socket(PF_KEY, SOCK_RAW, PF_KEY_V2)`.
struct KeySocket {
    file: File,
}

/// The 16-byte `sadb_msg` header (RFC 2367 §2.3.1), host byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    kind: u8,
    errno: u8,
    satype: u8,
    len_words: u16,
    seq: u32,
    pid: u32,
}

impl Header {
    fn request(kind: u8, satype: u8, seq: u32) -> Self {
        Self {
            kind,
            errno: 0,
            satype,
            len_words: 2,
            seq,
            pid: std::process::id(),
        }
    }

    fn emit(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[0] = PF_KEY_V2;
        out[1] = self.kind;
        out[2] = self.errno;
        out[3] = self.satype;
        out[4..6].copy_from_slice(&self.len_words.to_ne_bytes());
        out[8..12].copy_from_slice(&self.seq.to_ne_bytes());
        out[12..16].copy_from_slice(&self.pid.to_ne_bytes());
        out
    }

    fn parse(msg: &[u8]) -> Self {
        assert!(msg.len() >= 16, "short PF_KEY message: {msg:02x?}");
        assert_eq!(msg[0], PF_KEY_V2, "sadb_msg_version");
        Self {
            kind: msg[1],
            errno: msg[2],
            satype: msg[3],
            len_words: u16::from_ne_bytes([msg[4], msg[5]]),
            seq: u32::from_ne_bytes(msg[8..12].try_into().unwrap()),
            pid: u32::from_ne_bytes(msg[12..16].try_into().unwrap()),
        }
    }
}

impl KeySocket {
    fn open() -> io::Result<Self> {
        // SAFETY: socket(2) takes no pointers; a non-negative result is a
        // fresh descriptor that nothing else owns.
        let fd = unsafe { socket(PF_KEY, SOCK_RAW, i32::from(PF_KEY_V2)) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: see above; ownership moves into the File.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Self {
            file: File::from(owned),
        })
    }

    fn send(&mut self, msg: &[u8]) -> io::Result<()> {
        let written = self.file.write(msg)?;
        assert_eq!(written, msg.len(), "PF_KEY writes are whole messages");
        Ok(())
    }

    /// The next queued message, or None. The kernel queues its replies
    /// before write() returns, so no waiting is needed.
    fn try_recv(&mut self) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; 65536];
        // SAFETY: buf is valid for writes of buf.len() bytes.
        let n = unsafe {
            recv(
                self.file.as_raw_fd(),
                buf.as_mut_ptr(),
                buf.len(),
                MSG_DONTWAIT,
            )
        };
        if n < 0 {
            let err = io::Error::last_os_error();
            assert_eq!(err.raw_os_error(), Some(EAGAIN), "recv: {err}");
            return None;
        }
        buf.truncate(usize::try_from(n).unwrap());
        Some(buf)
    }

    /// The reply to our request: other tests' sockets cause broadcasts
    /// (e.g. FLUSH notifications) that reach this socket too.
    fn reply_to(&mut self, request: &Header) -> Vec<u8> {
        for _ in 0..64 {
            let Some(msg) = self.try_recv() else { break };
            let header = Header::parse(&msg);
            if header.kind == request.kind && header.seq == request.seq && header.pid == request.pid
            {
                assert_eq!(
                    usize::from(header.len_words) * 8,
                    msg.len(),
                    "sadb_msg_len counts 8-byte words of the whole message"
                );
                return msg;
            }
        }
        panic!("no reply to {request:?}");
    }
}

/// The `sadb_alg` ids (RFC 2367 §2.3.8) of one SUPPORTED extension.
fn supported_ids(msg: &[u8], ext_type: u16) -> Option<Vec<u8>> {
    let mut rest = &msg[16..];
    while rest.len() >= 4 {
        let len = usize::from(u16::from_ne_bytes([rest[0], rest[1]])) * 8;
        let kind = u16::from_ne_bytes([rest[2], rest[3]]);
        assert!(len >= 8 && len <= rest.len(), "extension length {len}");
        let (ext, tail) = rest.split_at(len);
        if kind == ext_type {
            // An 8-byte sadb_supported header, then 8-byte sadb_alg entries.
            return Some(ext[8..].chunks_exact(8).map(|alg| alg[0]).collect());
        }
        rest = tail;
    }
    None
}

#[test]
#[ignore = "needs a kernel with PF_KEY: run by tests/kernel-vm/ci.sh in a QEMU guest"]
fn register_esp_lists_the_kernel_algorithms() {
    let mut sock = KeySocket::open().expect("socket(PF_KEY, SOCK_RAW, PF_KEY_V2)");
    let request = Header::request(SADB_REGISTER, SADB_SATYPE_ESP, 7001);
    sock.send(&request.emit()).unwrap();
    let reply = sock.reply_to(&request);
    let header = Header::parse(&reply);
    assert_eq!(header.errno, 0);
    assert_eq!(header.satype, SADB_SATYPE_ESP);

    let auth = supported_ids(&reply, SADB_EXT_SUPPORTED_AUTH).expect("SUPPORTED_AUTH");
    let encrypt = supported_ids(&reply, SADB_EXT_SUPPORTED_ENCRYPT).expect("SUPPORTED_ENCRYPT");
    assert!(auth.contains(&SADB_AALG_SHA1HMAC), "auth {auth:?}");
    assert!(auth.contains(&SADB_X_AALG_SHA2_256HMAC), "auth {auth:?}");
    assert!(encrypt.contains(&SADB_X_EALG_AESCBC), "encrypt {encrypt:?}");
    assert!(encrypt.contains(&SADB_EALG_3DESCBC), "encrypt {encrypt:?}");
    // Linux never offers AEAD through PF_KEY; only XFRM netlink installs them.
    assert!(
        encrypt.iter().all(|id| !AEAD_IDS.contains(id)),
        "encrypt {encrypt:?}"
    );
}

#[test]
#[ignore = "needs a kernel with PF_KEY: run by tests/kernel-vm/ci.sh in a QEMU guest"]
fn a_header_without_its_length_is_refused_by_write() {
    let mut sock = KeySocket::open().expect("socket(PF_KEY, SOCK_RAW, PF_KEY_V2)");
    let mut request = Header::request(SADB_REGISTER, SADB_SATYPE_ESP, 7002);
    request.len_words = 0;
    let err = sock.send(&request.emit()).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(EMSGSIZE), "{err}");
    assert_eq!(sock.try_recv(), None, "a refused write gets no reply");
}

#[test]
#[ignore = "needs a kernel with PF_KEY: run by tests/kernel-vm/ci.sh in a QEMU guest"]
fn dump_of_an_empty_table_answers_enoent() {
    let mut sock = KeySocket::open().expect("socket(PF_KEY, SOCK_RAW, PF_KEY_V2)");
    let flush = Header::request(SADB_FLUSH, SADB_SATYPE_ESP, 7003);
    sock.send(&flush.emit()).unwrap();
    assert_eq!(Header::parse(&sock.reply_to(&flush)).errno, 0);

    let dump = Header::request(SADB_DUMP, SADB_SATYPE_ESP, 7004);
    sock.send(&dump.emit()).unwrap();
    // Errors are a bare header with sadb_msg_errno set; write() succeeded.
    let reply = sock.reply_to(&dump);
    assert_eq!(reply.len(), 16);
    assert_eq!(Header::parse(&reply).errno, ENOENT);
}
