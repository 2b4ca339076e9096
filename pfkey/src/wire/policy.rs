//! `SADB_X_EXT_POLICY`: `struct sadb_x_policy` followed by
//! `struct sadb_x_ipsecrequest`s (KAME). Unlike every other PF_KEY length,
//! `sadb_x_ipsecrequest_len` counts bytes, not 8-byte units.

use std::net::SocketAddr;

use super::codec::{Reader, Writer};
use super::enums::{IpsecLevel, IpsecMode, IpsecProto, PolicyDir, PolicyType};
use super::{Body, Error, sockaddr};

/// `sizeof(struct sadb_x_ipsecrequest)`.
const REQUEST_HEADER_LEN: usize = 16;

/// A security policy: what to do with the traffic the selectors match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// `sadb_x_policy_type`
    pub policy_type: PolicyType,
    /// `sadb_x_policy_dir`
    pub dir: PolicyDir,
    /// `sadb_x_policy_id`: the kernel's index. Its low 3 bits carry the direction.
    pub id: u32,
    /// `sadb_x_policy_priority`
    pub priority: u32,
    /// For `IPSEC_POLICY_IPSEC`: the transforms to apply, outermost last.
    pub requests: Vec<IpsecRequest>,
}

impl Policy {
    /// A policy of `policy_type` in `dir`, with no requests yet.
    pub fn new(policy_type: PolicyType, dir: PolicyDir) -> Self {
        Self {
            policy_type,
            dir,
            id: 0,
            priority: 0,
            requests: Vec::new(),
        }
    }
}

/// One `struct sadb_x_ipsecrequest`, e.g. `esp/tunnel/A-B/require`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpsecRequest {
    /// `sadb_x_ipsecrequest_proto`
    pub proto: IpsecProto,
    /// `sadb_x_ipsecrequest_mode`
    pub mode: IpsecMode,
    /// `sadb_x_ipsecrequest_level`
    pub level: IpsecLevel,
    /// `sadb_x_ipsecrequest_reqid` (with `unique`, 0 lets the kernel pick one).
    pub reqid: u32,
    /// Tunnel endpoints (source, destination) in tunnel mode.
    pub tunnel: Option<(SocketAddr, SocketAddr)>,
}

impl IpsecRequest {
    fn parse(r: &mut Reader<'_>) -> Result<Self, Error> {
        const W: &str = "sadb_x_ipsecrequest";
        let len = usize::from(r.u16_ne(W)?);
        if len < REQUEST_HEADER_LEN {
            return Err(Error::BadLength { what: W, len });
        }
        // Reread the whole request from its start, within its own length.
        let mut req = Reader::new(r.take(len.saturating_sub(2), W)?);
        let proto = req.u16_ne(W)?.into();
        let mode = req.u8(W)?.into();
        let level = req.u8(W)?.into();
        req.skip(2, W)?; // sadb_x_ipsecrequest_reserved1
        let reqid = req.u32_ne(W)?;
        req.skip(4, W)?; // sadb_x_ipsecrequest_reserved2
        let tunnel = if req.is_empty() {
            None
        } else {
            let src = sockaddr::read(&mut req)?;
            let dst = sockaddr::read(&mut req)?;
            Some((src, dst))
        };
        Ok(Self {
            proto,
            mode,
            level,
            reqid,
            tunnel,
        })
    }

    fn emit(&self, w: &mut Writer<'_>) {
        let start = w.len();
        w.u16_ne(0);
        w.u16_ne(self.proto.into());
        w.u8(self.mode.into());
        w.u8(self.level.into());
        w.u16_ne(0);
        w.u32_ne(self.reqid);
        w.u32_ne(0);
        if let Some((src, dst)) = &self.tunnel {
            sockaddr::write(w, src);
            sockaddr::write(w, dst);
        }
        // Requests are 8-byte aligned too (the kernel and racoon pad them).
        w.pad_from(start);
        let len = u16::try_from(w.len().saturating_sub(start)).unwrap_or(u16::MAX);
        w.patch_u16_ne(start, len);
    }
}

impl Body for Policy {
    const NAME: &'static str = "sadb_x_policy";

    fn parse(r: &mut Reader<'_>) -> Result<Self, Error> {
        let policy_type = r.u16_ne(Self::NAME)?.into();
        let dir = r.u8(Self::NAME)?.into();
        r.skip(1, Self::NAME)?; // sadb_x_policy_reserved
        let id = r.u32_ne(Self::NAME)?;
        let priority = r.u32_ne(Self::NAME)?;
        let mut requests = Vec::new();
        // Each request consumes at least 16 bytes, so this ends.
        while !r.is_empty() {
            requests.push(IpsecRequest::parse(r)?);
        }
        Ok(Self {
            policy_type,
            dir,
            id,
            priority,
            requests,
        })
    }

    fn emit(&self, w: &mut Writer<'_>) {
        w.u16_ne(self.policy_type.into());
        w.u8(self.dir.into());
        w.u8(0);
        w.u32_ne(self.id);
        w.u32_ne(self.priority);
        for request in &self.requests {
            request.emit(w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Extension, Message, MessageType, SaType};

    // suite/049: in, esp/tunnel/10.0.0.2-10.0.0.1/unique:5 (the X_POLICY extension).
    const TUNNEL_IN: &str = "0800120002000100000000000000000030003200020300000500000000000000\
                             020000000a0000020000000000000000020000000a0000010000000000000000";

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn request_length_counts_bytes() {
        let bytes = hex(TUNNEL_IN);
        let policy = Policy::parse(&mut Reader::new(&bytes[4..])).unwrap();
        assert_eq!(policy.dir, PolicyDir::Inbound);
        let [req] = policy.requests.as_slice() else {
            panic!("{policy:?}")
        };
        assert_eq!(
            (req.proto, req.mode, req.level),
            (IpsecProto::Esp, IpsecMode::Tunnel, IpsecLevel::Unique)
        );
        assert_eq!(req.reqid, 5);
        let (src, dst) = req.tunnel.unwrap();
        assert_eq!(
            (src.to_string(), dst.to_string()),
            ("10.0.0.2:0".into(), "10.0.0.1:0".into())
        );
        let msg = Message::new(MessageType::SpdAdd, SaType::Unspec).with(Extension::Policy(policy));
        assert_eq!(&msg.to_bytes().unwrap()[16..], &bytes[..]);
    }
}
