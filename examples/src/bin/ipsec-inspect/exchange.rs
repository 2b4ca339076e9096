//! `ipsec-inspect exchange`: replay a recorded IKEv1 exchange offline.
//!
//! Takes the Phase 1 transforms from the SA payloads, computes g^xy (or
//! takes it), every key and IV, decrypts each message (Phase 1, any number
//! of Quick Modes and Informationals, interleaved), verifies every HASH and
//! prints the ESP keys of each Quick Mode. Exit 0 only if everything
//! decrypts and verifies; otherwise each failure is named by message.
//!
//! With RSA-signature authentication (RFC 2409 §5.1, method 3) there is no
//! HASH_I / HASH_R payload: each side signs its hash. `--cert-i` and
//! `--cert-r` give the certificates whose public keys check the SIG
//! payloads; a CERT payload that is not the given certificate is reported.
//! This checks signatures, not trust: no chain, validity or ID matching.
//!
//! Input: one message per line, `I <hex>` or `R <hex>` (sent by the Phase 1
//! initiator or responder), in the order sent; `#` starts a comment line.

use std::path::PathBuf;
use std::process::ExitCode;

use ike_core::auth::{PeerCertificate, PeerKey, certificates_from_payload, load_certificates};
use ike_core::crypto::key_schedule::Phase1Inputs;
use ike_core::crypto::phase1_hash::Phase1HashInputs;
use ike_core::crypto::quick_mode::{self, KeymatInputs};
use ike_core::crypto::{
    CipherAlgorithm, DhGroup, Gxy, HashAlgorithm, HashValue, IvChain, KeySchedule, Phase1Auth,
    Phase1Cipher, Prf, informational,
};
use ike_core::wire::{
    AuthAlgorithm, AuthMethod, Certificate, ExchangeType, Message, ParsedChain, Payload,
    PayloadBody, PayloadType, Phase1Attributes, ProtocolId, SecurityAssociation, Transform,
    parse_plaintext,
};
use ipsec_examples::input::{parse_hex, read_source, to_hex};

use crate::decode::payload_text;
use crate::keys::psk_bytes;

/// More messages than any exchange a user would record.
const MAX_MESSAGES: usize = 4096;
/// ISAKMP header length: the ciphertext starts after it.
const HEADER_LEN: usize = 28;

/// Arguments of this subcommand.
#[derive(clap::Args)]
#[command(group(
    clap::ArgGroup::new("dh").required(true).args(["gxy", "dh_private_i", "dh_private_r"])
))]
pub(crate) struct Args {
    /// Pre-shared key as text.
    #[arg(long, conflicts_with = "psk_hex")]
    psk: Option<String>,
    /// Pre-shared key as hex.
    #[arg(long)]
    psk_hex: Option<String>,
    /// The Phase 1 DH shared secret g^xy, hex.
    #[arg(long)]
    gxy: Option<String>,
    /// The initiator's DH private value (hex, big-endian); g^xy is computed
    /// with the responder's KE.
    #[arg(long)]
    dh_private_i: Option<String>,
    /// The responder's DH private value (hex, big-endian).
    #[arg(long)]
    dh_private_r: Option<String>,
    /// A Quick Mode DH secret (PFS), hex; repeat in the order of the Quick
    /// Modes that use PFS.
    #[arg(long)]
    pfs_gxy: Vec<String>,
    /// The Phase 1 initiator's certificate (PEM or DER): its key checks the
    /// initiator's SIG payload (RSA-signature authentication).
    #[arg(long, value_name = "FILE")]
    cert_i: Option<PathBuf>,
    /// The Phase 1 responder's certificate (PEM or DER).
    #[arg(long, value_name = "FILE")]
    cert_r: Option<PathBuf>,
    /// The recorded exchange.
    file: PathBuf,
}

/// Who sent a message, in Phase 1 roles.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Side {
    Initiator,
    Responder,
}

impl Side {
    fn letter(self) -> &'static str {
        match self {
            Self::Initiator => "I",
            Self::Responder => "R",
        }
    }

    fn other(self) -> Self {
        match self {
            Self::Initiator => Self::Responder,
            Self::Responder => Self::Initiator,
        }
    }

    /// The `--cert-…` flag naming this side's certificate.
    fn cert_flag(self) -> &'static str {
        match self {
            Self::Initiator => "--cert-i",
            Self::Responder => "--cert-r",
        }
    }
}

/// Reads the first certificate in `path` (the signer's own; a chain may follow).
fn read_certificate(flag: &str, path: &std::path::Path) -> Result<PeerCertificate, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("{flag} {}: cannot read: {e}", path.display()))?;
    load_certificates(&bytes)
        .map_err(|e| format!("{flag} {}: {e}", path.display()))?
        .into_iter()
        .next()
        .ok_or_else(|| format!("{flag} {}: no certificate", path.display()))
}

