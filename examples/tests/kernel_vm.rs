//! Tests against the real Linux kernel in the QEMU guest of
//! `tests/kernel-vm/`:
//!
//! - `pfkey_probe_*`: a PF_KEY probe independent of the `pfkey` crate. It
//!   builds RFC 2367 messages by hand, so a failure here points at the
//!   guest kernel, and a failure only in `pfkey`'s live tests at the crate.
//! - `esp_cross_*`: kernel ESP against esp-core, both ways, for every
//!   transform they share (see `kernel_vm/esp.rs`).
//! - `esp_recordings_*`: the kernel's ESP packets recorded by the above,
//!   decrypted with esp-core; runs anywhere.
//!
//! The host kernel has no PF_KEY and no ESP states, so the guest-only tests
//! are ignored by a plain `cargo test`; `tests/kernel-vm/ci.sh` runs them
//! inside the guest with `--include-ignored`.

#[path = "kernel_vm/esp.rs"]
mod esp;
#[path = "kernel_vm/sys.rs"]
mod sys;

use std::fs::{self, File};
use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::Duration;

use esp::{CASES, Direction, ESP_CORE_SRC_PORT, Instance, Recording};
use sys::{AF_INET, AF_INET6, EAGAIN, IPPROTO_RAW, MSG_DONTWAIT, SOCK_RAW};

// Linux <linux/pfkeyv2.h>, <errno.h>.
const PF_KEY: i32 = 15;
const PF_KEY_V2: u8 = 2;
const SADB_FLUSH: u8 = 9;
const SADB_DUMP: u8 = 10;
const SADB_REGISTER: u8 = 7;
const SADB_SATYPE_ESP: u8 = 3;
const SADB_EXT_SUPPORTED_AUTH: u16 = 14;
const SADB_EXT_SUPPORTED_ENCRYPT: u16 = 15;
const SADB_AALG_SHA1HMAC: u8 = 3;
const SADB_X_AALG_SHA2_256HMAC: u8 = 5;
const SADB_EALG_3DESCBC: u8 = 3;
const SADB_X_EALG_AESCBC: u8 = 12;
/// AES-CCM (14–16) and AES-GCM (18–20) ids, RFC 4309 / RFC 4106.
const AEAD_IDS: [u8; 6] = [14, 15, 16, 18, 19, 20];
const ENOENT: u8 = 2;
const EMSGSIZE: i32 = 90;

/// One `socket(PF_KEY, SOCK_RAW, PF_KEY_V2)`.
struct KeySocket {
    file: File,
}

/// The 16-byte `sadb_msg` header (RFC 2367 §2.3.1), host byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    kind: u8,
    errno: u8,
    satype: u8,
    len_words: u16,
    seq: u32,
    pid: u32,
}

impl Header {
    fn request(kind: u8, satype: u8, seq: u32) -> Self {
        Self {
            kind,
            errno: 0,
            satype,
            len_words: 2,
            seq,
            pid: std::process::id(),
        }
    }

    fn emit(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[0] = PF_KEY_V2;
        out[1] = self.kind;
        out[2] = self.errno;
        out[3] = self.satype;
        out[4..6].copy_from_slice(&self.len_words.to_ne_bytes());
        out[8..12].copy_from_slice(&self.seq.to_ne_bytes());
        out[12..16].copy_from_slice(&self.pid.to_ne_bytes());
        out
    }

    fn parse(msg: &[u8]) -> Self {
        assert!(msg.len() >= 16, "short PF_KEY message: {msg:02x?}");
        assert_eq!(msg[0], PF_KEY_V2, "sadb_msg_version");
        Self {
            kind: msg[1],
            errno: msg[2],
            satype: msg[3],
            len_words: u16::from_ne_bytes([msg[4], msg[5]]),
            seq: u32::from_ne_bytes(msg[8..12].try_into().unwrap()),
            pid: u32::from_ne_bytes(msg[12..16].try_into().unwrap()),
        }
    }
}

impl KeySocket {
    fn open() -> io::Result<Self> {
        let fd = sys::open(PF_KEY, SOCK_RAW, i32::from(PF_KEY_V2))?;
        Ok(Self {
            file: File::from(fd),
        })
    }

