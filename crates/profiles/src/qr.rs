//! QR codes for the terminal (Unicode half blocks, two modules per character).
//!
//! What a phone can use from a scan: a PKCS #12 or a .sswan is far too big for one code, and
//! no built-in client imports a VPN from a QR code. What helps is text the phone's camera
//! app offers to copy: the server, the user name and the password of an EAP client (typing a
//! 16-character password on a phone is where people fail). `rampart setup` and
//! `rampart client add --password` print [`eap_text`] this way.

use qrcode::render::unicode::Dense1x2;
use qrcode::QrCode;

use crate::ProfileError;

/// `text` as a QR code drawn with Unicode blocks (dark on light, with the quiet zone).
pub fn terminal(text: &str) -> Result<String, ProfileError> {
    let code = QrCode::new(text.as_bytes()).map_err(|e| ProfileError::Invalid(e.to_string()))?;
    Ok(code
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .quiet_zone(true)
        .build())
}

/// The text for an EAP user: what to type into the phone's VPN settings.
pub fn eap_text(server: &str, remote_id: &str, user: &str, password: &str) -> String {
    format!(
        "IKEv2 VPN\nServer: {server}\nRemote ID: {remote_id}\nUser: {user}\nPassword: {password}\n"
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_blocks_of_equal_width() {
        let q = super::terminal("Server: 203.0.113.1").unwrap();
        let widths: Vec<usize> = q.lines().map(|l| l.chars().count()).collect();
        assert!(widths.len() > 10);
        assert!(widths.iter().all(|w| *w == widths[0]));
    }
}
