//! sd_notify(3) for `Type=notify` units: `READY=1` once the sockets are open and the
//! configured connections started, `RELOADING=1` / `READY=1` around a reload, `STOPPING=1` on
//! shutdown. A datagram to `$NOTIFY_SOCKET` (a path, or `@name` for the abstract namespace);
//! nothing happens when the variable is unset (not under systemd).

use std::os::unix::net::UnixDatagram;

/// Sends `state` (newline-separated `KEY=VALUE` assignments) to systemd, if it listens.
pub fn notify(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let Ok(sock) = UnixDatagram::unbound() else {
        return;
    };
    let bytes = path.as_encoded_bytes();
    let r = match bytes.strip_prefix(b"@") {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            std::os::unix::net::SocketAddr::from_abstract_name(name)
                .and_then(|a| sock.send_to_addr(state.as_bytes(), &a))
        }
        None => sock.send_to(state.as_bytes(), &path),
    };
    if let Err(e) = r {
        tracing::warn!("sd_notify to {}: {e}", path.to_string_lossy());
    }
}

/// `READY=1` with a status line.
pub fn ready(status: &str) {
    notify(&format!("READY=1\nSTATUS={status}"));
}

/// `RELOADING=1` with the monotonic time systemd wants for `Type=notify-reload`.
pub fn reloading() {
    let usec = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    let usec = u64::try_from(usec.tv_sec)
        .unwrap_or(0)
        .saturating_mul(1_000_000)
        .saturating_add(u64::try_from(usec.tv_nsec / 1000).unwrap_or(0));
    notify(&format!("RELOADING=1\nMONOTONIC_USEC={usec}"));
}

/// `STOPPING=1`.
pub fn stopping() {
    notify("STOPPING=1\nSTATUS=deleting SAs");
}

#[cfg(test)]
mod tests {
    #[test]
    fn sends_to_the_socket_in_notify_socket() {
        let dir = std::env::temp_dir().join(format!("rampart-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify.sock");
        let _ = std::fs::remove_file(&path);
        let rx = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
        // The only test in this binary that touches NOTIFY_SOCKET.
        std::env::set_var("NOTIFY_SOCKET", &path);
        super::ready("1 connection");
        std::env::remove_var("NOTIFY_SOCKET");
        let mut buf = [0u8; 256];
        let n = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1\nSTATUS=1 connection");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
