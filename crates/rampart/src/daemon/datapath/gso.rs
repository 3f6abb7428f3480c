//! Groups sealed ESP packets for UDP GSO: consecutive datagrams to the same peer, from the same
//! local address, with the same outer TOS / Traffic Class, of one size (the last of a run may be
//! shorter) go out in one `sendmsg` (udp(7) `UDP_SEGMENT`). The TOS is `esp::Outbound::tos`
//! (ECN per RFC 6040 §4.1, DSCP per RFC 2983 §3): one `sendmsg` carries one, so a change of TOS
//! ends a run as a change of peer does; the packets of one flow share it, so runs stay long.

use std::net::SocketAddr;

use os::{PortKind, Sockets, MAX_GSO_BYTES, MAX_GSO_SEGMENTS};

/// A run of datagrams being built in one buffer.
#[derive(Debug)]
pub struct GsoBatch {
    /// The datagrams back to back.
    pub buf: Vec<u8>,
    /// `(local, remote)` of the run, `None` when empty.
    dst: Option<(SocketAddr, SocketAddr)>,
    /// The outer TOS / Traffic Class of every datagram of the run.
    tos: u8,
    /// The size of each datagram of the run (the first one's).
    segment: usize,
    /// Datagrams in the run.
    count: usize,
    /// The last datagram was shorter than `segment`: the run is closed.
    closed: bool,
}

impl GsoBatch {
    /// An empty batch with room for one full GSO send (and one more packet).
    pub fn new() -> Self {
        Self {
            buf: Vec::with_capacity(MAX_GSO_BYTES + 65_536),
            dst: None,
            tos: 0,
            segment: 0,
            count: 0,
            closed: false,
        }
    }

    /// Call after a datagram was appended to `buf` at `mark`, to go to `dst` with outer TOS
    /// `tos`. When it cannot join the run in `buf[..mark]`, that run is sent first and the
    /// datagram starts a new one.
    pub async fn push(
        &mut self,
        mark: usize,
        dst: (SocketAddr, SocketAddr),
        tos: u8,
        sockets: &Sockets,
    ) {
        let len = self.buf.len().saturating_sub(mark);
        let joins = self.dst == Some(dst)
            && self.tos == tos
            && !self.closed
            && len <= self.segment
            && self.count < MAX_GSO_SEGMENTS
            && self.buf.len() <= MAX_GSO_BYTES;
        if joins {
            self.count += 1;
            self.closed = len < self.segment;
            return;
        }
        if mark > 0 {
            self.send_range(mark, sockets).await;
            self.buf.copy_within(mark.., 0);
            self.buf.truncate(len);
        }
        self.dst = Some(dst);
        self.tos = tos;
        self.segment = len;
        self.count = 1;
        self.closed = false;
    }

    /// Sends whatever run is pending.
    pub async fn flush(&mut self, sockets: &Sockets) {
        if !self.buf.is_empty() {
            self.send_range(self.buf.len(), sockets).await;
        }
        self.buf.clear();
        self.dst = None;
        self.count = 0;
    }

    async fn send_range(&self, end: usize, sockets: &Sockets) {
        let Some((local, remote)) = self.dst else {
            return;
        };
        let Some(data) = self.buf.get(..end) else {
            return;
        };
        let Some(sock) = sockets.for_source(local.ip(), PortKind::Natt) else {
            return;
        };
        let src = (!local.ip().is_unspecified()).then_some(local.ip());
        if let Err(e) = sock
            .send_segments_tos(data, self.segment, src, remote, self.tos)
            .await
        {
            tracing::debug!("ESP send to {remote} failed: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};
    use std::time::Duration;

    use os::{SocketsConfig, UdpSocket};

    use super::*;

    /// Equal-sized datagrams to one peer form one run until the TOS changes: each datagram
    /// arrives with the TOS it was pushed with (loopback only).
    #[tokio::test]
    async fn a_tos_change_ends_a_run() {
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let rx = UdpSocket::bind(SocketAddr::new(lo, 0)).unwrap();
        let natt_port = std::net::UdpSocket::bind((lo, 0))
            .and_then(|s| s.local_addr())
            .unwrap()
            .port();
        let sockets = Sockets::bind(&SocketsConfig {
            listen: vec![lo],
            ike_port: 0,
            natt_port,
            udp: os::UdpOptions::default(),
        })
        .unwrap();
        let dst = (SocketAddr::new(lo, natt_port), rx.local_addr());
        let mut batch = GsoBatch::new();
        let sent = [
            (1u8, 0x02u8),
            (2, 0x02),
            (3, 0x02),
            (4, 0xb8),
            (5, 0xb8),
            (6, 0x02),
        ];
        for (fill, tos) in sent {
            let mark = batch.buf.len();
            batch.buf.extend_from_slice(&[fill; 100]);
            batch.push(mark, dst, tos, &sockets).await;
        }
        batch.flush(&sockets).await;
        let mut got = Vec::new();
        let mut buf = vec![0u8; 65_536];
        while got.len() < sent.len() {
            let m = tokio::time::timeout(Duration::from_secs(5), rx.recv(&mut buf))
                .await
                .expect("datagrams within 5 s")
                .unwrap();
            got.extend(
                m.segments(&buf)
                    .map(|d| (d.first().copied().unwrap_or(0), m.tos)),
            );
        }
        assert_eq!(got, sent);
    }
}
