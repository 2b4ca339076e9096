//! The `[peer.auth]` table of tanuki's configuration: RSA-signature
//! authentication (RFC 2409 §5.1, method 3) with racoon's option names,
//! mapped onto ike-core's [`PeerAuth::RsaSignature`].
//!
//! ```toml
//! [[peer]]
//! address = "203.0.113.5"
//! proposals = ["aes256-sha1-modp1536"]
//!
//! [peer.auth]
//! authentication_method = "rsasig"       # racoon's, for every proposal of this peer
//! path_certificate = "/etc/tanuki/certs" # relative file names start here
//!                                        # (itself relative to this file's directory)
//! certificate_type = ["x509", "ipsec.cer", "ipsec.key"]   # or ["plain_rsa", "key"]
//! ca_file = "cacert.pem"                 # or a list; PEM or DER
//! ca_dir = "/etc/tanuki/certs"           # OpenSSL hash links: HASH.0 CAs, HASH.r0 CRLs
//! crl_file = "ca.crl"                    # or a list
//! my_identifier = "asn1dn"               # or "address [IP]", "fqdn NAME", "user_fqdn MAIL"
//! peers_identifier = "address"           # or "asn1dn [DN with *]", "fqdn …", "user_fqdn …"
//! verify_identifier = "on"               # peers_identifier is enforced only when on
//! verify_cert = "off"                    # chain, validity, CRL and ID ↔ certificate
//! peers_certfile = ["x509", "peer.pem"]  # or ["plain_rsa", "peer.pub"]: pin the peer
//! send_cert = "on"
//! send_cr = "on"
//! match_empty_cr = "on"
//! ```
//!
//! The switches take racoon's `"on"`/`"off"` or TOML booleans. Every file is
//! read and checked when the configuration is loaded, so `tanuki check`
//! names a missing file, an unreadable key or a key that does not belong to
//! its certificate before anything is negotiated.

use std::net::IpAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ike_core::auth::{
    Crl, DnPattern, ExpectedIdentity, PeerAuthPolicy, PeerCertificate, PeerKey, RsaCrateSigner,
    TrustStore, load_certificates, load_plain_rsa_private, load_plain_rsa_public, verify_signature,
};
use ike_core::config::{Identity, PeerAuth, RsaAuthConfig};
use serde::Deserialize;
use toml::Spanned;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

/// A problem in the table: the span of the offending value and the message.
pub(crate) type AuthConfigError = (Range<usize>, String);

/// The `[peer.auth]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuthRepr {
    authentication_method: Option<Spanned<String>>,
    path_certificate: Option<Spanned<String>>,
    certificate_type: Option<Spanned<Vec<String>>>,
    ca_file: Option<Spanned<toml::Value>>,
    ca_dir: Option<Spanned<String>>,
    crl_file: Option<Spanned<toml::Value>>,
    my_identifier: Option<Spanned<String>>,
    peers_identifier: Option<Spanned<String>>,
    verify_identifier: Option<Spanned<toml::Value>>,
    verify_cert: Option<Spanned<toml::Value>>,
    peers_certfile: Option<Spanned<Vec<String>>>,
    send_cert: Option<Spanned<toml::Value>>,
    send_cr: Option<Spanned<toml::Value>>,
    match_empty_cr: Option<Spanned<toml::Value>>,
}

/// What the table configures, checked and loaded.
#[derive(Debug, Clone)]
pub struct LoadedAuth {
    /// For [`ike_core::config::PeerConfig::auth`].
    pub auth: PeerAuth,
    /// `my_identifier`, for [`ike_core::config::PeerConfig::my_identifier`].
    pub my_identifier: Option<Identity>,
    /// What `tanuki check` prints about it, one line each.
    pub summary: Vec<String>,
}

