//! The request builders reproduce, byte for byte, every request the Linux
//! kernel accepted in `tests/data/pfkey-linux/suite`, and the client pairs
//! the kernel's real replies with them, including Linux's quirks.

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use common::{Vector, to_hex, vectors};
use pfkey::client::{Client, Event, ExpireKind, KernelError};
use pfkey::request::{self, NatT, SaSpec};
use pfkey::wire::constants::*;
use pfkey::wire::{
    Address, IpsecLevel, IpsecMode, IpsecProto, IpsecRequest, Key, Lifetime, Message, MessageType,
    Policy, PolicyDir, PolicyType, SaState, SaType, SpiRange,
};

const PID: u32 = 233;

fn v4(s: &str) -> IpAddr {
    s.parse::<Ipv4Addr>().unwrap().into()
}

fn v6(s: &str) -> IpAddr {
    s.parse::<Ipv6Addr>().unwrap().into()
}

fn seq_key(from: u8, len: u8) -> Key {
    Key::new(&(0..len).map(|i| from + i).collect::<Vec<_>>()).unwrap()
}

fn aes128() -> Key {
    seq_key(0x00, 16)
}
fn aes256() -> Key {
    seq_key(0x00, 32)
}
fn sha1() -> Key {
    seq_key(0xa0, 20)
}
fn sha256() -> Key {
    seq_key(0xc0, 32)
}
fn md5() -> Key {
    seq_key(0xf0, 16)
}
fn des3() -> Key {
    Key::new(&common::hex(
        "0123456789abcdef23456789abcdef01456789abcdef0123",
    ))
    .unwrap()
}

fn esp(spi: u32, src: IpAddr, dst: IpAddr) -> SaSpec {
    SaSpec::new(SaType::Esp, spi, src, dst)
}

fn hour() -> (Option<Lifetime>, Option<Lifetime>) {
    (Some(Lifetime::seconds(3600)), Some(Lifetime::seconds(2880)))
}

fn selector(ip: IpAddr, prefix: u8) -> Address {
    Address::selector(ip, prefix, 0, IPSEC_ULPROTO_ANY)
}

fn tunnel_request(src: &str, dst: &str, reqid: u32) -> IpsecRequest {
    IpsecRequest {
        proto: IpsecProto::Esp,
        mode: IpsecMode::Tunnel,
        level: IpsecLevel::Unique,
        reqid,
        tunnel: Some((SocketAddr::new(v4(src), 0), SocketAddr::new(v4(dst), 0))),
    }
}

fn ipsec_policy(dir: PolicyDir, requests: Vec<IpsecRequest>) -> Policy {
    Policy {
        requests,
        ..Policy::new(PolicyType::Ipsec, dir)
    }
}

