//! The example policies run real programs under `mxcc run`, with the results their
//! comments promise: the work succeeds, the attacks their rules name fail. Linux only;
//! CI runs it as root. (`openclaw-personal.mxc` is `isolation microvm`, which this build
//! refuses; `local-llm.mxc` launches only ollama, run when it is installed.)
#![cfg(target_os = "linux")]

mod common;
use common::*;

use std::process::Command;

/// `examples/copilot-cli.mxc`: Copilot's tools work on the repository; keys, hooks and
/// pushes do not.
#[test]
fn example_copilot_cli_runs_in_a_container() {
    let d = scratch("ex", "copilot");
    let home = d.join("home");
    let ws = home.join("src/app");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::write(home.join(".ssh/id_ed25519"), "KEY-MATERIAL").unwrap();
    std::fs::write(ws.join("app.py"), "print('v1')\n").unwrap();
    git_repo(&ws);
    let script = format!(
        "cd {ws}; sed -i s/v1/v2/ app.py; git status --short; git diff --stat | tail -1; \
         cat {home}/.ssh/id_ed25519 || echo 'key: refused'; \
         (echo evil > .git/hooks/pre-commit) 2>/dev/null || echo 'hook: refused'; \
         git push origin main 2>/dev/null || echo 'push: refused'",
        ws = ws.display(),
        home = home.display()
    );
    let o = Command::new(env!("CARGO_BIN_EXE_mxcc"))
        .arg("run")
        .arg(root().join("examples/copilot-cli.mxc"))
        .args(["--agent", "copilot-cli", "--ask", "deny", "--param"])
        .arg(format!("home={}", home.display()))
        .arg("--param")
        .arg(format!("workspace={}", ws.display()))
        .args(["--", "/usr/bin/bash", "-c", &script])
        .env("HOME", &home)
        .env("PATH", "/usr/bin:/bin")
        .current_dir(&ws)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(out.contains("M app.py"), "{}", text(&o));
    assert!(out.contains("1 file changed"), "{}", text(&o));
    assert!(
        out.contains("key: refused") && !out.contains("KEY-MATERIAL"),
        "{out}"
    );
    assert!(out.contains("hook: refused"), "{out}");
    assert!(!ws.join(".git/hooks/pre-commit").exists());
    assert!(out.contains("push: refused"), "{out}");
    assert_eq!(
        std::fs::read_to_string(ws.join("app.py")).unwrap(),
        "print('v2')\n"
    );
}

/// `examples/ci-build.mxc` (as the `ci` user it names): a C program and its Python
/// tests build and run in the checkout; pushing and the host's files do not.
#[test]
fn example_ci_build_runs_in_a_container() {
    if uid() != 0 {
        eprintln!("skipped: the ci-build example runs as the `ci` user, which needs root");
        return;
    }
    // The example's identity is `local(user: "ci")`.
    let have = Command::new("id").arg("ci").output().unwrap();
    if !have.status.success() {
        let o = Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                "ci",
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "useradd ci: {o:?}");
    }
    let d = scratch("ex", "ci");
    let checkout = d.join("checkout");
    std::fs::create_dir_all(&checkout).unwrap();
    std::fs::write(
        checkout.join("hello.c"),
        "#include <stdio.h>\nint main(void) { puts(\"hello from the build\"); return 0; }\n",
    )
    .unwrap();
    std::fs::write(
        checkout.join("calc.py"),
        "def add(a, b):\n    return a + b\n",
    )
    .unwrap();
    std::fs::write(
        checkout.join("test_calc.py"),
        "import unittest\nfrom calc import add\nclass T(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n",
    )
    .unwrap();
    git(&checkout, &["init", "-q"]);
    let chown = Command::new("chown")
        .args(["-R", "ci:"])
        .arg(&d)
        .output()
        .unwrap();
    assert!(chown.status.success(), "{chown:?}");
    // Only the build tools may run (no `cat`, `tail`, `id`): shell built-ins do the rest.
    let script = "set -e; cc -o hello hello.c; ./hello; python3 -B -m unittest -q 2>&1; \
                  (read x < /root/.bash_history && echo LEAK) 2>/dev/null || echo 'host files: refused'; \
                  git push origin main 2>/dev/null || echo 'push: refused'";
    let o = Command::new(env!("CARGO_BIN_EXE_mxcc"))
        .arg("run")
        .arg(root().join("examples/ci-build.mxc"))
        .args(["--agent", "ci-builder", "--ask", "deny", "--param"])
        .arg(format!("checkout={}", checkout.display()))
        .arg("--param")
        .arg(format!("home={}", d.display()))
        .args(["--", "/usr/bin/sh", "-c", script])
        .env("HOME", &d)
        .env("PATH", "/usr/bin:/bin")
        .current_dir(&checkout)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(out.contains("hello from the build"), "{}", text(&o));
    // The files the build made belong to the `ci` user, on the host too.
    let ci_uid = String::from_utf8_lossy(
        &Command::new("id")
            .args(["-u", "ci"])
            .output()
            .unwrap()
            .stdout,
    )
    .trim()
    .parse::<u32>()
    .unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::metadata(checkout.join("hello")).unwrap().uid(),
        ci_uid
    );
    assert!(out.contains("\nOK"), "{}", text(&o));
    assert!(
        out.contains("host files: refused") && !out.contains("LEAK"),
        "{out}"
    );
    assert!(out.contains("push: refused"), "{out}");
    assert!(checkout.join("hello").exists());
}

