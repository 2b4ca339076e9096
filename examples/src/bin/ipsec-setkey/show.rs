//! Human-readable decoding of PF_KEY messages: what `-n` prints for each
//! request and what `-D`, `-DP`, `get` print from the kernel.

use std::fmt::Write;

use pfkey::wire::{Address, Extension, Key, Lifetime, Message, SaType};

use ipsec_examples::algorithms::{self, AlgKind};

fn address(a: &Address) -> String {
    let proto = if a.proto == 255 {
        "any".to_owned()
    } else {
        a.proto.to_string()
    };
    let port = match a.addr.port() {
        0 => "any".to_owned(),
        p => p.to_string(),
    };
    format!("{}/{} port {port} proto {proto}", a.addr.ip(), a.prefixlen)
}

fn lifetime(l: &Lifetime) -> String {
    format!(
        "addtime {}s usetime {}s bytes {} allocations {}",
        l.addtime, l.usetime, l.bytes, l.allocations
    )
}

fn key(k: &Key, show_keys: bool) -> String {
    if show_keys {
        let hex = ipsec_examples::input::to_hex(k.as_bytes());
        format!("{} bits 0x{hex}", k.bits())
    } else {
        format!("{} bits (not shown)", k.bits())
    }
}

fn alg(kind: AlgKind, id: u8) -> String {
    match (id, algorithms::name(kind, id)) {
        (0, _) => "none".to_owned(),
        (_, Some(name)) => format!("{name}({id})"),
        (_, None) => id.to_string(),
    }
}

/// One line for the header, one per extension (and per policy request).
pub(crate) fn describe(msg: &Message, show_keys: bool) -> Vec<String> {
    let h = &msg.header;
    let mut lines = vec![format!(
        "{:?} satype={:?} seq={} pid={}{}",
        h.msg_type,
        h.satype,
        h.seq,
        h.pid,
        if h.errno == 0 {
            String::new()
        } else {
            format!(" errno={}", h.errno)
        }
    )];
    let encrypt_kind = if h.satype == SaType::IpComp {
        AlgKind::Compress
    } else {
        AlgKind::Encrypt
    };
    for ext in &msg.extensions {
        lines.push(match ext {
            Extension::Sa(sa) => format!(
                "  SA spi=0x{:08x} replay={} state={:?} auth={} encrypt={} flags=0x{:x}",
                sa.spi,
                sa.replay,
                sa.state,
                alg(AlgKind::Auth, sa.auth),
                alg(encrypt_kind, sa.encrypt),
                sa.flags
            ),
            Extension::Sa2(s) => format!("  X_SA2 mode={:?} reqid={}", s.mode, s.reqid),
            Extension::LifetimeCurrent(l) => format!("  LIFETIME_CURRENT {}", lifetime(l)),
            Extension::LifetimeHard(l) => format!("  LIFETIME_HARD {}", lifetime(l)),
            Extension::LifetimeSoft(l) => format!("  LIFETIME_SOFT {}", lifetime(l)),
            Extension::AddressSrc(a) => format!("  ADDRESS_SRC {}", address(a)),
            Extension::AddressDst(a) => format!("  ADDRESS_DST {}", address(a)),
            Extension::AddressProxy(a) => format!("  ADDRESS_PROXY {}", address(a)),
            Extension::NatTOa(a) => format!("  X_NAT_T_OA {}", address(a)),
            Extension::KeyAuth(k) => format!("  KEY_AUTH {}", key(k, show_keys)),
            Extension::KeyEncrypt(k) => format!("  KEY_ENCRYPT {}", key(k, show_keys)),
            Extension::SpiRange(r) => format!("  SPIRANGE 0x{:x}-0x{:x}", r.min, r.max),
            Extension::NatTType(t) => format!("  X_NAT_T_TYPE {}", t.encap_type),
            Extension::NatTSport(p) => format!("  X_NAT_T_SPORT {}", p.port),
            Extension::NatTDport(p) => format!("  X_NAT_T_DPORT {}", p.port),
            Extension::Policy(p) => {
                let mut line = format!(
                    "  X_POLICY {:?} dir={:?} id={} priority={}",
                    p.policy_type, p.dir, p.id, p.priority
                );
                for r in &p.requests {
                    let _ = write!(line, "\n    {:?}/{:?}/", r.proto, r.mode);
                    if let Some((s, d)) = r.tunnel {
                        let _ = write!(line, "{}-{}", s.ip(), d.ip());
                    }
                    let _ = write!(line, "/{:?} reqid={}", r.level, r.reqid);
                }
                line
            }
            Extension::SupportedAuth(s) | Extension::SupportedEncrypt(s) => {
                let ids: Vec<String> = s.algs.iter().map(|a| a.id.to_string()).collect();
                format!(
                    "  SUPPORTED ext {} algs [{}]",
                    ext.ext_type(),
                    ids.join(" ")
                )
            }
            other => format!("  ext {} {other:?}", other.ext_type()),
        });
    }
    lines
}