/// The request each `send` vector of `suite/` was, built with our API.
fn suite_request(no: &str) -> Message {
    let (a1, a2) = (v4("10.0.0.1"), v4("10.0.0.2"));
    match no {
        "001" => request::flush(SaType::Unspec),
        "003" | "077" => request::spd_flush(),
        "005" => request::register(SaType::Esp),
        "007" => request::register(SaType::Ah),
        "009" => request::register(SaType::IpComp),
        "011" | "035" => request::dump(SaType::Esp),
        "013" => request::getspi(
            SaType::Esp,
            a2,
            a1,
            SpiRange {
                min: 0xc001,
                max: 0xc001,
            },
            Some(request::sa2(IpsecMode::Transport, 0)),
        ),
        "015" => {
            let (hard, soft) = hour();
            request::update(&SaSpec {
                sa2: Some(request::sa2(IpsecMode::Transport, 0)),
                auth: SADB_AALG_SHA1HMAC,
                auth_key: Some(sha1()),
                encrypt: SADB_X_EALG_AESCBC,
                encrypt_key: Some(aes128()),
                hard,
                soft,
                ..esp(0xc001, a2, a1)
            })
        }
        "017" => {
            let (hard, soft) = hour();
            request::add(&SaSpec {
                sa2: Some(request::sa2(IpsecMode::Tunnel, 5)),
                auth: SADB_X_AALG_SHA2_256HMAC,
                auth_key: Some(sha256()),
                encrypt: SADB_X_EALG_AESCBC,
                encrypt_key: Some(aes256()),
                hard,
                soft,
                ..esp(0xc002, a1, a2)
            })
        }
        "019" => request::add(&SaSpec {
            sa2: Some(request::sa2(IpsecMode::Tunnel, 6)),
            auth: SADB_AALG_SHA1HMAC,
            auth_key: Some(sha1()),
            encrypt: SADB_X_EALG_AESCBC,
            encrypt_key: Some(aes128()),
            nat_t: Some(NatT {
                encap_type: UDP_ENCAP_ESPINUDP,
                sport: 4500,
                dport: 4500,
                original_address: None,
            }),
            ..esp(0xc003, a1, a2)
        }),
        "021" => request::add(&SaSpec {
            auth: SADB_AALG_MD5HMAC,
            auth_key: Some(md5()),
            encrypt: SADB_EALG_3DESCBC,
            encrypt_key: Some(des3()),
            ..esp(0xc004, v6("fd00::1"), v6("fd00::2"))
        }),
        "023" => request::add(&SaSpec {
            encrypt: SADB_X_EALG_AES_GCM_ICV16,
            encrypt_key: Some(seq_key(0x10, 20)),
            ..esp(0xc00a, a1, a2)
        }),
        "025" => request::add(&SaSpec {
            auth: SADB_AALG_SHA1HMAC,
            auth_key: Some(sha1()),
            ..SaSpec::new(SaType::Ah, 0xc005, a1, a2)
        }),
        "027" => request::add(&SaSpec {
            encrypt: SADB_X_CALG_DEFLATE,
            ..SaSpec::new(SaType::IpComp, 0x0c06, a1, a2)
        }),
        "029" => request::add(&SaSpec {
            auth: SADB_X_AALG_SHA2_256HMAC,
            auth_key: Some(sha256()),
            encrypt: SADB_X_EALG_AESCBC,
            encrypt_key: Some(aes256()),
            ..esp(0xc002, a1, a2)
        }),
        "031" => request::get(SaType::Esp, 0xc002, a1, a2),
        "033" => request::get(SaType::Esp, 0xdead, a1, a2),
        "040" => request::dump(SaType::Unspec),
        "047" => request::spd_add(
            selector(a1, 32),
            selector(a2, 32),
            ipsec_policy(
                PolicyDir::Outbound,
                vec![IpsecRequest {
                    proto: IpsecProto::Esp,
                    mode: IpsecMode::Transport,
                    level: IpsecLevel::Require,
                    reqid: 0,
                    tunnel: None,
                }],
            ),
        ),
        "049" | "051" => request::spd_add(
            selector(v4("10.2.0.0"), 24),
            selector(v4("10.1.0.0"), 24),
            ipsec_policy(
                if no == "049" {
                    PolicyDir::Inbound
                } else {
                    PolicyDir::Forward
                },
                vec![tunnel_request("10.0.0.2", "10.0.0.1", 5)],
            ),
        ),
        "053" => request::spd_add(
            Address::selector(a1, 32, 500, 17),
            Address::selector(a2, 32, 500, 17),
            Policy::new(PolicyType::None, PolicyDir::Outbound),
        ),
        "055" => request::spd_add(
            Address::selector(v6("fd00::1"), 128, 0, 58),
            Address::selector(v6("fd00::2"), 128, 0, 58),
            Policy::new(PolicyType::Discard, PolicyDir::Outbound),
        ),
        "057" => request::spd_get(1),
        "059" => request::spd_dump(),
        "065" => request::spd_delete(
            Address::selector(a1, 32, 500, 17),
            Address::selector(a2, 32, 500, 17),
            PolicyType::None,
            PolicyDir::Outbound,
        ),
        "067" => request::spd_delete2(1),
        "069" => request::delete(SaType::Esp, 0xc004, v6("fd00::1"), v6("fd00::2")),
        "071" => request::add(&SaSpec {
            auth: SADB_AALG_SHA1HMAC,
            auth_key: Some(sha1()),
            encrypt: SADB_X_EALG_AESCBC,
            encrypt_key: Some(aes128()),
            hard: Some(Lifetime::seconds(2)),
            soft: Some(Lifetime::seconds(1)),
            ..esp(0xc010, a1, a2)
        }),
        "075" => request::flush(SaType::Esp),
        other => panic!("no builder for suite/{other}"),
    }
}

fn send(client: &mut Client, v: &Vector) {
    let tx = client
        .send_with_seq(suite_request(&v.no), v.seq)
        .unwrap_or_else(|e| panic!("{}: {e}", v.no));
    assert_eq!(
        to_hex(&tx.bytes),
        to_hex(&v.bytes),
        "suite/{} {}",
        v.no,
        v.label
    );
}

