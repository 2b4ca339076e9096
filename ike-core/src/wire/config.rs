//! Attribute payload, type 14 (draft-dukes-ike-mode-cfg §3.2): Mode-Config
//! and XAUTH (draft-beaulieu-ike-xauth) exchanges.
//!
//! ```text
//! Type (1) | RESERVED (1) | Identifier (2) | Data Attributes
//! ```

use super::attributes::{DataAttribute, emit_attributes, read_attributes};
use super::error::Error;
use super::payload::{PayloadBody, PayloadType};
use super::reader::Reader;

wire_enum! {
    /// The Attribute payload's message type.
    pub struct ConfigType(u8) {
        REQUEST = 1 => "ISAKMP_CFG_REQUEST",
        REPLY = 2 => "ISAKMP_CFG_REPLY",
        SET = 3 => "ISAKMP_CFG_SET",
        ACK = 4 => "ISAKMP_CFG_ACK",
    }
}

wire_enum! {
    /// Mode-Config, XAUTH and Cisco Unity attribute types.
    pub struct ConfigAttributeType(u16) {
        INTERNAL_IP4_ADDRESS = 1 => "INTERNAL_IP4_ADDRESS",
        INTERNAL_IP4_NETMASK = 2 => "INTERNAL_IP4_NETMASK",
        INTERNAL_IP4_DNS = 3 => "INTERNAL_IP4_DNS",
        INTERNAL_IP4_NBNS = 4 => "INTERNAL_IP4_NBNS",
        INTERNAL_ADDRESS_EXPIRY = 5 => "INTERNAL_ADDRESS_EXPIRY",
        INTERNAL_IP4_DHCP = 6 => "INTERNAL_IP4_DHCP",
        APPLICATION_VERSION = 7 => "APPLICATION_VERSION",
        INTERNAL_IP6_ADDRESS = 8 => "INTERNAL_IP6_ADDRESS",
        INTERNAL_IP6_NETMASK = 9 => "INTERNAL_IP6_NETMASK",
        INTERNAL_IP6_DNS = 10 => "INTERNAL_IP6_DNS",
        INTERNAL_IP6_NBNS = 11 => "INTERNAL_IP6_NBNS",
        INTERNAL_IP6_DHCP = 12 => "INTERNAL_IP6_DHCP",
        INTERNAL_IP4_SUBNET = 13 => "INTERNAL_IP4_SUBNET",
        SUPPORTED_ATTRIBUTES = 14 => "SUPPORTED_ATTRIBUTES",
        INTERNAL_IP6_SUBNET = 15 => "INTERNAL_IP6_SUBNET",
        XAUTH_TYPE = 16520 => "XAUTH-TYPE",
        XAUTH_USER_NAME = 16521 => "XAUTH-USER-NAME",
        XAUTH_USER_PASSWORD = 16522 => "XAUTH-USER-PASSWORD",
        XAUTH_PASSCODE = 16523 => "XAUTH-PASSCODE",
        XAUTH_MESSAGE = 16524 => "XAUTH-MESSAGE",
        XAUTH_CHALLENGE = 16525 => "XAUTH-CHALLENGE",
        XAUTH_DOMAIN = 16526 => "XAUTH-DOMAIN",
        XAUTH_STATUS = 16527 => "XAUTH-STATUS",
        XAUTH_NEXT_PIN = 16528 => "XAUTH-NEXT-PIN",
        XAUTH_ANSWER = 16529 => "XAUTH-ANSWER",
        UNITY_BANNER = 28672 => "UNITY_BANNER",
        UNITY_SAVE_PASSWD = 28673 => "UNITY_SAVE_PASSWD",
        UNITY_DEF_DOMAIN = 28674 => "UNITY_DEF_DOMAIN",
        UNITY_SPLITDNS_NAME = 28675 => "UNITY_SPLITDNS_NAME",
        UNITY_SPLIT_INCLUDE = 28676 => "UNITY_SPLIT_INCLUDE",
        UNITY_NATT_PORT = 28677 => "UNITY_NATT_PORT",
        UNITY_LOCAL_LAN = 28678 => "UNITY_LOCAL_LAN",
        UNITY_PFS = 28679 => "UNITY_PFS",
        UNITY_FW_TYPE = 28680 => "UNITY_FW_TYPE",
        UNITY_BACKUP_SERVERS = 28681 => "UNITY_BACKUP_SERVERS",
        UNITY_DDNS_HOSTNAME = 28682 => "UNITY_DDNS_HOSTNAME",
    }
}

/// The body of an Attribute payload.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConfigAttributes {
    /// Request, reply, set or ack.
    pub config_type: ConfigType,
    /// Identifier matching a reply to its request.
    pub identifier: u16,
    /// The attributes (a request carries them with empty values).
    pub attributes: Vec<DataAttribute>,
}

impl PayloadBody for ConfigAttributes {
    const TYPE: PayloadType = PayloadType::ATTRIBUTE;

    fn parse_body(body: &[u8]) -> Result<Self, Error> {
        const WHAT: &str = "Attribute payload";
        let mut r = Reader::new(body, 0);
        let config_type = ConfigType(r.u8(WHAT)?);
        let _reserved = r.u8(WHAT)?;
        let identifier = r.u16(WHAT)?;
        let attributes = read_attributes(&mut r)?;
        Ok(Self {
            config_type,
            identifier,
            attributes,
        })
    }

    fn emit_body(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        out.push(self.config_type.0);
        out.push(0);
        out.extend_from_slice(&self.identifier.to_be_bytes());
        emit_attributes(&self.attributes, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xauth_request_known_answer_both_directions() {
        // REQUEST id 0x1234: XAUTH-TYPE = 0 (generic, TV), empty
        // XAUTH-USER-NAME and XAUTH-USER-PASSWORD (TLV).
        let body = [
            1, 0, 0x12, 0x34, 0xc0, 0x88, 0x00, 0x00, 0x40, 0x89, 0x00, 0x00, 0x40, 0x8a, 0x00,
            0x00,
        ];
        let c = ConfigAttributes::parse_body(&body).unwrap();
        assert_eq!(c.config_type, ConfigType::REQUEST);
        assert_eq!(c.identifier, 0x1234);
        assert_eq!(
            c.attributes,
            vec![
                DataAttribute::basic(ConfigAttributeType::XAUTH_TYPE.0, 0),
                DataAttribute::variable(ConfigAttributeType::XAUTH_USER_NAME.0, []),
                DataAttribute::variable(ConfigAttributeType::XAUTH_USER_PASSWORD.0, []),
            ]
        );
        assert_eq!(c.to_body().unwrap(), body);
    }
}
