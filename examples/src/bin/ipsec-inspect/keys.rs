//! `ipsec-inspect keys`: SKEYID, SKEYID_d, SKEYID_a and SKEYID_e from the
//! values of one Phase 1 exchange (RFC 2409 §5).

use std::process::ExitCode;

use clap::ValueEnum;
use ike_core::crypto::key_schedule::Phase1Inputs;
use ike_core::crypto::{Gxy, HashAlgorithm, Phase1Auth, Phase1Keys, Prf};
use ipsec_examples::input::{parse_hex, to_hex};

/// Authentication method, as far as SKEYID is concerned.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Auth {
    /// Pre-shared key: SKEYID = prf(PSK, Ni_b | Nr_b).
    Psk,
    /// Signatures: SKEYID = prf(Ni_b | Nr_b, g^xy).
    Sig,
}

/// The negotiated PRF (HMAC with this hash).
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum PrfName {
    /// HMAC-MD5.
    Md5,
    /// HMAC-SHA1.
    Sha1,
    /// HMAC-SHA2-256.
    Sha256,
    /// HMAC-SHA2-384.
    Sha384,
    /// HMAC-SHA2-512.
    Sha512,
}

impl PrfName {
    pub(crate) fn prf(self) -> Prf {
        Prf::hmac(match self {
            Self::Md5 => HashAlgorithm::Md5,
            Self::Sha1 => HashAlgorithm::Sha1,
            Self::Sha256 => HashAlgorithm::Sha256,
            Self::Sha384 => HashAlgorithm::Sha384,
            Self::Sha512 => HashAlgorithm::Sha512,
        })
    }
}

/// Arguments of this subcommand.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Authentication method.
    #[arg(long, value_enum)]
    auth: Auth,
    /// PRF.
    #[arg(long, value_enum)]
    prf: PrfName,
    /// Pre-shared key as text (for --auth psk).
    #[arg(long, conflicts_with = "psk_hex")]
    psk: Option<String>,
    /// Pre-shared key as hex (for --auth psk).
    #[arg(long)]
    psk_hex: Option<String>,
    /// Initiator nonce body, hex.
    #[arg(long)]
    ni: String,
    /// Responder nonce body, hex.
    #[arg(long)]
    nr: String,
    /// Initiator cookie, 8 bytes hex.
    #[arg(long)]
    cky_i: String,
    /// Responder cookie, 8 bytes hex.
    #[arg(long)]
    cky_r: String,
    /// DH shared secret g^xy, hex.
    #[arg(long)]
    gxy: String,
}

/// The pre-shared key from `--psk` or `--psk-hex`, if one was given. (It
/// came in on the command line, so zeroizing this copy would gain little.)
pub(crate) fn psk_bytes(text: Option<&str>, hex: Option<&str>) -> Result<Option<Vec<u8>>, String> {
    match (text, hex) {
        (Some(t), _) => Ok(Some(t.as_bytes().to_vec())),
        (None, Some(h)) => parse_hex(h)
            .map(Some)
            .map_err(|e| format!("--psk-hex: {e}")),
        (None, None) => Ok(None),
    }
}

/// Parses an 8-byte cookie given in hex.
pub(crate) fn cookie(name: &str, text: &str) -> Result<[u8; 8], String> {
    let bytes = parse_hex(text).map_err(|e| format!("{name}: {e}"))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("{name}: a cookie is 8 bytes, got {}", b.len()))
}

pub(crate) fn run(args: Args) -> Result<ExitCode, String> {
    let psk = psk_bytes(args.psk.as_deref(), args.psk_hex.as_deref())?;
    let auth = match (args.auth, &psk) {
        (Auth::Psk, Some(k)) => Phase1Auth::PreSharedKey(k),
        (Auth::Psk, None) => return Err("--auth psk needs --psk or --psk-hex".into()),
        (Auth::Sig, None) => Phase1Auth::Signature,
        (Auth::Sig, Some(_)) => return Err("--auth sig takes no pre-shared key".into()),
    };
    let hex = |name: &str, v: &str| parse_hex(v).map_err(|e| format!("{name}: {e}"));
    let gxy = Gxy::new(hex("--gxy", &args.gxy)?);
    let keys = Phase1Keys::derive(&Phase1Inputs {
        prf: args.prf.prf(),
        auth,
        gxy: &gxy,
        ni: &hex("--ni", &args.ni)?,
        nr: &hex("--nr", &args.nr)?,
        cky_i: &cookie("--cky-i", &args.cky_i)?,
        cky_r: &cookie("--cky-r", &args.cky_r)?,
    });
    println!("SKEYID={}", to_hex(keys.skeyid.as_bytes()));
    println!("SKEYID_d={}", to_hex(keys.skeyid_d.as_bytes()));
    println!("SKEYID_a={}", to_hex(keys.skeyid_a.as_bytes()));
    println!("SKEYID_e={}", to_hex(keys.skeyid_e.as_bytes()));
    Ok(ExitCode::SUCCESS)
}
