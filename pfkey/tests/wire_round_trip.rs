//! Round trips of every extension type (including the ones no captured
//! kernel message carries), byte layouts of those written out by hand from
//! the C structs in `linux/pfkeyv2.h`, and a property: for any message,
//! parse(emit(m)) == m.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use pfkey::wire::*;
use proptest::prelude::*;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// `ext` alone in a message: its bytes after the 16-byte header.
fn ext_bytes(ext: Extension) -> Vec<u8> {
    let msg = Message::new(MessageType::Reserved, SaType::Unspec).with(ext);
    let bytes = msg.to_bytes().unwrap().to_vec();
    assert_eq!(Message::parse(&bytes).unwrap(), msg);
    bytes[16..].to_vec()
}

fn v4(a: [u8; 4], port: u16) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::from(a), port))
}

#[test]
fn identity_is_nul_terminated_and_padded() {
    let ext = Extension::IdentitySrc(Identity {
        ident_type: constants::SADB_IDENTTYPE_FQDN,
        id: 0,
        data: b"vpn.example".to_vec(),
    });
    // sadb_ident (16 bytes) + "vpn.example\0" (12) + 4 bytes of padding.
    let want = "04000a00".to_owned()
        + "02000000"
        + "0000000000000000"
        + "76706e2e6578616d706c6500"
        + "00000000";
    assert_eq!(ext_bytes(ext), hex(&want));
}

#[test]
fn sec_ctx_length_is_in_bytes() {
    let ext = Extension::SecCtx(SecCtx {
        alg: 1,
        doi: 1,
        context: b"abc".to_vec(),
    });
    assert_eq!(ext_bytes(ext), hex("02001800010103006162630000000000"));
}

#[test]
fn kmaddress_holds_two_sockaddrs() {
    let ext = Extension::KmAddress(KmAddress {
        local: v4([192, 0, 2, 1], 500),
        remote: v4([198, 51, 100, 2], 4500),
    });
    let want = "05001900".to_owned()
        + "00000000"
        + "020001f4c00002010000000000000000"
        + "02001194c63364020000000000000000";
    assert_eq!(ext_bytes(ext), hex(&want));
}

#[test]
fn filter_is_forty_bytes() {
    let mut saddr = [0; 16];
    saddr[0] = 10;
    let mut daddr = [0; 16];
    daddr[..2].copy_from_slice(&[10, 1]);
    let ext = Extension::Filter(Filter {
        saddr,
        daddr,
        family: constants::AF_INET,
        splen: 8,
        dplen: 16,
    });
    let want = "05001a00".to_owned()
        + "0a000000000000000000000000000000"
        + "0a010000000000000000000000000000"
        + "02000810";
    assert_eq!(ext_bytes(ext), hex(&want));
}

#[test]
fn sensitivity_bitmaps_follow_the_header() {
    let ext = Extension::Sensitivity(Sensitivity {
        dpd: 1,
        sens_level: 2,
        integ_level: 3,
        sens_bitmap: vec![0x0102_0304_0506_0708],
        integ_bitmap: vec![],
    });
    assert_eq!(
        ext_bytes(ext),
        hex("03000c000100000002010300000000000807060504030201")
    );
}

#[test]
fn kmprivate_and_nat_t_oa() {
    let ext = Extension::KmPrivate(KmPrivate {
        data: hex("deadbeefcafef00d"),
    });
    assert_eq!(ext_bytes(ext), hex("0200110000000000deadbeefcafef00d"));
    let ext = Extension::NatTOa(Address::host(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5))));
    assert_eq!(
        ext_bytes(ext),
        hex("03001700ff200000020000000a0000050000000000000000")
    );
}

#[test]
fn migrate_message_round_trips() {
    let tunnel = |dst: [u8; 4]| IpsecRequest {
        proto: IpsecProto::Esp,
        mode: IpsecMode::Tunnel,
        level: IpsecLevel::Require,
        reqid: 1,
        tunnel: Some((v4([192, 0, 2, 1], 0), v4(dst, 0))),
    };
    let msg = Message::new(MessageType::Migrate, SaType::Unspec)
        .with(Extension::KmAddress(KmAddress {
            local: v4([192, 0, 2, 1], 500),
            remote: v4([198, 51, 100, 2], 500),
        }))
        .with(Extension::AddressSrc(Address::selector(
            IpAddr::V4(Ipv4Addr::new(10, 1, 0, 0)),
            16,
            0,
            255,
        )))
        .with(Extension::AddressDst(Address::selector(
            IpAddr::V4(Ipv4Addr::new(10, 2, 0, 0)),
            16,
            0,
            255,
        )))
        .with(Extension::Policy(Policy {
            requests: vec![tunnel([198, 51, 100, 2]), tunnel([203, 0, 113, 9])],
            ..Policy::new(PolicyType::Ipsec, PolicyDir::Outbound)
        }));
    let bytes = msg.to_bytes().unwrap();
    // 16 header + 40 kmaddress + 2 * 24 addresses + 16 policy + 2 * 48 requests.
    assert_eq!(bytes.len(), 16 + 40 + 48 + 16 + 96);
    assert_eq!(Message::parse(&bytes).unwrap(), msg);
}

