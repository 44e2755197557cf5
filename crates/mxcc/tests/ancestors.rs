//! `Engine::fs_ancestor`: which directories lie on the way to a path an allow or ask
//! rule can match (SPEC §1's exception for metadata and traversal).

use mxc_eval::FsRight;
use mxc_lang::compile;
use std::collections::BTreeMap;

fn engine(src: &str) -> mxc_eval::Engine {
    compile::engine_of_source(src, "a", &BTreeMap::new()).expect(src)
}

#[test]
fn literal_prefixes_are_ancestors() {
    let e = engine(
        r#"policy p { fs {
            allow read "/usr/**"
            allow all "/home/u/work/**"
            deny all "/home/u/work/secret/**"
            ask write "/srv/data/*.csv"
            allow read "/etc/hostname"
        } }
        agent a { isolation process use p }"#,
    );
    for d in [
        "/",
        "/usr",
        "/usr/",
        "/usr/lib/x",
        "/home",
        "/home/u",
        "/home/u/work",
        "/srv",
        "/srv/data",
        "/etc",
    ] {
        assert!(e.fs_ancestor(d.as_bytes()), "{d}");
    }
    for d in [
        "/home/v",
        "/home/u/other",
        "/home/u/work/secret",
        "/home/u/work/secret/a",
        "/srv/data/x.csv",
        "/etc/hostname",
        "/var",
        "/us",
        "/usrx",
    ] {
        assert!(!e.fs_ancestor(d.as_bytes()), "{d}");
    }
}

#[test]
fn anywhere_rules_make_every_directory_an_ancestor() {
    let e = engine(
        r#"policy p { fs { allow read "**/*.md" } }
        agent a { isolation process use p }"#,
    );
    for d in ["/", "/var/lib", "/x/y/z"] {
        assert!(e.fs_ancestor(d.as_bytes()), "{d}");
    }
    // Only denials: nothing is an ancestor.
    let e = engine(
        r#"policy p { fs { deny all "**/.git/hooks/*" } }
        agent a { isolation process use p }"#,
    );
    assert!(!e.fs_ancestor(b"/"));
    // A default of ask: everything may be reachable.
    let e = engine(
        r#"policy p { fs { deny all "/x/**" } }
        agent a { isolation process default ask use p }"#,
    );
    assert!(e.fs_ancestor(b"/x"));
}

/// A symbolic link may not make a name appear below a place more protected than where
/// the name really is (`.git/hooks` → a directory the agent may fill).
#[test]
fn links_may_not_point_a_protected_place_elsewhere() {
    let e = engine(
        r#"policy p { fs {
            allow all "/w/**"
            deny all "/w/secret/**"
            deny create, write "**/.git/hooks/*"
            allow read "/usr/**"
        } }
        agent a { isolation process use p }"#,
    );
    let cw = [FsRight::Create, FsRight::Write];
    let t = |l: &str, t: &str| e.fs_not_stricter_below(l.as_bytes(), t.as_bytes(), &cw);
    assert_eq!(t("/w/r/.git/hooks", "/w/tpl/hooks"), Some(false));
    assert_eq!(t("/w/r/.git", "/w/tpl"), Some(false));
    assert_eq!(t("/w/r", "/w/tpl"), Some(true));
    // Pointing into a more protected place is fine (what lies there is decided there).
    assert_eq!(t("/w/link", "/usr/lib"), Some(true));
    assert_eq!(t("/w/s", "/w/secret"), Some(true));
    // The other way round is not.
    assert_eq!(t("/w/secret/x", "/w/y"), Some(false));
}
