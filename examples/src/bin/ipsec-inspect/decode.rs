//! `ipsec-inspect decode [--json] [FILE|-]`: one ISAKMP message, as raw bytes
//! or hex text, printed as an indented tree (or JSON) of its header and
//! payloads.  Known values are named, unknown ones printed as numbers.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use ike_core::wire::{
    AttributeValue, ConfigAttributeType, DataAttribute, Error, ExchangeType, Header, Identity,
    Message, MessageBody, Payload, PayloadType, Phase1AttributeType, Phase2AttributeType,
    ProtocolId, TypedPayload,
};
use ipsec_examples::input::{hex_or_raw, read_source, to_hex};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// Arguments of `decode`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Print JSON instead of the indented tree.
    #[arg(long)]
    json: bool,
    /// The message: a file with raw bytes or hex text; `-` or nothing for
    /// standard input.
    input: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> Result<ExitCode, String> {
    let bytes = hex_or_raw(read_source(args.input.as_deref())?)?;
    // On port 4500 IKE follows a 4-byte zero non-ESP marker (RFC 3948 §2.2);
    // a real initiator cookie is never zero there.
    let (marker, message) = match bytes.strip_prefix(&[0u8; 4][..]) {
        Some(rest) => (true, rest),
        None => (false, bytes.as_slice()),
    };
    let tree = describe(message, marker).map_err(|e| {
        if marker {
            format!("{e} (offsets count from the ISAKMP header, after the non-ESP marker)")
        } else {
            e
        }
    })?;
    if args.json {
        let json = serde_json::to_string_pretty(&tree).map_err(|e| e.to_string())?;
        println!("{json}");
    } else {
        let mut out = String::new();
        render(&tree, 0, &mut out);
        print!("{out}");
    }
    Ok(ExitCode::SUCCESS)
}

