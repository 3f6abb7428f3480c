//! A layer-3 TUN device: the kernel routes plain IP packets into it (Rampart reads them, seals
//! them with ESP) and takes the packets Rampart writes (opened ESP) as if they had arrived on it.
//!
//! The device is made with `IFF_TUN | IFF_NO_PI` (no 4-byte packet-information header: every read
//! and write is exactly one IPv4 or IPv6 packet), without `IFF_VNET_HDR` (no offloads), and is
//! brought up. It is *not* persistent: the kernel removes it when its last descriptor closes, so
//! dropping [`Tun`] removes the device (and the routes and addresses on it).
//!
//! Multi-queue (`IFF_MULTI_QUEUE`, one queue per worker) and offloads come later; the device is
//! already a list of [`TunQueue`]s (today exactly one) so workers can be given a queue each.

use std::fmt;
use std::io;
use std::os::fd::AsRawFd;

use tun_rs::{AsyncDevice, DeviceBuilder, Layer};

use crate::sys;

/// Longest interface name Linux accepts (`IFNAMSIZ` − 1).
pub const MAX_NAME_LEN: usize = 15;

/// How to create the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunConfig {
    /// The interface name, 1 to 15 bytes, no `/`, `:` or whitespace (`docs/config.md`:
    /// `[daemon] tun_name`, default `rampart0`).
    pub name: String,
    /// The MTU (the largest inner packet; leave room for the ESP overhead on the outer path).
    pub mtu: u16,
}

/// One queue of the device: reads and writes whole IP packets.
pub struct TunQueue {
    dev: AsyncDevice,
}

impl fmt::Debug for TunQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TunQueue")
            .field("fd", &self.dev.as_raw_fd())
            .finish()
    }
}

impl TunQueue {
    /// Waits for the next packet the kernel routed into the device and copies it into `buf`;
    /// returns its length. A packet longer than `buf` is cut (make `buf` at least the MTU).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.dev.recv(buf).await
    }

    /// Hands one IPv4 or IPv6 packet to the kernel as if it had arrived on the device. The
    /// kernel drops malformed packets (bad version or header checksum, wrong length) silently.
    pub async fn send(&self, packet: &[u8]) -> io::Result<()> {
        let n = self.dev.send(packet).await?;
        if n == packet.len() {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!("TUN write took {n} of {} bytes", packet.len()),
            ))
        }
    }
}

/// A TUN device; see the module documentation.
#[derive(Debug)]
pub struct Tun {
    name: String,
    ifindex: u32,
    queues: Vec<TunQueue>,
}

impl Tun {
    /// Creates the device in the calling thread's network namespace, sets its MTU and brings it
    /// up. Must be called inside a tokio runtime with I/O enabled. Needs `CAP_NET_ADMIN`.
    ///
    /// Errors: [`io::ErrorKind::InvalidInput`] for a bad name, [`io::ErrorKind::AlreadyExists`]
    /// if an interface of that name exists (attaching to a persistent device left by someone
    /// else would survive our drop, so it is refused), the kernel's error otherwise.
    pub fn create(config: &TunConfig) -> io::Result<Self> {
        validate_name(&config.name)?;
        if sys::if_nametoindex(&config.name)?.is_some() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("an interface named {} already exists", config.name),
            ));
        }
        let dev = DeviceBuilder::new()
            .name(config.name.as_str())
            .layer(Layer::L3)
            .mtu(config.mtu)
            .with(|b| {
                b.packet_information(false)
                    .multi_queue(false)
                    .offload(false);
            })
            .enable(true)
            .build_async()?;
        let name = dev.name()?;
        let ifindex = dev.if_index()?;
        Ok(Self {
            name,
            ifindex,
            queues: vec![TunQueue { dev }],
        })
    }

    /// The interface name the kernel gave the device.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The interface index (for routes and addresses).
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// The current MTU.
    pub fn mtu(&self) -> io::Result<u16> {
        self.first().dev.mtu()
    }

    /// Changes the MTU.
    pub fn set_mtu(&self, mtu: u16) -> io::Result<()> {
        self.first().dev.set_mtu(mtu)
    }

    /// The device's queues (today exactly one).
    pub fn queues(&self) -> &[TunQueue] {
        &self.queues
    }

    /// [`TunQueue::recv`] on the first queue.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.first().recv(buf).await
    }

    /// [`TunQueue::send`] on the first queue.
    pub async fn send(&self, packet: &[u8]) -> io::Result<()> {
        self.first().send(packet).await
    }

    fn first(&self) -> &TunQueue {
        // `create` makes exactly one queue and nothing removes it.
        &self.queues[0]
    }
}

/// The kernel's rules for an interface name (`dev_valid_name`).
fn validate_name(name: &str) -> io::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name != "."
        && name != ".."
        && !name
            .bytes()
            .any(|b| b == b'/' || b == b':' || b == 0 || b.is_ascii_whitespace());
    if ok {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid interface name {name:?} (1 to {MAX_NAME_LEN} bytes, no '/', ':' or spaces)"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(validate_name("rampart0").is_ok());
        assert!(validate_name("os-0123456789ab").is_ok());
        assert!(validate_name("").is_err());
        assert!(validate_name("os-0123456789abc").is_err());
        assert!(validate_name("a/b").is_err());
        assert!(validate_name("a:b").is_err());
        assert!(validate_name("a b").is_err());
        assert!(validate_name("..").is_err());
    }
}
