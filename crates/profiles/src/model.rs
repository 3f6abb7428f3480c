//! What every profile is built from: the server as clients see it, and one client.

use std::net::IpAddr;

use zeroize::Zeroizing;

/// The VPN server as its clients see it.
#[derive(Debug, Clone)]
pub struct Server {
    /// The server's public address.
    pub address: IpAddr,
    /// Its DNS name, if it has one (clients then connect to the name).
    pub dns_name: Option<String>,
    /// The CA that issued the server's certificate (DER).
    pub ca_cert_der: Vec<u8>,
    /// The server's IKE proposals (strongSwan syntax), for clients that take a list.
    pub ike_proposals: Vec<String>,
    /// The server's ESP proposals.
    pub esp_proposals: Vec<String>,
    /// Networks reached through the tunnel; empty = full tunnel (all traffic).
    pub split_routes: Vec<String>,
}

impl Server {
    /// What clients connect to: the DNS name if there is one, else the address.
    pub fn connect_to(&self) -> String {
        self.dns_name
            .clone()
            .unwrap_or_else(|| self.address.to_string())
    }

    /// The server's IKE identity (RFC 7296 §3.5): its DNS name (ID_FQDN) or its address
    /// (ID_IPV4_ADDR / ID_IPV6_ADDR); both are subjectAltNames of its certificate.
    pub fn remote_id(&self) -> String {
        self.connect_to()
    }

    /// A display name for the VPN on the client ("Rampart vpn.example.org").
    pub fn display_name(&self) -> String {
        format!("Rampart {}", self.connect_to())
    }

    /// True when all traffic goes through the tunnel.
    pub fn full_tunnel(&self) -> bool {
        self.split_routes.is_empty()
    }
}

/// How a client authenticates (RFC 7296 §2.15, §2.16).
#[derive(Debug, Clone)]
pub enum ClientAuth {
    /// A client certificate (EKU clientAuth) and its key.
    Cert {
        /// The client's identity, a dNSName subjectAltName of the certificate.
        id: String,
        /// The certificate, DER.
        cert_der: Vec<u8>,
        /// The private key, PKCS #8 DER.
        key_pkcs8_der: Zeroizing<Vec<u8>>,
        /// The password protecting the exported PKCS #12 files.
        p12_password: Zeroizing<String>,
    },
    /// EAP-MSCHAPv2 user name and password; the server proves itself with its certificate.
    Eap {
        /// The EAP identity.
        user: String,
        /// The password.
        password: Zeroizing<String>,
    },
    /// A pre-shared key of this client alone (both sides authenticate with it).
    Psk {
        /// The client's IKE identity.
        id: String,
        /// The key.
        psk: Zeroizing<String>,
    },
}

/// One client: a name (also file names) and its credentials.
#[derive(Debug, Clone)]
pub struct ClientProfile {
    /// The client's name (`rampart client add NAME`).
    pub name: String,
    /// Its credentials.
    pub auth: ClientAuth,
}

/// A stable UUID (RFC 9562 layout, version 8 "custom") derived from `parts`, so a profile
/// exported twice has the same identifiers and re-importing it replaces the old one.
pub(crate) fn stable_uuid(parts: &[&[u8]]) -> String {
    let mut all: Vec<&[u8]> = vec![b"rampart-profile-uuid"];
    for p in parts {
        all.push(p);
        all.push(b"\0");
    }
    let d = crate::sha256(&all);
    let mut b = [0u8; 16];
    for (o, i) in b.iter_mut().zip(d.iter()) {
        *o = *i;
    }
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02X}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_is_stable_and_well_formed() {
        let a = stable_uuid(&[b"x", b"y"]);
        assert_eq!(a, stable_uuid(&[b"x", b"y"]));
        assert_ne!(a, stable_uuid(&[b"xy"]));
        assert_eq!(a.len(), 36);
        assert_eq!(a.as_bytes()[14], b'8');
    }
}
