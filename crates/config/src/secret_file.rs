//! Reading a pre-shared key from `secret_file` (and private keys, `local.key`): the file must be
//! a regular file owned by the user running rampart with no access for group or others (mode
//! 0600 or stricter).

use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use crypto::SecretBytes;
use zeroize::Zeroizing;

/// Largest secret file accepted.
pub const MAX_SECRET_FILE: u64 = 64 * 1024;

/// Reads the key in `path`. Trailing `\n`/`\r` are removed (files written by `echo` end in a
/// newline); the key must not be empty. Errors name the path and never contain file contents.
pub fn read_secret_file(path: &Path) -> Result<SecretBytes, String> {
    let buf = read_protected_file(path, "secret file")?;
    let shown = path.display();
    let end = buf
        .iter()
        .rposition(|b| *b != b'\n' && *b != b'\r')
        .map_or(0, |i| i + 1);
    if end == 0 {
        return Err(format!(
            "secret file {shown} is empty (a pre-shared key must not be empty)"
        ));
    }
    Ok(SecretBytes::from_slice(buf.get(..end).unwrap_or(&[])))
}

/// Reads a file holding secrets (a PSK, a private key) whole, after checking that it is a
/// regular file owned by the user running rampart with no access for group or others, and at
/// most [`MAX_SECRET_FILE`] bytes. `what` names the file in errors ("secret file",
/// "key file"); errors never contain file contents.
pub fn read_protected_file(path: &Path, what: &str) -> Result<Zeroizing<Vec<u8>>, String> {
    let shown = path.display();
    let mut file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {what} {shown}: {e}"))?;
    // Check the opened file itself, not the path again (no window for a swap in between).
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read {what} {shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{what} {shown} is not a regular file"));
    }
    let euid = rustix::process::geteuid().as_raw();
    if meta.uid() != euid {
        return Err(format!(
            "{what} {shown} is owned by uid {}, not by uid {euid} (the user running \
             rampart); run: chown {euid} {shown}",
            meta.uid()
        ));
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "{what} {shown} has mode {mode:04o}, allowed: 0600 or stricter \
             (run: chmod 600 {shown})"
        ));
    }
    if meta.len() > MAX_SECRET_FILE {
        return Err(format!(
            "{what} {shown} is larger than {MAX_SECRET_FILE} bytes"
        ));
    }
    let mut buf = Zeroizing::new(Vec::new());
    file.by_ref()
        .take(MAX_SECRET_FILE + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("cannot read {what} {shown}: {e}"))?;
    if buf.len() as u64 > MAX_SECRET_FILE {
        return Err(format!(
            "{what} {shown} is larger than {MAX_SECRET_FILE} bytes"
        ));
    }
    Ok(buf)
}
