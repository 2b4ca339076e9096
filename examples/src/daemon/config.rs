//! tanuki's configuration file: TOML, one `[[peer]]` table per remote peer
//! and one `[[peer.child]]` per `sainfo`, mapped onto ike-core's
//! [`EndpointConfig`]. Every error names the file, the line and what is
//! wrong.
//!
//! ```toml
//! listen = "192.0.2.1"
//! status_socket = "/run/tanuki.sock"
//! phase1_timeout = 60                 # s; a Phase 1 not done by then fails
//! phase2_timeout = 60
//! tun = "tanuki0"                     # user-space ESP through this TUN device
//! tun_source = "10.1.0.1"             # our inner address (routes' src)
//! fragment_size = 1232                # largest IKE datagram (UDP payload) before fragmenting
//!
//! [[peer]]
//! address = "198.51.100.2"
//! mode = "main"                       # or "aggressive"
//! psk = "mekmitasdigoat"
//! proposals = ["aes256-sha1-modp1536"]
//! lifetime = 86400
//! nat_traversal = "off"               # "on", "off" or "force"
//! fragmentation = "on"                # IKE fragmentation (racoon's ike_frag): "on", "off" or "force"
//! passive = false                     # false: initiate at start
//! on_demand = false                   # true: initiate when traffic first arrives
//!
//! [[peer.child]]
//! local = "10.1.0.0/24"
//! remote = "10.2.0.0/24"
//! esp = ["aes256-sha1"]
//! lifetime = 3600
//! lifetime_kilobytes = 500000         # optional, KB of 1024 bytes; counted by esp-core
//!                                     # (`tun`) or the kernel; a rekey at 80%
//! ```
//!
//! The kernel data path (PF_KEY, `af_key`) instead of user-space ESP:
//!
//! ```toml
//! data_path = "kernel"                # "user" (default: TUN + esp-core) or "kernel"
//! # [[peer.child]] ah = ["sha1"]: AH (alone without `esp`, else as ESP's alternative)
//! generate_policy = "require"         # "off" (default), "on" (= require), "require", "unique"
//!
//! [[peer.child]]
//! level = "unique"                    # this child's policies: "use", "require" or "unique"
//! reqid = 7                           # 1..=16383: the SAs' reqid for a `unique` policy
//! ```
//!
//! `generate_policy` installs SPD entries from the negotiated selectors, as
//! racoon's does; `off` leaves the SPD to the administrator (setkey). `level`
//! needs `generate_policy`. `reqid` is for `unique` policies only (generated,
//! or loaded by setkey as `.../unique:N`); without it a generated `unique`
//! policy gets a reqid of its own. AEAD transforms (AES-GCM) cannot be
//! installed through PF_KEY on Linux and are refused with `data_path = "kernel"`.
//!
//! RSA signatures instead of a PSK: a `[peer.auth]` table with racoon's
//! option names (`certificate_type`, `ca_file`, `verify_cert`, …), read and
//! checked by [`super::auth_config`].

use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ike_core::config::{
    AuthMethod, ChildPolicy, EncapsulationMode, EndpointConfig, EspCipher, EspTransform,
    ExchangeMode, Fragmentation, Identity, IntegrityAlgorithm, Lifetime, NatTraversal, PeerConfig,
    Phase1Proposal, PresharedKey, PskTable, TrafficSelector,
};
use ike_core::crypto::{CipherAlgorithm, DhGroup, HashAlgorithm, Phase1Cipher};
use ike_core::policy::ProposalCheck;
use serde::Deserialize;
use toml::Spanned;

/// A configuration error: where, and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {message}", file.display())]
pub struct ConfigError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line (0 when the file could not be read at all).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// One peer as the daemon needs it: the engine's view plus what to do at start.
#[derive(Debug, Clone)]
pub struct DaemonPeer {
    /// The peer's address (port 500).
    pub address: IpAddr,
    /// Do not initiate; only answer.
    pub passive: bool,
    /// Initiate when the TUN device first sees traffic for a child's
    /// remote selector, not at start (like racoon on a kernel ACQUIRE).
    pub on_demand: bool,
    /// The child policies to initiate, in order.
    pub children: Vec<ChildPolicy>,
    /// Kernel SPD settings of each child, parallel to `children`.
    pub child_spd: Vec<ChildSpd>,
    /// What `tanuki check` shows of the `[peer.auth]` table (certificates
    /// with subject, subjectAltName, validity); empty with a PSK.
    pub auth_summary: Vec<String>,
}

/// Where ESP happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DataPathKind {
    /// In the daemon: a TUN device and esp-core (`tun`), or none at all.
    #[default]
    User,
    /// In the Linux kernel, with SAs (and policies) installed through PF_KEY.
    Kernel,
}

/// An SPD `ipsecrequest` level (setkey's `use`, `require`, `unique`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpdLevel {
    /// Use an SA if there is one, send in clear otherwise.
    Use,
    /// Drop (and ACQUIRE) until an SA exists.
    Require,
    /// Like require, with SAs bound to the policy by reqid.
    Unique,
}

impl SpdLevel {
    /// setkey's word for it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Use => "use",
            Self::Require => "require",
            Self::Unique => "unique",
        }
    }
}

/// The kernel SPD settings of one child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildSpd {
    /// The level of its generated policies (`None`: no policies generated).
    pub level: Option<SpdLevel>,
    /// The reqid its SAs carry: nonzero only for `unique` policies, since
    /// Linux matches an SA to a policy template by equal reqid.
    pub reqid: u32,
}

/// The largest reqid a PF_KEY `unique` policy may name (Linux's
/// `IPSEC_MANUAL_REQID_MAX`); larger ones are replaced by the kernel's own.
pub const MAX_MANUAL_REQID: u32 = 0x3fff;

