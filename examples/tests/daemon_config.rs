//! `tanuki check` on the shipped example configurations, and on broken
//! ones: the error names the file and the line.

use std::path::Path;
use std::process::Command;

fn check(path: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tanuki"))
        .arg("check")
        .arg("--config")
        .arg(path)
        .output()
        .expect("run tanuki")
}

fn data(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/daemon")
        .join(name)
}

#[test]
fn cisco_pix_example_describes_the_seed_parameters() {
    let out = check(&data("cisco-pix.toml"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("listen 192.0.2.1"), "{text}");
    assert!(
        text.contains(
            "peer 198.51.100.2 Main nat_traversal On proposals [AES-CBC-256/sha1/group 5/86400 s]"
        ),
        "{text}"
    );
    assert!(text.contains("child 10.1.0.0/24[any] <-> 10.2.0.0/24[any] Tunnel esp [aes-256/hmac_sha1] pfs None 3600 s"), "{text}");
}

#[test]
fn strongswan_example_is_passive_with_gcm_and_pfs() {
    let out = check(&data("strongswan.toml"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(" passive "), "{text}");
    assert!(text.contains("aes-gcm-16-128"), "{text}");
    assert!(text.contains("pfs Some(14)"), "{text}");
}

#[test]
fn broken_config_names_file_and_line() {
    let dir = std::env::temp_dir().join(format!("tanuki-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let text = std::fs::read_to_string(data("cisco-pix.toml")).expect("example");
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        text.replace("aes256-sha1-modp1536", "aes256-sha1-modp1537"),
    )
    .expect("write");
    let out = check(&bad);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let line = text
        .lines()
        .position(|l| l.contains("aes256-sha1-modp1536"))
        .expect("proposal line")
        + 1;
    assert!(
        err.contains(&format!(
            "bad.toml:{line}: proposal `aes256-sha1-modp1537`: unknown DH group `modp1537`"
        )),
        "{err}"
    );
}

/// The kernel data path example: refused with a plain message on a kernel
/// without PF_KEY (these build machines), described where `af_key` exists.
#[test]
fn kernel_example_needs_pf_key() {
    let out = check(&data("kernel.toml"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    match pfkey::PfKeySocket::open() {
        Err(pfkey::SocketError::NoPfKey) => {
            assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
            assert!(
                stderr.contains("this kernel has no PF_KEY (af_key module not loaded?"),
                "{stderr}"
            );
        }
        _ => {
            assert!(out.status.success(), "{stderr}");
            assert!(stdout.contains("data_path kernel (PF_KEY)"), "{stdout}");
            assert!(
                stdout.contains("child 192.168.1.0/24[any] <-> 192.168.2.0/24[any] Tunnel esp [aes-256/hmac_sha1, 3des/hmac_md5] pfs None 3600 s policy require\n"),
                "{stdout}"
            );
            assert!(
                stdout.contains(
                    "Transport esp [aes-128/hmac_sha512] pfs None 3600 s policy unique reqid 100\n"
                ),
                "{stdout}"
            );
        }
    }
}

/// AES-GCM with the kernel data path is refused before anything runs,
/// naming the transform and the two ways out.
#[test]
fn kernel_data_path_refuses_aes_gcm() {
    let dir = std::env::temp_dir().join(format!("tanuki-kernel-gcm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let text = std::fs::read_to_string(data("kernel.toml")).expect("example");
    let bad = dir.join("gcm.toml");
    std::fs::write(
        &bad,
        text.replacen("[\"aes256-sha1\", ", "[\"aes256gcm16\", ", 1),
    )
    .expect("write");
    let out = check(&bad);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let line = text
        .lines()
        .position(|l| l.contains("[\"aes256-sha1\", "))
        .expect("esp line")
        + 1;
    assert!(
        err.contains(&format!(
            "gcm.toml:{line}: esp `aes256gcm16` (aes-gcm-16-256): AEAD transforms cannot be installed through PF_KEY on Linux"
        )),
        "{err}"
    );
    assert!(err.contains("or install the SAs with `ip xfrm`"), "{err}");
}

/// `tanuki run` with the kernel data path stops before binding anything on
/// a kernel without PF_KEY, with the same plain message.
#[test]
fn kernel_run_without_pf_key_says_so() {
    if !matches!(pfkey::PfKeySocket::open(), Err(pfkey::SocketError::NoPfKey)) {
        eprintln!("skipped: this kernel has PF_KEY");
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_tanuki"))
        .arg("run")
        .arg("--config")
        .arg(data("kernel.toml"))
        .env("RUST_LOG", "info")
        .output()
        .expect("run tanuki");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let log = format!("{err}{}", String::from_utf8_lossy(&out.stdout));
    assert!(
        log.contains("this kernel has no PF_KEY (af_key module not loaded?"),
        "{log}"
    );
}
