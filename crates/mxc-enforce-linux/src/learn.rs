//! `mxcc run --learn`: what a permissive run needed, written back as a policy.
//!
//! The run happens in a throwaway container (every directory of the host behind an
//! overlay whose upper layer is a tmpfs, dropped at the end), with every decision
//! allowed and recorded here. [`render`] turns the record into `.mxc` source:
//! files by path (with `/proc/PID/` as `/proc/*/`, and what the run created granted on
//! its directory, since names like temporary files differ from run to run), the
//! connections and binds made, and the programs launched.

use std::collections::{BTreeMap, BTreeSet};

/// What a learning run did.
#[derive(Clone, Debug, Default)]
pub struct Learned {
    /// Path → rights (`read`, `write`, `create`, `delete`).
    pub fs: BTreeMap<Vec<u8>, BTreeSet<&'static str>>,
    /// (right, target): `connect`/`bind` with `host:port` or `udp://…`.
    pub net: BTreeSet<(String, String)>,
    /// Programs launched (resolved paths).
    pub launch: BTreeSet<Vec<u8>>,
    /// What the run was refused even while learning, `(right, target)`: connecting to a
    /// unix socket it did not make (a host daemon's). Written as comments, never as
    /// rules.
    pub refused: BTreeSet<(String, String)>,
}

impl Learned {
    pub fn fs(&mut self, path: &[u8], right: &'static str) {
        self.fs.entry(path.to_vec()).or_default().insert(right);
    }

    pub fn net(&mut self, right: &str, target: &str) {
        self.net.insert((right.to_string(), target.to_string()));
    }

    pub fn refused(&mut self, right: &str, target: &str) {
        self.refused.insert((right.to_string(), target.to_string()));
    }

    pub fn launch(&mut self, program: &[u8]) {
        self.launch.insert(program.to_vec());
    }

    /// How many rules [`render`] writes.
    pub fn is_empty(&self) -> bool {
        self.fs.is_empty() && self.net.is_empty() && self.launch.is_empty()
    }
}

/// A path as a pattern that matches exactly it (glob characters and `${` escaped), in
/// a string literal. `None` for a path that is not UTF-8 (the language has no way to
/// write it).
fn literal(path: &str) -> Option<String> {
    let mut out = String::from("\"");
    for c in path.chars() {
        match c {
            '*' | '?' | '[' | ']' | '{' | '}' | '$' => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => return None,
            c => out.push(c),
        }
    }
    out.push('"');
    Some(out)
}

/// `/proc/1234/…` → `/proc/*/…` (pids differ from run to run).
fn proc_generic(p: &str) -> String {
    let Some(rest) = p.strip_prefix("/proc/") else {
        return p.to_string();
    };
    let (first, tail) = rest.split_once('/').unwrap_or((rest, ""));
    if !first.is_empty() && first.bytes().all(|b| b.is_ascii_digit()) {
        if tail.is_empty() {
            "/proc/*".to_string()
        } else {
            format!("/proc/*/{tail}")
        }
    } else {
        p.to_string()
    }
}

/// A pattern (already a pattern, or a literal path).
enum Target {
    Literal(String),
    Pattern(String),
}

impl Target {
    fn text(&self) -> Option<String> {
        match self {
            Target::Literal(p) => literal(p),
            Target::Pattern(p) => Some(format!("\"{p}\"")),
        }
    }
}

fn pattern_of(path: &str) -> Target {
    let g = proc_generic(path);
    if g != path {
        // `*` stands for the pid; the rest is literal.
        let mut out = String::new();
        for (i, part) in g.split('/').enumerate() {
            if i > 0 {
                out.push('/');
            }
            if part == "*" && i == 2 {
                out.push('*');
            } else {
                let l = literal(part).unwrap_or_default();
                out.push_str(l.trim_matches('"'));
            }
        }
        Target::Pattern(out)
    } else {
        Target::Literal(path.to_string())
    }
}

