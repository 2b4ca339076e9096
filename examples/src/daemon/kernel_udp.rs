//! `setsockopt(fd, SOL_UDP, UDP_ENCAP, UDP_ENCAP_ESPINUDP)` on the IKE
//! port-4500 socket: with it the Linux kernel takes ESP-in-UDP (RFC 3948)
//! off that socket itself and hands the daemon only IKE (after the non-ESP
//! marker). Neither std, socket2 nor nix offers this option, so this is the
//! one `unsafe` call of the kernel data path.

use std::io;
use std::net::UdpSocket;
use std::os::fd::AsRawFd;

/// `UDP_ENCAP` (`linux/udp.h`), a `SOL_UDP` option.
const UDP_ENCAP: libc::c_int = 100;

/// Makes the kernel decapsulate ESP-in-UDP arriving on `socket`.
pub fn enable_esp_in_udp(socket: &UdpSocket) -> io::Result<()> {
    let value = libc::c_int::from(super::kernel::UDP_ENCAP_ESPINUDP);
    let len = libc::socklen_t::try_from(size_of::<libc::c_int>())
        .map_err(|_| io::Error::other("socklen_t"))?;
    // SAFETY: the fd is open for as long as `socket` is borrowed, and
    // `value` is a live c_int whose size is passed as the option length; the
    // kernel only reads those `len` bytes.
    #[allow(unsafe_code)]
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_UDP,
            UDP_ENCAP,
            (&raw const value).cast::<libc::c_void>(),
            len,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
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
}