impl AuthRepr {
    /// Whether this table asks for RSA signatures (racoon's
    /// `authentication_method rsasig`, the default of a `[peer.auth]`).
    pub(crate) fn wants_rsasig(&self) -> Result<bool, AuthConfigError> {
        match &self.authentication_method {
            None => Ok(true),
            Some(m) => match m.get_ref().as_str() {
                "rsasig" => Ok(true),
                "pre_shared_key" | "psk" => Ok(false),
                other => Err((
                    m.span(),
                    format!(
                        "authentication_method `{other}`: expected \"rsasig\" or \"pre_shared_key\""
                    ),
                )),
            },
        }
    }
}

/// Where relative file names are looked up, and how a file is read.
struct Files {
    base: PathBuf,
}

impl Files {
    fn path(&self, name: &str) -> PathBuf {
        let p = Path::new(name);
        if p.is_absolute() {
            p.to_owned()
        } else {
            self.base.join(p)
        }
    }

    /// Reads `name`, naming the option and the file on failure.
    fn read(&self, option: &str, what: &str, name: &str) -> Result<(PathBuf, Vec<u8>), String> {
        let path = self.path(name);
        std::fs::read(&path)
            .map(|b| (path.clone(), b))
            .map_err(|e| format!("{option}: cannot read {what} {}: {e}", path.display()))
    }

    fn certificates(
        &self,
        option: &str,
        what: &str,
        name: &str,
    ) -> Result<(PathBuf, Vec<PeerCertificate>), String> {
        let (path, bytes) = self.read(option, what, name)?;
        load_certificates(&bytes)
            .map(|c| (path.clone(), c))
            .map_err(|e| format!("{option}: {what} {}: {e}", path.display()))
    }
}

/// racoon's `on`/`off` or a TOML boolean.
fn switch(
    v: &Option<Spanned<toml::Value>>,
    name: &str,
    default: bool,
) -> Result<bool, AuthConfigError> {
    let Some(v) = v else { return Ok(default) };
    match v.get_ref() {
        toml::Value::Boolean(b) => Ok(*b),
        toml::Value::String(s) if s == "on" => Ok(true),
        toml::Value::String(s) if s == "off" => Ok(false),
        other => Err((
            v.span(),
            format!("{name} = {other}: expected \"on\", \"off\", true or false"),
        )),
    }
}

/// A file name or a list of them.
fn file_list(v: &Option<Spanned<toml::Value>>, name: &str) -> Result<Vec<String>, AuthConfigError> {
    let Some(v) = v else { return Ok(Vec::new()) };
    let bad = || {
        (
            v.span(),
            format!("{name}: expected a file name or a list of them"),
        )
    };
    match v.get_ref() {
        toml::Value::String(s) => Ok(vec![s.clone()]),
        toml::Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned).ok_or_else(bad))
            .collect(),
        _ => Err(bad()),
    }
}

/// Splits `"kind rest"` into the kind and the (trimmed, maybe empty) rest.
fn kind_and_value(text: &str) -> (&str, &str) {
    let text = text.trim();
    text.split_once(char::is_whitespace)
        .map_or((text, ""), |(k, v)| (k, v.trim()))
}

fn parse_ip(option: &str, text: &str) -> Result<IpAddr, String> {
    text.parse()
        .map_err(|_| format!("{option}: `address {text}`: not an IP address"))
}

const ID_FORMS: &str =
    "\"asn1dn\", \"asn1dn DN\", \"address\", \"address IP\", \"fqdn NAME\" or \"user_fqdn NAME\"";