    fn send(&mut self, msg: &[u8]) -> io::Result<()> {
        let written = self.file.write(msg)?;
        assert_eq!(written, msg.len(), "PF_KEY writes are whole messages");
        Ok(())
    }

    /// The next queued message, or None. The kernel queues its replies
    /// before write() returns, so no waiting is needed.
    fn try_recv(&mut self) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; 65536];
        match sys::receive(&self.file, &mut buf, MSG_DONTWAIT) {
            Ok(n) => {
                buf.truncate(n);
                Some(buf)
            }
            Err(err) => {
                assert_eq!(err.raw_os_error(), Some(EAGAIN), "recv: {err}");
                None
            }
        }
    }

    /// The reply to our request: other tests' sockets cause broadcasts
    /// (e.g. FLUSH notifications) that reach this socket too.
    fn reply_to(&mut self, request: &Header) -> Vec<u8> {
        for _ in 0..64 {
            let Some(msg) = self.try_recv() else { break };
            let header = Header::parse(&msg);
            if header.kind == request.kind && header.seq == request.seq && header.pid == request.pid
            {
                assert_eq!(
                    usize::from(header.len_words) * 8,
                    msg.len(),
                    "sadb_msg_len counts 8-byte words of the whole message"
                );
                return msg;
            }
        }
        panic!("no reply to {request:?}");
    }
}

/// The `sadb_alg` ids (RFC 2367 §2.3.8) of one SUPPORTED extension.
fn supported_ids(msg: &[u8], ext_type: u16) -> Option<Vec<u8>> {
    let mut rest = &msg[16..];
    while rest.len() >= 4 {
        let len = usize::from(u16::from_ne_bytes([rest[0], rest[1]])) * 8;
        let kind = u16::from_ne_bytes([rest[2], rest[3]]);
        assert!(len >= 8 && len <= rest.len(), "extension length {len}");
        let (ext, tail) = rest.split_at(len);
        if kind == ext_type {
            // An 8-byte sadb_supported header, then 8-byte sadb_alg entries.
            return Some(ext[8..].chunks_exact(8).map(|alg| alg[0]).collect());
        }
        rest = tail;
    }
    None
}

#[test]
#[ignore = "needs a kernel with PF_KEY: run by tests/kernel-vm/ci.sh in a QEMU guest"]
fn pfkey_probe_register_esp_lists_the_kernel_algorithms() {
    let mut sock = KeySocket::open().expect("socket(PF_KEY, SOCK_RAW, PF_KEY_V2)");
    let request = Header::request(SADB_REGISTER, SADB_SATYPE_ESP, 7001);
    sock.send(&request.emit()).unwrap();
    let reply = sock.reply_to(&request);
    let header = Header::parse(&reply);
    assert_eq!(header.errno, 0);
    assert_eq!(header.satype, SADB_SATYPE_ESP);

    let auth = supported_ids(&reply, SADB_EXT_SUPPORTED_AUTH).expect("SUPPORTED_AUTH");
    let encrypt = supported_ids(&reply, SADB_EXT_SUPPORTED_ENCRYPT).expect("SUPPORTED_ENCRYPT");
    assert!(auth.contains(&SADB_AALG_SHA1HMAC), "auth {auth:?}");
    assert!(auth.contains(&SADB_X_AALG_SHA2_256HMAC), "auth {auth:?}");
    assert!(encrypt.contains(&SADB_X_EALG_AESCBC), "encrypt {encrypt:?}");
    assert!(encrypt.contains(&SADB_EALG_3DESCBC), "encrypt {encrypt:?}");
    // Linux never offers AEAD through PF_KEY; only XFRM netlink installs them.
    assert!(
        encrypt.iter().all(|id| !AEAD_IDS.contains(id)),
        "encrypt {encrypt:?}"
    );
}

#[test]
#[ignore = "needs a kernel with PF_KEY: run by tests/kernel-vm/ci.sh in a QEMU guest"]
fn pfkey_probe_a_header_without_its_length_is_refused_by_write() {
    let mut sock = KeySocket::open().expect("socket(PF_KEY, SOCK_RAW, PF_KEY_V2)");
    let mut request = Header::request(SADB_REGISTER, SADB_SATYPE_ESP, 7002);
    request.len_words = 0;
    let err = sock.send(&request.emit()).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(EMSGSIZE), "{err}");
    assert_eq!(sock.try_recv(), None, "a refused write gets no reply");
}

