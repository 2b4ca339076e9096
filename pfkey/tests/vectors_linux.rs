//! Every message a Linux 6.1 kernel exchanged over PF_KEY in
//! `tests/data/pfkey-linux/` (and lagopus' SADB_ADD) parses to exactly the
//! fields the capturing C probe decoded, and re-emits byte for byte.

mod common;

use std::net::SocketAddr;

use common::{Vector, all_vectors, data_dir, hex, to_hex};
use pfkey::wire::{
    Address, Extension, IpsecMode, Key, Lifetime, Message, MessageType, SaState, SaType,
};

fn type_name(t: MessageType) -> &'static str {
    use MessageType::*;
    match t {
        GetSpi => "GETSPI",
        Update => "UPDATE",
        Add => "ADD",
        Delete => "DELETE",
        Get => "GET",
        Acquire => "ACQUIRE",
        Register => "REGISTER",
        Expire => "EXPIRE",
        Flush => "FLUSH",
        Dump => "DUMP",
        SpdAdd => "X_SPDADD",
        SpdDelete => "X_SPDDELETE",
        SpdGet => "X_SPDGET",
        SpdDump => "X_SPDDUMP",
        SpdFlush => "X_SPDFLUSH",
        SpdDelete2 => "X_SPDDELETE2",
        _ => "?",
    }
}

fn ext_name(ext: &Extension) -> &'static str {
    match ext {
        Extension::Sa(_) => "SA",
        Extension::LifetimeCurrent(_) => "LIFETIME_CURRENT",
        Extension::LifetimeHard(_) => "LIFETIME_HARD",
        Extension::LifetimeSoft(_) => "LIFETIME_SOFT",
        Extension::AddressSrc(_) => "ADDRESS_SRC",
        Extension::AddressDst(_) => "ADDRESS_DST",
        Extension::AddressProxy(_) => "ADDRESS_PROXY",
        Extension::KeyAuth(_) => "KEY_AUTH",
        Extension::KeyEncrypt(_) => "KEY_ENCRYPT",
        Extension::Proposal(_) => "PROPOSAL",
        Extension::SupportedAuth(_) => "SUPPORTED_AUTH",
        Extension::SupportedEncrypt(_) => "SUPPORTED_ENCRYPT",
        Extension::SpiRange(_) => "SPIRANGE",
        Extension::Policy(_) => "X_POLICY",
        Extension::Sa2(_) => "X_SA2",
        Extension::NatTType(_) => "X_NAT_T_TYPE",
        Extension::NatTSport(_) => "X_NAT_T_SPORT",
        Extension::NatTDport(_) => "X_NAT_T_DPORT",
        _ => "?",
    }
}

fn addr(a: &SocketAddr) -> String {
    format!("{} port {}", a.ip(), a.port())
}

fn lifetime(l: &Lifetime) -> String {
    format!(
        "allocations={} bytes={} addtime={} usetime={}",
        l.allocations, l.bytes, l.addtime, l.usetime
    )
}

fn address(a: &Address) -> String {
    format!(
        "proto={} prefixlen={} {}",
        a.proto,
        a.prefixlen,
        addr(&a.addr)
    )
}

fn key(k: &Key) -> String {
    format!("bits={} key={}", k.bits(), to_hex(k.as_bytes()))
}

/// Emitted length of one extension, from the codec itself.
fn ext_len(ext: &Extension) -> usize {
    let msg = Message::new(MessageType::Reserved, SaType::Unspec).with(ext.clone());
    msg.to_bytes().unwrap().len() - 16
}

