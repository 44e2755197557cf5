//! Policy text made by programs (`mxcc run --learn`, `mxcc learn --from-audit`, the rule
//! `mxcc run --explain` proposes): trees built from values and printed by
//! [`crate::print`], and comments written as comments, so that every `.mxc` text MXC
//! writes comes from this crate and reads back as what was built.

use crate::ast::*;
use crate::print;
use crate::source::Span;

fn ident(name: &str) -> Ident {
    Ident {
        name: name.to_string(),
        span: Span::default(),
    }
}

fn string(value: &str) -> StrLit {
    StrLit {
        value: value.to_string(),
        span: Span::default(),
        verbatim: false,
    }
}

/// A rule: `EFFECT RIGHTS "TARGET", ...` and, with `because`, its reason. Targets are
/// string values (patterns as the language reads them; the printer quotes them).
pub fn rule(effect: Effect, rights: &[&str], targets: &[&str], because: Option<&str>) -> Rule {
    Rule::Ok(RuleNode {
        effect,
        effect_span: Span::default(),
        rights: rights.iter().map(|r| ident(r)).collect(),
        targets: targets.iter().map(|t| Elem::Str(string(t))).collect(),
        modifiers: because
            .map(|r| Modifier::Because {
                kw: Span::default(),
                reason: string(r),
            })
            .into_iter()
            .collect(),
        span: Span::default(),
    })
}

/// A section of rules.
pub fn section(kind: SectionKind, rules: Vec<Rule>) -> Section {
    Section::Ok {
        kind,
        kw_span: Span::default(),
        rules,
        span: Span::default(),
    }
}

/// `policy NAME { SECTIONS }`.
pub fn policy(name: &str, sections: Vec<Section>) -> Item {
    Item::Policy(Policy {
        name: ident(name),
        sections,
        span: Span::default(),
    })
}

/// `agent NAME { isolation ISOLATION  use POLICIES }`.
pub fn agent(name: &str, isolation: &str, uses: &[&str]) -> Item {
    Item::Agent(Agent {
        name: ident(name),
        stmts: vec![
            AgentStmt::Isolation {
                kw: Span::default(),
                value: ident(isolation),
            },
            AgentStmt::Use {
                kw: Span::default(),
                policies: uses.iter().map(|u| ident(u)).collect(),
            },
        ],
        span: Span::default(),
    })
}

/// `param NAME: TYPE` with an optional default value.
pub fn param(name: &str, ty: &str, default: Option<&str>) -> Item {
    Item::Param(Param {
        name: ident(name),
        ty: ident(ty),
        default: default.map(string),
        span: Span::default(),
    })
}

/// Items printed in the canonical layout.
pub fn items(items: Vec<Item>) -> String {
    print::print(&File { items })
}

/// `text` as line comments, one `// ` line per line of it; control characters become
/// spaces, so a comment can never end early and let text through as policy.
pub fn comment(text: &str) -> String {
    let mut out = String::new();
    for line in text.split('\n') {
        let line: String = line
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let line = line.trim_end();
        if line.is_empty() {
            out.push_str("//\n");
        } else {
            out.push_str("// ");
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// One rule in its section, on one line: `fs { allow read "/x" }` (what `--explain`
/// proposes to add).
pub fn one_rule(kind: SectionKind, rule: Rule) -> String {
    let printed = items(vec![policy("p", vec![section(kind, vec![rule])])]);
    // The printed policy is `policy p {`, `  KIND {`, the rule's lines, `  }`, `}`.
    let lines: Vec<&str> = printed.lines().map(str::trim).collect();
    let inner = lines.get(2..lines.len().saturating_sub(2)).unwrap_or(&[]);
    format!("{} {{ {} }}", kind.as_str(), inner.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    #[test]
    fn built_items_print_canonically_and_read_back_as_built() {
        let text = items(vec![
            param("workspace", "path", Some("/w/a \"b\"")),
            policy(
                "learned-a",
                vec![section(
                    SectionKind::Fs,
                    vec![
                        rule(
                            Effect::Allow,
                            &["read", "write"],
                            &["/w/[*]x\\y", "~/.cache/**"],
                            None,
                        ),
                        rule(
                            Effect::Deny,
                            &["write"],
                            &["${workspace}/.git/**"],
                            Some("never"),
                        ),
                    ],
                )],
            ),
            agent("a-learned", "process", &["learned-a"]),
        ]);
        let (tree, diags) = crate::parser::parse(FileId(0), &text);
        assert!(diags.is_empty(), "{text}\n{diags:?}");
        assert_eq!(print::format(FileId(0), &text).unwrap(), text, "canonical");
        let Item::Param(p) = &tree.items[0] else {
            panic!("{text}")
        };
        assert_eq!(p.default.as_ref().unwrap().value, "/w/a \"b\"");
        let Item::Policy(pol) = &tree.items[1] else {
            panic!("{text}")
        };
        let Section::Ok { rules, .. } = &pol.sections[0] else {
            panic!()
        };
        let Rule::Ok(r) = &rules[0] else { panic!() };
        let targets: Vec<&str> = r
            .targets
            .iter()
            .map(|t| match t {
                Elem::Str(s) => s.value.as_str(),
                Elem::Name(n) => n.name.as_str(),
            })
            .collect();
        assert_eq!(targets, ["/w/[*]x\\y", "~/.cache/**"]);
    }

    #[test]
    fn a_comment_cannot_end_early() {
        let c = comment("first\nsecond\r}\u{1b}\n");
        assert_eq!(c, "// first\n// second }\n//\n");
        let (tree, diags) = crate::parser::parse(FileId(0), &c);
        assert!(diags.is_empty() && tree.items.is_empty(), "{c}");
    }

    #[test]
    fn one_rule_is_one_line() {
        let r = rule(Effect::Allow, &["read"], &["/a \"q\"/b"], None);
        assert_eq!(
            one_rule(SectionKind::Fs, r),
            r#"fs { allow read "/a \"q\"/b" }"#
        );
    }
}
