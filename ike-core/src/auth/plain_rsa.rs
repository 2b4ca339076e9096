//! racoon's `plain_rsa` key files (as written by `plainrsa-gen`): a public
//! key line `[addresses] : PUB 0s<base64>` (or `0x<hex>`) holding an
//! RFC 3110 §2 key, and a private key block
//! `: RSA { Modulus: 0x… PublicExponent: 0x… PrivateExponent: 0x… Prime1: …
//! Prime2: … }`. `#` starts a comment line.

#![deny(clippy::indexing_slicing)]

use base64ct::{Base64, Encoding};
use rsa::{BigUint, RsaPrivateKey, RsaPublicKey};

use super::load::LoadError;

const WHAT: &str = "plain_rsa key";

fn err(detail: impl core::fmt::Display) -> LoadError {
    LoadError {
        what: WHAT,
        detail: detail.to_string(),
    }
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// RFC 3110 §2: exponent length (1 byte, or 0 then 2 bytes), exponent,
/// modulus.
fn from_rfc3110(bytes: &[u8]) -> Result<RsaPublicKey, LoadError> {
    let (&first, rest) = bytes.split_first().ok_or_else(|| err("empty PUB key"))?;
    let (exp_len, rest) = if first == 0 {
        let (len, rest) = rest
            .split_at_checked(2)
            .ok_or_else(|| err("PUB key truncated in its exponent length"))?;
        let len = <[u8; 2]>::try_from(len).map_err(|_| err("PUB key truncated"))?;
        (usize::from(u16::from_be_bytes(len)), rest)
    } else {
        (usize::from(first), rest)
    };
    let (exponent, modulus) = rest
        .split_at_checked(exp_len)
        .ok_or_else(|| err("PUB key shorter than its exponent length"))?;
    RsaPublicKey::new(
        BigUint::from_bytes_be(modulus),
        BigUint::from_bytes_be(exponent),
    )
    .map_err(err)
}

fn decode_value(value: &str) -> Result<Vec<u8>, LoadError> {
    if let Some(b64) = value.strip_prefix("0s") {
        Base64::decode_vec(b64).map_err(err)
    } else if let Some(hex) = value.strip_prefix("0x") {
        decode_hex(hex)
    } else {
        Err(err(format!(
            "value {value:.16}… is neither 0s (base64) nor 0x (hex)"
        )))
    }
}

fn decode_hex(hex: &str) -> Result<Vec<u8>, LoadError> {
    let digits: Vec<u8> = hex
        .bytes()
        .map(|c| match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            b'A'..=b'F' => Ok(c - b'A' + 10),
            _ => Err(err("bad hex digit")),
        })
        .collect::<Result<_, _>>()?;
    // An odd count has an implied leading zero.
    let padded: Vec<u8> = if digits.len() % 2 == 1 {
        core::iter::once(0).chain(digits).collect()
    } else {
        digits
    };
    Ok(padded
        .chunks_exact(2)
        .map(|p| p.iter().fold(0u8, |acc, d| (acc << 4) | d))
        .collect())
}

/// The fields of the `: RSA { … }` block, by name.
fn rsa_block(text: &str) -> Result<Vec<(&str, BigUint)>, LoadError> {
    let mut in_block = false;
    let mut fields = Vec::new();
    for line in lines(text) {
        if !in_block {
            in_block = line.starts_with(": RSA") || line.starts_with(":RSA");
            continue;
        }
        if line.starts_with('}') {
            return Ok(fields);
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| err(format!("line {line:.24} is not Name: value")))?;
        let bytes = decode_value(value.trim())?;
        fields.push((name.trim(), BigUint::from_bytes_be(&bytes)));
    }
    Err(err(if in_block {
        "RSA block without closing }"
    } else {
        "no `: RSA {` block"
    }))
}

fn field<'a>(fields: &'a [(&str, BigUint)], name: &str) -> Result<&'a BigUint, LoadError> {
    fields
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
        .ok_or_else(|| err(format!("RSA block lacks {name}")))
}

/// The public key of a `plain_rsa` file: the first `: PUB` line (address
/// selectors before the colon are ignored), or else the RSA block's
/// Modulus and PublicExponent.
pub fn load_plain_rsa_public(text: &str) -> Result<RsaPublicKey, LoadError> {
    for line in lines(text) {
        if let Some((_, rest)) = line.split_once(": PUB") {
            let value = rest
                .split_whitespace()
                .next()
                .ok_or_else(|| err("PUB without a key"))?;
            return from_rfc3110(&decode_value(value)?);
        }
    }
    let fields = rsa_block(text)?;
    RsaPublicKey::new(
        field(&fields, "Modulus")?.clone(),
        field(&fields, "PublicExponent")?.clone(),
    )
    .map_err(err)
}

/// The private key of a `plain_rsa` file's RSA block, checked for
/// consistency.
pub fn load_plain_rsa_private(text: &str) -> Result<RsaPrivateKey, LoadError> {
    let fields = rsa_block(text)?;
    let key = RsaPrivateKey::from_components(
        field(&fields, "Modulus")?.clone(),
        field(&fields, "PublicExponent")?.clone(),
        field(&fields, "PrivateExponent")?.clone(),
        vec![
            field(&fields, "Prime1")?.clone(),
            field(&fields, "Prime2")?.clone(),
        ],
    )
    .map_err(err)?;
    key.validate().map_err(err)?;
    Ok(key)
}
