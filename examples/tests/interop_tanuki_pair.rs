//! Two tanuki instances in two network namespaces with NAT-T off: the
//! initiator is `on_demand`, so a first ping starts the negotiation; ESP goes
//! as raw IP protocol 50 (tanuki's raw-socket path), pinged both ways; 40
//! pings of 1400 bytes exceed the child's 24 KB byte lifetime, which esp-core
//! counts, so the initiator rekeys while every echo still comes back; then
//! the initiator's SIGTERM Deletes are processed by the responder
//! (`tests/interop/scenarios/tanuki-pair.sh`).
//!
//! Needs root and `ip netns`; otherwise prints "SKIPPED: …" and passes,
//! unless `IPSEC_REQUIRE_INTEROP=1`.

use std::path::Path;
use std::process::Command;

fn missing_prerequisite() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2));
    if uid != Some("0") {
        return Some("not root (network namespaces, TUN and raw sockets need it)".into());
    }
    let netns = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .is_ok_and(|o| o.status.success());
    (!netns).then(|| "`ip netns` does not work here".into())
}

#[test]
fn two_tanukis_raw_esp_ping_both_ways() {
    if let Some(why) = missing_prerequisite() {
        assert!(
            std::env::var("IPSEC_REQUIRE_INTEROP").as_deref() != Ok("1"),
            "IPSEC_REQUIRE_INTEROP=1 but {why}"
        );
        println!("SKIPPED: tanuki pair: {why}");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::env::temp_dir().join(format!("tanuki-pair-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let output = Command::new("timeout")
        .arg("90")
        .arg(root.join("tests/interop/scenarios/tanuki-pair.sh"))
        .arg(&out)
        .env("TANUKI", env!("CARGO_BIN_EXE_tanuki"))
        .output()
        .expect("run tanuki-pair.sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    if !output.status.success() {
        for log in ["a.log", "b.log"] {
            let text = std::fs::read_to_string(out.join(log)).unwrap_or_default();
            println!("--- {log}\n{text}");
        }
        println!("--- stderr\n{}", String::from_utf8_lossy(&output.stderr));
    }
    assert!(output.status.success(), "tanuki-pair.sh failed");
    for want in [
        "RESULT: initiator: traffic for 10.99.2.1: initiate new phase 1 negotiation",
        "RESULT: ping a -> b: 3 packets transmitted, 3 received, 0% packet loss",
        "RESULT: ping b -> a: 3 packets transmitted, 3 received, 0% packet loss",
        "RESULT: bulk ping a -> b: 40 packets transmitted, 40 received, 0% packet loss",
        "RESULT: initiator: data path: soft byte lifetime of",
        "RESULT: initiator rekeyed:",
        "(peer sent a Delete)",
        "RESULT: PASS",
    ] {
        assert!(stdout.contains(want), "missing {want:?}");
    }
    let _ = std::fs::remove_dir_all(&out);
}
