//! `ipsec-inspect decode` run as a program over the recorded messages and
//! their mutants (`ike-core/tests/data/wire/{messages,mutants}.tsv`, from
//! the RUB-NDS recordings against real responders).

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ipsec-inspect");
const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../ike-core/tests/data/wire");

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex in test data");
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn rows(file: &str) -> Vec<Vec<String>> {
    std::fs::read_to_string(format!("{DATA}/{file}"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

/// Runs `ipsec-inspect decode ARGS` with `input` on standard input; a run
/// longer than 20 s counts as a hang.
fn decode(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .arg("decode")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // A broken pipe just means the program stopped reading early.
    let _ = stdin.write_all(input);
    drop(stdin);
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("decode hung");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn every_recorded_message_decodes() {
    let messages = rows("messages.tsv");
    assert_eq!(messages.len(), 24);
    for row in &messages {
        let (source, index, wire) = (&row[0], &row[1], &row[3]);
        let bytes = hex(wire);
        let out = decode(&[], wire.as_bytes());
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(out.status.success(), "{source}#{index}: {:?}", out.stderr);
        assert!(stdout.contains(&format!("length: {}", bytes.len())));
        let exchange = match bytes[18] {
            2 => "Identity Protection (Main Mode) (2)",
            4 => "Aggressive (4)",
            5 => "Informational (5)",
            32 => "Quick Mode (32)",
            other => panic!("unexpected exchange type {other}"),
        };
        assert!(
            stdout.contains(&format!("exchange_type: {exchange}")),
            "{stdout}"
        );
        if bytes[19] & 1 == 1 {
            let body = format!("encrypted_body: {} bytes, encrypted", bytes.len() - 28);
            assert!(stdout.contains(&body), "{stdout}");
        } else {
            assert!(stdout.contains("payloads:"), "{stdout}");
        }
        // Raw bytes give the same output as hex text.
        let raw = decode(&[], &bytes);
        assert_eq!(String::from_utf8(raw.stdout).unwrap(), stdout);
    }
}

#[test]
fn main_mode_reply_is_decoded_in_full() {
    // RUB-NDS Main Mode PSK message 2: SA, then the XAUTH and DPD vendor IDs.
    let row = &rows("messages.tsv")[1];
    let out = decode(&["--json"], row[3].as_bytes());
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let msg = &v["isakmp"];
    assert_eq!(msg["initiator_cookie"], "59cedc5dcea558fe");
    assert_eq!(msg["responder_cookie"], "9e16984236445257");
    let payloads = msg["payloads"].as_array().unwrap();
    let types: Vec<_> = payloads.iter().map(|p| p["type"]["name"].clone()).collect();
    assert_eq!(types, ["SA", "VID", "VID"]);
    let transform = &payloads[0]["proposals"][0]["transforms"][0];
    assert_eq!(transform["id"]["name"], "KEY_IKE");
    let attrs = transform["attributes"].as_array().unwrap();
    assert_eq!(attrs[0]["attribute"]["name"], "Encryption Algorithm");
    assert_eq!(attrs[0]["value"]["name"], "AES-CBC");
    assert_eq!(attrs[6]["attribute"]["name"], "Life Duration");
    assert_eq!(attrs[6]["value"], 28800);
    assert_eq!(payloads[1]["vendor"], "XAUTH");
    assert_eq!(payloads[1]["data"], "09002689dfd6b712");
    assert_eq!(payloads[2]["vendor"], "RFC 3706 (DPD)");
    assert_eq!(payloads[2]["offset"], 28 + 56 + 12);
}

#[test]
fn non_esp_marker_is_accepted() {
    let row = &rows("messages.tsv")[0];
    let mut bytes = vec![0, 0, 0, 0];
    bytes.extend(hex(&row[3]));
    let out = decode(&[], &bytes);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("non_esp_marker: true"), "{stdout}");
    assert!(stdout.contains("type: SA (1)"));
}

#[test]
fn every_mutant_is_answered_with_exit_0_or_1() {
    let mutants = rows("mutants.tsv");
    assert_eq!(mutants.len(), 85);
    let mut rejected = 0;
    for row in &mutants {
        let (id, kind, must_reject, input) = (&row[0], &row[1], &row[2] == "1", &row[5]);
        let out = decode(&[], &hex(input));
        let code = out.status.code();
        assert!(
            matches!(code, Some(0 | 1)),
            "mutant {id} ({kind}): exit {code:?}, stderr {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stderr = String::from_utf8(out.stderr).unwrap();
        if code == Some(1) {
            rejected += 1;
            assert_eq!(stderr.lines().count(), 1, "mutant {id}: {stderr}");
            assert!(stderr.starts_with("ipsec-inspect: error: "), "{stderr}");
            assert!(out.stdout.is_empty(), "mutant {id} printed a partial tree");
        } else {
            assert!(stderr.is_empty(), "mutant {id}: {stderr}");
        }
        if must_reject {
            assert_eq!(code, Some(1), "mutant {id} ({kind}) must be rejected");
        }
        // The same with --json.
        let json = decode(&["--json"], &hex(input));
        assert_eq!(json.status.code(), code, "mutant {id} --json");
        if code == Some(0) {
            serde_json::from_slice::<serde_json::Value>(&json.stdout).unwrap();
        }
    }
    assert!(rejected >= mutants.iter().filter(|r| r[2] == "1").count());
}

#[test]
fn errors_say_where_parsing_stopped() {
    // Main Mode message 1 with the transform length raised past its proposal.
    let mut bytes = hex(&rows("messages.tsv")[0][3]);
    bytes[28 + 4 + 8 + 8 + 3] = 0x40;
    let out = decode(&[], &bytes);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr.trim_end(),
        "ipsec-inspect: error: malformed SA payload (payload 1 at offset 28): \
         Transform length 64 is invalid at offset 50"
    );
    // A chain that runs past the end of the message.
    let truncated = &hex(&rows("messages.tsv")[1][3])[..100];
    let out = decode(&[], truncated);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("ISAKMP message length 116 is invalid at offset 24"),
        "{stderr}"
    );
}

#[test]
fn undecodable_phase1_id_is_shown_raw() {
    // Aggressive Mode message 1 with the ID type changed to IPv4 and one
    // byte more data than an address: a public-key-encrypted ID looks like
    // this, so it is shown as bytes, not refused.
    let mut bytes = hex(&rows("messages.tsv")[9][3]);
    let id_at = bytes.len() - 12;
    assert_eq!(bytes[id_at..id_at + 4], [0, 0, 0, 12], "ID payload header");
    bytes[id_at + 4] = 1;
    bytes[id_at + 3] = 13;
    bytes.push(0xee);
    let total = bytes.len() as u32;
    bytes[24..28].copy_from_slice(&total.to_be_bytes());
    let out = decode(&[], &bytes);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("note: not an identity"), "{stdout}");
    assert!(stdout.contains("body: 010000000a000301ee"), "{stdout}");
}