/// Checks and loads the table for the peer at `peer_address`, whose
/// configuration file is `file` and our address `listen`. Problems without
/// a value of their own are reported at `peer_span` (the peer's address).
pub(crate) fn load(
    repr: &AuthRepr,
    file: &Path,
    listen: IpAddr,
    peer_address: IpAddr,
    peer_span: Range<usize>,
) -> Result<LoadedAuth, AuthConfigError> {
    let span_of = |s: Option<Range<usize>>| s.unwrap_or_else(|| peer_span.clone());
    // Relative names, path_certificate included, start at the file's directory.
    let config_dir = file
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_owned);
    let base = match &repr.path_certificate {
        Some(p) => config_dir.join(p.get_ref()),
        None => config_dir,
    };
    let files = Files { base };
    let mut summary = Vec::new();

    // Our key and certificate.
    let Some(ct) = &repr.certificate_type else {
        return Err((
            span_of(None),
            "[peer.auth] with authentication_method rsasig needs certificate_type = \
             [\"x509\", CERT, KEY] or [\"plain_rsa\", KEY]"
                .into(),
        ));
    };
    let at_ct = |m: String| (ct.span(), m);
    let (signer, certificates): (RsaCrateSigner, Vec<PeerCertificate>) = match ct
        .get_ref()
        .as_slice()
    {
        [kind, cert, key] if kind == "x509" => {
            let (cert_path, certs) = files
                .certificates("certificate_type", "certificate", cert)
                .map_err(at_ct)?;
            let (key_path, key_bytes) = files
                .read("certificate_type", "private key", key)
                .map_err(at_ct)?;
            let signer = RsaCrateSigner::load(&key_bytes).map_err(|e| {
                at_ct(format!(
                    "certificate_type: private key {}: {e}",
                    key_path.display()
                ))
            })?;
            let Some(ours) = certs.first() else {
                return Err(at_ct(format!(
                    "certificate_type: {}: no certificate",
                    cert_path.display()
                )));
            };
            key_belongs_to(&signer, ours).map_err(|()| {
                    at_ct(format!(
                        "certificate_type: the private key {} does not belong to the certificate {} ({})",
                        key_path.display(),
                        cert_path.display(),
                        ours.subject()
                    ))
                })?;
            summary.push(format!("certificate {}", describe_certificate(ours)));
            for extra in certs.get(1..).unwrap_or_default() {
                summary.push(format!("  chain {}", describe_certificate(extra)));
            }
            (signer, certs)
        }
        [kind, key] if kind == "plain_rsa" => {
            let (key_path, key_bytes) = files
                .read("certificate_type", "plain_rsa key", key)
                .map_err(at_ct)?;
            let text = String::from_utf8(key_bytes).map_err(|_| {
                at_ct(format!(
                    "certificate_type: {}: not text",
                    key_path.display()
                ))
            })?;
            let key = load_plain_rsa_private(&text)
                .map_err(|e| at_ct(format!("certificate_type: {}: {e}", key_path.display())))?;
            summary.push(format!(
                "plain_rsa key {} (no certificate sent)",
                key_path.display()
            ));
            (RsaCrateSigner::new(key), Vec::new())
        }
        _ => {
            return Err(at_ct(
                "certificate_type: expected [\"x509\", CERT, KEY] or [\"plain_rsa\", KEY]".into(),
            ));
        }
    };

    // What we trust.
    let mut trust = TrustStore::new();
    let mut anchors = 0;
    for name in file_list(&repr.ca_file, "ca_file")? {
        let span = repr.ca_file.as_ref().map(Spanned::span);
        let (_, certs) = files
            .certificates("ca_file", "CA certificate", &name)
            .map_err(|m| (span_of(span.clone()), m))?;
        for ca in certs {
            summary.push(format!("ca {}", describe_certificate(&ca)));
            trust.add_anchor(ca);
            anchors += 1;
        }
    }
    if let Some(dir) = &repr.ca_dir {
        let (cas, crls) = read_hash_dir(&files.path(dir.get_ref())).map_err(|m| (dir.span(), m))?;
        for ca in cas {
            summary.push(format!("ca {}", describe_certificate(&ca)));
            trust.add_anchor(ca);
            anchors += 1;
        }
        for crl in crls {
            summary.push(format!("crl issued by {}", crl.issuer()));
            trust.add_crl(crl);
        }
    }
    for name in file_list(&repr.crl_file, "crl_file")? {
        let span = span_of(repr.crl_file.as_ref().map(Spanned::span));
        let (path, bytes) = files
            .read("crl_file", "CRL", &name)
            .map_err(|m| (span.clone(), m))?;
        let crl = Crl::load(&bytes)
            .map_err(|e| (span.clone(), format!("crl_file: {}: {e}", path.display())))?;
        summary.push(format!("crl issued by {}", crl.issuer()));
        trust.add_crl(crl);
    }

    // What the peer must prove.
    let mut policy = PeerAuthPolicy {
        verify_cert: switch(&repr.verify_cert, "verify_cert", true)?,
        ..PeerAuthPolicy::default()
    };
    if let Some(pin) = &repr.peers_certfile {
        let at_pin = |m: String| (pin.span(), m);
        match pin.get_ref().as_slice() {
            [kind, name] if kind == "x509" => {
                let (path, certs) = files
                    .certificates("peers_certfile", "peer certificate", name)
                    .map_err(at_pin)?;
                let cert = certs.into_iter().next().ok_or_else(|| {
                    at_pin(format!(
                        "peers_certfile: {}: no certificate",
                        path.display()
                    ))
                })?;
                summary.push(format!("peers_certfile {}", describe_certificate(&cert)));
                policy.pinned = Some(cert);
            }
            [kind, name] if kind == "plain_rsa" => {
                let (path, bytes) = files
                    .read("peers_certfile", "plain_rsa public key", name)
                    .map_err(at_pin)?;
                let text = String::from_utf8(bytes)
                    .map_err(|_| at_pin(format!("peers_certfile: {}: not text", path.display())))?;
                let key = load_plain_rsa_public(&text)
                    .map_err(|e| at_pin(format!("peers_certfile: {}: {e}", path.display())))?;
                summary.push(format!("peers_certfile plain_rsa {}", path.display()));
                policy.raw_key = Some(key);
            }
            _ => {
                return Err(at_pin(
                    "peers_certfile: expected [\"x509\", FILE] or [\"plain_rsa\", FILE]".into(),
                ));
            }
        }
    }
    let verify_identifier = switch(&repr.verify_identifier, "verify_identifier", false)?;
    let expected = match &repr.peers_identifier {
        None => None,
        Some(p) => Some(expected_identity(p.get_ref(), peer_address).map_err(|m| (p.span(), m))?),
    };
    match (&expected, verify_identifier) {
        (Some(e), true) => {
            summary.push(format!(
                "peers_identifier {e}, enforced (verify_identifier on)"
            ));
            policy.peers_identifier = expected.clone();
        }
        (Some(e), false) => summary.push(format!(
            "peers_identifier {e}, not enforced (verify_identifier off)"
        )),
        (None, true) => {
            return Err((
                span_of(repr.verify_identifier.as_ref().map(Spanned::span)),
                "verify_identifier is on but peers_identifier is not set".into(),
            ));
        }
        (None, false) => {}
    }
    let pinned_or_raw = policy.pinned.is_some() || policy.raw_key.is_some();
    if policy.verify_cert && anchors == 0 && !pinned_or_raw {
        return Err((
            span_of(
                repr.verify_cert
                    .as_ref()
                    .map(Spanned::span)
                    .or(Some(ct.span())),
            ),
            "verify_cert is on but no CA is configured: set ca_file or ca_dir, pin the peer \
             with peers_certfile, or set verify_cert = \"off\""
                .into(),
        ));
    }

    let mut rsa = RsaAuthConfig::new(Arc::new(signer), certificates, trust);
    rsa.policy = policy;
    rsa.send_cert = switch(&repr.send_cert, "send_cert", rsa.send_cert)?;
    rsa.send_cr = switch(&repr.send_cr, "send_cr", rsa.send_cr)?;
    rsa.match_empty_cr = switch(&repr.match_empty_cr, "match_empty_cr", rsa.match_empty_cr)?;
    let my_identifier = match &repr.my_identifier {
        None => None,
        Some(m) => Some(my_identity(m.get_ref(), &rsa, listen).map_err(|e| (m.span(), e))?),
    };
    summary.push(format!(
        "verify_cert {}, send_cert {}, send_cr {}, match_empty_cr {}{}",
        on_off(rsa.policy.verify_cert),
        on_off(rsa.send_cert),
        on_off(rsa.send_cr),
        on_off(rsa.match_empty_cr),
        my_identifier
            .as_ref()
            .map_or(String::new(), |i| format!(", my_identifier {i}"))
    ));
    Ok(LoadedAuth {
        auth: PeerAuth::RsaSignature(Arc::new(rsa)),
        my_identifier,
        summary,
    })
}

