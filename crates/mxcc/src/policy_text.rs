//! Patterns for policy text people review: a concrete path as a pattern that
//! matches exactly it, with `~` and `${PARAM}` in place of the parameters' values
//! (used by `run --explain`, `run --learn` and `learn`).
//!
//! **Invariant:** the pattern written for a path matches that path (with the same
//! parameter values) and no other: glob characters and `$` in names are escaped, and a
//! name that cannot be written (control characters, not UTF-8) gives `None`.

/// `path` as a pattern matching exactly it (the value of a string literal: the
/// printer of `mxc-syntax` writes the literal, quotes and backslashes escaped).
pub fn literal(path: &str) -> Option<String> {
    let mut out = String::new();
    for c in path.chars() {
        match c {
            '*' | '?' | '[' | ']' | '{' | '}' | '$' => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            c if c.is_control() => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// The `path` parameters a pattern may be written with: (name, value), the longest
/// value first (the nearest parameter wins), `home` among them when known.
#[derive(Clone, Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// From bound parameter values: those that are absolute paths (other than `/`).
    pub fn new<'a>(values: impl IntoIterator<Item = (&'a str, &'a str)>) -> Params {
        let mut v: Vec<(String, String)> = values
            .into_iter()
            .filter(|(_, v)| v.starts_with('/') && *v != "/")
            .map(|(k, v)| (k.to_string(), v.trim_end_matches('/').to_string()))
            .collect();
        v.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
        Params(v)
    }

    /// The parameter whose value holds `path` (the nearest), and the rest of the path
    /// after it (empty, or starting with `/`).
    pub fn under<'a>(&self, path: &'a str) -> Option<(&str, &'a str)> {
        self.0.iter().find_map(|(k, v)| {
            let rest = path.strip_prefix(v.as_str())?;
            (rest.is_empty() || rest.starts_with('/')).then_some((k.as_str(), rest))
        })
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// (name, value) pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn value(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `path` as a pattern (a string value; `mxc_syntax::gen` prints it): `~/...` under `home`, `${NAME}/...`
/// under another parameter, else the literal path. `suffix` is appended unescaped
/// (`/**`).
pub fn pattern(path: &str, params: &Params, suffix: &str) -> Option<String> {
    let (head, rest) = match params.under(path) {
        Some(("home", rest)) => ("~".to_string(), rest),
        Some((name, rest)) => (format!("${{{name}}}"), rest),
        None => (String::new(), path),
    };
    let mut out = head + &literal(rest)?;
    if out.is_empty() {
        out.push('/');
    }
    if !suffix.is_empty() {
        if out.ends_with('/') {
            out.pop();
        }
        out.push_str(suffix);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_parameters_and_escaped_literals() {
        let p = Params::new([
            ("home", "/home/a"),
            ("workspace", "/home/a/src/app/"),
            ("name", "not-a-path"),
        ]);
        assert_eq!(
            pattern("/home/a/src/app/x.rs", &p, "").as_deref(),
            Some("${workspace}/x.rs")
        );
        assert_eq!(
            pattern("/home/a/.ssh/id", &p, "").as_deref(),
            Some("~/.ssh/id")
        );
        assert_eq!(pattern("/home/ab", &p, "").as_deref(), Some("/home/ab"));
        assert_eq!(pattern("/home/a", &p, "/**").as_deref(), Some("~/**"));
        assert_eq!(
            pattern("/w/a*{b}$", &p, "").as_deref(),
            Some("/w/a[*][{]b[}][$]")
        );
        assert_eq!(pattern("/w/d", &p, "/**").as_deref(), Some("/w/d/**"));
        assert_eq!(pattern("/", &p, "/**").as_deref(), Some("/**"));
        assert_eq!(pattern("/w/\u{1b}x", &p, ""), None);
        assert_eq!(p.names().collect::<Vec<_>>(), ["workspace", "home"]);
    }
}
