//! Learned policies a reviewer can accept: what a run did (`mxcc run --learn`), or
//! what a normal run was denied (`mxcc learn --from-audit`), written as `.mxc` text.
//!
//! - Paths under `home` are written with `~`, under another path parameter with
//!   `${NAME}`, and the run's working directory is the parameter `workspace` (unless
//!   given): the lints then judge what was learned (W0005, W0006).
//! - Files a run made or removed are granted on their directory (`DIR/**`: temporary
//!   and build names differ from run to run) only where that directory is the
//!   workspace or beneath it, beneath a temporary directory, or at least one level
//!   beneath another parameter's directory; elsewhere (`/`, `~` itself, a directory
//!   above the workspace) file by file. No grant is wider than that.
//! - Connections that were refused or never made are not learned.
//! - Places the lints watch (credential stores, files that run later) that a grant
//!   covers and the run did not touch are denied explicitly; the written policy is then
//!   checked, and each warning left is explained in a comment at its top.
//!
//! **Invariant:** a learned rule allows only what was observed (or, for a directory
//! grant, names beneath a directory where the run made or removed files); a path that
//! cannot be written as a pattern is left out and counted.

use crate::policy_text::{self, Params};
use mxc_syntax::ast::{Effect, SectionKind};
use mxc_syntax::gen;
use std::collections::{BTreeMap, BTreeSet};

/// What a run did (or needed).
#[derive(Clone, Debug, Default)]
pub struct Observed {
    /// Path → rights (`read`, `write`, `create`, `delete`).
    pub fs: BTreeMap<String, BTreeSet<String>>,
    /// (right, target): `connect`/`bind` with `host:port` or `udp://…`.
    pub net: BTreeSet<(String, String)>,
    /// Programs launched.
    pub launch: BTreeSet<String>,
    /// Refused whatever the policy (written as comments, never as rules).
    pub refused: BTreeSet<(String, String)>,
    /// Paths that are not UTF-8 (left out).
    pub skipped: usize,
    /// (right, target) a reviewer chose to deny explicitly.
    pub deny: BTreeSet<(String, String)>,
}

impl Observed {
    /// From a learning run's record.
    #[cfg(target_os = "linux")]
    pub fn from_learned(l: &mxc_enforce_linux::learn::Learned) -> Observed {
        let mut o = Observed::default();
        for (p, rights) in &l.fs {
            match std::str::from_utf8(p) {
                Ok(p) => {
                    o.fs.entry(p.to_string())
                        .or_default()
                        .extend(rights.iter().map(|r| r.to_string()))
                }
                Err(_) => o.skipped += 1,
            }
        }
        o.net = l.net_learned().cloned().collect();
        for p in &l.launch {
            match std::str::from_utf8(p) {
                Ok(p) => {
                    o.launch.insert(p.to_string());
                }
                Err(_) => o.skipped += 1,
            }
        }
        o.refused = l.refused.clone();
        o
    }
}

/// Who the policy is for, and how its paths are written.
pub struct Context<'a> {
    pub agent: &'a str,
    pub isolation: &'a str,
    /// How the observation was made (a comment line).
    pub source: String,
    pub params: Params,
    /// The run's working directory, written as `${workspace}` (declared with it as the
    /// default when no `workspace` value was given).
    pub workspace: Option<String>,
    /// The command and its arguments, for the "run it again" line.
    pub command: Vec<String>,
    /// Written beside the original policy files: their parameters are not declared
    /// again, and the agent written uses these policies too (`AGENT-reviewed`).
    pub beside: Option<Beside>,
}

/// The original agent, when the learned policy adds to it.
pub struct Beside {
    /// Parameters the original files declare.
    pub declared: BTreeSet<String>,
    /// The policies the original agent uses.
    pub uses: Vec<String>,
}

/// Temporary directories: files made beneath them are granted on their directory.
const TEMP: [&str; 3] = ["/tmp", "/var/tmp", "/dev/shm"];

