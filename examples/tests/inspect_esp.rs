//! `ipsec-inspect esp decap|encap` against the RFC/draft acceptance cases
//! in `tests/data/esp/rfc-cases.json`, run as a user would run it.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ipsec-inspect"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ipsec-inspect");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .map_err(|e| e.kind())
        .or_else(|kind| match kind {
            // The program may exit (e.g. on a usage error) before reading stdin.
            std::io::ErrorKind::BrokenPipe => Ok(()),
            other => Err(other),
        })
        .expect("write the child's stdin");
    child.wait_with_output().unwrap()
}

fn cases() -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/esp/rfc-cases.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v["cases"].as_array().unwrap().clone()
}

fn sa_args(c: &Value) -> Vec<String> {
    let mut a = vec![
        "--spi".to_string(),
        c["spi"].as_str().unwrap().to_string(),
        "--enc".into(),
        c["enc"].as_str().unwrap().to_string(),
        "--mode".into(),
        c["mode"].as_str().unwrap().to_string(),
    ];
    if let Some(auth) = c["auth"].as_str() {
        a.extend(["--auth".into(), auth.to_string()]);
    }
    if let Some(high) = c["esn_high"].as_u64() {
        a.extend(["--esn-high".into(), high.to_string()]);
    }
    if c["udp_encap"].as_bool() == Some(true) {
        a.push("--udp-encap".into());
    }
    a
}

fn decap(c: &Value, input_hex: &str) -> Output {
    let mut args = vec!["esp".to_string(), "decap".into()];
    args.extend(sa_args(c));
    args.push("-".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&args, input_hex)
}

#[test]
fn every_rfc_case_decrypts_and_tampering_is_an_error() {
    let cases = cases();
    assert_eq!(cases.len(), 24);
    for c in &cases {
        let name = c["name"].as_str().unwrap();
        let input = c["input_hex"].as_str().unwrap();
        let out = decap(c, input);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let inner = c["inner_hex"].as_str().unwrap();
        assert!(stdout.contains(inner), "{name}: {stdout}");
        let nh = format!("next header: {}\n", c["next_header"]);
        assert!(stdout.contains(&nh), "{name}: {stdout}");

        if c["has_icv"].as_bool() == Some(true) {
            let mut bytes: Vec<char> = input.chars().collect();
            let last = bytes.len() - 1;
            bytes[last] = if bytes[last] == '0' { '1' } else { '0' };
            let tampered: String = bytes.into_iter().collect();
            let out = decap(c, &tampered);
            assert_eq!(out.status.code(), Some(1), "{name} tampered");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
            assert!(stderr.contains("ICV"), "{name}: {stderr}");
            assert!(out.stdout.is_empty());
        }
    }
}

