//! tanuki's kernel data path: the PF_KEY messages that put an IPsec SA pair
//! negotiated by ike-core into the Linux kernel (and take it out again), the
//! policies racoon's `generate_policy` would add, and what the kernel's
//! ACQUIRE and EXPIRE mean for the engine. ike-core and pfkey do not know
//! each other, so this is where their types meet. Everything here is pure:
//! [`KernelSas`] returns messages, the daemon sends them.
//!
//! How the SAs go in:
//! - ike-core chooses our inbound SPI itself (from its injected RNG) when it
//!   builds the Quick Mode, where racoon asks the kernel with GETSPI first.
//!   We keep racoon's message sequence for the inbound SA anyway: GETSPI with
//!   the range `[spi, spi]` reserves exactly the engine's SPI as a larval SA
//!   (failing cleanly if the kernel already has it), and UPDATE completes it.
//!   The outbound SA (the peer's SPI) is an ADD.
//! - Keys are the event's: the encryption key (AES-CTR's with its 4-byte
//!   nonce, RFC 3686 §5.1, as Linux's `rfc3686(ctr(aes))` wants) and the
//!   integrity key, checked against setkey's table of key sizes.
//! - Hard lifetime = the negotiated one (seconds, and bytes when kilobytes
//!   were negotiated); soft = 80% of it, as racoon sets.
//! - reqid: Linux binds an SA to a policy template only when their reqids
//!   are equal, and PF_KEY policies of level `use`/`require` have reqid 0;
//!   so SAs carry [`ChildSpd::reqid`], nonzero only for `unique`.
//! - NAT-T (RFC 3948): `X_NAT_T_TYPE` = `UDP_ENCAP_ESPINUDP`, the ports of
//!   each direction, and in transport mode the NAT-OA of RFC 3947 §5.2.
//! - AEADs (AES-GCM) cannot be installed through PF_KEY on Linux: refused
//!   with [`KernelError::Algorithm`] (the config check refuses them earlier).

#![deny(clippy::indexing_slicing)]

use std::net::{IpAddr, SocketAddr};

use ike_core::config::{
    EncapsulationMode, EspCipher, IntegrityAlgorithm, IpsecProtocol, Lifetime as IkeLifetime,
    SelectorAddr, TrafficSelector,
};
use ike_core::endpoint::{ChildSa, ChildSaId};
use pfkey::client::{Acquire, Expire, ExpireKind};
use pfkey::request::{self, NatT, SaSpec};
use pfkey::wire::{
    Address, IpsecLevel, IpsecMode, IpsecProto, IpsecRequest, Key, Lifetime, Message, Policy,
    PolicyDir, PolicyType, SaType, SpiRange,
};

use crate::algorithms::{self, AlgKind};
use crate::daemon::config::{ChildSpd, DaemonPeer, SpdLevel};

/// Why HMAC-SHA-256 is not installed through PF_KEY: Linux gives
/// `SADB_X_AALG_SHA2_256HMAC` the 96-bit ICV of the pre-RFC 4868 draft
/// (`ip xfrm state` shows `auth-trunc hmac(sha256) … 96`, checked in the
/// QEMU guest), while RFC 4868 §2.3 and every peer use 128 bits, and
/// `sadb_sa` has no field to say otherwise. SHA-384/512 get 192/256 bits.
pub const SHA256_TRUNCATION: &str = "Linux's PF_KEY installs HMAC-SHA-256 with a 96-bit ICV \
    (pre-RFC 4868), where peers use 128 bits (RFC 4868), so the SAs would not interoperate";

/// `UDP_ENCAP_ESPINUDP` (`linux/udp.h`): RFC 3948 framing.
pub const UDP_ENCAP_ESPINUDP: u8 = 2;
/// `IPSEC_ULPROTO_ANY`: a selector for every upper-layer protocol.
const ULPROTO_ANY: u8 = 255;

/// Why a pair cannot be put into the kernel.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KernelError {
    /// The transform has no PF_KEY algorithm on Linux (AEADs), or its key
    /// does not fit the algorithm.
    #[error("{0}")]
    Algorithm(String),
    /// IPComp pairs and bundles are not installed.
    #[error("{0} is not installed through PF_KEY by tanuki")]
    Protocol(&'static str),
    /// A traffic selector PF_KEY cannot express (an address range that is
    /// not a prefix).
    #[error("selector {0} is not an address/prefix: PF_KEY policies cannot express it")]
    Selector(String),
}

/// setkey's name of an ESP cipher.
fn cipher_name(c: EspCipher) -> Result<&'static str, KernelError> {
    Ok(match c {
        EspCipher::Des => "des-cbc",
        EspCipher::TripleDes => "3des-cbc",
        EspCipher::Null => "null",
        EspCipher::AesCbc => "aes-cbc",
        EspCipher::AesCtr => "aes-ctr",
        EspCipher::AesGcm16 => "aes-gcm-16",
        other => {
            return Err(KernelError::Algorithm(format!(
                "{other:?} has no PF_KEY number in setkey's table"
            )));
        }
    })
}

/// setkey's name of an integrity algorithm.
fn integrity_name(i: IntegrityAlgorithm) -> Option<&'static str> {
    Some(match i {
        IntegrityAlgorithm::HmacMd5 => "hmac-md5",
        IntegrityAlgorithm::HmacSha1 => "hmac-sha1",
        IntegrityAlgorithm::HmacSha256 => "hmac-sha256",
        IntegrityAlgorithm::HmacSha384 => "hmac-sha384",
        IntegrityAlgorithm::HmacSha512 => "hmac-sha512",
        _ => return None,
    })
}

/// A checked `sadb_key`; `None` for algorithms without a key (NULL).
fn key_for(kind: AlgKind, name: &str, bytes: &[u8]) -> Result<(u8, Option<Key>), KernelError> {
    let alg = algorithms::lookup(kind, name).map_err(KernelError::Algorithm)?;
    if bytes.is_empty() {
        return Ok((alg.id, None));
    }
    let key = Key::new(bytes).map_err(|e| KernelError::Algorithm(format!("{name} key: {e}")))?;
    alg.check_key(&key).map_err(KernelError::Algorithm)?;
    Ok((alg.id, Some(key)))
}

