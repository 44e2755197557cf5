//! Generated policies of `n` rules in the mixes that have made compilers explode, for
//! the growth tests (`tests/growth.rs`) and the benches: each is an ordinary policy a
//! security team could write, scaled up.
//!
//! Every mix defines `policy gen` and `agent gen` (default deny), and uses no parameter.

use std::fmt::Write as _;

/// A mix of rules (see [`generate`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mix {
    /// The bench mix (`crates/mxc-eval/benches/decide.rs`): project trees with
    /// carve-outs, `**/*.extN` asks, globs in build directories, documentation trees,
    /// 20% net and 10% app rules.
    Bench,
    /// Rooted trees plus floating `**/dirI/*.extJ` patterns (a directory name and an
    /// extension), one rule in eight.
    Floating,
    /// `allow launch "/usr/bin/*"` and `deny launch "**/NAME"` for `n - 1` program
    /// names: a deny list of programs wherever they are installed.
    LaunchDenyList,
    /// Rules with several alternatives each (`/srv/{a,b,c}I/{src,lib}/*.{rs,toml,md}`).
    Alternatives,
    /// An enterprise baseline (system directories readable, credential stores denied)
    /// plus per-team project trees with carve-outs, `**/.env`, `**/node_modules/**`
    /// and `**/.git/hooks/**`.
    Enterprise,
}

impl Mix {
    pub const ALL: [Mix; 5] = [
        Mix::Bench,
        Mix::Floating,
        Mix::LaunchDenyList,
        Mix::Alternatives,
        Mix::Enterprise,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mix::Bench => "bench",
            Mix::Floating => "floating",
            Mix::LaunchDenyList => "launch-deny-list",
            Mix::Alternatives => "alternatives",
            Mix::Enterprise => "enterprise",
        }
    }
}

/// The source of a policy of `n` rules of `mix`.
pub fn generate(mix: Mix, n: usize) -> String {
    let mut s = String::from("policy gen {\n");
    let mut rule = |section: &str, text: String| {
        let _ = writeln!(s, "  {section} {{ {text} }}");
    };
    for i in 0..n {
        match mix {
            Mix::Bench => match i % 10 {
                0..=2 => rule(
                    "fs",
                    format!("allow read, write, create \"/home/u/proj{i}/**\""),
                ),
                3 => rule(
                    "fs",
                    format!("deny all \"/home/u/proj{}/secret/**\"", i - 1),
                ),
                4 => rule("fs", format!("ask write, create \"**/*.ext{i}\"")),
                5 => rule(
                    "fs",
                    format!("allow read \"/home/u/proj{}/build/*.o{i}\"", i - 3),
                ),
                6 => rule("fs", format!("allow read \"/usr/share/doc{i}/**\"")),
                7 => rule("net", format!("allow connect \"svc{i}.example.com:443\"")),
                8 => rule(
                    "net",
                    format!("allow connect \"api{i}.internal.net:8000-8999\""),
                ),
                _ => rule("app", format!("allow launch \"/usr/bin/tool{i}\"")),
            },
            Mix::Floating => match i % 8 {
                0 => rule(
                    "fs",
                    format!(
                        "deny read \"**/{}{i}/*.{}\"",
                        ["data", "logs", "cache", "tmp"][i / 8 % 4],
                        ["yaml", "txt", "json", "csv", "log"][i / 32 % 5]
                    ),
                ),
                1 | 2 => rule("fs", format!("allow read, write \"/srv/team{i}/**\"")),
                3 => rule("fs", format!("deny write \"/srv/team{}/secret/**\"", i - 2)),
                4 => rule("fs", format!("allow read \"/opt/app{i}/lib/*.so\"")),
                5 => rule("fs", format!("ask write \"/var/lib/svc{i}/**\"")),
                6 => rule("fs", format!("allow read \"/usr/share/doc{i}/**\"")),
                _ => rule("fs", format!("allow create \"/tmp/job{i}/*\"")),
            },
            Mix::LaunchDenyList => {
                if i == 0 {
                    rule("app", "allow launch \"/usr/bin/*\"".to_string());
                } else {
                    rule("app", format!("deny launch \"**/prog{i}\""));
                }
            }
            Mix::Alternatives => match i % 4 {
                0 => rule(
                    "fs",
                    format!("allow read \"/srv/{{a,b,c}}{i}/{{src,lib}}/*.{{rs,toml,md}}\""),
                ),
                1 => rule(
                    "fs",
                    format!(
                        "deny write \"/srv/{{a,b}}{}/{{src,lib}}/{{*.lock,.env*}}\"",
                        i - 1
                    ),
                ),
                2 => rule(
                    "app",
                    format!("allow launch \"/opt/{{bin,sbin}}/{{tool,helper}}{i}\""),
                ),
                _ => rule(
                    "fs",
                    format!("ask create \"/home/u/{{docs,notes}}{i}/{{*.md,*.txt}}\""),
                ),
            },
            Mix::Enterprise => {
                const BASE: &[&str] = &[
                    "allow read \"/usr/**\"",
                    "allow read \"/etc/**\"",
                    "deny read \"/etc/shadow\"",
                    "deny all \"/home/*/.ssh/**\"",
                    "deny all \"/home/*/.aws/**\"",
                    "deny read, write \"**/.env\"",
                    "deny write, create \"**/.git/hooks/**\"",
                    "allow read, write, create, delete \"/tmp/**\"",
                    "ask write \"**/node_modules/**\"",
                ];
                if let Some(b) = BASE.get(i) {
                    rule("fs", b.to_string());
                    continue;
                }
                let team = i / 6;
                match i % 6 {
                    0 => rule(
                        "fs",
                        format!("allow read, write, create \"/home/team{team}/projects/**\""),
                    ),
                    1 => rule(
                        "fs",
                        format!("deny write \"/home/team{team}/projects/release/**\""),
                    ),
                    2 => rule(
                        "fs",
                        format!("deny read \"/home/team{team}/projects/*/secrets/**\""),
                    ),
                    3 => rule("fs", format!("allow read \"/srv/shared/team{team}/**\"")),
                    4 => rule(
                        "fs",
                        format!("ask delete \"/home/team{team}/projects/*/*.db\""),
                    ),
                    _ => rule(
                        "net",
                        format!("allow connect \"git.team{team}.corp.example:443\""),
                    ),
                }
            }
        }
    }
    s.push_str("}\nagent gen { use gen }\n");
    s
}