/// The whole file, checked.
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    /// Address to bind UDP 500 and 4500 on.
    pub listen: IpAddr,
    /// Where the `status` command's unix socket lives, if anywhere.
    pub status_socket: Option<PathBuf>,
    /// The TUN device carrying inner traffic (user-space ESP); `None`
    /// negotiates only.
    pub tun: Option<String>,
    /// Source address for routes into the TUN device (an address inside
    /// our local traffic selectors).
    pub tun_source: Option<IpAddr>,
    /// User-space ESP or the kernel's.
    pub data_path: DataPathKind,
    /// The engine's configuration.
    pub endpoint: EndpointConfig,
    /// The peers, in file order.
    pub peers: Vec<DaemonPeer>,
}

impl DaemonConfig {
    /// The address our IKE socket for `port` binds.
    pub fn local(&self, port: u16) -> SocketAddr {
        SocketAddr::new(self.listen, port)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRepr {
    listen: Spanned<String>,
    status_socket: Option<PathBuf>,
    phase1_timeout: Option<Spanned<u64>>,
    phase2_timeout: Option<Spanned<u64>>,
    tun: Option<String>,
    tun_source: Option<Spanned<String>>,
    data_path: Option<Spanned<String>>,
    generate_policy: Option<Spanned<String>>,
    fragment_size: Option<Spanned<usize>>,
    #[serde(default, rename = "peer")]
    peers: Vec<PeerRepr>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PeerRepr {
    address: Spanned<String>,
    mode: Option<Spanned<String>>,
    my_id: Option<String>,
    peer_id: Option<String>,
    psk: Option<Spanned<String>>,
    /// RSA signatures: see [`super::auth_config`].
    auth: Option<super::auth_config::AuthRepr>,
    proposals: Spanned<Vec<Spanned<String>>>,
    lifetime: Option<Spanned<u32>>,
    proposal_check: Option<Spanned<String>>,
    nat_traversal: Option<Spanned<String>>,
    fragmentation: Option<Spanned<String>>,
    #[serde(default)]
    passive: bool,
    #[serde(default)]
    on_demand: bool,
    initial_contact: Option<bool>,
    #[serde(default, rename = "child")]
    children: Vec<ChildRepr>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChildRepr {
    local: Spanned<String>,
    remote: Spanned<String>,
    esp: Option<Spanned<Vec<Spanned<String>>>>,
    ah: Option<Spanned<Vec<Spanned<String>>>>,
    pfs: Option<Spanned<String>>,
    lifetime: Option<Spanned<u32>>,
    lifetime_kilobytes: Option<Spanned<u32>>,
    mode: Option<Spanned<String>>,
    level: Option<Spanned<String>>,
    reqid: Option<Spanned<u32>>,
}

/// Accepted `fragment_size` values: from what a 576-byte IPv4 path carries
/// (RFC 791's minimum) to the largest UDP payload.
const FRAGMENT_SIZES: std::ops::RangeInclusive<usize> = 548..=65_507;

/// Default Phase 1 lifetime (racoon's and the PIX seed's 86400 s).
const DEFAULT_PHASE1_SECS: u32 = 86_400;
/// Default Phase 2 lifetime (3600 s).
const DEFAULT_PHASE2_SECS: u32 = 3_600;

/// Reads and checks the file at `path`.
pub fn load(path: &Path) -> Result<DaemonConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.to_owned(),
        line: 0,
        message: format!("cannot read: {e}"),
    })?;
    parse(path, &text)
}

/// Parses `text` (the contents of `file`, named in errors).
pub fn parse(file: &Path, text: &str) -> Result<DaemonConfig, ConfigError> {
    let err = |span: Option<Range<usize>>, message: String| ConfigError {
        file: file.to_owned(),
        line: span.map_or(0, |s| line_of(text, s.start)),
        message,
    };
    let repr: FileRepr = toml::from_str(text).map_err(|e| {
        // toml's message repeats the location as a multi-line excerpt: keep its first line.
        let msg = e
            .message()
            .lines()
            .next()
            .unwrap_or("invalid TOML")
            .to_owned();
        err(e.span(), msg)
    })?;
    let at = |s: Range<usize>, m: String| err(Some(s), m);
    let listen: IpAddr = repr.listen.get_ref().parse().map_err(|_| {
        at(
            repr.listen.span(),
            format!("listen: `{}` is not an IP address", repr.listen.get_ref()),
        )
    })?;
    if repr.peers.is_empty() {
        return Err(err(None, "no [[peer]] table: nothing to talk to".into()));
    }
    let data_path = match repr
        .data_path
        .as_ref()
        .map(|d| (d.get_ref().as_str(), d.span()))
    {
        None | Some(("user", _)) => DataPathKind::User,
        Some(("kernel", span)) => {
            if repr.tun.is_some() {
                return Err(at(
                    span,
                    "data_path = \"kernel\" uses the kernel's ESP: remove `tun` (the user-space data path)".into(),
                ));
            }
            DataPathKind::Kernel
        }
        Some((other, span)) => {
            return Err(at(
                span,
                format!("data_path `{other}`: expected \"user\" or \"kernel\""),
            ));
        }
    };
    let generated_level = match repr
        .generate_policy
        .as_ref()
        .map(|g| (g.get_ref().as_str(), g.span()))
    {
        None | Some(("off", _)) => None,
        Some((word, span)) => {
            let level = match word {
                "on" | "require" => SpdLevel::Require,
                "unique" => SpdLevel::Unique,
                other => {
                    return Err(at(
                        span,
                        format!(
                            "generate_policy `{other}`: expected \"off\", \"on\", \"require\" or \"unique\""
                        ),
                    ));
                }
            };
            if data_path != DataPathKind::Kernel {
                return Err(at(
                    span,
                    "generate_policy installs kernel policies: it needs data_path = \"kernel\""
                        .into(),
                ));
            }
            Some(level)
        }
    };
    let mut next_reqid = 1u32;
    let mut psk = PskTable::new();
    let mut engine_peers = Vec::new();
    let mut peers = Vec::new();
    for p in &repr.peers {
        let address: IpAddr = p.address.get_ref().parse().map_err(|_| {
            at(
                p.address.span(),
                format!(
                    "peer address `{}` is not an IP address",
                    p.address.get_ref()
                ),
            )
        })?;
        let rsasig = match &p.auth {
            Some(a) => a.wants_rsasig().map_err(|(s, m)| at(s, m))?,
            None => false,
        };
        match (&p.psk, rsasig) {
            (Some(k), false) if k.get_ref().is_empty() => {
                return Err(at(k.span(), "psk is empty".into()));
            }
            (Some(k), true) => {
                return Err(at(
                    k.span(),
                    "psk is set but [peer.auth] says authentication_method rsasig: keep one".into(),
                ));
            }
            (None, false) => {
                return Err(at(
                    p.address.span(),
                    "no psk and no [peer.auth] table: give psk = \"...\" or certificates".into(),
                ));
            }
            _ => {}
        }
        let lifetime = p
            .lifetime
            .as_ref()
            .map_or(DEFAULT_PHASE1_SECS, |l| *l.get_ref());
        if lifetime == 0 {
            return Err(at(
                p.lifetime.as_ref().map_or(0..0, Spanned::span),
                "lifetime must be > 0 s".into(),
            ));
        }
        if p.proposals.get_ref().is_empty() {
            return Err(at(
                p.proposals.span(),
                "proposals is empty: give at least one, e.g. \"aes256-sha1-modp1536\"".into(),
            ));
        }
        let mut proposals = Vec::new();
        for s in p.proposals.get_ref() {
            let prop = parse_phase1(s.get_ref(), lifetime).map_err(|m| at(s.span(), m))?;
            proposals.push(prop);
        }
        let mut children = Vec::new();
        let mut child_spd = Vec::new();
        for c in &p.children {
            let policy = child_policy(c).map_err(|(s, m)| at(s, m))?;
            if let Some(kb) = c
                .lifetime_kilobytes
                .as_ref()
                .filter(|_| data_path != DataPathKind::Kernel && repr.tun.is_none())
            {
                return Err(at(
                    kb.span(),
                    "lifetime_kilobytes needs a data path that counts an SA's bytes: \
                     `tun` (user-space ESP) or data_path = \"kernel\""
                        .into(),
                ));
            }
            if let Some(list) = c.ah.as_ref().filter(|_| data_path != DataPathKind::Kernel) {
                return Err(at(
                    list.span(),
                    "ah needs data_path = \"kernel\": the user-space data path (esp-core) has no AH"
                        .into(),
                ));
            }
            if data_path == DataPathKind::Kernel {
                kernel_transforms(&policy, c).map_err(|(s, m)| at(s, m))?;
            }
            child_spd.push(
                spd_settings(c, generated_level, &mut next_reqid).map_err(|(s, m)| at(s, m))?,
            );
            children.push(policy);
        }
        let mut peer = PeerConfig::new(Some(address), proposals, children.clone());
        if let Some(m) = &p.mode {
            peer.exchange_mode = match m.get_ref().as_str() {
                "main" => ExchangeMode::Main,
                "aggressive" => ExchangeMode::Aggressive,
                other => {
                    return Err(at(
                        m.span(),
                        format!("mode `{other}`: expected \"main\" or \"aggressive\""),
                    ));
                }
            };
        }
        if let Some(n) = &p.nat_traversal {
            peer.nat_traversal = match n.get_ref().as_str() {
                "on" => NatTraversal::On,
                "off" => NatTraversal::Off,
                "force" => NatTraversal::Force,
                other => {
                    return Err(at(
                        n.span(),
                        format!("nat_traversal `{other}`: expected \"on\", \"off\" or \"force\""),
                    ));
                }
            };
        }
        if let Some(f) = &p.fragmentation {
            peer.fragmentation = match f.get_ref().as_str() {
                "on" => Fragmentation::On,
                "off" => Fragmentation::Off,
                "force" => Fragmentation::Force,
                other => {
                    return Err(at(
                        f.span(),
                        format!("fragmentation `{other}`: expected \"on\", \"off\" or \"force\""),
                    ));
                }
            };
        }
        if let Some(c) = &p.proposal_check {
            peer.proposal_check = match c.get_ref().as_str() {
                "obey" => ProposalCheck::Obey,
                "strict" => ProposalCheck::Strict,
                "claim" => ProposalCheck::Claim,
                "exact" => ProposalCheck::Exact,
                other => {
                    return Err(at(
                        c.span(),
                        format!("proposal_check `{other}`: expected obey, strict, claim or exact"),
                    ));
                }
            };
        }
        if let Some(ic) = p.initial_contact {
            peer.initial_contact = ic;
        }
        peer.my_identifier = p.my_id.as_deref().map(Identity::parse_text);
        let peer_id = p.peer_id.as_deref().map(Identity::parse_text);
        peer.peers_identifier = peer_id.clone();
        let mut auth_summary = Vec::new();
        if let (Some(a), true) = (&p.auth, rsasig) {
            let loaded = super::auth_config::load(a, file, listen, address, p.address.span())
                .map_err(|(s, m)| at(s, m))?;
            if loaded.my_identifier.is_some() {
                if p.my_id.is_some() {
                    return Err(at(
                        p.address.span(),
                        "my_id and [peer.auth] my_identifier are both set: keep one".into(),
                    ));
                }
                peer.my_identifier = loaded.my_identifier;
            }
            for prop in &mut peer.proposals {
                prop.auth = AuthMethod::RsaSignature;
            }
            peer.auth = loaded.auth;
            auth_summary = loaded.summary;
        }
        // The PSK is found by the peer's address (Main Mode) or its claimed
        // identity (Aggressive Mode): file it under both.
        if let Some(key) = &p.psk {
            psk.insert(
                Identity::from_ip(address),
                PresharedKey::new(key.get_ref().as_bytes().to_vec()),
            );
            if let Some(id) = peer_id {
                psk.insert(id, PresharedKey::new(key.get_ref().as_bytes().to_vec()));
            }
        }
        if !p.passive && children.is_empty() {
            return Err(at(
                p.address.span(),
                "an active (non-passive) peer needs at least one [[peer.child]] to initiate".into(),
            ));
        }
        engine_peers.push(peer);
        peers.push(DaemonPeer {
            address,
            passive: p.passive,
            on_demand: p.on_demand,
            children,
            child_spd,
            auth_summary,
        });
    }
    let mut endpoint = EndpointConfig::new(engine_peers, psk);
    for (value, slot) in [
        (&repr.phase1_timeout, &mut endpoint.phase1_timeout),
        (&repr.phase2_timeout, &mut endpoint.phase2_timeout),
    ] {
        if let Some(v) = value {
            if *v.get_ref() == 0 {
                return Err(at(v.span(), "timeout must be > 0 s".into()));
            }
            *slot = Duration::from_secs(*v.get_ref());
        }
    }
    if let Some(size) = &repr.fragment_size {
        if !FRAGMENT_SIZES.contains(size.get_ref()) {
            return Err(at(
                size.span(),
                format!(
                    "fragment_size {}: expected {} to {} bytes of UDP payload (548 fits a 576-byte IPv4 path)",
                    size.get_ref(),
                    FRAGMENT_SIZES.start(),
                    FRAGMENT_SIZES.end()
                ),
            ));
        }
        endpoint.fragment_size = *size.get_ref();
    }
    let tun_source = match &repr.tun_source {
        None => None,
        Some(t) => Some(t.get_ref().parse().map_err(|_| {
            at(
                t.span(),
                format!("tun_source `{}` is not an IP address", t.get_ref()),
            )
        })?),
    };
    Ok(DaemonConfig {
        listen,
        status_socket: repr.status_socket,
        tun: repr.tun,
        tun_source,
        data_path,
        endpoint,
        peers,
    })
}

/// Refuses, before negotiating, what Linux's af_key cannot install as
/// negotiated: AEADs, and HMAC-SHA-256 (see [`super::kernel::SHA256_TRUNCATION`]).
fn kernel_transforms(policy: &ChildPolicy, c: &ChildRepr) -> Result<(), (Range<usize>, String)> {
    if let Some(list) = &c.ah {
        for (a, text) in policy.ah.iter().zip(list.get_ref()) {
            if *a == IntegrityAlgorithm::HmacSha256 {
                return Err((
                    text.span(),
                    format!(
                        "ah `sha256`: {}; choose sha1, sha384 or sha512",
                        super::kernel::SHA256_TRUNCATION
                    ),
                ));
            }
        }
    }
    let esp_texts = c
        .esp
        .as_ref()
        .map(|l| l.get_ref().as_slice())
        .unwrap_or_default();
    for (t, text) in policy.esp.iter().zip(esp_texts) {
        if t.cipher.is_aead() {
            return Err((
                text.span(),
                format!(
                    "esp `{}` ({t}): AEAD transforms cannot be installed through PF_KEY on \
                     Linux, so not with data_path = \"kernel\"; use the user-space data path \
                     (data_path = \"user\" with `tun`) or install the SAs with `ip xfrm`",
                    text.get_ref()
                ),
            ));
        }
        if t.integrity == Some(IntegrityAlgorithm::HmacSha256) {
            return Err((
                text.span(),
                format!(
                    "esp `{}` ({t}): {}; choose sha1, sha384 or sha512, or the user-space data path",
                    text.get_ref(),
                    super::kernel::SHA256_TRUNCATION
                ),
            ));
        }
    }
    Ok(())
}

/// A child's `level` and `reqid` under the file's `generate_policy`.
fn spd_settings(
    c: &ChildRepr,
    generated: Option<SpdLevel>,
    next_reqid: &mut u32,
) -> Result<ChildSpd, (Range<usize>, String)> {
    let level = match &c.level {
        None => generated,
        Some(l) => {
            let level = match l.get_ref().as_str() {
                "use" => SpdLevel::Use,
                "require" => SpdLevel::Require,
                "unique" => SpdLevel::Unique,
                other => {
                    return Err((
                        l.span(),
                        format!("level `{other}`: expected \"use\", \"require\" or \"unique\""),
                    ));
                }
            };
            if generated.is_none() {
                return Err((
                    l.span(),
                    "level applies to generated policies: set generate_policy (with data_path = \"kernel\")".into(),
                ));
            }
            Some(level)
        }
    };
    let reqid = match (&c.reqid, level) {
        (Some(r), Some(SpdLevel::Unique) | None) => {
            if !(1..=MAX_MANUAL_REQID).contains(r.get_ref()) {
                return Err((
                    r.span(),
                    format!("reqid {}: expected 1..={MAX_MANUAL_REQID}", r.get_ref()),
                ));
            }
            *r.get_ref()
        }
        (Some(r), Some(other)) => {
            return Err((
                r.span(),
                format!(
                    "reqid is for `unique` policies; with level {} the kernel matches SAs of reqid 0",
                    other.name()
                ),
            ));
        }
        (None, Some(SpdLevel::Unique)) => {
            let reqid = *next_reqid;
            *next_reqid = next_reqid.saturating_add(1).min(MAX_MANUAL_REQID);
            reqid
        }
        (None, _) => 0,
    };
    Ok(ChildSpd { level, reqid })
}

/// 1-based line number of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .unwrap_or(text)
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

/// A Phase 1 proposal in strongSwan's notation: `aes256-sha1-modp1536`,
/// `3des-md5-modp1024`, `aes128-sha256-modp2048`.
fn parse_phase1(text: &str, lifetime: u32) -> Result<Phase1Proposal, String> {
    let parts: Vec<&str> = text.split('-').collect();
    let [cipher, hash, group] = parts.as_slice() else {
        return Err(format!(
            "proposal `{text}`: expected CIPHER-HASH-GROUP, e.g. aes256-sha1-modp1536"
        ));
    };
    let (algorithm, bits) = match *cipher {
        "aes128" => (CipherAlgorithm::Aes, Some(128)),
        "aes192" => (CipherAlgorithm::Aes, Some(192)),
        "aes256" => (CipherAlgorithm::Aes, Some(256)),
        "3des" => (CipherAlgorithm::TripleDes, None),
        "des" => (CipherAlgorithm::Des, None),
        other => {
            return Err(format!(
                "proposal `{text}`: unknown cipher `{other}` (aes128, aes192, aes256, 3des, des)"
            ));
        }
    };
    let cipher =
        Phase1Cipher::new(algorithm, bits).map_err(|e| format!("proposal `{text}`: {e}"))?;
    let hash = match *hash {
        "md5" => HashAlgorithm::Md5,
        "sha1" => HashAlgorithm::Sha1,
        "sha256" => HashAlgorithm::Sha256,
        "sha384" => HashAlgorithm::Sha384,
        "sha512" => HashAlgorithm::Sha512,
        other => {
            return Err(format!(
                "proposal `{text}`: unknown hash `{other}` (md5, sha1, sha256, sha384, sha512)"
            ));
        }
    };
    let group = parse_group(group)
        .ok_or_else(|| format!("proposal `{text}`: unknown DH group `{group}`"))?;
    Ok(Phase1Proposal {
        cipher,
        hash,
        auth: AuthMethod::PreSharedKey,
        group,
        lifetime: Lifetime::seconds(lifetime),
    })
}

/// strongSwan's group names.
fn parse_group(name: &str) -> Option<DhGroup> {
    Some(match name {
        "modp768" => DhGroup::Modp768,
        "modp1024" => DhGroup::Modp1024,
        "modp1536" => DhGroup::Modp1536,
        "modp2048" => DhGroup::Modp2048,
        "modp3072" => DhGroup::Modp3072,
        "modp4096" => DhGroup::Modp4096,
        "ecp256" => DhGroup::Ecp256,
        "ecp384" => DhGroup::Ecp384,
        _ => return None,
    })
}

/// An ESP transform in strongSwan's notation: `aes256-sha1`, `3des-md5`,
/// `aes128gcm16`, `aes256gcm16`.
fn parse_esp(text: &str) -> Result<EspTransform, String> {
    let (cipher_text, integrity_text) = match text.split_once('-') {
        Some((c, i)) => (c, Some(i)),
        None => (text, None),
    };
    let (cipher, key_bits) = match cipher_text {
        "aes128" => (EspCipher::AesCbc, Some(128)),
        "aes192" => (EspCipher::AesCbc, Some(192)),
        "aes256" => (EspCipher::AesCbc, Some(256)),
        "aes128gcm16" => (EspCipher::AesGcm16, Some(128)),
        "aes256gcm16" => (EspCipher::AesGcm16, Some(256)),
        "3des" => (EspCipher::TripleDes, None),
        "null" => (EspCipher::Null, None),
        other => {
            return Err(format!(
                "esp `{text}`: unknown cipher `{other}` (aes128, aes256, aes128gcm16, aes256gcm16, 3des, null)"
            ));
        }
    };
    let integrity = match integrity_text {
        None => None,
        Some(name) if parse_integrity(name).is_some() => parse_integrity(name),
        Some(other) => {
            return Err(format!(
                "esp `{text}`: unknown integrity `{other}` (md5, sha1, sha256, sha384, sha512)"
            ));
        }
    };
    if cipher.is_aead() && integrity.is_some() {
        return Err(format!(
            "esp `{text}`: {cipher_text} is AEAD and takes no integrity algorithm"
        ));
    }
    if !cipher.is_aead() && integrity.is_none() {
        return Err(format!(
            "esp `{text}`: {cipher_text} needs an integrity algorithm, e.g. {cipher_text}-sha1"
        ));
    }
    Ok(EspTransform {
        cipher,
        key_bits,
        integrity,
    })
}

/// `10.1.0.0/24` or a host address.
fn parse_selector(text: &str) -> Option<TrafficSelector> {
    match text.split_once('/') {
        Some((addr, prefix)) => {
            let addr: IpAddr = addr.parse().ok()?;
            let prefix: u8 = prefix.parse().ok()?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            (prefix <= max).then(|| TrafficSelector::subnet(addr, prefix))
        }
        None => text.parse().ok().map(TrafficSelector::host),
    }
}

fn child_policy(c: &ChildRepr) -> Result<ChildPolicy, (Range<usize>, String)> {
    let selector = |s: &Spanned<String>, what: &str| {
        parse_selector(s.get_ref()).ok_or_else(|| {
            (
                s.span(),
                format!(
                    "{what} `{}`: expected ADDRESS/PREFIX or ADDRESS",
                    s.get_ref()
                ),
            )
        })
    };
    let local = selector(&c.local, "local")?;
    let remote = selector(&c.remote, "remote")?;
    let mut esp = Vec::new();
    match &c.esp {
        Some(list) if list.get_ref().is_empty() => {
            return Err((
                list.span(),
                "esp is empty: give at least one, e.g. \"aes256-sha1\"".into(),
            ));
        }
        Some(list) => {
            for e in list.get_ref() {
                esp.push(parse_esp(e.get_ref()).map_err(|m| (e.span(), m))?);
            }
        }
        None if c.ah.is_none() => {
            return Err((
                c.local.span(),
                "this child has no `esp` (nor `ah`): give e.g. esp = [\"aes256-sha1\"]".into(),
            ));
        }
        None => {}
    }
    let mut ah = Vec::new();
    if let Some(list) = &c.ah {
        if list.get_ref().is_empty() {
            return Err((
                list.span(),
                "ah is empty: give at least one, e.g. \"sha1\"".into(),
            ));
        }
        for a in list.get_ref() {
            ah.push(parse_integrity(a.get_ref()).ok_or_else(|| {
                (
                    a.span(),
                    format!(
                        "ah `{}`: unknown algorithm (md5, sha1, sha256, sha384, sha512)",
                        a.get_ref()
                    ),
                )
            })?);
        }
    }
    let pfs_group = match &c.pfs {
        None => None,
        Some(g) => Some(
            parse_group(g.get_ref())
                .ok_or_else(|| (g.span(), format!("pfs `{}`: unknown DH group", g.get_ref())))?,
        ),
    };
    let lifetime = c
        .lifetime
        .as_ref()
        .map_or(DEFAULT_PHASE2_SECS, |l| *l.get_ref());
    if lifetime == 0 {
        return Err((
            c.lifetime.as_ref().map_or(0..0, Spanned::span),
            "lifetime must be > 0 s".into(),
        ));
    }
    let mode = match c.mode.as_ref().map(|m| (m.get_ref().as_str(), m.span())) {
        None | Some(("tunnel", _)) => EncapsulationMode::Tunnel,
        Some(("transport", _)) => EncapsulationMode::Transport,
        Some((other, span)) => {
            return Err((
                span,
                format!("mode `{other}`: expected \"tunnel\" or \"transport\""),
            ));
        }
    };
    Ok(ChildPolicy {
        local: Some(local),
        remote: Some(remote),
        mode,
        esp,
        pfs_group,
        lifetime: Lifetime {
            seconds: Some(lifetime),
            kilobytes: match &c.lifetime_kilobytes {
                Some(kb) if *kb.get_ref() == 0 => {
                    return Err((kb.span(), "lifetime_kilobytes must be > 0".into()));
                }
                kb => kb.as_ref().map(|kb| *kb.get_ref()),
            },
        },
        accept_ah: c.ah.is_some(),
        ah,
        ipcomp: false,
    })
}

/// An integrity algorithm's short name, as in `aes256-sha1`.
fn parse_integrity(name: &str) -> Option<IntegrityAlgorithm> {
    Some(match name {
        "md5" => IntegrityAlgorithm::HmacMd5,
        "sha1" => IntegrityAlgorithm::HmacSha1,
        "sha256" => IntegrityAlgorithm::HmacSha256,
        "sha384" => IntegrityAlgorithm::HmacSha384,
        "sha512" => IntegrityAlgorithm::HmacSha512,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PIX: &str = r#"
listen = "192.0.2.1"

[[peer]]
address = "198.51.100.2"
psk = "mekmitasdigoat"
proposals = ["aes256-sha1-modp1536"]

[[peer.child]]
local = "10.1.0.0/24"
remote = "10.2.0.0/24"
esp = ["aes256-sha1"]
"#;

    fn check(text: &str) -> Result<DaemonConfig, ConfigError> {
        parse(Path::new("tanuki.toml"), text)
    }

    #[test]
    fn pix_seed_maps_to_engine_config() {
        let c = check(PIX).expect("valid");
        assert_eq!(c.listen, "192.0.2.1".parse::<IpAddr>().expect("ip"));
        let p = &c.endpoint.peers[0];
        assert_eq!(p.address, Some("198.51.100.2".parse().expect("ip")));
        assert_eq!(p.exchange_mode, ExchangeMode::Main);
        let prop = &p.proposals[0];
        assert_eq!(prop.cipher.algorithm(), CipherAlgorithm::Aes);
        assert_eq!(prop.cipher.key_len(), 32);
        assert_eq!(prop.hash, HashAlgorithm::Sha1);
        assert_eq!(prop.group, DhGroup::Modp1536);
        assert_eq!(prop.lifetime.effective_seconds(), 86_400);
        let child = &p.children[0];
        assert_eq!(
            child.local,
            Some(TrafficSelector::subnet("10.1.0.0".parse().expect("ip"), 24))
        );
        assert_eq!(child.lifetime.effective_seconds(), 3_600);
        assert_eq!(
            child.esp[0],
            EspTransform {
                cipher: EspCipher::AesCbc,
                key_bits: Some(256),
                integrity: Some(IntegrityAlgorithm::HmacSha1)
            }
        );
        let key = c
            .endpoint
            .psk
            .by_address("198.51.100.2".parse().expect("ip"))
            .expect("psk filed by address");
        assert_eq!(key.as_bytes(), b"mekmitasdigoat");
        assert!(!c.peers[0].passive);
    }

    #[test]
    fn gcm_pfs_aggressive_force() {
        let text = PIX
            .replace("psk =", "mode = \"aggressive\"\nnat_traversal = \"force\"\npeer_id = \"pix.example.com\"\npsk =")
            .replace("[\"aes256-sha1\"]", "[\"aes128gcm16\"]\npfs = \"modp2048\"\nlifetime = 30");
        let text = text.replace("psk =", "on_demand = true\npsk =");
        let c = check(&text).expect("valid");
        assert!(c.peers[0].on_demand);
        let p = &c.endpoint.peers[0];
        assert_eq!(p.exchange_mode, ExchangeMode::Aggressive);
        assert_eq!(p.nat_traversal, NatTraversal::Force);
        assert_eq!(
            p.peers_identifier,
            Some(Identity::Fqdn("pix.example.com".into()))
        );
        assert!(
            c.endpoint
                .psk
                .by_identity(&Identity::Fqdn("pix.example.com".into()))
                .is_some()
        );
        let child = &p.children[0];
        assert_eq!(child.esp[0].cipher, EspCipher::AesGcm16);
        assert_eq!(child.esp[0].integrity, None);
        assert_eq!(child.pfs_group, Some(DhGroup::Modp2048));
        assert_eq!(child.lifetime.effective_seconds(), 30);
    }

    /// racoon's `ike_frag` and the datagram size map onto the engine; the
    /// engine's defaults stay when the keys are absent.
    #[test]
    fn fragmentation_settings() {
        let defaults = check(PIX).expect("valid");
        assert_eq!(
            defaults.endpoint.peers[0].fragmentation,
            Fragmentation::default()
        );
        assert_eq!(
            defaults.endpoint.fragment_size,
            EndpointConfig::new(Vec::new(), PskTable::default()).fragment_size
        );
        for (word, expected) in [
            ("off", Fragmentation::Off),
            ("on", Fragmentation::On),
            ("force", Fragmentation::Force),
        ] {
            let text = PIX
                .replace("psk =", &format!("fragmentation = \"{word}\"\npsk ="))
                .replace(
                    "listen = \"192.0.2.1\"",
                    "listen = \"192.0.2.1\"\nfragment_size = 548",
                );
            let c = check(&text).expect(word);
            assert_eq!(c.endpoint.peers[0].fragmentation, expected, "{word}");
            assert_eq!(c.endpoint.fragment_size, 548);
        }
    }

    /// Each bad file names the line of the offending value and what is wrong.
    #[test]
    fn errors_name_line_and_problem() {
        let cases: &[(&str, &str, usize, &str)] = &[
            (
                "aes256-sha1-modp1536\"",
                "aes256-sha9-modp1536\"",
                7,
                "unknown hash `sha9`",
            ),
            (
                "aes256-sha1-modp1536\"",
                "aes256-sha1-modp999\"",
                7,
                "unknown DH group `modp999`",
            ),
            (
                "aes256-sha1-modp1536\"",
                "aes256-sha1\"",
                7,
                "expected CIPHER-HASH-GROUP",
            ),
            (
                "[\"aes256-sha1\"]",
                "[\"aes256\"]",
                12,
                "needs an integrity algorithm",
            ),
            ("[\"aes256-sha1\"]", "[\"aes128gcm16-sha1\"]", 12, "is AEAD"),
            ("10.2.0.0/24", "10.2.0.0/33", 11, "remote `10.2.0.0/33`"),
            ("198.51.100.2", "198.51.100.x", 5, "not an IP address"),
            (
                "listen = \"192.0.2.1\"",
                "listen = \"192.0.2.1\"\nlisten_port = 5",
                3,
                "unknown field `listen_port`",
            ),
            ("psk = \"mekmitasdigoat\"", "psk = \"mekmitasdigoat", 6, ""),
            (
                "psk = \"mekmitasdigoat\"",
                "mode = \"fast\"\npsk = \"x\"",
                6,
                "mode `fast`",
            ),
            (
                "psk = \"mekmitasdigoat\"",
                "nat_traversal = \"maybe\"\npsk = \"x\"",
                6,
                "nat_traversal `maybe`",
            ),
            (
                "psk = \"mekmitasdigoat\"",
                "fragmentation = \"yes\"\npsk = \"x\"",
                6,
                "fragmentation `yes`",
            ),
            (
                "listen = \"192.0.2.1\"",
                "listen = \"192.0.2.1\"\nfragment_size = 500",
                3,
                "fragment_size 500: expected 548 to 65507",
            ),
        ];
        for (from, to, line, what) in cases {
            let text = PIX.replacen(from, to, 1);
            let e = check(&text).expect_err(to);
            assert_eq!(e.line, *line, "{to}: {e}");
            assert!(e.message.contains(what), "{to}: {e}");
            assert!(
                e.to_string().starts_with(&format!("tanuki.toml:{line}: ")),
                "{e}"
            );
        }
    }

    #[test]
    fn missing_file_is_named() {
        let e = load(Path::new("/nonexistent/tanuki.toml")).expect_err("no file");
        assert!(
            e.to_string()
                .starts_with("/nonexistent/tanuki.toml:0: cannot read"),
            "{e}"
        );
    }

    fn kernel(extra_top: &str, extra_child: &str) -> String {
        PIX.replace(
            "listen = \"192.0.2.1\"",
            &format!("listen = \"192.0.2.1\"\ndata_path = \"kernel\"\n{extra_top}"),
        )
        .replace("esp = [", &format!("{extra_child}\nesp = ["))
    }

    #[test]
    fn kernel_data_path_and_policy_levels() {
        let user = check(PIX).expect("valid");
        assert_eq!(user.data_path, DataPathKind::User);
        assert_eq!(
            user.peers[0].child_spd,
            vec![ChildSpd {
                level: None,
                reqid: 0
            }]
        );
        let spd = |top: &str, child: &str| {
            let c = check(&kernel(top, child)).expect("valid");
            assert_eq!(c.data_path, DataPathKind::Kernel);
            c.peers[0].child_spd[0]
        };
        let none = ChildSpd {
            level: None,
            reqid: 0,
        };
        assert_eq!(spd("", ""), none);
        assert_eq!(spd("generate_policy = \"off\"", ""), none);
        // A setkey-loaded `unique:9` policy: the SAs carry reqid 9.
        assert_eq!(
            spd("", "reqid = 9"),
            ChildSpd {
                level: None,
                reqid: 9
            }
        );
        let require = ChildSpd {
            level: Some(SpdLevel::Require),
            reqid: 0,
        };
        assert_eq!(spd("generate_policy = \"on\"", ""), require);
        assert_eq!(spd("generate_policy = \"require\"", ""), require);
        assert_eq!(
            spd("generate_policy = \"on\"", "level = \"use\""),
            ChildSpd {
                level: Some(SpdLevel::Use),
                reqid: 0
            }
        );
        assert_eq!(
            spd("generate_policy = \"unique\"", ""),
            ChildSpd {
                level: Some(SpdLevel::Unique),
                reqid: 1
            }
        );
        assert_eq!(
            spd(
                "generate_policy = \"on\"",
                "level = \"unique\"\nreqid = 300"
            ),
            ChildSpd {
                level: Some(SpdLevel::Unique),
                reqid: 300
            }
        );
    }

    #[test]
    fn generated_unique_policies_get_distinct_reqids() {
        let text = kernel("generate_policy = \"unique\"", "")
            + "\n[[peer.child]]\nlocal = \"10.1.1.0/24\"\nremote = \"10.2.1.0/24\"\nesp = [\"3des-md5\"]\nreqid = 40\n"
            + "\n[[peer.child]]\nlocal = \"10.1.2.0/24\"\nremote = \"10.2.2.0/24\"\nesp = [\"aes128-sha512\"]\n";
        let c = check(&text).expect("valid");
        let reqids: Vec<u32> = c.peers[0].child_spd.iter().map(|s| s.reqid).collect();
        assert_eq!(reqids, vec![1, 40, 2]);
    }

    #[test]
    fn ah_children_for_the_kernel_data_path() {
        let ah_only =
            kernel("", "ah = [\"sha1\", \"md5\"]").replace("esp = [\"aes256-sha1\"]\n", "");
        let c = check(&ah_only).expect("AH only");
        let child = &c.endpoint.peers[0].children[0];
        assert!(child.accept_ah);
        assert!(child.esp.is_empty());
        assert_eq!(
            child.ah,
            vec![IntegrityAlgorithm::HmacSha1, IntegrityAlgorithm::HmacMd5]
        );
        // ESP first, AH as the alternative.
        let both = check(&kernel("", "ah = [\"sha512\"]")).expect("ESP or AH");
        let child = &both.endpoint.peers[0].children[0];
        assert!(child.accept_ah && child.esp.len() == 1);
        // A byte lifetime (kernel only): the kernel's soft EXPIRE at 80% rekeys.
        let kb = check(&kernel("", "lifetime_kilobytes = 4")).expect("valid");
        assert_eq!(
            kb.endpoint.peers[0].children[0].lifetime,
            Lifetime {
                seconds: Some(3600),
                kilobytes: Some(4)
            }
        );
        // Also with user-space ESP, where esp-core counts the bytes.
        let user = PIX
            .replace("listen = ", "tun = \"t0\"\nlisten = ")
            .replace("esp = [", "lifetime_kilobytes = 24\nesp = [");
        let user = check(&user).expect("valid with tun");
        assert_eq!(user.tun.as_deref(), Some("t0"));
        assert_eq!(
            user.endpoint.peers[0].children[0].lifetime.kilobytes,
            Some(24)
        );
        // No AH by default.
        assert!(!check(PIX).expect("valid").endpoint.peers[0].children[0].accept_ah);
        let cases: &[(String, usize, &str)] = &[
            (
                PIX.replace("esp = [", "ah = [\"sha1\"]\nesp = ["),
                12,
                "ah needs data_path = \"kernel\"",
            ),
            (
                kernel("", "ah = [\"sha256\"]"),
                14,
                "ah `sha256`: Linux's PF_KEY installs HMAC-SHA-256 with a 96-bit ICV",
            ),
            (
                kernel("", "ah = [\"sha3\"]"),
                14,
                "ah `sha3`: unknown algorithm",
            ),
            (kernel("", "ah = []"), 14, "ah is empty"),
            (
                kernel("", "lifetime_kilobytes = 0"),
                14,
                "lifetime_kilobytes must be > 0",
            ),
            (
                PIX.replace("esp = [", "lifetime_kilobytes = 9\nesp = ["),
                12,
                "lifetime_kilobytes needs a data path that counts an SA's bytes: `tun` \
                 (user-space ESP) or data_path = \"kernel\"",
            ),
            (
                PIX.replace("esp = [\"aes256-sha1\"]\n", ""),
                10,
                "this child has no `esp` (nor `ah`)",
            ),
        ];
        for (text, line, what) in cases {
            let e = check(text).expect_err(what);
            assert_eq!(e.line, *line, "{what}: {e}\n{text}");
            assert!(e.message.contains(what), "{what}: {e}");
        }
    }

    #[test]
    fn kernel_config_errors_name_line_and_problem() {
        let cases: &[(String, usize, &str)] = &[
            (
                kernel("", "").replace("[\"aes256-sha1\"]", "[\"aes128gcm16\"]"),
                15,
                "esp `aes128gcm16` (aes-gcm-16-128): AEAD transforms cannot be installed through PF_KEY on Linux",
            ),
            (
                kernel("", "").replace("[\"aes256-sha1\"]", "[\"aes256-sha1\", \"aes256gcm16\"]"),
                15,
                "use the user-space data path (data_path = \"user\" with `tun`) or install the SAs with `ip xfrm`",
            ),
            (
                kernel("", "").replace("[\"aes256-sha1\"]", "[\"aes128-sha256\"]"),
                15,
                "esp `aes128-sha256` (aes-128/hmac_sha256): Linux's PF_KEY installs HMAC-SHA-256 with a 96-bit ICV",
            ),
            (
                kernel("", "").replace("\"kernel\"", "\"xfrm\""),
                3,
                "data_path `xfrm`: expected \"user\" or \"kernel\"",
            ),
            (kernel("tun = \"t0\"", ""), 3, "remove `tun`"),
            (
                kernel("generate_policy = \"always\"", ""),
                4,
                "generate_policy `always`",
            ),
            (
                PIX.replace(
                    "listen = \"192.0.2.1\"",
                    "listen = \"192.0.2.1\"\ngenerate_policy = \"on\"",
                ),
                3,
                "it needs data_path = \"kernel\"",
            ),
            (
                kernel("", "level = \"use\""),
                14,
                "level applies to generated policies",
            ),
            (
                kernel("generate_policy = \"on\"", "level = \"must\""),
                14,
                "level `must`",
            ),
            (
                kernel("generate_policy = \"on\"", "reqid = 5"),
                14,
                "reqid is for `unique` policies; with level require",
            ),
            (
                kernel("generate_policy = \"unique\"", "reqid = 16384"),
                14,
                "reqid 16384: expected 1..=16383",
            ),
            (kernel("", "reqid = 0"), 14, "reqid 0: expected 1..=16383"),
        ];
        for (text, line, what) in cases {
            let e = check(text).expect_err(what);
            assert_eq!(e.line, *line, "{what}: {e}\n{text}");
            assert!(e.message.contains(what), "{what}: {e}");
        }
    }

    #[test]
    fn active_peer_without_child_is_refused() {
        let text = PIX.split("[[peer.child]]").next().expect("head").to_owned();
        let e = check(&text).expect_err("no child");
        assert!(
            e.message.contains("needs at least one [[peer.child]]"),
            "{e}"
        );
        let passive = text.replace("psk =", "passive = true\npsk =");
        assert!(check(&passive).is_ok());
    }
}
