//! Kernel ESP <-> esp-core cross-check: the cases, the `ip xfrm` commands
//! that install each case in the kernel, and the checks on both sides.
//!
//! Everything runs in the guest's root namespace over `lo`: both ends of an
//! SA are local addresses, so the kernel's outbound ESP loops back where a
//! packet socket can read it, and a raw socket can hand the kernel ESP that
//! esp-core built.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::{Command, Stdio};

use esp_core::crypto::{EncryptionAlgorithm as Enc, IntegrityAlgorithm as Integ};
use esp_core::{InboundSa, Mode, OutboundSa, SaConfig, UdpEncap};
use ipsec_examples::input::{parse_hex, to_hex};
use serde::{Deserialize, Serialize};

/// The NAT-T port (RFC 3948 §2.1).
const NAT_T_PORT: u16 = 4500;
/// Source port of the datagrams esp-core builds.
pub(crate) const ESP_CORE_SRC_PORT: u16 = 40000;
const IPPROTO_ESP: u8 = 50;
const IPPROTO_UDP: u8 = 17;

/// One SA shape. Each case gets its own addresses, SPIs and reqids, so all
/// cases can sit in one kernel at once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Case {
    pub(crate) name: &'static str,
    v6: bool,
    tunnel: bool,
    encryption: Enc,
    /// Cipher key length without the salt.
    key_len: usize,
    integrity: Option<Integ>,
    esn: bool,
    udp_encap: bool,
}

const fn case(
    name: &'static str,
    v6: bool,
    tunnel: bool,
    encryption: Enc,
    key_len: usize,
    integrity: Option<Integ>,
) -> Case {
    Case {
        name,
        v6,
        tunnel,
        encryption,
        key_len,
        integrity,
        esn: false,
        udp_encap: false,
    }
}

impl Case {
    pub(crate) const fn udp_encap(&self) -> bool {
        self.udp_encap
    }

    const fn with_esn(mut self) -> Self {
        self.esn = true;
        self
    }

    const fn with_udp_encap(mut self) -> Self {
        self.udp_encap = true;
        self
    }
}

const V4: bool = false;
const V6: bool = true;
const TRANSPORT: bool = false;
const TUNNEL: bool = true;

/// Every transform esp-core and the kernel share, in both modes and both
/// families, plus ESN (with the high 32 bits in use) and NAT-T.
pub(crate) const CASES: [Case; 20] = [
    case(
        "aes128cbc-sha1-transport-v4",
        V4,
        TRANSPORT,
        Enc::AesCbc,
        16,
        Some(Integ::HmacSha1_96),
    ),
    case(
        "aes256cbc-sha256-tunnel-v4",
        V4,
        TUNNEL,
        Enc::AesCbc,
        32,
        Some(Integ::HmacSha256_128),
    ),
    case(
        "aes192cbc-sha384-transport-v6",
        V6,
        TRANSPORT,
        Enc::AesCbc,
        24,
        Some(Integ::HmacSha384_192),
    ),
    case(
        "aes128cbc-sha512-tunnel-v6",
        V6,
        TUNNEL,
        Enc::AesCbc,
        16,
        Some(Integ::HmacSha512_256),
    ),
    case(
        "3des-md5-transport-v4",
        V4,
        TRANSPORT,
        Enc::TripleDesCbc,
        24,
        Some(Integ::HmacMd5_96),
    ),
    case(
        "aes128ctr-sha1-transport-v4",
        V4,
        TRANSPORT,
        Enc::AesCtr,
        16,
        Some(Integ::HmacSha1_96),
    ),
    case(
        "aes256ctr-sha256-tunnel-v6",
        V6,
        TUNNEL,
        Enc::AesCtr,
        32,
        Some(Integ::HmacSha256_128),
    ),
    case(
        "aes128gcm16-transport-v4",
        V4,
        TRANSPORT,
        Enc::AesGcm16,
        16,
        None,
    ),
    case("aes128gcm8-tunnel-v4", V4, TUNNEL, Enc::AesGcm8, 16, None),
    case(
        "aes256gcm12-transport-v6",
        V6,
        TRANSPORT,
        Enc::AesGcm12,
        32,
        None,
    ),
    case("aes256gcm16-tunnel-v6", V6, TUNNEL, Enc::AesGcm16, 32, None),
    case(
        "aes128gmac-transport-v4",
        V4,
        TRANSPORT,
        Enc::AesGmac,
        16,
        None,
    ),
    case(
        "chacha20poly1305-transport-v4",
        V4,
        TRANSPORT,
        Enc::ChaCha20Poly1305,
        32,
        None,
    ),
    case(
        "chacha20poly1305-tunnel-v6",
        V6,
        TUNNEL,
        Enc::ChaCha20Poly1305,
        32,
        None,
    ),
    case(
        "null-sha256-transport-v4",
        V4,
        TRANSPORT,
        Enc::Null,
        0,
        Some(Integ::HmacSha256_128),
    ),
    // The pre-RFC 4868 truncation old Linux used for "sha256" via PF_KEY.
    case(
        "aes128cbc-sha256trunc96-transport-v4",
        V4,
        TRANSPORT,
        Enc::AesCbc,
        16,
        Some(Integ::HmacSha256_96),
    ),
    case(
        "aes128cbc-sha256-esn-transport-v4",
        V4,
        TRANSPORT,
        Enc::AesCbc,
        16,
        Some(Integ::HmacSha256_128),
    )
    .with_esn(),
    case(
        "aes128gcm16-esn-tunnel-v6",
        V6,
        TUNNEL,
        Enc::AesGcm16,
        16,
        None,
    )
    .with_esn(),
    case(
        "aes128cbc-sha1-natt-transport-v4",
        V4,
        TRANSPORT,
        Enc::AesCbc,
        16,
        Some(Integ::HmacSha1_96),
    )
    .with_udp_encap(),
    case(
        "aes256gcm16-natt-tunnel-v4",
        V4,
        TUNNEL,
        Enc::AesGcm16,
        32,
        None,
    )
    .with_udp_encap(),
];

