//! `mxcc check --format sarif` prints SARIF 2.1.0 (SPEC §10): every log we render is
//! valid against the official schema (vendored in `tests/data/`, see its README), and
//! says what the SARIF consumers read: rules, levels, messages and 1-based regions.

use mxc_lang::{render, Code, Diagnostic};
use serde_json::Value;
use std::path::Path;

fn validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-2.1.0-rtm.5.json");
    let text = std::fs::read_to_string(&path).expect("the vendored SARIF schema");
    let mut schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
    // The schema's pattern for `language` (of a run and of a tool component) has a
    // stray `]` that strict regex engines reject; mxcc never writes `language`, so the
    // pattern it means stands in.
    for def in ["run", "toolComponent"] {
        let language = &mut schema["definitions"][def]["properties"]["language"]["pattern"];
        assert_eq!(*language, "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$");
        *language = Value::from("^[a-zA-Z]{2}(-[a-zA-Z]{2})?$");
    }
    jsonschema::options()
        .build(&schema)
        .expect("the SARIF schema compiles")
}

fn assert_valid(v: &jsonschema::Validator, log: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: not valid SARIF 2.1.0:\n{}\n{log:#}",
        errors.join("\n")
    );
}

const SOURCE: &str = r#"param workspace: path
let unused = "/x"

policy p {
  fs {
    allow read, connect "${workspace}/**"
    allow write "/**"
  }
}

policy p { fs { allow read "/tmp/**" } }

agent a { use p }
"#;

#[test]
fn a_log_with_errors_warnings_labels_and_no_location() {
    let mut program = mxc_lang::check_source("policies/my policy.mxc", SOURCE);
    program.diags.push(
        Diagnostic::global(Code::E0009, "parameter `workspace` is not bound")
            .help("pass `--param workspace=/...`"),
    );
    let diags = &program.diags.0;
    let log = render::sarif(&program.sources, diags);
    let v = validator();
    assert_valid(&v, &log, "SOURCE");
    // The schema is really applied: a level SARIF does not know is rejected.
    let mut bad = log.clone();
    bad["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(!v.is_valid(&bad));

    assert_eq!(
        log["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    assert_eq!(log["version"], "2.1.0");
    let runs = log["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "mxcc");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));

    // One rule per code used, in code order, described by the code's summary.
    let rules = driver["rules"].as_array().expect("rules");
    let mut codes: Vec<Code> = diags.iter().map(|d| d.code).collect();
    codes.sort();
    codes.dedup();
    assert_eq!(rules.len(), codes.len());
    for (rule, code) in rules.iter().zip(&codes) {
        assert_eq!(rule["id"], code.as_str());
        assert_eq!(rule["shortDescription"]["text"], code.summary());
    }

    // One result per diagnostic, in order, pointing at its rule.
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), diags.len());
    for (r, d) in results.iter().zip(diags) {
        assert_eq!(r["ruleId"], d.code.as_str());
        let idx = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[idx]["id"], d.code.as_str());
        assert_eq!(r["level"], d.severity.as_str());
        let text = r["message"]["text"].as_str().expect("message text");
        assert!(text.starts_with(&d.message), "{text}");
        if let Some(h) = &d.help {
            assert!(text.ends_with(&format!("\nhelp: {h}")), "{text}");
        }
        match d.primary {
            Some(_) => assert_eq!(r["locations"].as_array().map(Vec::len), Some(1)),
            None => assert!(r.get("locations").is_none()),
        }
        let related = r
            .get("relatedLocations")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        assert_eq!(related, d.labels.len());
    }

    // The E0004 on `connect`: line 6, columns 17..24 (end exclusive), the file name
    // as given, percent-encoded.
    let e4 = results
        .iter()
        .find(|r| r["ruleId"] == "E0004")
        .expect("an E0004");
    let loc = &e4["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "policies/my%20policy.mxc");
    assert_eq!(loc["region"]["startLine"], 6);
    assert_eq!(loc["region"]["startColumn"], 17);
    assert_eq!(loc["region"]["endLine"], 6);
    assert_eq!(loc["region"]["endColumn"], 24);

    // The duplicate policy points back at the first definition.
    let e3 = results
        .iter()
        .find(|r| r["ruleId"] == "E0003")
        .expect("an E0003");
    let rel = &e3["relatedLocations"][0];
    assert_eq!(rel["message"]["text"], "first defined here");
    assert_eq!(rel["physicalLocation"]["region"]["startLine"], 4);
}

#[test]
fn an_empty_log_is_valid() {
    let program = mxc_lang::check_source("ok.mxc", "");
    let log = render::sarif(&program.sources, &program.diags.0);
    assert_valid(&validator(), &log, "empty");
    assert_eq!(log["runs"][0]["results"], Value::Array(Vec::new()));
    assert_eq!(
        log["runs"][0]["tool"]["driver"]["rules"],
        Value::Array(Vec::new())
    );
}

#[test]
fn every_corpus_case_renders_valid_sarif() {
    let v = validator();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("corpus") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "mxc") {
            let program = mxc_lang::check_paths(std::slice::from_ref(&path)).expect("readable");
            let log = render::sarif(&program.sources, &program.diags.0);
            assert_valid(&v, &log, &path.display().to_string());
            seen += 1;
        }
    }
    assert!(seen > 10);
}