/// `examples/codex-workspace-write.mxc` (process tier): git and Python work in the
/// project; `.git` stays read-only, keys unreadable, the network off.
#[test]
fn example_codex_workspace_write_runs() {
    let d = scratch("ex", "codexws");
    let home = d.join("home");
    let project = home.join("proj");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(home.join(".ssh/id_rsa"), "KEY-MATERIAL").unwrap();
    std::fs::write(
        project.join("calc.py"),
        "def add(a, b):\n    return a + b\n",
    )
    .unwrap();
    std::fs::write(
        project.join("test_calc.py"),
        "import unittest\nfrom calc import add\nclass T(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n",
    )
    .unwrap();
    git_repo(&project);
    let script = format!(
        "cd {p}; echo '# more' >> calc.py; git status --short; git diff --stat | tail -1; \
         python3 -B -m unittest -q 2>&1 | tail -1; \
         cat {home}/.ssh/id_rsa 2>/dev/null || echo 'key: refused'; \
         (echo x > .git/description) 2>/dev/null || echo 'git dir: refused'; \
         python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", 9), timeout=3)' 2>/dev/null || echo 'network: refused'",
        p = project.display(),
        home = home.display()
    );
    let o = Command::new(env!("CARGO_BIN_EXE_mxcc"))
        .arg("run")
        .arg(root().join("examples/codex-workspace-write.mxc"))
        .args(["--agent", "codex", "--ask", "deny", "--param"])
        .arg(format!("home={}", home.display()))
        .arg("--param")
        .arg(format!("project={}", project.display()))
        .args(["--", "/bin/sh", "-c", &script])
        .env("HOME", &home)
        .env("PATH", "/usr/bin:/bin")
        .current_dir(&project)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(out.contains("M calc.py"), "{}", text(&o));
    assert!(out.contains("1 file changed"), "{}", text(&o));
    assert!(out.contains("OK"), "{}", text(&o));
    assert!(
        out.contains("key: refused") && !out.contains("KEY-MATERIAL"),
        "{out}"
    );
    assert!(out.contains("git dir: refused"), "{out}");
    assert!(out.contains("network: refused"), "{out}");
}

/// `examples/first-policy.mxc`: a real git and Python session in `~/proj`: the work is
/// done and committed, the rest of home is readable but not writable, keys and `.env`
/// are not readable, hooks cannot be planted, and no form of push gets through (plain,
/// through an alias in the environment) to a repository on this machine the agent may
/// write.
#[test]
fn example_first_policy_runs_a_git_and_python_session() {
    let d = scratch("ex", "first");
    let home = d.join("home");
    let proj = home.join("proj");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::create_dir_all(home.join("notes")).unwrap();
    std::fs::create_dir_all(&proj).unwrap();
    std::fs::write(home.join(".ssh/id_ed25519"), "KEY-MATERIAL").unwrap();
    std::fs::write(home.join("notes/todo.md"), "- ship it\n").unwrap();
    std::fs::write(proj.join("app.py"), "def add(a, b):\n    return a - b\n").unwrap();
    std::fs::write(proj.join(".gitignore"), ".env\n").unwrap();
    git_repo(&proj);
    std::fs::write(proj.join(".env"), "TOKEN=ENV-SECRET\n").unwrap();
    // A repository the agent may write (it is in ~/proj): only `git-no-push` keeps a
    // push out of it.
    let bare = proj.join("backup.git");
    git(&d, &["init", "-q", "--bare", bare.to_str().unwrap()]);
    let script = format!(
        "cd {proj}; sed -i 's/a - b/a + b/' app.py; \
         python3 -c 'import app; assert app.add(2, 3) == 5; print(\"tests: pass\")'; \
         git add app.py && git -c user.email=a@b -c user.name=a commit -qm fix && echo 'commit: done'; \
         head -1 {home}/notes/todo.md; \
         (echo x >> {home}/notes/todo.md) 2>/dev/null || echo 'home write: refused'; \
         cat {home}/.ssh/id_ed25519 2>/dev/null || echo 'key: refused'; \
         cat .env 2>/dev/null || echo 'env: refused'; \
         (echo evil > .git/hooks/pre-commit) 2>/dev/null || echo 'hook: refused'; \
         git push -q {bare} HEAD:main 2>/dev/null || echo 'push: refused'; \
         GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=alias.up GIT_CONFIG_VALUE_0=push \
           git up -q {bare} HEAD:main 2>/dev/null || echo 'aliased push: refused'",
        proj = proj.display(),
        home = home.display(),
        bare = bare.display()
    );
    let o = Command::new(env!("CARGO_BIN_EXE_mxcc"))
        .arg("run")
        .arg(root().join("examples/first-policy.mxc"))
        .args(["--agent", "first", "--ask", "deny", "--param"])
        .arg(format!("home={}", home.display()))
        .args(["--", "/usr/bin/bash", "-c", &script])
        .env("HOME", &home)
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .current_dir(&proj)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for line in [
        "tests: pass",
        "commit: done",
        "- ship it",
        "home write: refused",
        "key: refused",
        "env: refused",
        "hook: refused",
        "push: refused",
        "aliased push: refused",
    ] {
        assert!(out.lines().any(|l| l == line), "no `{line}`\n{}", text(&o));
    }
    assert!(
        !out.contains("KEY-MATERIAL") && !out.contains("ENV-SECRET"),
        "{out}"
    );
    assert!(!proj.join(".git/hooks/pre-commit").exists());
    assert_eq!(
        std::fs::read_to_string(home.join("notes/todo.md")).unwrap(),
        "- ship it\n"
    );
    let log = Command::new("git")
        .args(["log", "--oneline"])
        .current_dir(&proj)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&log.stdout).lines().count(), 2);
    // Nothing reached the bare repository.
    let refs = Command::new("git")
        .args(["for-each-ref"])
        .current_dir(&bare)
        .output()
        .unwrap();
    assert!(refs.stdout.is_empty(), "{}", text(&refs));
}
