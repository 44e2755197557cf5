//! The caller's memory: read once into the supervisor's buffers (as its address
//! space is now, see `sys::read_task_memory`), `ID_VALID` checked after the reads;
//! the kernel's second reading of the same arguments is never what is decided on.

use super::*;

impl Call<'_> {
    /// Reads exactly `buf.len()` bytes at `addr` of the caller's memory, as its address
    /// space is now (never through a handle kept from an earlier call: see
    /// [`sys::read_task_memory`]). Callers check [`Call::still_valid`] afterwards.
    pub(super) fn read_into(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        if buf.is_empty() {
            return Ok(());
        }
        match sys::read_task_memory(self.n.pid, addr, buf) {
            Ok(n) if n == buf.len() => Ok(()),
            _ => Err(Errno::FAULT),
        }
    }

    pub(super) fn read(&mut self, addr: u64, len: usize) -> Result<Vec<u8>, Errno> {
        if addr == 0 && len > 0 {
            return Err(Errno::FAULT);
        }
        let mut buf = vec![0u8; len];
        self.read_into(addr, &mut buf)?;
        Ok(buf)
    }

    /// Writes `data` at `addr` of the caller's memory. `/proc/TID/mem` is opened for it
    /// and the call checked to be still pending *after* the open: the handle writes into
    /// the address space the id named when it was opened, which is then the caller's
    /// (a task whose id was reused after the caller died would be another's).
    pub(super) fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), Errno> {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(format!("/proc/{}/mem", self.n.pid))
            .map_err(|_| Errno::FAULT)?;
        self.still_valid()?;
        f.write_all_at(data, addr).map_err(|_| Errno::FAULT)
    }

    pub(super) fn read_u64(&mut self, addr: u64) -> Result<u64, Errno> {
        let b = self.read(addr, 8)?;
        Ok(u64::from_ne_bytes(b.try_into().map_err(|_| Errno::FAULT)?))
    }

    /// A NUL-terminated string of at most `max` bytes.
    pub(super) fn read_cstr(&mut self, addr: u64, max: usize) -> Result<Vec<u8>, Errno> {
        if addr == 0 {
            return Err(Errno::FAULT);
        }
        let mut out = Vec::new();
        let mut chunk = [0u8; 256];
        loop {
            // Stay inside one page per read so a string ending near an unmapped page
            // still reads.
            let at = addr + out.len() as u64;
            let room = (4096 - (at % 4096)) as usize;
            let want = room.min(chunk.len());
            self.read_into(at, &mut chunk[..want])?;
            if let Some(z) = chunk[..want].iter().position(|&b| b == 0) {
                out.extend_from_slice(&chunk[..z]);
                return Ok(out);
            }
            out.extend_from_slice(&chunk[..want]);
            if out.len() > max {
                return Err(Errno::NAMETOOLONG);
            }
        }
    }

    pub(super) fn path_arg(&mut self, addr: u64) -> Result<Vec<u8>, Errno> {
        let p = self.read_cstr(addr, PATH_MAX)?;
        self.still_valid()?;
        Ok(p)
    }

    /// The call is still pending: the pid we read from is still the caller.
    pub(super) fn still_valid(&self) -> Result<(), Errno> {
        if sys::notif_id_valid(self.sup.listener.as_fd(), self.n.id) {
            Ok(())
        } else {
            Err(Errno::SRCH)
        }
    }
}
