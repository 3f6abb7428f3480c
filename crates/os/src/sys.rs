//! The raw system calls this crate needs that no dependency wraps: integer socket options,
//! `recvmsg(2)`/`sendmsg(2)` with ancillary data, `if_nametoindex(3)` and `unshare(2)`.
//!
//! Every `unsafe` block of the crate outside [`crate::cmsg`] lives here.

use std::ffi::CString;
use std::io;
use std::mem;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, BorrowedFd};

use socket2::SockAddr;

/// Sets an `int`-valued socket option (`setsockopt(2)`).
pub(crate) fn setsockopt_int(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    let len = socklen_of::<libc::c_int>();
    // SAFETY: `fd` is a live descriptor borrowed for the duration of the call; the option value
    // points to a local `c_int` whose exact size is passed as the option length, and the kernel
    // only reads from it.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast(),
            len,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// What one `recvmsg(2)` returned.
#[derive(Debug)]
pub(crate) struct Received {
    /// Bytes copied into the data buffer.
    pub(crate) len: usize,
    /// The sender's address (`msg_name`), if it was an IPv4 or IPv6 address.
    pub(crate) src: Option<SocketAddr>,
    /// Bytes of ancillary data written into the control buffer.
    pub(crate) control_len: usize,
    /// `msg_flags` (e.g. `MSG_TRUNC`, `MSG_CTRUNC`).
    pub(crate) flags: libc::c_int,
}

/// One non-blocking `recvmsg(2)` of a single datagram into `buf`, with ancillary data into
/// `control`. Retries on `EINTR`; `EAGAIN` is returned as [`io::ErrorKind::WouldBlock`].
pub(crate) fn recvmsg(
    fd: BorrowedFd<'_>,
    buf: &mut [u8],
    control: &mut [u8],
) -> io::Result<Received> {
    loop {
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        let mut control_len = 0usize;
        let mut flags = 0;
        let call = |storage: *mut socket2::SockAddrStorage,
                    name_len: *mut libc::socklen_t|
         -> io::Result<usize> {
            // SAFETY: an all-zero `msghdr` is a valid value (null pointers, zero lengths).
            let mut msg: libc::msghdr = unsafe { mem::zeroed() };
            msg.msg_name = storage.cast();
            // SAFETY: `try_init` passes a valid pointer to the storage's length.
            msg.msg_namelen = unsafe { *name_len };
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control.as_mut_ptr().cast();
            msg.msg_controllen = control.len() as _;
            // SAFETY: every pointer in `msg` refers to memory that lives across the call
            // (`storage`, `iov` → `buf`, `control`), with its true length, and `fd` is live.
            let n = unsafe { libc::recvmsg(fd.as_raw_fd(), &mut msg, libc::MSG_DONTWAIT) };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: as above, `name_len` is valid for writes; the kernel set `msg_namelen` to
            // the length of the address it wrote into `storage`, never more than it was given.
            unsafe { *name_len = msg.msg_namelen };
            control_len = msg.msg_controllen as usize;
            flags = msg.msg_flags;
            Ok(n as usize)
        };
        // SAFETY: `call` fills the storage only through recvmsg(2), which writes an address of
        // the family it reports together with the matching length, as `try_init` requires.
        let result = unsafe { SockAddr::try_init(call) };
        match result {
            Ok((len, addr)) => {
                return Ok(Received {
                    len: len.min(buf.len()),
                    src: addr.as_socket(),
                    control_len: control_len.min(control.len()),
                    flags,
                })
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// One non-blocking `sendmsg(2)` of `buf` to `dst` with the ancillary data in `control` (which
/// may be empty). Retries on `EINTR`; `EAGAIN` is returned as [`io::ErrorKind::WouldBlock`].
pub(crate) fn sendmsg(
    fd: BorrowedFd<'_>,
    buf: &[u8],
    dst: &SockAddr,
    control: &[u8],
) -> io::Result<usize> {
    let mut iov = libc::iovec {
        // sendmsg never writes through iov_base; the cast to *mut is what the C type demands.
        iov_base: buf.as_ptr().cast_mut().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: an all-zero `msghdr` is a valid value (null pointers, zero lengths).
    let mut msg: libc::msghdr = unsafe { mem::zeroed() };
    msg.msg_name = dst.as_ptr().cast_mut().cast();
    msg.msg_namelen = dst.len();
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if !control.is_empty() {
        msg.msg_control = control.as_ptr().cast_mut().cast();
        msg.msg_controllen = control.len() as _;
    }
    loop {
        // SAFETY: every pointer in `msg` refers to memory borrowed for the whole call (`dst`,
        // `iov` → `buf`, `control`) with its true length; sendmsg only reads through them.
        let n = unsafe { libc::sendmsg(fd.as_raw_fd(), &msg, libc::MSG_DONTWAIT) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// The index of the interface called `name` in the calling thread's network namespace, or `None`
/// if there is none.
pub(crate) fn if_nametoindex(name: &str) -> io::Result<Option<u32>> {
    let c = CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface name contains NUL"))?;
    // SAFETY: `c` is a valid NUL-terminated string that outlives the call.
    let index = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if index != 0 {
        return Ok(Some(index));
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::ENODEV) | Some(libc::ENXIO) => Ok(None),
        _ => Err(e),
    }
}

/// `unshare(CLONE_NEWNET)`: moves the calling thread (only) into a new network namespace.
pub(crate) fn unshare_net() -> io::Result<()> {
    // SAFETY: unshare takes a flag word and touches no memory of ours.
    let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The effective user id of the process.
pub(crate) fn geteuid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// `size_of::<T>()` as a `socklen_t` (every type passed here is a few bytes long).
fn socklen_of<T>() -> libc::socklen_t {
    libc::socklen_t::try_from(mem::size_of::<T>()).unwrap_or(libc::socklen_t::MAX)
}
