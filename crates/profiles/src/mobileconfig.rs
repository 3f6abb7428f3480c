//! Apple configuration profile (.mobileconfig, an XML property list) with an IKEv2 VPN
//! payload (`com.apple.vpn.managed`, VPNType IKEv2), the CA as `com.apple.security.root`
//! and, for certificate clients, the PKCS #12 as `com.apple.security.pkcs12`.
//!
//! - Certificate clients: `AuthenticationMethod = Certificate`, `PayloadCertificateUUID`
//!   pointing at the PKCS #12 payload, `LocalIdentifier` = the certificate's dNSName.
//! - EAP clients: `AuthenticationMethod = None` with `ExtendedAuthEnabled = 1`,
//!   `AuthName`/`AuthPassword`: the server proves itself with its certificate (RFC 7296
//!   §2.16), checked against `ServerCertificateIssuerCommonName` and `RemoteIdentifier`.
//! - PSK clients: `AuthenticationMethod = SharedSecret`.
//!
//! The IKE and Child SA parameters are [`crate::proposals::apple`], which the server's
//! defaults accept. Full tunnel sets `IPv4.OverridePrimary`; a split tunnel uses the subnets
//! the server pushes (INTERNAL_IP4_SUBNET, RFC 7296 §3.15.1).
//!
//! The profile holds the client's secret (key or password): treat it like the .p12.

use plist::{Dictionary, Value};

use crate::model::stable_uuid;
use crate::proposals::apple;
use crate::{ClientAuth, ClientProfile, ProfileError, Server};

fn dict(items: Vec<(&str, Value)>) -> Value {
    let mut d = Dictionary::new();
    for (k, v) in items {
        d.insert(k.to_string(), v);
    }
    Value::Dictionary(d)
}

fn s(v: impl Into<String>) -> Value {
    Value::String(v.into())
}

fn i(v: i64) -> Value {
    Value::Integer(v.into())
}

/// The CA's common name (Apple checks the server certificate's issuer by it).
fn ca_common_name(ca_der: &[u8]) -> Result<String, ProfileError> {
    let cert = pki::Certificate::from_der(ca_der)?;
    let dn = cert.subject().to_string();
    Ok(dn
        .split(", ")
        .find_map(|rdn| rdn.strip_prefix("CN="))
        .unwrap_or(&dn)
        .to_string())
}

fn sa_params(lifetime_minutes: i64) -> Value {
    dict(vec![
        ("EncryptionAlgorithm", s(apple::ENCRYPTION)),
        ("IntegrityAlgorithm", s(apple::INTEGRITY)),
        ("DiffieHellmanGroup", i(apple::DH_GROUP)),
        ("LifeTimeInMinutes", i(lifetime_minutes)),
    ])
}

