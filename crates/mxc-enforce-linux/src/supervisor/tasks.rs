//! Calls naming another task by id (scheduling, limits, `process_madvise`): only
//! the sandbox's own tasks.

use super::*;

impl Call<'_> {
    /// A call on the task `id` (in the caller's pid namespace; held because it is not
    /// 0): continued only when that task is one of the sandbox's. The id is a register
    /// value, decided once: no other task can change it. What remains is a pid reused
    /// between this check and the kernel's lookup (the sandbox's task exits and an
    /// outside process gets its number in that instant).
    pub(super) fn other_task(&mut self, id: i32) -> R {
        let ours = match decide::task_plan(id, self.sup.container.is_some())? {
            decide::TaskPlan::Ours(ours) => ours,
            decide::TaskPlan::HostTask(tid) => self.sandbox_task(tid),
        };
        if !ours {
            return Err(Errno::PERM);
        }
        self.still_valid()?;
        Ok(Done::Reply(Reply::Continue))
    }

    /// Whether host task `tid` (a thread or a process) belongs to a sandboxed process:
    /// beneath the supervisor in the process tier, beneath the namespace's init (never
    /// the init itself) in the container tier; MXC's watchdog is beneath neither.
    pub(super) fn sandbox_task(&self, tid: u32) -> bool {
        let Some(tgid) = std::fs::read_to_string(format!("/proc/{tid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("Tgid:"))
                    .and_then(|v| v.trim().parse::<u32>().ok())
            })
        else {
            return false;
        };
        descends_from(tgid, self.sup.sandbox_top())
    }

    /// process_madvise names its process by a pidfd: decided on the process that
    /// descriptor refers to (`Pid:` of its fdinfo, a host pid as the supervisor's
    /// procfs shows it), when no other task can swap the descriptor meanwhile.
    pub(super) fn process_madvise(&mut self, fd: i32) -> R {
        if fd < 0 {
            return Err(Errno::BADF);
        }
        if !self.files_exclusive() {
            return Err(Errno::PERM);
        }
        let info = std::fs::read_to_string(format!("/proc/{}/fdinfo/{fd}", self.n.pid))
            .map_err(|_| Errno::BADF)?;
        let pid = info
            .lines()
            .find_map(|l| l.strip_prefix("Pid:"))
            .and_then(|v| v.trim().parse::<i64>().ok())
            .ok_or(Errno::BADF)?;
        if pid <= 0 || !self.sandbox_task(pid as u32) {
            return Err(Errno::PERM);
        }
        self.still_valid()?;
        Ok(Done::Reply(Reply::Continue))
    }
}