/// Places W0005 and W0006 watch, relative to home (`true`: a credential store).
const HOME_PLACES: [(&str, bool); 17] = [
    (".ssh", true),
    (".aws", true),
    (".config/gh", true),
    (".netrc", true),
    (".docker/config.json", true),
    (".kube/config", true),
    (".gnupg", true),
    (".bashrc", false),
    (".bash_profile", false),
    (".bash_login", false),
    (".bash_logout", false),
    (".profile", false),
    (".zshrc", false),
    (".zshenv", false),
    (".zprofile", false),
    (".zlogin", false),
    (".config/autostart", false),
];
/// Places W0006 watches under any directory.
const ANY_PLACES: [&str; 4] = [".git/hooks", ".git/config", ".vscode", ".mcp.json"];

/// `/proc/1234/…` → `/proc/*/…` (pids differ from run to run), as a pattern.
fn proc_generic(p: &str) -> Option<String> {
    let rest = p.strip_prefix("/proc/")?;
    let (first, tail) = rest.split_once('/').unwrap_or((rest, ""));
    if first.is_empty() || !first.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(if tail.is_empty() {
        "/proc/*".to_string()
    } else {
        format!("/proc/*/{}", policy_text::literal(tail)?)
    })
}

/// Whether `dir` may be granted with `/**` for what the run made in it.
fn may_grant_dir(dir: &str, params: &Params, workspace: Option<&str>) -> bool {
    let inside = |root: &str| dir == root || dir.starts_with(&format!("{root}/"));
    if inside("/proc") || workspace.is_some_and(|w| w.starts_with(&format!("{dir}/"))) {
        return false;
    }
    if workspace.is_some_and(inside) || TEMP.iter().any(|t| inside(t)) {
        return true;
    }
    // At least one level beneath another parameter's directory, and not the
    // workspace's or above it.
    let above_workspace = |w: &str| w == dir || w.starts_with(&format!("{dir}/"));
    matches!(params.under(dir), Some((_, rest)) if !rest.is_empty())
        && !workspace.is_some_and(above_workspace)
}

fn is_fs(right: &str) -> bool {
    matches!(right, "read" | "write" | "create" | "delete")
}