/// The profile, XML. `p12` is the PKCS #12 for certificate clients (with its password in
/// the client's [`ClientAuth::Cert`]), ignored for the others.
pub fn render(
    server: &Server,
    client: &ClientProfile,
    p12: Option<&[u8]>,
) -> Result<Vec<u8>, ProfileError> {
    let base = format!("org.rampart.{}.{}", server.connect_to(), client.name);
    let uuid =
        |what: &str| stable_uuid(&[&server.ca_cert_der, client.name.as_bytes(), what.as_bytes()]);
    let ca_uuid = uuid("ca");
    let p12_uuid = uuid("p12");
    let vpn_uuid = uuid("vpn");
    let mut ikev2: Vec<(&str, Value)> = vec![
        ("RemoteAddress", s(server.connect_to())),
        ("RemoteIdentifier", s(server.remote_id())),
        (
            "ServerCertificateIssuerCommonName",
            s(ca_common_name(&server.ca_cert_der)?),
        ),
        ("CertificateType", s("RSA")),
        ("IKESecurityAssociationParameters", sa_params(1440)),
        ("ChildSecurityAssociationParameters", sa_params(60)),
        ("EnablePFS", i(1)),
        ("DeadPeerDetectionRate", s("Medium")),
        ("DisableMOBIKE", i(0)),
        ("DisableRedirect", i(1)),
        ("EnableCertificateRevocationCheck", i(0)),
        ("UseConfigurationAttributeInternalIPSubnet", i(0)),
        ("NATKeepAliveInterval", i(20)),
        ("NATKeepAliveOffloadEnable", i(1)),
        ("OnDemandEnabled", i(0)),
    ];
    let mut payloads = vec![dict(vec![
        ("PayloadType", s("com.apple.security.root")),
        ("PayloadVersion", i(1)),
        ("PayloadIdentifier", s(format!("{base}.ca"))),
        ("PayloadUUID", s(ca_uuid)),
        (
            "PayloadDisplayName",
            s(ca_common_name(&server.ca_cert_der)?),
        ),
        ("PayloadCertificateFileName", s("ca.crt")),
        ("PayloadContent", Value::Data(server.ca_cert_der.clone())),
    ])];
    match &client.auth {
        ClientAuth::Cert {
            id, p12_password, ..
        } => {
            let p12 = p12.ok_or_else(|| {
                ProfileError::Invalid("a certificate client's profile needs its .p12".into())
            })?;
            ikev2.push(("AuthenticationMethod", s("Certificate")));
            ikev2.push(("ExtendedAuthEnabled", i(0)));
            ikev2.push(("LocalIdentifier", s(id.as_str())));
            ikev2.push(("PayloadCertificateUUID", s(p12_uuid.clone())));
            payloads.push(dict(vec![
                ("PayloadType", s("com.apple.security.pkcs12")),
                ("PayloadVersion", i(1)),
                ("PayloadIdentifier", s(format!("{base}.p12"))),
                ("PayloadUUID", s(p12_uuid)),
                ("PayloadDisplayName", s(client.name.as_str())),
                (
                    "PayloadCertificateFileName",
                    s(format!("{}.p12", client.name)),
                ),
                ("Password", s(p12_password.as_str())),
                ("PayloadContent", Value::Data(p12.to_vec())),
            ]));
        }
        ClientAuth::Eap { user, password } => {
            ikev2.push(("AuthenticationMethod", s("None")));
            ikev2.push(("ExtendedAuthEnabled", i(1)));
            ikev2.push(("AuthName", s(user.as_str())));
            ikev2.push(("AuthPassword", s(password.as_str())));
            ikev2.push(("LocalIdentifier", s(user.as_str())));
        }
        ClientAuth::Psk { id, psk } => {
            ikev2.push(("AuthenticationMethod", s("SharedSecret")));
            ikev2.push(("ExtendedAuthEnabled", i(0)));
            ikev2.push(("SharedSecret", s(psk.as_str())));
            ikev2.push(("LocalIdentifier", s(id.as_str())));
        }
    }
    payloads.push(dict(vec![
        ("PayloadType", s("com.apple.vpn.managed")),
        ("PayloadVersion", i(1)),
        ("PayloadIdentifier", s(format!("{base}.vpn"))),
        ("PayloadUUID", s(vpn_uuid)),
        ("PayloadDisplayName", s(server.display_name())),
        ("UserDefinedName", s(server.display_name())),
        ("VPNType", s("IKEv2")),
        ("IKEv2", dict(ikev2)),
        (
            "IPv4",
            dict(vec![(
                "OverridePrimary",
                i(i64::from(server.full_tunnel())),
            )]),
        ),
    ]));
    let top = dict(vec![
        ("PayloadType", s("Configuration")),
        ("PayloadVersion", i(1)),
        ("PayloadIdentifier", s(base.clone())),
        ("PayloadUUID", s(uuid("profile"))),
        (
            "PayloadDisplayName",
            s(format!("{} ({})", server.display_name(), client.name)),
        ),
        (
            "PayloadDescription",
            s(format!(
                "IKEv2 VPN to {} for {}",
                server.connect_to(),
                client.name
            )),
        ),
        ("PayloadRemovalDisallowed", Value::Boolean(false)),
        ("PayloadContent", Value::Array(payloads)),
    ]);
    let mut out = Vec::new();
    top.to_writer_xml(&mut out)
        .map_err(|e| ProfileError::Plist(e.to_string()))?;
    Ok(out)
}