/// One line of the recording.
struct Recorded {
    line: usize,
    side: Side,
    bytes: Vec<u8>,
}

fn read_recording(args: &Args) -> Result<Vec<Recorded>, String> {
    let raw = read_source(Some(&args.file))?;
    let text = String::from_utf8(raw).map_err(|_| format!("{}: not text", args.file.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        // `#` starts a comment, at the start of a line or after the hex.
        let line = line
            .split_once('#')
            .map_or(line, |(before, _)| before)
            .trim();
        if line.is_empty() {
            continue;
        }
        let (who, hex) = line
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("line {line_no}: expected `I <hex>` or `R <hex>`"))?;
        let side = match who {
            "I" | "i" => Side::Initiator,
            "R" | "r" => Side::Responder,
            _ => return Err(format!("line {line_no}: starts with {who:?}, not I or R")),
        };
        let bytes = parse_hex(hex).map_err(|e| format!("line {line_no}: {e}"))?;
        if out.len() == MAX_MESSAGES {
            return Err(format!("more than {MAX_MESSAGES} messages"));
        }
        out.push(Recorded {
            line: line_no,
            side,
            bytes,
        });
    }
    if out.is_empty() {
        return Err(format!("{}: no messages", args.file.display()));
    }
    Ok(out)
}

/// What Phase 1 has shown so far (RFC 2409 §5: the inputs of the keys and
/// of HASH_I / HASH_R).
#[derive(Default)]
struct Phase1 {
    cky_i: Option<[u8; 8]>,
    cky_r: Option<[u8; 8]>,
    sa_i_body: Option<Vec<u8>>,
    chosen: Option<Phase1Attributes>,
    ke_i: Option<Vec<u8>>,
    ke_r: Option<Vec<u8>>,
    ni: Option<Vec<u8>>,
    nr: Option<Vec<u8>>,
    id_i: Option<Vec<u8>>,
    id_r: Option<Vec<u8>>,
    hash_i_ok: bool,
    hash_r_ok: bool,
}

/// The Phase 1 keys once they can be computed.
struct Keys {
    schedule: KeySchedule,
    chain: IvChain,
}

/// One Quick Mode, keyed by its message ID.
struct QuickMode {
    message_id: u32,
    initiator: Side,
    from_initiator: usize,
    from_responder: usize,
    ni_b: Option<Vec<u8>>,
    nr_b: Option<Vec<u8>>,
    sa_i: Option<SecurityAssociation>,
    sa_r: Option<SecurityAssociation>,
    /// Which `--pfs-gxy` belongs to this Quick Mode, once its KE is seen.
    pfs_index: Option<usize>,
    keymat_done: bool,
}

/// The replay: state plus what has been printed and what failed.
struct Replay<'a> {
    args: &'a Args,
    psk: Option<Vec<u8>>,
    cert_i: Option<PeerCertificate>,
    cert_r: Option<PeerCertificate>,
    phase1: Phase1,
    keys: Option<Keys>,
    /// Why the keys cannot be computed, once that is certain.
    keys_error: Option<String>,
    quick_modes: Vec<QuickMode>,
    pfs_used: usize,
    /// Every message so far, to recognise retransmissions.
    seen: Vec<&'a [u8]>,
    failures: Vec<String>,
}

impl<'a> Replay<'a> {
    fn fail(&mut self, what: String) {
        println!("  FAILED: {what}");
        self.failures.push(what);
    }

    fn message(&mut self, n: usize, rec: &'a Recorded) {
        // A retransmission repeats a message byte for byte: it decrypts and
        // verifies exactly as the first copy did, and must not move the IV
        // chain or count as the next message of its exchange.
        if let Some(first) = self.seen.iter().position(|m| *m == rec.bytes.as_slice()) {
            println!(
                "message {n} ({}): retransmission of message {}",
                rec.side.letter(),
                first + 1
            );
            self.seen.push(&rec.bytes);
            return;
        }
        self.seen.push(&rec.bytes);
        let msg = match Message::parse(&rec.bytes) {
            Ok(m) => m,
            Err(e) => {
                println!(
                    "message {n} ({}, line {}): unparsable",
                    rec.side.letter(),
                    rec.line
                );
                return self.fail(format!("message {n}: {} at offset {}", e.kind, e.offset));
            }
        };
        let h = msg.header;
        let mid = h.message_id.0;
        println!(
            "message {n} ({}): {} M-ID {mid:08x}, {} bytes{}",
            rec.side.letter(),
            h.exchange_type,
            rec.bytes.len(),
            if msg.is_encrypted() {
                ", encrypted"
            } else {
                ""
            }
        );
        if self.phase1.cky_i.is_none() {
            self.phase1.cky_i = Some(h.initiator_cookie.0);
        }
        if self.phase1.cky_r.is_none() && !h.responder_cookie.is_zero() {
            self.phase1.cky_r = Some(h.responder_cookie.0);
        }
        if msg.is_encrypted() {
            let Some(ciphertext) = rec.bytes.get(HEADER_LEN..) else {
                return self.fail(format!("message {n}: no body"));
            };
            let first = match &msg.body {
                ike_core::wire::MessageBody::Encrypted { first_payload, .. } => *first_payload,
                ike_core::wire::MessageBody::Plain(_) => PayloadType::NONE,
            };
            let Some(plain) = self.decrypt(n, mid, ciphertext) else {
                return;
            };
            match parse_plaintext(first, &plain) {
                Ok(chain) => self.payloads(n, rec.side, h.exchange_type, mid, true, &chain),
                Err(e) => self.fail(format!(
                    "message {n}: decrypted body is not a payload chain ({} at offset {}): \
                     wrong pre-shared key, g^xy or IV",
                    e.kind, e.offset
                )),
            }
        } else {
            match Message::parse_plain(&rec.bytes) {
                Ok((_, chain)) => self.payloads(n, rec.side, h.exchange_type, mid, false, &chain),
                Err(e) => self.fail(format!("message {n}: {} at offset {}", e.kind, e.offset)),
            }
        }
    }