/// The policy text.
pub fn render(o: &Observed, cx: &Context<'_>) -> String {
    let mut params = cx.params.clone();
    let mut declare_workspace = None;
    if let Some(w) = &cx.workspace {
        if params.value("workspace").is_none() && w != "/" {
            declare_workspace = Some(w.clone());
            params = Params::new(
                cx.params
                    .iter()
                    .chain(std::iter::once(("workspace", w.as_str()))),
            );
        }
    }
    let workspace = params.value("workspace").map(str::to_string);
    let mut skipped = o.skipped;
    // Pattern → (the path it stands for, whether it is a directory grant, rights).
    let mut targets: BTreeMap<String, (String, bool, BTreeSet<String>)> = BTreeMap::new();
    for (path, rights) in &o.fs {
        let made = rights.contains("create") || rights.contains("delete");
        let parent = match path.rsplit_once('/') {
            Some(("", _)) | None => "/".to_string(),
            Some((d, _)) => d.to_string(),
        };
        let (pat, at, dir) = if made && may_grant_dir(&parent, &params, workspace.as_deref()) {
            (policy_text::pattern(&parent, &params, "/**"), parent, true)
        } else if let Some(g) = proc_generic(path) {
            (Some(g), path.clone(), false)
        } else {
            (policy_text::pattern(path, &params, ""), path.clone(), false)
        };
        match pat {
            Some(p) => targets
                .entry(p)
                .or_insert_with(|| (at, dir, BTreeSet::new()))
                .2
                .extend(rights.iter().cloned()),
            None => skipped += 1,
        }
    }
    // A target beneath a directory grant with every right it needs is left out.
    let dir_rights: Vec<(String, String, BTreeSet<String>)> = targets
        .iter()
        .filter(|(_, (_, dir, _))| *dir)
        .map(|(pat, (at, _, r))| (at.clone(), pat.clone(), r.clone()))
        .collect();
    targets.retain(|pat, (at, _, rights)| {
        !dir_rights.iter().any(|(dpath, dpat, drights)| {
            dpat != pat
                && (dpath == "/" || at == dpath || at.starts_with(&format!("{dpath}/")))
                && rights.is_subset(drights)
        })
    });
    // Lint-watched places a write/create grant covers and the run did not touch.
    // Pattern → whether reading is denied too (a credential store).
    let mut denies: BTreeMap<String, bool> = BTreeMap::new();
    // A place the run read (for a credential store) or wrote (for the rest).
    let wrote = |r: &BTreeSet<String>| r.iter().any(|x| x != "read");
    let used = |place: &dyn Fn(&str) -> bool, reads_count: bool| {
        o.fs.iter()
            .any(|(p, r)| place(p) && (reads_count || wrote(r)))
    };
    let writes = |r: &BTreeSet<String>| r.contains("write") || r.contains("create");
    for (dpath, _, drights) in &dir_rights {
        if let Some(h) = params.value("home") {
            for (rel, store) in HOME_PLACES {
                let place = format!("{h}/{rel}");
                let covered = place.starts_with(&format!("{dpath}/"));
                let at = |p: &str| p == place || p.starts_with(&format!("{place}/"));
                if covered && (store || writes(drights)) && !used(&at, store) {
                    if let Some(p) = policy_text::pattern(&place, &params, "/**") {
                        denies.insert(p, store);
                    }
                }
            }
        }
        if writes(drights) {
            for rel in ANY_PLACES {
                let at =
                    |p: &str| p.contains(&format!("/{rel}/")) || p.ends_with(&format!("/{rel}"));
                if !used(&at, false) {
                    denies.insert(format!("**/{rel}/**"), false);
                }
            }
        }
    }
    let mut fs: BTreeMap<Vec<String>, BTreeSet<String>> = BTreeMap::new();
    for (t, (_, _, r)) in targets {
        fs.entry(r.into_iter().collect()).or_default().insert(t);
    }
    let launches: Vec<String> = o
        .launch
        .iter()
        .filter_map(|p| policy_text::pattern(p, &params, ""))
        .collect();
    skipped += o.launch.len() - launches.len();

    let policy = format!("learned-{}", cx.agent);
    // The rules, as trees printed by mxc-syntax (which quotes the patterns).
    let mut sections = Vec::new();
    let mut fs_rules = Vec::new();
    for (rights, targets) in &fs {
        let rights: Vec<&str> = rights.iter().map(String::as_str).collect();
        for t in targets {
            fs_rules.push(gen::rule(Effect::Allow, &rights, &[t.as_str()], None));
        }
    }
    for (right, target) in o.deny.iter().filter(|(r, _)| is_fs(r)) {
        if let Some(p) = policy_text::pattern(target, &params, "") {
            fs_rules.push(gen::rule(
                Effect::Deny,
                &[right.as_str()],
                &[p.as_str()],
                Some("refused in review"),
            ));
        }
    }
    for (d, store) in &denies {
        let rights: &[&str] = if *store {
            &["read", "write", "create", "delete"]
        } else {
            &["write", "create", "delete"]
        };
        fs_rules.push(gen::rule(
            Effect::Deny,
            rights,
            &[d.as_str()],
            Some("not used by the learned run"),
        ));
    }
    if !fs_rules.is_empty() {
        sections.push(gen::section(SectionKind::Fs, fs_rules));
    }
    let clean = |t: &str| -> String { t.chars().filter(|c| !c.is_control()).collect() };
    let mut net_rules = Vec::new();
    for (right, target) in &o.net {
        net_rules.push(gen::rule(
            Effect::Allow,
            &[right.as_str()],
            &[clean(target).as_str()],
            None,
        ));
    }
    for (right, target) in o.deny.iter().filter(|(r, _)| r == "connect" || r == "bind") {
        net_rules.push(gen::rule(
            Effect::Deny,
            &[right.as_str()],
            &[clean(target).as_str()],
            Some("refused in review"),
        ));
    }
    if !net_rules.is_empty() {
        sections.push(gen::section(SectionKind::Net, net_rules));
    }
    let app_denies: Vec<String> = o
        .deny
        .iter()
        .filter(|(r, _)| r == "launch")
        .filter_map(|(_, t)| policy_text::pattern(t.split(' ').next().unwrap_or(t), &params, ""))
        .collect();
    let mut app_rules: Vec<_> = launches
        .iter()
        .map(|a| gen::rule(Effect::Allow, &["launch"], &[a.as_str()], None))
        .collect();
    for a in &app_denies {
        app_rules.push(gen::rule(
            Effect::Deny,
            &["launch"],
            &[a.as_str()],
            Some("refused in review"),
        ));
    }
    if !app_rules.is_empty() {
        sections.push(gen::section(SectionKind::App, app_rules));
    }
    let body = gen::items(vec![gen::policy(&policy, sections)]);
    // The parameters the rules use.
    let used_params: BTreeSet<String> = body
        .split("${")
        .skip(1)
        .filter_map(|rest| rest.find('}').map(|e| rest[..e].to_string()))
        .collect();
    let mut header = format!(
        "Learned by {} for agent `{}`:\n    {}\n\
         It allows what was observed and nothing else. Review it before use: narrow\n\
         the paths to what the agent should need, and add `deny` rules for what it\n\
         must never reach.\n",
        cx.source,
        cx.agent,
        shell_words(&cx.command)
    );
    let mut run_again = match &cx.beside {
        None => format!("mxcc run FILE --agent {}-learned", cx.agent),
        Some(_) => format!("mxcc run POLICY-FILES FILE --agent {}-reviewed", cx.agent),
    };
    for name in params
        .names()
        .filter(|n| used_params.contains(*n) || *n == "home")
    {
        if name == "home" && !body.contains("\"~") {
            continue;
        }
        if declare_workspace.is_some() && name == "workspace" {
            continue;
        }
        if let Some(v) = params.value(name) {
            run_again.push_str(&format!(" --param {name}={v}"));
        }
    }
    header.push_str(&format!(
        "Run it: {run_again} -- {}\n",
        shell_words(&cx.command)
    ));
    if skipped > 0 {
        header.push_str(&format!(
            "{skipped} path(s) could not be written as a pattern (not UTF-8, or control \
             characters) and are left out.\n"
        ));
    }
    for (right, target) in &o.refused {
        header.push_str(&format!(
            "Refused while learning (a unix socket the run did not make): {right} {target}\n"
        ));
    }
    if declare_workspace.is_some() && used_params.contains("workspace") {
        header.push_str("`workspace` is the run's working directory.\n");
    }
    let mut out = gen::comment(header.trim_end_matches('\n'));
    out.push('\n');
    let declared: Vec<_> = used_params
        .iter()
        .filter(|name| {
            *name != "home"
                && !cx
                    .beside
                    .as_ref()
                    .is_some_and(|b| b.declared.contains(*name))
        })
        .map(|name| match (&declare_workspace, name.as_str()) {
            (Some(w), "workspace") => gen::param(name, "path", Some(w)),
            _ => gen::param(name, "path", None),
        })
        .collect();
    if !declared.is_empty() {
        out.push_str(&gen::items(declared));
        out.push('\n');
    }
    out.push_str(&body);
    out.push('\n');
    match &cx.beside {
        None => out.push_str(&gen::items(vec![gen::agent(
            &format!("{}-learned", cx.agent),
            cx.isolation,
            &[policy.as_str()],
        )])),
        Some(b) => {
            out.push_str(&gen::comment(&format!(
                "Agent `{a}` with these rules too. Its identity, limits, env and audit are not\n\
                 copied: to keep them, add `use {policy}` to agent `{a}` instead.",
                a = cx.agent
            )));
            let uses: Vec<&str> = b
                .uses
                .iter()
                .map(String::as_str)
                .chain(std::iter::once(policy.as_str()))
                .collect();
            out.push_str(&gen::items(vec![gen::agent(
                &format!("{}-reviewed", cx.agent),
                cx.isolation,
                &uses,
            )]));
        }
    }
    out
}