/// Hard (the negotiated lifetime) and soft (80% of it, racoon's choice)
/// `sadb_lifetime`s.
pub fn lifetimes(l: &IkeLifetime) -> (Lifetime, Lifetime) {
    let seconds = u64::from(l.effective_seconds());
    let bytes = l.bytes().unwrap_or(0);
    let eighty = |v: u64| v / 5 * 4 + v % 5 * 4 / 5;
    let hard = Lifetime {
        bytes,
        ..Lifetime::seconds(seconds)
    };
    let soft = Lifetime {
        bytes: eighty(bytes),
        ..Lifetime::seconds(eighty(seconds))
    };
    (hard, soft)
}

fn ipsec_mode(m: EncapsulationMode) -> IpsecMode {
    match m {
        EncapsulationMode::Tunnel => IpsecMode::Tunnel,
        EncapsulationMode::Transport => IpsecMode::Transport,
    }
}

/// The SA type of a pair.
fn sa_type(c: &ChildSa) -> Result<SaType, KernelError> {
    // A bundle needs IPCOMP SAs next to these and policies with two
    // `ipsecrequest`s; not done yet.
    if c.ipcomp.is_some() {
        return Err(KernelError::Protocol("an IPComp bundle"));
    }
    match c.protocol {
        IpsecProtocol::Esp => Ok(SaType::Esp),
        IpsecProtocol::Ah => Ok(SaType::Ah),
        IpsecProtocol::IpComp => Err(KernelError::Protocol("an IPComp pair")),
    }
}

/// The inbound (peer → us) and outbound (us → peer) SAs of a pair.
pub fn sa_specs(c: &ChildSa, reqid: u32) -> Result<(SaSpec, SaSpec), KernelError> {
    let satype = sa_type(c)?;
    let (local, remote) = (c.local.ip(), c.remote.ip());
    let (hard, soft) = lifetimes(&c.lifetime);
    let integrity = match c.transform.integrity {
        None => None,
        Some(IntegrityAlgorithm::HmacSha256) => {
            return Err(KernelError::Algorithm(SHA256_TRUNCATION.into()));
        }
        Some(i) => Some(integrity_name(i).ok_or_else(|| {
            KernelError::Algorithm(format!("{i:?} has no PF_KEY number in setkey's table"))
        })?),
    };
    let spec = |spi: u32, src: IpAddr, dst: IpAddr, keys: &ike_core::endpoint::SaKeys| {
        let mut s = SaSpec::new(satype, spi, src, dst);
        s.sa2 = Some(request::sa2(ipsec_mode(c.mode), reqid));
        s.hard = Some(hard);
        s.soft = Some(soft);
        if satype == SaType::Esp {
            let (id, key) = key_for(
                AlgKind::Encrypt,
                cipher_name(c.transform.cipher)?,
                &keys.encryption,
            )?;
            s.encrypt = id;
            s.encrypt_key = key;
        }
        if let Some(name) = integrity {
            let (id, key) = key_for(AlgKind::Auth, name, &keys.integrity)?;
            s.auth = id;
            s.auth_key = key;
        } else if satype == SaType::Ah {
            return Err(KernelError::Algorithm(
                "an AH pair without an integrity algorithm".into(),
            ));
        }
        Ok::<_, KernelError>(s)
    };
    let mut inbound = spec(c.inbound.spi, remote, local, &c.inbound)?;
    let mut outbound = spec(c.outbound.spi, local, remote, &c.outbound)?;
    if let Some((local_port, remote_port)) = c.udp_encapsulation {
        // NAT-OA (RFC 3947 §5.2): (initiator's, responder's) original
        // addresses; the kernel keeps the peer's on the SA it receives on.
        let (ours, peers) = match (c.nat_oa, c.initiator) {
            (Some((i, r)), true) => (Some(i), Some(r)),
            (Some((i, r)), false) => (Some(r), Some(i)),
            (None, _) => (None, None),
        };
        let transport = c.mode == EncapsulationMode::Transport;
        let oa = |a: Option<IpAddr>| a.filter(|_| transport).map(Address::host);
        inbound.nat_t = Some(NatT {
            encap_type: UDP_ENCAP_ESPINUDP,
            sport: remote_port,
            dport: local_port,
            original_address: oa(peers),
        });
        outbound.nat_t = Some(NatT {
            encap_type: UDP_ENCAP_ESPINUDP,
            sport: local_port,
            dport: remote_port,
            original_address: oa(ours),
        });
    }
    Ok((inbound, outbound))
}

/// GETSPI `[spi, spi]` + UPDATE for the inbound SA, then ADD for the
/// outbound one, in the order they must be sent.
pub fn install_requests(c: &ChildSa, reqid: u32) -> Result<Vec<Message>, KernelError> {
    let (inbound, outbound) = sa_specs(c, reqid)?;
    let reserve = request::getspi(
        inbound.satype,
        inbound.src,
        inbound.dst,
        SpiRange {
            min: inbound.spi,
            max: inbound.spi,
        },
        inbound.sa2,
    );
    Ok(vec![
        reserve,
        request::update(&inbound),
        request::add(&outbound),
    ])
}

/// The PF_KEY selector of a traffic selector (`None`: the host `host`).
pub fn selector_address(
    ts: Option<&TrafficSelector>,
    host: IpAddr,
) -> Result<Address, KernelError> {
    let Some(ts) = ts else {
        return Ok(Address::host(host));
    };
    let proto = if ts.protocol == 0 {
        ULPROTO_ANY
    } else {
        ts.protocol
    };
    let (addr, prefix) = match ts.addr {
        SelectorAddr::Host(a) => (a, if a.is_ipv4() { 32 } else { 128 }),
        SelectorAddr::Subnet { addr, prefix } => (addr, prefix),
        SelectorAddr::Range { start, end } => {
            range_prefix(start, end).ok_or_else(|| KernelError::Selector(ts.to_string()))?
        }
    };
    Ok(Address::selector(addr, prefix, ts.port, proto))
}

