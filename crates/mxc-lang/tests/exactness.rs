//! Issue 10, part 1: patterns and requests that were decided wrongly. Each case is
//! answered by the compiled engine and by the reference interpreter (`interp`, written
//! from SPEC §4.1 over the pattern's text), and both must give the expected effect.

use mxc_lang::request::parse_request;
use mxc_lang::{bind, compile, interp, query};
use std::collections::BTreeMap;

/// Checks `src` (which must have no diagnostics at all), binds agent `a` and asks each
/// request of `cases`: (request, expected effect).
fn decide_all(src: &str, params: &[(&str, &str)], windows: bool, cases: &[(&str, &str)]) {
    let prog = mxc_lang::check_source("x.mxc", src);
    assert!(!prog.diags.has_errors(), "{src}\n{:?}", prog.diags);
    let params: BTreeMap<String, String> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let b = bind::bind(&prog.model, "a", &params, windows).expect("binds");
    let table = compile::compile_bound(&b, &prog.sources).expect("compiles");
    let e = mxc_eval::Engine::from_table(table).expect("valid table");
    for (q, want) in cases {
        let r = parse_request(q, windows).unwrap_or_else(|m| panic!("{q}: {m}"));
        let got = query::decide_engine(&e, &r);
        let reference = interp::decide(&b, &r);
        assert_eq!(got.effect.as_str(), *want, "engine: `{q}` under\n{src}");
        assert_eq!(
            reference.effect.as_str(),
            *want,
            "interp: `{q}` under\n{src}"
        );
        assert_eq!(got.rule.map(|x| x.0 as usize), reference.rule, "`{q}`");
    }
}

fn fs_policy(rules: &str) -> String {
    format!("param w: path\npolicy p {{ fs {{ {rules} }} }}\nagent a {{ use p }}\n")
}

/// `{*,a}*` is two `*`s of one component (they were never written together), not `**`.
#[test]
fn alternatives_beside_stars_stay_in_their_component() {
    decide_all(
        &fs_policy(r#"allow read "/x/{*,a}*""#),
        &[],
        false,
        &[
            ("read /x/q", "allow"),
            ("read /x/abc", "allow"),
            ("read /x/q/r/s", "deny"),
            ("read /x/q/r", "deny"),
            ("read /x", "deny"),
        ],
    );
    decide_all(
        &fs_policy(r#"allow read "/x/{a,*}*/y""#),
        &[],
        false,
        &[
            ("read /x/q/y", "allow"),
            ("read /x/q/r/y", "deny"),
            ("read /x/y", "deny"),
        ],
    );
}

/// `*{*.log,.gz}` contains no `**`: it is valid (was E0005) and means `*.log` or `*.gz`.
#[test]
fn a_star_before_alternatives_with_stars_is_valid() {
    let src = fs_policy(r#"allow read "/logs/*{*.log,.gz}""#);
    let prog = mxc_lang::check_source("x.mxc", &src);
    assert!(
        !prog.diags.iter().any(|d| d.code == mxc_lang::Code::E0005),
        "{:?}",
        prog.diags
    );
    decide_all(
        &src,
        &[],
        false,
        &[
            ("read /logs/a.log", "allow"),
            ("read /logs/.log", "allow"),
            ("read /logs/x.gz", "allow"),
            ("read /logs/a/b.log", "deny"),
            ("read /logs/a.txt", "deny"),
            ("read /logs", "deny"),
        ],
    );
    // Written together, `**` is still a whole component only.
    let bad = mxc_lang::check_source("x.mxc", &fs_policy(r#"allow read "/logs/**.log""#));
    assert!(bad.diags.has_errors());
}

/// SPEC §4.1: `*` matches a possibly empty run, so a pattern whose text can be `/`
/// matches the root.
#[test]
fn patterns_that_can_be_slash_match_the_root() {
    for pat in ["/*", "**/*", "/*/**", "/**", "/", "/{a,*}", "**"] {
        decide_all(
            &fs_policy(&format!("allow read {pat:?}")),
            &[],
            false,
            &[("read /", "allow")],
        );
    }
    for pat in ["/?", "/?*", "**/?", "/*/*", "/a/**", "**/.env", "/[!a]*"] {
        decide_all(
            &fs_policy(&format!("allow read {pat:?}")),
            &[],
            false,
            &[("read /", "deny")],
        );
    }
    // Normalised request paths never end in `/` below the root: `/a/*` matches what is
    // in `/a`, not `/a` itself.
    decide_all(
        &fs_policy(r#"allow read "/a/*""#),
        &[],
        false,
        &[
            ("read /a", "deny"),
            ("read /a/", "deny"),
            ("read /a/b", "allow"),
        ],
    );
    // Windows: the drive root likewise.
    decide_all(
        &fs_policy(r#"allow read "C:/*""#),
        &[],
        true,
        &[
            ("read C:/", "allow"),
            ("read c:\\", "allow"),
            ("read D:/", "deny"),
        ],
    );
}

/// SPEC §10: for fs rights the target is the rest of the argument, spaces included.
#[test]
fn request_paths_may_contain_spaces() {
    let r = parse_request("read /odd dir/x", false).expect("parses");
    assert_eq!(r.to_string(), "read /odd dir/x");
    decide_all(
        &fs_policy(r#"allow read "/odd dir/*" deny read "/odd dir/ x""#),
        &[],
        false,
        &[
            ("read /odd dir/x", "allow"),
            ("read   /odd dir/a b ", "allow"),
            ("read /odd dir/ x", "deny"),
            ("read /odd", "deny"),
        ],
    );
    assert!(parse_request("read", false).is_err());
    assert!(parse_request("read   ", false).is_err());
    assert!(parse_request("read odd dir", false).is_err());
}

/// Text from a parameter value is literal even where it holds glob characters, and an
/// alternative next to it stays an alternative.
#[test]
fn parameter_values_with_glob_characters_are_literal() {
    decide_all(
        &fs_policy(r#"allow read "${w}/{*,a}*""#),
        &[("w", "/w{a,*}[x]**")],
        false,
        &[
            ("read /w{a,*}[x]**/q", "allow"),
            ("read /w{a,*}[x]**/q/r", "deny"),
            ("read /wa[x]**/q", "deny"),
            ("read /wax/q", "deny"),
        ],
    );
}
