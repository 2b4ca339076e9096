//! Property tests of the ISAKMP codec: `parse(emit(x)) == x` over generated
//! messages and payloads, `emit(parse(b)) == b` for canonical bytes, and no
//! panic on arbitrary or mutated input.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ike_core::wire::*;
use proptest::collection::vec;
use proptest::prelude::*;

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..max)
}

fn attribute() -> impl Strategy<Value = DataAttribute> {
    prop_oneof![
        (0u16..0x8000, any::<u16>()).prop_map(|(t, v)| DataAttribute::basic(t, v)),
        (0u16..0x8000, bytes(12)).prop_map(|(t, v)| DataAttribute::variable(t, v)),
    ]
}

fn transform() -> impl Strategy<Value = Transform> {
    (any::<u8>(), any::<u8>(), vec(attribute(), 0..6))
        .prop_map(|(n, id, attrs)| Transform::new(n, TransformId(id), attrs))
}

fn proposal() -> impl Strategy<Value = Proposal> {
    (any::<u8>(), any::<u8>(), bytes(17), vec(transform(), 0..4))
        .prop_map(|(n, p, spi, t)| Proposal::new(n, ProtocolId(p), spi, t))
}

fn sa() -> impl Strategy<Value = SecurityAssociation> {
    // Situations with the labelled-domain bits are refused by the parser.
    (any::<u32>(), any::<u32>(), vec(proposal(), 0..3)).prop_map(|(doi, sit, proposals)| {
        SecurityAssociation {
            doi: Doi(doi),
            situation: Situation(sit & !0b110),
            proposals,
        }
    })
}

fn v4() -> impl Strategy<Value = Ipv4Addr> {
    any::<[u8; 4]>().prop_map(Ipv4Addr::from)
}

fn v6() -> impl Strategy<Value = Ipv6Addr> {
    any::<[u8; 16]>().prop_map(Ipv6Addr::from)
}

fn identity() -> impl Strategy<Value = Identity> {
    prop_oneof![
        v4().prop_map(Identity::Ipv4),
        v6().prop_map(Identity::Ipv6),
        (v4(), v4()).prop_map(|(a, b)| Identity::Ipv4Subnet(a, b)),
        (v6(), v6()).prop_map(|(a, b)| Identity::Ipv6Subnet(a, b)),
        (v4(), v4()).prop_map(|(a, b)| Identity::Ipv4Range(a, b)),
        (v6(), v6()).prop_map(|(a, b)| Identity::Ipv6Range(a, b)),
        bytes(20).prop_map(Identity::Fqdn),
        bytes(20).prop_map(Identity::UserFqdn),
        bytes(20).prop_map(Identity::DerAsn1Dn),
        bytes(20).prop_map(Identity::DerAsn1Gn),
        bytes(20).prop_map(Identity::KeyId),
        // Only types without a typed form stay `Other`.
        (prop_oneof![Just(0u8), 12u8..=255], bytes(20))
            .prop_map(|(t, d)| Identity::Other(IdType(t), d)),
    ]
}

fn identification() -> impl Strategy<Value = Identification> {
    (any::<u8>(), any::<u16>(), identity())
        .prop_map(|(p, port, id)| Identification::with_protocol(id, p, port))
}

fn notification() -> impl Strategy<Value = Notification> {
    (
        any::<u32>(),
        any::<u8>(),
        any::<u16>(),
        bytes(17),
        bytes(24),
    )
        .prop_map(|(doi, p, t, spi, data)| Notification {
            doi: Doi(doi),
            protocol: ProtocolId(p),
            notify_type: NotifyType(t),
            spi,
            data,
        })
}

fn delete() -> impl Strategy<Value = Delete> {
    (any::<u32>(), any::<u8>(), 1u8..20, 0usize..5).prop_flat_map(|(doi, p, size, n)| {
        vec(vec(any::<u8>(), usize::from(size)), n).prop_map(move |spis| Delete {
            doi: Doi(doi),
            protocol: ProtocolId(p),
            spi_size: size,
            spis,
        })
    })
}

fn nat_oa() -> impl Strategy<Value = NatOa> {
    prop_oneof![
        v4().prop_map(|a| NatOa {
            address: IpAddr::V4(a)
        }),
        v6().prop_map(|a| NatOa {
            address: IpAddr::V6(a)
        }),
    ]
}

fn config() -> impl Strategy<Value = ConfigAttributes> {
    (any::<u8>(), any::<u16>(), vec(attribute(), 0..5)).prop_map(|(t, id, attributes)| {
        ConfigAttributes {
            config_type: ConfigType(t),
            identifier: id,
            attributes,
        }
    })
}

fn fragment() -> impl Strategy<Value = Fragment> {
    (any::<u16>(), any::<u8>(), any::<u8>(), bytes(40)).prop_map(|(id, number, flags, data)| {
        Fragment {
            id,
            number,
            flags,
            data,
        }
    })
}

