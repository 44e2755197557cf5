//! File calls: open family, make, remove, rename, link, symlink, truncate, stat-like
//! calls; resolved on the caller's behalf, decided on the object reached, performed
//! by the supervisor on that very object.

use super::*;

impl Call<'_> {
    pub(super) fn resolve(
        &mut self,
        base: Base,
        path: &[u8],
        follow: bool,
    ) -> Result<Resolved, Errno> {
        self.resolve_with(base, path, follow, true)
    }

    /// `check_traverse: false` only for programs (`execve`): the directories on the way
    /// to a program the policy lets run need not be readable (app rules are not fs
    /// rules); the launch decision comes before `ENOENT` instead.
    pub(super) fn resolve_with(
        &mut self,
        base: Base,
        path: &[u8],
        follow: bool,
        check_traverse: bool,
    ) -> Result<Resolved, Errno> {
        let who = self.who();
        let our = self.sup.our_pid;
        let sup = self.sup;
        let tid = self.n.pid;
        // Entering a directory to look a name up in it: allowed where it may be read or
        // lies on the way to a reachable place; else a `read` denial (or question).
        let traverse = move |dir: &[u8]| -> bool {
            if !check_traverse || sup.engine.fs_ancestor(dir) {
                return true;
            }
            let d = sup.engine.fs(dir, FsRight::Read);
            if d.effect == Effect::Allow {
                return true;
            }
            let get = || {
                let pid = resolve::Asker { tid, tgid: None }.tgid();
                (pid, String::from_utf8_lossy(&program_of(pid)).into_owned())
            };
            sup.conclude(Right::Read, &Target::Path(dir.to_vec()), d, &get, None)
        };
        let view = resolve::View {
            traverse: &traverse,
            root: self.sup.root.as_fd(),
            container: self.sup.container.is_some(),
            proc_dev: self
                .sup
                .container
                .map_or_else(resolve::proc_dev, |c| c.proc_dev),
            in_sandbox: &move |p| descends_from(p, our),
            host_pid: &move |n| host_pid_of(n, our),
        };
        let r = resolve::resolve(who, base, path, follow, &view)?;
        if !self.sup.protected.files.is_empty() && self.reaches(&r, &self.sup.protected.files) {
            // The audit log, by whatever name or route: out of the sandbox's reach,
            // whatever the policy says.
            self.sup.stats.denials.fetch_add(1, Ordering::Relaxed);
            return Err(Errno::ACCESS);
        }
        Ok(r)
    }

    /// Whether the object `r` reached is one of `ids` (device, inode).
    pub(super) fn reaches(&self, r: &Resolved, ids: &[Id]) -> bool {
        let st = match (&r.stat, &r.object) {
            (Some(st), _) => *st,
            (None, Some(obj)) => match fs::fstat(obj) {
                Ok(st) => st,
                // Cannot tell: refused.
                Err(_) => return true,
            },
            (None, None) => return false,
        };
        ids.contains(&(st.st_dev, st.st_ino))
    }

    /// Renaming or removing a directory above the audit log would move the log away
    /// from its path (and let another file take it): refused.
    pub(super) fn keep_log_path(&self, r: &Resolved) -> Result<(), Errno> {
        if !self.sup.protected.dirs.is_empty() && self.reaches(r, &self.sup.protected.dirs) {
            self.sup.stats.denials.fetch_add(1, Ordering::Relaxed);
            return Err(Errno::ACCESS);
        }
        Ok(())
    }

    /// Whether process `pid` holds, as its descriptor `fd`, the object `obj` open with
    /// at least the access `rights` need. Read from the descriptor itself (a duplicate
    /// taken with `pidfd_getfd`), so another thread swapping descriptor `fd` meanwhile
    /// cannot lend the check another file's access.
    pub(super) fn holds(
        &self,
        (pid, fd): (u32, u32),
        obj: BorrowedFd<'_>,
        rights: &[FsRight],
    ) -> bool {
        let tgid = resolve::Asker {
            tid: pid,
            tgid: None,
        }
        .tgid();
        let Some(p) = rustix::process::Pid::from_raw(tgid as i32) else {
            return false;
        };
        let Ok(pidfd) = rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()) else {
            return false;
        };
        let Ok(held) = rustix::process::pidfd_getfd(
            &pidfd,
            fd as i32,
            rustix::process::PidfdGetfdFlags::empty(),
        ) else {
            return false;
        };
        let same = match (fs::fstat(&held), fs::fstat(obj)) {
            (Ok(a), Ok(b)) => (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino),
            _ => false,
        };
        same && fs::fcntl_getfl(&held).is_ok_and(|f| decide::flags_allow(f, rights))
    }

    /// Whether `obj` is the terminal MXC made for the sandbox.
    pub(super) fn own_terminal(&self, obj: BorrowedFd<'_>) -> bool {
        let Ok(tty) = self.sup.tty.lock() else {
            return false;
        };
        let Some(t) = tty.as_ref() else {
            return false;
        };
        match (fs::fstat(t), fs::fstat(obj)) {
            (Ok(a), Ok(b)) => (a.st_dev, a.st_ino, a.st_rdev) == (b.st_dev, b.st_ino, b.st_rdev),
            _ => false,
        }
    }

    /// Answers the call with `fd`: installed in the caller, then its number sent as the
    /// call's value (two ioctls, see `sys::notif_addfd_pending` for why not one).
    pub(super) fn respond_fd(&self, fd: OwnedFd, cloexec: bool) -> R {
        match sys::notif_addfd_pending(self.sup.listener.as_fd(), self.n.id, fd.as_fd(), cloexec) {
            Ok(n) => Ok(Done::Reply(Reply::Value(i64::from(n)))),
            Err(e) => Err(Errno::from_raw_os_error(
                e.raw_os_error().unwrap_or(libc::EBADF),
            )),
        }
    }

    pub(super) fn openat2(&mut self, dirfd: i32, path: u64, how: u64, size: u64) -> R {
        if size < 24 {
            return Err(Errno::INVAL);
        }
        let h = self.read(how, 24)?;
        let word = |i: usize| u64::from_ne_bytes(h[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
        let (flags, mode, resolve_flags) = (word(0), word(1), word(2));
        if size > 24 {
            // Unknown extensions must be zero (as the kernel requires).
            let rest = self.read(how + 24, (size as usize - 24).min(4096))?;
            if rest.iter().any(|&b| b != 0) {
                return Err(Errno::TOOBIG);
            }
        }
        self.open(
            Base::Fd(dirfd),
            path,
            flags as i32,
            mode as u32,
            resolve_flags,
        )
    }

    pub(super) fn open(
        &mut self,
        base: Base,
        path: u64,
        flags: i32,
        mode: u32,
        resolve_flags: u64,
    ) -> R {
        let p = self.path_arg(path)?;
        let req = decide::OpenRequest {
            flags,
            mode,
            resolve: resolve_flags,
        };
        let follow = decide::open_lookup(&req)?;
        let r = self.resolve(base, &p, follow)?;
        // The object's type, once known (the reopen below needs it too).
        let (found, object_type) = match &r.object {
            None => (
                decide::Found::Missing {
                    parent_missing: r.parent_missing,
                },
                None,
            ),
            Some(obj) => {
                let st = match r.stat {
                    Some(st) => st,
                    None => fs::fstat(obj)?,
                };
                let kind = fs::FileType::from_raw_mode(st.st_mode);
                let dev_tty = kind == fs::FileType::CharacterDevice
                    && rustix::fs::major(st.st_rdev) == 5
                    && rustix::fs::minor(st.st_rdev) == 0;
                (decide::Found::Object { kind, dev_tty }, Some(kind))
            }
        };
        let (rights, how, keep, cloexec) = match decide::open_plan(&req, found) {
            decide::OpenPlan::DecideThenFail { right, errno } => {
                self.decide_fs(&r.path, &[right])?;
                return Err(errno);
            }
            decide::OpenPlan::Fail(e) => return Err(e),
            decide::OpenPlan::OwnTerminal { flags, cloexec } => {
                // /dev/tty: opening it here would give the supervisor's terminal.
                // The sandbox's own terminal, if it has one; else it has none.
                let own = self
                    .sup
                    .tty
                    .lock()
                    .ok()
                    .and_then(|t| t.as_ref().and_then(|fd| fd.try_clone().ok()));
                let Some(own) = own else {
                    return Err(Errno::NXIO);
                };
                let fd = reopen(own.as_fd(), flags, None)?;
                return self.respond_fd(fd, cloexec);
            }
            decide::OpenPlan::Open {
                rights,
                how,
                flags,
                cloexec,
            } => (rights, how, flags, cloexec),
        };
        // Reopening a descriptor through `/proc/PID/fd/N` (`/dev/stdin`) makes a new open
        // file description with flags of its own. An object with a path (a file, a
        // directory, a terminal) is decided by the rules on that path like any open:
        // holding a descriptor of it (the caller's terminal, a file it redirected) grants
        // nothing more. An object without one (a pipe, a socket, an anonymous inode, a
        // deleted file or memfd) is the very object the process holds: it reopens with
        // no more access than that descriptor has, and never otherwise. The sandbox's own
        // terminal (the one MXC made for it) is its own, as `/dev/tty` is.
        match &r.object {
            Some(obj)
                if object_type == Some(fs::FileType::CharacterDevice)
                    && self.own_terminal(obj.as_fd()) => {}
            Some(obj) if pathless(obj.as_fd(), &r.path, r.stat.as_ref()) => {
                let held = r
                    .via_fd
                    .is_some_and(|via| self.holds(via, obj.as_fd(), &rights));
                if !held {
                    let right = rights.first().copied().unwrap_or(FsRight::Read);
                    self.refuse(
                        right.into(),
                        &Target::Path(r.path.clone()),
                        "an object without a path is reopened only through a descriptor \
                         that already has the access",
                    );
                    return Err(Errno::ACCESS);
                }
            }
            _ => self.decide_fs(&r.path, &rights)?,
        }
        let fd = match (&r.object, how) {
            (None, _) | (_, decide::How::Create) => {
                let m = Mode::from_bits_truncate(mode & 0o7777 & !self.umask());
                fs::openat(
                    r.dir()?,
                    &r.name[..],
                    keep | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::NOCTTY,
                    m,
                )?
            }
            (Some(obj), decide::How::Path) => obj.try_clone().map_err(|_| Errno::NOMEM)?,
            (Some(obj), decide::How::Tmpfile) => {
                let m = Mode::from_bits_truncate(mode & 0o7777 & !self.umask());
                fs::openat(obj, ".", keep | OFlags::NOCTTY, m)?
            }
            (Some(obj), decide::How::Reopen) => {
                reopen(obj.as_fd(), keep | OFlags::NOCTTY, object_type)?
            }
        };
        self.respond_fd(fd, cloexec)
    }

    pub(super) fn mknod(&mut self, base: Base, path: u64, mode: u32, dev: u64) -> R {
        decide::mknod_refused(mode)?;
        let p = self.path_arg(path)?;
        let r = self.resolve(base, &p, false)?;
        self.decide_fs(&r.path, &[FsRight::Create])?;
        if r.object.is_some() {
            return Err(Errno::EXIST);
        }
        if r.parent_missing {
            return Err(Errno::NOENT);
        }
        let perm = mode & 0o7777 & !self.umask();
        match decide::mknod_node(mode)? {
            decide::Node::Dir => {
                fs::mkdirat(r.dir()?, &r.name[..], Mode::from_bits_truncate(perm))?;
            }
            decide::Node::Other(kind) => {
                fs::mknodat(
                    r.dir()?,
                    &r.name[..],
                    kind,
                    Mode::from_bits_truncate(perm),
                    dev,
                )?;
            }
        }
        ok(0)
    }

    pub(super) fn unlink(&mut self, base: Base, path: u64, flags: i32) -> R {
        let p = self.path_arg(path)?;
        let r = self.resolve(base, &p, false)?;
        self.decide_fs(&r.path, &[FsRight::Delete])?;
        if r.object.is_none() {
            return Err(Errno::NOENT);
        }
        self.keep_log_path(&r)?;
        decide::entry_name(&r.name)?;
        let f = if flags & libc::AT_REMOVEDIR != 0 {
            AtFlags::REMOVEDIR
        } else {
            AtFlags::empty()
        };
        fs::unlinkat(r.dir()?, &r.name[..], f)?;
        ok(0)
    }

    /// Moving or linking `from` to `to` may not give it a name with more rights, and
    /// each name a moved directory brings is decided where it lands (`create`) and
    /// where it leaves (`delete`): `mv tpl .git` makes `.git/hooks/pre-commit` too.
    pub(super) fn no_laundering(&mut self, from: &Resolved, to_path: &[u8]) -> Result<(), Errno> {
        if decide::gains_rights(&self.sup.engine, &from.path, to_path) {
            let _ = self.settle(decide::laundering_denial(
                &self.sup.engine,
                &from.path,
                to_path,
            ));
            return Err(Errno::ACCESS);
        }
        // A directory: every name beneath it moves too. Each is a name made at the new
        // place (`create` there) and taken from the old one (`delete` there), and may
        // not gain rights by the move. Walked through descriptors from the object decided
        // on (any failure refuses the move); the supervisor answers file calls one at a
        // time, so no held creation can slip into the tree between the walk and the move.
        let Some(obj) = &from.object else {
            return Ok(());
        };
        let ft = fs::FileType::from_raw_mode(fs::fstat(obj)?.st_mode);
        if ft == fs::FileType::Symlink {
            // A relative link means something else at its new place.
            let t = fs::readlinkat(obj, "", Vec::new())?.into_bytes();
            return self.symlink_ok(to_path, &t);
        }
        if ft != fs::FileType::Directory {
            return Ok(());
        }
        let top = fs::openat(
            obj,
            ".",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let mut seen = 0usize;
        let mut stack: Vec<(OwnedFd, Vec<u8>)> = vec![(top, Vec::new())];
        while let Some((dir, rel)) = stack.pop() {
            let mut entries = Vec::new();
            let mut d = fs::Dir::read_from(&dir)?;
            while let Some(e) = d.read() {
                let e = e?;
                let name = e.file_name().to_bytes();
                if name == b"." || name == b".." {
                    continue;
                }
                entries.push((name.to_vec(), e.file_type()));
            }
            for (name, ft) in entries {
                seen += 1;
                if seen > MAX_RENAME_WALK {
                    // Too large to check here: `mv` copies instead.
                    return Err(Errno::XDEV);
                }
                let r2 = [&rel[..], b"/", &name[..]].concat();
                let a = [&from.path[..], &r2[..]].concat();
                let b = [to_path, &r2[..]].concat();
                if decide::gains_rights(&self.sup.engine, &a, &b) {
                    return Err(Errno::ACCESS);
                }
                self.decide_fs(&b, &[FsRight::Create])?;
                self.decide_fs(&a, &[FsRight::Delete])?;
                let ft = if ft == fs::FileType::Unknown {
                    fs::FileType::from_raw_mode(
                        fs::statat(&dir, &name[..], AtFlags::SYMLINK_NOFOLLOW)?.st_mode,
                    )
                } else {
                    ft
                };
                if ft == fs::FileType::Symlink {
                    let t = fs::readlinkat(&dir, &name[..], Vec::new())?.into_bytes();
                    self.symlink_ok(&b, &t)?;
                }
                if ft == fs::FileType::Directory {
                    let sub = fs::openat(
                        &dir,
                        &name[..],
                        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                        Mode::empty(),
                    )?;
                    stack.push((sub, r2));
                }
            }
        }
        Ok(())
    }

    pub(super) fn rename(&mut self, ob: Base, op: u64, nb: Base, np: u64, flags: u32) -> R {
        let o = self.path_arg(op)?;
        let n = self.path_arg(np)?;
        let from = self.resolve(ob, &o, false)?;
        let to = self.resolve(nb, &n, false)?;
        if from.object.is_none() {
            return Err(Errno::NOENT);
        }
        self.keep_log_path(&from)?;
        self.keep_log_path(&to)?;
        decide::entry_name(&from.name)?;
        decide::entry_name(&to.name)?;
        let exchange = flags & libc::RENAME_EXCHANGE != 0;
        let side = |s: decide::Side| if s == decide::Side::From { &from } else { &to };
        for step in decide::rename_steps(to.object.is_some(), to.parent_missing, exchange) {
            match step {
                decide::RenameStep::Decide(s, rights) => self.decide_fs(&side(s).path, &rights)?,
                decide::RenameStep::Fail(e) => return Err(e),
                decide::RenameStep::NoLaundering(a, b) => {
                    self.no_laundering(side(a), &side(b).path)?
                }
            }
        }
        fs::renameat_with(
            from.dir()?,
            &from.name[..],
            to.dir()?,
            &to.name[..],
            fs::RenameFlags::from_bits_retain(flags),
        )?;
        ok(0)
    }

    pub(super) fn link(&mut self, ob: Base, op: u64, nb: Base, np: u64, flags: i32) -> R {
        let o = self.path_arg(op)?;
        let n = self.path_arg(np)?;
        let follow = decide::link_source(&o, flags)?;
        let from = self.resolve(ob, &o, follow)?;
        let to = self.resolve(nb, &n, false)?;
        let Some(obj) = &from.object else {
            return Err(Errno::NOENT);
        };
        self.decide_fs(&to.path, &[FsRight::Create])?;
        if to.object.is_some() {
            return Err(Errno::EXIST);
        }
        if to.parent_missing {
            return Err(Errno::NOENT);
        }
        self.no_laundering(&from, &to.path)?;
        let src = format!("/proc/self/fd/{}", obj.as_raw_fd());
        fs::linkat(
            fs::CWD,
            src,
            to.dir()?,
            &to.name[..],
            AtFlags::SYMLINK_FOLLOW,
        )?;
        ok(0)
    }

    pub(super) fn symlink(&mut self, target: u64, nb: Base, np: u64) -> R {
        let t = self.path_arg(target)?;
        let n = self.path_arg(np)?;
        let to = self.resolve(nb, &n, false)?;
        self.decide_fs(&to.path, &[FsRight::Create])?;
        if to.object.is_some() {
            return Err(Errno::EXIST);
        }
        if to.parent_missing {
            return Err(Errno::NOENT);
        }
        self.symlink_ok(&to.path, &t)?;
        fs::symlinkat(&t[..], to.dir()?, &to.name[..])?;
        ok(0)
    }

    /// A symbolic link at `link` pointing to `target` (its text) makes every name below
    /// the target appear below `link`, now and whenever one is made there later, to
    /// whoever follows it outside the sandbox (git runs `.git/hooks/pre-commit` whatever
    /// it is a link to). Allowed only where no place below `link` is more protected than
    /// the same place below the target (for `create` and `write`).
    pub(super) fn symlink_ok(&mut self, link: &[u8], target: &[u8]) -> Result<(), Errno> {
        if decide::symlink_climbs(target) {
            self.refuse(
                Right::Create,
                &Target::Path(link.to_vec()),
                "a link text that climbs out of a name it walked into (`x/..`) leads where \
                 `x` leads when followed, not where the text says",
            );
            return Err(Errno::ACCESS);
        }
        let lexical = decide::symlink_lexical(link, target).ok_or(Errno::ACCESS)?;
        if std_stream(target) && !self.protected_beneath(link) {
            // `ln -s /dev/stdout log` (common in Dockerfiles): each follower reaches its
            // own standard stream, a file, pipe or terminal it was given, never a
            // directory the agent prepared (nothing beneath it is reached through the
            // link unless the follower's own stream is a directory). Where names
            // beneath the link are protected (`.git/hooks`), refused as any link
            // through procfs.
            return Ok(());
        }
        if self.through_procfs(&lexical) {
            self.refuse(
                Right::Create,
                &Target::Path(link.to_vec()),
                "a link through procfs (`/proc/self/cwd`, `/dev/fd`) leads somewhere else for \
                 each process that follows it",
            );
            return Err(Errno::ACCESS);
        }
        // Where the target leads now (following what exists), and the text itself: a
        // link on the way may be made to lead elsewhere later (that link decided on its
        // own names then, not on this one's), so both must be no stricter below.
        let real = match self.resolve(Base::Cwd, &lexical, true) {
            Ok(r) => r.path,
            Err(_) => lexical.clone(),
        };
        for place in [&lexical, &real] {
            if let Some(denial) = decide::symlink_denial(&self.sup.engine, link, place) {
                let _ = self.settle(denial);
                return Err(Errno::ACCESS);
            }
        }
        Ok(())
    }

    /// Whether some name beneath `link` is protected: creating or writing `link/x` is
    /// not allowed outright (a link there must then lead where the same is protected).
    fn protected_beneath(&self, link: &[u8]) -> bool {
        let mut below = link.to_vec();
        below.extend_from_slice(b"/x");
        [FsRight::Create, FsRight::Write]
            .iter()
            .any(|&r| self.sup.engine.fs(&below, r).effect != Effect::Allow)
    }

    /// Whether following the absolute, normalised `path` in the sandbox's tree (its
    /// symbolic links expanded, `..` taken physically) passes through procfs, where a
    /// name means something else to each process that follows it (`/proc/self/cwd` is
    /// git's own cwd when git follows `.git/hooks`; `/dev/fd` leads there too). What is
    /// missing is read as written; anything that cannot be looked at counts as procfs
    /// (refused). Any procfs counts, wherever mounted (`/proc`'s device, or a file
    /// system of procfs's type).
    fn through_procfs(&self, path: &[u8]) -> bool {
        let proc_dev = self
            .sup
            .container
            .map_or_else(resolve::proc_dev, |c| c.proc_dev);
        let root = self.sup.root.as_fd();
        let split = |p: &[u8]| -> Vec<Vec<u8>> {
            p.split(|&b| b == b'/')
                .filter(|c| !c.is_empty() && *c != b".")
                .map(<[u8]>::to_vec)
                .collect()
        };
        let mut queue: std::collections::VecDeque<Vec<u8>> = split(path).into();
        let mut cur: Vec<Vec<u8>> = Vec::new();
        let mut links = 0;
        while let Some(c) = queue.pop_front() {
            if c == b".." {
                cur.pop();
                continue;
            }
            cur.push(c);
            let rel = cur.join(&b'/');
            let st = match fs::statat(root, &rel[..], AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) => st,
                Err(Errno::NOENT) => {
                    // Nothing there now (a link made there later is decided then): the
                    // rest as written.
                    for c in queue {
                        if c == b".." {
                            cur.pop();
                        } else {
                            cur.push(c);
                        }
                    }
                    return cur.first().is_some_and(|c| c == b"proc");
                }
                Err(_) => return true,
            };
            if st.st_dev == proc_dev {
                return true;
            }
            // A procfs mounted elsewhere (each mount is its own device): known by its
            // file system's type (anything that cannot be looked at counts as procfs).
            if fs::major(st.st_dev) == 0 {
                let on = fs::openat(
                    root,
                    &rel[..],
                    OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .and_then(|fd| resolve::on_procfs(fd.as_fd()));
                if on != Ok(false) {
                    return true;
                }
            }
            if fs::FileType::from_raw_mode(st.st_mode) == fs::FileType::Symlink {
                links += 1;
                let Ok(t) = fs::readlinkat(root, &rel[..], Vec::new()) else {
                    return true;
                };
                if links > 40 {
                    return true;
                }
                let t = t.into_bytes();
                cur.pop();
                if t.first() == Some(&b'/') {
                    cur.clear();
                }
                for c in split(&t).into_iter().rev() {
                    queue.push_front(c);
                }
            }
        }
        false
    }

    pub(super) fn truncate(&mut self, path: u64, len: u64) -> R {
        let p = self.path_arg(path)?;
        let r = self.resolve(Base::Cwd, &p, true)?;
        let Some(obj) = &r.object else {
            return Err(Errno::NOENT);
        };
        self.decide_fs(&r.path, &[FsRight::Write])?;
        // The agent's own file size limit, not the supervisor's.
        decide::truncate_fits(len, self.fsize_limit())?;
        let f = reopen(obj.as_fd(), OFlags::WRONLY, None)?;
        fs::ftruncate(&f, len)?;
        ok(0)
    }

    /// `stat`, `lstat`, `newfstatat`, `statx`, `access`, `faccessat(2)`, `readlink(at)`:
    /// looking at a file's metadata (or a link's target) is `read` (SPEC §1). Decided on
    /// the resolved path, then the kernel runs the call. (It only reveals metadata; a
    /// path swapped after the decision can reveal another file's metadata, never its
    /// contents: see docs/enforcement.md.)
    pub(super) fn stat(&mut self, base: Base, path: u64, flags: i32, follow_default: bool) -> R {
        let p = self.path_arg(path)?;
        if p.is_empty() && flags & libc::AT_EMPTY_PATH != 0 {
            // The descriptor itself: already open in the process.
            return Ok(Done::Reply(Reply::Continue));
        }
        let follow = follow_default && flags & libc::AT_SYMLINK_NOFOLLOW == 0;
        let r = self.resolve(base, &p, follow)?;
        if let Some(c) = decide::stat_check(
            &self.sup.engine,
            &r.path,
            r.via_fd.is_some(),
            self.is_dir(&r),
        ) {
            self.learn_fs(&r.path, &[FsRight::Read]);
            self.settle(c)?;
        }
        Ok(Done::Reply(Reply::Continue))
    }

    /// Whether `r` reached a directory.
    pub(super) fn is_dir(&self, r: &Resolved) -> bool {
        let Some(obj) = &r.object else { return false };
        let st = match r.stat {
            Some(st) => st,
            None => match fs::fstat(obj) {
                Ok(st) => st,
                Err(_) => return false,
            },
        };
        fs::FileType::from_raw_mode(st.st_mode) == fs::FileType::Directory
    }
}

/// Reopens an `O_PATH` descriptor with real access, through `/proc/self/fd`. FIFOs are
/// opened non-blocking (an open that waits for a peer would stall the supervisor),
/// then switched back.
/// `ft`: the object's type, when the caller has it (else one `fstat` here).
pub(super) fn reopen(
    obj: BorrowedFd<'_>,
    flags: OFlags,
    ft: Option<fs::FileType>,
) -> Result<OwnedFd, Errno> {
    let ft = match ft {
        Some(t) => t,
        None => fs::FileType::from_raw_mode(fs::fstat(obj)?.st_mode),
    };
    let fifo = ft == fs::FileType::Fifo;
    let link = format!("/proc/self/fd/{}", obj.as_raw_fd());
    let f = if fifo && !flags.contains(OFlags::NONBLOCK) {
        let f = fs::open(
            &link,
            flags | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let fl = rustix::fs::fcntl_getfl(&f)?;
        rustix::fs::fcntl_setfl(&f, fl & !OFlags::NONBLOCK)?;
        f
    } else {
        fs::open(&link, flags | OFlags::CLOEXEC, Mode::empty())?
    };
    Ok(f)
}

/// Whether an object reached through a magic link has no path of its own that the
/// rules could decide: a pipe, a socket or an anonymous inode (`pipe:[…]`), or a file
/// that is no longer linked anywhere (a deleted file, a memfd, an `O_TMPFILE`).
/// `st`: the object's `fstat`, when the caller has it (else one here).
pub(super) fn pathless(obj: BorrowedFd<'_>, path: &[u8], st: Option<&fs::Stat>) -> bool {
    if path.first() != Some(&b'/') {
        return true;
    }
    match st {
        Some(st) => st.st_nlink == 0,
        None => fs::fstat(obj).is_ok_and(|s| s.st_nlink == 0),
    }
}

/// A link text naming one of the follower's standard streams exactly: `/dev/stdin`,
/// `/dev/stdout`, `/dev/stderr`, or their `/proc/self/fd/N` and `/dev/fd/N` forms (N 0 to 2).
fn std_stream(target: &[u8]) -> bool {
    matches!(
        target,
        b"/dev/stdin"
            | b"/dev/stdout"
            | b"/dev/stderr"
            | b"/proc/self/fd/0"
            | b"/proc/self/fd/1"
            | b"/proc/self/fd/2"
            | b"/dev/fd/0"
            | b"/dev/fd/1"
            | b"/dev/fd/2"
    )
}