#[test]
fn malformed_extensions_are_errors_not_panics() {
    let header = |units: u16| {
        let mut b = vec![2, 3, 0, 3];
        b.extend_from_slice(&units.to_ne_bytes());
        b.extend_from_slice(&[0; 10]);
        b
    };
    let cases: &[(&str, Error)] = &[
        // sadb_ext_len 0 would never advance
        (
            "00000100",
            Error::BadLength {
                what: "sadb_ext",
                len: 0,
            },
        ),
        // an SA extension of one unit (needs two)
        ("01000100", Error::Truncated("sadb_sa")),
        // a key claiming 256 bits in an 8-byte body
        (
            "02000800000100000000000000000000",
            Error::Truncated("sadb_key bits"),
        ),
        // an extension longer than the message
        ("0400010000000000", Error::Truncated("sadb_ext body")),
        // an ipsecrequest shorter than its header
        (
            "030012000200020000000000000000000800320001020000",
            Error::BadLength {
                what: "sadb_x_ipsecrequest",
                len: 8,
            },
        ),
        // an address of family AF_UNIX
        (
            "03000500ff200000010000000000000000000000000000000000",
            Error::AddressFamily(1),
        ),
    ];
    for (ext, want) in cases {
        let mut ext = hex(ext);
        ext.resize(ext.len().next_multiple_of(8), 0);
        let mut msg = header(2 + (ext.len() / 8) as u16);
        msg.extend_from_slice(&ext);
        assert_eq!(Message::parse(&msg), Err(*want), "{ext:02x?}");
    }
    let mut v1 = header(2);
    v1[0] = 1;
    assert_eq!(Message::parse(&v1), Err(Error::Version(1)));
}

fn sockaddr() -> impl Strategy<Value = SocketAddr> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<u16>()).prop_map(|(a, p)| v4(a, p)),
        (any::<[u8; 16]>(), any::<u16>(), any::<u32>(), any::<u32>()).prop_map(|(a, p, f, s)| {
            SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(a), p, f, s))
        }),
    ]
}

fn address() -> impl Strategy<Value = Address> {
    (any::<u8>(), any::<u8>(), sockaddr()).prop_map(|(proto, prefixlen, addr)| Address {
        proto,
        prefixlen,
        addr,
    })
}

fn lifetime() -> impl Strategy<Value = Lifetime> {
    (any::<u32>(), any::<u64>(), any::<u64>(), any::<u64>()).prop_map(|(a, b, c, d)| Lifetime {
        allocations: a,
        bytes: b,
        addtime: c,
        usetime: d,
    })
}

fn key() -> impl Strategy<Value = Key> {
    proptest::collection::vec(any::<u8>(), 0..64).prop_map(|k| Key::new(&k).unwrap())
}

fn request() -> impl Strategy<Value = IpsecRequest> {
    (
        any::<u16>(),
        any::<u8>(),
        any::<u8>(),
        any::<u32>(),
        proptest::option::of((sockaddr(), sockaddr())),
    )
        .prop_map(|(proto, mode, level, reqid, tunnel)| IpsecRequest {
            proto: proto.into(),
            mode: mode.into(),
            level: level.into(),
            reqid,
            tunnel,
        })
}

fn comb() -> impl Strategy<Value = Comb> {
    (any::<[u16; 7]>(), any::<[u64; 6]>(), any::<[u32; 2]>()).prop_map(|(s, l, a)| Comb {
        auth: s[0] as u8,
        encrypt: (s[0] >> 8) as u8,
        flags: s[1],
        auth_minbits: s[2],
        auth_maxbits: s[3],
        encrypt_minbits: s[4],
        encrypt_maxbits: s[5],
        soft_allocations: a[0],
        hard_allocations: a[1],
        soft_bytes: l[0],
        hard_bytes: l[1],
        soft_addtime: l[2],
        hard_addtime: l[3],
        soft_usetime: l[4],
        hard_usetime: l[5],
    })
}