/// A payload built from a typed body of every kind, or an unknown type.
fn payload() -> impl Strategy<Value = Payload> {
    let unknown_types = prop_oneof![2u8..=3, 15u8..=19, 22u8..=129, 133u8..=255];
    prop_oneof![
        sa().prop_map(|x| x.to_payload().unwrap()),
        bytes(64).prop_map(|d| KeyExchange::new(d).to_payload().unwrap()),
        identification().prop_map(|x| x.to_payload().unwrap()),
        (any::<u8>(), bytes(40)).prop_map(|(e, data)| Certificate {
            encoding: CertEncoding(e),
            data
        }
        .to_payload()
        .unwrap()),
        (any::<u8>(), bytes(40)).prop_map(|(e, authority)| CertificateRequest {
            cert_type: CertEncoding(e),
            authority
        }
        .to_payload()
        .unwrap()),
        bytes(32).prop_map(|d| Hash::new(d).to_payload().unwrap()),
        bytes(32).prop_map(|d| Signature::new(d).to_payload().unwrap()),
        bytes(32).prop_map(|d| Nonce::new(d).to_payload().unwrap()),
        notification().prop_map(|x| x.to_payload().unwrap()),
        delete().prop_map(|x| x.to_payload().unwrap()),
        bytes(24).prop_map(|d| VendorId::new(d).to_payload().unwrap()),
        config().prop_map(|x| x.to_payload().unwrap()),
        (any::<bool>(), bytes(32)).prop_map(|(draft, d)| {
            let ty = if draft {
                PayloadType::NAT_D_DRAFT
            } else {
                PayloadType::NAT_D
            };
            Payload::from_body(ty, &NatD::new(d)).unwrap()
        }),
        (any::<bool>(), nat_oa()).prop_map(|(draft, x)| {
            let ty = if draft {
                PayloadType::NAT_OA_DRAFT
            } else {
                PayloadType::NAT_OA
            };
            Payload::from_body(ty, &x).unwrap()
        }),
        fragment().prop_map(|x| x.to_payload().unwrap()),
        (unknown_types, bytes(40)).prop_map(|(t, b)| Payload::new(PayloadType(t), b)),
    ]
}

fn header() -> impl Strategy<Value = Header> {
    (
        any::<[u8; 8]>(),
        any::<[u8; 8]>(),
        0u8..16,
        any::<u8>(),
        any::<u8>(),
        any::<u32>(),
    )
        .prop_map(|(i, r, minor, x, flags, id)| Header {
            initiator_cookie: Cookie(i),
            responder_cookie: Cookie(r),
            version: 0x10 | minor,
            exchange_type: ExchangeType(x),
            flags: Flags(flags),
            message_id: MessageId(id),
        })
}

fn message() -> impl Strategy<Value = Message> {
    let plain = (header(), vec(payload(), 0..6)).prop_map(|(mut h, p)| {
        h.flags = h.flags.without(Flags::ENCRYPTION);
        Message::new(h, p)
    });
    let encrypted = (header(), any::<u8>(), bytes(80)).prop_map(|(mut h, first, ct)| {
        h.flags = h.flags.with(Flags::ENCRYPTION);
        Message {
            header: h,
            body: MessageBody::Encrypted {
                first_payload: PayloadType(first),
                ciphertext: ct,
            },
        }
    });
    prop_oneof![3 => plain, 1 => encrypted]
}

fn lifetime() -> impl Strategy<Value = Lifetime> {
    (any::<u16>(), any::<u64>()).prop_map(|(t, d)| Lifetime {
        ty: LifeType(t),
        duration: d,
    })
}

fn phase1_attributes() -> impl Strategy<Value = Phase1Attributes> {
    let opt16 = || proptest::option::of(any::<u16>());
    let optv = || proptest::option::of(bytes(16));
    let lifetimes = vec(lifetime(), 0..3);
    // `other` holds only types without a typed field.
    let other = vec(
        prop_oneof![
            (17u16..0x8000, any::<u16>()).prop_map(|(t, v)| DataAttribute::basic(t, v)),
            (17u16..0x8000, bytes(8)).prop_map(|(t, v)| DataAttribute::variable(t, v)),
        ],
        0..3,
    );
    (
        (opt16(), opt16(), opt16(), opt16(), opt16(), opt16()),
        (optv(), optv(), optv(), optv(), optv(), optv()),
        (lifetimes, opt16(), opt16(), other),
    )
        .prop_map(
            |(
                (enc, kl, hash, auth, group, gt),
                (prime, g1, g2, ca, cb, order),
                (lt, prf, fs, other),
            )| {
                Phase1Attributes {
                    encryption: enc.map(EncryptionAlgorithm),
                    key_length: kl,
                    hash: hash.map(HashAlgorithm),
                    auth_method: auth.map(AuthMethod),
                    group: group.map(GroupDescription),
                    group_type: gt.map(GroupType),
                    group_prime: prime,
                    group_generator_one: g1,
                    group_generator_two: g2,
                    group_curve_a: ca,
                    group_curve_b: cb,
                    lifetimes: lt,
                    prf,
                    field_size: fs,
                    group_order: order,
                    other,
                }
            },
        )
}

