//! What confinement costs (issue 4 targets), side by side in one run:
//! - start-up: `/bin/true` unconfined, under `bwrap` (Debian's bubblewrap, binding the
//!   same trees read-only), and under `mxcc run` (process and container tiers) with a
//!   policy Landlock expresses exactly and with one that needs the supervisor;
//! - `open`+`close` of a file, per call, measured inside the confined process (a Python
//!   loop, so every variant pays the same interpreter overhead); next to them the floor
//!   of the mechanism, `unotify_floor.c` (built with `cc` when one is installed): a
//!   seccomp user-notification supervisor with no policy that replies CONTINUE
//!   (`unotify-continue`), or reads the path, checks the id, resolves it `O_PATH`,
//!   reopens it and injects the descriptor (`unotify-perform`, the least a supervisor that
//!   performs the open itself does); `unotify-perform-setsid` is the same with the child
//!   in a session of its own, as `mxcc`'s is (with autogroup scheduling, a scheduling
//!   group of its own: see docs/performance.md).
//!
//! Run: `cargo bench -p mxcc --bench run` (Linux; bwrap is skipped when not installed).
//! `MXC_BENCH_MXCC=/path/to/mxcc` measures another build of `mxcc` with this bench.

use criterion::{criterion_group, criterion_main, Criterion};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The `mxcc` measured: this build's, or `MXC_BENCH_MXCC` (to compare two builds
/// with one bench binary in the same sitting).
fn mxcc() -> String {
    std::env::var("MXC_BENCH_MXCC").unwrap_or_else(|_| env!("CARGO_BIN_EXE_mxcc").to_string())
}

/// No `/proc/**`: in the process tier the host's procfs is held for the supervisor
/// (another process's entries are refused), which would make `landlock` supervised.
const TREES: &str = r#""/usr/**", "/lib/**", "/lib64/**", "/etc/**", "/bin/**", "/dev/**""#;

fn setup() -> PathBuf {
    let d = std::env::temp_dir().join(format!("mxc-bench-run-{}", std::process::id()));
    std::fs::create_dir_all(d.join("secret")).unwrap();
    std::fs::write(d.join("data"), "x").unwrap();
    std::fs::write(
        d.join("loop.py"),
        "import os, sys, time\nn = int(sys.argv[1])\np = sys.argv[2]\nt = time.perf_counter_ns()\nfor i in range(n):\n    os.close(os.open(p, os.O_RDONLY))\nprint(time.perf_counter_ns() - t)\n",
    )
    .unwrap();
    let dir = d.display();
    std::fs::write(
        d.join("exact.mxc"),
        format!(
            "policy p {{ fs {{ allow read {TREES}, \"{dir}/**\" }} app {{ allow launch \"/usr/bin/*\", \"/bin/*\" }} }}\nagent a {{ isolation process  audit none  use p }}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        d.join("supervised.mxc"),
        format!(
            "policy p {{ fs {{ allow read {TREES}, \"{dir}/**\"  deny read \"{dir}/secret/**\" }} app {{ allow launch \"/usr/bin/*\", \"/bin/*\" }} }}\nagent a {{ isolation process  audit none  use p }}\n"
        ),
    )
    .unwrap();
    // The same two policies in the container tier.
    for name in ["exact", "supervised"] {
        let text = std::fs::read_to_string(d.join(format!("{name}.mxc"))).unwrap();
        std::fs::write(
            d.join(format!("{name}-container.mxc")),
            text.replace("isolation process", "isolation container"),
        )
        .unwrap();
    }
    d
}

/// `unotify_floor.c` built into `d`, or `None` without a C compiler.
fn floor(d: &Path) -> Option<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/unotify_floor.c");
    let out = d.join("unotify_floor");
    let ok = Command::new("cc")
        .args(["-O2", "-o"])
        .arg(&out)
        .arg(&src)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("no C compiler: the unotify floor is skipped");
    }
    ok.then(|| out.display().to_string())
}

fn have_bwrap() -> bool {
    Command::new("bwrap")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The command line of each variant, for `program args…`.
fn variants(d: &Path) -> Vec<(&'static str, Vec<String>)> {
    let mut v = vec![("unconfined", vec![])];
    if have_bwrap() {
        let mut b: Vec<String> = [
            "bwrap",
            "--unshare-all",
            "--die-with-parent",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
        ]
        .map(String::from)
        .to_vec();
        for t in ["/usr", "/lib", "/lib64", "/etc", "/bin"] {
            if Path::new(t).exists() {
                b.extend(["--ro-bind".into(), t.into(), t.into()]);
            }
        }
        let s = d.display().to_string();
        b.extend(["--ro-bind".into(), s.clone(), s]);
        v.push(("bwrap", b));
    }
    for (name, policy) in [
        ("mxcc-landlock", "exact.mxc"),
        ("mxcc-supervised", "supervised.mxc"),
        ("mxcc-container-landlock", "exact-container.mxc"),
        ("mxcc-container-supervised", "supervised-container.mxc"),
    ] {
        v.push((
            name,
            vec![
                mxcc(),
                "run".into(),
                d.join(policy).display().to_string(),
                "--agent".into(),
                "a".into(),
                "--".into(),
            ],
        ));
    }
    v
}

fn run(prefix: &[String], program: &[&str]) -> std::process::Output {
    let mut argv: Vec<String> = prefix.to_vec();
    argv.extend(program.iter().map(|s| s.to_string()));
    Command::new(&argv[0]).args(&argv[1..]).output().unwrap()
}

fn bench(c: &mut Criterion) {
    let d = setup();
    let vs = variants(&d);
    let mut g = c.benchmark_group("startup /bin/true");
    g.sample_size(20).measurement_time(Duration::from_secs(10));
    for (name, prefix) in &vs {
        g.bench_function(*name, |b| {
            b.iter(|| {
                let o = run(prefix, &["/bin/true"]);
                assert!(o.status.success(), "{name}: {o:?}");
            })
        });
    }
    g.finish();
    let mut g = c.benchmark_group("open+close per call");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    let data = d.join("data").display().to_string();
    let script = d.join("loop.py").display().to_string();
    let mut per_call = vs.clone();
    if let Some(f) = floor(&d) {
        per_call.push(("unotify-continue", vec![f.clone(), "continue".into()]));
        per_call.push(("unotify-perform", vec![f.clone(), "perform".into()]));
        per_call.push((
            "unotify-perform-setsid",
            vec![
                "/usr/bin/env".into(),
                "FLOOR_SETSID=1".into(),
                f,
                "perform".into(),
            ],
        ));
    }
    for (name, prefix) in &per_call {
        g.bench_function(*name, |b| {
            b.iter_custom(|iters| {
                let n = iters.to_string();
                let o = run(prefix, &["/usr/bin/python3", "-B", &script, &n, &data]);
                assert!(o.status.success(), "{name}: {o:?}");
                let ns: u64 = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
                Duration::from_nanos(ns)
            })
        });
    }
    g.finish();
    let _ = std::fs::remove_dir_all(&d);
}

criterion_group!(benches, bench);
criterion_main!(benches);
