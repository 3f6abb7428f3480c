//! The strongSwan Android app's profile (.sswan): a JSON object the app imports
//! ("Import VPN profile"). Fields as the app documents them: `uuid`, `name`, `type`
//! (`ikev2-cert` or `ikev2-eap`), `remote.addr`, `remote.id`, `remote.cert` (the CA, base64
//! DER), `local.p12` (base64 PKCS #12 with key, certificate and CA; the app asks for its
//! password), `local.eap_id`, `ike-proposal`, `esp-proposal`, `split-tunneling.subnets`.
//!
//! The app has no PSK profile type: PSK clients get none (and the app asks for EAP passwords
//! at import; they are never in the file).

use base64::Engine;
use serde_json::{json, Map, Value};

use crate::model::stable_uuid;
use crate::proposals::sswan;
use crate::{ClientAuth, ClientProfile, ProfileError, Server};

/// The profile, or `None` for a PSK client. `p12` is the certificate client's PKCS #12.
pub fn render(
    server: &Server,
    client: &ClientProfile,
    p12: Option<&[u8]>,
) -> Result<Option<String>, ProfileError> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut local = Map::new();
    let kind = match &client.auth {
        ClientAuth::Cert { .. } => {
            let p12 = p12.ok_or_else(|| {
                ProfileError::Invalid("a certificate client's profile needs its .p12".into())
            })?;
            local.insert("p12".into(), Value::String(b64.encode(p12)));
            "ikev2-cert"
        }
        ClientAuth::Eap { user, .. } => {
            local.insert("eap_id".into(), Value::String(user.clone()));
            "ikev2-eap"
        }
        ClientAuth::Psk { .. } => return Ok(None),
    };
    let mut v = json!({
        "uuid": stable_uuid(&[&server.ca_cert_der, client.name.as_bytes(), b"sswan"]).to_lowercase(),
        "name": format!("{} ({})", server.display_name(), client.name),
        "type": kind,
        "remote": {
            "addr": server.connect_to(),
            "id": server.remote_id(),
            "cert": b64.encode(&server.ca_cert_der),
        },
        "local": Value::Object(local),
        "ike-proposal": sswan::IKE,
        "esp-proposal": sswan::ESP,
    });
    if !server.full_tunnel() {
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "split-tunneling".into(),
                json!({ "subnets": server.split_routes.join(" ") }),
            );
        }
    }
    serde_json::to_string_pretty(&v)
        .map(Some)
        .map_err(|e| ProfileError::Invalid(e.to_string()))
}
