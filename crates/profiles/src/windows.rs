//! A PowerShell script for Windows 10/11's built-in IKEv2 client (run elevated):
//!
//! 1. `Import-Certificate` of the CA into `Cert:\LocalMachine\Root` (Windows checks the server
//!    certificate against it, and wants EKU serverAuth and the server's name in a SAN).
//! 2. Certificate clients: `Import-PfxCertificate` of the .p12 beside the script into
//!    `Cert:\LocalMachine\My` (asks for its password).
//! 3. `Add-VpnConnection -TunnelType Ikev2 -AuthenticationMethod Eap` (EAP-MSCHAPv2, Windows
//!    asks for user name and password on first connect) or `MachineCertificate`.
//! 4. `Set-VpnConnectionIPsecConfiguration`: without it Windows proposes only MODP-1024 with
//!    SHA-1/3DES suites (refused unless the server runs with `--legacy-crypto`); the script
//!    raises it to [`crate::proposals::windows`].
//! 5. Split tunnel: `Add-VpnConnectionRoute` per network (Windows ignores pushed
//!    INTERNAL_IP4_SUBNET routes).
//!
//! Windows' built-in client has no IKEv2 PSK mode: PSK clients get no script.

use base64::Engine;

use crate::proposals::windows as w;
use crate::{ClientAuth, ClientProfile, Server};

/// Single-quoted PowerShell string literal (`'` doubled).
fn ps_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The script, or `None` for a PSK client. `p12_file` is the file name of the client's
/// PKCS #12 next to the script.
pub fn render(server: &Server, client: &ClientProfile, p12_file: &str) -> Option<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let name = ps_quote(&server.display_name());
    let mut out = String::new();
    out.push_str(&format!(
        "# Rampart VPN for Windows 10/11: {client} -> {srv}\n\
         # Run in an elevated PowerShell:  powershell -ExecutionPolicy Bypass -File .\\{client}.ps1\n\
         $ErrorActionPreference = 'Stop'\n\
         $Name = {name}\n\
         $Server = {addr}\n\n\
         # 1. Trust the VPN's CA (the server certificate is checked against it).\n\
         $CaFile = Join-Path $env:TEMP 'rampart-ca.cer'\n\
         [IO.File]::WriteAllBytes($CaFile, [Convert]::FromBase64String('{ca}'))\n\
         Import-Certificate -FilePath $CaFile -CertStoreLocation Cert:\\LocalMachine\\Root | Out-Null\n\
         Remove-Item $CaFile\n\n",
        client = client.name,
        srv = server.connect_to(),
        addr = ps_quote(&server.connect_to()),
        ca = b64.encode(&server.ca_cert_der),
    ));
    let auth = match &client.auth {
        ClientAuth::Cert { .. } => {
            out.push_str(&format!(
                "# 2. The client certificate and key (asks for the .p12 password).\n\
                 $P12 = Join-Path $PSScriptRoot {p12}\n\
                 $Pw = Read-Host -AsSecureString \"Password of $P12\"\n\
                 Import-PfxCertificate -FilePath $P12 -CertStoreLocation Cert:\\LocalMachine\\My -Password $Pw | Out-Null\n\n",
                p12 = ps_quote(p12_file)
            ));
            "MachineCertificate"
        }
        ClientAuth::Eap { user, .. } => {
            out.push_str(&format!(
                "# 2. EAP-MSCHAPv2: Windows asks for the user name ({user}) and password when connecting.\n\n"
            ));
            "Eap"
        }
        ClientAuth::Psk { .. } => return None,
    };
    let split = if server.full_tunnel() {
        "$false"
    } else {
        "$true"
    };
    out.push_str(&format!(
        "# 3. The connection (replaced if it exists).\n\
         Get-VpnConnection -Name $Name -AllUserConnection -ErrorAction SilentlyContinue | Remove-VpnConnection -AllUserConnection -Force\n\
         Add-VpnConnection -Name $Name -ServerAddress $Server -TunnelType Ikev2 -AuthenticationMethod {auth} -EncryptionLevel Required -SplitTunneling:{split} -AllUserConnection -RememberCredential -Force\n\n\
         # 4. Strong suites instead of Windows' default MODP-1024/SHA-1 proposals.\n\
         Set-VpnConnectionIPsecConfiguration -ConnectionName $Name -AllUserConnection -EncryptionMethod {enc} -IntegrityCheckMethod {integ} -DHGroup {dh} -CipherTransformConstants {cipher} -AuthenticationTransformConstants {cipher} -PfsGroup {pfs} -Force\n",
        enc = w::ENCRYPTION_METHOD,
        integ = w::INTEGRITY_CHECK_METHOD,
        dh = w::DH_GROUP,
        cipher = w::CIPHER_TRANSFORM,
        pfs = w::PFS_GROUP,
    ));
    if !server.full_tunnel() {
        out.push_str("\n# 5. Split tunnel: Windows ignores routes pushed by the server.\n");
        for r in &server.split_routes {
            out.push_str(&format!(
                "Add-VpnConnectionRoute -ConnectionName $Name -AllUserConnection -DestinationPrefix {}\n",
                ps_quote(r)
            ));
        }
    }
    out.push_str("\nWrite-Host \"VPN '$Name' added: connect from the network menu.\"\n");
    Some(out)
}