/// Which way the case's packet goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// The kernel encrypts, esp-core decrypts.
    KernelToEspCore,
    /// esp-core encrypts, the kernel decrypts.
    EspCoreToKernel,
}

/// ESN cases start each direction just below a 2^32 boundary multiple, so
/// the high half of the sequence number is in use (RFC 4303 §2.2.1).
const KERNEL_TO_ESP_CORE_LAST_SEQ: u64 = 0x1_0000_0010;
const ESP_CORE_TO_KERNEL_FIRST_SEQ: u64 = 0x2_0000_0005;

/// The addresses, SPI, keys and ports of one case in one direction.
#[derive(Debug, Clone)]
pub(crate) struct Instance {
    pub(crate) case: Case,
    pub(crate) direction: Direction,
    pub(crate) spi: u32,
    reqid: u32,
    pub(crate) outer_src: IpAddr,
    pub(crate) outer_dst: IpAddr,
    pub(crate) inner_src: IpAddr,
    pub(crate) inner_dst: IpAddr,
    pub(crate) dst_port: u16,
    encryption_key: Vec<u8>,
    integrity_key: Option<Vec<u8>>,
}

impl Instance {
    /// Case number `n` (from 1) in `direction`.
    pub(crate) fn new(n: u8, case: Case, direction: Direction) -> Self {
        let d = match direction {
            Direction::KernelToEspCore => 0u8,
            Direction::EspCoreToKernel => 1u8,
        };
        // fd77::n:x / 10.77.n.x outside, fd78::n:x / 10.78.n.x inside a
        // tunnel.
        let addr = |inside: bool, host: u8| -> IpAddr {
            if case.v6 {
                let prefix = if inside { 0xfd78 } else { 0xfd77 };
                IpAddr::V6(Ipv6Addr::new(
                    prefix,
                    0,
                    0,
                    0,
                    0,
                    0,
                    u16::from(n),
                    u16::from(host),
                ))
            } else {
                let net = if inside { 78 } else { 77 };
                IpAddr::V4(Ipv4Addr::new(10, net, n, host))
            }
        };
        let (outer_src, outer_dst) = (addr(false, 1), addr(false, 2));
        let (inner_src, inner_dst) = if case.tunnel {
            (addr(true, 1), addr(true, 2))
        } else {
            (outer_src, outer_dst)
        };
        let material = |len: usize, seed: u8| -> Vec<u8> {
            (0..len)
                .map(|i| seed ^ n.wrapping_mul(29) ^ (i as u8).wrapping_mul(7))
                .collect()
        };
        let material_len = case.key_len + case.encryption.salt_len();
        Self {
            case,
            direction,
            spi: 0x4b00_0000 | (u32::from(n) << 8) | u32::from(d),
            reqid: u32::from(n) * 2 + u32::from(d),
            outer_src,
            outer_dst,
            inner_src,
            inner_dst,
            dst_port: 6000 + u16::from(n) * 2 + u16::from(d),
            encryption_key: material(material_len, 0x30 + d),
            integrity_key: case.integrity.map(|a| material(a.key_len(), 0xa0 + d)),
        }
    }

