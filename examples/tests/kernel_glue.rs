//! tanuki's kernel glue against the real kernel, inside the QEMU guest
//! (`tests/kernel-vm/ci.sh` runs these with `--include-ignored`): pairs
//! negotiated in memory by two ike-core endpoints go through
//! `daemon::kernel` into the kernel, and are read back with GET and
//! X_SPDDUMP. Elsewhere they are ignored (and would skip without PF_KEY).

use std::net::IpAddr;

use ike_core::config::{
    ChildPolicy, EncapsulationMode, EspCipher, EspTransform, IntegrityAlgorithm, Lifetime,
    TrafficSelector,
};
use ike_core::endpoint::ChildSa;
use ipsec_examples::daemon::config::{ChildSpd, SpdLevel};
use ipsec_examples::daemon::kernel::KernelSas;
use ipsec_examples::daemon::kernel_testing::negotiate;
use ipsec_examples::daemon::kernel_udp::bypass_ipsec;
use pfkey::socket::SessionError;
use pfkey::wire::{IpsecLevel, IpsecMode, PolicyDir, SaType};
use pfkey::{Session, SocketError, request};

/// No generated policies, reqid 0.
const NO_SPD: ChildSpd = ChildSpd {
    level: None,
    reqid: 0,
};

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

fn open() -> Option<Session> {
    match Session::open() {
        Ok(s) => Some(s),
        Err(SocketError::NoPfKey) => {
            eprintln!("skipped: this kernel has no PF_KEY");
            None
        }
        Err(e) => panic!("PF_KEY: {e}"),
    }
}

fn policy(local: &str, remote: &str, mode: EncapsulationMode, t: EspTransform) -> ChildPolicy {
    let ts = |s: &str| match s.split_once('/') {
        Some((a, p)) => TrafficSelector::subnet(ip(a), p.parse().expect("prefix")),
        None => TrafficSelector::host(ip(s)),
    };
    ChildPolicy {
        local: Some(ts(local)),
        remote: Some(ts(remote)),
        mode,
        esp: vec![t],
        pfs_group: None,
        lifetime: Lifetime::seconds(3600),
        accept_ah: false,
        ah: Vec::new(),
        ipcomp: false,
    }
}

/// A transport pair between hosts `a` and `b`.
fn transport_pair(a: IpAddr, b: IpAddr, t: EspTransform, nat_t: bool) -> ChildSa {
    let (sa, sb) = (a.to_string(), b.to_string());
    let (pair, _) = negotiate(
        a,
        b,
        policy(&sa, &sb, EncapsulationMode::Transport, t),
        policy(&sb, &sa, EncapsulationMode::Transport, t),
        nat_t,
    )
    .expect("negotiated");
    pair
}

fn send_all(s: &mut Session, msgs: Vec<pfkey::wire::Message>) {
    for m in msgs {
        let t = m.header.msg_type;
        s.request(m).unwrap_or_else(|e| panic!("{t:?}: {e}"));
    }
}

