//! A real agent, confined: the Codex CLI (npm `@openai/codex`, pinned in `.ci/run`)
//! runs `codex exec` under `mxcc run` and `std:agents/codex.mxc`, driven by the
//! scripted stand-in for its model (`tests/common/model.py`, speaking the Responses
//! API). The script (`common::model::Scenario`) mixes legitimate work with what a
//! prompt-injected model would try; the work must succeed, every attack must fail,
//! and the denials must be in the audit log under the agent's identity.
//!
//! The Codex binary: `MXC_CODEX_BIN`, else `target/codex/node_modules/...` (where
//! `.ci/run` installs it). Without it the test is skipped, unless `MXC_REQUIRE_CODEX` is
//! set (CI sets it).
#![cfg(target_os = "linux")]

mod common;
use common::model::{Model, Scenario};
use common::*;

use std::path::PathBuf;

fn codex_bin() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("MXC_CODEX_BIN") {
        return Some(PathBuf::from(p));
    }
    let p = root().join(
        "target/codex/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex",
    );
    p.exists().then_some(p)
}

#[test]
fn codex_exec_confined_process_tier() {
    codex_exec_confined("codex-process");
}

#[test]
fn codex_exec_confined_container_tier() {
    codex_exec_confined("codex-container");
}

fn codex_exec_confined(agent: &str) {
    let Some(codex) = codex_bin() else {
        assert!(
            std::env::var_os("MXC_REQUIRE_CODEX").is_none(),
            "MXC_REQUIRE_CODEX is set but the Codex CLI is not installed"
        );
        eprintln!("\n*** SKIPPED: the Codex CLI is not installed (see .ci/run) ***\n");
        return;
    };
    let codex = codex.canonicalize().unwrap();
    // codex = <package>/vendor/<triple>/bin/codex: the profile's `codex` param is <package>.
    let package = codex.ancestors().nth(4).unwrap().to_path_buf();

    let s = Scenario::new(agent);
    let codex_home = s.home.join(".codex");
    std::fs::create_dir_all(&codex_home).unwrap();
    let model = Model::start(
        &s.dir,
        "exec_command",
        "cmd",
        serde_json::json!({"tty": false, "yield_time_ms": 10000}),
        &s.steps(),
    );
    std::fs::write(
        codex_home.join("config.toml"),
        format!(
            "model = \"mock-model\"\nmodel_provider = \"mock\"\n\n[model_providers.mock]\nname = \"mock\"\n\
             base_url = \"http://{}/v1\"\nwire_api = \"responses\"\n\
             request_max_retries = 0\nstream_max_retries = 0\n",
            model.addr()
        ),
    )
    .unwrap();

    let out = s
        .mxcc("std:agents/codex.mxc", agent, &[])
        .arg("--param")
        .arg(format!("codex={}", package.display()))
        .arg("--param")
        .arg(format!("codex-model-api={}", model.addr()))
        .arg("--")
        .arg(&codex)
        .args([
            "exec",
            "--skip-git-repo-check",
            "--dangerously-bypass-approvals-and-sandbox",
            "do the work",
        ])
        .env("CODEX_HOME", &codex_home)
        .env("OPENAI_API_KEY", "sk-test")
        .output()
        .unwrap();
    s.check(&out, &model);
}