    /// Decrypts with the IV the chain gives and moves the chain on.
    fn decrypt(&mut self, n: usize, mid: u32, ciphertext: &[u8]) -> Option<Vec<u8>> {
        self.derive_keys();
        let Some(keys) = self.keys.as_mut() else {
            let why = self
                .keys_error
                .clone()
                .unwrap_or_else(|| "Phase 1 has not shown both KE and nonce payloads".into());
            self.fail(format!("message {n}: encrypted, but no keys: {why}"));
            return None;
        };
        let iv = keys.chain.iv_for(mid, ciphertext);
        println!("  IV {}", to_hex(iv.as_bytes()));
        let cipher = keys.schedule.cipher();
        let result = cipher.decrypt(keys.schedule.encryption_key(), iv.as_bytes(), ciphertext);
        keys.chain.advance(mid, ciphertext);
        match result {
            Ok(plain) => Some(plain.to_vec()),
            Err(e) => {
                self.fail(format!("message {n}: cannot decrypt: {e}"));
                None
            }
        }
    }

    fn payloads(
        &mut self,
        n: usize,
        side: Side,
        exchange: ExchangeType,
        mid: u32,
        encrypted: bool,
        chain: &ParsedChain<'_>,
    ) {
        for (i, p) in chain.payloads.iter().enumerate() {
            let offset = chain.starts.get(i).copied().unwrap_or(0);
            match payload_text(p, offset, 4) {
                Ok(text) => print!("  payload {}:\n{text}", i + 1),
                Err(e) => println!(
                    "  payload {} ({}, {} bytes): {e}",
                    i + 1,
                    p.ty,
                    p.wire_len()
                ),
            }
        }
        if !chain.padding.is_empty() {
            println!("  padding {}", to_hex(chain.padding));
        }
        match exchange {
            ExchangeType::MAIN_MODE | ExchangeType::AGGRESSIVE if mid == 0 => {
                self.phase1_message(n, side, chain);
            }
            ExchangeType::QUICK_MODE => self.quick_mode_message(n, side, mid, chain),
            _ if encrypted => self.informational_message(n, mid, chain),
            _ => {}
        }
    }

    fn phase1_message(&mut self, n: usize, side: Side, chain: &ParsedChain<'_>) {
        let p1 = &mut self.phase1;
        let mut hash = None;
        let mut signature = None;
        let mut certificates = Vec::new();
        let mut sa_error = None;
        for p in &chain.payloads {
            match p.ty {
                PayloadType::SA => match side {
                    Side::Initiator => {
                        p1.sa_i_body.get_or_insert_with(|| p.body.clone());
                    }
                    Side::Responder => match chosen_phase1(p) {
                        Ok(attrs) => p1.chosen = Some(attrs),
                        Err(e) => sa_error = Some(e),
                    },
                },
                PayloadType::KEY_EXCHANGE => {
                    let slot = match side {
                        Side::Initiator => &mut p1.ke_i,
                        Side::Responder => &mut p1.ke_r,
                    };
                    slot.get_or_insert_with(|| p.body.clone());
                }
                PayloadType::NONCE => {
                    let slot = match side {
                        Side::Initiator => &mut p1.ni,
                        Side::Responder => &mut p1.nr,
                    };
                    slot.get_or_insert_with(|| p.body.clone());
                }
                PayloadType::IDENTIFICATION => {
                    let slot = match side {
                        Side::Initiator => &mut p1.id_i,
                        Side::Responder => &mut p1.id_r,
                    };
                    slot.get_or_insert_with(|| p.body.clone());
                }
                PayloadType::HASH => hash = Some(p.body.clone()),
                PayloadType::SIGNATURE => signature = Some(p.body.clone()),
                PayloadType::CERTIFICATE => certificates.push(p.body.clone()),
                _ => {}
            }
        }
        if let Some(e) = sa_error {
            self.fail(format!("message {n}: {e}"));
        }
        for body in &certificates {
            self.certificate_payload(n, side, body);
        }
        if let Some(sig) = signature {
            return self.signature(n, side, &sig);
        }
        let Some(received) = hash else { return };
        self.derive_keys();
        let (name, computed) = match self.phase1_hash(side) {
            Ok(v) => v,
            Err(e) => return self.fail(format!("message {n}: cannot check the hash: {e}")),
        };
        self.check(n, name, &computed, &received);
        if computed.verify(&received) {
            match side {
                Side::Initiator => self.phase1.hash_i_ok = true,
                Side::Responder => self.phase1.hash_r_ok = true,
            }
        }
    }

