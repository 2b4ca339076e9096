//! The pfkey crate against a live Linux kernel. These need PF_KEY (root and
//! `af_key`), which the build machines lack: they run inside the QEMU guest
//! of `tests/kernel-vm/` with `IPSEC_LIVE_KERNEL=1`, one at a time
//! (`--test-threads=1`: they share the kernel's SA and policy tables).
//! Without the variable each test prints why it skipped and passes.
//!
//! SA and policy tests use addresses in 127.77.0.0/16, which need no
//! interface. The ACQUIRE test needs traffic that really meets XFRM, which
//! Linux never applies on `lo` (it sets `disable_xfrm` there), so it makes
//! its own veth pair and removes it afterwards.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::process::Command;
use std::time::Duration;

use pfkey::Session;
use pfkey::client::{Event, ExpireKind};
use pfkey::request::{self, NatT, SaSpec};
use pfkey::socket::SessionError;
use pfkey::wire::constants::*;
use pfkey::wire::{
    Address, IpsecLevel, IpsecMode, IpsecProto, IpsecRequest, Key, Lifetime, Message, Policy,
    PolicyDir, PolicyType, SaState, SaType, SpiRange,
};

const SKIP: &str = "skipped: needs PF_KEY; run under tests/kernel-vm (IPSEC_LIVE_KERNEL=1)";

/// A session on a clean kernel, or `None` (with the skip notice) when not
/// running under the kernel VM.
fn live() -> Option<Session> {
    if std::env::var("IPSEC_LIVE_KERNEL").as_deref() != Ok("1") {
        eprintln!("{SKIP}");
        return None;
    }
    let mut session = Session::open().unwrap_or_else(|e| panic!("IPSEC_LIVE_KERNEL=1 but {e}"));
    clean(&mut session);
    Some(session)
}

fn clean(session: &mut Session) {
    session.request(request::flush(SaType::Unspec)).unwrap();
    session.request(request::spd_flush()).unwrap();
}

fn ip(s: &str) -> IpAddr {
    s.parse::<Ipv4Addr>().unwrap().into()
}

fn key(fill: u8, len: usize) -> Key {
    Key::new(&vec![fill; len]).unwrap()
}

fn kernel_errno(result: Result<Message, SessionError>) -> u8 {
    match result {
        Err(SessionError::Kernel(e)) => e.errno,
        other => panic!("expected a kernel error, got {other:?}"),
    }
}

fn esp_sa(spi: u32, src: IpAddr, dst: IpAddr) -> SaSpec {
    SaSpec {
        auth: SADB_AALG_SHA1HMAC,
        auth_key: Some(key(0xa1, 20)),
        encrypt: SADB_X_EALG_AESCBC,
        encrypt_key: Some(key(0x11, 16)),
        sa2: Some(request::sa2(IpsecMode::Transport, 0)),
        ..SaSpec::new(SaType::Esp, spi, src, dst)
    }
}

fn transport_require(dir: PolicyDir) -> Policy {
    Policy {
        requests: vec![IpsecRequest {
            proto: IpsecProto::Esp,
            mode: IpsecMode::Transport,
            level: IpsecLevel::Require,
            reqid: 0,
            tunnel: None,
        }],
        ..Policy::new(PolicyType::Ipsec, dir)
    }
}

/// Waits (bounded) for the first event `pick` accepts.
fn wait_for<T>(
    session: &mut Session,
    rounds: usize,
    mut pick: impl FnMut(Event) -> Option<T>,
) -> Option<T> {
    for _ in 0..rounds {
        if let Some(event) = session.next_event().unwrap()
            && let Some(found) = pick(event)
        {
            return Some(found);
        }
    }
    None
}