/// Renders `msg` the way the capturing C probe wrote `decoded.txt`.
fn render(msg: &Message, total: usize) -> Vec<String> {
    let h = &msg.header;
    let mut out = vec![format!(
        "msg: version=2 type={}({}) errno={} satype={} len={}(x8={}) seq={} pid={}",
        u8::from(h.msg_type),
        type_name(h.msg_type),
        h.errno,
        u8::from(h.satype),
        total / 8,
        total,
        h.seq,
        h.pid
    )];
    for ext in &msg.extensions {
        let body = match ext {
            Extension::Sa(sa) => format!(
                "spi=0x{:08x} replay={} state={} auth={} encrypt={} flags=0x{:x}",
                sa.spi,
                sa.replay,
                u8::from(sa.state),
                sa.auth,
                sa.encrypt,
                sa.flags
            ),
            Extension::LifetimeCurrent(l)
            | Extension::LifetimeHard(l)
            | Extension::LifetimeSoft(l) => lifetime(l),
            Extension::AddressSrc(a) | Extension::AddressDst(a) | Extension::AddressProxy(a) => {
                address(a)
            }
            Extension::KeyAuth(k) | Extension::KeyEncrypt(k) => key(k),
            Extension::Sa2(s) => format!(
                "mode={} sequence={} reqid={}",
                u8::from(s.mode),
                s.sequence,
                s.reqid
            ),
            Extension::SpiRange(r) => format!("min=0x{:x} max=0x{:x}", r.min, r.max),
            Extension::NatTType(t) => format!("type={}", t.encap_type),
            Extension::NatTSport(p) | Extension::NatTDport(p) => format!("port={}", p.port),
            Extension::Policy(p) => format!(
                "type={} dir={} id={} priority={}",
                u16::from(p.policy_type),
                u8::from(p.dir),
                p.id,
                p.priority
            ),
            Extension::Proposal(p) => format!("replay={}", p.replay),
            Extension::SupportedAuth(_) | Extension::SupportedEncrypt(_) => String::new(),
            other => panic!("no vector has {other:?}"),
        };
        let head = format!(
            "ext {}({}) len={}:",
            ext.ext_type(),
            ext_name(ext),
            ext_len(ext)
        );
        out.push(if body.is_empty() {
            head
        } else {
            format!("{head} {body}")
        });
        match ext {
            Extension::SupportedAuth(s) | Extension::SupportedEncrypt(s) => {
                for a in &s.algs {
                    out.push(format!(
                        "    alg id={} ivlen={} minbits={} maxbits={}",
                        a.id, a.ivlen, a.minbits, a.maxbits
                    ));
                }
            }
            Extension::Proposal(p) => {
                for c in &p.combs {
                    out.push(format!(
                        "    comb auth={} encrypt={} flags=0x{:x} auth_bits={}-{} encrypt_bits={}-{} \
                         soft(alloc={} bytes={} add={} use={}) hard(alloc={} bytes={} add={} use={})",
                        c.auth, c.encrypt, c.flags, c.auth_minbits, c.auth_maxbits,
                        c.encrypt_minbits, c.encrypt_maxbits, c.soft_allocations, c.soft_bytes,
                        c.soft_addtime, c.soft_usetime, c.hard_allocations, c.hard_bytes,
                        c.hard_addtime, c.hard_usetime
                    ));
                }
            }
            Extension::Policy(p) => {
                for r in &p.requests {
                    let len = 16 + r.tunnel.map_or(0, |_| 32);
                    let mut line = format!(
                        "    ipsecrequest len={len} proto={} mode={} level={} reqid={}",
                        u16::from(r.proto),
                        u8::from(r.mode),
                        u8::from(r.level),
                        r.reqid
                    );
                    if let Some((s, d)) = &r.tunnel {
                        line.push_str(&format!(" tunnel {} -> {}", addr(s), addr(d)));
                    }
                    out.push(line);
                }
            }
            _ => {}
        }
    }
    out
}

/// The decoded lines the C probe printed for message `no` of `scenario`.
fn probe_lines(decoded: &str, no: &str) -> Vec<String> {
    let start = format!("[{no}] ");
    decoded
        .lines()
        .skip_while(|l| !l.starts_with(&start))
        .skip(1)
        .take_while(|l| !l.starts_with('['))
        .map(str::trim)
        .filter(|l| {
            l.starts_with("msg:")
                || l.starts_with("ext ")
                || l.starts_with("alg ")
                || l.starts_with("comb ")
                || l.starts_with("ipsecrequest ")
        })
        .map(|l| {
            let indent = if l.starts_with("msg:") || l.starts_with("ext ") {
                ""
            } else {
                "    "
            };
            format!("{indent}{l}")
        })
        .collect()
}

fn check(v: &Vector, decoded: &str) {
    let what = format!("{}/{} {} ({})", v.scenario, v.no, v.type_name, v.label);
    assert_eq!(v.bytes.len(), v.len, "{what}: index length");
    let msg = Message::parse(&v.bytes).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(type_name(msg.header.msg_type), v.type_name, "{what}");
    assert_eq!(u8::from(msg.header.satype), v.satype, "{what}");
    assert_eq!(msg.header.errno, v.errno, "{what}");
    assert_eq!(msg.header.seq, v.seq, "{what}");
    let probe = probe_lines(decoded, &v.no);
    assert!(
        probe.len() > 1 || v.len == 16,
        "{what}: probe printed nothing"
    );
    assert_eq!(render(&msg, v.bytes.len()), probe, "{what}");
    // Requests must re-emit exactly; so do the kernel's own messages.
    assert_eq!(
        to_hex(&msg.to_bytes().unwrap()),
        to_hex(&v.bytes),
        "{what}: re-emit"
    );
}

