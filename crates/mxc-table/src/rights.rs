//! Rights as typed sets, one type per section: [`FsRights`], [`NetRights`],
//! [`AppRights`]. A set of one section cannot be mixed up with a set of another (the
//! same bit means `write` in fs and `bind` in net); [`Rights`] is a set tagged with its
//! section, for code that handles rules of every section.

use crate::table::{FsRight, NetRight};
use std::fmt;

macro_rules! rights_set {
    ($(#[$doc:meta])* $name:ident { $($(#[$cdoc:meta])* $konst:ident = $bit:expr, $word:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(u8);

        impl $name {
            $($(#[$cdoc])* pub const $konst: $name = $name($bit);)+
            /// The empty set.
            pub const NONE: $name = $name(0);
            /// Every right of the section (what `all` names).
            pub const ALL: $name = $name(0 $(| $bit)+);
            /// Each right with its name, in the order of the language's documentation.
            pub const NAMED: &'static [($name, &'static str)] = &[$(($name::$konst, $word)),+];

            /// The bits of the set (for encodings; each section numbers its own rights).
            pub const fn bits(self) -> u8 {
                self.0
            }
            /// The set with these bits, or `None` when a bit names no right.
            pub const fn from_bits(bits: u8) -> Option<$name> {
                if bits & !Self::ALL.0 == 0 {
                    Some($name(bits))
                } else {
                    None
                }
            }
            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }
            /// Every right of `other` is in `self`.
            pub const fn contains(self, other: $name) -> bool {
                self.0 & other.0 == other.0
            }
            /// Some right is in both.
            pub const fn intersects(self, other: $name) -> bool {
                self.0 & other.0 != 0
            }
            pub const fn union(self, other: $name) -> $name {
                $name(self.0 | other.0)
            }
            pub const fn intersection(self, other: $name) -> $name {
                $name(self.0 & other.0)
            }
            /// The single rights in the set, in [`Self::NAMED`] order.
            pub fn iter(self) -> impl Iterator<Item = $name> {
                Self::NAMED.iter().map(|&(r, _)| r).filter(move |&r| self.contains(r))
            }
            /// The names of the rights in the set, in [`Self::NAMED`] order.
            pub fn names(self) -> impl Iterator<Item = &'static str> {
                Self::NAMED
                    .iter()
                    .filter(move |&&(r, _)| self.contains(r))
                    .map(|&(_, n)| n)
            }
            /// The right named `name` (`all` is every right), or `None`.
            pub fn parse(name: &str) -> Option<$name> {
                if name == "all" {
                    return Some(Self::ALL);
                }
                Self::NAMED.iter().find(|&&(_, n)| n == name).map(|&(r, _)| r)
            }
        }

        impl std::ops::BitOr for $name {
            type Output = $name;
            fn bitor(self, o: $name) -> $name {
                self.union(o)
            }
        }
        impl std::ops::BitOrAssign for $name {
            fn bitor_assign(&mut self, o: $name) {
                *self = self.union(o);
            }
        }
        impl std::ops::BitAnd for $name {
            type Output = $name;
            fn bitand(self, o: $name) -> $name {
                self.intersection(o)
            }
        }

        /// The names joined by `, ` (`-` for the empty set).
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                if self.is_empty() {
                    return f.write_str("-");
                }
                for (i, n) in self.names().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(n)?;
                }
                Ok(())
            }
        }
    };
}

rights_set! {
    /// Rights of the `fs` section.
    FsRights {
        READ = 1, "read";
        WRITE = 2, "write";
        CREATE = 4, "create";
        DELETE = 8, "delete";
    }
}

rights_set! {
    /// Rights of the `net` section.
    NetRights {
        CONNECT = 1, "connect";
        BIND = 2, "bind";
    }
}

rights_set! {
    /// Rights of the `app` section.
    AppRights {
        LAUNCH = 1, "launch";
    }
}

impl From<FsRight> for FsRights {
    fn from(r: FsRight) -> FsRights {
        match r {
            FsRight::Read => FsRights::READ,
            FsRight::Write => FsRights::WRITE,
            FsRight::Create => FsRights::CREATE,
            FsRight::Delete => FsRights::DELETE,
        }
    }
}

impl From<NetRight> for NetRights {
    fn from(r: NetRight) -> NetRights {
        match r {
            NetRight::Connect => NetRights::CONNECT,
            NetRight::Bind => NetRights::BIND,
        }
    }
}

impl FsRights {
    /// Whether the set holds `right`.
    pub fn has(self, right: FsRight) -> bool {
        self.contains(right.into())
    }
}

