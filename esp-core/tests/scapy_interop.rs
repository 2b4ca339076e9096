//! Cross-check against an independent ESP implementation: scapy's IPsec
//! module (Debian `python3-scapy`) encrypts with each transform and we
//! decrypt, and the reverse; tunnel and transport, IPv4 and IPv6, with and
//! without ESN and UDP encapsulation.
//!
//! Skips (with a message) when python3 with scapy is missing, unless
//! `IPSEC_REQUIRE_INTEROP=1`, as CI sets it.

mod common;

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use esp_core::crypto::{EncryptionAlgorithm as E, IntegrityAlgorithm as I};
use esp_core::wire::ip;
use esp_core::{InboundSa, Mode, OutboundSa, SaConfig, UdpEncap, outer};
use serde_json::{Value, json};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/scapy/esp_crosscheck.py"
);
const OUTER_SRC: [u8; 4] = [192, 0, 2, 1];
const OUTER_DST: [u8; 4] = [192, 0, 2, 2];

/// A python3 that can import scapy's IPsec layer. Debian's interpreter is
/// tried first, since a pyenv or venv python3 on PATH may lack scapy.
fn python() -> Option<PathBuf> {
    let candidates = std::env::var_os("IPSEC_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain(["/usr/bin/python3", "python3"].map(PathBuf::from));
    candidates.into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import scapy.layers.ipsec, cryptography"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

fn require_python() -> Option<PathBuf> {
    let found = python();
    if found.is_none() {
        if std::env::var("IPSEC_REQUIRE_INTEROP").as_deref() == Ok("1") {
            panic!("IPSEC_REQUIRE_INTEROP=1 but no python3 with scapy (install python3-scapy)");
        }
        eprintln!(
            "SKIP scapy cross-check: no python3 with scapy.layers.ipsec (apt install python3-scapy)"
        );
    }
    found
}

fn call_scapy(python: &PathBuf, op: &str, cases: &[Value]) -> Vec<Value> {
    let mut child = Command::new(python)
        .arg(SCRIPT)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn python3");
    let request = json!({"op": op, "cases": cases}).to_string();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "scapy script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON from the script");
    let results = v["results"].as_array().unwrap().clone();
    assert_eq!(results.len(), cases.len());
    results
}

/// (encryption, key length without salt, integrity)
const TRANSFORMS: [(E, usize, Option<I>); 12] = [
    (E::AesCbc, 16, Some(I::HmacSha1_96)),
    (E::AesCbc, 32, Some(I::HmacSha256_128)),
    (E::AesCbc, 24, None),
    (E::TripleDesCbc, 24, Some(I::HmacMd5_96)),
    (E::AesCtr, 16, Some(I::HmacSha384_192)),
    (E::AesCtr, 32, Some(I::HmacSha512_256)),
    (E::Null, 0, Some(I::HmacSha256_96)),
    (E::AesGcm16, 16, None),
    (E::AesGcm16, 32, None),
    (E::AesGcm12, 24, None),
    (E::AesGcm8, 16, None),
    (E::ChaCha20Poly1305, 32, None),
];

struct Case {
    id: usize,
    config: SaConfig,
    seq: u64,
    packet: Vec<u8>,
    json: Value,
}

fn ipv4_packet(len: usize) -> Vec<u8> {
    let total = 28 + len;
    let mut p = vec![
        0x45, 0, 0, 0, 0xab, 0xcd, 0, 0, 64, 17, 0, 0, 10, 1, 0, 1, 10, 2, 0, 1,
    ];
    p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    let sum = ip::internet_checksum(&p, 0);
    p[10..12].copy_from_slice(&sum.to_be_bytes());
    p.extend_from_slice(&[0x30, 0x39, 0x00, 0x35]);
    p.extend_from_slice(&((8 + len) as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend((0..len).map(|i| (i * 13 + 1) as u8));
    p
}

/// IPv6 with hop-by-hop and destination-options headers before UDP, so
/// both sides must agree where transport-mode ESP goes.
fn ipv6_packet(len: usize) -> Vec<u8> {
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&((8 + 8 + 8 + len) as u16).to_be_bytes());
    p.extend_from_slice(&[0, 64]);
    p.extend(
        "2001:db8::1"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets(),
    );
    p.extend(
        "2001:db8::2"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets(),
    );
    p.extend_from_slice(&[60, 0, 1, 4, 0, 0, 0, 0]); // hop-by-hop, PadN
    p.extend_from_slice(&[17, 0, 1, 4, 0, 0, 0, 0]); // destination options, PadN
    p.extend_from_slice(&[0x30, 0x39, 0x00, 0x35]);
    p.extend_from_slice(&((8 + len) as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend((0..len).map(|i| (i * 5 + 3) as u8));
    p
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for (enc, key_len, auth) in TRANSFORMS {
        for mode in [Mode::Tunnel, Mode::Transport] {
            for esn in [false, true] {
                for udp in [false, true] {
                    for packet in [ipv4_packet(100), ipv6_packet(37)] {
                        let id = out.len();
                        let enc_key: Vec<u8> = (0..key_len + enc.salt_len())
                            .map(|i| (i * 7 + id) as u8)
                            .collect();
                        let spi = 0x0100_0000 + id as u32;
                        let mut config = SaConfig::new(spi, mode, enc, &enc_key).with_esn(esn);
                        let auth_key: Vec<u8> = auth.map_or(vec![], |a| {
                            (0..a.key_len()).map(|i| (i * 3 + id) as u8).collect()
                        });
                        if let Some(a) = auth {
                            config = config.with_integrity(a, &auth_key);
                        }
                        if udp {
                            config = config.with_udp_encap(UdpEncap {
                                src_port: 4500,
                                dst_port: 4500,
                            });
                        }
                        let (esn_high, low) = if esn { (Some(2u32), 7u32) } else { (None, 7) };
                        let seq = u64::from(esn_high.unwrap_or(0)) << 32 | u64::from(low);
                        let json = json!({
                            "id": id,
                            "enc": enc.name(),
                            "enc_key": common_hex(&enc_key),
                            "auth": auth.map(|a| a.name()),
                            "auth_key": common_hex(&auth_key),
                            "spi": format!("{spi:08x}"),
                            "mode": if mode == Mode::Tunnel { "tunnel" } else { "transport" },
                            "udp": udp,
                            "esn_high": esn_high,
                            "seq": low,
                        });
                        out.push(Case {
                            id,
                            config,
                            seq,
                            packet,
                            json,
                        });
                    }
                }
            }
        }
    }
    out
}

fn common_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn with_packet(case: &Case, packet: &[u8]) -> Value {
    let mut v = case.json.clone();
    v["packet"] = Value::String(common_hex(packet));
    v
}

/// Our wire packet: a new outer IPv4 header in tunnel mode.
fn our_encrypt(case: &Case) -> Vec<u8> {
    let mut tx = OutboundSa::new(&case.config).unwrap();
    tx.set_next_sequence(case.seq).unwrap();
    let mut buf = vec![0u8; 2048];
    let mut rng = common::rng();
    match case.config.mode {
        Mode::Transport => {
            let n = tx
                .encapsulate(&mut rng, &case.packet, &mut buf)
                .unwrap()
                .len();
            buf.truncate(n);
            buf
        }
        Mode::Tunnel => {
            let n = tx
                .encapsulate(&mut rng, &case.packet, &mut buf[20..])
                .unwrap()
                .len();
            let protocol = if case.config.udp_encap.is_some() {
                17
            } else {
                50
            };
            outer::emit(
                IpAddr::from(OUTER_SRC),
                IpAddr::from(OUTER_DST),
                protocol,
                64,
                1,
                n,
                &mut buf,
            )
            .unwrap();
            buf.truncate(20 + n);
            buf
        }
    }
}

fn our_decrypt(case: &Case, wire: &mut [u8]) -> Result<Vec<u8>, esp_core::DecapError> {
    let mut rx = InboundSa::new(&case.config).unwrap();
    rx.resume_after(case.seq - 1);
    let got = match case.config.mode {
        Mode::Transport => rx.decapsulate(wire)?,
        Mode::Tunnel => {
            let (header, range) = outer::strip(wire)?;
            assert_eq!(header.dst, IpAddr::from(OUTER_DST));
            rx.decapsulate(&mut wire[range])?
        }
    };
    assert_eq!(got.sequence, case.seq);
    Ok(got.data.to_vec())
}

#[test]
fn scapy_encrypts_we_decrypt() {
    let Some(python) = require_python() else {
        return;
    };
    let cases = cases();
    let request: Vec<Value> = cases.iter().map(|c| with_packet(c, &c.packet)).collect();
    let results = call_scapy(&python, "encrypt", &request);
    let mut failures = Vec::new();
    for (case, result) in cases.iter().zip(&results) {
        assert_eq!(result["id"].as_u64(), Some(case.id as u64));
        if result["ok"] != true {
            failures.push(format!(
                "#{} {}: scapy: {}",
                case.id, case.json, result["error"]
            ));
            continue;
        }
        let mut wire = common::hex(result["packet"].as_str().unwrap());
        match our_decrypt(case, &mut wire) {
            Ok(plain) if plain == case.packet => {}
            Ok(plain) => failures.push(format!(
                "#{} {}: got {}",
                case.id,
                case.json,
                common_hex(&plain)
            )),
            Err(e) => failures.push(format!("#{} {}: {e}", case.id, case.json)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    eprintln!("scapy -> esp-core: {} packets", cases.len());
}

#[test]
fn we_encrypt_scapy_decrypts() {
    let Some(python) = require_python() else {
        return;
    };
    let cases = cases();
    let request: Vec<Value> = cases
        .iter()
        .map(|c| with_packet(c, &our_encrypt(c)))
        .collect();
    let results = call_scapy(&python, "decrypt", &request);
    let mut failures = Vec::new();
    for (case, result) in cases.iter().zip(&results) {
        if result["ok"] != true {
            failures.push(format!(
                "#{} {}: scapy: {}",
                case.id, case.json, result["error"]
            ));
            continue;
        }
        let plain = common::hex(result["packet"].as_str().unwrap());
        if plain != case.packet {
            failures.push(format!(
                "#{} {}: scapy got {}",
                case.id,
                case.json,
                common_hex(&plain)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    eprintln!("esp-core -> scapy: {} packets", cases.len());
}

#[test]
fn scapy_refuses_our_packet_with_a_flipped_icv_bit() {
    // Guards against a cross-check that would pass with ICVs ignored.
    let Some(python) = require_python() else {
        return;
    };
    let cases: Vec<Case> = cases()
        .into_iter()
        .filter(|c| {
            c.id % 4 == 0
                && (c.config.integrity.is_some() || c.config.encryption.aead_icv_len().is_some())
        })
        .collect();
    let request: Vec<Value> = cases
        .iter()
        .map(|c| {
            let mut wire = our_encrypt(c);
            *wire.last_mut().unwrap() ^= 1;
            with_packet(c, &wire)
        })
        .collect();
    for (case, result) in cases.iter().zip(call_scapy(&python, "decrypt", &request)) {
        assert_eq!(result["ok"], false, "#{} {}", case.id, case.json);
    }
}