#[test]
#[ignore = "needs a kernel with PF_KEY: run in the QEMU guest (tests/kernel-vm/ci.sh)"]
fn glue_tunnel_pair_and_generated_policies_read_back() {
    let Some(mut s) = open() else { return };
    let _ = s.request(request::flush(SaType::Unspec));
    let _ = s.request(request::spd_flush());
    let t = EspTransform {
        cipher: EspCipher::AesCbc,
        key_bits: Some(256),
        integrity: Some(IntegrityAlgorithm::HmacSha1),
    };
    let (a, b) = (ip("192.0.2.1"), ip("192.0.2.2"));
    let (pair, _) = negotiate(
        a,
        b,
        policy("10.1.0.0/24", "10.2.0.0/24", EncapsulationMode::Tunnel, t),
        policy("10.2.0.0/24", "10.1.0.0/24", EncapsulationMode::Tunnel, t),
        false,
    )
    .expect("negotiated");
    let mut sas = KernelSas::default();
    let spd = ChildSpd {
        level: Some(SpdLevel::Unique),
        reqid: 42,
    };
    send_all(&mut s, sas.install(&pair, spd).expect("installable"));

    for (spi, src, dst, keys) in [
        (pair.inbound.spi, b, a, &pair.inbound),
        (pair.outbound.spi, a, b, &pair.outbound),
    ] {
        let got = s
            .request(request::get(SaType::Esp, spi, src, dst))
            .expect("GET");
        let sa = got.sa().expect("sa");
        assert_eq!((sa.spi, sa.encrypt, sa.auth), (spi, 12, 3));
        assert_eq!(
            got.key_encrypt().expect("key").as_bytes(),
            &keys.encryption[..]
        );
        assert_eq!(got.key_auth().expect("key").as_bytes(), &keys.integrity[..]);
        assert_eq!(got.lifetime_hard().expect("hard").addtime, 3600);
        assert_eq!(got.lifetime_soft().expect("soft").addtime, 2880);
        let sa2 = got.sa2().expect("sa2");
        assert_eq!((sa2.mode, sa2.reqid), (IpsecMode::Tunnel, 42));
    }

    let policies = s.dump(request::spd_dump()).expect("SPDDUMP");
    let mut dirs: Vec<PolicyDir> = policies
        .iter()
        .filter_map(|m| {
            let p = m.policy()?;
            let r = p.requests.first()?;
            assert_eq!(
                (r.level, r.reqid, r.mode),
                (IpsecLevel::Unique, 42, IpsecMode::Tunnel)
            );
            let src = m.address_src()?;
            let expect_src = if p.dir == PolicyDir::Outbound {
                "10.1.0.0"
            } else {
                "10.2.0.0"
            };
            assert_eq!((src.addr.ip(), src.prefixlen), (ip(expect_src), 24));
            Some(p.dir)
        })
        .collect();
    dirs.sort_by_key(|d| u8::from(*d));
    assert_eq!(
        dirs,
        [PolicyDir::Inbound, PolicyDir::Outbound, PolicyDir::Forward]
    );
    if let Ok(out) = std::process::Command::new("ip")
        .args(["xfrm", "state"])
        .output()
    {
        eprintln!("ip xfrm state:\n{}", String::from_utf8_lossy(&out.stdout));
    }

    send_all(&mut s, sas.remove_all());
    let gone = s.request(request::get(SaType::Esp, pair.inbound.spi, b, a));
    assert!(
        matches!(gone, Err(SessionError::Kernel(e)) if e.errno == 3),
        "{gone:?}"
    );
    let left = s.dump(request::spd_dump()).expect("SPDDUMP");
    assert!(left.is_empty(), "policies left: {left:?}");
}

#[test]
#[ignore = "needs a kernel with PF_KEY: run in the QEMU guest (tests/kernel-vm/ci.sh)"]
fn glue_nat_t_transport_pair_reads_back_with_ports() {
    let Some(mut s) = open() else { return };
    let _ = s.request(request::flush(SaType::Unspec));
    let t = EspTransform {
        cipher: EspCipher::TripleDes,
        key_bits: None,
        integrity: Some(IntegrityAlgorithm::HmacMd5),
    };
    let (a, b) = (ip("192.0.2.1"), ip("192.0.2.2"));
    let pair = transport_pair(a, b, t, true);
    let mut sas = KernelSas::default();
    send_all(&mut s, sas.install(&pair, NO_SPD).expect("installable"));
    let got = s
        .request(request::get(SaType::Esp, pair.outbound.spi, a, b))
        .expect("GET");
    let sa = got.sa().expect("sa");
    assert_eq!((sa.encrypt, sa.auth), (3, 2));
    assert_eq!(got.nat_t_type().expect("encap").encap_type, 2);
    assert_eq!(got.nat_t_sport().expect("sport").port, 4500);
    assert_eq!(got.nat_t_dport().expect("dport").port, 4500);
    assert_eq!(got.sa2().expect("sa2").mode, IpsecMode::Transport);
    send_all(&mut s, sas.remove_all());
}

