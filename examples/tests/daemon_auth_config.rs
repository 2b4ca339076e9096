//! tanuki's `[peer.auth]` table (RSA signatures with racoon's option
//! names): the seeds' certificate setups map onto ike-core's
//! `PeerAuth::RsaSignature`, `tanuki check` shows each certificate, and
//! every mistake names the file, the line and what is wrong — a missing
//! file by its path.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use ike_core::auth::ExpectedIdentity;
use ike_core::config::{AuthMethod, Identity, PeerAuth, RsaAuthConfig};
use ipsec_examples::daemon::config::{ConfigError, DaemonConfig, parse};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/daemon")
        .join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(data(name)).expect("example config")
}

/// Parses `text` as if it were the file `name` in examples/data/daemon/
/// (relative certificate paths resolve from there).
fn check_as(name: &str, text: &str) -> Result<DaemonConfig, ConfigError> {
    parse(&data(name), text)
}

fn rsa_auth(c: &DaemonConfig) -> &RsaAuthConfig {
    c.endpoint.peers[0]
        .auth
        .rsa()
        .expect("peer authenticates with RSA signatures")
}

/// 1-based line of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in the config"))
        + 1
}

#[test]
fn cisco_pix_seed_with_certificates() {
    let c = check_as("cisco-pix-rsa.toml", &read("cisco-pix-rsa.toml")).expect("valid");
    let peer = &c.endpoint.peers[0];
    assert!(matches!(peer.auth, PeerAuth::RsaSignature(_)));
    assert!(
        peer.proposals
            .iter()
            .all(|p| p.auth == AuthMethod::RsaSignature)
    );
    assert_eq!(
        peer.my_identifier,
        Some(Identity::from_ip("192.0.2.1".parse().expect("ip")))
    );
    let rsa = rsa_auth(&c);
    assert!(!rsa.policy.verify_cert, "verify_cert off, as in the seed");
    assert_eq!(
        rsa.policy.pinned.as_ref().map(|p| p.subject()),
        Some("CN=pix.example.com".to_owned())
    );
    assert_eq!(
        rsa.policy.peers_identifier,
        Some(ExpectedIdentity::Address(
            "198.51.100.2".parse::<IpAddr>().expect("ip")
        ))
    );
    assert_eq!(rsa.certificates.len(), 1);
    assert_eq!(
        rsa.certificates[0].subject(),
        "C=XX, O=ipsec-rs Interop, CN=tanuki.interop.test"
    );
    assert!(rsa.send_cert && rsa.send_cr);
    // The engine needs no PSK for this peer.
    assert!(
        c.endpoint
            .psk
            .by_address("198.51.100.2".parse().expect("ip"))
            .is_none()
    );
}

#[test]
fn kame_seed_asn1dn_and_hash_dir() {
    let c = check_as("kame-x509.toml", &read("kame-x509.toml")).expect("valid");
    let rsa = rsa_auth(&c);
    assert!(rsa.policy.verify_cert);
    // peers_identifier asn1dn without verify_identifier: racoon does not enforce it.
    assert_eq!(rsa.policy.peers_identifier, None);
    let subject_der = rsa.certificates[0].subject_der().expect("DER subject");
    assert_eq!(
        c.endpoint.peers[0].my_identifier,
        Some(Identity::DerAsn1Dn(subject_der))
    );
    // The CA came from its hash link: the trust store asks for it in a CR.
    let crs = rsa.trust.certificate_requests();
    assert_eq!(crs.len(), 1, "only b3e706da.0, not cacert.pem twice");
    let text = read("kame-x509.toml").replace(
        "peers_identifier = \"asn1dn\"",
        "peers_identifier = \"asn1dn C=XX, O=*, CN=*.interop.test\"\nverify_identifier = true",
    );
    let c = check_as("kame-x509.toml", &text).expect("valid");
    assert!(matches!(
        rsa_auth(&c).policy.peers_identifier,
        Some(ExpectedIdentity::Asn1Dn(_))
    ));
}

