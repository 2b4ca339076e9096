//! The README's main command: the in-process demo negotiates and moves ESP.

use std::process::Command;

#[test]
fn demo_negotiates_and_moves_esp_both_ways() {
    let out = Command::new(env!("CARGO_BIN_EXE_ipsec-demo"))
        .args(["--packets", "5"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let log =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert_eq!(log.matches("ISAKMP-SA established").count(), 2, "{log}");
    assert_eq!(
        log.matches("IPsec-SA established: ESP/Tunnel").count(),
        4,
        "{log}"
    );
    assert!(
        stdout.contains("ESP packets linux->pix 5/5, pix->linux 5/5"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ESP/Tunnel aes-256/hmac_sha1 3600 s"),
        "{stdout}"
    );
    // The seed's PIX Phase 1: AES-256, SHA-1, DH group 5, 86400 s.
    assert!(
        stdout.contains("ISAKMP-SA aes-256/sha1/modp1536 86400 s"),
        "{stdout}"
    );
}