#[test]
#[ignore = "needs a kernel with PF_KEY: run by tests/kernel-vm/ci.sh in a QEMU guest"]
fn pfkey_probe_dump_of_an_empty_table_answers_enoent() {
    let mut sock = KeySocket::open().expect("socket(PF_KEY, SOCK_RAW, PF_KEY_V2)");
    let flush = Header::request(SADB_FLUSH, SADB_SATYPE_ESP, 7003);
    sock.send(&flush.emit()).unwrap();
    assert_eq!(Header::parse(&sock.reply_to(&flush)).errno, 0);

    let dump = Header::request(SADB_DUMP, SADB_SATYPE_ESP, 7004);
    sock.send(&dump.emit()).unwrap();
    // Errors are a bare header with sadb_msg_errno set; write() succeeded.
    let reply = sock.reply_to(&dump);
    assert_eq!(reply.len(), 16);
    assert_eq!(Header::parse(&reply).errno, ENOENT);
}

// --- kernel ESP <-> esp-core -------------------------------------------------

/// Lets ESP run over `lo` (Linux exempts loopback from IPsec by default)
/// and adds the case's addresses to it.
fn prepare_loopback(instance: &Instance) -> Result<(), String> {
    // A decapsulated IPv4 tunnel packet comes in on lo from a local
    // address: without accept_local it is dropped as a martian.
    for (knob, value) in [
        ("disable_xfrm", "0"),
        ("disable_policy", "0"),
        ("accept_local", "1"),
    ] {
        let path = format!("/proc/sys/net/ipv4/conf/lo/{knob}");
        fs::write(&path, value).map_err(|e| format!("{path}: {e}"))?;
    }
    let mut commands = Vec::new();
    for addr in [
        instance.outer_src,
        instance.outer_dst,
        instance.inner_src,
        instance.inner_dst,
    ] {
        let mut args = vec!["addr".to_string(), "replace".into()];
        match addr {
            IpAddr::V4(a) => args.push(format!("{a}/32")),
            IpAddr::V6(a) => args.push(format!("{a}/128")),
        }
        args.extend(["dev".into(), "lo".into()]);
        if addr.is_ipv6() {
            args.push("nodad".into());
        }
        commands.push(args);
    }
    commands.extend(instance.ip_commands());
    esp::ip_batch(&commands)
}

/// The kernel's IPsec error counters that are not zero, for failure messages.
fn xfrm_errors() -> String {
    let stats = fs::read_to_string("/proc/net/xfrm_stat").unwrap_or_default();
    let nonzero: Vec<&str> = stats
        .lines()
        .filter(|l| l.split_whitespace().nth(1).is_some_and(|v| v != "0"))
        .collect();
    format!("xfrm_stat: [{}]", nonzero.join(", "))
}

