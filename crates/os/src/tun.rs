//! A layer-3 TUN device: the kernel routes plain IP packets into it (Rampart reads them, seals
//! them with ESP) and takes the packets Rampart writes (opened ESP) as if they had arrived on it.
//!
//! The device is made with `IFF_TUN | IFF_NO_PI` (no 4-byte packet-information header) and is
//! brought up. It is *not* persistent: the kernel removes it when its last descriptor closes, so
//! dropping [`Tun`] removes the device (and the routes and addresses on it).
//!
//! By default ([`TunOptions::default`]) it is fast:
//! - offloads (`IFF_VNET_HDR` + `TUNSETOFFLOAD` TSO/USO): the kernel hands Rampart TCP (and UDP)
//!   "super-packets" of up to 64 KiB, and takes them, behind a 10/12-byte virtio-net header.
//!   [`TunQueue::recv_batch`] splits such a packet into MTU-sized IP packets (GSO split, with
//!   checksums) and [`TunQueue::send_batch`] coalesces a batch of IP packets back into few
//!   super-packets (GRO); tun-rs implements both;
//! - multi-queue (`IFF_MULTI_QUEUE`), one [`TunQueue`] per core: the kernel spreads flows over
//!   the queues, so every queue must be read.
//!
//! [`TunQueue::recv`]/[`TunQueue::send`] move one packet (tests, slow paths); on an offload
//! device `recv` fails with `InvalidData` for a super-packet that does not fit one buffer.

use std::fmt;
use std::io;
use std::os::fd::AsRawFd;

use tun_rs::{AsyncDevice, DeviceBuilder, Layer};
pub use tun_rs::{GROTable, IDEAL_BATCH_SIZE, VIRTIO_NET_HDR_LEN};

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

/// Room to leave in front of every packet given to [`TunQueue::send_batch`] (for the
/// virtio-net header on an offload device).
pub const TUN_HEADROOM: usize = VIRTIO_NET_HDR_LEN;
/// Size of the scratch buffer [`TunQueue::recv_batch`] reads a super-packet into.
pub const TUN_SCRATCH_LEN: usize = VIRTIO_NET_HDR_LEN + 65_535;

/// How fast a device to make (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TunOptions {
    /// `IFF_VNET_HDR` with TCP/UDP segmentation offload.
    pub offload: bool,
    /// Number of queues (`IFF_MULTI_QUEUE` when more than one); at least 1.
    pub queues: usize,
}

impl Default for TunOptions {
    /// Offloads on, one queue per available core (at most 8).
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            offload: true,
            queues: cores.clamp(1, 8),
        }
    }
}

/// One queue of the device: reads and writes whole IP packets.
pub struct TunQueue {
    dev: AsyncDevice,
    offload: bool,
}

impl fmt::Debug for TunQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TunQueue")
            .field("fd", &self.dev.as_raw_fd())
            .finish()
    }
}

impl TunQueue {
    /// Whether this queue carries virtio-net headers and super-packets.
    pub fn offload(&self) -> bool {
        self.offload
    }

    /// Waits for the next packet the kernel routed into the device and copies it into `buf`;
    /// returns its length. Without offloads a packet longer than `buf` is cut (make `buf` at
    /// least the MTU); with offloads a super-packet is an `InvalidData` error (use
    /// [`TunQueue::recv_batch`]).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.offload {
            return self.dev.recv(buf).await;
        }
        let mut scratch = vec![0u8; TUN_SCRATCH_LEN];
        let mut sizes = [0usize];
        let n = self
            .dev
            .recv_multiple(&mut scratch, &mut [&mut *buf], &mut sizes, 0)
            .await
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        Ok(if n == 1 { sizes[0] } else { 0 })
    }

    /// Waits for the next packet (a super-packet on an offload queue) and splits it into IP
    /// packets: packet `i` is `bufs[i][offset..offset + sizes[i]]`; returns how many. `scratch`
    /// holds the raw read ([`TUN_SCRATCH_LEN`] bytes); `bufs` and `sizes` must have the same
    /// length, enough for a 64 KiB super-packet cut at the MTU (e.g. [`IDEAL_BATCH_SIZE`]),
    /// each buffer at least `offset` + MTU long. Without offloads it reads one packet into
    /// `bufs[0]`.
    pub async fn recv_batch<B: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        scratch: &mut [u8],
        bufs: &mut [B],
        sizes: &mut [usize],
        offset: usize,
    ) -> io::Result<usize> {
        self.dev.recv_multiple(scratch, bufs, sizes, offset).await
    }

    /// Writes a batch of IP packets, each at `bufs[i][TUN_HEADROOM..]`. On an offload queue
    /// TCP and UDP segments of one flow are first coalesced into super-packets (GRO; the
    /// buffers are changed and grown for that, so give each the capacity of a super-packet to
    /// avoid reallocation). `gro` is scratch state to reuse between calls. Returns the bytes
    /// written. An error is the last failed write; the other packets were still written.
    pub async fn send_batch(&self, gro: &mut GROTable, bufs: &mut [Vec<u8>]) -> io::Result<usize> {
        self.dev.send_multiple(gro, bufs, TUN_HEADROOM).await
    }

    /// Hands one IPv4 or IPv6 packet to the kernel as if it had arrived on the device. The
    /// kernel drops malformed packets (bad version or header checksum, wrong length) silently.
    pub async fn send(&self, packet: &[u8]) -> io::Result<()> {
        let n = if self.offload {
            let mut buf = vec![0u8; TUN_HEADROOM];
            buf.extend_from_slice(packet);
            let n = self
                .dev
                .send_multiple(&mut GROTable::new(), &mut [buf], TUN_HEADROOM)
                .await?;
            n.saturating_sub(VIRTIO_NET_HDR_LEN)
        } else {
            self.dev.send(packet).await?
        };
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
    /// Creates the device with [`TunOptions::default`] (offloads, one queue per core); see
    /// [`Tun::create_with`].
    pub fn create(config: &TunConfig) -> io::Result<Self> {
        Self::create_with(config, &TunOptions::default())
    }

    /// Creates the device in the calling thread's network namespace, sets its MTU and brings it
    /// up. Must be called inside a tokio runtime with I/O enabled. Needs `CAP_NET_ADMIN`.
    ///
    /// Errors: [`io::ErrorKind::InvalidInput`] for a bad name, [`io::ErrorKind::AlreadyExists`]
    /// if an interface of that name exists (attaching to a persistent device left by someone
    /// else would survive our drop, so it is refused), the kernel's error otherwise.
    pub fn create_with(config: &TunConfig, options: &TunOptions) -> io::Result<Self> {
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
                    .multi_queue(options.queues > 1)
                    .offload(options.offload);
            })
            .enable(true)
            .build_async()?;
        let name = dev.name()?;
        let ifindex = dev.if_index()?;
        let offload = options.offload;
        let mut queues = Vec::with_capacity(options.queues.max(1));
        for _ in 1..options.queues.max(1) {
            queues.push(TunQueue {
                dev: dev.try_clone()?,
                offload,
            });
        }
        queues.insert(0, TunQueue { dev, offload });
        Ok(Self {
            name,
            ifindex,
            queues,
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

    /// The device's queues ([`TunOptions::queues`] of them).
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
