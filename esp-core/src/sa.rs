//! Security association parameters and the state shared by both directions.

use zeroize::Zeroizing;

use crate::crypto::{
    CryptoBackend, EncryptionAlgorithm, EspCipher, EspIntegrity, IntegrityAlgorithm,
};
use crate::error::ConfigError;
use crate::lifetime::Lifetimes;
use crate::replay::{MAX_WINDOW, MIN_WINDOW};

/// How the protected packet relates to the ESP packet (RFC 4301 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The payload is a whole inner IPv4 or IPv6 packet.
    Tunnel,
    /// ESP sits between the IP header and the upper-layer protocol.
    Transport,
}

/// UDP encapsulation for NAT traversal (RFC 3948).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpEncap {
    /// Our port (usually 4500).
    pub src_port: u16,
    /// The peer's port (4500, or whatever the NAT mapped it to).
    pub dst_port: u16,
}

/// Everything needed to build an [`OutboundSa`](crate::OutboundSa) or
/// [`InboundSa`](crate::InboundSa). Keys are zeroized on drop and never
/// printed.
#[derive(Clone)]
pub struct SaConfig {
    /// Security Parameters Index.
    pub spi: u32,
    /// Tunnel or transport.
    pub mode: Mode,
    /// The encryption (or combined-mode) transform.
    pub encryption: EncryptionAlgorithm,
    /// Keying material for it: the key followed by the 4-byte salt/nonce
    /// for AES-CTR, AES-GCM, AES-GMAC and ChaCha20-Poly1305 (RFC 3686 §5.1,
    /// RFC 4106 §8.1, RFC 4543 §5, RFC 7634 §3), as IKE's KEYMAT yields it.
    pub encryption_key: Zeroizing<Vec<u8>>,
    /// The separate integrity transform and its key; `None` for
    /// combined-mode algorithms (and encryption-only SAs).
    pub integrity: Option<(IntegrityAlgorithm, Zeroizing<Vec<u8>>)>,
    /// Extended (64-bit) sequence numbers, RFC 4303 §2.2.1.
    pub esn: bool,
    /// Anti-replay window in packets: 0 disables, otherwise 32..=4096.
    pub replay_window: u32,
    /// UDP encapsulation ports, when NAT traversal is in use.
    pub udp_encap: Option<UdpEncap>,
    /// Soft and hard lifetimes.
    pub lifetimes: Lifetimes,
    /// Alignment of the encrypted part, a multiple of 4 and of the block
    /// size; 0 picks the minimum (RFC 4303 §2.4).
    pub pad_alignment: usize,
    /// Traffic-flow-confidentiality padding: in tunnel mode, pad every inner
    /// packet shorter than this with zeros up to this length (RFC 4303 §2.7).
    pub tfc_pad_to: Option<usize>,
}

impl core::fmt::Debug for SaConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SaConfig")
            .field("spi", &format_args!("{:#010x}", self.spi))
            .field("mode", &self.mode)
            .field("encryption", &self.encryption)
            .field("encryption_key_len", &self.encryption_key.len())
            .field(
                "integrity",
                &self.integrity.as_ref().map(|(a, k)| (a, k.len())),
            )
            .field("esn", &self.esn)
            .field("replay_window", &self.replay_window)
            .field("udp_encap", &self.udp_encap)
            .field("lifetimes", &self.lifetimes)
            .field("pad_alignment", &self.pad_alignment)
            .field("tfc_pad_to", &self.tfc_pad_to)
            .finish()
    }
}

impl SaConfig {
    /// A configuration with a 64-packet replay window, no ESN, no UDP
    /// encapsulation, no lifetimes and minimal padding.
    pub fn new(spi: u32, mode: Mode, encryption: EncryptionAlgorithm, key: &[u8]) -> Self {
        Self {
            spi,
            mode,
            encryption,
            encryption_key: Zeroizing::new(key.to_vec()),
            integrity: None,
            esn: false,
            replay_window: 64,
            udp_encap: None,
            lifetimes: Lifetimes::default(),
            pad_alignment: 0,
            tfc_pad_to: None,
        }
    }