fn kernel_release() -> String {
    fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// The kernel encrypts one datagram; esp-core must decrypt what `lo` saw.
fn kernel_to_esp_core(instance: &Instance) -> Result<Recording, String> {
    prepare_loopback(instance)?;
    let lo: i32 = fs::read_to_string("/sys/class/net/lo/ifindex")
        .map_err(|e| format!("lo ifindex: {e}"))?
        .trim()
        .parse()
        .map_err(|e| format!("lo ifindex: {e}"))?;
    let capture = sys::open_capture(lo).map_err(|e| format!("packet socket: {e}"))?;
    sys::set_receive_timeout(&capture, 2).map_err(|e| format!("SO_RCVTIMEO: {e}"))?;

    let sender = UdpSocket::bind((instance.inner_src, 0)).map_err(|e| format!("bind: {e}"))?;
    sender
        .send_to(&instance.payload(), (instance.inner_dst, instance.dst_port))
        .map_err(|e| format!("send: {e}"))?;

    let mut buf = vec![0u8; 65536];
    // lo shows every packet twice (out and in) plus unrelated traffic.
    for _ in 0..64 {
        let n = sys::receive(&capture, &mut buf, 0)
            .map_err(|e| format!("no ESP packet on lo ({e}); {}", xfrm_errors()))?;
        let packet = &buf[..n];
        if instance.is_our_esp(packet) {
            let recording = instance.record(&kernel_release(), packet);
            recording.check_with_esp_core()?;
            return Ok(recording);
        }
    }
    Err("no ESP packet with our SPI among 64 packets".into())
}

/// esp-core encrypts one datagram; the kernel must decrypt and deliver it.
fn esp_core_to_kernel(instance: &Instance) -> Result<(), String> {
    prepare_loopback(instance)?;
    let receiver = UdpSocket::bind((instance.inner_dst, instance.dst_port))
        .map_err(|e| format!("bind receiver: {e}"))?;
    receiver
        .set_read_timeout(Some(Duration::from_secs(3)))
        .map_err(|e| format!("timeout: {e}"))?;
    // NAT-T: the kernel decapsulates only on a socket marked ESPINUDP.
    let _encap_socket = if instance.case.udp_encap() {
        let socket =
            UdpSocket::bind((instance.outer_dst, 4500)).map_err(|e| format!("bind 4500: {e}"))?;
        sys::set_udp_encap_espinudp(&socket).map_err(|e| format!("UDP_ENCAP: {e}"))?;
        Some(socket)
    } else {
        None
    };

    let payload = instance.payload();
    let inner = esp::udp_packet(
        instance.inner_src,
        instance.inner_dst,
        ESP_CORE_SRC_PORT,
        instance.dst_port,
        &payload,
    );
    let packet = instance.esp_core_encapsulate(&inner)?;
    let family = if instance.outer_dst.is_ipv6() {
        AF_INET6
    } else {
        AF_INET
    };
    // IPPROTO_RAW: we supply the IP header ourselves.
    let raw = sys::open(family, SOCK_RAW, IPPROTO_RAW).map_err(|e| format!("raw socket: {e}"))?;
    sys::send_to(&raw, &packet, instance.outer_dst).map_err(|e| format!("sendto: {e}"))?;

    let mut buf = [0u8; 2048];
    let (n, from) = receiver
        .recv_from(&mut buf)
        .map_err(|e| format!("the kernel delivered nothing ({e}); {}", xfrm_errors()))?;
    if from != SocketAddr::new(instance.inner_src, ESP_CORE_SRC_PORT) {
        return Err(format!("datagram from {from}"));
    }
    if buf[..n] != payload[..] {
        return Err(format!("payload {:?}", String::from_utf8_lossy(&buf[..n])));
    }
    Ok(())
}

fn run_cases(direction: Direction, mut each: impl FnMut(&Instance) -> Result<(), String>) {
    let mut failures = Vec::new();
    for (i, case) in CASES.iter().enumerate() {
        let instance = Instance::new(u8::try_from(i + 1).unwrap(), *case, direction);
        let start = std::time::Instant::now();
        let result = each(&instance);
        let ms = start.elapsed().as_millis();
        match result {
            Ok(()) => println!("ok   {} ({ms} ms)", case.name),
            Err(e) => {
                println!("FAIL {}: {e}", case.name);
                failures.push(format!("{}: {e}", case.name));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed ({direction:?}):\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
#[ignore = "needs kernel ESP: run by tests/kernel-vm/ci.sh in a QEMU guest"]
fn esp_cross_kernel_encrypts_esp_core_decrypts() {
    // With KVM_OUT set (run.sh --out), keep the packets as recordings.
    let out = std::env::var_os("KVM_OUT").map(|d| PathBuf::from(d).join("kernel-esp"));
    if let Some(dir) = &out {
        fs::create_dir_all(dir).unwrap();
    }
    let mut n = 0;
    run_cases(Direction::KernelToEspCore, |instance| {
        let recording = kernel_to_esp_core(instance)?;
        n += 1;
        if let Some(dir) = &out {
            let path = dir.join(format!("{n:02}-{}.json", instance.case.name));
            let json = serde_json::to_string_pretty(&recording).map_err(|e| e.to_string())?;
            fs::write(&path, json + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(())
    });
}

#[test]
#[ignore = "needs kernel ESP: run by tests/kernel-vm/ci.sh in a QEMU guest"]
fn esp_cross_esp_core_encrypts_kernel_decrypts() {
    run_cases(Direction::EspCoreToKernel, esp_core_to_kernel);
}

/// The packets a real kernel encrypted (recorded by the test above in the
/// guest, see tests/kernel-vm/vectors/README.md) decrypt with esp-core.
#[test]
fn esp_recordings_decrypt_with_esp_core() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/kernel-vm/vectors/kernel-esp");
    let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    assert_eq!(
        paths.len(),
        CASES.len(),
        "one recording per case; re-record with tests/kernel-vm/ci.sh --out DIR"
    );
    let mut failures = Vec::new();
    for path in &paths {
        let text = fs::read_to_string(path).unwrap();
        let recording: Recording =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if let Err(e) = recording.check_with_esp_core() {
            failures.push(format!("{}: {e}", recording.case));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The same recordings through the `ipsec-inspect esp decap` command line.
#[test]
fn esp_recordings_decrypt_with_ipsec_inspect() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/kernel-vm/vectors/kernel-esp");
    let mut failures = Vec::new();
    let mut checked = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let recording: Recording =
            serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        let (args, input) = recording.ipsec_inspect_decap().unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ipsec-inspect"))
            .args(&args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
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
                io::ErrorKind::BrokenPipe => Ok(()),
                other => Err(other),
            })
            .expect("write the child's stdin");
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        // Transport mode over IPv4 prints the rebuilt packet, otherwise
        // what ESP carried; either ends with the datagram's payload.
        let decrypted = stdout.lines().find_map(|l| {
            l.strip_prefix("packet: ")
                .or_else(|| l.strip_prefix("inner: "))
        });
        checked += 1;
        if !out.status.success() || !decrypted.is_some_and(|d| d.ends_with(recording.payload_hex()))
        {
            failures.push(format!(
                "{}: {} {}{}",
                recording.case,
                args.join(" "),
                stdout,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert_eq!(checked, CASES.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The end-to-end scenario's files (`examples/tests/data/kernel-e2e/`, run
/// by `tests/kernel-vm/guest/e2e-*.sh`): what the guest steps rely on,
/// checked on every `cargo test` so a broken file fails here, not in QEMU.
mod kernel_e2e {
    use std::net::IpAddr;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use ike_core::config::EncapsulationMode;
    use ipsec_examples::daemon::config::{self, DataPathKind, SpdLevel};

    const GW_A: &str = "192.168.1.100";
    const GW_B: &str = "192.168.2.100";

    fn data(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/kernel-e2e")
            .join(name)
    }

    /// `ipsec-setkey -n -f FILE`: the decoded messages it would send.
    fn dry_run(name: &str) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_ipsec-setkey"))
            .arg("-n")
            .arg("-f")
            .arg(data(name))
            .output()
            .expect("run ipsec-setkey");
        assert!(
            out.status.success(),
            "ipsec-setkey -n -f {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    /// The SpdAdd messages of a dry run: (src, dst, the X_POLICY lines).
    fn policies(dry: &str) -> Vec<(String, String, String)> {
        let mut found = Vec::new();
        for block in dry.split("\nSpdAdd ").skip(1) {
            let field = |key: &str| {
                block
                    .lines()
                    .find_map(|l| l.trim().strip_prefix(key))
                    .and_then(|rest| rest.split_whitespace().next())
                    .unwrap_or_default()
                    .to_owned()
            };
            let policy: Vec<&str> = block
                .lines()
                .skip_while(|l| !l.contains("X_POLICY"))
                .take_while(|l| !l.ends_with(':'))
                .map(str::trim)
                .collect();
            found.push((
                field("ADDRESS_SRC "),
                field("ADDRESS_DST "),
                policy.join(" "),
            ));
        }
        found
    }

    /// Each host's tanuki config is the kernel data path between the two
    /// gateways, and its child's selectors are exactly the outbound policy
    /// setkey loads there: otherwise the kernel's ACQUIRE would name
    /// selectors tanuki has no child for. In the `generate` case b loads no
    /// policies and is a passive responder whose tanuki generates them. The
    /// tunnel case's children live 15 s (it pings across their rekey).
    #[test]
    fn kernel_e2e_daemon_configs_match_the_policies() {
        for case in ["tunnel", "transport", "generate"] {
            for (host, me, peer) in [("a", GW_A, GW_B), ("b", GW_B, GW_A)] {
                let generates = case == "generate" && host == "b";
                let toml = format!("tanuki-{case}-{host}.toml");
                let c = config::load(&data(&toml)).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(c.data_path, DataPathKind::Kernel, "{toml}");
                assert_eq!(c.listen, me.parse::<IpAddr>().unwrap(), "{toml}");
                let [p] = c.peers.as_slice() else {
                    panic!("{toml}: expected one peer")
                };
                assert_eq!(p.address, peer.parse::<IpAddr>().unwrap(), "{toml}");
                let [child] = p.children.as_slice() else {
                    panic!("{toml}: expected one child")
                };
                let want_mode = match case {
                    "transport" => EncapsulationMode::Transport,
                    _ => EncapsulationMode::Tunnel,
                };
                assert_eq!(child.mode, want_mode, "{toml}");
                let rekeys = child.lifetime.seconds.is_some_and(|s| s <= 15);
                assert_eq!(rekeys, case == "tunnel", "{toml}: {:?}", child.lifetime);
                let levels: Vec<_> = p.child_spd.iter().map(|s| s.level).collect();
                let conf = format!("policy-{case}-{host}.conf");
                let pols = policies(&dry_run(&conf));
                if generates {
                    assert!(p.passive, "{toml}: the generating responder is passive");
                    assert_eq!(levels, [Some(SpdLevel::Require)], "{toml}");
                    assert!(pols.is_empty(), "{conf}: b must start with no policies");
                    continue;
                }
                assert!(
                    p.on_demand && !p.passive,
                    "{toml}: must initiate on ACQUIRE"
                );
                // Generated policies would race the ones setkey loads.
                assert_eq!(levels, [None], "{toml}: generate_policy must stay off");

                let shown = |t: Option<ike_core::config::TrafficSelector>| {
                    let text = t.map(|t| t.to_string()).unwrap_or_default();
                    let addr = text.trim_end_matches("[any]").to_owned();
                    if addr.contains('/') {
                        addr
                    } else {
                        format!("{addr}/32")
                    }
                };
                let (local, remote) = (shown(child.local), shown(child.remote));
                let template = match case {
                    "transport" => "Esp/Transport//Require".to_owned(),
                    _ => format!("Esp/Tunnel/{me}-{peer}/Require"),
                };
                let out = pols
                    .iter()
                    .find(|(_, _, x)| x.contains("dir=Outbound"))
                    .unwrap_or_else(|| panic!("{conf}: no outbound policy in {pols:?}"));
                assert_eq!((&out.0, &out.1), (&local, &remote), "{conf} vs {toml}");
                assert!(
                    out.2.contains(&template),
                    "{conf}: {} lacks {template}",
                    out.2
                );
                let inbound = pols
                    .iter()
                    .find(|(_, _, x)| x.contains("dir=Inbound"))
                    .unwrap_or_else(|| panic!("{conf}: no inbound policy in {pols:?}"));
                assert_eq!((&inbound.0, &inbound.1), (&remote, &local), "{conf}");
                assert!(inbound.2.contains("/Require"), "{conf}: {}", inbound.2);
            }
        }
    }

    /// The manual-key files parse, and each host installs the same two SAs
    /// (same SPIs, algorithms and key lengths) with its policies mirrored.
    #[test]
    fn kernel_e2e_static_files_mirror_each_other() {
        for mode in ["tunnel", "transport"] {
            let a = dry_run(&format!("static-{mode}-a.conf"));
            let b = dry_run(&format!("static-{mode}-b.conf"));
            let sas = |dry: &str| -> Vec<String> {
                dry.split("\nAdd ")
                    .skip(1)
                    .map(|blk| {
                        blk.lines()
                            .skip(1)
                            .take_while(|l| l.starts_with("  "))
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
                    .collect()
            };
            assert_eq!(sas(&a).len(), 2, "{mode}: {a}");
            assert_eq!(sas(&a), sas(&b), "{mode}: the hosts' SAs differ");
            let (pa, pb) = (policies(&a), policies(&b));
            assert!(!pa.is_empty());
            for (src, dst, x) in &pa {
                let dir = if x.contains("dir=Outbound") {
                    "dir=Inbound"
                } else {
                    "dir=Outbound"
                };
                if x.contains("dir=Forward") {
                    continue;
                }
                assert!(
                    pb.iter()
                        .any(|(s, d, y)| (s, d) == (src, dst) && y.contains(dir)),
                    "{mode}: b has no {dir} policy {src} -> {dst}: {pb:?}"
                );
            }
        }
    }
}