#[test]
fn builders_reproduce_every_suite_request() {
    let mut client = Client::new(PID);
    let sends: Vec<_> = vectors("suite").into_iter().filter(|v| v.send).collect();
    assert_eq!(sends.len(), 32);
    for v in &sends {
        send(&mut client, v);
        client.forget(v.bytes[1].into(), v.seq);
    }
}

#[test]
fn replies_pair_with_requests_through_the_whole_suite() {
    let mut client = Client::new(PID);
    let mut replies = 0;
    let mut dumps = Vec::new();
    let mut expires = Vec::new();
    for v in vectors("suite") {
        if v.send {
            send(&mut client, &v);
            continue;
        }
        client.handle_message(&v.bytes);
        while let Some(event) = client.poll_event() {
            match event {
                Event::Reply {
                    seq,
                    msg_type,
                    result,
                } => {
                    replies += 1;
                    assert_eq!(seq, v.seq, "{}", v.no);
                    assert_eq!(u8::from(msg_type), v.bytes[1]);
                    match result {
                        Ok(msg) => assert_eq!(v.errno, 0, "{}: {msg:?}", v.no),
                        Err(KernelError { errno, .. }) => assert_eq!(errno, v.errno, "{}", v.no),
                    }
                }
                Event::DumpRecord { .. } => {}
                Event::DumpDone {
                    msg_type, result, ..
                } => dumps.push((msg_type, result.map_err(|e| e.errno))),
                Event::Expire(e) => expires.push(e),
                other => panic!("{}: unexpected {other:?}", v.no),
            }
        }
    }
    // 32 requests: 28 single replies, 4 dumps (the second FLUSH copy dropped).
    assert_eq!(replies, 28);
    assert_eq!(
        dumps,
        vec![
            (MessageType::Dump, Ok(0)),
            (MessageType::Dump, Ok(4)),
            (MessageType::Dump, Ok(6)),
            (MessageType::SpdDump, Ok(5)),
        ]
    );
    assert_eq!(client.stats().duplicates, 1);
    assert_eq!(client.stats().malformed, 0);
    assert_eq!(expires.len(), 2);
    assert_eq!(expires[0].kind, ExpireKind::Soft);
    assert_eq!(expires[0].sa.spi, 0xc010);
    assert_eq!(expires[0].sa.state, SaState::Dying);
    assert_eq!(expires[0].limit.addtime, 1);
    assert_eq!(expires[1].kind, ExpireKind::Hard);
    assert_eq!(expires[1].sa.state, SaState::Dead);
    assert_eq!(expires[1].limit.addtime, 2);
    assert_eq!(expires[1].dst.addr.ip(), v4("10.0.0.2"));
}

#[test]
fn acquire_becomes_an_event_and_its_seq_answers_it() {
    let flow = vectors("acquire-racoon-flow");
    let acquire = flow.iter().find(|v| v.no == "029").unwrap();
    let mut client = Client::new(685);
    client.handle_message(&acquire.bytes);
    let Some(Event::Acquire(acq)) = client.poll_event() else {
        panic!("no acquire")
    };
    assert_eq!(acq.seq, 1);
    assert_eq!(acq.satype, SaType::Esp);
    assert_eq!(acq.src.addr.ip(), v4("10.0.0.1"));
    assert_eq!(acq.dst.addr.ip(), v4("10.0.0.2"));
    assert_eq!(acq.policy.as_ref().unwrap().id, 169);
    assert_eq!(acq.policy.as_ref().unwrap().dir, PolicyDir::Outbound);
    assert!(acq.proposal.as_ref().unwrap().combs.is_empty());

    // The initiator's GETSPI carries the acquire's seq (033 in the capture).
    let getspi = flow.iter().find(|v| v.no == "033").unwrap();
    let msg = Message::parse(&getspi.bytes).unwrap();
    let pid = msg.header.pid;
    let mut client = Client::new(pid);
    let rebuilt = request::getspi(
        SaType::Esp,
        v4("10.0.0.2"),
        v4("10.0.0.1"),
        SpiRange {
            min: 0x2002,
            max: 0x2002,
        },
        Some(request::sa2(IpsecMode::Transport, 0)),
    );
    let tx = client.send_with_seq(rebuilt, acq.seq).unwrap();
    assert_eq!(to_hex(&tx.bytes), to_hex(&getspi.bytes));
    // Our own seq counter may reach the same number: pending is keyed by type too.
    assert!(client.is_pending(MessageType::GetSpi, 1));
    let reply = flow.iter().find(|v| v.no == "034").unwrap();
    client.handle_message(&reply.bytes);
    let Some(Event::Reply {
        seq: 1,
        result: Ok(larval),
        ..
    }) = client.poll_event()
    else {
        panic!("no getspi reply")
    };
    assert_eq!(larval.sa().unwrap().spi, 0x2002);
    assert_eq!(larval.sa().unwrap().state, SaState::Larval);
    assert_eq!(larval.lifetime_hard().unwrap().addtime, 30);
}

