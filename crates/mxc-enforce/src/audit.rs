//! Audit records: one JSON line per decision of interest (SPEC §5 `audit`), shaped as
//! OCSF 1.3 File System Activity (1001), Network Activity (4001) and Process Activity
//! (1007) events, each carrying the agent's identity and the deciding rule, hash-chained
//! (see [`crate::chain`]). Built from typed [`Record`]s; where the log lives and how it
//! is kept out of the sandbox's reach is the backend's part.

use crate::record::{AskAnswer, Class, Record, Right, Target};
use mxc_eval::{AuditLevel, Effect, Engine};
use serde_json::{json, Map, Value};

/// Whether the agent's `audit` level asks for a record of this outcome.
pub fn wants(level: AuditLevel, final_effect: Effect, asked: Option<AskAnswer>) -> bool {
    match level {
        AuditLevel::All => true,
        AuditLevel::Denials => final_effect == Effect::Deny || asked.is_some(),
        AuditLevel::None => false,
    }
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn metadata() -> Value {
    json!({"version": "1.3.0", "product": {"name": "MXC", "vendor_name": "MXC", "version": env!("CARGO_PKG_VERSION")}})
}

/// A record that is not a decision (the run started or ended), identity left to
/// [`stamp`].
pub fn note(engine: &Engine, activity: &str, detail: Value) -> Map<String, Value> {
    let agent = engine.agent();
    match json!({
        "class_uid": 1007,
        "class_name": "Process Activity",
        "category_uid": 1,
        "activity_id": 99,
        "activity_name": activity,
        "time": now_ms(),
        "severity_id": 1,
        "metadata": metadata(),
        "actor": {"user": {"name": Value::Null, "type": "agent"}},
        "unmapped": {"mxc": {"agent": agent.name, "identity": Value::Null, "detail": detail}},
    }) {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Puts the concrete identity (see [`crate::identity::concrete`]) into
/// `actor.user.name` and `unmapped.mxc.identity`.
pub fn stamp(rec: &mut Map<String, Value>, identity: &str) {
    let id = Value::from(identity);
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

/// The OCSF event of `e`; the identity fields are left for [`stamp`] to fill (once per
/// log, from the agent's typed identity).
pub fn event(engine: &Engine, e: &Record) -> Map<String, Value> {
    let agent = engine.agent();
    let d = e.decision;
    let rule = d.rule.and_then(|r| engine.rule(r));
    let allowed = e.effect == Effect::Allow;
    let class = e.right.class();
    let target = e.target.to_string();
    let (class_uid, class_name, category_uid, activity_id) = match class {
        Class::File => (
            1001,
            "File System Activity",
            1,
            match e.right {
                Right::Create => 1,
                Right::Read => 2,
                Right::Write => 3,
                Right::Delete => 4,
                _ => 99,
            },
        ),
        Class::Network => (
            4001,
            "Network Activity",
            4,
            if e.right == Right::Bind { 7 } else { 1 },
        ),
        Class::Process => (1007, "Process Activity", 1, 1),
    };
    let mut rec = json!({
        "class_uid": class_uid,
        "class_name": class_name,
        "category_uid": category_uid,
        "activity_id": activity_id,
        "activity_name": e.right.as_str(),
        "type_uid": class_uid * 100 + activity_id,
        "time": now_ms(),
        "severity_id": if allowed { 1 } else { 3 },
        "status_id": if allowed { 1 } else { 2 },
        "status": if allowed { "Success" } else { "Failure" },
        "disposition_id": if allowed { 1 } else { 2 },
        "disposition": if allowed { "Allowed" } else { "Blocked" },
        "metadata": metadata(),
        "actor": {
            "user": {"name": Value::Null, "type": "agent"},
            "process": {"pid": e.pid, "file": {"path": e.program}},
        },
        "unmapped": {"mxc": {
            "agent": agent.name,
            "identity": Value::Null,
            "right": e.right.as_str(),
            "target": target,
            "effect": e.effect.as_str(),
            "decided": d.effect.as_str(),
            "asked": e.asked.map(AskAnswer::as_str),
            "rule": rule.map(|i| json!({
                "policy": i.policy, "file": i.file, "line": i.line, "column": i.column,
                "at": format!("{}:{}", i.file, i.line),
            })),
            "reason": rule.and_then(|i| i.reason.clone()),
            "enforcement": e.enforcement,
        }},
    });
    match (&e.target, class) {
        (Target::Socket { proto, host, port }, _) => {
            rec["dst_endpoint"] = json!({"ip": host, "port": port});
            rec["connection_info"] = json!({"protocol_name": match proto {
                mxc_eval::Proto::Udp => "udp",
                mxc_eval::Proto::Tcp => "tcp",
            }});
        }
        (_, Class::Network) => {
            // A unix socket or a call whose address cannot be named: as logs had it.
            let (host, port) = target.rsplit_once(':').unwrap_or((&target, "0"));
            rec["dst_endpoint"] = json!({"ip": host, "port": port.parse::<u16>().unwrap_or(0)});
            rec["connection_info"] = json!({"protocol_name": "tcp"});
        }
        (Target::Program { path, .. }, _) => {
            rec["process"] =
                json!({"file": {"path": String::from_utf8_lossy(path)}, "cmd_line": target});
        }
        (_, Class::Process) => {
            rec["process"] = json!({"file": {"path": target}, "cmd_line": target});
        }
        (_, Class::File) => rec["file"] = json!({"path": target}),
    }
    match rec {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mxc_eval::Decision;

    fn engine() -> Engine {
        crate::tests::engine("policy p { fs { allow read \"/usr/**\" } }\nagent a { use p }")
    }

    fn rec(right: Right, target: Target, effect: Effect) -> Record {
        Record {
            right,
            target,
            decision: Decision { effect, rule: None },
            effect,
            asked: None,
            pid: 7,
            program: "/usr/bin/x y".into(),
            enforcement: None,
        }
    }

    #[test]
    fn a_program_path_with_a_space_is_kept_whole() {
        let e = engine();
        let r = rec(
            Right::Launch,
            Target::Program {
                path: b"/opt/my tools/run".to_vec(),
                args: vec![b"--flag".to_vec()],
                changing: false,
            },
            Effect::Deny,
        );
        let ev = Value::Object(event(&e, &r));
        assert_eq!(ev["class_uid"], 1007);
        assert_eq!(ev["process"]["file"]["path"], "/opt/my tools/run");
        assert_eq!(ev["process"]["cmd_line"], "/opt/my tools/run --flag");
        assert_eq!(ev["unmapped"]["mxc"]["target"], "/opt/my tools/run --flag");
        assert_eq!(ev["actor"]["process"]["file"]["path"], "/usr/bin/x y");
        assert_eq!(ev["disposition"], "Blocked");
    }

    #[test]
    fn sockets_and_files_keep_their_ocsf_fields() {
        let e = engine();
        let r = rec(
            Right::Bind,
            Target::Socket {
                proto: mxc_eval::Proto::Udp,
                host: "::1".into(),
                port: 53,
            },
            Effect::Allow,
        );
        let ev = Value::Object(event(&e, &r));
        assert_eq!(ev["class_uid"], 4001);
        assert_eq!(ev["activity_id"], 7);
        assert_eq!(ev["dst_endpoint"], json!({"ip": "::1", "port": 53}));
        assert_eq!(ev["connection_info"]["protocol_name"], "udp");
        assert_eq!(ev["unmapped"]["mxc"]["target"], "udp://[::1]:53");
        let r = rec(
            Right::Delete,
            Target::Path(b"/tmp/f".to_vec()),
            Effect::Deny,
        );
        let mut ev = event(&e, &r);
        stamp(&mut ev, "local(uid: 5)");
        let ev = Value::Object(ev);
        assert_eq!(ev["class_uid"], 1001);
        assert_eq!(ev["activity_id"], 4);
        assert_eq!(ev["file"]["path"], "/tmp/f");
        assert_eq!(ev["actor"]["user"]["name"], "local(uid: 5)");
        assert_eq!(ev["unmapped"]["mxc"]["identity"], "local(uid: 5)");
    }

    #[test]
    fn levels() {
        assert!(wants(AuditLevel::All, Effect::Allow, None));
        assert!(!wants(AuditLevel::Denials, Effect::Allow, None));
        assert!(wants(
            AuditLevel::Denials,
            Effect::Allow,
            Some(AskAnswer::AllowOnce)
        ));
        assert!(!wants(AuditLevel::None, Effect::Deny, None));
    }
}