#[test]
fn tanuki_check_shows_the_certificates() {
    let out = Command::new(env!("CARGO_BIN_EXE_tanuki"))
        .args(["check", "--config"])
        .arg(data("cisco-pix-rsa.toml"))
        .output()
        .expect("run tanuki");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for want in [
        "auth certificate C=XX, O=ipsec-rs Interop, CN=tanuki.interop.test (issuer C=XX, O=ipsec-rs Interop, CN=ipsec-rs Interop CA; subjectAltName IP 10.99.0.1, DNS tanuki.interop.test; valid 2026-12-03T10:49:51Z to 2046-11-28T10:49:51Z; RSA 1024 bits)",
        "auth peers_certfile CN=pix.example.com (issuer C=XX, O=ipsec-rs Interop, CN=ipsec-rs Interop CA; subjectAltName none;",
        "auth peers_identifier 198.51.100.2 (address), enforced (verify_identifier on)",
        "auth verify_cert off, send_cert on, send_cr on, match_empty_cr on, my_identifier 192.0.2.1",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
}

#[test]
fn plain_rsa_keys_on_both_sides() {
    let text = read("cisco-pix-rsa.toml")
        .replace(
            "certificate_type = [\"x509\", \"cert.pem\", \"key.pem\"]",
            "certificate_type = [\"plain_rsa\", \"gw.plainrsa\"]",
        )
        .replace(
            "peers_certfile = [\"x509\", \"pix.pem\"]",
            "peers_certfile = [\"plain_rsa\", \"gw.plainrsa.pub\"]",
        )
        .replace(
            "my_identifier = \"address\"",
            "my_identifier = \"fqdn gw.example.com\"",
        );
    let c = check_as("cisco-pix-rsa.toml", &text).expect("valid");
    let rsa = rsa_auth(&c);
    assert!(rsa.certificates.is_empty(), "plain_rsa sends no CERT");
    assert!(rsa.policy.raw_key.is_some());
    assert_eq!(
        c.endpoint.peers[0].my_identifier,
        Some(Identity::Fqdn("gw.example.com".into()))
    );
}

/// Each broken table names the line of the offending value and the problem.
#[test]
fn errors_name_line_file_and_problem() {
    let base = read("cisco-pix-rsa.toml");
    let certs = data("certs");
    let cases: &[(&str, &str, &str, String)] = &[
        (
            "\"cert.pem\", \"key.pem\"]",
            "\"nothere.pem\", \"key.pem\"]",
            "certificate_type =",
            format!(
                "certificate_type: cannot read certificate {}: No such file",
                certs.join("nothere.pem").display()
            ),
        ),
        (
            "\"cert.pem\", \"key.pem\"]",
            "\"cert.pem\", \"nokey.pem\"]",
            "certificate_type =",
            format!(
                "certificate_type: cannot read private key {}",
                certs.join("nokey.pem").display()
            ),
        ),
        (
            "\"cert.pem\", \"key.pem\"]",
            "\"cert.pem\", \"cert.pem\"]",
            "certificate_type =",
            format!(
                "certificate_type: private key {}: cannot read RSA private key",
                certs.join("cert.pem").display()
            ),
        ),
        (
            "\"cert.pem\", \"key.pem\"]",
            "\"pix.pem\", \"key.pem\"]",
            "certificate_type =",
            format!(
                "the private key {} does not belong to the certificate {} (CN=pix.example.com)",
                certs.join("key.pem").display(),
                certs.join("pix.pem").display()
            ),
        ),
        (
            "[\"x509\", \"cert.pem\", \"key.pem\"]",
            "[\"pgp\", \"cert.pem\", \"key.pem\"]",
            "certificate_type =",
            "expected [\"x509\", CERT, KEY] or [\"plain_rsa\", KEY]".into(),
        ),
        (
            "[\"x509\", \"pix.pem\"]",
            "[\"x509\", \"gone.pem\"]",
            "peers_certfile =",
            format!(
                "peers_certfile: cannot read peer certificate {}",
                certs.join("gone.pem").display()
            ),
        ),
        (
            "verify_cert = \"off\"",
            "verify_cert = \"maybe\"",
            "verify_cert =",
            "verify_cert = \"maybe\": expected \"on\", \"off\", true or false".into(),
        ),
        (
            "peers_identifier = \"address\"",
            "peers_identifier = \"hostname x\"",
            "peers_identifier =",
            "peers_identifier `hostname x`: expected \"asn1dn\"".into(),
        ),
        (
            "peers_identifier = \"address\"",
            "peers_identifier = \"address 198.51.100.x\"",
            "peers_identifier =",
            "peers_identifier: `address 198.51.100.x`: not an IP address".into(),
        ),
        (
            "my_identifier = \"address\"",
            "my_identifier = \"asn1dn C=XX, CN=someone.else\"",
            "my_identifier =",
            "my_identifier asn1dn C=XX, CN=someone.else: our certificate's subject is C=XX, O=ipsec-rs Interop, CN=tanuki.interop.test".into(),
        ),
        (
            "authentication_method = \"rsasig\"",
            "authentication_method = \"rsa\"",
            "authentication_method =",
            "authentication_method `rsa`: expected \"rsasig\" or \"pre_shared_key\"".into(),
        ),
        (
            "verify_cert = \"off\"",
            "verify_cert = \"off\"\nca_dir = \"/nonexistent-ca-dir\"",
            "ca_dir =",
            "ca_dir: cannot read directory /nonexistent-ca-dir".into(),
        ),
        (
            "verify_cert = \"off\"",
            "verify_certificate = \"off\"",
            "verify_certificate =",
            "unknown field `verify_certificate`".into(),
        ),
        (
            "authentication_method = \"rsasig\"",
            "authentication_method = \"rsasig\"\npsk = \"x\"",
            "psk =",
            "unknown field `psk`".into(),
        ),
    ];
    for (from, to, at, want) in cases {
        let text = base.replacen(from, to, 1);
        assert_ne!(text, base, "{from:?} not in the example");
        let e = check_as("cisco-pix-rsa.toml", &text).expect_err(to);
        let line = line_of(&text, at);
        assert_eq!(e.line, line, "{to}: {e}");
        assert!(
            e.message.contains(want.as_str()),
            "{to}: {e}\nwant {want:?}"
        );
        assert!(
            e.to_string().starts_with(&format!(
                "{}:{line}: ",
                data("cisco-pix-rsa.toml").display()
            )),
            "{e}"
        );
    }
}

#[test]
fn contradictions_are_refused() {
    let base = read("cisco-pix-rsa.toml");
    // verify_cert on with no CA and nothing pinned.
    let text: String = base
        .replace("verify_cert = \"off\"", "verify_cert = \"on\"")
        .lines()
        .filter(|l| !l.starts_with("peers_certfile"))
        .map(|l| format!("{l}\n"))
        .collect();
    let e = check_as("cisco-pix-rsa.toml", &text).expect_err("no CA");
    assert!(
        e.message
            .contains("verify_cert is on but no CA is configured"),
        "{e}"
    );
    assert_eq!(e.line, line_of(&text, "verify_cert ="));
    // verify_identifier on without peers_identifier.
    let text: String = base
        .lines()
        .filter(|l| !l.starts_with("peers_identifier"))
        .map(|l| format!("{l}\n"))
        .collect();
    let e = check_as("cisco-pix-rsa.toml", &text).expect_err("nothing to verify");
    assert!(
        e.message
            .contains("verify_identifier is on but peers_identifier is not set"),
        "{e}"
    );
    // A PSK and rsasig for one peer.
    let text = base.replace("mode = \"main\"", "mode = \"main\"\npsk = \"secret\"");
    let e = check_as("cisco-pix-rsa.toml", &text).expect_err("both");
    assert!(e.message.contains("psk is set but [peer.auth]"), "{e}");
    assert_eq!(e.line, line_of(&text, "psk ="));
    // Neither.
    let text = base.split("[peer.auth]").next().expect("head").to_owned()
        + "[[peer.child]]\nlocal = \"10.1.0.0/24\"\nremote = \"10.2.0.0/24\"\nesp = [\"aes256-sha1\"]\n";
    let e = check_as("cisco-pix-rsa.toml", &text).expect_err("neither");
    assert!(e.message.contains("no psk and no [peer.auth] table"), "{e}");
    // my_id at the peer and my_identifier in the table.
    let text = base.replace("mode = \"main\"", "mode = \"main\"\nmy_id = \"192.0.2.1\"");
    let e = check_as("cisco-pix-rsa.toml", &text).expect_err("both ids");
    assert!(
        e.message
            .contains("my_id and [peer.auth] my_identifier are both set"),
        "{e}"
    );
}

/// Our own certificate out of its validity period: loaded (racoon too
/// would only fail at negotiation), but `tanuki check` says so.
#[test]
fn expired_certificate_is_marked() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/daemon-auth");
    let text = read("kame-x509.toml").replace(
        "certificate_type = [\"x509\", \"cert.pem\", \"key.pem\"]",
        &format!(
            "certificate_type = [\"x509\", \"{}\", \"{}\"]",
            dir.join("expired.pem").display(),
            dir.join("expired.key").display()
        ),
    );
    let c = check_as("kame-x509.toml", &text).expect("loads");
    let line = c.peers[0]
        .auth_summary
        .iter()
        .find(|l| l.starts_with("certificate CN=expired.interop.test"))
        .expect("our certificate's line");
    assert!(
        line.contains("valid 2020-01-01T00:00:00Z to 2021-01-01T00:00:00Z EXPIRED;"),
        "{line}"
    );
    let ok = c.peers[0]
        .auth_summary
        .iter()
        .find(|l| l.starts_with("ca "));
    assert!(ok.is_some_and(|l| !l.contains("EXPIRED")), "{ok:?}");
}
