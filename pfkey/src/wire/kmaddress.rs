//! `SADB_X_EXT_KMADDRESS`: `struct sadb_x_kmaddress` followed by the local
//! and remote sockaddrs the key manager uses (Linux, for MIGRATE).

use std::net::SocketAddr;

use super::codec::{Reader, Writer};
use super::{Body, Error, sockaddr};

/// The IKE endpoints of a migrated SA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KmAddress {
    /// Local endpoint.
    pub local: SocketAddr,
    /// Remote endpoint.
    pub remote: SocketAddr,
}

impl Body for KmAddress {
    const NAME: &'static str = "sadb_x_kmaddress";

    fn parse(r: &mut Reader<'_>) -> Result<Self, Error> {
        r.skip(4, Self::NAME)?; // sadb_x_kmaddress_reserved
        let local = sockaddr::read(r)?;
        let remote = sockaddr::read(r)?;
        Ok(Self { local, remote })
    }

    fn emit(&self, w: &mut Writer<'_>) {
        w.u32_ne(0);
        sockaddr::write(w, &self.local);
        sockaddr::write(w, &self.remote);
    }
}
