//! Real [`ChildSa`] events for tests of the kernel glue: two ike-core
//! endpoints negotiate in memory (PSK Main Mode, then Quick Mode) and each
//! side's `ChildSaUp` is returned. The engine's ids cannot be made by hand,
//! and a real negotiation also proves the glue reads the event as the engine
//! fills it.

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use ike_core::config::{
    AuthMethod, ChildPolicy, EndpointConfig, Identity, Lifetime, NatTraversal, PeerConfig,
    Phase1Proposal, PresharedKey, PskTable,
};
use ike_core::crypto::{CipherAlgorithm, DhGroup, HashAlgorithm, Phase1Cipher};
use ike_core::endpoint::{ChildSa, Endpoint, Event};
use rand_core::OsRng;

fn endpoint(peer: IpAddr, child: ChildPolicy, nat: NatTraversal) -> Result<Endpoint, String> {
    let proposal = Phase1Proposal {
        cipher: Phase1Cipher::new(CipherAlgorithm::Aes, Some(128)).map_err(|e| e.to_string())?,
        hash: HashAlgorithm::Sha1,
        auth: AuthMethod::PreSharedKey,
        group: DhGroup::Modp1024,
        lifetime: Lifetime::seconds(3600),
    };
    let mut psk = PskTable::new();
    psk.insert(
        Identity::from_ip(peer),
        PresharedKey::new(b"kernel-glue-test".to_vec()),
    );
    let mut p = PeerConfig::new(Some(peer), vec![proposal], vec![child]);
    p.nat_traversal = nat;
    Ok(Endpoint::new(
        Arc::new(EndpointConfig::new(vec![p], psk)),
        Box::new(OsRng),
    ))
}

/// `a` (at `a_ip`, initiating `a_child`) and `b` (at `b_ip`, answering with
/// `b_child`) negotiate; returns (a's pair, b's pair). `force_nat_t` makes
/// both float to port 4500 and encapsulate ESP in UDP.
pub fn negotiate(
    a_ip: IpAddr,
    b_ip: IpAddr,
    a_child: ChildPolicy,
    b_child: ChildPolicy,
    force_nat_t: bool,
) -> Result<(ChildSa, ChildSa), String> {
    let mut pairs = negotiate_pairs(a_ip, b_ip, a_child, b_child, force_nat_t, 1)?;
    pairs.pop().ok_or_else(|| "no pair".into())
}

/// Like [`negotiate`], with `count` Quick Modes in a row on one ISAKMP SA
/// (distinct pairs for the same policy, as a rekey makes).
pub fn negotiate_pairs(
    a_ip: IpAddr,
    b_ip: IpAddr,
    a_child: ChildPolicy,
    b_child: ChildPolicy,
    force_nat_t: bool,
    count: usize,
) -> Result<Vec<(ChildSa, ChildSa)>, String> {
    let nat = if force_nat_t {
        NatTraversal::Force
    } else {
        NatTraversal::Off
    };
    let mut sides = [
        (endpoint(b_ip, a_child.clone(), nat)?, a_ip, Vec::new()),
        (endpoint(a_ip, b_child, nat)?, b_ip, Vec::new()),
    ];
    let mut now = Instant::now();
    let (a_local, b_remote) = (SocketAddr::new(a_ip, 500), SocketAddr::new(b_ip, 500));
    let mut initiated = 0;
    let mut wire: VecDeque<(SocketAddr, SocketAddr, Vec<u8>)> = VecDeque::new();
    let mut buf = Vec::new();
    for _ in 0..100_000 {
        let done = sides.iter().map(|s| s.2.len()).min().unwrap_or(0);
        if done == count {
            let [(_, _, a), (_, _, b)] = sides;
            return Ok(a.into_iter().zip(b).collect());
        }
        if initiated == done {
            sides[0]
                .0
                .initiate(now, a_local, b_remote, a_child.clone())
                .map_err(|e| e.to_string())?;
            initiated += 1;
        }
        for (ep, _, up) in sides.iter_mut() {
            ep.handle_timeout(now);
            while let Some(t) = ep.poll_transmit(now, &mut buf) {
                wire.push_back((
                    t.local,
                    t.remote,
                    buf.get(..t.size).unwrap_or_default().to_vec(),
                ));
            }
            while let Some(ev) = ep.poll_event() {
                match ev {
                    Event::ChildSaUp(c) => up.push(*c),
                    Event::NegotiationFailed { reason, .. } => return Err(reason.to_string()),
                    _ => {}
                }
            }
        }
        if let Some((from, to, bytes)) = wire.pop_front() {
            if let Some((ep, _, _)) = sides.iter_mut().find(|(_, ip, _)| *ip == to.ip()) {
                ep.handle_datagram(now, to, from, &bytes);
            }
        } else if sides.iter().all(|s| s.2.len() == initiated) {
            // Both sides have this pair; the next Quick Mode starts above.
        } else {
            let next = sides
                .iter()
                .filter_map(|(ep, _, _)| ep.poll_timeout())
                .min();
            match next {
                Some(t) => now = now.max(t),
                None => return Err("both endpoints idle without an IPsec SA".into()),
            }
        }
    }
    Err("negotiation did not settle".into())
}