/// An ordered tree that prints both as indented text and as JSON.
enum Node {
    Text(String),
    Number(u64),
    Bool(bool),
    /// A protocol number with its name when it is a known value.
    Named(u64, Option<&'static str>),
    Hex(Vec<u8>),
    Object(Vec<(&'static str, Self)>),
    List(Vec<Self>),
}

fn named<T: Into<u64>>(value: T, name: Option<&'static str>) -> Node {
    Node::Named(value.into(), name)
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Text(t) => s.serialize_str(t),
            Self::Number(n) => s.serialize_u64(*n),
            Self::Bool(b) => s.serialize_bool(*b),
            Self::Named(value, name) => {
                let mut m = s.serialize_map(None)?;
                m.serialize_entry("value", value)?;
                if let Some(name) = name {
                    m.serialize_entry("name", name)?;
                }
                m.end()
            }
            Self::Hex(bytes) => s.serialize_str(&to_hex(bytes)),
            Self::Object(fields) => {
                let mut m = s.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
            Self::List(items) => {
                let mut l = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    l.serialize_element(item)?;
                }
                l.end()
            }
        }
    }
}

fn scalar(node: &Node) -> Option<String> {
    match node {
        Node::Text(t) => Some(t.clone()),
        Node::Number(n) => Some(n.to_string()),
        Node::Bool(b) => Some(b.to_string()),
        Node::Named(v, Some(name)) => Some(format!("{name} ({v})")),
        Node::Named(v, None) => Some(format!("{v} (unknown)")),
        Node::Hex(b) if b.is_empty() => Some("(empty)".into()),
        Node::Hex(b) => Some(to_hex(b)),
        Node::Object(_) | Node::List(_) => None,
    }
}

/// YAML-like text: `key: value`, nested structures indented by two spaces,
/// list items introduced by `- `.
fn render(node: &Node, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match node {
        Node::Object(fields) => {
            for (k, v) in fields {
                render_field(&pad, k, v, indent, out);
            }
        }
        Node::List(items) => {
            for item in items {
                match item {
                    Node::Object(fields) => {
                        let mut first = true;
                        for (k, v) in fields {
                            let p = if first {
                                format!("{pad}- ")
                            } else {
                                format!("{pad}  ")
                            };
                            render_field(&p, k, v, indent + 2, out);
                            first = false;
                        }
                    }
                    other => {
                        let _ = writeln!(out, "{pad}- {}", scalar(other).unwrap_or_default());
                    }
                }
            }
        }
        other => {
            let _ = writeln!(out, "{pad}{}", scalar(other).unwrap_or_default());
        }
    }
}

fn render_field(prefix: &str, key: &str, value: &Node, indent: usize, out: &mut String) {
    match scalar(value) {
        Some(s) => {
            let _ = writeln!(out, "{prefix}{key}: {s}");
        }
        None => {
            if matches!(value, Node::List(l) if l.is_empty()) {
                let _ = writeln!(out, "{prefix}{key}: (none)");
            } else {
                let _ = writeln!(out, "{prefix}{key}:");
                render(value, indent + 2, out);
            }
        }
    }
}

/// The whole message as a tree, or a one-line error saying where parsing
/// stopped.  Offsets count from the first byte of the ISAKMP header.
fn describe(bytes: &[u8], marker: bool) -> Result<Node, String> {
    let msg = Message::parse(bytes).map_err(|e| format!("malformed ISAKMP message: {}", at(e)))?;
    let h = &msg.header;
    let mut fields = vec![
        ("non_esp_marker", Node::Bool(marker)),
        ("length", Node::Number(bytes.len() as u64)),
        ("initiator_cookie", Node::Hex(h.initiator_cookie.0.to_vec())),
        ("responder_cookie", Node::Hex(h.responder_cookie.0.to_vec())),
        (
            "version",
            Node::Text(format!("{}.{}", h.major_version(), h.minor_version())),
        ),
        (
            "exchange_type",
            named(h.exchange_type.0, h.exchange_type.name()),
        ),
        (
            "flags",
            Node::Text(format!("{} ({:#04x})", h.flags, h.flags.0)),
        ),
        ("message_id", Node::Text(h.message_id.to_string())),
    ];
    match &msg.body {
        MessageBody::Encrypted {
            first_payload,
            ciphertext,
        } => {
            fields.push(("next_payload", named(first_payload.0, first_payload.name())));
            fields.push((
                "encrypted_body",
                Node::Text(format!(
                    "{} bytes, encrypted (decrypt it to see the payloads)",
                    ciphertext.len()
                )),
            ));
        }
        MessageBody::Plain(payloads) => {
            let first = payloads.first().map_or(PayloadType::NONE, |p| p.ty);
            fields.push(("next_payload", named(first.0, first.name())));
            let mut offset = Header::LEN;
            let mut list = Vec::new();
            // RFC 2409 §5.2 / §5.3: with public-key encryption the Phase 1
            // ID body is RSA ciphertext, so it need not parse as an identity.
            let phase1 = matches!(
                h.exchange_type,
                ExchangeType::MAIN_MODE | ExchangeType::AGGRESSIVE
            );
            for (index, p) in payloads.iter().enumerate() {
                if phase1 && p.ty == PayloadType::IDENTIFICATION && p.decode().is_err() {
                    list.push(Node::Object(vec![
                        ("type", named(p.ty.0, p.ty.name())),
                        ("offset", Node::Number(offset as u64)),
                        ("length", Node::Number(p.wire_len() as u64)),
                        (
                            "note",
                            Node::Text(
                                "not an identity; encrypted with the peer's public key?".into(),
                            ),
                        ),
                        ("body", Node::Hex(p.body.clone())),
                    ]));
                    offset += p.wire_len();
                    continue;
                }
                list.push(describe_payload(p, offset).map_err(|e| {
                    format!(
                        "malformed {} (payload {} at offset {offset}): {}",
                        p.ty.what(),
                        index + 1,
                        at(e.shifted(offset + Payload::HEADER_LEN))
                    )
                })?);
                offset += p.wire_len();
            }
            fields.push(("payloads", Node::List(list)));
        }
    }
    Ok(Node::Object(vec![("isakmp", Node::Object(fields))]))
}

fn at(e: Error) -> String {
    format!("{} at offset {}", e.kind, e.offset)
}

fn describe_payload(p: &Payload, offset: usize) -> Result<Node, Error> {
    let mut f = vec![
        ("type", named(p.ty.0, p.ty.name())),
        ("offset", Node::Number(offset as u64)),
        ("length", Node::Number(p.wire_len() as u64)),
    ];
    match p.decode()? {
        TypedPayload::Sa(sa) => {
            f.push(("doi", named(sa.doi.0, sa.doi.name())));
            f.push(("situation", Node::Text(format!("{:#010x}", sa.situation.0))));
            let proposals = sa
                .proposals
                .iter()
                .map(|prop| {
                    let transforms = prop
                        .transforms
                        .iter()
                        .map(|t| {
                            Node::Object(vec![
                                ("transform", Node::Number(t.number.into())),
                                ("id", named(t.id.0, t.id.name(prop.protocol))),
                                (
                                    "attributes",
                                    transform_attributes(prop.protocol, &t.attributes),
                                ),
                            ])
                        })
                        .collect();
                    Node::Object(vec![
                        ("proposal", Node::Number(prop.number.into())),
                        ("protocol", named(prop.protocol.0, prop.protocol.name())),
                        ("spi", Node::Hex(prop.spi.clone())),
                        ("transforms", Node::List(transforms)),
                    ])
                })
                .collect();
            f.push(("proposals", Node::List(proposals)));
        }
        TypedPayload::KeyExchange(x) => f.push(("data", Node::Hex(x.data))),
        TypedPayload::Identification(id) => {
            f.push((
                "id_type",
                named(id.identity.id_type().0, id.identity.id_type().name()),
            ));
            f.push(("protocol", Node::Number(id.protocol.into())));
            f.push(("port", Node::Number(id.port.into())));
            f.push(("identity", identity(&id.identity)));
        }
        TypedPayload::Certificate(c) => {
            f.push(("encoding", named(c.encoding.0, c.encoding.name())));
            f.push(("data", Node::Hex(c.data)));
        }
        TypedPayload::CertificateRequest(c) => {
            f.push(("cert_type", named(c.cert_type.0, c.cert_type.name())));
            f.push(("authority", Node::Hex(c.authority)));
        }
        TypedPayload::Hash(x) => f.push(("data", Node::Hex(x.data))),
        TypedPayload::Signature(x) => f.push(("data", Node::Hex(x.data))),
        TypedPayload::Nonce(x) => f.push(("data", Node::Hex(x.data))),
        TypedPayload::NatD(x) => f.push(("hash", Node::Hex(x.hash))),
        TypedPayload::Notification(n) => {
            f.push(("doi", named(n.doi.0, n.doi.name())));
            f.push(("protocol", named(n.protocol.0, n.protocol.name())));
            f.push(("notify_type", named(n.notify_type.0, n.notify_type.name())));
            f.push(("spi", Node::Hex(n.spi.clone())));
            if let Some(seq) = n.dpd_sequence() {
                f.push(("dpd_sequence", Node::Number(seq.into())));
            } else if let Some(Ok(attrs)) = n.responder_lifetime() {
                f.push(("lifetime", transform_attributes(ProtocolId::ESP, &attrs)));
            } else {
                f.push(("data", Node::Hex(n.data)));
            }
        }
        TypedPayload::Delete(d) => {
            f.push(("doi", named(d.doi.0, d.doi.name())));
            f.push(("protocol", named(d.protocol.0, d.protocol.name())));
            f.push(("spi_size", Node::Number(d.spi_size.into())));
            f.push((
                "spis",
                Node::List(d.spis.into_iter().map(Node::Hex).collect()),
            ));
        }
        TypedPayload::VendorId(v) => {
            if let Some(known) = v.recognise() {
                f.push(("vendor", Node::Text(known.name().into())));
            }
            f.push(("data", Node::Hex(v.data)));
        }
        TypedPayload::Attributes(c) => {
            f.push(("config_type", named(c.config_type.0, c.config_type.name())));
            f.push(("identifier", Node::Number(c.identifier.into())));
            let attrs = c
                .attributes
                .iter()
                .map(|a| {
                    let ty = ConfigAttributeType(a.ty);
                    attribute(a, named(ty.0, ty.name()), None, false)
                })
                .collect();
            f.push(("attributes", Node::List(attrs)));
        }
        TypedPayload::NatOa(oa) => f.push(("address", Node::Text(oa.address.to_string()))),
        TypedPayload::Fragment(fr) => {
            f.push(("fragment_id", Node::Number(fr.id.into())));
            f.push(("number", Node::Number(fr.number.into())));
            f.push(("last", Node::Bool(fr.is_last())));
            f.push(("data", Node::Hex(fr.data)));
        }
        _ => f.push(("body", Node::Hex(p.body.clone()))),
    }
    Ok(Node::Object(f))
}

fn identity(id: &Identity) -> Node {
    let text = |b: &[u8]| match std::str::from_utf8(b) {
        Ok(s) if !s.chars().any(char::is_control) => Node::Text(s.to_owned()),
        _ => Node::Hex(b.to_vec()),
    };
    match id {
        Identity::Ipv4(a) => Node::Text(a.to_string()),
        Identity::Ipv6(a) => Node::Text(a.to_string()),
        Identity::Ipv4Subnet(a, m) => Node::Text(format!("{a}/{m}")),
        Identity::Ipv6Subnet(a, m) => Node::Text(format!("{a}/{m}")),
        Identity::Ipv4Range(a, b) => Node::Text(format!("{a}-{b}")),
        Identity::Ipv6Range(a, b) => Node::Text(format!("{a}-{b}")),
        Identity::Fqdn(b) | Identity::UserFqdn(b) => text(b),
        Identity::DerAsn1Dn(b) | Identity::DerAsn1Gn(b) | Identity::KeyId(b) => {
            Node::Hex(b.clone())
        }
        Identity::Other(_, b) => Node::Hex(b.clone()),
    }
}

/// Transform attributes, named by Phase 1 (ISAKMP) or Phase 2 rules.
fn transform_attributes(protocol: ProtocolId, attributes: &[DataAttribute]) -> Node {
    use ike_core::wire::{
        AuthAlgorithm, AuthMethod, EcnTunnel, EncapsulationMode, EncryptionAlgorithm,
        GroupDescription, GroupType, HashAlgorithm, LifeType,
    };
    let list = attributes
        .iter()
        .map(|a| {
            let v = a.as_u16();
            if protocol == ProtocolId::ISAKMP {
                let ty = Phase1AttributeType(a.ty);
                let value_name = v.and_then(|v| match ty {
                    Phase1AttributeType::ENCRYPTION_ALGORITHM => EncryptionAlgorithm(v).name(),
                    Phase1AttributeType::HASH_ALGORITHM => HashAlgorithm(v).name(),
                    Phase1AttributeType::AUTHENTICATION_METHOD => AuthMethod(v).name(),
                    Phase1AttributeType::GROUP_DESCRIPTION => GroupDescription(v).name(),
                    Phase1AttributeType::GROUP_TYPE => GroupType(v).name(),
                    Phase1AttributeType::LIFE_TYPE => LifeType(v).name(),
                    _ => None,
                });
                let duration = ty == Phase1AttributeType::LIFE_DURATION;
                attribute(a, named(ty.0, ty.name()), value_name, duration)
            } else {
                let ty = Phase2AttributeType(a.ty);
                let value_name = v.and_then(|v| match ty {
                    Phase2AttributeType::SA_LIFE_TYPE => LifeType(v).name(),
                    Phase2AttributeType::GROUP_DESCRIPTION => GroupDescription(v).name(),
                    Phase2AttributeType::ENCAPSULATION_MODE => EncapsulationMode(v).name(),
                    Phase2AttributeType::AUTHENTICATION_ALGORITHM => AuthAlgorithm(v).name(),
                    Phase2AttributeType::ECN_TUNNEL => EcnTunnel(v).name(),
                    _ => None,
                });
                let duration = ty == Phase2AttributeType::SA_LIFE_DURATION;
                attribute(a, named(ty.0, ty.name()), value_name, duration)
            }
        })
        .collect();
    Node::List(list)
}

/// One attribute.  `value_name` is the name of its value when the type's
/// values are an enumeration; `integer` prints a TLV value as a number (life
/// durations are often sent as 4-byte TLVs).
fn attribute(a: &DataAttribute, ty: Node, value_name: Option<&'static str>, integer: bool) -> Node {
    let (format, value) = match &a.value {
        AttributeValue::Basic(v) if value_name.is_some() => ("TV", named(*v, value_name)),
        AttributeValue::Basic(v) => ("TV", Node::Number((*v).into())),
        AttributeValue::Variable(b) => match (value_name, a.as_u64()) {
            (Some(_), Some(n)) => ("TLV", named(n, value_name)),
            (None, Some(n)) if integer => ("TLV", Node::Number(n)),
            _ => ("TLV", Node::Hex(b.clone())),
        },
    };
    Node::Object(vec![
        ("attribute", ty),
        ("format", Node::Text(format.into())),
        ("value", value),
    ])
}

/// One payload as indented text, as `decode` prints it; `exchange` uses it
/// to show decrypted payloads.
#[allow(
    dead_code,
    reason = "used by the exchange subcommand, which lands separately"
)]
pub(crate) fn payload_text(p: &Payload, offset: usize, indent: usize) -> Result<String, String> {
    let mut out = String::new();
    render(&describe_payload(p, offset).map_err(at)?, indent, &mut out);
    Ok(out)
}