#[test]
fn register_lists_algorithms_without_aead() {
    let Some(mut s) = live() else { return };
    let reply = s.request(request::register(SaType::Esp)).unwrap();
    let auth: Vec<u8> = reply
        .supported_auth()
        .unwrap()
        .algs
        .iter()
        .map(|a| a.id)
        .collect();
    let enc: Vec<u8> = reply
        .supported_encrypt()
        .unwrap()
        .algs
        .iter()
        .map(|a| a.id)
        .collect();
    for id in [
        SADB_AALG_MD5HMAC,
        SADB_AALG_SHA1HMAC,
        SADB_X_AALG_SHA2_256HMAC,
    ] {
        assert!(auth.contains(&id), "auth {id} missing from {auth:?}");
    }
    for id in [SADB_EALG_3DESCBC, SADB_X_EALG_AESCBC, SADB_EALG_NULL] {
        assert!(enc.contains(&id), "encrypt {id} missing from {enc:?}");
    }
    for aead in [SADB_X_EALG_AES_GCM_ICV16, SADB_X_EALG_AES_CCM_ICV16] {
        assert!(!enc.contains(&aead), "AEAD {aead} listed: {enc:?}");
    }
    // A second REGISTER of the same satype on one socket is refused.
    assert_eq!(kernel_errno(s.request(request::register(SaType::Esp))), 17);
}

#[test]
fn sa_getspi_update_add_get_dump_delete() {
    let Some(mut s) = live() else { return };
    let (a, b) = (ip("127.77.0.1"), ip("127.77.0.2"));

    // Inbound: reserve exactly 0x7001, then complete the larval SA.
    let larval = s
        .request(request::getspi(
            SaType::Esp,
            b,
            a,
            SpiRange {
                min: 0x7001,
                max: 0x7001,
            },
            Some(request::sa2(IpsecMode::Transport, 0)),
        ))
        .unwrap();
    assert_eq!(larval.sa().unwrap().spi, 0x7001);
    assert_eq!(larval.sa().unwrap().state, SaState::Larval);
    let inbound = SaSpec {
        hard: Some(Lifetime::seconds(3600)),
        soft: Some(Lifetime::seconds(2880)),
        ..esp_sa(0x7001, b, a)
    };
    let updated = s.request(request::update(&inbound)).unwrap();
    assert_eq!(updated.sa().unwrap().state, SaState::Mature);
    assert_eq!(updated.lifetime_soft().unwrap().addtime, 2880);

    // Outbound: tunnel mode, AES-256 + HMAC-SHA256, reqid 9.
    let outbound = SaSpec {
        auth: SADB_X_AALG_SHA2_256HMAC,
        auth_key: Some(key(0xc2, 32)),
        encrypt: SADB_X_EALG_AESCBC,
        encrypt_key: Some(key(0x22, 32)),
        sa2: Some(request::sa2(IpsecMode::Tunnel, 9)),
        ..SaSpec::new(SaType::Esp, 0x7002, a, b)
    };
    s.request(request::add(&outbound)).unwrap();
    assert_eq!(
        kernel_errno(s.request(request::add(&outbound))),
        17,
        "duplicate ADD"
    );

    let got = s.request(request::get(SaType::Esp, 0x7002, a, b)).unwrap();
    assert_eq!(got.key_encrypt(), outbound.encrypt_key.as_ref());
    assert_eq!(got.key_auth(), outbound.auth_key.as_ref());
    assert_eq!(got.sa2().unwrap().mode, IpsecMode::Tunnel);
    assert_eq!(got.sa2().unwrap().reqid, 9);
    assert_eq!(got.address_dst().unwrap().addr.ip(), b);

    let mut spis: Vec<u32> = s
        .dump(request::dump(SaType::Esp))
        .unwrap()
        .iter()
        .map(|m| m.sa().unwrap().spi)
        .collect();
    spis.sort_unstable();
    assert_eq!(spis, [0x7001, 0x7002]);

    s.request(request::delete(SaType::Esp, 0x7002, a, b))
        .unwrap();
    s.request(request::delete(SaType::Esp, 0x7001, b, a))
        .unwrap();
    assert_eq!(
        kernel_errno(s.request(request::get(SaType::Esp, 0x7002, a, b))),
        3
    );
    assert!(s.dump(request::dump(SaType::Esp)).unwrap().is_empty());
}