#[test]
fn malformed_input_is_a_one_line_error() {
    let c = &cases()[0];
    for bad in ["", "00", "0000432100000001", "zz-not-hex-or-esp"] {
        let out = decap(c, bad);
        assert_eq!(out.status.code(), Some(1), "{bad:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
    }
    let out = run(
        &["esp", "decap", "--spi", "1", "--enc", "rot13:00", "-"],
        "00",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown encryption"));
}

#[test]
fn encap_reproduces_rfc3602_case7_and_rfc7634() {
    // RFC 3602 §4 case 7: tunnel mode, seq 2, given IV.
    let c = cases()
        .into_iter()
        .find(|c| c["name"] == "rfc3602-case7")
        .unwrap();
    let mut args = vec!["esp".to_string(), "encap".into()];
    args.extend(sa_args(&c));
    args.extend([
        "--seq".into(),
        "2".into(),
        "--iv".into(),
        "f4e765244f6407adf13dc1380f673f37".into(),
        "-".into(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(&args, c["inner_hex"].as_str().unwrap());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        c["input_hex"].as_str().unwrap()
    );

    // RFC 7634 Appendix A: ChaCha20-Poly1305, seq 5, IV 1011..17.
    let c = cases()
        .into_iter()
        .find(|c| c["name"] == "rfc7634-appA")
        .unwrap();
    let mut args = vec!["esp".to_string(), "encap".into()];
    args.extend(sa_args(&c));
    args.extend([
        "--seq".into(),
        "5".into(),
        "--iv".into(),
        "1011121314151617".into(),
        "-".into(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(&args, c["inner_hex"].as_str().unwrap());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        c["input_hex"].as_str().unwrap()
    );
}

#[test]
fn encap_then_decap_with_esn_and_udp_encapsulation() {
    let inner = "4500001c000100004011000a0a0000010a00000204d2162e00080000";
    let sa = [
        "--spi",
        "c0ffee01",
        "--enc",
        "aes-cbc:000102030405060708090a0b0c0d0e0f",
        "--auth",
        "hmac-sha256-128:0001020304050607080900010203040506070809000102030405060708090001",
        "--esn-high",
        "7",
        "--udp-encap",
    ];
    let mut args = vec!["esp", "encap"];
    args.extend(sa);
    args.extend(["--seq", "9", "-"]);
    let out = run(&args, inner);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let wire = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(wire.starts_with("11941194"), "UDP header on 4500: {wire}");
    let mut args = vec!["esp", "decap"];
    args.extend(sa);
    args.push("-");
    let out = run(&args, &wire);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(&format!("inner: {inner}")), "{stdout}");
    assert!(
        stdout.contains(&format!("sequence: {}", (7u64 << 32) | 9)),
        "{stdout}"
    );
    assert!(stdout.contains("UDP-encapsulated"), "{stdout}");
}

#[test]
fn bad_arguments_are_a_one_line_error_with_exit_1() {
    for args in [
        &[
            "esp", "decap", "--spi", "1", "--enc", "null", "--mode", "bogus", "-",
        ][..],
        &["esp", "decap", "--no-such-flag", "-"],
        &[
            "esp",
            "decap",
            "--spi",
            "1",
            "--enc",
            "null",
            "--esn-high",
            "x",
            "-",
        ],
    ] {
        let out = run(args, "");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("ipsec-inspect: error: "), "{stderr}");
    }
    let help = run(&["esp", "decap", "--help"], "");
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("--udp-encap"));
}

/// Wraps a UDP datagram in an IPv4 header with a valid checksum.
fn ipv4_udp(datagram: &[u8]) -> Vec<u8> {
    let total = u16::try_from(20 + datagram.len()).unwrap();
    let mut h = vec![
        0x45, 0, 0, 0, 0, 1, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2,
    ];
    h[2..4].copy_from_slice(&total.to_be_bytes());
    // RFC 1071 one's-complement sum, written out here independently of
    // esp-core's own checksum code.
    let mut sum: u32 = h
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    h[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    h.extend_from_slice(datagram);
    h
}

#[test]
fn udp_encapsulated_tunnel_packet_behind_an_outer_ipv4_header() {
    let inner = "4500001c000100004011000a0a0000010a00000204d2162e00080000";
    let sa = [
        "--spi",
        "c0ffee01",
        "--enc",
        "aes-gcm-16:000102030405060708090a0b0c0d0e0f01020304",
        "--udp-encap",
    ];
    let mut args = vec!["esp", "encap"];
    args.extend(sa);
    args.extend(["--seq", "3", "-"]);
    let out = run(&args, inner);
    assert!(out.status.success());
    let datagram: Vec<u8> = (0..)
        .map_while(|i| {
            let s = String::from_utf8_lossy(&out.stdout);
            let s = s.trim();
            s.get(2 * i..2 * i + 2)
                .map(|b| u8::from_str_radix(b, 16).unwrap())
        })
        .collect();
    assert_eq!(datagram[..4], [0x11, 0x94, 0x11, 0x94], "UDP 4500 -> 4500");
    let packet: String = ipv4_udp(&datagram)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut args = vec!["esp", "decap"];
    args.extend(sa);
    args.push("-");
    let out = run(&args, &packet);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("input: IPv4 + UDP + ESP"), "{stdout}");
    assert!(stdout.contains("sequence: 3"), "{stdout}");
    assert!(stdout.contains(&format!("inner: {inner}")), "{stdout}");
    // With --udp-encap the input may also be the datagram's payload alone.
    let payload: String = datagram[8..].iter().map(|b| format!("{b:02x}")).collect();
    let out = run(&args, &payload);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("input: ESP\n"), "{stdout}");
    assert!(stdout.contains(&format!("inner: {inner}")), "{stdout}");
    // ... and such a payload behind a non-ESP marker is IKE, not ESP.
    let out = run(&args, &format!("00000000{payload}"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("IKE"));
    // Without --udp-encap the same bytes are not taken for an outer header.
    let out = run(
        &args[..args.len() - 2]
            .iter()
            .chain(&["-"])
            .copied()
            .collect::<Vec<_>>(),
        &packet,
    );
    assert_eq!(out.status.code(), Some(1));
}
