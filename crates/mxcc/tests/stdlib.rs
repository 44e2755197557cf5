//! The standard library shipped inside `mxcc` (`import "std:NAME.mxc"`): every file
//! checks without a diagnostic, on its own, and its tests pass; `std:` paths work as
//! imports and as files given to `mxcc`; a name the library does not have is E0008.

mod common;
use common::*;

use std::process::Command;

fn mxcc(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mxcc"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn every_std_file_checks_clean_and_its_tests_pass() {
    assert!(mxc_lang::load::STD_FILES.len() >= 12);
    for (name, _) in mxc_lang::load::STD_FILES {
        let path = format!("std:{name}");
        let o = mxcc(&["check", "--deny-warnings", &path]);
        assert_eq!(o.status.code(), Some(0), "{path}\n{}", text(&o));
        assert!(
            o.stdout.is_empty() && o.stderr.is_empty(),
            "{path}\n{}",
            text(&o)
        );
        let o = mxcc(&["test", &path]);
        assert_eq!(o.status.code(), Some(0), "{path}\n{}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains(" passed, 0 failed"), "{path}\n{out}");
        assert!(!out.contains("\n0 passed"), "{path} has no test\n{out}");
    }
}

#[test]
fn std_imports_work_from_any_directory_and_unknown_names_are_e0008() {
    let d = scratch("std", "imports");
    std::fs::create_dir_all(d.join("deep/er")).unwrap();
    let f = d.join("deep/er/a.mxc");
    std::fs::write(
        &f,
        "import \"std:runtime.mxc\"\nagent a { use baseline, runtime, shell }\n\
         test \"a\" { agent a\n with home = \"/h\"\n expect allow read \"/etc/ld.so.cache\"\n \
         expect deny read \"/h/.ssh/id_rsa\" }\n",
    )
    .unwrap();
    let o = mxcc(&["test", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    std::fs::write(&f, "import \"std:nope.mxc\"\n").unwrap();
    let o = mxcc(&["check", f.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        err.contains("E0008") && err.contains("std:nope.mxc"),
        "{err}"
    );
    assert!(
        err.contains("std:runtime.mxc"),
        "the note lists the library: {err}"
    );
    // A file of one's own whose name starts with `std:` is reached with `./`.
    std::fs::write(d.join("deep/er/std:mine.mxc"), "let mine = \"/x\"\n").unwrap();
    std::fs::write(
        &f,
        "import \"./std:mine.mxc\"\npolicy p { fs { allow read mine } }\nagent a { use p }\n",
    )
    .unwrap();
    let o = mxcc(&["check", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = mxcc(&["check", "std:missing.mxc"]);
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
}