#[test]
fn nat_t_ipv6_ah_ipcomp_and_refused_aes_gcm() {
    let Some(mut s) = live() else { return };
    let (a, b) = (ip("127.77.0.1"), ip("127.77.0.2"));
    let nat = SaSpec {
        nat_t: Some(NatT {
            encap_type: UDP_ENCAP_ESPINUDP,
            sport: 4500,
            dport: 4501,
            original_address: None,
        }),
        sa2: Some(request::sa2(IpsecMode::Tunnel, 3)),
        ..esp_sa(0x7101, a, b)
    };
    s.request(request::add(&nat)).unwrap();
    let got = s.request(request::get(SaType::Esp, 0x7101, a, b)).unwrap();
    assert_eq!(got.nat_t_type().unwrap().encap_type, UDP_ENCAP_ESPINUDP);
    assert_eq!(got.nat_t_sport().unwrap().port, 4500);
    assert_eq!(got.nat_t_dport().unwrap().port, 4501);

    let (v6a, v6b): (IpAddr, IpAddr) = (
        "fd77::1".parse::<Ipv6Addr>().unwrap().into(),
        "fd77::2".parse::<Ipv6Addr>().unwrap().into(),
    );
    let v6 = SaSpec {
        auth: SADB_AALG_MD5HMAC,
        auth_key: Some(key(0xf0, 16)),
        encrypt: SADB_EALG_3DESCBC,
        encrypt_key: Some(key(0x3d, 24)),
        sa2: None,
        ..esp_sa(0x7102, v6a, v6b)
    };
    s.request(request::add(&v6)).unwrap();
    let got = s
        .request(request::get(SaType::Esp, 0x7102, v6a, v6b))
        .unwrap();
    assert_eq!(got.address_src().unwrap().prefixlen, 128);
    assert_eq!(
        got.sa2().unwrap().mode,
        IpsecMode::Transport,
        "no SA2 means transport"
    );

    let ah = SaSpec {
        auth: SADB_AALG_SHA1HMAC,
        auth_key: Some(key(0xa5, 20)),
        ..SaSpec::new(SaType::Ah, 0x7103, a, b)
    };
    s.request(request::add(&ah)).unwrap();
    let ipcomp = SaSpec {
        encrypt: SADB_X_CALG_DEFLATE,
        ..SaSpec::new(SaType::IpComp, 0x7104, a, b)
    };
    s.request(request::add(&ipcomp)).unwrap();
    assert_eq!(s.dump(request::dump(SaType::Unspec)).unwrap().len(), 4);

    // AES-GCM cannot be installed through PF_KEY on Linux (ENOSYS).
    let gcm = SaSpec {
        auth: SADB_AALG_NONE,
        auth_key: None,
        encrypt: SADB_X_EALG_AES_GCM_ICV16,
        encrypt_key: Some(key(0x47, 20)),
        ..esp_sa(0x7105, a, b)
    };
    assert_eq!(kernel_errno(s.request(request::add(&gcm))), 38);

    s.request(request::flush(SaType::Esp)).unwrap();
    assert_eq!(s.dump(request::dump(SaType::Unspec)).unwrap().len(), 2);
    clean(&mut s);
}

#[test]
fn spd_add_get_dump_delete_flush() {
    let Some(mut s) = live() else { return };
    let (a, b) = (ip("127.77.1.1"), ip("127.77.1.2"));
    let sel = |ip, prefix| Address::selector(ip, prefix, 0, IPSEC_ULPROTO_ANY);

    let out = s
        .request(request::spd_add(
            sel(a, 32),
            sel(b, 32),
            transport_require(PolicyDir::Outbound),
        ))
        .unwrap();
    let out_id = out.policy().unwrap().id;
    assert_ne!(out_id, 0);
    assert_eq!(
        out_id & 7,
        1,
        "outbound XFRM direction in the id's low bits"
    );

    let tunnel = Policy {
        requests: vec![IpsecRequest {
            proto: IpsecProto::Esp,
            mode: IpsecMode::Tunnel,
            level: IpsecLevel::Unique,
            reqid: 5,
            tunnel: Some((SocketAddr::new(b, 0), SocketAddr::new(a, 0))),
        }],
        ..Policy::new(PolicyType::Ipsec, PolicyDir::Inbound)
    };
    let inbound = s
        .request(request::spd_add(
            sel(ip("127.78.2.0"), 24),
            sel(ip("127.78.1.0"), 24),
            tunnel.clone(),
        ))
        .unwrap();
    let in_id = inbound.policy().unwrap().id;

    let bypass = Policy::new(PolicyType::None, PolicyDir::Outbound);
    let ike = |ip| Address::selector(ip, 32, 500, 17);
    s.request(request::spd_add(ike(a), ike(b), bypass)).unwrap();

    let got = s.request(request::spd_get(in_id)).unwrap();
    let policy = got.policy().unwrap();
    assert_eq!(policy.dir, PolicyDir::Inbound);
    assert_eq!(policy.requests, tunnel.requests);
    assert_eq!(got.address_src().unwrap().prefixlen, 24);

    let ids: Vec<u32> = s
        .dump(request::spd_dump())
        .unwrap()
        .iter()
        .map(|m| m.policy().unwrap().id)
        .collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!(ids.contains(&out_id) && ids.contains(&in_id));

    s.request(request::spd_delete(
        ike(a),
        ike(b),
        PolicyType::None,
        PolicyDir::Outbound,
    ))
    .unwrap();
    s.request(request::spd_delete2(out_id)).unwrap();
    assert_eq!(kernel_errno(s.request(request::spd_get(out_id))), 2);
    assert_eq!(s.dump(request::spd_dump()).unwrap().len(), 1);

    s.request(request::spd_flush()).unwrap();
    assert!(s.dump(request::spd_dump()).unwrap().is_empty());
}