    /// The same SA as esp-core sees it.
    pub(crate) fn sa_config(&self) -> SaConfig {
        let mode = if self.case.tunnel {
            Mode::Tunnel
        } else {
            Mode::Transport
        };
        let mut config = SaConfig::new(self.spi, mode, self.case.encryption, &self.encryption_key);
        if let (Some(alg), Some(key)) = (self.case.integrity, &self.integrity_key) {
            config = config.with_integrity(alg, key);
        }
        if self.case.esn {
            config = config.with_esn(true).with_replay_window(128);
        }
        if self.case.udp_encap {
            config = config.with_udp_encap(UdpEncap {
                src_port: NAT_T_PORT,
                dst_port: NAT_T_PORT,
            });
        }
        config
    }

    /// `ip` argument lists that install this instance in the kernel.
    pub(crate) fn ip_commands(&self) -> Vec<Vec<String>> {
        let c = &self.case;
        let mode = if c.tunnel { "tunnel" } else { "transport" };
        let mut state: Vec<String> = vec![
            "xfrm".into(),
            "state".into(),
            "add".into(),
            "src".into(),
            self.outer_src.to_string(),
            "dst".into(),
            self.outer_dst.to_string(),
            "proto".into(),
            "esp".into(),
            "spi".into(),
            format!("{:#x}", self.spi),
            "reqid".into(),
            self.reqid.to_string(),
            "mode".into(),
            mode.into(),
        ];
        if c.esn {
            // iproute2 takes the replay state in 32-bit halves.
            let (seq, oseq) = match self.direction {
                Direction::KernelToEspCore => (0, KERNEL_TO_ESP_CORE_LAST_SEQ),
                Direction::EspCoreToKernel => (ESP_CORE_TO_KERNEL_FIRST_SEQ - 1, 0),
            };
            for arg in [
                "flag".to_string(),
                "esn".into(),
                "replay-window".into(),
                "128".into(),
                "replay-seq".into(),
                format!("{:#x}", seq & 0xffff_ffff),
                "replay-seq-hi".into(),
                format!("{:#x}", seq >> 32),
                "replay-oseq".into(),
                format!("{:#x}", oseq & 0xffff_ffff),
                "replay-oseq-hi".into(),
                format!("{:#x}", oseq >> 32),
            ] {
                state.push(arg);
            }
        }
        if c.udp_encap {
            for arg in ["encap", "espinudp", "4500", "4500", "0.0.0.0"] {
                state.push(arg.into());
            }
        }
        state.extend(kernel_algorithms(
            c.encryption,
            &self.encryption_key,
            c.integrity.zip(self.integrity_key.as_deref()),
        ));

        let policy_dir = match self.direction {
            Direction::KernelToEspCore => "out",
            // Tunnel-mode input without a matching policy is dropped
            // (XfrmInNoPols); transport mode needs none.
            Direction::EspCoreToKernel if c.tunnel => "in",
            Direction::EspCoreToKernel => return vec![state],
        };
        let policy: Vec<String> = [
            "xfrm",
            "policy",
            "add",
            "src",
            &self.inner_src.to_string(),
            "dst",
            &self.inner_dst.to_string(),
            "proto",
            "udp",
            "dport",
            &self.dst_port.to_string(),
            "dir",
            policy_dir,
            "tmpl",
            "src",
            &self.outer_src.to_string(),
            "dst",
            &self.outer_dst.to_string(),
            "proto",
            "esp",
            "reqid",
            &self.reqid.to_string(),
            "mode",
            mode,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        vec![state, policy]
    }

    /// The UDP payload of this instance's one datagram.
    pub(crate) fn payload(&self) -> Vec<u8> {
        let way = match self.direction {
            Direction::KernelToEspCore => "kernel->esp-core",
            Direction::EspCoreToKernel => "esp-core->kernel",
        };
        format!("kvm-esp {} {way}", self.case.name).into_bytes()
    }

    /// Builds the ESP packet for `inner` (a whole IP packet) with esp-core,
    /// as the raw socket must send it: with its outer IP header.
    pub(crate) fn esp_core_encapsulate(&self, inner: &[u8]) -> Result<Vec<u8>, String> {
        let mut tx = OutboundSa::new(&self.sa_config()).map_err(|e| format!("OutboundSa: {e}"))?;
        if self.case.esn {
            tx.set_next_sequence(ESP_CORE_TO_KERNEL_FIRST_SEQ)
                .map_err(|e| format!("set_next_sequence: {e}"))?;
        }
        // One packet per SA and key, so a fixed IV repeats nothing.
        let iv = vec![0x5a; self.case.encryption.iv_len()];
        let mut out = vec![0u8; 2048];
        let esp = tx
            .encapsulate_with_iv(&iv, inner, &mut out)
            .map_err(|e| format!("encapsulate: {e}"))?
            .to_vec();
        if !self.case.tunnel {
            return Ok(esp);
        }
        let protocol = if self.case.udp_encap {
            IPPROTO_UDP
        } else {
            IPPROTO_ESP
        };
        let mut packet = vec![0u8; esp_core::outer::header_len(self.outer_dst)];
        esp_core::outer::emit(
            self.outer_src,
            self.outer_dst,
            protocol,
            esp_core::outer::DEFAULT_TTL,
            1,
            esp.len(),
            &mut packet,
        )
        .map_err(|e| format!("outer header: {e}"))?;
        packet.extend_from_slice(&esp);
        if self.case.udp_encap && self.case.v6 {
            esp_core::outer::fill_udp_checksum_ipv6(&mut packet)
                .map_err(|e| format!("UDP checksum: {e}"))?;
        }
        Ok(packet)
    }

    /// Whether `packet` (a whole IP packet) is this instance's ESP.
    pub(crate) fn is_our_esp(&self, packet: &[u8]) -> bool {
        esp_spi(packet, self.case.udp_encap) == Some(self.spi)
    }

    /// A recording of the kernel's ESP packet for this instance.
    pub(crate) fn record(&self, kernel: &str, packet: &[u8]) -> Recording {
        Recording {
            case: self.case.name.into(),
            kernel: kernel.into(),
            ip_commands: self.ip_commands().iter().map(|c| c.join(" ")).collect(),
            spi: self.spi,
            tunnel: self.case.tunnel,
            encryption: self.case.encryption.name().into(),
            encryption_key: to_hex(&self.encryption_key),
            integrity: self.case.integrity.map(|a| a.name().into()),
            integrity_key: self.integrity_key.as_deref().map(to_hex),
            esn: self.case.esn,
            resume_after: if self.case.esn {
                KERNEL_TO_ESP_CORE_LAST_SEQ
            } else {
                0
            },
            udp_encap: self.case.udp_encap,
            packet: to_hex(packet),
            outer_src: self.outer_src,
            outer_dst: self.outer_dst,
            inner_src: self.inner_src,
            inner_dst: self.inner_dst,
            dst_port: self.dst_port,
            payload: to_hex(&self.payload()),
        }
    }
}

/// `ip xfrm state` algorithm arguments for an esp-core transform.
fn kernel_algorithms(enc: Enc, key: &[u8], integrity: Option<(Integ, &[u8])>) -> Vec<String> {
    let hex = |k: &[u8]| {
        if k.is_empty() {
            String::new()
        } else {
            format!("0x{}", to_hex(k))
        }
    };
    let aead =
        |name: &str, icv_bits: &str| vec!["aead".into(), name.into(), hex(key), icv_bits.into()];
    let mut args: Vec<String> = match enc {
        Enc::Null => vec!["enc".into(), "ecb(cipher_null)".into(), String::new()],
        Enc::AesCbc => vec!["enc".into(), "cbc(aes)".into(), hex(key)],
        Enc::TripleDesCbc => vec!["enc".into(), "cbc(des3_ede)".into(), hex(key)],
        Enc::AesCtr => vec!["enc".into(), "rfc3686(ctr(aes))".into(), hex(key)],
        Enc::AesGcm8 => aead("rfc4106(gcm(aes))", "64"),
        Enc::AesGcm12 => aead("rfc4106(gcm(aes))", "96"),
        Enc::AesGcm16 => aead("rfc4106(gcm(aes))", "128"),
        Enc::AesGmac => aead("rfc4543(gcm(aes))", "128"),
        Enc::ChaCha20Poly1305 => aead("rfc7539esp(chacha20,poly1305)", "128"),
        other => panic!("no kernel name for {other:?}"),
    };
    if let Some((alg, key)) = integrity {
        let (name, bits) = match alg {
            Integ::HmacMd5_96 => ("hmac(md5)", 96),
            Integ::HmacSha1_96 => ("hmac(sha1)", 96),
            Integ::HmacSha256_128 => ("hmac(sha256)", 128),
            Integ::HmacSha256_96 => ("hmac(sha256)", 96),
            Integ::HmacSha384_192 => ("hmac(sha384)", 192),
            Integ::HmacSha512_256 => ("hmac(sha512)", 256),
            other => panic!("no kernel name for {other:?}"),
        };
        args.extend(["auth-trunc".into(), name.into(), hex(key), bits.to_string()]);
    }
    args
}

/// Runs the `ip` commands in one `ip -batch` (one process start instead of
/// several: they are slow under TCG); the error carries ip's stderr.
pub(crate) fn ip_batch(commands: &[Vec<String>]) -> Result<(), String> {
    // Batch lines are split at blanks; quotes keep an empty key an argument.
    let script: String = commands
        .iter()
        .map(|args| {
            let quoted: Vec<String> = args.iter().map(|a| format!("\"{a}\"")).collect();
            quoted.join(" ") + "\n"
        })
        .collect();
    let mut child = Command::new("ip")
        .args(["-batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("ip: {e}"))?;
    child
        .stdin
        .take()
        .ok_or("ip stdin")?
        .write_all(script.as_bytes())
        .map_err(|e| format!("ip stdin: {e}"))?;
    let out = child.wait_with_output().map_err(|e| format!("ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip -batch: {}\n{script}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The SPI of an ESP (or, with `udp`, ESP-in-UDP to port 4500) packet.
fn esp_spi(packet: &[u8], udp: bool) -> Option<u32> {
    let (protocol, header_len) = match packet.first()? >> 4 {
        4 => (*packet.get(9)?, usize::from(packet.first()? & 0x0f) * 4),
        6 => (*packet.get(6)?, 40),
        _ => return None,
    };
    let at = match (protocol, udp) {
        (IPPROTO_ESP, false) => header_len,
        (IPPROTO_UDP, true) => {
            let dport = packet.get(header_len + 2..header_len + 4)?;
            if dport != NAT_T_PORT.to_be_bytes() {
                return None;
            }
            header_len + 8
        }
        _ => return None,
    };
    let spi = packet.get(at..at + 4)?;
    Some(u32::from_be_bytes(spi.try_into().ok()?))
}

/// An IPv4 or IPv6 packet holding one UDP datagram, checksum filled in.
pub(crate) fn udp_packet(
    src: IpAddr,
    dst: IpAddr,
    src_port: u16,
    dst_port: u16,
    payload: &[u8],
) -> Vec<u8> {
    let udp_len = u16::try_from(8 + payload.len()).unwrap();
    let mut udp = Vec::with_capacity(usize::from(udp_len));
    udp.extend_from_slice(&src_port.to_be_bytes());
    udp.extend_from_slice(&dst_port.to_be_bytes());
    udp.extend_from_slice(&udp_len.to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(payload);

    // RFC 768 / RFC 8200 §8.1 pseudo-header.
    let mut pseudo = Vec::new();
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            pseudo.extend_from_slice(&s.octets());
            pseudo.extend_from_slice(&d.octets());
            pseudo.extend_from_slice(&[0, IPPROTO_UDP]);
            pseudo.extend_from_slice(&udp_len.to_be_bytes());
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            pseudo.extend_from_slice(&s.octets());
            pseudo.extend_from_slice(&d.octets());
            pseudo.extend_from_slice(&u32::from(udp_len).to_be_bytes());
            pseudo.extend_from_slice(&[0, 0, 0, IPPROTO_UDP]);
        }
        _ => panic!("mixed address families"),
    }
    pseudo.extend_from_slice(&udp);
    let sum = match internet_checksum(&pseudo) {
        0 => 0xffff,
        s => s,
    };
    udp[6..8].copy_from_slice(&sum.to_be_bytes());

    let mut packet = vec![0u8; esp_core::outer::header_len(dst)];
    esp_core::outer::emit(src, dst, IPPROTO_UDP, 64, 7, udp.len(), &mut packet).unwrap();
    packet.extend_from_slice(&udp);
    packet
}

/// RFC 1071 one's-complement sum.
fn internet_checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for pair in data.chunks(2) {
        let word = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
        sum += u32::from(word);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A kernel-made ESP packet with everything needed to check it without the
/// kernel: the SA, the packet as captured, and what it must decrypt to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Recording {
    pub(crate) case: String,
    /// `uname -r` of the kernel that encrypted it.
    pub(crate) kernel: String,
    /// How the SA was installed, for a reader.
    pub(crate) ip_commands: Vec<String>,
    pub(crate) spi: u32,
    pub(crate) tunnel: bool,
    pub(crate) encryption: String,
    pub(crate) encryption_key: String,
    pub(crate) integrity: Option<String>,
    pub(crate) integrity_key: Option<String>,
    pub(crate) esn: bool,
    /// The highest sequence number seen before this packet (ESN cases).
    pub(crate) resume_after: u64,
    pub(crate) udp_encap: bool,
    /// The whole IP packet, hex.
    pub(crate) packet: String,
    pub(crate) outer_src: IpAddr,
    pub(crate) outer_dst: IpAddr,
    pub(crate) inner_src: IpAddr,
    pub(crate) inner_dst: IpAddr,
    pub(crate) dst_port: u16,
    pub(crate) payload: String,
}

impl Recording {
    /// Decrypts the packet with esp-core and checks the inner datagram.
    pub(crate) fn check_with_esp_core(&self) -> Result<(), String> {
        let encryption = Enc::from_name(&self.encryption)
            .ok_or_else(|| format!("unknown encryption {}", self.encryption))?;
        let key = parse_hex(&self.encryption_key)?;
        let mode = if self.tunnel {
            Mode::Tunnel
        } else {
            Mode::Transport
        };
        let mut config = SaConfig::new(self.spi, mode, encryption, &key);
        if let (Some(name), Some(key)) = (&self.integrity, &self.integrity_key) {
            let alg = Integ::from_name(name).ok_or_else(|| format!("unknown integrity {name}"))?;
            config = config.with_integrity(alg, &parse_hex(key)?);
        }
        if self.esn {
            config = config.with_esn(true).with_replay_window(128);
        }
        if self.udp_encap {
            config = config.with_udp_encap(UdpEncap {
                src_port: NAT_T_PORT,
                dst_port: NAT_T_PORT,
            });
        }
        let mut rx = InboundSa::new(&config).map_err(|e| format!("InboundSa: {e}"))?;
        if self.resume_after > 0 {
            rx.resume_after(self.resume_after);
        }
        let mut packet = parse_hex(&self.packet)?;
        let inner = if self.tunnel {
            let (outer, range) =
                esp_core::outer::strip(&packet).map_err(|e| format!("outer header: {e}"))?;
            if (outer.src, outer.dst) != (self.outer_src, self.outer_dst) {
                return Err(format!("outer addresses {outer:?}"));
            }
            let body = packet.get_mut(range).ok_or("outer range")?;
            let d = rx
                .decapsulate(body)
                .map_err(|e| format!("decapsulate: {e}"))?;
            let want = if self.inner_dst.is_ipv4() { 4 } else { 41 };
            if d.next_header != want {
                return Err(format!("next header {} in tunnel mode", d.next_header));
            }
            if self.esn && d.sequence != self.resume_after + 1 {
                return Err(format!("sequence {:#x}", d.sequence));
            }
            d.data.to_vec()
        } else {
            let d = rx
                .decapsulate(&mut packet)
                .map_err(|e| format!("decapsulate: {e}"))?;
            if self.esn && d.sequence != self.resume_after + 1 {
                return Err(format!("sequence {:#x}", d.sequence));
            }
            d.data.to_vec()
        };
        check_udp_packet(
            &inner,
            self.inner_src,
            self.inner_dst,
            self.dst_port,
            &parse_hex(&self.payload)?,
        )
    }
}

impl Recording {
    /// Arguments and input for `ipsec-inspect esp decap` on this packet.
    /// The tool takes IPv4 packets whole; for IPv6 it gets what follows the
    /// fixed header (this project's captures carry no extension headers).
    pub(crate) fn ipsec_inspect_decap(&self) -> Result<(Vec<String>, String), String> {
        let mut args = vec![
            "esp".to_string(),
            "decap".into(),
            "--spi".into(),
            format!("{:08x}", self.spi),
            "--enc".into(),
            format!("{}:{}", self.encryption, self.encryption_key),
            "--mode".into(),
            if self.tunnel { "tunnel" } else { "transport" }.into(),
        ];
        if let (Some(name), Some(key)) = (&self.integrity, &self.integrity_key) {
            args.extend(["--auth".into(), format!("{name}:{key}")]);
        }
        if self.esn {
            args.extend([
                "--esn-high".into(),
                ((self.resume_after + 1) >> 32).to_string(),
            ]);
        }
        if self.udp_encap {
            args.push("--udp-encap".into());
        }
        args.push("-".into());
        let packet = parse_hex(&self.packet)?;
        let input = if self.outer_dst.is_ipv6() {
            packet.get(40..).ok_or("short IPv6 packet")?
        } else {
            &packet[..]
        };
        Ok((args, to_hex(input)))
    }

    /// The UDP payload, hex.
    pub(crate) fn payload_hex(&self) -> &str {
        &self.payload
    }
}

/// `packet` is one IP packet from `src` to `dst` holding a UDP datagram to
/// `dst_port` with `payload`.
fn check_udp_packet(
    packet: &[u8],
    src: IpAddr,
    dst: IpAddr,
    dst_port: u16,
    payload: &[u8],
) -> Result<(), String> {
    let (got_src, got_dst, protocol, header_len): (IpAddr, IpAddr, u8, usize) =
        match packet.first().map(|b| b >> 4) {
            Some(4) if packet.len() >= 20 => {
                let s: [u8; 4] = packet[12..16].try_into().unwrap();
                let d: [u8; 4] = packet[16..20].try_into().unwrap();
                (
                    s.into(),
                    d.into(),
                    packet[9],
                    usize::from(packet[0] & 0x0f) * 4,
                )
            }
            Some(6) if packet.len() >= 40 => {
                let s: [u8; 16] = packet[8..24].try_into().unwrap();
                let d: [u8; 16] = packet[24..40].try_into().unwrap();
                (s.into(), d.into(), packet[6], 40)
            }
            _ => return Err(format!("not an IP packet: {}", to_hex(packet))),
        };
    if (got_src, got_dst) != (src, dst) {
        return Err(format!("inner addresses {got_src} -> {got_dst}"));
    }
    if protocol != IPPROTO_UDP {
        return Err(format!("inner protocol {protocol}"));
    }
    let udp = packet.get(header_len..).ok_or("no UDP header")?;
    if udp.len() < 8 || u16::from_be_bytes([udp[2], udp[3]]) != dst_port {
        return Err(format!("UDP header {}", to_hex(udp)));
    }
    if usize::from(u16::from_be_bytes([udp[4], udp[5]])) != udp.len() {
        return Err(format!(
            "UDP length {} in {} bytes",
            to_hex(&udp[4..6]),
            udp.len()
        ));
    }
    if &udp[8..] != payload {
        return Err(format!("UDP payload {}", to_hex(&udp[8..])));
    }
    Ok(())
}