/// The policy (and an agent using it) that allows what `l` recorded.
pub fn render(l: &Learned, agent: &str, isolation: &str, command: &str) -> String {
    let policy = format!("learned-{agent}");
    // Rights → targets.
    let mut fs: BTreeMap<Vec<&'static str>, BTreeSet<String>> = BTreeMap::new();
    let mut skipped = 0usize;
    // Target → the union of its rights (a directory pattern collects its files').
    let mut by_target: BTreeMap<String, BTreeSet<&'static str>> = BTreeMap::new();
    for (path, rights) in &l.fs {
        let Ok(p) = std::str::from_utf8(path) else {
            skipped += 1;
            continue;
        };
        let created = rights.contains("create") || rights.contains("delete");
        let target = if created {
            // Made or removed by the run: the names vary (temporary files, build
            // output), the directory does not.
            let dir = match p.rsplit_once('/') {
                Some(("", _)) | None => "/",
                Some((d, _)) => d,
            };
            if dir == "/" {
                Some("\"/**\"".to_string())
            } else {
                literal(dir).map(|d| format!("{}/**\"", &d[..d.len() - 1]))
            }
        } else {
            pattern_of(p).text()
        };
        let Some(t) = target else {
            skipped += 1;
            continue;
        };
        by_target
            .entry(t)
            .or_default()
            .extend(rights.iter().copied());
    }
    // A literal path a `DIR/**` target already grants (with every right it needs) is
    // left out.
    let dirs: Vec<(String, BTreeSet<&'static str>)> = by_target
        .iter()
        .filter_map(|(t, r)| {
            t.strip_suffix("/**\"")
                .map(|d| (d.trim_start_matches('"').to_string(), r.clone()))
        })
        .collect();
    for (t, rights) in by_target {
        let inner = t.trim_matches('"');
        let covered = !t.ends_with("/**\"")
            && dirs.iter().any(|(d, r)| {
                (inner == d || inner.starts_with(&format!("{d}/")) || d.is_empty())
                    && rights.is_subset(r)
            });
        if covered {
            continue;
        }
        let rs: Vec<&'static str> = rights.into_iter().collect();
        fs.entry(rs).or_default().insert(t);
    }
    // A target granted with some rights under one entry and more under another keeps
    // both lines; the language takes their union.
    let mut out = String::new();
    out.push_str(&format!(
        "// Learned by `mxcc run --learn` from a permissive run of agent `{agent}`:\n\
         //     {command}\n\
         // It allows what that run did, and nothing it did not. Review it before use:\n\
         // narrow the paths to what the agent should need, and add `deny` rules for what\n\
         // it must never reach.\n"
    ));
    if skipped > 0 {
        out.push_str(&format!(
            "// {skipped} path(s) could not be written as a pattern (not UTF-8) and are left out.\n"
        ));
    }
    for (right, target) in &l.refused {
        // One line each, whatever the target holds.
        let t: String = target.chars().filter(|c| !c.is_control()).collect();
        out.push_str(&format!(
            "// Refused while learning (a unix socket the run did not make): {right} {t}\n"
        ));
    }
    out.push_str(&format!("\npolicy {policy} {{\n"));
    if !fs.is_empty() {
        out.push_str("  fs {\n");
        for (rights, targets) in &fs {
            for t in targets {
                out.push_str(&format!("    allow {} {t}\n", rights.join(", ")));
            }
        }
        out.push_str("  }\n");
    }
    let nets: Vec<&(String, String)> = l.net.iter().collect();
    if !nets.is_empty() {
        out.push_str("  net {\n");
        for (right, target) in nets {
            out.push_str(&format!("    allow {right} \"{target}\"\n"));
        }
        out.push_str("  }\n");
    }
    let apps: Vec<String> = l
        .launch
        .iter()
        .filter_map(|p| std::str::from_utf8(p).ok().and_then(literal))
        .collect();
    if !apps.is_empty() {
        out.push_str("  app {\n");
        for a in apps {
            out.push_str(&format!("    allow launch {a}\n"));
        }
        out.push_str("  }\n");
    }
    out.push_str("}\n");
    out.push_str(&format!(
        "\nagent {agent}-learned {{\n  isolation {isolation}\n  use {policy}\n}}\n"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_literal_paths_generic_pids_and_created_directories() {
        let mut l = Learned::default();
        l.fs(b"/etc/hosts", "read");
        l.fs(b"/proc/42/status", "read");
        l.fs(b"/w/a*b{c}", "read");
        l.fs(b"/w/out/tmp123", "create");
        l.fs(b"/w/out/tmp123", "write");
        l.net("connect", "example.com:443");
        l.launch(b"/usr/bin/git");
        let s = render(&l, "a", "process", "git status");
        assert!(s.contains("allow read \"/etc/hosts\""), "{s}");
        assert!(s.contains("allow read \"/proc/*/status\""), "{s}");
        assert!(s.contains("allow read \"/w/a[*]b[{]c[}]\""), "{s}");
        assert!(s.contains("allow create, write \"/w/out/**\""), "{s}");
        assert!(s.contains("allow connect \"example.com:443\""), "{s}");
        assert!(s.contains("allow launch \"/usr/bin/git\""), "{s}");
        assert!(s.contains("agent a-learned {\n  isolation process\n  use learned-a\n}"));
    }
}
