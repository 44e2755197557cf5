//! The sandbox's own terminal. When `mxcc run` is started from a terminal and no
//! `--ask` answer is given, the command gets a pseudo-terminal of its own (its
//! controlling terminal, stdin, stdout and stderr), and `mxcc` relays between it and
//! the user's terminal. While a question is pending, what the user types goes to the
//! question and never to the sandbox: an agent cannot read (or type) the answer. Nor
//! can it draw over the question: what the sandbox writes waits until it is answered,
//! and the question shows the control characters of its target as escapes.

use crate::{AskAnswer, AskRequest, Asker};
use rustix::fd::{AsFd, OwnedFd};
use rustix::termios::{self, OptionalActions, Termios};
use std::io::Write;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex};

pub struct Terminal {
    pub master: OwnedFd,
    /// The sandbox's end (its stdio and controlling terminal); `None` once released.
    pub slave: Option<OwnedFd>,
    /// The user's terminal settings, restored when the run ends.
    saved: Termios,
    /// While a question is pending: where typed bytes go instead of the sandbox.
    diverted: Arc<Mutex<Option<Sender<u8>>>>,
    /// Whether a question is on the user's terminal; the output relay writes only while
    /// it is `false`, holding the lock (so a question never starts mid-write).
    asking: Arc<(Mutex<bool>, Condvar)>,
    /// Set when the run ends: the window-size follower stops.
    done: Arc<std::sync::atomic::AtomicBool>,
}

impl Terminal {
    /// A pseudo-terminal for the sandbox, when stdin is the user's terminal.
    pub fn open() -> std::io::Result<Option<Terminal>> {
        let stdin = rustix::stdio::stdin();
        if !termios::isatty(stdin) {
            return Ok(None);
        }
        let saved = termios::tcgetattr(stdin)?;
        let master = rustix::pty::openpt(
            rustix::pty::OpenptFlags::RDWR
                | rustix::pty::OpenptFlags::NOCTTY
                | rustix::pty::OpenptFlags::CLOEXEC,
        )?;
        rustix::pty::grantpt(&master)?;
        rustix::pty::unlockpt(&master)?;
        let name = rustix::pty::ptsname(&master, Vec::new())?;
        let slave = rustix::fs::open(
            name.as_c_str(),
            rustix::fs::OFlags::RDWR | rustix::fs::OFlags::NOCTTY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )?;
        termios::tcsetattr(&slave, OptionalActions::Now, &saved)?;
        if let Ok(ws) = termios::tcgetwinsize(stdin) {
            let _ = termios::tcsetwinsize(&slave, ws);
        }
        let mut raw = saved.clone();
        raw.make_raw();
        termios::tcsetattr(stdin, OptionalActions::Now, &raw)?;
        Ok(Some(Terminal {
            master,
            slave: Some(slave),
            saved,
            diverted: Arc::new(Mutex::new(None)),
            asking: Arc::new((Mutex::new(false), Condvar::new())),
            done: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        }))
    }

