//! Lexical normalisation of request paths (SPEC §10): `//`, `.`, `..` and a trailing
//! `/`, without looking anything up on disk.
//!
//! Not on the decision path: it may allocate. It must never touch the filesystem
//! (symlinks are the enforcement layer's business) and never let `..` climb above the
//! root.

/// Normalises an absolute path lexically, or returns `None` for a relative one.
///
/// - Unix paths (starting with `/`): repeated `/` collapse, `.` components go, `..`
///   removes the previous component (never climbing above `/`), a trailing `/` goes.
///   The root stays `/`. A `\` is an ordinary character.
/// - Windows drive paths (`C:/...` or `C:\...`): `\` becomes `/`, the drive letter is
///   uppercased, then the same rules apply below the drive; the drive root is `C:/`.
///   `C:` alone and `C:foo` (drive-relative) are relative.
///
/// ```
/// use mxc_eval::normalize_path;
/// assert_eq!(normalize_path("/a//b/./c/../d/").as_deref(), Some("/a/b/d"));
/// assert_eq!(normalize_path("/../etc").as_deref(), Some("/etc"));
/// assert_eq!(normalize_path(r"c:\Users\.\a\..\B\").as_deref(), Some("C:/Users/B"));
/// assert_eq!(normalize_path("relative/path"), None);
/// ```
pub fn normalize_path(p: &str) -> Option<String> {
    if let Some(rest) = p.strip_prefix('/') {
        return Some(join("/", rest.split('/')));
    }
    let mut chars = p.chars();
    let (drive, colon, sep) = (chars.next()?, chars.next()?, chars.next()?);
    if drive.is_ascii_alphabetic() && colon == ':' && (sep == '/' || sep == '\\') {
        let prefix = format!("{}:/", drive.to_ascii_uppercase());
        return Some(join(&prefix, chars.as_str().split(['/', '\\'])));
    }
    None
}

/// `prefix` (the root, ending in `/`) followed by the normalised components.
fn join<'a>(prefix: &str, components: impl Iterator<Item = &'a str>) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for c in components {
        match c {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            c => kept.push(c),
        }
    }
    let mut out = String::from(prefix);
    for (i, c) in kept.iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize_path as n;

    #[test]
    fn unix() {
        let cases = [
            ("/", "/"),
            ("//", "/"),
            ("/.", "/"),
            ("/..", "/"),
            ("/../..", "/"),
            ("/a", "/a"),
            ("/a/", "/a"),
            ("/a//b///c", "/a/b/c"),
            ("/a/./b/.", "/a/b"),
            ("/a/b/..", "/a"),
            ("/a/b/../..", "/"),
            ("/a/b/../../../c", "/c"),
            ("/a/..b/c..", "/a/..b/c.."),
            ("/a/.../b", "/a/.../b"),
            ("/home/u/.env", "/home/u/.env"),
            ("/a\\b", "/a\\b"),
            ("/ä/ö/..", "/ä"),
        ];
        for (input, want) in cases {
            assert_eq!(n(input).as_deref(), Some(want), "{input:?}");
        }
    }

    #[test]
    fn windows() {
        let cases = [
            ("C:/", "C:/"),
            ("c:\\", "C:/"),
            ("C:\\Users\\a", "C:/Users/a"),
            ("d:/x//y\\\\z/", "D:/x/y/z"),
            ("C:\\..\\Windows", "C:/Windows"),
            ("C:/a/./b/../c", "C:/a/c"),
        ];
        for (input, want) in cases {
            assert_eq!(n(input).as_deref(), Some(want), "{input:?}");
        }
    }

    #[test]
    fn relative() {
        for input in [
            "", "a", "a/b", "./a", "../a", "C:", "C:foo", "1:/a", "\\a", "~/a", "ä:/x",
        ] {
            assert_eq!(n(input), None, "{input:?}");
        }
    }
}
