//! Typed decision records: what a backend decided, on what, for whom, and why. Ask,
//! `--learn`, the denial sink and the audit log all take these records as they are;
//! nothing is formatted into a string and parsed back (a program whose path has a
//! space keeps its whole path).

use mxc_eval::{Decision, Effect, FsRight, NetRight, Proto};
use std::fmt;

/// The right a decision is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Right {
    Read,
    Write,
    Create,
    Delete,
    Connect,
    Bind,
    Launch,
}

impl Right {
    pub fn as_str(self) -> &'static str {
        match self {
            Right::Read => "read",
            Right::Write => "write",
            Right::Create => "create",
            Right::Delete => "delete",
            Right::Connect => "connect",
            Right::Bind => "bind",
            Right::Launch => "launch",
        }
    }

    /// The kind of event (the audit record's OCSF class).
    pub fn class(self) -> Class {
        match self {
            Right::Read | Right::Write | Right::Create | Right::Delete => Class::File,
            Right::Connect | Right::Bind => Class::Network,
            Right::Launch => Class::Process,
        }
    }
}

impl From<FsRight> for Right {
    fn from(r: FsRight) -> Right {
        match r {
            FsRight::Read => Right::Read,
            FsRight::Write => Right::Write,
            FsRight::Create => Right::Create,
            FsRight::Delete => Right::Delete,
        }
    }
}

impl From<NetRight> for Right {
    fn from(r: NetRight) -> Right {
        match r {
            NetRight::Connect => Right::Connect,
            NetRight::Bind => Right::Bind,
        }
    }
}

impl fmt::Display for Right {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of event, for the audit record's OCSF class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    File,
    Network,
    Process,
}

/// What a decision is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// A file, by its path (bytes: not necessarily UTF-8).
    Path(Vec<u8>),
    /// A network endpoint: `host` is an IP address (without brackets) or a name.
    Socket {
        proto: Proto,
        host: String,
        port: u16,
    },
    /// A unix socket file, by path.
    Unix(Vec<u8>),
    /// A program and its arguments (without `argv[0]`). `changing`: refused because
    /// they could change before the kernel reads them.
    Program {
        path: Vec<u8>,
        args: Vec<Vec<u8>>,
        changing: bool,
    },
    /// A call whose object cannot be named, described.
    Unnamed(String),
}

impl Target {
    /// The program of a [`Target::Program`] (its whole path).
    pub fn program(&self) -> Option<&[u8]> {
        match self {
            Target::Program { path, .. } => Some(path),
            _ => None,
        }
    }

    /// The key an `allow for this run` answer is remembered by.
    pub fn key(&self) -> Vec<u8> {
        match self {
            Target::Path(p) => p.clone(),
            t => t.to_string().into_bytes(),
        }
    }
}

/// The form people and the audit log read: a path; `host:port`, `[v6]:port` or
/// `udp://…`; `unix:PATH`; the program and its arguments separated by spaces.
impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lossy = String::from_utf8_lossy;
        match self {
            Target::Path(p) => f.write_str(&lossy(p)),
            Target::Socket { proto, host, port } => {
                if *proto == Proto::Udp {
                    f.write_str("udp://")?;
                }
                if host.contains(':') {
                    write!(f, "[{host}]:{port}")
                } else {
                    write!(f, "{host}:{port}")
                }
            }
            Target::Unix(p) => write!(f, "unix:{}", lossy(p)),
            Target::Program {
                path,
                args,
                changing,
            } => {
                f.write_str(&lossy(path))?;
                for a in args {
                    write!(f, " {}", lossy(a))?;
                }
                if *changing {
                    f.write_str(
                        " (its path or arguments can change before the kernel reads them)",
                    )?;
                }
                Ok(())
            }
            Target::Unnamed(what) => write!(f, "({what})"),
        }
    }
}

/// The answer to an `ask` (see [`crate::ask`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AskAnswer {
    AllowOnce,
    Deny,
    /// Allow this exact access for the rest of the run.
    AllowForRun,
}

impl AskAnswer {
    pub fn as_str(self) -> &'static str {
        match self {
            AskAnswer::AllowOnce => "allow-once",
            AskAnswer::AllowForRun => "allow-for-run",
            AskAnswer::Deny => "deny",
        }
    }
}

/// One decision, as a backend concluded it.
#[derive(Clone, Debug)]
pub struct Record {
    pub right: Right,
    pub target: Target,
    /// What the engine said (its rule, or none: the agent's default).
    pub decision: Decision,
    /// What was enforced (after asking, or learning).
    pub effect: Effect,
    pub asked: Option<AskAnswer>,
    /// The process the access was for, and its program.
    pub pid: u32,
    pub program: String,
    /// Refused by MXC's enforcement whatever the policy says, and why.
    pub enforcement: Option<&'static str>,
}

/// A denial a backend enforced, as it happened.
pub type Denial = Record;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_read_as_before() {
        let t = Target::Socket {
            proto: Proto::Udp,
            host: "::1".into(),
            port: 53,
        };
        assert_eq!(t.to_string(), "udp://[::1]:53");
        let t = Target::Socket {
            proto: Proto::Tcp,
            host: "example.com".into(),
            port: 443,
        };
        assert_eq!(t.to_string(), "example.com:443");
        let t = Target::Program {
            path: b"/opt/my tools/run".to_vec(),
            args: vec![b"-x".to_vec()],
            changing: false,
        };
        assert_eq!(t.to_string(), "/opt/my tools/run -x");
        assert_eq!(t.program(), Some(&b"/opt/my tools/run"[..]));
        assert_eq!(Target::Unix(b"/run/x".to_vec()).to_string(), "unix:/run/x");
        assert_eq!(Target::Unnamed("why".into()).to_string(), "(why)");
        assert_eq!(Target::Path(b"/a/\xffb".to_vec()).key(), b"/a/\xffb");
    }

    #[test]
    fn rights_name_their_class() {
        assert_eq!(Right::from(FsRight::Delete).class(), Class::File);
        assert_eq!(Right::from(NetRight::Bind).class(), Class::Network);
        assert_eq!(Right::Launch.class(), Class::Process);
        assert_eq!(Right::Bind.to_string(), "bind");
    }
}
