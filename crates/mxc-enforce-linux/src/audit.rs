//! Audit records: one JSON line per decision of interest (SPEC §5 `audit`), shaped as
//! OCSF 1.3 File System Activity (1001), Network Activity (4001) and Process Activity
//! (1007) events, each carrying the agent's identity and the deciding rule, hash-chained
//! (see [`crate::chain`]).

use crate::chain::{last_record, ChainWriter};
use crate::supervisor::Class;
use crate::AskAnswer;
use mxc_eval::{AuditLevel, Decision, Effect, Engine};
use serde_json::{json, Map, Value};
use std::fs::File;
use std::path::Path;

pub struct Audit {
    level: AuditLevel,
    /// The identity carried in every record (`local(current)` made concrete).
    identity: String,
    out: ChainWriter<File>,
}

impl Audit {
    /// Opens (appending, creating with mode 0600) and continues the file's chain.
    pub fn open(path: &Path, level: AuditLevel) -> std::io::Result<Audit> {
        use std::os::unix::fs::OpenOptionsExt;
        let existing = std::fs::read_to_string(path).unwrap_or_default();
        let last = last_record(&existing);
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)?;
        Ok(Audit {
            level,
            identity: String::new(),
            out: ChainWriter::new(f, last.as_ref()),
        })
    }

    /// Whether the agent's `audit` level asks for a record of this outcome.
    pub fn wants(&self, final_effect: Effect, asked: Option<AskAnswer>) -> bool {
        match self.level {
            AuditLevel::All => true,
            AuditLevel::Denials => final_effect == Effect::Deny || asked.is_some(),
            AuditLevel::None => false,
        }
    }

    /// Records one decision if the agent's `audit` level asks for it.
    pub fn record(&mut self, engine: &Engine, e: &Entry<'_>) {
        if !self.wants(e.effect, e.asked) {
            return;
        }
        let mut rec = event(engine, e);
        self.stamp(engine, &mut rec);
        // A full disk must not stop enforcement; the run's summary reports the count.
        let _ = self.out.append(rec);
    }

    /// A record that is not a decision (the run started or ended).
    pub fn note(&mut self, engine: &Engine, activity: &str, detail: Value) {
        if self.level == AuditLevel::None {
            return;
        }
        let agent = engine.agent();
        let Value::Object(rec) = json!({
            "class_uid": 1007,
            "class_name": "Process Activity",
            "category_uid": 1,
            "activity_id": 99,
            "activity_name": activity,
            "time": now_ms(),
            "severity_id": 1,
            "metadata": metadata(),
            "actor": {"user": {"name": agent.identity, "type": "agent"}},
            "unmapped": {"mxc": {"agent": agent.name, "identity": agent.identity, "detail": detail}},
        }) else {
            return;
        };
        let mut rec = rec;
        self.stamp(engine, &mut rec);
        let _ = self.out.append(rec);
    }
}

impl Audit {
    /// Puts the concrete identity into `actor.user.name` and `unmapped.mxc.identity`.
    fn stamp(&mut self, engine: &Engine, rec: &mut Map<String, Value>) {
        if self.identity.is_empty() {
            let id = &engine.agent().identity;
            self.identity = if id == "local(current)" || id.is_empty() {
                format!("local(uid: {})", rustix::process::getuid().as_raw())
            } else {
                id.clone()
            };
        }
        let id = Value::from(self.identity.clone());
        if let Some(Value::Object(actor)) = rec.get_mut("actor") {
            if let Some(Value::Object(user)) = actor.get_mut("user") {
                user.insert("name".into(), id.clone());
            }
        }
        if let Some(Value::Object(u)) = rec.get_mut("unmapped") {
            if let Some(Value::Object(m)) = u.get_mut("mxc") {
                m.insert("identity".into(), id);
            }
        }
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn metadata() -> Value {
    json!({"version": "1.3.0", "product": {"name": "MXC", "vendor_name": "MXC", "version": env!("CARGO_PKG_VERSION")}})
}

/// One decision, as the supervisor concluded it.
pub struct Entry<'a> {
    pub class: Class,
    pub right: &'a str,
    pub target: &'a str,
    /// What the engine said.
    pub decision: Decision,
    /// What was enforced (after asking).
    pub effect: Effect,
    pub asked: Option<AskAnswer>,
    /// The process asking, and its program.
    pub pid: u32,
    pub program: &'a str,
}

/// The OCSF event of `e`.
pub fn event(engine: &Engine, e: &Entry<'_>) -> Map<String, Value> {
    let &Entry {
        class,
        right,
        target,
        decision: d,
        effect: final_effect,
        asked,
        pid,
        program,
    } = e;
    let agent = engine.agent();
    let rule = d.rule.and_then(|r| engine.rule(r));
    let allowed = final_effect == Effect::Allow;
    let (class_uid, class_name, category_uid, activity_id) = match class {
        Class::File => (
            1001,
            "File System Activity",
            1,
            match right {
                "create" => 1,
                "read" => 2,
                "write" => 3,
                "delete" => 4,
                _ => 99,
            },
        ),
        Class::Network => (
            4001,
            "Network Activity",
            4,
            if right == "bind" { 7 } else { 1 },
        ),
        Class::Process => (1007, "Process Activity", 1, 1),
    };
    let mut rec = json!({
        "class_uid": class_uid,
        "class_name": class_name,
        "category_uid": category_uid,
        "activity_id": activity_id,
        "activity_name": right,
        "type_uid": class_uid * 100 + activity_id,
        "time": now_ms(),
        "severity_id": if allowed { 1 } else { 3 },
        "status_id": if allowed { 1 } else { 2 },
        "status": if allowed { "Success" } else { "Failure" },
        "disposition_id": if allowed { 1 } else { 2 },
        "disposition": if allowed { "Allowed" } else { "Blocked" },
        "metadata": metadata(),
        "actor": {
            "user": {"name": agent.identity, "type": "agent"},
            "process": {"pid": pid, "file": {"path": program}},
        },
        "unmapped": {"mxc": {
            "agent": agent.name,
            "identity": agent.identity,
            "right": right,
            "target": target,
            "effect": final_effect.as_str(),
            "decided": d.effect.as_str(),
            "asked": asked.map(|a| match a {
                AskAnswer::AllowOnce => "allow-once",
                AskAnswer::AllowForRun => "allow-for-run",
                AskAnswer::Deny => "deny",
            }),
            "rule": rule.map(|i| json!({
                "policy": i.policy, "file": i.file, "line": i.line, "column": i.column,
                "at": format!("{}:{}", i.file, i.line),
            })),
            "reason": rule.and_then(|i| i.reason.clone()),
        }},
    });
    match class {
        Class::File => rec["file"] = json!({"path": target}),
        Class::Network => {
            let (host, port) = target
                .trim_start_matches("udp://")
                .rsplit_once(':')
                .unwrap_or((target, "0"));
            rec["dst_endpoint"] = json!({"ip": host.trim_matches(|c| c == '[' || c == ']'), "port": port.parse::<u16>().unwrap_or(0)});
            rec["connection_info"] =
                json!({"protocol_name": if target.starts_with("udp://") { "udp" } else { "tcp" }});
        }
        Class::Process => {
            let prog = target.split(' ').next().unwrap_or(target);
            rec["process"] = json!({"file": {"path": prog}, "cmd_line": target});
        }
    }
    match rec {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}
