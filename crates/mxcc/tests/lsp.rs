//! `mxcc lsp` through its real transport: JSON-RPC with Content-Length framing on the
//! process's stdin and stdout (initialize, didOpen, publishDiagnostics, hover,
//! completion, definition, shutdown, exit).

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

/// Generous: only a server that hangs ever waits this long.
const HANG: Duration = Duration::from_secs(120);

struct Lsp {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<Value>,
    next_id: u64,
    /// Notifications received while waiting for responses.
    notes: Vec<Value>,
}

fn read_message(r: &mut impl BufRead) -> Option<Value> {
    let mut len = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length: ") {
            len = v.parse::<usize>().ok();
        }
    }
    let mut buf = vec![0; len?];
    r.read_exact(&mut buf).ok()?;
    serde_json::from_slice(&buf).ok()
}

impl Lsp {
    fn start() -> Lsp {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mxcc"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("mxcc lsp starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            while let Some(m) = read_message(&mut r) {
                if tx.send(m).is_err() {
                    break;
                }
            }
        });
        Lsp {
            child,
            stdin,
            rx,
            next_id: 1,
            notes: Vec::new(),
        }
    }

    fn send(&mut self, v: Value) {
        let body = serde_json::to_string(&v).unwrap();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let m = self.rx.recv_timeout(HANG).expect("a response");
            if m.get("id") == Some(&json!(id)) && m.get("method").is_none() {
                assert!(m.get("error").is_none(), "{method}: {m}");
                return m["result"].clone();
            }
            self.notes.push(m);
        }
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Value {
        if let Some(i) = self.notes.iter().position(|n| {
            n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == uri
        }) {
            return self.notes.remove(i)["params"].clone();
        }
        loop {
            let m = self.rx.recv_timeout(HANG).expect("diagnostics");
            if m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri {
                return m["params"].clone();
            }
            self.notes.push(m);
        }
    }
}

#[test]
fn a_session_over_stdio() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("lsp-stdio");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("p.mxc");
    let uri = format!("file://{}", path.display());
    let text =
        "policy dev {\n  fs { allow read \"/srv/**\" }\n}\nagent a {\n  use dev, missing\n}\n";
    std::fs::write(&path, text).unwrap();

    let mut s = Lsp::start();
    let init = s.request(
        "initialize",
        json!({"processId": null, "rootUri": null, "capabilities": {}}),
    );
    let caps = &init["capabilities"];
    assert_eq!(caps["textDocumentSync"], 2, "incremental sync: {caps}");
    assert_eq!(caps["hoverProvider"], true);
    assert_eq!(caps["definitionProvider"], true);
    assert_eq!(caps["documentFormattingProvider"], true);
    s.notify("initialized", json!({}));

    s.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "mxc", "version": 1, "text": text}}),
    );
    let d = s.diagnostics(&uri);
    let ds = d["diagnostics"].as_array().unwrap();
    assert_eq!(ds.len(), 1, "{d}");
    assert_eq!(ds[0]["code"], "E0002");
    assert_eq!(ds[0]["severity"], 1);
    assert_eq!(
        ds[0]["range"],
        json!({"start": {"line": 4, "character": 11}, "end": {"line": 4, "character": 18}})
    );

    // An incremental change removes the error.
    s.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2},
               "contentChanges": [{"range": {"start": {"line": 4, "character": 9},
                                             "end": {"line": 4, "character": 18}}, "text": ""}]}),
    );
    let d = s.diagnostics(&uri);
    assert_eq!(d["version"], 2);
    assert_eq!(d["diagnostics"], json!([]), "{d}");

    let pos = |line: u32, character: u32| json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}});
    let hover = s.request("textDocument/hover", pos(1, 9));
    let md = hover["contents"]["value"].as_str().unwrap();
    assert!(md.contains("allows `read` on `\"/srv/**\"`"), "{md}");
    assert!(md.contains("`a` (policy 1 of 1"), "{md}");

    let completion = s.request("textDocument/completion", pos(4, 6));
    let labels: Vec<&str> = completion
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["dev"]);

    let def = s.request("textDocument/definition", pos(4, 7));
    assert_eq!(def["uri"], uri);
    assert_eq!(def["range"]["start"], json!({"line": 0, "character": 7}));

    // Formatting: one edit with the layout of `mxcc fmt`.
    let fmt = s.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    let edited = text.replace("use dev, missing", "use dev");
    let want = mxc_syntax::print::format(mxc_syntax::source::FileId(0), &edited).unwrap();
    assert_eq!(fmt[0]["newText"], want.as_str(), "{fmt}");
    assert_eq!(fmt[0]["range"]["start"], json!({"line": 0, "character": 0}));

    assert_eq!(s.request("shutdown", json!(null)), json!(null));
    s.notify("exit", json!(null));
    drop(s.stdin);
    let status = s.child.wait().unwrap();
    assert!(status.success(), "{status}");
}