#[test]
fn netlink_acquire_lists_every_comb() {
    let v = common::vector("acquire-netlink-policies", "005");
    let mut client = Client::new(1);
    client.handle_message(&v.bytes);
    let Some(Event::Acquire(acq)) = client.poll_event() else {
        panic!("no acquire")
    };
    let combs = &acq.proposal.unwrap().combs;
    assert_eq!(combs.len(), 56);
    assert!(
        combs
            .iter()
            .all(|c| c.hard_addtime == 86400 && c.soft_addtime == 72000)
    );
    // AEAD algorithms never appear (they can't be installed through PF_KEY).
    assert!(combs.iter().all(|c| !(14..=20).contains(&c.encrypt)));
}

#[test]
fn client_misuse_is_refused() {
    let mut client = Client::new(7);
    client.send(request::dump(SaType::Esp)).unwrap();
    assert!(matches!(
        client.send(request::dump(SaType::Ah)),
        Err(pfkey::client::ClientError::DumpInProgress(
            MessageType::Dump
        ))
    ));
    let tx = client.send(request::register(SaType::Esp)).unwrap();
    assert!(matches!(
        client.send_with_seq(request::register(SaType::Esp), tx.seq),
        Err(pfkey::client::ClientError::SeqInUse { .. })
    ));
    // Garbage from the socket is counted, not returned.
    client.handle_message(&[2, 1, 0]);
    client.handle_message(&[0xff; 16]);
    assert_eq!(client.stats().malformed, 2);
    assert!(client.poll_event().is_none());
}

#[test]
fn messages_for_other_processes_are_reported_not_matched() {
    // An ADD reply addressed to pid 233, seen by a client with another pid
    // (Linux broadcasts SA changes to every registered socket).
    let v = common::vector("suite", "018");
    let mut client = Client::new(999);
    client.handle_message(&v.bytes);
    let Some(Event::Other(msg)) = client.poll_event() else {
        panic!("expected Other")
    };
    assert_eq!(msg.header.pid, 233);
    assert_eq!(msg.sa2().unwrap().reqid, 5);
}

#[test]
fn new_mapping_event() {
    use pfkey::wire::{Extension, NatTPort, Sa};
    let mut msg = Message::new(MessageType::NatTNewMapping, SaType::Esp)
        .with(Extension::Sa(Sa::spi_only(0x1234)))
        .with(Extension::AddressSrc(Address::host(v4("192.0.2.7"))))
        .with(Extension::NatTSport(NatTPort { port: 61000 }))
        .with(Extension::AddressDst(Address::host(v4("198.51.100.1"))))
        .with(Extension::NatTDport(NatTPort { port: 4500 }));
    msg.header.seq = 0;
    let bytes = msg.to_bytes().unwrap();
    let mut client = Client::new(42);
    client.handle_message(&bytes);
    let Some(Event::NewMapping(m)) = client.poll_event() else {
        panic!("no mapping")
    };
    assert_eq!((m.spi, m.sport, m.dport), (0x1234, 61000, 4500));
    assert_eq!(m.src.addr.ip(), v4("192.0.2.7"));
}

#[test]
fn separate_seq_ranges_keep_two_sockets_apart() {
    // Two clients of one process (same pid), as two PF_KEY sockets would be.
    let mut a = Client::with_first_seq(233, 1);
    let mut b = Client::with_first_seq(233, 1 << 24);
    let tx_a = a.send(request::spd_flush()).unwrap();
    let tx_b = b.send(request::spd_flush()).unwrap();
    assert_ne!(tx_a.seq, tx_b.seq);
    // `a` receives the kernel's broadcast of `b`'s reply: not its own.
    a.handle_message(&tx_b.bytes);
    assert!(matches!(a.poll_event(), Some(Event::Other(_))));
    assert!(a.is_pending(MessageType::SpdFlush, tx_a.seq));
    a.handle_message(&tx_a.bytes);
    assert!(matches!(a.poll_event(), Some(Event::Reply { seq, .. }) if seq == tx_a.seq));
}
