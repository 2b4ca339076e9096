//! `ipsec-inspect keys` over every acceptance case: 60 NIST CAVS cases
//! (pre-shared key and signature, SHA-1/256/384/512) and the RUB-NDS
//! sessions; plus the one-line errors for bad arguments.

use std::process::Command;

use serde_json::Value;

fn inspect(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ipsec-inspect"))
        .arg("keys")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn every_acceptance_case() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/keys/keys-cases.json"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    for c in cases {
        let s = |k: &str| c[k].as_str().unwrap().to_string();
        let mut args = vec!["--auth".into(), s("auth"), "--prf".into(), s("prf")];
        for (flag, key) in [
            ("--ni", "ni"),
            ("--nr", "nr"),
            ("--cky-i", "cky_i"),
            ("--cky-r", "cky_r"),
            ("--gxy", "gxy"),
        ] {
            args.push(flag.into());
            args.push(s(key));
        }
        if let Some(h) = c.get("psk_hex") {
            args.extend(["--psk-hex".into(), h.as_str().unwrap().into()]);
        }
        if let Some(t) = c.get("psk_text") {
            args.extend(["--psk".into(), t.as_str().unwrap().into()]);
        }
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = inspect(&argv);
        let name = s("name");
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let expected = format!(
            "SKEYID={}\nSKEYID_d={}\nSKEYID_a={}\nSKEYID_e={}\n",
            s("SKEYID").to_lowercase(),
            s("SKEYID_d").to_lowercase(),
            s("SKEYID_a").to_lowercase(),
            s("SKEYID_e").to_lowercase()
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), expected, "{name}");
    }
    assert_eq!(cases.len(), 62);
}

#[test]
fn bad_arguments_are_one_line_errors() {
    let base = [
        "--prf",
        "sha1",
        "--ni",
        "00",
        "--nr",
        "00",
        "--cky-i",
        "0000000000000000",
        "--gxy",
        "01",
    ];
    for extra in [
        &["--auth", "psk", "--cky-r", "0000000000000000"][..],
        &["--auth", "sig", "--cky-r", "00"][..],
        &["--auth", "sig", "--cky-r", "0000000000000000", "--psk", "x"][..],
        &[
            "--auth",
            "psk",
            "--cky-r",
            "0000000000000000",
            "--psk-hex",
            "abc",
        ][..],
    ] {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        let out = inspect(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(out.stdout.is_empty());
    }
}