/// A burst of keystrokes is analysed once the typing pauses, not once per key; the
/// diagnostics finally published are those of the last text, and a request answered
/// during the burst reads the text the client has.
#[test]
fn a_burst_of_edits_is_analysed_after_the_pause() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("lsp-burst");
    std::fs::create_dir_all(&dir).unwrap();
    let uri = format!("file://{}", dir.join("p.mxc").display());
    let good = "policy dev {\n  fs { allow read \"/srv/**\" }\n}\nagent a {\n  use dev\n}\n";
    let bad = good.replace("use dev", "use dev, missing");
    let mut s = Lsp::start();
    s.request(
        "initialize",
        json!({"processId": null, "rootUri": null, "capabilities": {}}),
    );
    s.notify("initialized", json!({}));
    s.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "mxc", "version": 1, "text": good}}),
    );
    assert_eq!(s.diagnostics(&uri)["diagnostics"], json!([]));
    const EDITS: i64 = 30;
    for v in 2..=EDITS + 1 {
        let text = if v % 2 == 0 { &bad } else { good };
        s.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": v},
                   "contentChanges": [{"text": text}]}),
        );
    }
    // The last text (version 31) is the good one; wait for its diagnostics.
    let mut published = 0;
    loop {
        let d = s.diagnostics(&uri);
        published += 1;
        if d["version"] == EDITS + 1 {
            assert_eq!(d["diagnostics"], json!([]), "{d}");
            break;
        }
    }
    assert!(
        published < EDITS,
        "{published} analyses for {EDITS} edits in a burst"
    );
    // A request right after an edit is answered on the edited text (the pending
    // analysis is done first, and its diagnostics are published).
    s.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": EDITS + 2},
               "contentChanges": [{"text": bad}]}),
    );
    let hover = s.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 4, "character": 12}}),
    );
    assert!(hover.to_string().contains("missing"), "{hover}");
    let d = s.diagnostics(&uri);
    assert_eq!(d["version"], EDITS + 2);
    assert_eq!(d["diagnostics"][0]["code"], "E0002", "{d}");
    assert_eq!(s.request("shutdown", json!(null)), json!(null));
    s.notify("exit", json!(null));
}

/// ARCHITECTURE's invariant "only the LSP module speaks LSP": no workspace package but
/// `mxc-lsp` depends on the LSP crates.
#[test]
fn only_mxc_lsp_speaks_lsp() {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml");
    let out = Command::new(env!("CARGO"))
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
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut speakers = Vec::new();
    for p in meta["packages"].as_array().unwrap() {
        for d in p["dependencies"].as_array().unwrap() {
            let n = d["name"].as_str().unwrap();
            if n.contains("lsp-server") || n == "ls-types" || n == "lsp-types" {
                speakers.push(p["name"].as_str().unwrap().to_string());
            }
        }
    }
    assert_eq!(speakers, ["mxc-lsp"]);
}
