//! Every profile format for one client, as named files (what `rampart client export` writes
//! into the client's folder).

use zeroize::Zeroizing;

use crate::p12::{self, P12Kind};
use crate::{linux, mobileconfig, sswan, windows, ClientAuth, ClientProfile, ProfileError, Server};

/// One exported file.
#[derive(Debug)]
pub struct ExportFile {
    /// File name (no directory).
    pub name: String,
    /// Contents.
    pub contents: Zeroizing<Vec<u8>>,
    /// True when it holds the client's secret (write it 0600).
    pub secret: bool,
    /// What it is for, one line (printed by the CLI and in the README file).
    pub purpose: String,
}

fn file(name: String, contents: Vec<u8>, secret: bool, purpose: &str) -> ExportFile {
    ExportFile {
        name,
        contents: Zeroizing::new(contents),
        secret,
        purpose: purpose.to_string(),
    }
}

/// All formats for `client`: `ca.crt`; for certificate clients `NAME.p12` (modern) and
/// `NAME-legacy.p12`; `NAME.mobileconfig`; `NAME.sswan` (not PSK); `NAME.ps1` (not PSK);
/// `NAME.rampart` (Linux); `README.txt`.
pub fn export_all(
    server: &Server,
    client: &ClientProfile,
) -> Result<Vec<ExportFile>, ProfileError> {
    let n = &client.name;
    let mut out = vec![file(
        "ca.crt".into(),
        pki::cert_to_pem(&server.ca_cert_der).into_bytes(),
        false,
        "the VPN's CA certificate (PEM), to trust the server by hand",
    )];
    let mut legacy_p12 = None;
    if let ClientAuth::Cert {
        cert_der,
        key_pkcs8_der,
        p12_password,
        ..
    } = &client.auth
    {
        let cas = [server.ca_cert_der.as_slice()];
        let modern = p12::build(
            P12Kind::Modern,
            key_pkcs8_der,
            cert_der,
            &cas,
            n,
            p12_password,
        )?;
        let legacy = p12::build(
            P12Kind::Legacy,
            key_pkcs8_der,
            cert_der,
            &cas,
            n,
            p12_password,
        )?;
        out.push(file(
            format!("{n}.p12"),
            modern,
            true,
            "key + certificate + CA, AES-256/SHA-256 (Windows 10 1709+, macOS, iOS 16+, Android 12+, charon-cmd --p12)",
        ));
        out.push(file(
            format!("{n}-legacy.p12"),
            legacy.clone(),
            true,
            "the same with 3DES/SHA-1 for older importers (Android < 12, old macOS/Windows)",
        ));
        legacy_p12 = Some(legacy);
    }
    out.push(file(
        format!("{n}.mobileconfig"),
        mobileconfig::render(server, client, legacy_p12.as_deref())?,
        true,
        "Apple iOS/iPadOS/macOS: open it, then Settings > Profile Downloaded > Install",
    ));
    if let Some(j) = sswan::render(server, client, legacy_p12.as_deref())? {
        out.push(file(
            format!("{n}.sswan"),
            j.into_bytes(),
            matches!(client.auth, ClientAuth::Cert { .. }),
            "Android strongSwan app: Import VPN profile",
        ));
    }
    if let Some(ps) = windows::render(server, client, &format!("{n}.p12")) {
        out.push(file(
            format!("{n}.ps1"),
            ps.into_bytes(),
            false,
            "Windows 10/11: run in an elevated PowerShell (with the .p12 beside it)",
        ));
    }
    let lp = linux::profile(server, client)?;
    out.push(file(
        format!("{n}.rampart"),
        linux::render(&lp)?.as_bytes().to_vec(),
        true,
        "Linux: sudo rampart connect FILE",
    ));
    let mut readme = format!(
        "Rampart VPN client '{n}' for {srv} (server identity {id})\n\n",
        srv = server.connect_to(),
        id = server.remote_id()
    );
    match &client.auth {
        ClientAuth::Cert { p12_password, .. } => readme.push_str(&format!(
            "Certificate client. Password of the .p12 files: {}\n\n",
            p12_password.as_str()
        )),
        ClientAuth::Eap { user, password } => readme.push_str(&format!(
            "EAP-MSCHAPv2 client. User: {user}  Password: {}\n\n",
            password.as_str()
        )),
        ClientAuth::Psk { id, psk } => readme.push_str(&format!(
            "PSK client. Local identity: {id}  PSK: {}\n\n",
            psk.as_str()
        )),
    }
    for f in &out {
        readme.push_str(&format!("{:<24} {}\n", f.name, f.purpose));
    }
    out.push(file(
        "README.txt".into(),
        readme.into_bytes(),
        true,
        "this list",
    ));
    Ok(out)
}