fn on_off(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

/// Signs a test value and checks it with the certificate's key: the only
/// way to tell through the signer trait that the two belong together.
fn key_belongs_to(signer: &RsaCrateSigner, cert: &PeerCertificate) -> Result<(), ()> {
    use ike_core::auth::HashSigner;
    let probe = [0x5a_u8; 20];
    let mut rng = rand_core::OsRng;
    let sig = signer.sign_hash(&mut rng, &probe).map_err(|_| ())?;
    verify_signature(PeerKey::Certificate(cert), &probe, &sig)
        .map(|_| ())
        .map_err(|_| ())
}

/// racoon's `my_identifier`.
fn my_identity(text: &str, rsa: &RsaAuthConfig, listen: IpAddr) -> Result<Identity, String> {
    let (kind, value) = kind_and_value(text);
    match kind {
        "asn1dn" => {
            let Some(ours) = rsa.certificates.first() else {
                return Err(
                    "my_identifier asn1dn needs a certificate (certificate_type x509)".into(),
                );
            };
            if !value.is_empty() {
                let pattern = DnPattern::parse(value)
                    .ok_or_else(|| format!("my_identifier: `{value}` is not a DN"))?;
                if !pattern.matches(&ours.parsed().tbs_certificate.subject) {
                    return Err(format!(
                        "my_identifier asn1dn {value}: our certificate's subject is {}; \
                         write \"asn1dn\" alone to send it",
                        ours.subject()
                    ));
                }
            }
            rsa.certificate_subject_identity()
                .ok_or_else(|| format!("my_identifier asn1dn: cannot encode {}", ours.subject()))
        }
        "address" if value.is_empty() => Ok(Identity::from_ip(listen)),
        "address" => parse_ip("my_identifier", value).map(Identity::from_ip),
        "fqdn" if !value.is_empty() => Ok(Identity::Fqdn(value.to_owned())),
        "user_fqdn" if !value.is_empty() => Ok(Identity::UserFqdn(value.to_owned())),
        _ => Err(format!("my_identifier `{text}`: expected {ID_FORMS}")),
    }
}

/// racoon's `peers_identifier`; a bare `address` is the peer's address.
fn expected_identity(text: &str, peer_address: IpAddr) -> Result<ExpectedIdentity, String> {
    let (kind, value) = kind_and_value(text);
    match kind {
        "asn1dn" if value.is_empty() => Ok(ExpectedIdentity::Asn1DnOfCertificate),
        "asn1dn" => DnPattern::parse(value)
            .map(ExpectedIdentity::Asn1Dn)
            .ok_or_else(|| format!("peers_identifier: `{value}` is not a DN")),
        "address" if value.is_empty() => Ok(ExpectedIdentity::Address(peer_address)),
        "address" => parse_ip("peers_identifier", value).map(ExpectedIdentity::Address),
        "fqdn" if !value.is_empty() => Ok(ExpectedIdentity::Fqdn(value.to_owned())),
        "user_fqdn" if !value.is_empty() => Ok(ExpectedIdentity::UserFqdn(value.to_owned())),
        _ => Err(format!("peers_identifier `{text}`: expected {ID_FORMS}")),
    }
}

/// A racoon/OpenSSL certificate directory: `HASH.N` files are CA
/// certificates, `HASH.rN` files CRLs (the names `openssl rehash` or
/// `ln -s CA.pem $(openssl x509 -noout -hash < CA.pem).0` make). Other files
/// (our own certificate and key, say) are not trust anchors and are skipped.
fn read_hash_dir(dir: &Path) -> Result<(Vec<PeerCertificate>, Vec<Crl>), String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("ca_dir: cannot read directory {}: {e}", dir.display()))?;
    let mut names: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    names.sort();
    let (mut cas, mut crls) = (Vec::new(), Vec::new());
    for path in names {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some((hash, suffix)) = name.split_once('.') else {
            continue;
        };
        if hash.len() != 8 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        let bytes = || {
            std::fs::read(&path).map_err(|e| format!("ca_dir: cannot read {}: {e}", path.display()))
        };
        if !suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_digit()) {
            let certs = load_certificates(&bytes()?)
                .map_err(|e| format!("ca_dir: {}: {e}", path.display()))?;
            cas.extend(certs);
        } else if suffix
            .strip_prefix('r')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        {
            let crl =
                Crl::load(&bytes()?).map_err(|e| format!("ca_dir: {}: {e}", path.display()))?;
            crls.push(crl);
        }
    }
    if cas.is_empty() && crls.is_empty() {
        return Err(format!(
            "ca_dir: {} holds no HASH.0 CA certificate or HASH.r0 CRL \
             (link them with `openssl rehash {}`)",
            dir.display(),
            dir.display()
        ));
    }
    Ok((cas, crls))
}