impl NetRights {
    /// Whether the set holds `right`.
    pub fn has(self, right: NetRight) -> bool {
        self.contains(right.into())
    }
}

/// The section a right or a rule belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Section {
    Fs,
    Net,
    App,
}

impl Section {
    pub fn as_str(self) -> &'static str {
        match self {
            Section::Fs => "fs",
            Section::Net => "net",
            Section::App => "app",
        }
    }
}

/// A set of rights of one section.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rights {
    Fs(FsRights),
    Net(NetRights),
    App(AppRights),
}

impl Rights {
    /// The empty set of `section`.
    pub fn none(section: Section) -> Rights {
        match section {
            Section::Fs => Rights::Fs(FsRights::NONE),
            Section::Net => Rights::Net(NetRights::NONE),
            Section::App => Rights::App(AppRights::NONE),
        }
    }
    /// The right (or `all`) called `name` in `section`.
    pub fn parse(section: Section, name: &str) -> Option<Rights> {
        match section {
            Section::Fs => FsRights::parse(name).map(Rights::Fs),
            Section::Net => NetRights::parse(name).map(Rights::Net),
            Section::App => AppRights::parse(name).map(Rights::App),
        }
    }
    pub fn section(self) -> Section {
        match self {
            Rights::Fs(_) => Section::Fs,
            Rights::Net(_) => Section::Net,
            Rights::App(_) => Section::App,
        }
    }
    pub fn is_empty(self) -> bool {
        match self {
            Rights::Fs(r) => r.is_empty(),
            Rights::Net(r) => r.is_empty(),
            Rights::App(r) => r.is_empty(),
        }
    }
    /// Some right is in both (never across sections).
    pub fn intersects(self, other: Rights) -> bool {
        match (self, other) {
            (Rights::Fs(a), Rights::Fs(b)) => a.intersects(b),
            (Rights::Net(a), Rights::Net(b)) => a.intersects(b),
            (Rights::App(a), Rights::App(b)) => a.intersects(b),
            _ => false,
        }
    }
    /// The union; `None` across sections.
    pub fn union(self, other: Rights) -> Option<Rights> {
        match (self, other) {
            (Rights::Fs(a), Rights::Fs(b)) => Some(Rights::Fs(a | b)),
            (Rights::Net(a), Rights::Net(b)) => Some(Rights::Net(a | b)),
            (Rights::App(a), Rights::App(b)) => Some(Rights::App(a | b)),
            _ => None,
        }
    }
    /// The fs rights (empty for another section).
    pub fn fs(self) -> FsRights {
        match self {
            Rights::Fs(r) => r,
            _ => FsRights::NONE,
        }
    }
    /// The net rights (empty for another section).
    pub fn net(self) -> NetRights {
        match self {
            Rights::Net(r) => r,
            _ => NetRights::NONE,
        }
    }
    /// The app rights (empty for another section).
    pub fn app(self) -> AppRights {
        match self {
            Rights::App(r) => r,
            _ => AppRights::NONE,
        }
    }
    /// The names of the rights in the set.
    pub fn names(self) -> Vec<&'static str> {
        match self {
            Rights::Fs(r) => r.names().collect(),
            Rights::Net(r) => r.names().collect(),
            Rights::App(r) => r.names().collect(),
        }
    }
}

impl fmt::Display for Rights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rights::Fs(r) => r.fmt(f),
            Rights::Net(r) => r.fmt(f),
            Rights::App(r) => r.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets() {
        let rw = FsRights::READ | FsRights::WRITE;
        assert!(rw.contains(FsRights::READ) && !rw.contains(FsRights::CREATE));
        assert!(rw.has(FsRight::Write));
        assert_eq!(rw.to_string(), "read, write");
        assert_eq!(FsRights::ALL.bits(), 15);
        assert_eq!(FsRights::from_bits(16), None);
        assert_eq!(NetRights::from_bits(4), None);
        assert_eq!(
            NetRights::parse("all"),
            Some(NetRights::CONNECT | NetRights::BIND)
        );
        assert_eq!(AppRights::parse("read"), None);
        assert_eq!(Rights::parse(Section::Fs, "bind"), None);
        // The same bit in two sections is two different rights.
        assert!(!Rights::Fs(FsRights::WRITE).intersects(Rights::Net(NetRights::BIND)));
        assert_eq!(
            Rights::Fs(FsRights::READ).union(Rights::App(AppRights::LAUNCH)),
            None
        );
        assert_eq!(
            (FsRights::ALL & FsRights::DELETE)
                .iter()
                .collect::<Vec<_>>(),
            [FsRights::DELETE]
        );
        assert_eq!(FsRights::NONE.to_string(), "-");
    }
}
