//! Programs: `execve`/`execveat` decided on the program reached and its arguments,
//! let through only when nothing can change what the kernel reads again.

use super::*;

impl Call<'_> {
    pub(super) fn exec(&mut self, base: Base, path: u64, argv: u64, flags: i32) -> R {
        let p = self.read_cstr(path, PATH_MAX)?;
        let r = if p.is_empty() && flags & libc::AT_EMPTY_PATH != 0 {
            let Base::Fd(fd) = base else {
                return Err(Errno::NOENT);
            };
            if fd < 0 {
                return Err(Errno::BADF);
            }
            self.fd_object(fd)?
        } else {
            self.resolve_with(base, &p, flags & libc::AT_SYMLINK_NOFOLLOW == 0, false)?
        };
        if r.object.is_none() {
            // A denied program answers as denied, whether or not it exists.
            if let Some(denial) = decide::exec_missing(&self.sup.engine, &r.path) {
                self.settle(denial)?;
            }
            return Err(Errno::NOENT);
        }
        // argv: pointers until NULL; and where each byte the kernel reads again lies.
        let mut args: Vec<Vec<u8>> = Vec::new();
        let mut total = 0usize;
        let mut ranges = vec![(path, p.len() as u64 + 1)];
        if argv != 0 {
            for i in 0..MAX_ARGS {
                let ptr = self.read_u64(argv + 8 * i as u64)?;
                ranges.push((argv + 8 * i as u64, 8));
                if ptr == 0 {
                    break;
                }
                let a = self.read_cstr(ptr, MAX_ARG_BYTES)?;
                total += a.len() + 1;
                if total > MAX_ARG_BYTES {
                    return Err(Errno::TOOBIG);
                }
                ranges.push((ptr, a.len() as u64 + 1));
                args.push(a);
            }
        }
        self.still_valid()?;
        if let Some(l) = &self.sup.learned {
            // A script's interpreter is run by the kernel, not by a second execve: it
            // must be launchable too (Landlock's execute right bounds it).
            let interp = r.object.as_ref().and_then(|o| interpreter_of(o.as_fd()));
            if let Ok(mut l) = l.lock() {
                l.launch(&r.path);
                if let Some(i) = interp {
                    l.launch(&i);
                }
            }
        }
        let rest: &[Vec<u8>] = args.get(1..).unwrap_or(&[]);
        self.settle(decide::exec_check(&self.sup.engine, &r.path, &args))?;
        // The kernel reads the path, the arguments (and the directory or descriptor
        // they start from) again. Where Landlock's execute bound holds only programs
        // allowed whatever their arguments (`exec_exact`: per-file grants, or granted
        // directories beneath which everything may run), and this decision does not
        // depend on the arguments either, whatever it reads runs only what the policy
        // allows. Otherwise nothing else may be able to change them.
        if decide::exec_needs_proof(
            &self.sup.engine,
            &r.path,
            self.sup.learned.is_some(),
            self.sup.exec_exact,
        ) {
            let tid = self.n.pid;
            let our = self.sup.sandbox_top();
            let relative = !p.starts_with(b"/");
            let held = crate::race::exclusive(tid, our, sys::Shares::Memory)
                && (!relative
                    || match base {
                        Base::Fd(_) => crate::race::exclusive(tid, our, sys::Shares::Files),
                        _ => crate::race::exclusive(tid, our, sys::Shares::Dirs),
                    })
                && crate::race::private_anonymous(tid, &ranges)
                && self.still_valid().is_ok();
            if !held {
                let t = Target::Program {
                    path: r.path.clone(),
                    args: rest.to_vec(),
                    changing: true,
                };
                self.refuse(
                    Right::Launch,
                    &t,
                    "its path or arguments could change between the check and the kernel's use",
                );
                return Err(Errno::PERM);
            }
        }
        Ok(Done::Reply(Reply::Continue))
    }
}

/// The interpreter a `#!` script names (its first word), if `obj` is one.
pub(super) fn interpreter_of(obj: BorrowedFd<'_>) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut f = std::fs::File::open(format!(
        "/proc/self/fd/{}",
        rustix::fd::AsRawFd::as_raw_fd(&obj)
    ))
    .ok()?;
    let mut head = [0u8; 256];
    let n = f.read(&mut head).ok()?;
    decide::shebang_interpreter(&head[..n])
}