/// Subject, issuer, subjectAltName, validity (marked `EXPIRED` or `NOT YET
/// VALID` at the current time) and key size of `cert`.
pub fn describe_certificate(cert: &PeerCertificate) -> String {
    let tbs = &cert.parsed().tbs_certificate;
    let sans: Vec<String> = match tbs.get::<SubjectAltName>() {
        Ok(Some((_, SubjectAltName(names)))) => names.iter().map(general_name).collect(),
        _ => Vec::new(),
    };
    let bits = cert.rsa_public_key().map_or_else(
        |_| "not RSA".to_owned(),
        |k| {
            use rsa::traits::PublicKeyParts;
            format!("RSA {} bits", k.size() * 8)
        },
    );
    // Judged now, as the engine will judge it; a clock that is wrong here
    // is wrong there too.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let state = if now < tbs.validity.not_before.to_unix_duration() {
        " NOT YET VALID"
    } else if now > tbs.validity.not_after.to_unix_duration() {
        " EXPIRED"
    } else {
        ""
    };
    format!(
        "{} (issuer {}; subjectAltName {}; valid {} to {}{state}; {bits})",
        cert.subject(),
        cert.issuer(),
        if sans.is_empty() {
            "none".to_owned()
        } else {
            sans.join(", ")
        },
        tbs.validity.not_before,
        tbs.validity.not_after,
    )
}

fn general_name(g: &GeneralName) -> String {
    match g {
        GeneralName::DnsName(n) => format!("DNS {}", n.as_str()),
        GeneralName::Rfc822Name(n) => format!("email {}", n.as_str()),
        GeneralName::IpAddress(o) => match o.as_bytes() {
            b if b.len() == 4 => {
                let a: [u8; 4] = b.try_into().unwrap_or_default();
                format!("IP {}", IpAddr::from(a))
            }
            b if b.len() == 16 => {
                let a: [u8; 16] = b.try_into().unwrap_or_default();
                format!("IP {}", IpAddr::from(a))
            }
            b => format!("IP ({} bytes)", b.len()),
        },
        GeneralName::DirectoryName(_) => "dirName".to_owned(),
        GeneralName::UniformResourceIdentifier(u) => format!("URI {}", u.as_str()),
        _ => "other".to_owned(),
    }
}
