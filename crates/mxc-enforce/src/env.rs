//! Environment scrubbing (SPEC §5): only variables matching a `pass` glob and no
//! `deny` glob reach the sandbox. Globs: `*` any run of characters, `?` one character.

use std::ffi::{OsStr, OsString};

/// Whether `name` matches `glob` (`*` and `?`; everything else literal).
pub fn glob_match(glob: &str, name: &str) -> bool {
    let g = glob.as_bytes();
    let n = name.as_bytes();
    // Iterative wildcard matching with one backtrack point (linear for `*` runs).
    let (mut gi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match g.get(gi) {
            Some(b'*') => {
                star = Some((gi, ni));
                gi += 1;
            }
            Some(&c) if c == b'?' || c == n[ni] => {
                gi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sg, sn)) => {
                    gi = sg + 1;
                    ni = sn + 1;
                    star = Some((sg, sn + 1));
                }
                None => return false,
            },
        }
    }
    g[gi.min(g.len())..].iter().all(|&c| c == b'*')
}

/// Keeps the variables of `vars` that pass. Names that are not UTF-8 never pass.
pub fn scrub(
    vars: impl IntoIterator<Item = (OsString, OsString)>,
    pass: &[String],
    deny: &[String],
) -> Vec<(OsString, OsString)> {
    vars.into_iter()
        .filter(|(k, _)| passes(k, pass, deny))
        .collect()
}

fn passes(name: &OsStr, pass: &[String], deny: &[String]) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    pass.iter().any(|g| glob_match(g, name)) && !deny.iter().any(|g| glob_match(g, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("LC_*", "LC_ALL"));
        assert!(glob_match("*_TOKEN", "GITHUB_TOKEN"));
        assert!(!glob_match("*_TOKEN", "TOKEN"));
        assert!(glob_match("A?C", "ABC"));
        assert!(!glob_match("PATH", "PATHX"));
        assert!(glob_match("*", ""));
        assert!(glob_match("*A*B*", "xxAyyBzz"));
    }

    #[test]
    fn deny_wins() {
        let vars = [
            ("PATH", "/bin"),
            ("GH_TOKEN", "s"),
            ("AWS_KEY", "k"),
            ("LANG", "C"),
        ]
        .map(|(a, b)| (OsString::from(a), OsString::from(b)));
        let kept = scrub(
            vars,
            &[
                "PATH".into(),
                "*_TOKEN".into(),
                "LANG".into(),
                "AWS_*".into(),
            ],
            &["*_TOKEN".into(), "AWS_*".into()],
        );
        let names: Vec<_> = kept.iter().map(|(k, _)| k.to_str().unwrap()).collect();
        assert_eq!(names, ["PATH", "LANG"]);
    }
}