#[test]
fn every_kernel_message_decodes_like_the_probe_and_reemits() {
    let vectors = all_vectors();
    assert_eq!(vectors.len(), 79 + 59 + 7);
    for v in &vectors {
        let decoded = std::fs::read_to_string(
            data_dir()
                .join("pfkey-linux")
                .join(v.scenario)
                .join("decoded.txt"),
        )
        .unwrap();
        check(v, &decoded);
    }
}

#[test]
fn expire_soft_then_hard() {
    let soft = Message::parse(&common::vector("suite", "073").bytes).unwrap();
    let hard = Message::parse(&common::vector("suite", "074").bytes).unwrap();
    assert_eq!(soft.header.msg_type, MessageType::Expire);
    assert_eq!((soft.header.seq, soft.header.pid), (0, 0));
    assert_eq!(soft.sa().unwrap().state, SaState::Dying);
    assert_eq!(soft.lifetime_soft().unwrap().addtime, 1);
    assert!(soft.lifetime_hard().is_none());
    assert_eq!(hard.sa().unwrap().state, SaState::Dead);
    assert_eq!(hard.lifetime_hard().unwrap().addtime, 2);
    assert!(hard.lifetime_soft().is_none());
}

#[test]
fn nat_t_add_carries_ports_in_network_order() {
    let v = common::vector("suite", "019");
    let msg = Message::parse(&v.bytes).unwrap();
    assert_eq!(msg.nat_t_type().unwrap().encap_type, 2);
    assert_eq!(msg.nat_t_sport().unwrap().port, 4500);
    assert_eq!(msg.nat_t_dport().unwrap().port, 4500);
    // 4500 = 0x1194, big-endian on the wire.
    assert!(to_hex(&v.bytes).ends_with("01001500119400000100160011940000"));
    assert_eq!(msg.sa2().unwrap().mode, IpsecMode::Tunnel);
}

#[test]
fn lagopus_sadb_add() {
    let text =
        std::fs::read_to_string(data_dir().join("pfkeyv2_sadb_add_linux_lagopus.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let bytes = hex(json["message"].as_str().unwrap());
    assert_eq!(bytes.len(), json["lengthBytes"].as_u64().unwrap() as usize);
    let msg = Message::parse(&bytes).unwrap();
    let d = &json["decoded"];
    assert_eq!(
        u8::from(msg.header.msg_type),
        d["sadb_msg"]["type"].as_u64().unwrap() as u8
    );
    assert_eq!(msg.header.satype, SaType::Esp);
    assert_eq!(
        u64::from(msg.header.seq),
        d["sadb_msg"]["seq"].as_u64().unwrap()
    );
    assert_eq!(
        u64::from(msg.header.pid),
        d["sadb_msg"]["pid"].as_u64().unwrap()
    );

    let exts = d["extensions"].as_array().unwrap();
    assert_eq!(msg.extensions.len(), exts.len());
    for (ext, want) in msg.extensions.iter().zip(exts) {
        assert_eq!(u64::from(ext.ext_type()), want["type"].as_u64().unwrap());
        let n = |k: &str| want[k].as_u64().unwrap();
        match ext {
            Extension::Sa(sa) => {
                assert_eq!(format!("{:08x}", sa.spi), want["spi_networkOrder"]);
                assert_eq!(u64::from(sa.replay), n("replay"));
                assert_eq!(u64::from(u8::from(sa.state)), n("state"));
                assert_eq!(u64::from(sa.auth), n("auth"));
                assert_eq!(u64::from(sa.encrypt), n("encrypt"));
            }
            Extension::LifetimeCurrent(l)
            | Extension::LifetimeHard(l)
            | Extension::LifetimeSoft(l) => {
                assert_eq!(u64::from(l.allocations), n("allocations"));
                assert_eq!(l.bytes, n("bytes"));
                assert_eq!(l.addtime, n("addtime"));
                assert_eq!(l.usetime, n("usetime"));
            }
            Extension::AddressSrc(a) | Extension::AddressDst(a) | Extension::AddressProxy(a) => {
                assert_eq!(u64::from(a.proto), n("proto"));
                assert_eq!(u64::from(a.prefixlen), n("prefixlen"));
                assert_eq!(a.addr.ip().to_string(), want["ipv4"]);
                assert_eq!(u64::from(a.addr.port()), n("sockaddr_port_be"));
            }
            Extension::KeyAuth(k) | Extension::KeyEncrypt(k) => {
                assert_eq!(u64::from(k.bits()), n("bits"));
                assert_eq!(to_hex(k.as_bytes()), want["key"]);
            }
            Extension::Sa2(s) => {
                assert_eq!(u64::from(u8::from(s.mode)), n("mode"));
                assert_eq!(u64::from(s.sequence), n("sequence"));
                assert_eq!(u64::from(s.reqid), n("reqid"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(&msg.to_bytes().unwrap()[..], &bytes[..]);
}
