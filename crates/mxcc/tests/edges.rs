//! The crate graph's invariants (ARCHITECTURE.md), checked on `cargo metadata`: the
//! table and the engine never depend on the compiler, the table never on the engine,
//! and no enforcement crate depends on the compiler. Dev-dependencies (tests and
//! benches compiling policies) are allowed.

use serde_json::Value;

/// The normal and build dependencies of each workspace package, by name.
fn edges() -> Vec<(String, Vec<String>)> {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml");
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .args(["--manifest-path", manifest])
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .filter(|d| d["kind"].as_str() != Some("dev"))
                .map(|d| d["name"].as_str().expect("name").to_string())
                .collect();
            (p["name"].as_str().expect("name").to_string(), deps)
        })
        .collect()
}

#[test]
fn crate_edges_point_down() {
    let edges = edges();
    let deps = |name: &str| -> &Vec<String> {
        &edges
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no package {name}"))
            .1
    };
    let forbidden: [(&str, &[&str]); 5] = [
        ("mxc-table", &["mxc-lang", "mxc-eval", "mxcc"]),
        ("mxc-eval", &["mxc-lang", "mxcc"]),
        // The runtime core and its backends start from a compiled table.
        (
            "mxc-enforce",
            &["mxc-lang", "mxcc", "mxc-enforce-linux", "mxc-enforce-win"],
        ),
        ("mxc-enforce-linux", &["mxc-lang", "mxcc"]),
        ("mxc-enforce-win", &["mxc-lang", "mxcc"]),
    ];
    for (krate, never) in forbidden {
        for n in never {
            assert!(
                !deps(krate).iter().any(|d| d == n),
                "{krate} must not depend on {n} (ARCHITECTURE.md, invariants)"
            );
        }
    }
    assert!(deps("mxc-eval").iter().any(|d| d == "mxc-table"));
    // The Linux backend is built on the platform-neutral runtime, which is built on
    // the engine.
    assert!(deps("mxc-enforce-linux").iter().any(|d| d == "mxc-enforce"));
    assert!(deps("mxc-enforce").iter().any(|d| d == "mxc-eval"));
    // The syntax crate stands alone: the formatter and the server need no compiler.
    assert!(
        !deps("mxc-syntax").iter().any(|d| d.starts_with("mxc")),
        "mxc-syntax depends on no other MXC crate"
    );
    // Any enforcement crate added later is held to the same rule.
    for (name, d) in &edges {
        if name.starts_with("mxc-enforce") {
            assert!(
                !d.iter().any(|x| x == "mxc-lang"),
                "{name} depends on mxc-lang"
            );
        }
    }
}

/// The Linux backend's `unsafe` stays in `src/sys/` (ARCHITECTURE.md, invariants):
/// no code outside it holds an `unsafe` block, function or impl, or allows
/// `unsafe_code`. Comments are not code (a line's text after `//` is skipped).
#[test]
fn unsafe_stays_in_sys() {
    let src = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../mxc-enforce-linux/src"
    ));
    let sys = src.join("sys");
    let mut stack = vec![src.to_path_buf()];
    let (mut files, mut in_sys) = (0, 0);
    let mut outside = Vec::new();
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("read the source tree") {
            let p = e.expect("a directory entry").path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            files += 1;
            let text = std::fs::read_to_string(&p).expect("read a source file");
            for (i, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                if !code.contains("unsafe") {
                    continue;
                }
                if p.starts_with(&sys) {
                    in_sys += 1;
                } else {
                    outside.push(format!("{}:{}: {}", p.display(), i + 1, line.trim()));
                }
            }
        }
    }
    // The walk saw the crate (and its system calls where they belong).
    assert!(
        files > 20,
        "only {files} source files under {}",
        src.display()
    );
    assert!(in_sys > 0, "no `unsafe` in {}", sys.display());
    assert!(
        outside.is_empty(),
        "`unsafe` outside src/sys/ of mxc-enforce-linux:\n{}",
        outside.join("\n")
    );
}