/// RFC 4868 §2.3: HMAC-SHA-256/384/512 in ESP are truncated to 128, 192
/// and 256 bits. Linux's PF_KEY gives SHA-256 96 bits (why the glue refuses
/// it, shown here with a hand-made ADD); SHA-384/512 pairs installed through
/// the glue get their RFC lengths. `ip xfrm state` prints the kernel's choice.
#[test]
#[ignore = "needs a kernel with PF_KEY: run in the QEMU guest (tests/kernel-vm/ci.sh)"]
fn glue_sha2_icv_lengths_in_the_kernel() {
    let Some(mut s) = open() else { return };
    let _ = s.request(request::flush(SaType::Unspec));
    let (a, b) = (ip("192.0.2.1"), ip("192.0.2.2"));
    let mut sha256 = request::SaSpec::new(SaType::Esp, 0x5256, a, b);
    sha256.encrypt = 12;
    sha256.encrypt_key = Some(pfkey::wire::Key::new(&[0x11; 16]).expect("key"));
    sha256.auth = 5;
    sha256.auth_key = Some(pfkey::wire::Key::new(&[0x22; 32]).expect("key"));
    s.request(request::add(&sha256)).expect("ADD SHA-256");
    let mut sas = KernelSas::default();
    for (i, integrity) in [
        IntegrityAlgorithm::HmacSha384,
        IntegrityAlgorithm::HmacSha512,
    ]
    .into_iter()
    .enumerate()
    {
        let t = EspTransform {
            cipher: EspCipher::AesCbc,
            key_bits: Some(128),
            integrity: Some(integrity),
        };
        let (a, b) = (
            ip(&format!("192.0.2.{}", 10 + 2 * i)),
            ip(&format!("192.0.2.{}", 11 + 2 * i)),
        );
        let pair = transport_pair(a, b, t, false);
        send_all(&mut s, sas.install(&pair, NO_SPD).expect("installable"));
    }
    let out = std::process::Command::new("ip")
        .args(["xfrm", "state"])
        .output()
        .expect("ip xfrm state");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    send_all(&mut s, sas.remove_all());
    let _ = s.request(request::delete(SaType::Esp, 0x5256, a, b));
    let icv = |alg: &str| {
        let line = text
            .lines()
            .find(|l| l.contains(&format!("auth-trunc hmac({alg})")))
            .unwrap_or_else(|| panic!("no hmac({alg}) state:\n{text}"));
        eprintln!("kernel: {}", line.trim());
        line.split_whitespace()
            .last()
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(
        icv("sha256"),
        "96",
        "Linux's PF_KEY SHA-256 ICV changed: lift the refusal"
    );
    assert_eq!(icv("sha384"), "192");
    assert_eq!(icv("sha512"), "256");
}

/// The IKE sockets' per-socket bypass policy is accepted by the kernel
/// (af_key parses it), for IPv4 and IPv6.
#[test]
#[ignore = "needs a kernel with PF_KEY: run in the QEMU guest (tests/kernel-vm/ci.sh)"]
fn glue_ike_sockets_bypass_ipsec() {
    if open().is_none() {
        return;
    }
    let v4 = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    bypass_ipsec(&v4).expect("IP_IPSEC_POLICY");
    if let Ok(v6) = std::net::UdpSocket::bind("[::1]:0") {
        bypass_ipsec(&v6).expect("IPV6_IPSEC_POLICY");
    }
}

/// An AH pair (policy `accept_ah`, HMAC-SHA1) goes in as two AH SAs with
/// their authentication keys, which GET reads back.
#[test]
#[ignore = "needs a kernel with PF_KEY: run in the QEMU guest (tests/kernel-vm/ci.sh)"]
fn glue_ah_pair_reads_back() {
    let Some(mut s) = open() else { return };
    let _ = s.request(request::flush(SaType::Unspec));
    let (a, b) = (ip("192.0.2.1"), ip("192.0.2.2"));
    let ah = |local: IpAddr, remote: IpAddr| {
        let mut p = policy(
            &local.to_string(),
            &remote.to_string(),
            EncapsulationMode::Tunnel,
            EspTransform {
                cipher: EspCipher::Null,
                key_bits: None,
                integrity: Some(IntegrityAlgorithm::HmacSha1),
            },
        );
        p.esp.clear();
        p.accept_ah = true;
        p.ah = vec![IntegrityAlgorithm::HmacSha1];
        p
    };
    let (pair, _) = negotiate(a, b, ah(a, b), ah(b, a), false).expect("AH negotiated");
    let mut sas = KernelSas::default();
    send_all(&mut s, sas.install(&pair, NO_SPD).expect("installable"));
    for (spi, src, dst, keys) in [
        (pair.inbound.spi, b, a, &pair.inbound),
        (pair.outbound.spi, a, b, &pair.outbound),
    ] {
        let got = s
            .request(request::get(SaType::Ah, spi, src, dst))
            .expect("GET");
        assert_eq!(got.header.satype, SaType::Ah);
        let sa = got.sa().expect("sa");
        assert_eq!((sa.spi, sa.auth), (spi, 3));
        assert_eq!(got.key_auth().expect("key").as_bytes(), &keys.integrity[..]);
        assert_eq!(got.sa2().expect("sa2").mode, IpsecMode::Tunnel);
    }
    send_all(&mut s, sas.remove_all());
}

/// Runs `cmd` through `sh -c`; (success, stdout + stderr).
fn sh(cmd: &str) -> (bool, String) {
    match std::process::Command::new("sh").args(["-c", cmd]).output() {
        Ok(o) => (
            o.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
        ),
        Err(e) => (false, e.to_string()),
    }
}

/// Sum of the `N(packets)` counters in `ip -s xfrm state` of namespace `ns`.
fn esp_packets(ns: &str) -> u64 {
    let (_, text) = sh(&format!("ip -n {ns} -s xfrm state"));
    text.split_whitespace()
        .filter_map(|w| w.strip_suffix("(packets)"))
        .filter_map(|n| n.parse::<u64>().ok())
        .sum()
}

/// Polls `f` every 0.2 s until it holds or `secs` seconds have passed
/// (each `ip` run costs up to a second under TCG, so count time, not tries).
fn wait_until(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    false
}

/// Fresh namespaces `kga` (10.77.0.1) and `kgb` (10.77.0.2) joined by a veth.
fn namespaces_up() -> (bool, String) {
    let _ = sh("ip netns del kga; ip netns del kgb");
    sh("ip netns add kga && ip netns add kgb && \
        ip link add kga0 netns kga type veth peer name kgb0 netns kgb && \
        ip -n kga addr add 10.77.0.1/24 dev kga0 && ip -n kgb addr add 10.77.0.2/24 dev kgb0 && \
        ip -n kga link set kga0 up && ip -n kgb link set kgb0 up && \
        ip -n kga link set lo up && ip -n kgb link set lo up")
}

/// A kernel-data-path tanuki at `me` with one transport child to `peer`.
fn tanuki_config(
    me: &str,
    peer: &str,
    passive: bool,
    (top, peer_keys, child_keys): (&str, &str, &str),
) -> String {
    format!(
        "listen = \"{me}\"\ndata_path = \"kernel\"\n{top}\n\n[[peer]]\naddress = \"{peer}\"\n\
         psk = \"glue\"\nproposals = [\"aes128-sha1-modp1024\"]\npassive = {passive}\n{peer_keys}\n\n\
         [[peer.child]]\nlocal = \"{me}\"\nremote = \"{peer}\"\nmode = \"transport\"\n{child_keys}\n"
    )
}

/// Starts `tanuki run` in `ns` with `config`, logging to `<name>.log(.err)`
/// in the temp directory.
fn spawn_tanuki(ns: &str, config: &str, name: &str) -> std::process::Child {
    let dir = std::env::temp_dir();
    let cfg = dir.join(format!("{name}.toml"));
    std::fs::write(&cfg, config).expect("write config");
    std::process::Command::new("ip")
        .args(["netns", "exec", ns, "tanuki", "run", "--config"])
        .arg(cfg)
        .stdout(std::fs::File::create(dir.join(format!("{name}.log"))).expect("log"))
        .stderr(std::fs::File::create(dir.join(format!("{name}.log.err"))).expect("log"))
        .spawn()
        .expect("tanuki")
}

/// What tanuki `name` logged so far.
fn tanuki_log(name: &str) -> String {
    let dir = std::env::temp_dir();
    let read = |f: String| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
    read(format!("{name}.log")) + &read(format!("{name}.log.err"))
}

/// SAs in `ns` (`ip xfrm state` entries).
fn xfrm_states(ns: &str) -> usize {
    let (_, text) = sh(&format!("ip -n {ns} xfrm state"));
    text.lines().filter(|l| l.starts_with("src ")).count()
}

/// SPD policies in `ns`, not counting the IKE sockets' own ("socket in/out").
fn xfrm_policies(ns: &str) -> usize {
    let (_, text) = sh(&format!("ip -n {ns} xfrm policy"));
    text.lines()
        .filter(|l| l.trim_start().starts_with("dir "))
        .count()
}

/// The passive tanuki in `kgb`, then the active one in `kga` (which
/// initiates at start), with `keys` as in [`tanuki_config`]; whether both
/// had their pair installed within 30 s.
fn start_tanukis(keys: (&str, &str, &str)) -> (std::process::Child, std::process::Child, bool) {
    let b = spawn_tanuki(
        "kgb",
        &tanuki_config("10.77.0.2", "10.77.0.1", true, keys),
        "kgb",
    );
    std::thread::sleep(std::time::Duration::from_millis(500));
    let a = spawn_tanuki(
        "kga",
        &tanuki_config("10.77.0.1", "10.77.0.2", false, keys),
        "kga",
    );
    let up = wait_until(30, || xfrm_states("kga") == 2 && xfrm_states("kgb") == 2);
    (a, b, up)
}

/// SIGTERM to both tanukis; whether both exited within 10 s.
fn stop_tanukis(a: &mut std::process::Child, b: &mut std::process::Child) -> bool {
    for child in [&mut *a, &mut *b] {
        let _ = sh(&format!("kill -TERM {}", child.id()));
    }
    wait_until(10, || {
        [&mut *a, &mut *b]
            .into_iter()
            .all(|c| matches!(c.try_wait(), Ok(Some(_))))
    })
}

/// Two tanukis in two namespaces with `generate_policy`: the active one
/// initiates at start, both install the pair and racoon-style policies
/// through PF_KEY, pings pass through the kernel's transforms (their packet
/// counters move), and SIGTERM leaves neither SAs nor policies. Cases: ESP
/// (`require`); AH (`unique`, reqid 9); ESP in UDP 4500 (NAT-T forced),
/// which only passes if the kernel decapsulates it; a byte lifetime, where
/// the kernel's soft EXPIRE makes the initiator rekey with no echo lost.
#[test]
#[ignore = "needs a kernel with PF_KEY, ip netns and tanuki on PATH: run in the QEMU guest"]
fn glue_two_tanukis_generate_policy_and_kernel_expire() {
    if open().is_none() || !sh("command -v tanuki").0 {
        eprintln!("skipped: no PF_KEY or no tanuki on PATH");
        return;
    }
    // (name, top-level keys, peer keys, child keys, what `ip xfrm state`
    // shows, ping arguments)
    let cases = [
        (
            "esp",
            "generate_policy = \"require\"",
            "",
            "esp = [\"aes128-sha1\"]",
            "proto esp",
            "-c 3",
        ),
        (
            "ah",
            "generate_policy = \"unique\"",
            "",
            "ah = [\"sha1\"]\nreqid = 9",
            "proto ah",
            "-c 3",
        ),
        // ESP in UDP 4500, decapsulated by the kernel (UDP_ENCAP on the socket).
        (
            "esp-in-udp",
            "generate_policy = \"on\"",
            "nat_traversal = \"force\"",
            "esp = [\"aes256-sha1\"]",
            "encap type espinudp sport 4500 dport 4500",
            "-c 3",
        ),
        // A 24 KB lifetime: 1428-byte echoes reach the kernel's soft byte
        // limit (80%, 19660 bytes) at the 14th, its soft EXPIRE makes the
        // initiator rekey before the hard limit (the 18th).
        (
            "byte-lifetime",
            "generate_policy = \"require\"",
            "",
            "esp = [\"aes128-sha1\"]\nlifetime_kilobytes = 24",
            "proto esp",
            "-c 22 -s 1400",
        ),
    ];
    for (name, generate, peer_keys, transform, proto, ping_args) in cases {
        let (ok, out) = namespaces_up();
        assert!(ok, "{name}: namespaces: {out}");
        let keys = (generate, peer_keys, transform);
        let (mut a, mut b, up) = start_tanukis(keys);
        let log = tanuki_log;
        let (_, policies) = sh("ip -n kga xfrm policy");
        let (pinged, ping) = sh(&format!(
            "ip netns exec kga ping {ping_args} -W 2 10.77.0.2"
        ));
        let counted = esp_packets("kga");
        let (_, state) = sh("ip -n kga xfrm state");
        let exited = stop_tanukis(&mut a, &mut b);
        let (_, left_sa) = sh("ip -n kga xfrm state; ip -n kgb xfrm state");
        let (_, left_sp) = sh("ip -n kga xfrm policy; ip -n kgb xfrm policy");
        let _ = sh("ip netns del kga; ip netns del kgb");
        let logs = format!("--- a\n{}\n--- b\n{}", log("kga"), log("kgb"));
        assert!(up, "{name}: pair not installed within 30 s\n{logs}");
        assert!(state.contains(proto), "{name}: {state}");
        assert_eq!(policies.matches("dir out").count(), 1, "{name}: {policies}");
        assert_eq!(policies.matches("dir in").count(), 1, "{name}: {policies}");
        assert!(pinged, "{name}: ping failed: {ping}\n{logs}");
        // 3 echo requests out and 3 replies in, through the kernel's SAs.
        assert!(
            counted >= 6,
            "{name}: SA packet counters {counted}\n{state}"
        );
        assert!(exited, "{name}: tanukis did not exit on SIGTERM\n{logs}");
        assert!(
            !left_sa.contains("src "),
            "{name}: SAs left: {left_sa}\n{logs}"
        );
        assert!(
            !left_sp.contains("src "),
            "{name}: policies left: {left_sp}\n{logs}"
        );
        if name == "byte-lifetime" {
            let a_log = log("kga");
            assert!(
                a_log.contains("soft EXPIRE") && a_log.contains("rekeying"),
                "{name}: no soft EXPIRE\n{ping}\n{logs}"
            );
            assert!(
                a_log.matches("kernel: IPsec-SA pair installed").count() >= 2,
                "{name}: no rekeyed pair\n{ping}\n{logs}"
            );
            eprintln!("{name}: {}", ping.lines().rev().nth(1).unwrap_or_default());
        }
        eprintln!("{name}: {counted} packets through the kernel's SAs");
    }
}

/// A kernel hard EXPIRE reaching tanuki with no soft one first, so nothing
/// rekeys: one 30 000-byte echo (and its reply) carries each SA of a 24 KB
/// pair past its hard byte limit. Linux checks a state's limits before it
/// counts a packet, so the next echo is the one that expires the outbound
/// SA (hard first, no soft EXPIRE). tanuki hands the EXPIRE to the engine,
/// which forgets the pair and sends a Delete: both sides remove their SAs
/// and, the pair being the last user, the generated policies.
#[test]
#[ignore = "needs a kernel with PF_KEY, ip netns and tanuki on PATH: run in the QEMU guest"]
fn glue_kernel_hard_expire_makes_tanuki_forget_the_pair() {
    if open().is_none() || !sh("command -v tanuki").0 {
        eprintln!("skipped: no PF_KEY or no tanuki on PATH");
        return;
    }
    let (ok, out) = namespaces_up();
    assert!(ok, "namespaces: {out}");
    let keys = (
        "generate_policy = \"require\"",
        "",
        "esp = [\"aes128-sha1\"]\nlifetime_kilobytes = 24",
    );
    let (mut a, mut b, up) = start_tanukis(keys);
    let policies_up = xfrm_policies("kga");
    let (big, big_out) = sh("ip netns exec kga ping -c 1 -W 3 -s 30000 10.77.0.2");
    // Refused by the expired SA (so its exit status does not matter).
    let (_, next_out) = sh("ip netns exec kga ping -c 1 -W 1 10.77.0.2");
    let gone = wait_until(15, || {
        ["kga", "kgb"]
            .iter()
            .all(|ns| xfrm_states(ns) == 0 && xfrm_policies(ns) == 0)
    });
    let (_, left) = sh("ip -n kga xfrm state; ip -n kga xfrm policy; \
         ip -n kgb xfrm state; ip -n kgb xfrm policy");
    let exited = stop_tanukis(&mut a, &mut b);
    let _ = sh("ip netns del kga; ip netns del kgb");
    let (a_log, b_log) = (tanuki_log("kga"), tanuki_log("kgb"));
    let logs = format!("--- a\n{a_log}\n--- b\n{b_log}\n--- pings\n{big_out}{next_out}");
    assert!(up, "pair not installed within 30 s\n{logs}");
    assert_eq!(policies_up, 2, "generated policies (out, in)\n{logs}");
    assert!(big, "the 30 000-byte echo did not pass\n{logs}");
    assert!(
        a_log.contains("hard EXPIRE") && a_log.contains("forgetting the pair"),
        "no hard EXPIRE handled\n{logs}"
    );
    assert!(
        !a_log.contains("soft EXPIRE"),
        "a soft EXPIRE came first\n{logs}"
    );
    assert!(
        gone,
        "SAs or policies left after the hard EXPIRE:\n{left}\n{logs}"
    );
    assert_eq!(
        a_log.matches("kernel: IPsec-SA pair installed").count(),
        1,
        "nothing rekeys\n{logs}"
    );
    assert!(exited, "tanukis did not exit on SIGTERM\n{logs}");
}

/// ACQUIRE picking among two children of one peer, live: `kga` holds
/// `unique` tunnel policies (reqids 1 and 2; in `ip xfrm` terms `required`
/// with a reqid) for 10.1.1.0/24 to 10.2.1.0/24
/// and to 10.3.1.0/24 (as setkey would load them), its on-demand tanuki has
/// one child for each with that reqid. (With `require` both policies would
/// share the first pair: Linux picks any SA with the same endpoints and
/// reqid 0, and the peer drops what arrives outside its selectors.) A ping to each subnet makes the kernel ACQUIRE for that
/// policy; tanuki reads the policy's selectors back by its id and must
/// initiate the matching child (initiating the first child twice would leave
/// 10.3.1.0/24 without an SA). The passive tanuki in `kgb` generates its
/// policies from what was negotiated: one pair per subnet.
#[test]
#[ignore = "needs a kernel with PF_KEY, ip netns and tanuki on PATH: run in the QEMU guest"]
fn glue_acquire_picks_the_child_of_each_policy() {
    if open().is_none() || !sh("command -v tanuki").0 {
        eprintln!("skipped: no PF_KEY or no tanuki on PATH");
        return;
    }
    let (ok, out) = namespaces_up();
    assert!(ok, "namespaces: {out}");
    let mut setup = String::from(
        "ip -n kga addr add 10.1.1.1/32 dev lo && \
         ip -n kgb addr add 10.2.1.1/32 dev lo && ip -n kgb addr add 10.3.1.1/32 dev lo && \
         ip -n kgb route add 10.1.1.0/24 via 10.77.0.1",
    );
    for (net, reqid) in [("10.2.1.0/24", 1), ("10.3.1.0/24", 2)] {
        setup += &format!(
            " && ip -n kga route add {net} via 10.77.0.2 && \
             ip -n kga xfrm policy add src 10.1.1.0/24 dst {net} dir out \
               tmpl src 10.77.0.1 dst 10.77.0.2 proto esp mode tunnel reqid {reqid} level required && \
             ip -n kga xfrm policy add src {net} dst 10.1.1.0/24 dir in \
               tmpl src 10.77.0.2 dst 10.77.0.1 proto esp mode tunnel reqid {reqid} level required"
        );
    }
    let (ok, out) = sh(&setup);
    assert!(ok, "addresses, routes, policies: {out}");
    // (top-level keys, peer keys, children as (local, remote))
    let config = |me: &str,
                  peer: &str,
                  top: &str,
                  peer_keys: &str,
                  children: [(&str, &str, u32); 2]| {
        let mut c = format!(
            "listen = \"{me}\"\ndata_path = \"kernel\"\n{top}\n\n[[peer]]\naddress = \"{peer}\"\n\
             psk = \"glue\"\nproposals = [\"aes128-sha1-modp1024\"]\n{peer_keys}\n"
        );
        for (local, remote, reqid) in children {
            c += &format!(
                "\n[[peer.child]]\nlocal = \"{local}\"\nremote = \"{remote}\"\nesp = [\"aes128-sha1\"]\nreqid = {reqid}\n"
            );
        }
        c
    };
    let (a_net, b_nets) = ("10.1.1.0/24", ["10.2.1.0/24", "10.3.1.0/24"]);
    let a_cfg = config(
        "10.77.0.1",
        "10.77.0.2",
        "",
        "on_demand = true",
        [(a_net, b_nets[0], 1), (a_net, b_nets[1], 2)],
    );
    let b_cfg = config(
        "10.77.0.2",
        "10.77.0.1",
        "generate_policy = \"unique\"",
        "passive = true",
        [(b_nets[0], a_net, 1), (b_nets[1], a_net, 2)],
    );
    let mut b = spawn_tanuki("kgb", &b_cfg, "kgb");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let mut a = spawn_tanuki("kga", &a_cfg, "kga");
    // The first echo of each only triggers the ACQUIRE.
    let reach = |dst: &str| {
        wait_until(20, || {
            sh(&format!(
                "ip netns exec kga ping -c 1 -W 1 -I 10.1.1.1 {dst}"
            ))
            .0
        })
    };
    let (to_2, to_3) = (reach("10.2.1.1"), reach("10.3.1.1"));
    let (_, b_policies) = sh("ip -n kgb xfrm policy");
    let states = xfrm_states("kga");
    let (_, a_state) = sh("ip -n kga xfrm state");
    let exited = stop_tanukis(&mut a, &mut b);
    let _ = sh("ip netns del kga; ip netns del kgb");
    let (a_log, b_log) = (tanuki_log("kga"), tanuki_log("kgb"));
    let logs =
        format!("--- a\n{a_cfg}\n{a_log}\n--- b\n{b_cfg}\n{b_log}\n--- b's policies\n{b_policies}");
    assert!(
        to_2 && to_3,
        "pings 10.2.1.1 {to_2}, 10.3.1.1 {to_3}\n{logs}"
    );
    assert_eq!(
        a_log.matches("kernel ACQUIRE for").count(),
        2,
        "one ACQUIRE per policy\n{logs}"
    );
    assert_eq!(states, 4, "two pairs in kga\n{logs}");
    for reqid in [1, 2] {
        assert_eq!(
            a_state
                .matches(&format!("reqid {reqid} mode tunnel"))
                .count(),
            2,
            "a pair bound to policy reqid {reqid}\n{a_state}\n{logs}"
        );
    }
    for net in b_nets {
        assert!(
            b_policies.contains(&format!("src {net} dst 10.1.1.0/24")),
            "b has no pair for {net}\n{logs}"
        );
    }
    assert!(exited, "tanukis did not exit on SIGTERM\n{logs}");
}
