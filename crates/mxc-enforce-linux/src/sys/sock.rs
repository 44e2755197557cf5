//! Socket calls performed with exactly the address bytes decided.

use super::*;

/// `connect` (or `bind`) on `s` with exactly the socket address bytes `addr` (which the
/// supervisor decided): the kernel checks their family and length as it would have for
/// the caller.
pub fn sockaddr_call(s: BorrowedFd<'_>, addr: &[u8], bind: bool) -> io::Result<()> {
    let len = libc::socklen_t::try_from(addr.len())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let p = if addr.is_empty() {
        std::ptr::null()
    } else {
        addr.as_ptr().cast::<libc::sockaddr>()
    };
    // SAFETY: `p` points to `len` readable bytes (or is NULL with length 0); the kernel
    // copies them in before returning.
    let r = unsafe {
        if bind {
            libc::bind(s.as_raw_fd(), p, len)
        } else {
            libc::connect(s.as_raw_fd(), p, len)
        }
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The local address of socket `s`, as the kernel's raw bytes (`getsockname`).
pub fn sockname(s: BorrowedFd<'_>) -> io::Result<Vec<u8>> {
    // SAFETY: an all-zero sockaddr_storage is valid.
    let mut st: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `st` is writable for `len` bytes; the kernel writes at most that much and
    // sets `len` to the address's true length.
    let r = unsafe {
        libc::getsockname(
            s.as_raw_fd(),
            (&mut st as *mut libc::sockaddr_storage).cast::<libc::sockaddr>(),
            &mut len,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `st` is a plain struct of `size_of::<sockaddr_storage>()` bytes.
    let bytes = unsafe {
        std::slice::from_raw_parts(
            (&st as *const libc::sockaddr_storage).cast::<u8>(),
            std::mem::size_of::<libc::sockaddr_storage>(),
        )
    };
    Ok(bytes[..(len as usize).min(bytes.len())].to_vec())
}

/// `sendto` on `s` with the exact address bytes decided (`None`: the connected peer).
pub fn sendto_raw(
    s: BorrowedFd<'_>,
    data: &[u8],
    flags: i32,
    addr: Option<&[u8]>,
) -> io::Result<usize> {
    let (p, len) = match addr {
        Some(a) if !a.is_empty() => (
            a.as_ptr().cast::<libc::sockaddr>(),
            libc::socklen_t::try_from(a.len())
                .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?,
        ),
        _ => (std::ptr::null(), 0),
    };
    // SAFETY: `data` and `p` point to readable buffers of the lengths given.
    let r = unsafe {
        libc::sendto(
            s.as_raw_fd(),
            data.as_ptr().cast(),
            data.len(),
            flags,
            p,
            len,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(r as usize)
}

/// Whether `fd` becomes writable within `ms` milliseconds (`poll` for `POLLOUT`).
pub fn writable_within(fd: BorrowedFd<'_>, ms: i32) -> bool {
    let mut p = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: one valid pollfd, for the duration of the call.
    let n = unsafe { libc::poll(&mut p, 1, ms) };
    n > 0 && p.revents & libc::POLLOUT != 0
}