fn ip_cmd(args: &[&str]) {
    let status = Command::new("ip").args(args).status().unwrap();
    assert!(status.success(), "ip {args:?}: {status}");
}

/// A veth pair `pfk0`/`pfk1`, with 10.77.0.1/24 on `pfk0`: traffic to
/// 10.77.0.2 leaves through it (and XFRM). Deleted on drop.
struct Veth;

impl Veth {
    fn new() -> Self {
        // A leftover from an aborted run would make `add` fail.
        let _ = Command::new("ip")
            .args(["link", "del", "pfk0"])
            .stderr(std::process::Stdio::null())
            .status();
        ip_cmd(&[
            "link", "add", "pfk0", "type", "veth", "peer", "name", "pfk1",
        ]);
        let veth = Self;
        ip_cmd(&["addr", "add", "10.77.0.1/24", "dev", "pfk0"]);
        ip_cmd(&["link", "set", "pfk0", "up"]);
        ip_cmd(&["link", "set", "pfk1", "up"]);
        veth
    }
}

impl Drop for Veth {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["link", "del", "pfk0"]).status();
    }
}

#[test]
fn acquire_on_a_require_policy_without_sa() {
    let Some(mut s) = live() else { return };
    let _veth = Veth::new();
    let (a, b) = (ip("10.77.0.1"), ip("10.77.0.2"));
    s.request(request::register(SaType::Esp)).unwrap();
    let sel = |ip| Address::selector(ip, 32, 0, IPSEC_ULPROTO_ANY);
    let added = s
        .request(request::spd_add(
            sel(a),
            sel(b),
            transport_require(PolicyDir::Outbound),
        ))
        .unwrap();
    let policy_id = added.policy().unwrap().id;

    // Traffic the policy requires ESP for, with no SA: the kernel drops it
    // (sendto may fail) and asks registered sockets for an SA.
    let udp = UdpSocket::bind(SocketAddr::new(a, 0)).unwrap();
    let _ = udp.send_to(b"acquire me", SocketAddr::new(b, 9));

    s.socket()
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    // Up to 15 waits of 2 s: TCG guests on a loaded host are slow.
    let acquire = wait_for(&mut s, 15, |e| match e {
        Event::Acquire(acq) => Some(acq),
        other => {
            eprintln!("while waiting for ACQUIRE: {other:?}");
            None
        }
    })
    .expect("no ACQUIRE within 30 s");
    assert_eq!(acquire.satype, SaType::Esp);
    assert_eq!(acquire.src.addr.ip(), a);
    assert_eq!(acquire.dst.addr.ip(), b);
    let policy = acquire.policy.expect("ACQUIRE without X_POLICY");
    assert_eq!(policy.id, policy_id);
    assert_eq!(policy.dir, PolicyDir::Outbound);

    // Answer it as racoon does: GETSPI on the inbound side carrying the
    // ACQUIRE's seq, then UPDATE; and ADD of the outbound SA.
    let larval = s
        .request_with_seq(
            request::getspi(
                SaType::Esp,
                b,
                a,
                SpiRange {
                    min: 0x7201,
                    max: 0x7201,
                },
                Some(request::sa2(IpsecMode::Transport, 0)),
            ),
            acquire.seq,
        )
        .unwrap();
    assert_eq!(larval.header.seq, acquire.seq);
    s.request(request::update(&esp_sa(0x7201, b, a))).unwrap();
    s.request_with_seq(request::add(&esp_sa(0x7202, a, b)), acquire.seq)
        .unwrap();
    // Now the traffic has an SA: ESP goes out (the SA counts it; the
    // peer end of the veth has no address and drops it).
    udp.send_to(b"protected", SocketAddr::new(b, 9)).unwrap();
    let got = s.request(request::get(SaType::Esp, 0x7202, a, b)).unwrap();
    assert!(
        got.lifetime_current().unwrap().bytes > 0,
        "the SA carried nothing"
    );
    clean(&mut s);
}

