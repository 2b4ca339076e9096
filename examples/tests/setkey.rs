//! The `ipsec-setkey` example on the seeds' setkey configurations and on
//! statements whose messages a real Linux kernel accepted. `-n` needs no
//! kernel; without it, this machine has no PF_KEY and the tool must say so.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use pfkey::wire::{IpsecLevel, IpsecMode, Message, MessageType, PolicyDir, SaType};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/setkey")
        .join(name)
}

fn setkey(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ipsec-setkey"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The messages `-n --hex` printed, decoded again with the codec.
fn dry_run(file: &str) -> (String, Vec<Message>) {
    let path = data(file);
    let out = setkey(&["-n", "--hex", "-f", path.to_str().unwrap()]);
    assert!(out.status.success(), "{file}: {}", stderr(&out));
    let text = stdout(&out);
    let messages = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("hex "))
        .map(|h| Message::parse(&ipsec_examples::input::parse_hex(h).unwrap()).unwrap())
        .collect();
    (text, messages)
}

#[test]
fn statements_match_requests_the_kernel_accepted() {
    let (_, messages) = dry_run("kernel-vectors.conf");
    let vectors = [
        "017-send-ADD",
        "019-send-ADD",
        "031-send-GET",
        "069-send-DELETE",
        "047-send-X_SPDADD",
        "049-send-X_SPDADD",
        "051-send-X_SPDADD",
        "053-send-X_SPDADD",
        "055-send-X_SPDADD",
        "065-send-X_SPDDELETE",
        "001-send-FLUSH",
        "003-send-X_SPDFLUSH",
        "035-send-DUMP",
        "059-send-X_SPDDUMP",
        "075-send-FLUSH",
    ];
    assert_eq!(messages.len(), vectors.len());
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../pfkey/tests/data/pfkey-linux/suite");
    for (msg, name) in messages.iter().zip(vectors) {
        let text = std::fs::read_to_string(dir.join(format!("{name}.hex"))).unwrap();
        let mut want = Message::parse(&ipsec_examples::input::parse_hex(&text).unwrap()).unwrap();
        // Only seq and pid differ: those belong to the sending process.
        want.header.seq = msg.header.seq;
        want.header.pid = msg.header.pid;
        assert_eq!(
            &msg.to_bytes().unwrap()[..],
            &want.to_bytes().unwrap()[..],
            "{name}"
        );
    }
    // seq counts up from 1, as the client assigns it.
    let seqs: Vec<u32> = messages.iter().map(|m| m.header.seq).collect();
    assert_eq!(seqs, (1..=15).collect::<Vec<_>>());
}

#[test]
fn seed_transport_configuration() {
    let (text, m) = dry_run("seed001-transport.conf");
    let types: Vec<MessageType> = m.iter().map(|m| m.header.msg_type).collect();
    use MessageType::*;
    assert_eq!(types, [Flush, SpdFlush, Add, Add, Add, Add, SpdAdd, SpdAdd]);
    // add 192.168.1.100 192.168.2.100 ah 0x200 -A hmac-md5 0xc029…;
    let ah = &m[2];
    assert_eq!(ah.header.satype, SaType::Ah);
    assert_eq!(ah.sa().unwrap().spi, 0x200);
    assert_eq!(ah.sa().unwrap().auth, 2);
    assert_eq!(
        ah.address_src().unwrap().addr.ip().to_string(),
        "192.168.1.100"
    );
    assert_eq!(
        ipsec_examples::input::to_hex(ah.key_auth().unwrap().as_bytes()),
        "c0291ff014dccdd03874d9e8e4cdf3e6"
    );
    assert!(ah.key_encrypt().is_none());
    let esp = &m[5];
    assert_eq!(
        (esp.sa().unwrap().spi, esp.sa().unwrap().encrypt),
        (0x301, 3)
    );
    assert_eq!(esp.key_encrypt().unwrap().bits(), 192);
    assert_eq!(
        esp.sa2().unwrap().mode,
        IpsecMode::Any,
        "setkey's default mode"
    );
    // spdadd … -P out ipsec esp/transport//require ah/transport//require;
    let out = m[6].policy().unwrap();
    assert_eq!(out.dir, PolicyDir::Outbound);
    assert_eq!(out.requests.len(), 2);
    assert!(out.requests.iter().all(|r| r.level == IpsecLevel::Require
        && r.mode == IpsecMode::Transport
        && r.tunnel.is_none()));
    assert_eq!(m[7].policy().unwrap().dir, PolicyDir::Inbound);
    // Lines are named, and the decoded text never shows keys.
    assert!(
        text.contains("seed001-transport.conf:14:\nAdd satype=Ah"),
        "{text}"
    );
    assert!(text.contains("KEY_AUTH 128 bits (not shown)"), "{text}");
    let decoded: String = text.lines().filter(|l| !l.contains("hex ")).collect();
    assert!(
        !decoded.contains("c0291ff014dccdd0"),
        "a key leaked: {decoded}"
    );
}

