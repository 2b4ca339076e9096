//! Builders for the requests a key manager sends (RFC 2367 §3.1 and the
//! KAME SPD messages). They return a [`Message`] with seq and pid 0;
//! [`Client::send`](crate::client::Client::send) stamps both.
//!
//! Extension order follows what racoon and setkey send, and the Linux
//! kernel accepts (see `tests/data/pfkey-linux/`).

use std::net::IpAddr;

use crate::wire::{
    Address, Extension, IpsecMode, Key, Lifetime, Message, MessageType, NatTPort, NatTType, Policy,
    PolicyDir, PolicyType, Sa, Sa2, SaState, SaType, SpiRange,
};

/// Everything ADD and UPDATE install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaSpec {
    /// AH, ESP or IPCOMP.
    pub satype: SaType,
    /// The SPI (the CPI for IPCOMP).
    pub spi: u32,
    /// Outer source address.
    pub src: IpAddr,
    /// Outer destination address.
    pub dst: IpAddr,
    /// Mode and reqid; without it Linux installs transport mode, reqid 0.
    pub sa2: Option<Sa2>,
    /// Replay window in packets (racoon and setkey use 32; 0 for IPCOMP).
    pub replay: u8,
    /// `SADB_AALG_*`
    pub auth: u8,
    /// The authentication key, if `auth` needs one.
    pub auth_key: Option<Key>,
    /// `SADB_EALG_*` (or `SADB_X_CALG_*` for IPCOMP).
    pub encrypt: u8,
    /// The encryption key, if `encrypt` needs one.
    pub encrypt_key: Option<Key>,
    /// `sadb_sa_flags`
    pub flags: u32,
    /// Hard lifetime (the SA is deleted when it runs out).
    pub hard: Option<Lifetime>,
    /// Soft lifetime (the kernel sends a soft EXPIRE; racoon uses 80% of hard).
    pub soft: Option<Lifetime>,
    /// UDP encapsulation (RFC 3948).
    pub nat_t: Option<NatT>,
}

impl SaSpec {
    /// An SA with no algorithms, lifetimes or NAT-T yet; replay 32 (0 for IPCOMP).
    pub fn new(satype: SaType, spi: u32, src: IpAddr, dst: IpAddr) -> Self {
        Self {
            satype,
            spi,
            src,
            dst,
            sa2: None,
            replay: if satype == SaType::IpComp { 0 } else { 32 },
            auth: 0,
            auth_key: None,
            encrypt: 0,
            encrypt_key: None,
            flags: 0,
            hard: None,
            soft: None,
            nat_t: None,
        }
    }
}

/// ESP-in-UDP parameters of an SA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NatT {
    /// `UDP_ENCAP_ESPINUDP` (2) for RFC 3948.
    pub encap_type: u8,
    /// Source UDP port (4500, or the NAT's).
    pub sport: u16,
    /// Destination UDP port.
    pub dport: u16,
    /// Original address, for transport-mode checksum fix-up.
    pub original_address: Option<Address>,
}

fn header_only(msg_type: MessageType, satype: SaType) -> Message {
    Message::new(msg_type, satype)
}

/// `SADB_REGISTER`: ask for ACQUIREs of `satype`; the reply lists the
/// supported algorithms.
pub fn register(satype: SaType) -> Message {
    header_only(MessageType::Register, satype)
}

/// `SADB_GETSPI`: reserve an SPI in `range` for an inbound SA (a larval SA
/// that UPDATE completes). Use `min == max` to get exactly that SPI.
pub fn getspi(
    satype: SaType,
    src: IpAddr,
    dst: IpAddr,
    range: SpiRange,
    sa2: Option<Sa2>,
) -> Message {
    Message::new(MessageType::GetSpi, satype)
        .with_opt(sa2.map(Extension::Sa2))
        .with(Extension::AddressSrc(Address::host(src)))
        .with(Extension::AddressDst(Address::host(dst)))
        .with(Extension::SpiRange(range))
}

fn sa_message(msg_type: MessageType, spec: &SaSpec) -> Message {
    let sa = Sa {
        spi: spec.spi,
        replay: spec.replay,
        state: SaState::Mature,
        auth: spec.auth,
        encrypt: spec.encrypt,
        flags: spec.flags,
    };
    let mut msg = Message::new(msg_type, spec.satype)
        .with(Extension::Sa(sa))
        .with_opt(spec.sa2.map(Extension::Sa2))
        .with_opt(spec.hard.map(Extension::LifetimeHard))
        .with_opt(spec.soft.map(Extension::LifetimeSoft))
        .with(Extension::AddressSrc(Address::host(spec.src)))
        .with(Extension::AddressDst(Address::host(spec.dst)))
        .with_opt(spec.auth_key.clone().map(Extension::KeyAuth))
        .with_opt(spec.encrypt_key.clone().map(Extension::KeyEncrypt));
    if let Some(nat) = &spec.nat_t {
        msg = msg
            .with(Extension::NatTType(NatTType {
                encap_type: nat.encap_type,
            }))
            .with(Extension::NatTSport(NatTPort { port: nat.sport }))
            .with(Extension::NatTDport(NatTPort { port: nat.dport }))
            .with_opt(nat.original_address.map(Extension::NatTOa));
    }
    msg
}