fn extension() -> impl Strategy<Value = Extension> {
    let no_nul = proptest::collection::vec(1u8..=255, 0..40);
    prop_oneof![
        (any::<u32>(), any::<[u8; 4]>(), any::<u32>()).prop_map(|(spi, b, flags)| Extension::Sa(
            Sa {
                spi,
                replay: b[0],
                state: b[1].into(),
                auth: b[2],
                encrypt: b[3],
                flags,
            }
        )),
        lifetime().prop_map(Extension::LifetimeCurrent),
        lifetime().prop_map(Extension::LifetimeHard),
        lifetime().prop_map(Extension::LifetimeSoft),
        address().prop_map(Extension::AddressSrc),
        address().prop_map(Extension::AddressDst),
        address().prop_map(Extension::AddressProxy),
        address().prop_map(Extension::NatTOa),
        key().prop_map(Extension::KeyAuth),
        key().prop_map(Extension::KeyEncrypt),
        (any::<u16>(), any::<u64>(), no_nul).prop_map(|(t, id, data)| Extension::IdentityDst(
            Identity {
                ident_type: t,
                id,
                data,
            }
        )),
        (
            any::<u32>(),
            any::<[u8; 2]>(),
            proptest::collection::vec(any::<u64>(), 0..4),
            proptest::collection::vec(any::<u64>(), 0..4)
        )
            .prop_map(|(dpd, l, s, i)| Extension::Sensitivity(Sensitivity {
                dpd,
                sens_level: l[0],
                integ_level: l[1],
                sens_bitmap: s,
                integ_bitmap: i,
            })),
        (any::<u8>(), proptest::collection::vec(comb(), 0..3))
            .prop_map(|(replay, combs)| Extension::Proposal(Proposal { replay, combs })),
        proptest::collection::vec(any::<(u8, u8, u16, u16)>(), 0..6).prop_map(|a| {
            Extension::SupportedEncrypt(Supported {
                algs: a
                    .into_iter()
                    .map(|(id, ivlen, minbits, maxbits)| Alg {
                        id,
                        ivlen,
                        minbits,
                        maxbits,
                    })
                    .collect(),
            })
        }),
        any::<(u32, u32)>().prop_map(|(min, max)| Extension::SpiRange(SpiRange { min, max })),
        proptest::collection::vec(any::<[u8; 8]>(), 0..4)
            .prop_map(|d| Extension::KmPrivate(KmPrivate { data: d.concat() })),
        (
            any::<u16>(),
            any::<u8>(),
            any::<u32>(),
            any::<u32>(),
            proptest::collection::vec(request(), 0..3)
        )
            .prop_map(
                |(t, dir, id, priority, requests)| Extension::Policy(Policy {
                    policy_type: t.into(),
                    dir: dir.into(),
                    id,
                    priority,
                    requests,
                })
            ),
        (any::<u8>(), any::<u32>(), any::<u32>()).prop_map(|(m, sequence, reqid)| {
            Extension::Sa2(Sa2 {
                mode: m.into(),
                sequence,
                reqid,
            })
        }),
        any::<u8>().prop_map(|encap_type| Extension::NatTType(NatTType { encap_type })),
        any::<u16>().prop_map(|port| Extension::NatTSport(NatTPort { port })),
        any::<u16>().prop_map(|port| Extension::NatTDport(NatTPort { port })),
        (
            any::<[u8; 2]>(),
            proptest::collection::vec(any::<u8>(), 0..40)
        )
            .prop_map(|(a, context)| Extension::SecCtx(SecCtx {
                alg: a[0],
                doi: a[1],
                context,
            })),
        (sockaddr(), sockaddr())
            .prop_map(|(local, remote)| Extension::KmAddress(KmAddress { local, remote })),
        (any::<[u8; 16]>(), any::<[u8; 16]>(), any::<(u16, u8, u8)>()).prop_map(
            |(saddr, daddr, (family, splen, dplen))| Extension::Filter(Filter {
                saddr,
                daddr,
                family,
                splen,
                dplen,
            })
        ),
        (27u16.., 0usize..5).prop_flat_map(|(ext_type, units)| {
            proptest::collection::vec(any::<u8>(), units * 8 + 4)
                .prop_map(move |body| Extension::Unknown { ext_type, body })
        }),
    ]
}

proptest! {
    #[test]
    fn any_message_round_trips(
        t in any::<u8>(),
        errno in any::<u8>(),
        satype in any::<u8>(),
        reserved in any::<u16>(),
        seq in any::<u32>(),
        pid in any::<u32>(),
        extensions in proptest::collection::vec(extension(), 0..8),
    ) {
        let msg = Message {
            header: Header {
                msg_type: t.into(),
                errno,
                satype: satype.into(),
                reserved,
                seq,
                pid,
            },
            extensions,
        };
        let bytes = msg.to_bytes().unwrap();
        prop_assert_eq!(bytes.len() % 8, 0);
        prop_assert_eq!(usize::from(u16::from_ne_bytes([bytes[4], bytes[5]])) * 8, bytes.len());
        prop_assert_eq!(Message::parse(&bytes).unwrap(), msg);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        pfkey::fuzzing::message_round_trip(&bytes);
    }
}

#[test]
fn counts_that_do_not_fit_are_emit_errors() {
    let big = Extension::Sensitivity(Sensitivity {
        dpd: 0,
        sens_level: 0,
        integ_level: 0,
        sens_bitmap: vec![0; 256],
        integ_bitmap: vec![],
    });
    let msg = Message::new(MessageType::Add, SaType::Esp).with(big);
    assert_eq!(
        msg.to_bytes().unwrap_err(),
        EmitError::TooLong("sadb_sens bitmap")
    );
    let key = Extension::KeyAuth(Key::new(&[0; 8191]).unwrap());
    let huge = (0..70).fold(Message::new(MessageType::Add, SaType::Esp), |m, _| {
        m.with(key.clone())
    });
    assert_eq!(huge.to_bytes().unwrap_err(), EmitError::TooLong("sadb_msg"));
}