fn phase2_attributes() -> impl Strategy<Value = Phase2Attributes> {
    let opt16 = || proptest::option::of(any::<u16>());
    let lifetimes = vec(lifetime(), 0..3);
    let other = vec(
        (12u16..0x8000, any::<u16>()).prop_map(|(t, v)| DataAttribute::basic(t, v)),
        0..3,
    );
    (
        (lifetimes, opt16(), opt16(), opt16(), opt16()),
        (
            opt16(),
            opt16(),
            proptest::option::of(bytes(8)),
            opt16(),
            opt16(),
        ),
        other,
    )
        .prop_map(
            |((lt, g, enc, auth, kl), (kr, cds, cpa, ecn, esn), other)| Phase2Attributes {
                lifetimes: lt,
                group: g.map(GroupDescription),
                encapsulation: enc.map(EncapsulationMode),
                auth_algorithm: auth.map(AuthAlgorithm),
                key_length: kl,
                key_rounds: kr,
                compress_dictionary_size: cds,
                compress_private_algorithm: cpa,
                ecn_tunnel: ecn.map(EcnTunnel),
                extended_sequence_number: esn,
                other,
            },
        )
}

fn recorded() -> Vec<Vec<u8>> {
    include_str!("data/wire/messages.tsv")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split('\t').nth(3))
        .map(|h| {
            (0..h.len() / 2)
                .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap())
                .collect()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn message_parse_of_emit_is_identity(msg in message()) {
        let bytes = msg.to_bytes().unwrap();
        let parsed = Message::parse(&bytes).unwrap();
        prop_assert_eq!(&parsed, &msg);
        // Canonical bytes re-emit unchanged.
        prop_assert_eq!(parsed.to_bytes().unwrap(), bytes);
    }

    #[test]
    fn typed_payload_parse_of_emit_is_identity(p in payload()) {
        let typed = p.decode().unwrap();
        match typed.to_body() {
            Some(body) => prop_assert_eq!(body.unwrap(), p.body.clone()),
            None => prop_assert!(matches!(typed, TypedPayload::Unknown)),
        }
        let again = Payload::new(p.ty, p.body.clone()).decode().unwrap();
        prop_assert_eq!(again, typed);
    }

    #[test]
    fn plaintext_with_padding_parses_back(
        payloads in vec(payload(), 1..5),
        padding in bytes(33),
    ) {
        let mut plain = Vec::new();
        let first = emit_chain(&payloads, &mut plain).unwrap();
        let chain_len = plain.len();
        plain.extend_from_slice(&padding);
        let pt = parse_plaintext(first, &plain).unwrap();
        prop_assert_eq!(&pt.payloads, &payloads);
        prop_assert_eq!(pt.padding, padding.as_slice());
        prop_assert_eq!(pt.chain.len(), chain_len);
        // bytes_after(first type) is everything after payload 0.
        let after = pt.bytes_after(payloads[0].ty).unwrap();
        prop_assert_eq!(after, &plain[payloads[0].wire_len()..chain_len]);
    }

    #[test]
    fn phase1_typed_view_round_trips(a in phase1_attributes()) {
        let attrs = a.to_attributes();
        prop_assert_eq!(Phase1Attributes::from_attributes(&attrs), a);
        let mut out = Vec::new();
        emit_attributes(&attrs, &mut out).unwrap();
        prop_assert_eq!(parse_attributes(&out).unwrap(), attrs);
    }

    #[test]
    fn phase2_typed_view_round_trips(a in phase2_attributes()) {
        prop_assert_eq!(Phase2Attributes::from_attributes(&a.to_attributes()), a);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in bytes(300)) {
        fuzzing::roundtrip(&data);
        let _ = parse_plaintext(PayloadType::SA, &data);
        let _ = SecurityAssociation::parse_body(&data);
    }

    #[test]
    fn mutated_recorded_messages_never_panic(
        index in 0usize..24,
        flips in vec((any::<usize>(), any::<u8>()), 1..6),
        cut in any::<usize>(),
    ) {
        let mut m = recorded().swap_remove(index);
        for (at, x) in flips {
            let at = at % m.len();
            m[at] ^= x;
        }
        fuzzing::roundtrip(&m);
        m.truncate(cut % (m.len() + 1));
        fuzzing::roundtrip(&m);
    }
}

#[test]
fn recorded_messages_re_emit_byte_for_byte_at_every_level() {
    for bytes in recorded() {
        let msg = Message::parse(&bytes).unwrap();
        assert_eq!(msg.to_bytes().unwrap(), bytes);
        for p in msg.payloads().unwrap_or_default() {
            let typed = p.decode().unwrap();
            assert_eq!(typed.to_body().unwrap().unwrap(), p.body, "{:?}", p.ty);
        }
    }
}
