//! setkey's algorithm names, their `SADB_*ALG_*` numbers and key sizes
//! (setkey(8), `linux/pfkeyv2.h`; sizes from RFC 2403/2404/4868/3602/3686).
//! Shared by `ipsec-setkey` and tanuki's kernel data path.

use pfkey::wire::Key;
use pfkey::wire::constants::*;

/// Which table an algorithm is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlgKind {
    /// `SADB_EALG_*`
    Encrypt,
    /// `SADB_AALG_*`
    Auth,
    /// `SADB_X_CALG_*`
    Compress,
}

/// One algorithm: its number and the key lengths (bits) it accepts.
#[derive(Debug, Clone, Copy)]
pub struct Alg {
    /// The `SADB_*ALG_*` number.
    pub id: u8,
    /// setkey's name.
    pub name: &'static str,
    key_bits: &'static [u16],
}

impl Alg {
    /// Checks the key length, as the kernel would (it answers EINVAL).
    pub fn check_key(&self, key: &Key) -> Result<(), String> {
        if self.key_bits.is_empty() || self.key_bits.contains(&key.bits()) {
            return Ok(());
        }
        let sizes: Vec<String> = self.key_bits.iter().map(|b| format!("{b}-bit")).collect();
        Err(format!(
            "{} takes a {} key, got {} bits",
            self.name,
            sizes.join(" or "),
            key.bits()
        ))
    }
}

const fn alg(id: u8, name: &'static str, key_bits: &'static [u16]) -> Alg {
    Alg { id, name, key_bits }
}

const ENCRYPT: &[Alg] = &[
    alg(SADB_EALG_DESCBC, "des-cbc", &[64]),
    alg(SADB_EALG_3DESCBC, "3des-cbc", &[192]),
    alg(SADB_EALG_NULL, "null", &[]),
    alg(SADB_X_EALG_BLOWFISHCBC, "blowfish-cbc", &[]),
    alg(SADB_X_EALG_CASTCBC, "cast128-cbc", &[]),
    alg(SADB_X_EALG_AESCBC, "aes-cbc", &[128, 192, 256]),
    alg(SADB_X_EALG_AESCBC, "rijndael-cbc", &[128, 192, 256]),
    // RFC 3686: the key carries a 32-bit nonce after the AES key.
    alg(SADB_X_EALG_AESCTR, "aes-ctr", &[160, 224, 288]),
    alg(SADB_X_EALG_CAMELLIACBC, "camellia-cbc", &[128, 192, 256]),
    alg(SADB_X_EALG_TWOFISHCBC, "twofish-cbc", &[128, 192, 256]),
    alg(SADB_X_EALG_SERPENTCBC, "serpent-cbc", &[128, 192, 256]),
];

/// AEAD names setkey knows, which Linux's af_key cannot install.
const AEAD: &[&str] = &[
    "aes-gcm-8",
    "aes-gcm-12",
    "aes-gcm-16",
    "aes-gcm",
    "aes-ccm-8",
    "aes-ccm-12",
    "aes-ccm-16",
    "aes-ccm",
    "null-aes-gmac",
    "aes-gmac",
];

const AUTH: &[Alg] = &[
    alg(SADB_AALG_MD5HMAC, "hmac-md5", &[128]),
    alg(SADB_AALG_SHA1HMAC, "hmac-sha1", &[160]),
    alg(SADB_X_AALG_SHA2_256HMAC, "hmac-sha256", &[256]),
    alg(SADB_X_AALG_SHA2_256HMAC, "hmac-sha2-256", &[256]),
    alg(SADB_X_AALG_SHA2_384HMAC, "hmac-sha384", &[384]),
    alg(SADB_X_AALG_SHA2_384HMAC, "hmac-sha2-384", &[384]),
    alg(SADB_X_AALG_SHA2_512HMAC, "hmac-sha512", &[512]),
    alg(SADB_X_AALG_SHA2_512HMAC, "hmac-sha2-512", &[512]),
    alg(SADB_X_AALG_RIPEMD160HMAC, "hmac-ripemd160", &[160]),
    alg(SADB_X_AALG_AES_XCBC_MAC, "aes-xcbc-mac", &[128]),
    alg(SADB_X_AALG_NULL, "null", &[]),
];

const COMPRESS: &[Alg] = &[
    alg(SADB_X_CALG_OUI, "oui", &[]),
    alg(SADB_X_CALG_DEFLATE, "deflate", &[]),
    alg(SADB_X_CALG_LZS, "lzs", &[]),
];

/// Finds `name` among the algorithms of `kind`.
pub fn lookup(kind: AlgKind, name: &str) -> Result<Alg, String> {
    if kind == AlgKind::Encrypt && AEAD.contains(&name) {
        return Err(format!(
            "{name} cannot be installed through PF_KEY on Linux (af_key has no AEAD \
             support; the kernel answers ENOSYS): install AES-GCM SAs with XFRM netlink, \
             e.g. ip xfrm state add ... aead 'rfc4106(gcm(aes))' KEY 128"
        ));
    }
    let table = match kind {
        AlgKind::Encrypt => ENCRYPT,
        AlgKind::Auth => AUTH,
        AlgKind::Compress => COMPRESS,
    };
    table
        .iter()
        .find(|a| a.name == name)
        .copied()
        .ok_or_else(|| {
            let names: Vec<&str> = table.iter().map(|a| a.name).collect();
            format!("unknown algorithm '{name}' (known: {})", names.join(", "))
        })
}

/// The setkey name of algorithm `id` of `kind`, for display.
pub fn name(kind: AlgKind, id: u8) -> Option<&'static str> {
    let table = match kind {
        AlgKind::Encrypt => ENCRYPT,
        AlgKind::Auth => AUTH,
        AlgKind::Compress => COMPRESS,
    };
    table.iter().find(|a| a.id == id).map(|a| a.name)
}