/// The prefix an address range is, if it is one.
fn range_prefix(start: IpAddr, end: IpAddr) -> Option<(IpAddr, u8)> {
    let bits = |a: IpAddr| match a {
        IpAddr::V4(v) => (u128::from(u32::from(v)), 32u32),
        IpAddr::V6(v) => (u128::from(v), 128u32),
    };
    let ((s, width), (e, end_width)) = (bits(start), bits(end));
    if width != end_width || s > e {
        return None;
    }
    // A prefix spans 2^h addresses from a multiple of 2^h: span = 2^h - 1.
    let span = e - s;
    let host_bits = 128 - span.leading_zeros();
    let all_ones = span.checked_add(1).is_none_or(u128::is_power_of_two);
    if !all_ones || s & span != 0 || host_bits > width {
        return None;
    }
    Some((start, u8::try_from(width - host_bits).ok()?))
}

/// One generated SPD entry: its selectors and direction identify it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyKey {
    /// Source selector.
    pub src: Address,
    /// Destination selector.
    pub dst: Address,
    /// in, out or fwd.
    pub dir: PolicyDir,
}

fn pfkey_level(l: SpdLevel) -> IpsecLevel {
    match l {
        SpdLevel::Use => IpsecLevel::Use,
        SpdLevel::Require => IpsecLevel::Require,
        SpdLevel::Unique => IpsecLevel::Unique,
    }
}

/// The policies racoon's `generate_policy` installs for a pair: out (our
/// selector → theirs), in (theirs → ours), and fwd for tunnel mode (a
/// gateway forwards what it decapsulates), each with one `ipsecrequest`.
pub fn policies(c: &ChildSa, spd: ChildSpd) -> Result<Vec<(PolicyKey, Policy)>, KernelError> {
    let Some(level) = spd.level else {
        return Ok(Vec::new());
    };
    let proto = match sa_type(c)? {
        SaType::Ah => IpsecProto::Ah,
        _ => IpsecProto::Esp,
    };
    let (local, remote) = (c.local.ip(), c.remote.ip());
    let ours = selector_address(c.local_ts.as_ref(), local)?;
    let theirs = selector_address(c.remote_ts.as_ref(), remote)?;
    let tunnel = c.mode == EncapsulationMode::Tunnel;
    let endpoint = |ip| SocketAddr::new(ip, 0);
    let entry = |src: Address, dst: Address, dir, from: IpAddr, to: IpAddr| {
        let mut policy = Policy::new(PolicyType::Ipsec, dir);
        policy.requests.push(IpsecRequest {
            proto,
            mode: ipsec_mode(c.mode),
            level: pfkey_level(level),
            reqid: if level == SpdLevel::Unique {
                spd.reqid
            } else {
                0
            },
            tunnel: tunnel.then(|| (endpoint(from), endpoint(to))),
        });
        (PolicyKey { src, dst, dir }, policy)
    };
    let mut out = vec![
        entry(ours, theirs, PolicyDir::Outbound, local, remote),
        entry(theirs, ours, PolicyDir::Inbound, remote, local),
    ];
    if tunnel {
        out.push(entry(theirs, ours, PolicyDir::Forward, remote, local));
    }
    Ok(out)
}

/// One SA in the kernel, as DELETE names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelSa {
    /// AH or ESP.
    pub satype: SaType,
    /// Its SPI.
    pub spi: u32,
    /// Outer source.
    pub src: IpAddr,
    /// Outer destination.
    pub dst: IpAddr,
}

#[derive(Debug, Clone)]
struct InstalledPair {
    child: ChildSaId,
    sas: [KernelSa; 2],
    policies: Vec<PolicyKey>,
}

/// What tanuki put into the kernel: SA pairs by engine id, and generated
/// policies with the number of pairs using each (a rekeyed pair shares its
/// predecessor's policies, which must outlive the old pair's removal).
#[derive(Debug, Default)]
pub struct KernelSas {
    pairs: Vec<InstalledPair>,
    policies: Vec<(PolicyKey, usize)>,
}

impl KernelSas {
    /// The messages that install `c` (SAs first, then any policy not yet
    /// installed), recording it so that [`KernelSas::remove`] undoes it
    /// even if sending stops half way.
    pub fn install(&mut self, c: &ChildSa, spd: ChildSpd) -> Result<Vec<Message>, KernelError> {
        let mut msgs = install_requests(c, spd.reqid)?;
        let generated = policies(c, spd)?;
        let satype = sa_type(c)?;
        let (local, remote) = (c.local.ip(), c.remote.ip());
        let mut keys = Vec::new();
        for (key, policy) in generated {
            match self.policies.iter_mut().find(|(k, _)| *k == key) {
                Some((_, users)) => *users = users.saturating_add(1),
                None => {
                    msgs.push(request::spd_update(key.src, key.dst, policy));
                    self.policies.push((key.clone(), 1));
                }
            }
            keys.push(key);
        }
        self.pairs.push(InstalledPair {
            child: c.id,
            sas: [
                KernelSa {
                    satype,
                    spi: c.inbound.spi,
                    src: remote,
                    dst: local,
                },
                KernelSa {
                    satype,
                    spi: c.outbound.spi,
                    src: local,
                    dst: remote,
                },
            ],
            policies: keys,
        });
        Ok(msgs)
    }

    /// The messages that remove pair `child`: DELETE of both SAs, and
    /// X_SPDDELETE of the policies no other pair uses.
    pub fn remove(&mut self, child: ChildSaId) -> Vec<Message> {
        let Some(at) = self.pairs.iter().position(|p| p.child == child) else {
            return Vec::new();
        };
        let pair = self.pairs.swap_remove(at);
        let mut msgs: Vec<Message> = pair
            .sas
            .iter()
            .map(|s| request::delete(s.satype, s.spi, s.src, s.dst))
            .collect();
        for key in pair.policies {
            let Some(i) = self.policies.iter().position(|(k, _)| *k == key) else {
                continue;
            };
            let last = self
                .policies
                .get_mut(i)
                .map(|(_, users)| {
                    *users = users.saturating_sub(1);
                    *users == 0
                })
                .unwrap_or(false);
            if last {
                self.policies.swap_remove(i);
                msgs.push(request::spd_delete(
                    key.src,
                    key.dst,
                    PolicyType::Ipsec,
                    key.dir,
                ));
            }
        }
        msgs
    }

    /// Everything still installed, for shutdown.
    pub fn remove_all(&mut self) -> Vec<Message> {
        let children: Vec<ChildSaId> = self.pairs.iter().map(|p| p.child).collect();
        children.into_iter().flat_map(|c| self.remove(c)).collect()
    }

