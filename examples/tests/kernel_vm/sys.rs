//! The socket calls std does not offer: PF_KEY, raw IP and packet sockets,
//! `setsockopt`. Declared against the libc that std links anyway, so the
//! test needs no extra crate. Linux x86-64 constants and layouts.

#![allow(unsafe_code)]

use std::io;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

pub(crate) const AF_INET: i32 = 2;
pub(crate) const AF_INET6: i32 = 10;
pub(crate) const AF_PACKET: i32 = 17;
pub(crate) const SOCK_DGRAM: i32 = 2;
pub(crate) const SOCK_RAW: i32 = 3;
pub(crate) const IPPROTO_RAW: i32 = 255;
pub(crate) const MSG_DONTWAIT: i32 = 0x40;
pub(crate) const EAGAIN: i32 = 11;
const SOL_SOCKET: i32 = 1;
const SO_RCVTIMEO: i32 = 20;
const IPPROTO_UDP: i32 = 17;
const UDP_ENCAP: i32 = 100;
const UDP_ENCAP_ESPINUDP: i32 = 2;
const ETH_P_ALL: u16 = 0x0003;

unsafe extern "C" {
    fn socket(domain: i32, kind: i32, protocol: i32) -> i32;
    fn recv(fd: i32, buf: *mut u8, len: usize, flags: i32) -> isize;
    fn sendto(
        fd: i32,
        buf: *const u8,
        len: usize,
        flags: i32,
        addr: *const u8,
        addr_len: u32,
    ) -> isize;
    fn bind(fd: i32, addr: *const u8, addr_len: u32) -> i32;
    fn setsockopt(fd: i32, level: i32, name: i32, value: *const u8, len: u32) -> i32;
}

/// `socket(2)`.
pub(crate) fn open(domain: i32, kind: i32, protocol: i32) -> io::Result<OwnedFd> {
    // SAFETY: no pointers; a non-negative result is a new descriptor that
    // nothing else owns, so OwnedFd may take it.
    let fd = unsafe { socket(domain, kind, protocol) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: see above.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `recv(2)` into `buf`; the message length.
pub(crate) fn receive(fd: &impl AsRawFd, buf: &mut [u8], flags: i32) -> io::Result<usize> {
    // SAFETY: buf is valid for writes of buf.len() bytes.
    let n = unsafe { recv(fd.as_raw_fd(), buf.as_mut_ptr(), buf.len(), flags) };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

/// `sendto(2)` of one datagram to `dst` (port 0: raw sockets).
pub(crate) fn send_to(fd: &impl AsRawFd, buf: &[u8], dst: IpAddr) -> io::Result<usize> {
    let addr = sockaddr(dst);
    // SAFETY: buf and addr are valid for reads of their lengths.
    let n = unsafe {
        sendto(
            fd.as_raw_fd(),
            buf.as_ptr(),
            buf.len(),
            0,
            addr.as_ptr(),
            u32::try_from(addr.len()).unwrap(),
        )
    };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

/// `struct sockaddr_in` / `sockaddr_in6` with port 0.
fn sockaddr(addr: IpAddr) -> Vec<u8> {
    match addr {
        IpAddr::V4(a) => {
            let mut s = vec![0u8; 16];
            s[..2].copy_from_slice(&(AF_INET as u16).to_ne_bytes());
            s[4..8].copy_from_slice(&a.octets());
            s
        }
        IpAddr::V6(a) => {
            let mut s = vec![0u8; 28];
            s[..2].copy_from_slice(&(AF_INET6 as u16).to_ne_bytes());
            s[8..24].copy_from_slice(&a.octets());
            s
        }
    }
}

fn set_option(fd: &impl AsRawFd, level: i32, name: i32, value: &[u8]) -> io::Result<()> {
    // SAFETY: value is valid for reads of value.len() bytes.
    let r = unsafe {
        setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            value.as_ptr(),
            u32::try_from(value.len()).unwrap(),
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `SO_RCVTIMEO`, for sockets std does not wrap.
pub(crate) fn set_receive_timeout(fd: &impl AsRawFd, seconds: i64) -> io::Result<()> {
    let mut timeval = [0u8; 16];
    timeval[..8].copy_from_slice(&seconds.to_ne_bytes());
    set_option(fd, SOL_SOCKET, SO_RCVTIMEO, &timeval)
}

/// Makes a UDP socket the kernel's ESP-in-UDP endpoint (RFC 3948): the
/// kernel decapsulates NAT-T ESP only for a socket with this option.
pub(crate) fn set_udp_encap_espinudp(fd: &impl AsRawFd) -> io::Result<()> {
    set_option(
        fd,
        IPPROTO_UDP,
        UDP_ENCAP,
        &UDP_ENCAP_ESPINUDP.to_ne_bytes(),
    )
}

/// A packet socket that sees every IP packet on interface `ifindex`, link
/// header removed (`SOCK_DGRAM`).
pub(crate) fn open_capture(ifindex: i32) -> io::Result<OwnedFd> {
    let fd = open(AF_PACKET, SOCK_DGRAM, i32::from(ETH_P_ALL.to_be()))?;
    // struct sockaddr_ll: family, protocol (network order), ifindex,
    // hatype, pkttype, halen, addr[8].
    let mut sll = [0u8; 20];
    sll[..2].copy_from_slice(&(AF_PACKET as u16).to_ne_bytes());
    sll[2..4].copy_from_slice(&ETH_P_ALL.to_be_bytes());
    sll[4..8].copy_from_slice(&ifindex.to_ne_bytes());
    // SAFETY: sll is valid for reads of its length.
    let r = unsafe { bind(fd.as_raw_fd(), sll.as_ptr(), 20) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}
