//! Socket options of the kernel data path that neither std, socket2 nor
//! nix offers, so this module holds its only `unsafe` call
//! (`set_option`):
//! - `UDP_ENCAP_ESPINUDP` on the IKE port-4500 socket: the Linux kernel then
//!   takes ESP-in-UDP (RFC 3948) off that socket itself and hands the daemon
//!   only IKE (after the non-ESP marker);
//! - a per-socket `bypass` IPsec policy (`IP_IPSEC_POLICY`, a PF_KEY
//!   `sadb_x_policy`) in and out on the IKE sockets, as racoon sets: without
//!   it a host-to-host `any` policy would hold IKE itself for an SA that
//!   only IKE can negotiate.

use std::io;
use std::net::UdpSocket;
use std::os::fd::AsRawFd;

use pfkey::wire::{Extension, Message, MessageType, Policy, PolicyDir, PolicyType, SaType};

/// `UDP_ENCAP` (`linux/udp.h`), a `SOL_UDP` option.
const UDP_ENCAP: libc::c_int = 100;
/// `sadb_msg` precedes the policy extension in an encoded message.
const SADB_MSG_LEN: usize = 16;

/// `setsockopt(socket, level, name, value)`.
fn set_option(
    socket: &UdpSocket,
    level: libc::c_int,
    name: libc::c_int,
    value: &[u8],
) -> io::Result<()> {
    let len = libc::socklen_t::try_from(value.len())
        .map_err(|_| io::Error::other("socket option too long"))?;
    // SAFETY: the fd is open for as long as `socket` is borrowed; `value`
    // is a live slice of exactly `len` bytes, which is all the kernel reads.
    #[allow(unsafe_code)]
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            value.as_ptr().cast::<libc::c_void>(),
            len,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Makes the kernel decapsulate ESP-in-UDP arriving on `socket`.
pub fn enable_esp_in_udp(socket: &UdpSocket) -> io::Result<()> {
    let value = libc::c_int::from(super::kernel::UDP_ENCAP_ESPINUDP);
    set_option(socket, libc::SOL_UDP, UDP_ENCAP, &value.to_ne_bytes())
}

/// The `sadb_x_policy` of a `bypass` policy in `dir`, as the pfkey codec
/// encodes it (the kernel parses socket policies with af_key's parser).
pub fn bypass_policy(dir: PolicyDir) -> io::Result<Vec<u8>> {
    let msg = Message::new(MessageType::SpdAdd, SaType::Unspec)
        .with(Extension::Policy(Policy::new(PolicyType::Bypass, dir)));
    let bytes = msg.to_bytes().map_err(io::Error::other)?;
    Ok(bytes.get(SADB_MSG_LEN..).unwrap_or_default().to_vec())
}

/// Exempts `socket`'s traffic from the SPD in both directions
/// (`IP_IPSEC_POLICY` / `IPV6_IPSEC_POLICY`; needs CAP_NET_ADMIN and af_key).
pub fn bypass_ipsec(socket: &UdpSocket) -> io::Result<()> {
    let (level, name) = if socket.local_addr()?.is_ipv4() {
        (libc::IPPROTO_IP, libc::IP_IPSEC_POLICY)
    } else {
        (libc::IPPROTO_IPV6, libc::IPV6_IPSEC_POLICY)
    };
    for dir in [PolicyDir::Inbound, PolicyDir::Outbound] {
        set_option(socket, level, name, &bypass_policy(dir)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The option is accepted on a Linux UDP socket (the kernel needs
    /// CONFIG_XFRM, not the ESP modules, for it).
    #[test]
    fn sets_on_a_udp_socket() {
        let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
        enable_esp_in_udp(&s).expect("UDP_ENCAP");
    }

    /// `struct sadb_x_policy` (linux/pfkeyv2.h): len 2 (8-byte units),
    /// exttype 18, type IPSEC_POLICY_BYPASS 4, dir, then reserved, id and
    /// priority zero; integers in host order.
    #[test]
    fn bypass_policy_is_a_bare_sadb_x_policy() {
        for (dir, value) in [(PolicyDir::Inbound, 1u8), (PolicyDir::Outbound, 2)] {
            let b = bypass_policy(dir).expect("encode");
            let mut expect = Vec::new();
            expect.extend_from_slice(&2u16.to_ne_bytes());
            expect.extend_from_slice(&18u16.to_ne_bytes());
            expect.extend_from_slice(&4u16.to_ne_bytes());
            expect.extend_from_slice(&[value, 0]);
            expect.extend_from_slice(&[0; 8]);
            assert_eq!(b, expect, "{dir:?}");
        }
    }
}