/// The words as a shell would need them (single-quoted where needed), on one line.
pub fn shell_words(words: &[String]) -> String {
    words
        .iter()
        .map(|w| {
            let plain = !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
            if plain {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
        .replace(|c: char| c.is_control(), " ")
}

/// Writes `text` to `out`, checks it with every lint, and puts each warning left (with
/// its reason) in a comment at the top. Returns the number of warnings.
/// With `beside`, the file is checked together with those files, and only what is
/// found in it is reported.
pub fn write_checked(
    out: &std::path::Path,
    text: &str,
    beside: &[std::path::PathBuf],
) -> std::io::Result<usize> {
    std::fs::write(out, text)?;
    let mut files = beside.to_vec();
    files.push(out.to_path_buf());
    let Ok(p) = mxc_lang::check_paths(&files) else {
        return Ok(0);
    };
    let ours = p.sources.find(out);
    let notes: Vec<String> = p
        .diags
        .iter()
        .filter(|d| ours.is_none() || d.primary.is_some_and(|s| Some(s.file) == ours))
        .map(|d| {
            let at = d
                .primary
                .and_then(|s| {
                    p.sources
                        .get(s.file)
                        .map(|f| f.line_col(s.start as usize).0)
                })
                .and_then(|l| text.lines().nth(l.wrapping_sub(1)))
                .map(|l| format!(" at `{}`", l.trim()))
                .unwrap_or_default();
            gen::comment(&format!(
                "mxcc check: {}[{}]: {}{at}: the run needed this; review it",
                if d.is_error() { "error" } else { "warning" },
                d.code.as_str(),
                d.message.replace('\n', " ")
            ))
        })
        .collect();
    if notes.is_empty() {
        return Ok(0);
    }
    let mut t = text.to_string();
    add_to_header(&mut t, &notes.concat());
    std::fs::write(out, t)?;
    Ok(notes.len())
}

/// Puts `comments` at the end of a learned file's header (the comments before its first
/// blank line).
pub fn add_to_header(text: &mut String, comments: &str) {
    let cut = text.find("\n\n").map_or(0, |i| i + 1);
    text.insert_str(cut, comments);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(fs: &[(&str, &[&str])], launch: &[&str]) -> Observed {
        let mut o = Observed::default();
        for (p, rs) in fs {
            o.fs.insert(p.to_string(), rs.iter().map(|r| r.to_string()).collect());
        }
        o.launch = launch.iter().map(|s| s.to_string()).collect();
        o
    }

    fn cx(params: &[(&str, &str)], workspace: Option<&str>) -> Context<'static> {
        Context {
            agent: "a",
            isolation: "process",
            source: "test".into(),
            params: Params::new(params.iter().copied()),
            workspace: workspace.map(str::to_string),
            command: vec!["cmd".into(), "a b".into()],
            beside: None,
        }
    }

    /// The learned policy is printed by mxc-syntax: canonical (`mxcc fmt` leaves it as it
    /// is), and names with quotes, backslashes, glob characters and `$` read back as
    /// rules matching exactly those paths.
    #[test]
    fn learned_text_is_printed_canonically_and_reads_back_exactly() {
        let odd = ["/w/a \"q\" b", "/w/back\\slash", "/w/x*y{z}$", "/w/end\\"];
        let fs: Vec<(&str, &[&str])> = odd.iter().map(|p| (*p, &["read"][..])).collect();
        let s = render(&obs(&fs, &[]), &cx(&[], None));
        assert_eq!(
            mxc_syntax::print::format(mxc_syntax::source::FileId(0), &s).unwrap(),
            s,
            "canonical"
        );
        let p = mxc_lang::check_source_without_lints("learned.mxc", &s);
        assert!(!p.diags.iter().any(|d| d.is_error()), "{s}\n{:?}", p.diags);
        let (table, _) = mxc_lang::compile::compile_agent(
            &p,
            "a-learned",
            &Default::default(),
            mxc_lang::compile::Target::Linux,
        )
        .expect("compiles");
        let engine = mxc_eval::Engine::from_table(table).expect("loads");
        for path in odd {
            let d = engine.fs(path.as_bytes(), mxc_eval::FsRight::Read);
            assert_eq!(d.effect, mxc_eval::Effect::Allow, "{path} in\n{s}");
            let near = format!("{path}x");
            let d = engine.fs(near.as_bytes(), mxc_eval::FsRight::Read);
            assert_ne!(d.effect, mxc_eval::Effect::Allow, "{near} in\n{s}");
        }
    }

    #[test]
    fn home_and_workspace_are_parameters_and_grants_stay_narrow() {
        let o = obs(
            &[
                ("/home/u/.gitconfig", &["read"]),
                ("/home/u/.bash_history", &["create", "write"]),
                ("/home/u/.cache/pip/x/y", &["create", "write"]),
                ("/home/u/.cache/pip/x", &["create"]),
                ("/w/src/main.rs", &["read", "write"]),
                ("/w/build/out.o", &["create", "write"]),
                ("/w/build/out.o.tmp", &["create", "write", "delete"]),
                ("/proc/42/status", &["read"]),
                ("/newfile", &["create"]),
                ("/tmp/abc123", &["create", "write", "delete"]),
            ],
            &["/usr/bin/git", "/w/tools/run"],
        );
        let s = render(&o, &cx(&[("home", "/home/u")], Some("/w")));
        assert!(s.contains("param workspace: path = \"/w\""), "{s}");
        assert!(s.contains("allow read \"~/.gitconfig\""), "{s}");
        // Made in ~ itself: file by file, never `~/**`.
        assert!(s.contains("allow create, write \"~/.bash_history\""), "{s}");
        assert!(!s.contains("\"~/**\""), "{s}");
        assert!(
            s.contains("\"~/.cache/pip/x/**\"") && s.contains("\"~/.cache/pip/**\""),
            "{s}"
        );
        assert!(
            s.contains("allow read, write \"${workspace}/src/main.rs\""),
            "{s}"
        );
        assert!(
            s.contains("allow create, delete, write \"${workspace}/build/**\""),
            "{s}"
        );
        assert!(!s.contains("out.o"), "{s}");
        assert!(s.contains("allow read \"/proc/*/status\""), "{s}");
        // Made in `/`: the file, not `/**`.
        assert!(s.contains("allow create \"/newfile\""), "{s}");
        assert!(s.contains("\"/tmp/**\""), "{s}");
        assert!(s.contains("allow launch \"${workspace}/tools/run\""), "{s}");
        // What the grants would expose and the run did not touch is denied.
        assert!(
            s.contains("deny write, create, delete \"**/.git/hooks/**\""),
            "{s}"
        );
        assert!(
            s.contains(
                "// Run it: mxcc run FILE --agent a-learned --param home=/home/u -- cmd 'a b'"
            ),
            "{s}"
        );
        // Read (as git reads its hooks), not written: still denied for writing; a
        // credential store a grant covers is denied for reading too.
        let o = obs(
            &[
                ("/w/.git/hooks/pre-commit", &["read"]),
                ("/w/.git/index.lock", &["create", "write", "delete"]),
            ],
            &[],
        );
        let s = render(&o, &cx(&[("home", "/home/u")], Some("/w")));
        assert!(
            s.contains("deny write, create, delete \"**/.git/hooks/**\""),
            "{s}"
        );
        let o = obs(
            &[
                ("/home/u/.config/x/new", &["create"]),
                ("/home/u/.config/new", &["create"]),
            ],
            &[],
        );
        let s = render(&o, &cx(&[("home", "/home/u")], Some("/w")));
        assert!(
            s.contains("deny read, write, create, delete \"~/.config/gh/**\""),
            "{s}"
        );
        assert!(
            s.contains("deny write, create, delete \"~/.config/autostart/**\""),
            "{s}"
        );
    }
}
