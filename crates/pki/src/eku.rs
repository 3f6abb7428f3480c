//! Extended key usage rules for IKE (RFC 4945 §5.1.3.12, RFC 5280 §4.2.1.12).
//!
//! A certificate with no EKU extension may be used for anything. One with an EKU extension is
//! accepted when it lists a purpose allowed for the use asked for:
//!
//! | [`Usage`]  | accepted purposes                                                  |
//! |------------|--------------------------------------------------------------------|
//! | `Server`   | serverAuth, id-kp-ipsecIKE, anyExtendedKeyUsage                    |
//! | `Client`   | clientAuth, id-kp-ipsecIKE, anyExtendedKeyUsage                    |
//! | `Any`      | serverAuth, clientAuth, id-kp-ipsecIKE, anyExtendedKeyUsage        |
//!
//! Windows' built-in IKEv2 client refuses a VPN server certificate without serverAuth (or
//! ipsecIKE), which is why `Server` is what a client checks its gateway with. RFC 5280 makes
//! anyExtendedKeyUsage mean "any purpose", so it satisfies every usage.
//!
//! The rule is applied to every certificate of the path below the trust anchor, intermediates
//! included (as rustls-webpki, Windows and Mozilla do): an intermediate CA that carries an EKU
//! extension must allow the usage too. CA certificates normally carry none.

use core::fmt;

use webpki::{Error, ExtendedKeyUsageValidator, KeyPurposeId, KeyPurposeIdIter};

/// id-kp-serverAuth 1.3.6.1.5.5.7.3.1, DER contents.
pub const OID_SERVER_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];
/// id-kp-clientAuth 1.3.6.1.5.5.7.3.2.
pub const OID_CLIENT_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02];
/// id-kp-ipsecIKE 1.3.6.1.5.5.7.3.17 (RFC 4945 §5.1.3.12).
pub const OID_IPSEC_IKE: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x11];
/// anyExtendedKeyUsage 2.5.29.37.0 (RFC 5280 §4.2.1.12).
pub const OID_ANY_EKU: &[u8] = &[0x55, 0x1d, 0x25, 0x00];

/// What the peer's certificate is to be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Usage {
    /// The peer is a VPN server / gateway: serverAuth, ipsecIKE, anyExtendedKeyUsage or no EKU.
    Server,
    /// The peer is a client / road warrior: clientAuth, ipsecIKE, anyExtendedKeyUsage or no EKU.
    Client,
    /// Either: any of serverAuth, clientAuth, ipsecIKE, anyExtendedKeyUsage, or no EKU.
    Any,
}

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Usage::Server => "server",
            Usage::Client => "client",
            Usage::Any => "peer",
        })
    }
}

impl Usage {
    /// True when `oid` (DER contents of the OBJECT IDENTIFIER) allows this usage.
    pub fn allows(self, oid: &[u8]) -> bool {
        oid == OID_IPSEC_IKE
            || oid == OID_ANY_EKU
            || match self {
                Usage::Server => oid == OID_SERVER_AUTH,
                Usage::Client => oid == OID_CLIENT_AUTH,
                Usage::Any => oid == OID_SERVER_AUTH || oid == OID_CLIENT_AUTH,
            }
    }
}

/// The name of an EKU OID (DER contents), or its dotted form.
pub fn eku_name(oid: &[u8]) -> String {
    match oid {
        OID_SERVER_AUTH => "serverAuth".into(),
        OID_CLIENT_AUTH => "clientAuth".into(),
        OID_IPSEC_IKE => "ipsecIKE".into(),
        OID_ANY_EKU => "anyExtendedKeyUsage".into(),
        _ => der::asn1::ObjectIdentifier::from_bytes(oid)
            .map(|o| o.to_string())
            .unwrap_or_else(|_| "(bad OID)".into()),
    }
}

/// The validator handed to rustls-webpki for each certificate of the path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IkeEku(pub Usage);

impl ExtendedKeyUsageValidator for IkeEku {
    fn validate(&self, iter: KeyPurposeIdIter<'_, '_>) -> Result<(), Error> {
        let mut empty = true;
        for id in iter {
            empty = false;
            let id = id?;
            for oid in [OID_SERVER_AUTH, OID_CLIENT_AUTH, OID_IPSEC_IKE, OID_ANY_EKU] {
                if id == KeyPurposeId::new(oid) && self.0.allows(oid) {
                    return Ok(());
                }
            }
        }
        if empty {
            Ok(())
        } else {
            Err(Error::RequiredEkuNotFoundContext(
                webpki::RequiredEkuNotFoundContext {
                    required: webpki::KeyUsage::required(OID_IPSEC_IKE),
                    present: Vec::new(),
                },
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        use Usage::*;
        for (u, oid, ok) in [
            (Server, OID_SERVER_AUTH, true),
            (Server, OID_CLIENT_AUTH, false),
            (Server, OID_IPSEC_IKE, true),
            (Server, OID_ANY_EKU, true),
            (Client, OID_SERVER_AUTH, false),
            (Client, OID_CLIENT_AUTH, true),
            (Client, OID_IPSEC_IKE, true),
            (Any, OID_SERVER_AUTH, true),
            (Any, OID_CLIENT_AUTH, true),
            (
                Any,
                &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x04],
                false,
            ),
        ] {
            assert_eq!(u.allows(oid), ok, "{u:?} {}", eku_name(oid));
        }
        assert_eq!(
            eku_name(&[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x04]),
            "1.3.6.1.5.5.7.3.4"
        );
    }
}