    /// The pair an SA belongs to.
    pub fn child_of(&self, satype: SaType, spi: u32, dst: IpAddr) -> Option<ChildSaId> {
        self.pairs
            .iter()
            .find(|p| {
                p.sas
                    .iter()
                    .any(|s| s.satype == satype && s.spi == spi && s.dst == dst)
            })
            .map(|p| p.child)
    }

    /// Number of installed pairs.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether nothing is installed.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

/// What a kernel EXPIRE asks of the engine: `(pair, hard)` for
/// `Endpoint::child_lifetime_reached` (soft: rekey; hard: the kernel has
/// dropped the SA, so the engine forgets the pair and sends a Delete).
pub fn expire_action(sas: &KernelSas, e: &Expire) -> Option<(ChildSaId, bool)> {
    let child = sas.child_of(e.satype, e.sa.spi, e.dst.addr.ip())?;
    Some((child, e.kind == ExpireKind::Hard))
}

/// The peer and child an ACQUIRE is for: the non-passive peer whose address
/// is the SA's destination, and among its children the one whose selectors
/// equal the triggering policy's (`selectors`, read back by the policy id),
/// else the first. `listen` stands in for a child without selectors.
pub fn acquire_target(
    peers: &[DaemonPeer],
    listen: IpAddr,
    acquire: &Acquire,
    selectors: Option<(Address, Address)>,
) -> Option<(usize, usize)> {
    let dst = acquire.dst.addr.ip();
    let (pi, peer) = peers
        .iter()
        .enumerate()
        .find(|(_, p)| !p.passive && p.address == dst)?;
    let exact = selectors.and_then(|(src, dst)| {
        peer.children.iter().position(|ch| {
            let ours = selector_address(ch.local.as_ref(), listen);
            let theirs = selector_address(ch.remote.as_ref(), peer.address);
            ours.is_ok_and(|a| same_selector(&a, &src))
                && theirs.is_ok_and(|a| same_selector(&a, &dst))
        })
    });
    let ci = exact.or_else(|| (!peer.children.is_empty()).then_some(0))?;
    Some((pi, ci))
}

/// The SPD settings of the configured child a negotiated pair belongs to.
/// The peer is the engine's own entry ([`ChildSa::peer_index`]; tanuki's
/// peers are listed in the engine's order), not the one at the pair's
/// remote address: behind a NAT, or after the peer moved, that address is
/// the translated one. Within the peer the child is the one whose mode and
/// selectors match, else the first; no peer, no policies and reqid 0.
pub fn child_spd(peers: &[DaemonPeer], child: &ChildSa) -> ChildSpd {
    let none = ChildSpd {
        level: None,
        reqid: 0,
    };
    let Some(peer) = peers.get(child.peer_index) else {
        return none;
    };
    let mut children = peer.children.iter().zip(&peer.child_spd);
    let matching = children.clone().find(|(ch, _)| {
        ch.mode == child.mode && ch.matches(child.local_ts.as_ref(), child.remote_ts.as_ref())
    });
    matching
        .or_else(|| children.next())
        .map_or(none, |(_, spd)| *spd)
}

/// Selector equality as the kernel reports them (it echoes the prefix and
/// address; `proto` may come back as 255 or 0 for any).
fn same_selector(a: &Address, b: &Address) -> bool {
    let any = |p: u8| if p == 0 { ULPROTO_ANY } else { p };
    a.addr == b.addr && a.prefixlen == b.prefixlen && any(a.proto) == any(b.proto)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::kernel_testing::{negotiate, negotiate_pairs};
    use ike_core::config::{ChildPolicy, EspTransform};
    use pfkey::wire::{MessageType, Sa, SaState};

    /// No generated policies, reqid 0.
    const NO_SPD: ChildSpd = ChildSpd {
        level: None,
        reqid: 0,
    };
    /// Generated `require` policies.
    const REQUIRE: ChildSpd = ChildSpd {
        level: Some(SpdLevel::Require),
        reqid: 0,
    };

    const A: &str = "192.168.1.100";
    const B: &str = "192.168.2.100";

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn child(
        local: Option<&str>,
        remote: Option<&str>,
        mode: EncapsulationMode,
        esp: EspTransform,
    ) -> ChildPolicy {
        let ts = |s: Option<&str>| {
            s.map(|s| match s.split_once('/') {
                Some((a, p)) => TrafficSelector::subnet(ip(a), p.parse().expect("prefix")),
                None => TrafficSelector::host(ip(s)),
            })
        };
        ChildPolicy {
            local: ts(local),
            remote: ts(remote),
            mode,
            esp: vec![esp],
            pfs_group: None,
            lifetime: IkeLifetime::seconds(3600),
            accept_ah: false,
            ah: Vec::new(),
            ipcomp: false,
        }
    }

    fn esp(
        cipher: EspCipher,
        key_bits: Option<u16>,
        i: Option<IntegrityAlgorithm>,
    ) -> EspTransform {
        EspTransform {
            cipher,
            key_bits,
            integrity: i,
        }
    }

    /// Gateway A's and gateway B's child for the 10.1/24 <-> 10.2/24 tunnel.
    fn tunnel_children(t: EspTransform) -> (ChildPolicy, ChildPolicy) {
        let (a, b) = (Some("10.1.0.0/24"), Some("10.2.0.0/24"));
        (
            child(a, b, EncapsulationMode::Tunnel, t),
            child(b, a, EncapsulationMode::Tunnel, t),
        )
    }

    fn tunnel_pair_nat(t: EspTransform, nat_t: bool) -> (ChildSa, ChildSa) {
        let (ca, cb) = tunnel_children(t);
        negotiate(ip(A), ip(B), ca, cb, nat_t).expect("negotiated")
    }

    fn tunnel_pair(t: EspTransform) -> (ChildSa, ChildSa) {
        tunnel_pair_nat(t, false)
    }

    /// Encodes and decodes a built message, as the kernel would read it.
    fn wire(m: &Message) -> Message {
        Message::parse(&m.to_bytes().expect("emit")).expect("parse")
    }

    fn sa_of(m: &Message) -> Sa {
        *m.sa().expect("SA extension")
    }

    #[test]
    fn tunnel_pair_becomes_getspi_update_add_with_sadb_numbers_keys_and_lifetimes() {
        let t = esp(
            EspCipher::AesCbc,
            Some(256),
            Some(IntegrityAlgorithm::HmacSha1),
        );
        let (a, b) = tunnel_pair(t);
        // The two sides agree on keys: our inbound is their outbound.
        assert_eq!(a.inbound.spi, b.outbound.spi);
        let msgs: Vec<Message> = install_requests(&a, 0)
            .expect("installable")
            .iter()
            .map(wire)
            .collect();
        let [getspi, update, add] = msgs.as_slice() else {
            panic!("three messages: {msgs:?}");
        };
        assert_eq!(getspi.header.msg_type, MessageType::GetSpi);
        assert_eq!(getspi.header.satype, SaType::Esp);
        let range = getspi.spirange().expect("range");
        assert_eq!((range.min, range.max), (a.inbound.spi, a.inbound.spi));
        assert_eq!(getspi.address_src().expect("src").addr.ip(), ip(B));
        assert_eq!(getspi.address_dst().expect("dst").addr.ip(), ip(A));

        assert_eq!(update.header.msg_type, MessageType::Update);
        let sa = sa_of(update);
        assert_eq!(sa.spi, a.inbound.spi);
        assert_eq!(sa.state, SaState::Mature);
        // linux/pfkeyv2.h: SADB_X_EALG_AESCBC 12, SADB_AALG_SHA1HMAC 3.
        assert_eq!((sa.encrypt, sa.auth), (12, 3));
        assert_eq!(sa.replay, 32);
        let enc = update.key_encrypt().expect("enc key");
        assert_eq!(enc.bits(), 256);
        assert_eq!(enc.as_bytes(), &a.inbound.encryption[..]);
        assert_eq!(
            update.key_auth().expect("auth key").as_bytes(),
            &a.inbound.integrity[..]
        );
        assert_eq!(update.key_auth().expect("auth key").bits(), 160);
        assert_eq!(update.address_src().expect("src").addr.ip(), ip(B));
        let hard = update.lifetime_hard().expect("hard");
        let soft = update.lifetime_soft().expect("soft");
        assert_eq!((hard.addtime, soft.addtime), (3600, 2880));
        assert_eq!((hard.bytes, soft.bytes), (0, 0));
        let sa2 = update.sa2().expect("sa2");
        assert_eq!((sa2.mode, sa2.reqid), (IpsecMode::Tunnel, 0));
        assert!(update.nat_t_type().is_none());

        assert_eq!(add.header.msg_type, MessageType::Add);
        let sa = sa_of(add);
        assert_eq!(sa.spi, a.outbound.spi);
        assert_eq!(sa.spi, b.inbound.spi);
        assert_eq!(
            add.key_encrypt().expect("enc key").as_bytes(),
            &b.inbound.encryption[..]
        );
        assert_eq!(add.address_src().expect("src").addr.ip(), ip(A));
        assert_eq!(add.address_dst().expect("dst").addr.ip(), ip(B));
    }

    #[test]
    fn other_transforms_map_to_their_sadb_numbers() {
        // (transform, SADB_EALG_*, SADB_AALG_*, encryption key bits)
        let cases = [
            (
                esp(
                    EspCipher::TripleDes,
                    None,
                    Some(IntegrityAlgorithm::HmacMd5),
                ),
                3,
                2,
                192,
            ),
            (
                esp(
                    EspCipher::AesCbc,
                    Some(192),
                    Some(IntegrityAlgorithm::HmacSha384),
                ),
                12,
                6,
                192,
            ),
            (
                esp(
                    EspCipher::AesCbc,
                    Some(256),
                    Some(IntegrityAlgorithm::HmacSha512),
                ),
                12,
                7,
                256,
            ),
            // RFC 3686 §5.1: the key carries the 32-bit nonce.
            (
                esp(
                    EspCipher::AesCtr,
                    Some(128),
                    Some(IntegrityAlgorithm::HmacSha1),
                ),
                13,
                3,
                160,
            ),
            (
                esp(
                    EspCipher::AesCtr,
                    Some(256),
                    Some(IntegrityAlgorithm::HmacSha1),
                ),
                13,
                3,
                288,
            ),
        ];
        for (t, ealg, aalg, bits) in cases {
            let (a, _) = tunnel_pair(t);
            let (inbound, _) = sa_specs(&a, 0).expect("installable");
            assert_eq!((inbound.encrypt, inbound.auth), (ealg, aalg), "{t}");
            assert_eq!(inbound.encrypt_key.expect("key").bits(), bits, "{t}");
        }
        let (a, _) = tunnel_pair(esp(
            EspCipher::Null,
            None,
            Some(IntegrityAlgorithm::HmacSha1),
        ));
        let (inbound, _) = sa_specs(&a, 0).expect("installable");
        assert_eq!((inbound.encrypt, inbound.auth), (11, 3));
        assert!(inbound.encrypt_key.is_none());
    }

    #[test]
    fn hmac_sha256_is_refused_for_its_96_bit_linux_icv() {
        let (a, _) = tunnel_pair(esp(
            EspCipher::AesCbc,
            Some(128),
            Some(IntegrityAlgorithm::HmacSha256),
        ));
        let e = install_requests(&a, 0).expect_err("SHA-256");
        assert_eq!(e, KernelError::Algorithm(SHA256_TRUNCATION.into()));
        assert!(e.to_string().contains("96-bit ICV"), "{e}");
    }

    #[test]
    fn ah_pair_is_installed_as_ah_with_its_key_only() {
        let policy = |local, remote| {
            let mut p = child(
                Some(local),
                Some(remote),
                EncapsulationMode::Transport,
                esp(EspCipher::Null, None, Some(IntegrityAlgorithm::HmacSha1)),
            );
            p.esp.clear();
            p.accept_ah = true;
            p.ah = vec![IntegrityAlgorithm::HmacSha1];
            p
        };
        let (a, _) = negotiate(ip(A), ip(B), policy(A, B), policy(B, A), false).expect("AH");
        assert_eq!(a.protocol, IpsecProtocol::Ah);
        let msgs: Vec<Message> = install_requests(&a, 0)
            .expect("installable")
            .iter()
            .map(wire)
            .collect();
        for m in &msgs {
            assert_eq!(m.header.satype, SaType::Ah);
        }
        let sa = sa_of(&msgs[1]);
        assert_eq!((sa.spi, sa.auth, sa.encrypt), (a.inbound.spi, 3, 0));
        assert_eq!(
            msgs[1].key_auth().expect("key").as_bytes(),
            &a.inbound.integrity[..]
        );
        assert!(msgs[1].key_encrypt().is_none());
        let p = policies(&a, REQUIRE).expect("ok");
        assert!(p.iter().all(|(_, p)| p.requests[0].proto == IpsecProto::Ah));
    }

    #[test]
    fn ipcomp_bundles_are_refused_by_name() {
        let t = esp(
            EspCipher::AesCbc,
            Some(128),
            Some(IntegrityAlgorithm::HmacSha1),
        );
        let (mut ca, mut cb) = tunnel_children(t);
        ca.ipcomp = true;
        cb.ipcomp = true;
        let (a, _) = negotiate(ip(A), ip(B), ca, cb, false).expect("ESP+IPComp");
        assert!(a.ipcomp.is_some());
        let e = install_requests(&a, 0).expect_err("bundle");
        assert_eq!(e, KernelError::Protocol("an IPComp bundle"));
        assert_eq!(
            e.to_string(),
            "an IPComp bundle is not installed through PF_KEY by tanuki"
        );
    }

    #[test]
    fn aes_gcm_is_refused_with_the_reason() {
        let (a, _) = tunnel_pair(esp(EspCipher::AesGcm16, Some(128), None));
        let e = install_requests(&a, 0).expect_err("AEAD");
        assert!(
            e.to_string()
                .contains("cannot be installed through PF_KEY on Linux"),
            "{e}"
        );
        assert!(KernelSas::default().install(&a, NO_SPD).is_err());
    }

    #[test]
    fn soft_lifetime_is_eighty_percent_of_hard_in_seconds_and_bytes() {
        let l = IkeLifetime {
            seconds: Some(3600),
            kilobytes: Some(1000),
        };
        let (hard, soft) = lifetimes(&l);
        assert_eq!((hard.addtime, hard.bytes), (3600, 1_024_000));
        assert_eq!((soft.addtime, soft.bytes), (2880, 819_200));
        // No overflow at the top of the range.
        let max = IkeLifetime {
            seconds: Some(u32::MAX),
            kilobytes: Some(u32::MAX),
        };
        let (hard, soft) = lifetimes(&max);
        assert_eq!(soft.addtime, u64::from(u32::MAX) * 4 / 5);
        assert_eq!(soft.bytes, hard.bytes / 5 * 4);
        // An odd value rounds down: 7 s -> 5 s (5.6).
        assert_eq!(lifetimes(&IkeLifetime::seconds(7)).1.addtime, 5);
    }

    #[test]
    fn nat_t_transport_pair_carries_ports_and_original_addresses() {
        let t = esp(
            EspCipher::AesCbc,
            Some(128),
            Some(IntegrityAlgorithm::HmacSha1),
        );
        let (a, b) = negotiate(
            ip(A),
            ip(B),
            child(Some(A), Some(B), EncapsulationMode::Transport, t),
            child(Some(B), Some(A), EncapsulationMode::Transport, t),
            true,
        )
        .expect("negotiated");
        assert_eq!(a.udp_encapsulation, Some((4500, 4500)));
        let msgs: Vec<Message> = install_requests(&a, 0)
            .expect("installable")
            .iter()
            .map(wire)
            .collect();
        for m in &msgs[1..] {
            assert_eq!(m.nat_t_type().expect("type").encap_type, 2);
            assert_eq!(m.nat_t_sport().expect("sport").port, 4500);
            assert_eq!(m.nat_t_dport().expect("dport").port, 4500);
            assert_eq!(m.sa2().expect("sa2").mode, IpsecMode::Transport);
        }
        // NAT-OA: the engine reports both original addresses; the inbound
        // SA (UPDATE) carries the peer's, the outbound (ADD) ours.
        let (i, r) = a
            .nat_oa
            .expect("NAT-OA reported in transport mode over NAT-T");
        {
            assert_eq!(msgs[1].nat_t_oa().expect("oa").addr.ip(), r);
            assert_eq!(msgs[2].nat_t_oa().expect("oa").addr.ip(), i);
            let (bi, br) = b.nat_oa.expect("both sides");
            assert_eq!((bi, br), (i, r));
        }
        // A tunnel over NAT-T has ports but no NAT-OA.
        let (a, _) = tunnel_pair_nat(t, true);
        let (inbound, outbound) = sa_specs(&a, 0).expect("installable");
        let (i, o) = (inbound.nat_t.expect("natt"), outbound.nat_t.expect("natt"));
        assert_eq!(
            (i.sport, i.dport, o.sport, o.dport),
            (4500, 4500, 4500, 4500)
        );
        assert!(i.original_address.is_none() && o.original_address.is_none());
    }

    #[test]
    fn generated_policies_follow_the_selectors_level_and_reqid() {
        let t = esp(
            EspCipher::AesCbc,
            Some(256),
            Some(IntegrityAlgorithm::HmacSha1),
        );
        let (a, _) = tunnel_pair(t);
        let spd = ChildSpd {
            level: Some(SpdLevel::Unique),
            reqid: 7,
        };
        let mut sas = KernelSas::default();
        let msgs: Vec<Message> = sas
            .install(&a, spd)
            .expect("installable")
            .iter()
            .map(wire)
            .collect();
        assert_eq!(msgs.len(), 6, "GETSPI, UPDATE, ADD, out, in, fwd");
        assert_eq!(msgs[1].sa2().expect("sa2").reqid, 7);
        assert_eq!(msgs[2].sa2().expect("sa2").reqid, 7);
        let ours = Address::selector(ip("10.1.0.0"), 24, 0, 255);
        let theirs = Address::selector(ip("10.2.0.0"), 24, 0, 255);
        let expect = [
            (PolicyDir::Outbound, ours, theirs, (A, B)),
            (PolicyDir::Inbound, theirs, ours, (B, A)),
            (PolicyDir::Forward, theirs, ours, (B, A)),
        ];
        for (m, (dir, src, dst, (from, to))) in msgs[3..].iter().zip(expect) {
            assert_eq!(m.header.msg_type, MessageType::SpdUpdate);
            assert_eq!(m.address_src(), Some(&src));
            assert_eq!(m.address_dst(), Some(&dst));
            let p = m.policy().expect("policy");
            assert_eq!((p.policy_type, p.dir), (PolicyType::Ipsec, dir));
            let [r] = p.requests.as_slice() else {
                panic!("one request: {p:?}");
            };
            assert_eq!(
                (r.proto, r.mode, r.level, r.reqid),
                (IpsecProto::Esp, IpsecMode::Tunnel, IpsecLevel::Unique, 7)
            );
            assert_eq!(
                r.tunnel,
                Some((SocketAddr::new(ip(from), 0), SocketAddr::new(ip(to), 0)))
            );
        }
        // `require`: reqid 0 in the policy, as the kernel matches SAs to it.
        let p = policies(&a, REQUIRE).expect("ok");
        assert!(
            p.iter().all(
                |(_, p)| p.requests[0].level == IpsecLevel::Require && p.requests[0].reqid == 0
            )
        );
        // No level: no policies (the SPD is setkey's).
        assert!(policies(&a, NO_SPD).expect("ok").is_empty());
    }

    #[test]
    fn transport_policies_are_host_to_host_without_fwd_or_endpoints() {
        let t = esp(
            EspCipher::AesCbc,
            Some(128),
            Some(IntegrityAlgorithm::HmacSha1),
        );
        let (a, _) = negotiate(
            ip(A),
            ip(B),
            child(None, None, EncapsulationMode::Transport, t),
            child(None, None, EncapsulationMode::Transport, t),
            false,
        )
        .expect("negotiated");
        let p = policies(
            &a,
            ChildSpd {
                level: Some(SpdLevel::Use),
                reqid: 0,
            },
        )
        .expect("ok");
        assert_eq!(p.len(), 2);
        let (out, policy) = &p[0];
        assert_eq!(out.src, Address::host(ip(A)));
        assert_eq!(out.dst, Address::host(ip(B)));
        assert_eq!(policy.requests[0].tunnel, None);
        assert_eq!(policy.requests[0].level, IpsecLevel::Use);
        assert_eq!(policy.requests[0].mode, IpsecMode::Transport);
    }

    #[test]
    fn rekeyed_pair_keeps_the_shared_policies_until_the_last_user_goes() {
        let t = esp(
            EspCipher::AesCbc,
            Some(128),
            Some(IntegrityAlgorithm::HmacSha1),
        );
        let (ca, cb) = tunnel_children(t);
        let pairs = negotiate_pairs(ip(A), ip(B), ca, cb, false, 2).expect("two pairs");
        let (old, new) = (&pairs[0].0, &pairs[1].0);
        assert_ne!(old.id, new.id);
        let spd = REQUIRE;
        let mut sas = KernelSas::default();
        assert_eq!(sas.install(old, spd).expect("old").len(), 6);
        // Policies already there: SAs only.
        assert_eq!(sas.install(new, spd).expect("new").len(), 3);
        assert_eq!(sas.len(), 2);
        assert_eq!(
            sas.child_of(SaType::Esp, old.inbound.spi, ip(A)),
            Some(old.id)
        );
        assert_eq!(
            sas.child_of(SaType::Esp, new.outbound.spi, ip(B)),
            Some(new.id)
        );
        assert_eq!(sas.child_of(SaType::Esp, new.outbound.spi, ip(A)), None);

        let gone: Vec<Message> = sas.remove(old.id).iter().map(wire).collect();
        assert_eq!(gone.len(), 2, "the new pair still uses the policies");
        let deleted: Vec<(u32, IpAddr)> = gone
            .iter()
            .map(|m| {
                assert_eq!(m.header.msg_type, MessageType::Delete);
                (sa_of(m).spi, m.address_dst().expect("dst").addr.ip())
            })
            .collect();
        assert_eq!(
            deleted,
            vec![(old.inbound.spi, ip(A)), (old.outbound.spi, ip(B))]
        );
        assert!(
            sas.remove(old.id).is_empty(),
            "removing twice sends nothing"
        );

        let last: Vec<Message> = sas.remove_all().iter().map(wire).collect();
        let types: Vec<MessageType> = last.iter().map(|m| m.header.msg_type).collect();
        assert_eq!(
            types,
            [
                MessageType::Delete,
                MessageType::Delete,
                MessageType::SpdDelete,
                MessageType::SpdDelete,
                MessageType::SpdDelete
            ]
        );
        let dirs: Vec<PolicyDir> = last[2..]
            .iter()
            .map(|m| m.policy().expect("p").dir)
            .collect();
        assert_eq!(
            dirs,
            [PolicyDir::Outbound, PolicyDir::Inbound, PolicyDir::Forward]
        );
        assert!(sas.is_empty());
    }

    #[test]
    fn pair_behind_a_nat_gets_its_childs_policies_and_reqid_by_peer_entry() {
        let t = esp(
            EspCipher::AesCbc,
            Some(128),
            Some(IntegrityAlgorithm::HmacSha1),
        );
        let (mut a, _) = tunnel_pair_nat(t, true);
        // The engine names its peer entry; the pair floated to 4500.
        assert_eq!(a.peer_index, 0);
        assert_eq!(a.udp_encapsulation, Some((4500, 4500)));
        // As seen through a NAT (or after the peer moved): B's address and
        // port translated.
        let translated: SocketAddr = "203.0.113.9:61234".parse().expect("addr");
        a.remote = translated;
        a.udp_encapsulation = Some((4500, translated.port()));

        const UNIQUE_7: ChildSpd = ChildSpd {
            level: Some(SpdLevel::Unique),
            reqid: 7,
        };
        let transport = child(None, None, EncapsulationMode::Transport, t);
        let (tunnel, _) = tunnel_children(t);
        let peers = vec![
            DaemonPeer {
                address: ip(B),
                passive: false,
                on_demand: false,
                children: vec![transport.clone(), tunnel],
                child_spd: vec![NO_SPD, UNIQUE_7],
                auth_summary: Vec::new(),
            },
            // Another peer configured at the translated address must not
            // lend its settings.
            DaemonPeer {
                address: translated.ip(),
                passive: true,
                on_demand: false,
                children: vec![transport],
                child_spd: vec![REQUIRE],
                auth_summary: Vec::new(),
            },
        ];
        let spd = child_spd(&peers, &a);
        assert_eq!(spd, UNIQUE_7);

        let msgs: Vec<Message> = KernelSas::default()
            .install(&a, spd)
            .expect("installed")
            .iter()
            .map(wire)
            .collect();
        // GETSPI, UPDATE, ADD, then out/in/fwd policies.
        assert_eq!(msgs.len(), 6);
        for sa in &msgs[1..3] {
            assert_eq!(sa.sa2().expect("sa2").reqid, 7);
        }
        // The outbound SA goes to the translated address and port.
        assert_eq!(
            msgs[2].address_dst().expect("dst").addr.ip(),
            translated.ip()
        );
        assert_eq!(
            msgs[2].nat_t_dport().expect("dport").port,
            translated.port()
        );
        for p in &msgs[3..] {
            let r = &p.policy().expect("policy").requests[0];
            assert_eq!((r.level, r.reqid), (IpsecLevel::Unique, 7));
        }

        // An engine entry the daemon does not list: no policies, reqid 0.
        a.peer_index = 5;
        assert_eq!(child_spd(&peers, &a), NO_SPD);
    }

    #[test]
    fn expires_and_acquires_map_to_engine_calls() {
        let t = esp(
            EspCipher::AesCbc,
            Some(128),
            Some(IntegrityAlgorithm::HmacSha1),
        );
        let (a, _) = tunnel_pair(t);
        let mut sas = KernelSas::default();
        sas.install(&a, NO_SPD).expect("ok");
        let expire = |kind, spi, dst: &str| Expire {
            kind,
            satype: SaType::Esp,
            sa: Sa::spi_only(spi),
            src: Address::host(ip(B)),
            dst: Address::host(ip(dst)),
            sa2: None,
            limit: Lifetime::seconds(2880),
            current: None,
        };
        assert_eq!(
            expire_action(&sas, &expire(ExpireKind::Soft, a.inbound.spi, A)),
            Some((a.id, false))
        );
        assert_eq!(
            expire_action(&sas, &expire(ExpireKind::Hard, a.outbound.spi, B)),
            Some((a.id, true))
        );
        assert_eq!(
            expire_action(&sas, &expire(ExpireKind::Hard, a.outbound.spi ^ 1, B)),
            None
        );

        let peer = |address: &str, passive, children: Vec<ChildPolicy>| DaemonPeer {
            address: ip(address),
            passive,
            on_demand: true,
            child_spd: vec![NO_SPD; children.len()],
            children,
            auth_summary: Vec::new(),
        };
        let peers = vec![
            peer(
                "192.168.3.1",
                true,
                vec![child(None, None, EncapsulationMode::Transport, t)],
            ),
            peer(
                B,
                false,
                vec![
                    child(
                        Some("10.1.0.0/24"),
                        Some("10.2.0.0/24"),
                        EncapsulationMode::Tunnel,
                        t,
                    ),
                    child(
                        Some("10.1.0.0/24"),
                        Some("10.3.0.0/16"),
                        EncapsulationMode::Tunnel,
                        t,
                    ),
                    child(None, None, EncapsulationMode::Transport, t),
                ],
            ),
        ];
        let acquire = |dst: &str| Acquire {
            seq: 1,
            satype: SaType::Esp,
            src: Address::host(ip(A)),
            dst: Address::host(ip(dst)),
            policy: None,
            proposal: None,
        };
        let sel = |a: &str, p: u8| Address::selector(ip(a), p, 0, 255);
        assert_eq!(
            acquire_target(
                &peers,
                ip(A),
                &acquire(B),
                Some((sel("10.1.0.0", 24), sel("10.3.0.0", 16)))
            ),
            Some((1, 1))
        );
        // Host-to-host children stand for the Phase 1 addresses.
        assert_eq!(
            acquire_target(&peers, ip(A), &acquire(B), Some((sel(A, 32), sel(B, 32)))),
            Some((1, 2))
        );
        assert_eq!(
            acquire_target(&peers, ip(A), &acquire(B), None),
            Some((1, 0))
        );
        // A passive peer never initiates; an unknown one has no entry.
        assert_eq!(
            acquire_target(&peers, ip(A), &acquire("192.168.3.1"), None),
            None
        );
        assert_eq!(
            acquire_target(&peers, ip(A), &acquire("192.168.9.9"), None),
            None
        );
    }

    #[test]
    fn ranges_become_prefixes_when_they_are_one() {
        let r = |s: &str, e: &str| range_prefix(ip(s), ip(e));
        assert_eq!(r("10.0.0.0", "10.0.0.255"), Some((ip("10.0.0.0"), 24)));
        assert_eq!(r("10.0.0.7", "10.0.0.7"), Some((ip("10.0.0.7"), 32)));
        assert_eq!(r("0.0.0.0", "255.255.255.255"), Some((ip("0.0.0.0"), 0)));
        assert_eq!(
            r("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
            Some((ip("::"), 0))
        );
        assert_eq!(
            r("2001:db8::", "2001:db8::ffff"),
            Some((ip("2001:db8::"), 112))
        );
        assert_eq!(r("10.0.0.1", "10.0.0.4"), None);
        assert_eq!(r("10.0.0.128", "10.0.1.127"), None);
        assert_eq!(r("10.0.0.9", "10.0.0.1"), None);
        assert_eq!(r("10.0.0.0", "::1"), None);
        let range = TrafficSelector {
            addr: SelectorAddr::Range {
                start: ip("10.0.0.1"),
                end: ip("10.0.0.4"),
            },
            protocol: 17,
            port: 500,
        };
        assert!(matches!(
            selector_address(Some(&range), ip(A)),
            Err(KernelError::Selector(_))
        ));
        let udp = TrafficSelector {
            protocol: 17,
            port: 500,
            ..TrafficSelector::host(ip(B))
        };
        assert_eq!(
            selector_address(Some(&udp), ip(A)).expect("ok"),
            Address::selector(ip(B), 32, 500, 17)
        );
    }
}