#[test]
fn seed_tunnel_configurations() {
    let (_, m) = dry_run("seed001-tunnel.conf");
    assert_eq!(m.len(), 7);
    assert_eq!(m[2].sa2().unwrap().mode, IpsecMode::Tunnel);
    assert_eq!(m[2].key_auth().unwrap().bits(), 128);
    let fwd = m[6].policy().unwrap();
    assert_eq!(fwd.dir, PolicyDir::Forward);
    let (src, dst) = fwd.requests[0].tunnel.unwrap();
    assert_eq!(
        (src.ip().to_string(), dst.ip().to_string()),
        ("192.168.2.100".into(), "192.168.1.100".into())
    );
    assert_eq!(m[4].address_src().unwrap().prefixlen, 24);

    let (_, m) = dry_run("seed001-racoon.conf");
    assert_eq!(m.len(), 4);
    assert_eq!(
        m[2].policy().unwrap().requests[0].level,
        IpsecLevel::Require
    );

    let (_, m) = dry_run("seed004-unique.conf");
    assert_eq!(m.len(), 4);
    for p in [m[2].policy().unwrap(), m[3].policy().unwrap()] {
        assert_eq!(p.requests[0].level, IpsecLevel::Unique);
        assert_eq!(
            p.requests[0].reqid, 0,
            "plain unique: the kernel picks the reqid"
        );
    }
    assert_eq!(m[3].policy().unwrap().dir, PolicyDir::Inbound);
}

#[test]
fn errors_name_file_and_line() {
    let path = data("seed003-stripped.conf");
    let out = setkey(&["-n", "-f", path.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("seed003-stripped.conf:5: 'any' is not an IP address"),
        "{err}"
    );
    assert!(stdout(&out).is_empty(), "nothing runs after a syntax error");
}

fn run_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ipsec-setkey"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .map_err(|e| e.kind())
        .or_else(|kind| match kind {
            // The program may exit (e.g. on a usage error) before reading stdin.
            std::io::ErrorKind::BrokenPipe => Ok(()),
            other => Err(other),
        })
        .expect("write the child's stdin");
    child.wait_with_output().unwrap()
}

#[test]
fn commands_from_stdin_and_aes_gcm_refused() {
    let out = run_stdin(&["-n", "-c"], "spdflush;\nspddump;\n");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("stdin:1:\nSpdFlush"), "{text}");
    assert!(text.contains("stdin:2:\nSpdDump"), "{text}");

    let gcm = "flush;\nadd 10.0.0.1 10.0.0.2 esp 0x10\n  -E aes-gcm-16 0x00112233445566778899aabbccddeeff00112233;\n";
    let out = run_stdin(&["-n", "-c"], gcm);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("stdin:3: aes-gcm-16 cannot be installed through PF_KEY on Linux"),
        "{err}"
    );
    assert!(err.contains("XFRM netlink"), "{err}");
}

#[test]
fn dump_flags_build_the_right_requests() {
    for (flag, msg_type) in [
        ("-D", MessageType::Dump),
        ("-DP", MessageType::SpdDump),
        ("-F", MessageType::Flush),
        ("-FP", MessageType::SpdFlush),
    ] {
        let out = setkey(&["-n", "--hex", flag]);
        assert!(out.status.success(), "{flag}: {}", stderr(&out));
        let text = stdout(&out);
        let hex = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("hex "))
            .unwrap();
        let msg = Message::parse(&ipsec_examples::input::parse_hex(hex).unwrap()).unwrap();
        assert_eq!(msg.header.msg_type, msg_type, "{flag}");
        assert_eq!(msg.header.satype, SaType::Unspec);
        assert!(msg.extensions.is_empty());
    }
}

#[test]
fn without_pf_key_the_tool_says_so() {
    if Path::new("/proc/net/pfkey").exists() {
        eprintln!("this kernel has PF_KEY; the no-PF_KEY message cannot be checked here");
        return;
    }
    let out = setkey(&["-D"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("this kernel has no PF_KEY (af_key module not loaded or not built)")
            || err.contains("needs CAP_NET_ADMIN"),
        "{err}"
    );
}
