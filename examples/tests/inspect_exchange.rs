//! `ipsec-inspect exchange` over recorded exchanges:
//!
//! - the acceptance cases (RUB-NDS recordings against real responders:
//!   Main and Aggressive Mode PSK, tampered copies, a wrong PSK, and a
//!   public-key-encryption exchange it cannot decrypt);
//! - every strongSwan ↔ strongSwan recording in
//!   `ike-core/tests/data/strongswan/`, where each value the tool prints is
//!   compared with the value charon logged (SKEYID*, Ka, the Phase 1 IV,
//!   HASH_I/HASH_R, Quick Mode HASH(1)–(3), Informational HASH(1), ESP
//!   encryption and integrity keys, with and without PFS);
//! - the RSA-signature recordings in `tests/data/strongswan-rsa/`
//!   (`--cert-i` / `--cert-r`): both SIG payloads verify with the interop
//!   PKI's certificates over the HASH_I / HASH_R charon logged; a damaged
//!   signature, the wrong certificate and a missing one are named failures;
//! - bad invocations.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn inspect(args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ipsec-inspect"))
        .arg("exchange")
        .args(args)
        .output()
        .unwrap()
}

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn load(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Lowercase hex digits of `text` with white space and colons removed.
fn squash(text: &[u8]) -> String {
    String::from_utf8_lossy(text)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect::<String>()
        .to_lowercase()
}

fn assert_contains(out: &Output, name: &str, what: &str, hex: &str) {
    assert!(
        squash(&out.stdout).contains(&hex.to_lowercase()),
        "{name}: output lacks {what} = {hex}\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// An acceptance case's arguments followed by its file.
fn case_args(dir: &Path, case: &Value) -> Vec<String> {
    let mut args: Vec<String> = case["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    args.push(
        dir.join(case["file"].as_str().unwrap())
            .display()
            .to_string(),
    );
    args
}

#[test]
fn acceptance_cases() {
    let dir = manifest().join("tests/data/exchanges");
    let doc = load(&dir.join("exchanges.json"));
    let cases = doc["cases"].as_array().unwrap();
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let out = inspect(&case_args(&dir, c));
        let expect = c["expect_exit"].as_i64().unwrap() as i32;
        assert_eq!(
            out.status.code(),
            Some(expect),
            "{name}: stdout\n{}\nstderr\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if expect == 0 {
            for (what, hex) in c["expect_hex"].as_object().unwrap() {
                assert_contains(&out, name, what, hex.as_str().unwrap());
            }
        } else {
            // A failure names the message and the check.
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                !err.is_empty() && !err.contains("panicked"),
                "{name}: {err}"
            );
        }
    }
    assert_eq!(cases.len(), 7);
}

#[test]
fn tampered_quick_mode_names_the_message() {
    let dir = manifest().join("tests/data/exchanges");
    let doc = load(&dir.join("exchanges.json"));
    let case = &doc["cases"][1];
    assert_eq!(case["name"], "rubnds-mm-psk.flip-qm1");
    let out = inspect(&case_args(&dir, case));
    let err = String::from_utf8_lossy(&out.stderr);
    // Message 7 is QM1; Phase 1 must still verify.
    assert!(err.contains("message 7"), "{err}");
    assert!(!err.contains("HASH_I") && !err.contains("HASH_R"), "{err}");
}

/// The Phase 1 values charon logs and the tool must print.
const PHASE1_LOGGED: [&str; 8] = [
    "skeyid",
    "skeyid_d",
    "skeyid_a",
    "skeyid_e",
    "encryption_key",
    "initial_iv",
    "hash_i",
    "hash_r",
];

fn strongswan_dir() -> PathBuf {
    manifest().join("../ike-core/tests/data/strongswan")
}

fn strongswan_recordings() -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = std::fs::read_dir(strongswan_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            (
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                load(&p),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn every_strongswan_recording_matches_charons_values() {
    let mut checked = 0;
    for (name, rec) in strongswan_recordings() {
        let Some(p1) = rec.get("phase1") else {
            continue;
        };
        let s = |v: &Value| v.as_str().unwrap().to_string();
        let mut args = vec![
            "--psk".to_string(),
            s(&rec["config"]["psk"]),
            "--gxy".into(),
            s(&p1["dh_shared_secret"]),
        ];
        let qms = rec["quick_modes"].as_array().unwrap();
        for qm in qms {
            if let Some(g) = qm.get("dh_shared_secret") {
                args.extend(["--pfs-gxy".to_string(), s(g)]);
            }
        }
        let file = strongswan_dir().join(s(&rec["files"]["exchange"]));
        args.push(file.display().to_string());
        let out = inspect(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for key in PHASE1_LOGGED {
            assert_contains(&out, &name, key, &s(&p1[key]));
        }
        for qm in qms {
            for key in ["hash1", "hash2", "hash3", "dh_shared_secret"] {
                if let Some(v) = qm.get(key) {
                    assert_contains(&out, &name, key, &s(v));
                }
            }
            for sa in qm["sas"].as_array().unwrap() {
                let spi = s(&sa["spi"]);
                for key in ["encryption_key", "integrity_key"] {
                    if let Some(v) = sa.get(key) {
                        assert_contains(&out, &name, &format!("SPI {spi} {key}"), &s(v));
                    }
                }
                // The SA's direction as charon logged it.
                let arrow = match sa["direction"].as_str().unwrap() {
                    "initiator_to_responder" => "I→R",
                    _ => "R→I",
                };
                let line = format!("SA SPI {spi} ({arrow})");
                assert!(
                    String::from_utf8_lossy(&out.stdout).contains(&line),
                    "{name}: no line {line}"
                );
            }
        }
        for info in rec["informationals"].as_array().unwrap() {
            assert_contains(&out, &name, "informational HASH(1)", &s(&info["hash"]));
        }
        checked += 1;
    }
    assert!(
        checked >= 10,
        "only {checked} strongSwan recordings checked"
    );
}

#[test]
fn strongswan_failures_exit_1() {
    for name in ["mm-wrong-psk", "mm-no-proposal-chosen"] {
        let rec = load(&strongswan_dir().join(format!("{name}.json")));
        let file = strongswan_dir().join(rec["files"]["exchange"].as_str().unwrap());
        let args = vec![
            "--psk".to_string(),
            rec["config"]["psk"].as_str().unwrap().to_string(),
            "--gxy".into(),
            "01".into(),
            file.display().to_string(),
        ];
        let out = inspect(&args);
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert!(!out.stderr.is_empty());
    }
}

#[test]
fn pfs_without_its_secret_is_reported() {
    let rec = load(&strongswan_dir().join("mm-aes256-sha256-modp2048-pfs.json"));
    let file = strongswan_dir().join(rec["files"]["exchange"].as_str().unwrap());
    let args = vec![
        "--psk".to_string(),
        rec["config"]["psk"].as_str().unwrap().to_string(),
        "--gxy".into(),
        rec["phase1"]["dh_shared_secret"]
            .as_str()
            .unwrap()
            .to_string(),
        file.display().to_string(),
    ];
    let out = inspect(&args);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--pfs-gxy"));
}

#[test]
fn bad_inputs_are_errors_not_crashes() {
    let dir = std::env::temp_dir().join(format!("inspect-exchange-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, body) in ["", "X 00\n", "I 0g\n", "I 00\n", "# only a comment\n"]
        .iter()
        .enumerate()
    {
        let f = dir.join(format!("bad{i}.txt"));
        std::fs::write(&f, body).unwrap();
        let out = inspect(&["--gxy".into(), "01".into(), f.display().to_string()]);
        assert_eq!(out.status.code(), Some(1), "{body:?}");
        assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    }
    std::fs::remove_dir_all(&dir).unwrap();
    // --dh-private-i that does not match the recorded KE.
    let file = manifest().join("tests/data/exchanges/rubnds-mm-psk.txt");
    let out = inspect(&[
        "--psk".into(),
        "AAAA".into(),
        "--dh-private-i".into(),
        "1234567890".into(),
        file.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--dh-private-i"));
}

/// Two Quick Modes on one ISAKMP SA, interleaved, with retransmissions of
/// a Phase 1 and Quick Mode message in between: each exchange keeps its own
/// IV chain, and the PFS secrets go with the Quick Modes in the order they
/// start.
#[test]
fn interleaved_quick_modes_and_retransmissions() {
    // A copy of the strongSwan recording of that name.
    let name = "mm-aes128-sha1-modp2048-two-children";
    let dir = manifest().join("tests/data/exchanges");
    let rec = load(&dir.join(format!("{name}.json")));
    let text = std::fs::read_to_string(dir.join(format!("{name}.txt"))).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("I ") || l.starts_with("R "))
        .collect();
    assert_eq!(lines.len(), 15);
    // 7-9 are Quick Mode A, 10-12 Quick Mode B, 13-15 Informationals.
    // A starts first, B completes its second message first; 6 (MM6), 8
    // and 9 are each sent twice.
    let order = [1, 2, 3, 4, 5, 6, 7, 10, 11, 8, 6, 12, 8, 9, 9, 13, 14, 15];
    let replay: String = order
        .iter()
        .map(|i| format!("{}\n", lines[i - 1]))
        .collect();
    let file = std::env::temp_dir().join(format!("inspect-interleaved-{}.txt", std::process::id()));
    std::fs::write(&file, replay).unwrap();
    let s = |v: &Value| v.as_str().unwrap().to_string();
    let qms = rec["quick_modes"].as_array().unwrap();
    let mut args = vec![
        "--psk".to_string(),
        s(&rec["config"]["psk"]),
        "--gxy".into(),
        s(&rec["phase1"]["dh_shared_secret"]),
    ];
    for qm in qms {
        args.extend(["--pfs-gxy".to_string(), s(&qm["dh_shared_secret"])]);
    }
    args.push(file.display().to_string());
    let out = inspect(&args);
    std::fs::remove_file(&file).unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.matches("retransmission of message").count(), 3);
    for qm in qms {
        for key in ["hash1", "hash2", "hash3"] {
            assert_contains(&out, name, key, &s(&qm[key]));
        }
        for sa in qm["sas"].as_array().unwrap() {
            assert_contains(&out, name, "ESP encryption key", &s(&sa["encryption_key"]));
            assert_contains(&out, name, "ESP integrity key", &s(&sa["integrity_key"]));
        }
    }
}

/// Deterministic damage to a good recording (a flipped byte in every
/// message at several places, truncations, a swapped sender): the tool
/// answers 0 or 1 and never crashes; damage to an encrypted message or a
/// hashed field is always caught.
#[test]
fn damaged_recordings_never_crash() {
    let file = manifest().join("tests/data/exchanges/rubnds-mm-psk.txt");
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("I ") || l.starts_with("R "))
        .collect();
    let private = "6f583ca64176389ae033076d036ea24bbe93f0d66a2c64a5eca5e8f38a521cc5f040cee069794c6dcb69165795060d4df4c6cc7a6c64806de7fa9852151816151e6099533761316fc040476793cf4c2b3a3bb0a96b324549b8fb6519ce22e6f110fc32eb304a155f703effe2d9a7082e910a3f3167f26a5c4a166d1a133cb07f";
    let dir = std::env::temp_dir().join(format!("inspect-damaged-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut runs = 0;
    for (i, line) in lines.iter().enumerate() {
        let (who, hex) = line.split_at(2);
        let n = hex.len() / 2;
        // Byte offsets: in the header, at the first payload, in the middle,
        // in the last byte.
        let mut variants: Vec<(String, bool)> = [3usize, 17, 29, n / 2, n - 1]
            .iter()
            .map(|&at| {
                let mut bytes: Vec<u8> = (0..n)
                    .map(|k| u8::from_str_radix(&hex[2 * k..2 * k + 2], 16).unwrap())
                    .collect();
                bytes[at] ^= 0x40;
                let s: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                // Encrypted messages (5-9) must fail wherever the body is hit.
                (format!("{who}{s}"), i >= 4 && at >= 28)
            })
            .collect();
        variants.push((format!("{who}{}", &hex[..(hex.len() / 2) & !1]), true));
        let swapped = if who == "I " { "R " } else { "I " };
        variants.push((format!("{swapped}{hex}"), false));
        for (damaged, must_fail) in variants {
            let mut all = lines.clone();
            all[i] = &damaged;
            let f = dir.join(format!("m{i}-{runs}.txt"));
            std::fs::write(&f, all.join("\n")).unwrap();
            let out = inspect(&[
                "--psk".into(),
                "AAAA".into(),
                "--dh-private-i".into(),
                private.into(),
                f.display().to_string(),
            ]);
            let code = out.status.code();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                matches!(code, Some(0 | 1)),
                "message {} variant: {code:?} {err}",
                i + 1
            );
            assert!(!err.contains("panicked"), "{err}");
            if must_fail {
                assert_eq!(code, Some(1), "message {}: damage not detected", i + 1);
            }
            runs += 1;
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(runs, lines.len() * 7);
}

/// `#` starts a comment anywhere on a line, so a recording can be annotated
/// message by message; the result is the same as for the bare recording.
#[test]
fn comments_after_the_hex_are_ignored() {
    let dir = manifest().join("tests/data/exchanges");
    let doc = load(&dir.join("exchanges.json"));
    let case = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["expect_exit"] == 0)
        .expect("a passing acceptance case");
    let args = case_args(&dir, case);
    let original = std::fs::read_to_string(args.last().unwrap()).unwrap();
    let annotated: String = original
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if l.starts_with("I ") || l.starts_with("R ") {
                format!("  {l}   # message on line {}\n", i + 1)
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    assert_ne!(annotated, original);
    let file = std::env::temp_dir().join(format!("inspect-comments-{}.txt", std::process::id()));
    std::fs::write(&file, annotated).unwrap();
    let mut annotated_args = args.clone();
    *annotated_args.last_mut().unwrap() = file.display().to_string();
    let plain = inspect(&args);
    let commented = inspect(&annotated_args);
    std::fs::remove_file(&file).unwrap();
    assert_eq!(plain.status.code(), Some(0));
    assert_eq!(
        commented.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&commented.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&commented.stdout),
        String::from_utf8_lossy(&plain.stdout).replace(
            &args.last().unwrap().to_string(),
            &annotated_args.last().unwrap().to_string()
        )
    );
}

fn rsa_dir() -> PathBuf {
    manifest().join("tests/data/strongswan-rsa")
}

fn pki(name: &str) -> String {
    manifest()
        .join("../tests/interop/pki")
        .join(name)
        .display()
        .to_string()
}

/// `--gxy` from the recording, the certificates, then `file`.
fn rsa_args(rec: &Value, cert_i: &str, cert_r: &str, file: &Path) -> Vec<String> {
    vec![
        "--gxy".into(),
        rec["phase1"]["dh_shared_secret"]
            .as_str()
            .unwrap()
            .to_string(),
        "--cert-i".into(),
        pki(cert_i),
        "--cert-r".into(),
        pki(cert_r),
        file.display().to_string(),
    ]
}

#[test]
fn rsa_signature_recordings_verify_with_the_certificates() {
    let mut checked = 0;
    for name in [
        "mm-rsa-aes256-sha1-modp1536",
        "am-rsa-aes128-sha256-modp2048",
    ] {
        let rec = load(&rsa_dir().join(format!("{name}.json")));
        assert_eq!(rec["config"]["auth"], "pubkey", "{name}");
        let file = rsa_dir().join(rec["files"]["exchange"].as_str().unwrap());
        let out = inspect(&rsa_args(&rec, "tanuki.pem", "charon.pem", &file));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}\n{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
        // SKEYID = prf(Ni_b | Nr_b, g^xy) and the rest as charon logged them.
        let p1 = &rec["phase1"];
        for key in PHASE1_LOGGED {
            assert_contains(&out, name, key, p1[key].as_str().unwrap());
        }
        let hash_i = p1["hash_i"].as_str().unwrap();
        let hash_r = p1["hash_r"].as_str().unwrap();
        assert!(
            stdout.contains(&format!("HASH_I computed {hash_i}")),
            "{name}: {stdout}"
        );
        assert!(
            stdout.contains(&format!("HASH_R computed {hash_r}")),
            "{name}: {stdout}"
        );
        assert!(stdout.contains(
            "SIG_I verified over HASH_I with the key of C=XX, O=ipsec-rs Interop, CN=tanuki.interop.test"
        ));
        assert!(stdout.contains(
            "SIG_R verified over HASH_R with the key of C=XX, O=ipsec-rs Interop, CN=charon.interop.test"
        ));
        assert!(stdout.contains("CERT: C=XX, O=ipsec-rs Interop, CN=charon.interop.test"));
        for qm in rec["quick_modes"].as_array().unwrap() {
            for sa in qm["sas"].as_array().unwrap() {
                assert_contains(
                    &out,
                    name,
                    "ESP key",
                    sa["encryption_key"].as_str().unwrap(),
                );
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 2);
}

/// Aggressive Mode message 2 is clear and ends with the responder's SIG
/// payload: one flipped bit in it must fail SIG_R, by name.
#[test]
fn damaged_signature_is_a_named_failure() {
    let rec = load(&rsa_dir().join("am-rsa-aes128-sha256-modp2048.json"));
    let text =
        std::fs::read_to_string(rsa_dir().join("am-rsa-aes128-sha256-modp2048.txt")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let am2 = lines
        .iter()
        .position(|l| l.starts_with("R "))
        .expect("message 2");
    let last = lines[am2].pop().unwrap();
    let flipped = u8::from_str_radix(&last.to_string(), 16).unwrap() ^ 1;
    lines[am2].push(char::from_digit(u32::from(flipped), 16).unwrap());
    let dir = std::env::temp_dir().join(format!("inspect-rsa-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("damaged.txt");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let out = inspect(&rsa_args(&rec, "tanuki.pem", "charon.pem", &file));
    std::fs::remove_dir_all(&dir).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("message 2: SIG_R does not verify over HASH_R"),
        "{stderr}"
    );
    assert!(stderr.contains("charon.interop.test"), "{stderr}");
    // The initiator's signature in message 3 is still good.
    assert!(!stderr.contains("SIG_I"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("SIG_I verified"));
}

/// The certificates swapped: neither signature verifies, and each CERT
/// payload is reported as not the certificate given for its sender.
#[test]
fn wrong_certificates_are_named() {
    let rec = load(&rsa_dir().join("mm-rsa-aes256-sha1-modp1536.json"));
    let file = rsa_dir().join("mm-rsa-aes256-sha1-modp1536.txt");
    let out = inspect(&rsa_args(&rec, "charon.pem", "pix.pem", &file));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for want in [
        "message 5: the CERT payload carries C=XX, O=ipsec-rs Interop, CN=tanuki.interop.test, not the certificate given with --cert-i",
        "message 5: SIG_I does not verify over HASH_I",
        "message 6: the CERT payload carries C=XX, O=ipsec-rs Interop, CN=charon.interop.test, not the certificate given with --cert-r (CN=pix.example.com)",
        "message 6: SIG_R does not verify over HASH_R",
        "Phase 1: no verified HASH_I or SIG_I",
    ] {
        assert!(stderr.contains(want), "missing {want:?} in\n{stderr}");
    }
}

#[test]
fn missing_certificate_names_the_flag() {
    let rec = load(&rsa_dir().join("mm-rsa-aes256-sha1-modp1536.json"));
    let file = rsa_dir().join("mm-rsa-aes256-sha1-modp1536.txt");
    let mut args = rsa_args(&rec, "tanuki.pem", "charon.pem", &file);
    // Drop --cert-r and its value.
    let at = args.iter().position(|a| a == "--cert-r").unwrap();
    args.drain(at..at + 2);
    let out = inspect(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("message 6: SIG_R (128 bytes) not checked: give the responder's certificate with --cert-r"),
        "{stderr}"
    );
    // An unreadable certificate file is an error naming the flag and file.
    let args = rsa_args(&rec, "tanuki.pem", "no-such.pem", &file);
    let out = inspect(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr.contains("--cert-r")
            && stderr.contains("no-such.pem")
            && stderr.contains("cannot read"),
        "{stderr}"
    );
}