    /// Starts relaying: the user's keys to the sandbox (or to a pending question), the
    /// sandbox's output to the user. Returns the output relay, which ends when every
    /// copy of the sandbox's end is closed.
    pub fn relay(&self) -> std::io::Result<std::thread::JoinHandle<()>> {
        let to_sandbox = self.master.try_clone()?;
        let diverted = self.diverted.clone();
        std::thread::Builder::new()
            .name("mxc-tty-in".into())
            .spawn(move || {
                let mut buf = [0u8; 4096];
                loop {
                    let n = match rustix::io::read(rustix::stdio::stdin(), &mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    let mut rest = &buf[..n];
                    if let Ok(d) = diverted.lock() {
                        if let Some(tx) = d.as_ref() {
                            for &b in rest {
                                let _ = tx.send(b);
                            }
                            rest = &[];
                        }
                    }
                    while !rest.is_empty() {
                        match rustix::io::write(&to_sandbox, rest) {
                            Ok(k) => rest = &rest[k..],
                            Err(_) => return,
                        }
                    }
                }
            })?;
        // Window size: follow the user's terminal (checked four times a second; a
        // signal handler would be the only alternative, and this crate installs none).
        let resize = self.master.try_clone()?;
        let done = self.done.clone();
        std::thread::Builder::new()
            .name("mxc-tty-size".into())
            .spawn(move || {
                let mut last = None;
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    let now = termios::tcgetwinsize(rustix::stdio::stdin()).ok();
                    if let Some(ws) = now {
                        let key = (ws.ws_row, ws.ws_col);
                        if last != Some(key) {
                            if termios::tcsetwinsize(&resize, ws).is_err() {
                                return;
                            }
                            last = Some(key);
                        }
                    }
                    std::thread::sleep(std::time::Duration::from_millis(250));
                }
            })?;
        let from_sandbox = self.master.try_clone()?;
        let asking = self.asking.clone();
        std::thread::Builder::new()
            .name("mxc-tty-out".into())
            .spawn(move || {
                let mut buf = [0u8; 4096];
                let mut out = std::io::stdout();
                loop {
                    match rustix::io::read(&from_sandbox, &mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            // Held while a question is pending (the sandbox's writes then
                            // block once the terminal's buffer is full).
                            let (lock, cv) = &*asking;
                            let Ok(mut g) = lock.lock() else { return };
                            while *g {
                                g = match cv.wait(g) {
                                    Ok(g) => g,
                                    Err(_) => return,
                                };
                            }
                            let _ = out.write_all(&buf[..n]);
                            let _ = out.flush();
                        }
                    }
                }
            })
    }

    /// Asks on the user's terminal, reading the answer from the diverted keys.
    pub fn asker(&self) -> Asker {
        let diverted = self.diverted.clone();
        let asking = self.asking.clone();
        Arc::new(move |q: &AskRequest| {
            // The sandbox's output stops (after any write in progress) until the answer.
            if let Ok(mut g) = asking.0.lock() {
                *g = true;
            }
            let (tx, rx): (Sender<u8>, Receiver<u8>) = channel();
            if let Ok(mut d) = diverted.lock() {
                *d = Some(tx);
            }
            // Keys typed before the question was shown do not answer it.
            let _ = termios::tcflush(rustix::stdio::stdin(), termios::QueueSelector::IFlush);
            let mut out = std::io::stderr();
            // Undo what the sandbox may have set to hide or disguise the question:
            // attributes (invisible, colours), a hidden cursor, a scrolling region, a
            // character set that draws letters as line-drawing glyphs (G0 back to
            // ASCII, shifted in), autowrap off (a long target cut at the margin),
            // insert mode (escape `ask_terminal_*`).
            let _ = write!(
                out,
                "\x1b[0m\x1b[?25h\x1b[r\x1b(B\x0f\x1b[?7h\x1b[4l\r\n{}",
                prompt(q).replace('\n', "\r\n")
            );
            let _ = out.flush();
            let mut answer = String::new();
            while let Ok(b) = rx.recv() {
                match b {
                    b'\r' | b'\n' => break,
                    3 | 4 => {
                        answer.clear();
                        break;
                    }
                    0x7f | 8 if answer.pop().is_some() => {
                        let _ = out.write_all(b"\x08 \x08");
                    }
                    b if b.is_ascii_graphic() => {
                        answer.push(char::from(b));
                        let _ = out.write_all(&[b]);
                    }
                    _ => {}
                }
                let _ = out.flush();
            }
            let _ = out.write_all(b"\r\n");
            if let Ok(mut d) = diverted.lock() {
                *d = None;
            }
            if let Ok(mut g) = asking.0.lock() {
                *g = false;
            }
            asking.1.notify_all();
            parse_answer(&answer)
        })
    }

    /// Restores the user's terminal.
    pub fn restore(&self) {
        self.done.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = termios::tcsetattr(rustix::stdio::stdin(), OptionalActions::Now, &self.saved);
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.restore();
    }
}

/// The question, as shown to a person. The target and program are the agent's choice
/// (a file name may hold any byte but `/` and NUL): their control characters are shown
/// as escapes, never sent to the terminal.
pub fn prompt(q: &AskRequest) -> String {
    format!(
        "mxcc: the agent asks to {} {}\n      program {} (pid {}){}\n      allow? [y] once  [a] for this run  [N] deny: ",
        q.right,
        visible(&q.target.to_string()),
        visible(&q.program),
        q.pid,
        q.rule
            .as_ref()
            .map(|r| format!(", rule {}", visible(r)))
            .unwrap_or_default()
    )
}

/// `s` with every control character (C0, DEL, C1) and every invisible or reordering
/// format character (zero-width, bidirectional overrides and isolates, BOM) written as
/// an escape (`\x{1b}`), and a backslash as `\\` (so a name cannot fake an escape).
pub fn visible(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if c.is_control()
                || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
                    | '\u{2066}'..='\u{2069}' | '\u{feff}') =>
            {
                out.push_str(&format!("\\x{{{:x}}}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out
}

/// `y` once, `a` for the run, anything else denies.
pub fn parse_answer(s: &str) -> AskAnswer {
    match s.trim() {
        "y" | "Y" | "yes" => AskAnswer::AllowOnce,
        "a" | "A" | "always" => AskAnswer::AllowForRun,
        _ => AskAnswer::Deny,
    }
}

impl Terminal {
    /// The sandbox's end, as a descriptor for the child's stdio (or for `/dev/tty`).
    pub fn slave_copy(&self) -> std::io::Result<OwnedFd> {
        match &self.slave {
            Some(s) => s.as_fd().try_clone_to_owned(),
            None => Err(std::io::Error::from_raw_os_error(libc::EBADF)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::visible;

    #[test]
    fn control_characters_are_shown_not_sent() {
        assert_eq!(visible("/w/a b"), "/w/a b");
        assert_eq!(
            visible("/w/\x1b[2K\rfake\nline\u{9b}2J\u{7f}"),
            "/w/\\x{1b}[2K\\x{d}fake\\x{a}line\\x{9b}2J\\x{7f}"
        );
        assert_eq!(visible("a\\x{1b}"), "a\\\\x{1b}");
        assert_eq!(visible("/w/ünïcödé"), "/w/ünïcödé");
        assert_eq!(visible("a\u{202e}txt.sh"), "a\\x{202e}txt.sh");
    }
}
