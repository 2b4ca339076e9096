//! The socket adapter on the machine at hand. These build machines have no
//! PF_KEY, so `open` must say so plainly; where PF_KEY exists (the QEMU
//! guest) it must open.

use pfkey::SocketError;
use pfkey::socket::PfKeySocket;

#[test]
fn open_reports_missing_pf_key_plainly() {
    match PfKeySocket::open() {
        Err(e @ SocketError::NoPfKey) => {
            let text = e.to_string();
            assert!(
                text.contains("this kernel has no PF_KEY (af_key module not loaded or not built)"),
                "{text}"
            );
        }
        Err(SocketError::PermissionDenied(e)) => {
            eprintln!("not root here: {e}");
        }
        Err(other) => panic!("unexpected error opening PF_KEY: {other}"),
        Ok(_) => eprintln!("this kernel has PF_KEY; pfkey/tests/live_kernel.rs covers it"),
    }
}
