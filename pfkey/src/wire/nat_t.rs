//! `SADB_X_EXT_NAT_T_TYPE` (`struct sadb_x_nat_t_type`) and
//! `SADB_X_EXT_NAT_T_{SPORT,DPORT}` (`struct sadb_x_nat_t_port`): UDP
//! encapsulation of ESP (RFC 3948). `NAT_T_OA` is an [`Address`](super::Address).

use super::codec::{Reader, Writer};
use super::{Body, Error};

/// The encapsulation: `UDP_ENCAP_ESPINUDP` (2) for RFC 3948.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NatTType {
    /// `sadb_x_nat_t_type_type`
    pub encap_type: u8,
}

impl Body for NatTType {
    const NAME: &'static str = "sadb_x_nat_t_type";

    fn parse(r: &mut Reader<'_>) -> Result<Self, Error> {
        let encap_type = r.u8(Self::NAME)?;
        r.skip(3, Self::NAME)?; // sadb_x_nat_t_type_reserved
        Ok(Self { encap_type })
    }

    fn emit(&self, w: &mut Writer<'_>) {
        w.u8(self.encap_type);
        w.zeros(3);
    }
}

/// A UDP port of the encapsulation (network order on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NatTPort {
    /// `sadb_x_nat_t_port_port`
    pub port: u16,
}

impl Body for NatTPort {
    const NAME: &'static str = "sadb_x_nat_t_port";

    fn parse(r: &mut Reader<'_>) -> Result<Self, Error> {
        let port = r.u16_be(Self::NAME)?;
        r.skip(2, Self::NAME)?; // sadb_x_nat_t_port_reserved
        Ok(Self { port })
    }

    fn emit(&self, w: &mut Writer<'_>) {
        w.u16_be(self.port);
        w.u16_ne(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_is_network_order() {
        // suite/019-send-ADD: X_NAT_T_SPORT 4500 = 0x1194.
        let port = NatTPort::parse(&mut Reader::new(&[0x11, 0x94, 0, 0])).unwrap();
        assert_eq!(port.port, 4500);
        let t = NatTType::parse(&mut Reader::new(&[2, 0, 0, 0])).unwrap();
        assert_eq!(t.encap_type, crate::wire::constants::UDP_ENCAP_ESPINUDP);
    }
}
