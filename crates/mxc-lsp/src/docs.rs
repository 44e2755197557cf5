//! Short documentation of keywords, rights and statement words, for hover and
//! completion (from SPEC §1–§8 and docs/language.md).

/// The documentation of a keyword of SPEC §2, or of a contextual word (rights,
/// isolation tiers, identity kinds, ...).
pub fn word(w: &str) -> Option<&'static str> {
    Some(match w {
        "import" => "`import \"FILE\"` brings another file's items into scope (the path is relative to this file; `std:NAME.mxc` names the standard library). Importing twice is harmless; a cycle is an error (E0008).",
        "param" => "`param NAME: path|string (= \"DEFAULT\")?` declares a value given from outside (`--param NAME=VALUE`, an embedding runtime or a test's `with`). Used in patterns as `${NAME}`; `home` is always declared and `~` means `${home}`.",
        "let" => "`let NAME = \"...\"` or `let NAME = [...]` names a pattern or a list of patterns, usable wherever a target is written.",
        "policy" => "`policy NAME { fs {...} net {...} app {...} }`: a set of rules in sections. Agents `use` policies.",
        "agent" => "`agent NAME { ... }`: a program running under an identity in a sandbox; its `use` list names its policies in evaluation order. In a test, `agent NAME` picks the agent the expectations are about.",
        "test" => "`test \"NAME\" { agent ... with ... expect ... }`: expectations checked by `mxcc test`.",
        "fs" => "`fs { ... }`: file-system rules. Rights: `read`, `write`, `create`, `delete` (`all` = the four). Targets are path patterns.",
        "net" => "`net { ... }`: network rules. Rights: `connect`, `bind` (`all` = both). Targets are `[proto://]host[:ports]`; `from PATTERNS` scopes a rule to the programs asking.",
        "app" => "`app { ... }`: program launches. Right: `launch`. Targets are program path patterns; `args \"GLOB\"` restricts the arguments.",
        "allow" => "`allow`: the access is granted, unless a `deny` or `ask` rule of the agent also matches (deny > ask > allow, whatever the order).",
        "ask" => "`ask`: the access is held and a person or broker is asked; where no one can answer, it is a denial. Wins over `allow`, loses to `deny`.",
        "deny" => "`deny`: the access is refused. A matching `deny` always wins. As an agent's `default`, what happens when no rule matches.",
        "from" => "`from PATTERNS` (net rules only): the rule matches only requests that name their program and whose program matches one of the path patterns.",
        "args" => "`args \"GLOB\"` (app rules only): the rule matches only launches whose arguments, joined by single spaces, match GLOB (`*` any characters, `?` any one).",
        "because" => "`because \"REASON\"`: the reason shown with a decision this rule makes.",
        "identity" => "`identity local(user: \"NAME\") | local(uid: N) | entra(tenant:, client:) | oidc(issuer:, subject:, audience:)`: who the agent runs as; every audit record carries it.",
        "isolation" => "`isolation process | container | microvm`: the sandbox tier. A backend that cannot provide it refuses to start the agent.",
        "default" => "`default deny | ask`: the effect when no rule of the agent matches (deny when absent).",
        "use" => "`use POLICY, ...`: the agent's policies, in evaluation order (the order names the deciding rule, never the effect). At least one is required.",
        "limits" => "`limits { memory 4GiB processes 256 timeout 30m cpu 2 }`: resource limits of the sandbox.",
        "env" => "`env { pass \"GLOB\", ... deny \"GLOB\", ... }`: environment variables passed into the sandbox; `deny` wins over `pass`. Without it only `PATH LANG LC_* TERM HOME USER TZ` pass.",
        "ui" => "`ui { clipboard deny display deny }`: access to the clipboard and the display.",
        "audit" => "`audit all | denials | none`: which decisions are written to the audit log (`denials` when absent).",
        "expect" => "`expect EFFECT RIGHT \"TARGET\" (from \"PROGRAM\")? (args \"ARGS\")?`: the decision a request must get.",
        "with" => "`with NAME = \"VALUE\", ...`: parameter values for a test.",
        "read" => "`read` (fs): open for reading, list a directory, look at metadata (stat, access, readlink, extended attributes, whether the name exists).",
        "write" => "`write` (fs): modify or truncate an existing file, or change its metadata (mode, owner, times, extended attributes).",
        "create" => "`create` (fs): make a file, directory, symlink, fifo or socket, or move or link something into the place.",
        "delete" => "`delete` (fs): remove, or move something out of the place.",
        "all" => "`all`: every right of the section (fs: read, write, create, delete; net: connect, bind; app: launch).",
        "connect" => "`connect` (net): open a connection to (or send to) the host and port.",
        "bind" => "`bind` (net): listen on the local address and port.",
        "launch" => "`launch` (app): start the program (execve / CreateProcess).",
        "process" => "`process`: kernel access control on the agent's processes (Landlock, seccomp, a supervisor).",
        "container" => "`container`: the process tier plus private namespaces and a file-system view built from the policy.",
        "microvm" => "`microvm`: the agent runs in a hardware-virtualised micro-VM.",
        "local" => "`local(user: \"NAME\")` or `local(uid: N)`: a local user account.",
        "entra" => "`entra(tenant: \"...\", client: \"...\")`: a Microsoft Entra workload identity.",
        "oidc" => "`oidc(issuer: \"https://...\", subject: \"...\", audience: \"...\")`: an OpenID Connect identity.",
        "denials" => "`denials`: audit the denials only (the default).",
        "none" => "`none`: no audit records.",
        "pass" => "`pass \"GLOB\", ...`: variables passed into the sandbox.",
        "memory" => "`memory SIZE` (`512MiB`, `4GiB`): the memory limit.",
        "processes" => "`processes N`: the most processes at once.",
        "timeout" => "`timeout DURATION` (`30s`, `5m`, `1h`): the run is killed after it.",
        "cpu" => "`cpu N`: CPUs the sandbox may use.",
        "clipboard" => "`clipboard allow|deny`: access to the clipboard.",
        "display" => "`display allow|deny`: access to the display.",
        "path" => "`path`: a parameter whose value is an absolute path (normalised before use).",
        "string" => "`string`: a parameter whose value is plain text.",
        _ => return None,
    })
}