    /// Adds a separate integrity transform.
    pub fn with_integrity(mut self, algorithm: IntegrityAlgorithm, key: &[u8]) -> Self {
        self.integrity = Some((algorithm, Zeroizing::new(key.to_vec())));
        self
    }

    /// Turns extended sequence numbers on or off.
    pub fn with_esn(mut self, esn: bool) -> Self {
        self.esn = esn;
        self
    }

    /// Sets the replay window size.
    pub fn with_replay_window(mut self, packets: u32) -> Self {
        self.replay_window = packets;
        self
    }

    /// Turns on UDP encapsulation.
    pub fn with_udp_encap(mut self, encap: UdpEncap) -> Self {
        self.udp_encap = Some(encap);
        self
    }

    /// Sets the lifetimes.
    pub fn with_lifetimes(mut self, lifetimes: Lifetimes) -> Self {
        self.lifetimes = lifetimes;
        self
    }

    /// Sets the padding alignment.
    pub fn with_pad_alignment(mut self, alignment: usize) -> Self {
        self.pad_alignment = alignment;
        self
    }

    /// Sets TFC padding.
    pub fn with_tfc_padding(mut self, pad_to: usize) -> Self {
        self.tfc_pad_to = Some(pad_to);
        self
    }
}

/// The validated, keyed state both directions share.
pub(crate) struct SaCore {
    pub(crate) spi: u32,
    pub(crate) mode: Mode,
    pub(crate) encryption: EncryptionAlgorithm,
    pub(crate) cipher: Box<dyn EspCipher>,
    pub(crate) integrity: Option<Box<dyn EspIntegrity>>,
    pub(crate) iv_len: usize,
    pub(crate) icv_len: usize,
    pub(crate) alignment: usize,
    pub(crate) esn: bool,
    pub(crate) udp_encap: Option<UdpEncap>,
    pub(crate) tfc_pad_to: Option<usize>,
}

impl SaCore {
    pub(crate) fn new(config: &SaConfig, backend: &dyn CryptoBackend) -> Result<Self, ConfigError> {
        let enc = config.encryption;
        if !enc.keying_material_valid(config.encryption_key.len()) {
            return Err(ConfigError::EncryptionKeyLength {
                algorithm: enc,
                got: config.encryption_key.len(),
            });
        }
        let w = config.replay_window;
        if w != 0 && !(MIN_WINDOW..=MAX_WINDOW).contains(&w) {
            return Err(ConfigError::ReplayWindowSize(w));
        }
        if config.esn && w == 0 {
            return Err(ConfigError::EsnWithoutReplayWindow);
        }
        if !config.lifetimes.is_consistent() {
            return Err(ConfigError::SoftAfterHard);
        }
        if config.tfc_pad_to.is_some() && config.mode != Mode::Tunnel {
            return Err(ConfigError::TfcPaddingInTransportMode);
        }
        let base = enc.block_len().max(4);
        let alignment = match config.pad_alignment {
            0 => base,
            a if a % base == 0 && a % 4 == 0 && a <= 256 => a,
            a => return Err(ConfigError::PadAlignment(a)),
        };
        let (integrity, icv_len) = match (&config.integrity, enc.aead_icv_len()) {
            (Some(_), Some(_)) => return Err(ConfigError::IntegrityWithAead(enc)),
            (None, Some(len)) => (None, len),
            (None, None) if enc == EncryptionAlgorithm::Null => {
                return Err(ConfigError::NullWithoutIntegrity);
            }
            (None, None) => (None, 0),
            (Some((alg, key)), None) => {
                if key.len() != alg.key_len() {
                    return Err(ConfigError::IntegrityKeyLength {
                        algorithm: *alg,
                        got: key.len(),
                        expected: alg.key_len(),
                    });
                }
                (Some(backend.integrity(*alg, key)?), alg.icv_len())
            }
        };
        Ok(Self {
            spi: config.spi,
            mode: config.mode,
            encryption: enc,
            cipher: backend.cipher(enc, &config.encryption_key)?,
            integrity,
            iv_len: enc.iv_len(),
            icv_len,
            alignment,
            esn: config.esn,
            udp_encap: config.udp_encap,
            tfc_pad_to: config.tfc_pad_to,
        })
    }
}