    /// A CERT payload: shown, and compared with the certificate given for
    /// its sender, which must be the one the sender signs with.
    fn certificate_payload(&mut self, n: usize, side: Side, body: &[u8]) {
        let certs = match Certificate::parse_body(body)
            .map_err(|e| e.kind.to_string())
            .and_then(|c| certificates_from_payload(c.encoding, &c.data).map_err(|e| e.to_string()))
        {
            Ok(c) => c,
            Err(e) => return self.fail(format!("message {n}: CERT payload: {e}")),
        };
        let Some(first) = certs.first() else { return };
        println!("  CERT: {} (issuer {})", first.subject(), first.issuer());
        let given = match side {
            Side::Initiator => self.cert_i.as_ref(),
            Side::Responder => self.cert_r.as_ref(),
        };
        if let Some(given) = given.filter(|g| *g != first) {
            let what = format!(
                "message {n}: the CERT payload carries {}, not the certificate given with {} ({})",
                first.subject(),
                side.cert_flag(),
                given.subject()
            );
            self.fail(what);
        }
    }

    /// A SIG payload (RFC 2409 §5.1): the sender's signature over its
    /// HASH_I / HASH_R, checked with the key of its `--cert-…` certificate.
    fn signature(&mut self, n: usize, side: Side, sig: &[u8]) {
        self.derive_keys();
        let (name, computed) = match self.phase1_hash(side) {
            Ok(v) => v,
            Err(e) => return self.fail(format!("message {n}: cannot check the signature: {e}")),
        };
        let sig_name = match side {
            Side::Initiator => "SIG_I",
            Side::Responder => "SIG_R",
        };
        println!("  {name} computed {}", to_hex(computed.as_bytes()));
        let cert = match side {
            Side::Initiator => self.cert_i.as_ref(),
            Side::Responder => self.cert_r.as_ref(),
        };
        let Some(cert) = cert else {
            return self.fail(format!(
                "message {n}: {sig_name} ({} bytes) not checked: give the {} certificate with {}",
                sig.len(),
                match side {
                    Side::Initiator => "initiator's",
                    Side::Responder => "responder's",
                },
                side.cert_flag()
            ));
        };
        match ike_core::auth::verify_signature(PeerKey::Certificate(cert), computed.as_bytes(), sig)
        {
            Ok(_) => {
                println!(
                    "  {sig_name} verified over {name} with the key of {}",
                    cert.subject()
                );
                match side {
                    Side::Initiator => self.phase1.hash_i_ok = true,
                    Side::Responder => self.phase1.hash_r_ok = true,
                }
            }
            Err(e) => {
                println!("  {sig_name} received {}", to_hex(sig));
                self.fail(format!(
                    "message {n}: {sig_name} does not verify over {name}: {e}"
                ));
            }
        }
    }

    /// HASH_I for the initiator's message, HASH_R for the responder's.
    fn phase1_hash(&self, side: Side) -> Result<(&'static str, HashValue), String> {
        let keys = self
            .keys
            .as_ref()
            .ok_or_else(|| self.keys_error.clone().unwrap_or("no keys yet".into()))?;
        let p1 = &self.phase1;
        let missing = |what: &str| format!("{what} not seen");
        let inputs = Phase1HashInputs {
            gxi: p1.ke_i.as_deref().ok_or_else(|| missing("initiator KE"))?,
            gxr: p1.ke_r.as_deref().ok_or_else(|| missing("responder KE"))?,
            cky_i: p1.cky_i.as_ref().ok_or_else(|| missing("CKY-I"))?,
            cky_r: p1.cky_r.as_ref().ok_or_else(|| missing("CKY-R"))?,
            sai_b: p1
                .sa_i_body
                .as_deref()
                .ok_or_else(|| missing("initiator SA"))?,
            idii_b: p1.id_i.as_deref().unwrap_or_default(),
            idir_b: p1.id_r.as_deref().unwrap_or_default(),
        };
        Ok(match side {
            Side::Initiator if p1.id_i.is_some() => ("HASH_I", keys.schedule.hash_i(&inputs)),
            Side::Responder if p1.id_r.is_some() => ("HASH_R", keys.schedule.hash_r(&inputs)),
            _ => return Err(missing("the sender's ID payload")),
        })
    }