#[test]
fn soft_then_hard_expire() {
    let Some(mut s) = live() else { return };
    let (a, b) = (ip("127.77.3.1"), ip("127.77.3.2"));
    s.request(request::register(SaType::Esp)).unwrap();
    let short = SaSpec {
        soft: Some(Lifetime::seconds(1)),
        hard: Some(Lifetime::seconds(2)),
        ..esp_sa(0x7301, a, b)
    };
    s.request(request::add(&short)).unwrap();
    s.socket()
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut expires = Vec::new();
    // The kernel's timers fire after 1 s and 2 s; allow a slow guest 30 s.
    for _ in 0..15 {
        match s.next_event().unwrap() {
            Some(Event::Expire(e)) if e.sa.spi == 0x7301 => expires.push(e),
            Some(other) => eprintln!("while waiting for EXPIRE: {other:?}"),
            None => {}
        }
        if expires.len() == 2 {
            break;
        }
    }
    assert_eq!(
        expires.len(),
        2,
        "expected soft and hard EXPIRE: {expires:?}"
    );
    assert_eq!(expires[0].kind, ExpireKind::Soft);
    assert_eq!(expires[0].sa.state, SaState::Dying);
    assert_eq!(expires[0].limit.addtime, 1);
    assert_eq!(expires[1].kind, ExpireKind::Hard);
    assert_eq!(expires[1].sa.state, SaState::Dead);
    assert_eq!(expires[1].limit.addtime, 2);
    assert_eq!(
        kernel_errno(s.request(request::get(SaType::Esp, 0x7301, a, b))),
        3
    );
}

#[test]
fn two_sockets_in_one_process_keep_their_replies_apart() {
    let Some(mut a) = live() else { return };
    let mut b = Session::open().unwrap();
    a.request(request::register(SaType::Esp)).unwrap();
    let sel = |last: u8| Address::selector(ip(&format!("127.77.4.{last}")), 32, 0, 255);
    // Linux broadcasts every SPDADD reply to all PF_KEY sockets, so `a`
    // sees `b`'s replies too; they must not pass for its own.
    for n in 1..=3u8 {
        let from_b = b
            .request(request::spd_add(
                sel(n),
                sel(100 + n),
                transport_require(PolicyDir::Outbound),
            ))
            .unwrap();
        assert_eq!(
            from_b.address_src().unwrap().addr.ip(),
            ip(&format!("127.77.4.{n}"))
        );
        let from_a = a
            .request(request::spd_add(
                sel(200 + n),
                sel(n),
                transport_require(PolicyDir::Inbound),
            ))
            .unwrap();
        assert_eq!(
            from_a.address_src().unwrap().addr.ip(),
            ip(&format!("127.77.4.{}", 200 + n))
        );
    }
    // `a` saw `b`'s policies as broadcasts, not as replies.
    let mut seen_from_b = 0;
    while let Some(event) = a.next_event().unwrap() {
        if let Event::Other(msg) = event
            && msg.policy().is_some_and(|p| p.dir == PolicyDir::Outbound)
        {
            seen_from_b += 1;
        }
        if seen_from_b == 3 {
            break;
        }
    }
    assert_eq!(seen_from_b, 3);
    clean(&mut a);
}