/// Keywords that start an item (top level).
pub const ITEM_KEYWORDS: &[&str] = &["import", "param", "let", "policy", "agent", "test"];
/// Sections of a policy.
pub const SECTIONS: &[&str] = &["fs", "net", "app"];
/// Effects.
pub const EFFECTS: &[&str] = &["allow", "ask", "deny"];
/// Statements of an agent.
pub const AGENT_STMTS: &[&str] = &[
    "identity",
    "isolation",
    "default",
    "use",
    "limits",
    "env",
    "ui",
    "audit",
];
/// Statements of a test.
pub const TEST_STMTS: &[&str] = &["agent", "with", "expect"];

#[cfg(test)]
mod tests {
    use super::*;
    use mxc_lang::lexer::KEYWORDS;

    /// Every keyword of the lexer has its hover text, and every word the completion
    /// lists offer is a keyword (a word the lexer does not know would be offered as
    /// one and then read as a name). A keyword added to the language fails here until
    /// it is documented.
    #[test]
    fn the_lists_follow_the_lexers_keywords() {
        for k in KEYWORDS {
            assert!(word(k).is_some(), "keyword `{k}` has no hover text");
        }
        for list in [ITEM_KEYWORDS, SECTIONS, EFFECTS, AGENT_STMTS, TEST_STMTS] {
            for w in list {
                assert!(KEYWORDS.contains(w), "`{w}` is offered but is no keyword");
            }
        }
        let offered: Vec<&str> =
            [ITEM_KEYWORDS, SECTIONS, EFFECTS, AGENT_STMTS, TEST_STMTS].concat();
        // Keywords that only follow another word (`from`, `args`, `because` after a
        // rule's target, `default`'s values...) are completed in context, not as
        // statements; the rest must be offered somewhere.
        for k in KEYWORDS {
            let in_context = ["from", "args", "because"].contains(&k);
            assert!(
                in_context || offered.contains(&k),
                "keyword `{k}` is never offered"
            );
        }
    }
}