    fn check(&mut self, n: usize, name: &str, computed: &HashValue, received: &[u8]) {
        if computed.verify(received) {
            println!("  {name} verified: {}", to_hex(received));
        } else {
            println!("  {name} received {}", to_hex(received));
            println!("  {name} computed {}", to_hex(computed.as_bytes()));
            self.fail(format!("message {n}: {name} does not verify"));
        }
    }

    /// Computes the Phase 1 keys as soon as their inputs are known.
    fn derive_keys(&mut self) {
        if self.keys.is_some() || self.keys_error.is_some() {
            return;
        }
        let p1 = &self.phase1;
        let (Some(chosen), Some(ke_i), Some(ke_r), Some(ni), Some(nr), Some(cky_i), Some(cky_r)) = (
            &p1.chosen, &p1.ke_i, &p1.ke_r, &p1.ni, &p1.nr, &p1.cky_i, &p1.cky_r,
        ) else {
            return;
        };
        match self.compute_keys(chosen, ke_i, ke_r, ni, nr, cky_i, cky_r) {
            Ok(keys) => self.keys = Some(keys),
            Err(e) => {
                println!("  FAILED: {e}");
                self.failures.push(format!("Phase 1 keys: {e}"));
                self.keys_error = Some(e);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn compute_keys(
        &self,
        chosen: &Phase1Attributes,
        ke_i: &[u8],
        ke_r: &[u8],
        ni: &[u8],
        nr: &[u8],
        cky_i: &[u8; 8],
        cky_r: &[u8; 8],
    ) -> Result<Keys, String> {
        let suite = Phase1Suite::from_attributes(chosen)?;
        let auth = match chosen.auth_method {
            Some(AuthMethod::PRE_SHARED_KEY)
            | Some(AuthMethod::XAUTH_INIT_PRE_SHARED)
            | Some(AuthMethod::XAUTH_RESP_PRE_SHARED) => Phase1Auth::PreSharedKey(
                self.psk
                    .as_deref()
                    .ok_or("pre-shared key authentication: give --psk or --psk-hex")?,
            ),
            // SKEYID = prf(Ni_b | Nr_b, g^xy) (RFC 2409 §5); no secret but g^xy.
            Some(AuthMethod::RSA_SIGNATURE) => Phase1Auth::Signature,
            Some(other) => {
                return Err(format!(
                    "authentication method {other} is not supported \
                     (pre-shared keys and RSA signatures only)"
                ));
            }
            None => return Err("the chosen transform has no authentication method".into()),
        };
        let gxy = self.phase1_gxy(suite.group, ke_i, ke_r)?;
        let inputs = Phase1Inputs {
            prf: Prf::hmac(suite.hash),
            auth,
            gxy: &gxy,
            ni,
            nr,
            cky_i,
            cky_r,
        };
        let schedule =
            KeySchedule::derive(&inputs, suite.hash, suite.cipher).map_err(|e| e.to_string())?;
        let iv = schedule.phase1_iv(ke_i, ke_r);
        let k = schedule.keys();
        println!(
            "  Phase 1 keys ({}, {}, group {}):",
            suite.cipher_name(),
            suite.hash.name(),
            suite.group.id()
        );
        println!("    g^xy={}", to_hex(gxy.as_bytes()));
        println!("    SKEYID={}", to_hex(k.skeyid.as_bytes()));
        println!("    SKEYID_d={}", to_hex(k.skeyid_d.as_bytes()));
        println!("    SKEYID_a={}", to_hex(k.skeyid_a.as_bytes()));
        println!("    SKEYID_e={}", to_hex(k.skeyid_e.as_bytes()));
        println!(
            "    encryption key (Ka)={}",
            to_hex(schedule.encryption_key().as_bytes())
        );
        println!("    Phase 1 IV={}", to_hex(iv.as_bytes()));
        let chain = IvChain::new(suite.hash, suite.cipher.block_len(), iv);
        Ok(Keys { schedule, chain })
    }

    fn phase1_gxy(&self, group: DhGroup, ke_i: &[u8], ke_r: &[u8]) -> Result<Gxy, String> {
        let hex = |flag: &str, v: &str| parse_hex(v).map_err(|e| format!("{flag}: {e}"));
        if let Some(g) = &self.args.gxy {
            return Ok(Gxy::new(hex("--gxy", g)?));
        }
        let (flag, private, own, peer) = match (&self.args.dh_private_i, &self.args.dh_private_r) {
            (Some(x), _) => ("--dh-private-i", x, ke_i, ke_r),
            (None, Some(x)) => ("--dh-private-r", x, ke_r, ke_i),
            (None, None) => return Err("give --gxy, --dh-private-i or --dh-private-r".into()),
        };
        let key = group
            .private_key_from_bytes(&hex(flag, private)?)
            .map_err(|e| format!("{flag}: {e}"))?;
        if key.public_value() != own {
            return Err(format!(
                "{flag} does not produce the KE payload that side sent"
            ));
        }
        key.compute_shared(peer).map_err(|e| e.to_string())
    }

    fn quick_mode_message(&mut self, n: usize, side: Side, mid: u32, chain: &ParsedChain<'_>) {
        let index = match self.quick_modes.iter().position(|q| q.message_id == mid) {
            Some(i) => i,
            None => {
                self.quick_modes.push(QuickMode {
                    message_id: mid,
                    initiator: side,
                    from_initiator: 0,
                    from_responder: 0,
                    ni_b: None,
                    nr_b: None,
                    sa_i: None,
                    sa_r: None,
                    pfs_index: None,
                    keymat_done: false,
                });
                self.quick_modes.len() - 1
            }
        };
        let Some(keys) = self.keys.as_ref() else {
            return self.fail(format!("message {n}: Quick Mode without Phase 1 keys"));
        };
        let prf = keys.schedule.prf();
        let a = keys.schedule.keys().skeyid_a.clone();
        let Some(qm) = self.quick_modes.get_mut(index) else {
            return;
        };
        let from_initiator = side == qm.initiator;
        if from_initiator {
            qm.from_initiator += 1;
        } else {
            qm.from_responder += 1;
        }
        for p in &chain.payloads {
            match p.ty {
                PayloadType::SA => {
                    let sa = p.parse_as::<SecurityAssociation>().ok();
                    if from_initiator {
                        qm.sa_i = qm.sa_i.take().or(sa);
                    } else {
                        qm.sa_r = qm.sa_r.take().or(sa);
                    }
                }
                PayloadType::NONCE => {
                    let slot = if from_initiator {
                        &mut qm.ni_b
                    } else {
                        &mut qm.nr_b
                    };
                    slot.get_or_insert_with(|| p.body.clone());
                }
                PayloadType::KEY_EXCHANGE if qm.pfs_index.is_none() => {
                    // --pfs-gxy values go with the Quick Modes in the order
                    // their first KE appears, not the order they complete.
                    qm.pfs_index = Some(self.pfs_used);
                    self.pfs_used += 1;
                }
                _ => {}
            }
        }
        let Some(hash) = chain.payloads.first().filter(|p| p.ty == PayloadType::HASH) else {
            return self.fail(format!(
                "message {n}: Quick Mode message without a leading HASH"
            ));
        };
        let after = chain.bytes_after(PayloadType::HASH).unwrap_or_default();
        let empty = Vec::new();
        let ni_b = qm.ni_b.as_ref().unwrap_or(&empty);
        let nr_b = qm.nr_b.as_ref().unwrap_or(&empty);
        let (name, computed) = match (from_initiator, qm.from_initiator, qm.from_responder) {
            (true, 1, _) => ("HASH(1)", quick_mode::hash1(prf, &a, mid, after)),
            (false, _, 1) => ("HASH(2)", quick_mode::hash2(prf, &a, mid, ni_b, after)),
            (true, 2, _) => ("HASH(3)", quick_mode::hash3(prf, &a, mid, ni_b, nr_b)),
            _ => ("HASH(4)", quick_mode::hash4(prf, &a, mid, after)),
        };
        let received = hash.body.clone();
        let ready = !qm.keymat_done && qm.sa_i.is_some() && qm.sa_r.is_some() && qm.nr_b.is_some();
        self.check(n, name, &computed, &received);
        if ready {
            self.keymat(n, index);
        }
    }

    /// KEYMAT for both SAs of each negotiated proposal (RFC 2409 §5.5).
    fn keymat(&mut self, n: usize, index: usize) {
        let Some(keys) = self.keys.as_ref() else {
            return;
        };
        let prf = keys.schedule.prf();
        let d = keys.schedule.keys().skeyid_d.clone();
        let Some(qm) = self.quick_modes.get_mut(index) else {
            return;
        };
        qm.keymat_done = true;
        let (Some(sa_i), Some(sa_r), Some(ni_b), Some(nr_b)) =
            (&qm.sa_i, &qm.sa_r, &qm.ni_b, &qm.nr_b)
        else {
            return;
        };
        let (sa_i, sa_r, ni_b, nr_b) = (sa_i.clone(), sa_r.clone(), ni_b.clone(), nr_b.clone());
        let (initiator, mid, pfs_index) = (qm.initiator, qm.message_id, qm.pfs_index);
        let pfs = pfs_index.is_some();
        let pfs_gxy = if let Some(i) = pfs_index {
            let Some(hex) = self.args.pfs_gxy.get(i) else {
                return self.fail(format!(
                    "message {n}: Quick Mode {mid:08x} uses PFS: give its g^xy with --pfs-gxy \
                     (number {} in order)",
                    i + 1
                ));
            };
            match parse_hex(hex) {
                Ok(g) => Some(Gxy::new(g)),
                Err(e) => return self.fail(format!("--pfs-gxy: {e}")),
            }
        } else {
            None
        };
        println!(
            "  Quick Mode {mid:08x} keys{}:",
            if pfs { " (PFS)" } else { "" }
        );
        if let Some(g) = &pfs_gxy {
            println!("    g(qm)^xy={}", to_hex(g.as_bytes()));
        }
        for chosen in &sa_r.proposals {
            let Some(offered) = sa_i
                .proposals
                .iter()
                .find(|p| p.number == chosen.number && p.protocol == chosen.protocol)
            else {
                self.fail(format!(
                    "message {n}: the responder's proposal {} ({}) was not offered",
                    chosen.number, chosen.protocol
                ));
                continue;
            };
            let Some(transform) = chosen.transforms.first() else {
                continue;
            };
            let lengths = key_lengths(chosen.protocol, transform);
            // The SPI a side chose keys the SA that side receives on.
            for (spi, receiver) in [(&chosen.spi, initiator.other()), (&offered.spi, initiator)] {
                let (enc, auth, total) = match lengths {
                    Some((e, a)) => (e, a, e + a),
                    None => (0, 0, 2 * prf.output_len()),
                };
                let inputs = KeymatInputs {
                    pfs_gxy: pfs_gxy.as_ref(),
                    protocol: chosen.protocol.0,
                    spi,
                    ni_b: &ni_b,
                    nr_b: &nr_b,
                };
                let km = match quick_mode::keymat(prf, &d, &inputs, total) {
                    Ok(k) => k,
                    Err(e) => return self.fail(format!("message {n}: KEYMAT: {e}")),
                };
                let bytes = km.as_bytes();
                println!(
                    "    {} SA SPI {} ({}→{}), {}:",
                    protocol_name(chosen.protocol),
                    to_hex(spi),
                    receiver.other().letter(),
                    receiver.letter(),
                    transform_name(chosen.protocol, transform),
                );
                println!("      KEYMAT={}", to_hex(bytes));
                if lengths.is_some() {
                    let (e, a) = bytes.split_at(enc.min(bytes.len()));
                    println!("      encryption key={}", to_hex(e));
                    println!("      integrity key={}", to_hex(a.get(..auth).unwrap_or(a)));
                } else {
                    println!("      (key lengths of this transform unknown: not split)");
                }
            }
        }
    }

    fn informational_message(&mut self, n: usize, mid: u32, chain: &ParsedChain<'_>) {
        let Some(keys) = self.keys.as_ref() else {
            return;
        };
        let prf = keys.schedule.prf();
        let a = keys.schedule.keys().skeyid_a.clone();
        let Some(hash) = chain.payloads.first().filter(|p| p.ty == PayloadType::HASH) else {
            return self.fail(format!(
                "message {n}: encrypted message without a leading HASH"
            ));
        };
        let after = chain.bytes_after(PayloadType::HASH).unwrap_or_default();
        let computed = informational::hash1(prf, &a, mid, after);
        let received = hash.body.clone();
        self.check(n, "HASH(1)", &computed, &received);
    }

    fn finish(&mut self) {
        if self.keys.is_none() && self.keys_error.is_none() {
            self.fail("Phase 1 did not get far enough to compute keys".into());
        } else if self.keys.is_some() {
            if !self.phase1.hash_i_ok {
                self.fail("Phase 1: no verified HASH_I or SIG_I".into());
            }
            if !self.phase1.hash_r_ok {
                self.fail("Phase 1: no verified HASH_R or SIG_R".into());
            }
        }
        if self.pfs_used < self.args.pfs_gxy.len() {
            self.fail(format!(
                "{} --pfs-gxy values given, {} Quick Modes with PFS",
                self.args.pfs_gxy.len(),
                self.pfs_used
            ));
        }
    }
}

/// The Phase 1 algorithms of the responder's chosen transform.
struct Phase1Suite {
    cipher: Phase1Cipher,
    hash: HashAlgorithm,
    group: DhGroup,
}

impl Phase1Suite {
    fn from_attributes(a: &Phase1Attributes) -> Result<Self, String> {
        let enc = a.encryption.ok_or("no encryption algorithm")?;
        let algorithm = CipherAlgorithm::from_ike_id(enc.0)
            .ok_or_else(|| format!("encryption algorithm {enc} is not supported"))?;
        let cipher = Phase1Cipher::new(algorithm, a.key_length).map_err(|e| e.to_string())?;
        let h = a.hash.ok_or("no hash algorithm")?;
        let hash = HashAlgorithm::from_ike_id(h.0)
            .ok_or_else(|| format!("hash algorithm {h} is not supported"))?;
        if let Some(prf) = a.prf {
            return Err(format!(
                "PRF attribute {prf} is not supported (HMAC of the hash only)"
            ));
        }
        let g = a.group.ok_or("no group description")?;
        let group =
            DhGroup::from_id(g.0).ok_or_else(|| format!("DH group {g} is not supported"))?;
        Ok(Self {
            cipher,
            hash,
            group,
        })
    }

    fn cipher_name(&self) -> String {
        format!(
            "{}-{}",
            self.cipher.algorithm().name(),
            self.cipher.key_len() * 8
        )
    }
}

/// The Phase 1 attributes of the responder's SA: its one transform.
fn chosen_phase1(p: &Payload) -> Result<Phase1Attributes, String> {
    let sa = p
        .parse_as::<SecurityAssociation>()
        .map_err(|e| format!("responder SA: {}", e.kind))?;
    let transform = sa
        .proposals
        .first()
        .and_then(|p| p.transforms.first())
        .ok_or("responder SA has no transform")?;
    Ok(transform.phase1_attributes())
}

fn protocol_name(p: ProtocolId) -> &'static str {
    match p {
        ProtocolId::ESP => "ESP",
        ProtocolId::AH => "AH",
        ProtocolId::IPCOMP => "IPCOMP",
        _ => "IPsec",
    }
}

fn transform_name(protocol: ProtocolId, t: &Transform) -> String {
    let attrs = t.phase2_attributes();
    let mut name =
        t.id.name(protocol)
            .map_or_else(|| format!("transform {}", t.id.0), str::to_string);
    if let Some(bits) = attrs.key_length {
        name.push_str(&format!("-{bits}"));
    }
    if let Some(auth) = attrs.auth_algorithm {
        name.push_str(&format!(" + {auth}"));
    }
    name
}

/// (encryption key, integrity key) lengths in bytes for a Phase 2 transform
/// (RFC 2407 §4.4.3–4.5; salts of RFC 3686/4106/4309/4543 count as key).
fn key_lengths(protocol: ProtocolId, t: &Transform) -> Option<(usize, usize)> {
    let attrs = t.phase2_attributes();
    let auth = match attrs.auth_algorithm {
        None => 0,
        Some(AuthAlgorithm::HMAC_MD5) | Some(AuthAlgorithm::AES_XCBC_MAC) => 16,
        Some(AuthAlgorithm::HMAC_SHA1) => 20,
        Some(AuthAlgorithm::HMAC_SHA2_256) => 32,
        Some(AuthAlgorithm::HMAC_SHA2_384) => 48,
        Some(AuthAlgorithm::HMAC_SHA2_512) => 64,
        Some(_) => return None,
    };
    let key = |default_bits: u16| usize::from(attrs.key_length.unwrap_or(default_bits) / 8);
    let enc = match protocol {
        ProtocolId::AH => 0,
        ProtocolId::ESP => match t.id.0 {
            2 => 8,                            // ESP_DES
            3 => 24,                           // ESP_3DES
            6 | 7 => key(128),                 // ESP_CAST, ESP_BLOWFISH
            11 => 0,                           // ESP_NULL
            12 | 22 => key(128),               // ESP_AES-CBC, ESP_CAMELLIA-CBC
            13 | 18..=20 | 23 => key(128) + 4, // AES-CTR, AES-GCM, GMAC: 4-byte salt
            14..=16 => key(128) + 3,           // AES-CCM: 3-byte salt
            _ => return None,
        },
        _ => return None,
    };
    Some((enc, auth))
}

pub(crate) fn run(args: Args) -> Result<ExitCode, String> {
    let messages = read_recording(&args)?;
    let psk = psk_bytes(args.psk.as_deref(), args.psk_hex.as_deref())?;
    let cert_i = args
        .cert_i
        .as_deref()
        .map(|p| read_certificate("--cert-i", p))
        .transpose()?;
    let cert_r = args
        .cert_r
        .as_deref()
        .map(|p| read_certificate("--cert-r", p))
        .transpose()?;
    let mut replay = Replay {
        args: &args,
        psk,
        cert_i,
        cert_r,
        phase1: Phase1::default(),
        keys: None,
        keys_error: None,
        quick_modes: Vec::new(),
        pfs_used: 0,
        seen: Vec::new(),
        failures: Vec::new(),
    };
    for (i, rec) in messages.iter().enumerate() {
        replay.message(i + 1, rec);
    }
    replay.finish();
    if replay.failures.is_empty() {
        println!(
            "all {} messages decrypted and every hash verified",
            messages.len()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        for f in &replay.failures {
            eprintln!("ipsec-inspect: {f}");
        }
        Ok(ExitCode::FAILURE)
    }
}