/// `SADB_ADD`: install a complete SA (typically the outbound one).
pub fn add(spec: &SaSpec) -> Message {
    sa_message(MessageType::Add, spec)
}

/// `SADB_UPDATE`: complete the larval SA that GETSPI reserved.
pub fn update(spec: &SaSpec) -> Message {
    sa_message(MessageType::Update, spec)
}

fn sa_by_id(msg_type: MessageType, satype: SaType, spi: u32, src: IpAddr, dst: IpAddr) -> Message {
    Message::new(msg_type, satype)
        .with(Extension::Sa(Sa::spi_only(spi)))
        .with(Extension::AddressSrc(Address::host(src)))
        .with(Extension::AddressDst(Address::host(dst)))
}

/// `SADB_DELETE` of the SA (`satype`, `spi`, `src`, `dst`).
pub fn delete(satype: SaType, spi: u32, src: IpAddr, dst: IpAddr) -> Message {
    sa_by_id(MessageType::Delete, satype, spi, src, dst)
}

/// `SADB_GET` of one SA; the reply includes its keys.
pub fn get(satype: SaType, spi: u32, src: IpAddr, dst: IpAddr) -> Message {
    sa_by_id(MessageType::Get, satype, spi, src, dst)
}

/// `SADB_FLUSH` of every SA of `satype` (`Unspec`: all).
pub fn flush(satype: SaType) -> Message {
    header_only(MessageType::Flush, satype)
}

/// `SADB_DUMP` of every SA of `satype` (`Unspec`: all).
pub fn dump(satype: SaType) -> Message {
    header_only(MessageType::Dump, satype)
}

fn spd_message(msg_type: MessageType, src: Address, dst: Address, policy: Policy) -> Message {
    Message::new(msg_type, SaType::Unspec)
        .with(Extension::AddressSrc(src))
        .with(Extension::AddressDst(dst))
        .with(Extension::Policy(policy))
}

/// `SADB_X_SPDADD`: add a policy for traffic from `src` to `dst` (selectors).
pub fn spd_add(src: Address, dst: Address, policy: Policy) -> Message {
    spd_message(MessageType::SpdAdd, src, dst, policy)
}

/// `SADB_X_SPDUPDATE`: add or replace a policy.
pub fn spd_update(src: Address, dst: Address, policy: Policy) -> Message {
    spd_message(MessageType::SpdUpdate, src, dst, policy)
}

/// `SADB_X_SPDDELETE`: delete the policy with these selectors, type and
/// direction (its requests are not compared).
pub fn spd_delete(src: Address, dst: Address, policy_type: PolicyType, dir: PolicyDir) -> Message {
    spd_message(
        MessageType::SpdDelete,
        src,
        dst,
        Policy::new(policy_type, dir),
    )
}

/// A policy extension naming policy `id` only. Linux keeps the direction in
/// the id's low 3 bits (XFRM direction in, out, fwd = 0, 1, 2; the PF_KEY
/// direction is one more), so `dir` is derived from it.
fn policy_by_id(id: u32) -> Policy {
    let xfrm_dir = u8::try_from(id & 7).unwrap_or(0);
    Policy {
        id,
        ..Policy::new(
            PolicyType::Ipsec,
            PolicyDir::from(xfrm_dir.saturating_add(1)),
        )
    }
}

/// `SADB_X_SPDDELETE2`: delete policy `id`.
pub fn spd_delete2(id: u32) -> Message {
    Message::new(MessageType::SpdDelete2, SaType::Unspec).with(Extension::Policy(policy_by_id(id)))
}

/// `SADB_X_SPDGET`: read policy `id`.
pub fn spd_get(id: u32) -> Message {
    Message::new(MessageType::SpdGet, SaType::Unspec).with(Extension::Policy(policy_by_id(id)))
}

/// `SADB_X_SPDDUMP`: every policy.
pub fn spd_dump() -> Message {
    header_only(MessageType::SpdDump, SaType::Unspec)
}

/// `SADB_X_SPDFLUSH`: delete every policy.
pub fn spd_flush() -> Message {
    header_only(MessageType::SpdFlush, SaType::Unspec)
}

/// A transport- or tunnel-mode SA2 extension.
pub fn sa2(mode: IpsecMode, reqid: u32) -> Sa2 {
    Sa2 {
        mode,
        sequence: 0,
        reqid,
    }
}
