//! Hash-chained audit logs: JSON lines where each record carries its sequence number,
//! the hash of the record before it, and its own hash (SHA-256 over the record's
//! canonical JSON without the `hash` field). Changing, removing, inserting or
//! reordering records breaks the chain at the first record affected.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::io::{BufRead, Write};

/// The `prev_hash` of the first record of a log.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Serialises with object keys sorted at every level, so a record hashes the same
/// whatever the order its fields were written or parsed in.
pub fn canonical(v: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut out = Map::new();
                for k in keys {
                    out.insert(k.clone(), sorted(&m[k]));
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
            v => v.clone(),
        }
    }
    // With serde_json's `preserve_order`, insertion order is kept: insert sorted.
    sorted(v).to_string()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The hash of `record` (its `hash` field, if any, left out).
pub fn record_hash(record: &Map<String, Value>) -> String {
    let mut m = record.clone();
    m.remove("hash");
    hex(&Sha256::digest(canonical(&Value::Object(m)).as_bytes()))
}

/// Appends records to a log, continuing the chain of what the file already holds.
pub struct ChainWriter<W: Write> {
    out: W,
    seq: u64,
    prev: String,
    /// Records that could not be written (a full disk) since the last one written: the
    /// next record written says so (`lost_before`), and [`verify_against`] reports it.
    unmarked: u64,
    /// Every record that could not be written.
    lost: u64,
}

impl<W: Write> ChainWriter<W> {
    /// Starts a chain after `last` (the last record already in the file, if any).
    pub fn new(out: W, last: Option<&Map<String, Value>>) -> Self {
        let (seq, prev) = match last {
            Some(r) => (
                r.get("seq").and_then(Value::as_u64).map_or(0, |s| s + 1),
                r.get("hash")
                    .and_then(Value::as_str)
                    .unwrap_or(GENESIS)
                    .to_string(),
            ),
            None => (0, GENESIS.to_string()),
        };
        ChainWriter {
            out,
            seq,
            prev,
            unmarked: 0,
            lost: 0,
        }
    }

    /// Counts `n` records as lost before the next one (an earlier writer's: its head
    /// file said so), so the next record written carries them (`lost_before`).
    pub fn mark_lost(&mut self, n: u64) {
        self.unmarked += n;
        self.lost += n;
    }

    /// How many records could not be written.
    pub fn lost(&self) -> u64 {
        self.lost
    }

    /// Where the records go.
    pub fn inner(&self) -> &W {
        &self.out
    }

    /// How many records the chain holds so far (the next record's `seq`).
    pub fn records(&self) -> u64 {
        self.seq
    }

    /// The hash of the last record ([`GENESIS`] when there is none).
    pub fn last_hash(&self) -> &str {
        &self.prev
    }

    /// Adds `seq`, `prev_hash` and `hash` to `record` and writes it as one line. A
    /// record that cannot be written is counted as lost, and the next one written
    /// carries the count (`lost_before`): a gap in the log is never silent.
    pub fn append(&mut self, mut record: Map<String, Value>) -> std::io::Result<()> {
        if self.unmarked > 0 {
            record.insert("lost_before".into(), Value::from(self.unmarked));
        }
        record.insert("seq".into(), Value::from(self.seq));
        record.insert("prev_hash".into(), Value::from(self.prev.clone()));
        let h = record_hash(&record);
        record.insert("hash".into(), Value::from(h.clone()));
        let mut line = canonical(&Value::Object(record));
        line.push('\n');
        if let Err(e) = self
            .out
            .write_all(line.as_bytes())
            .and_then(|()| self.out.flush())
        {
            self.unmarked += 1;
            self.lost += 1;
            return Err(e);
        }
        self.unmarked = 0;
        self.seq += 1;
        self.prev = h;
        Ok(())
    }
}

/// The last record of a log file's text (for [`ChainWriter::new`]).
pub fn last_record(text: &str) -> Option<Map<String, Value>> {
    let line = text.lines().rev().find(|l| !l.trim().is_empty())?;
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    }
}

/// The first break in a chain.
#[derive(Debug, PartialEq, Eq)]
pub struct Broken {
    /// 1-based line number of the first bad record.
    pub line: usize,
    pub reason: String,
}

/// What an intact chain holds.
#[derive(Debug, PartialEq, Eq)]
pub struct Verified {
    pub records: usize,
    /// The hash of the last record (`None`: the log is empty).
    pub last_hash: Option<String>,
    /// The 1-based line of the record whose hash is the one looked for, if any.
    pub found_at: Option<usize>,
}

/// Checks a whole log. `Ok(n)`: `n` records, chain intact.
pub fn verify(input: impl BufRead) -> Result<usize, Broken> {
    verify_against(input, None).map(|v| v.records)
}

/// Checks a whole log and notes where the record with hash `look_for` is.
pub fn verify_against(input: impl BufRead, look_for: Option<&str>) -> Result<Verified, Broken> {
    let mut found_at = None;
    let mut prev = GENESIS.to_string();
    let mut expect_seq: Option<u64> = None;
    let mut n = 0;
    for (i, line) in input.lines().enumerate() {
        let line_no = i + 1;
        let bad = |reason: String| Broken {
            line: line_no,
            reason,
        };
        let line = line.map_err(|e| bad(format!("cannot read the line: {e}")))?;
        if line.trim().is_empty() {
            return Err(bad("empty line inside the log".into()));
        }
        let rec = match serde_json::from_str::<Value>(&line) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err(bad("not a JSON object".into())),
            Err(e) => return Err(bad(format!("not JSON: {e}"))),
        };
        let seq = rec
            .get("seq")
            .and_then(Value::as_u64)
            .ok_or_else(|| bad("no `seq`".into()))?;
        let p = rec
            .get("prev_hash")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("no `prev_hash`".into()))?;
        let h = rec
            .get("hash")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("no `hash`".into()))?;
        if let Some(e) = expect_seq {
            if seq != e {
                return Err(bad(format!(
                    "sequence number {seq} where {e} was expected (a record was removed, \
                     inserted or moved)"
                )));
            }
        } else if seq != 0 && p == GENESIS {
            return Err(bad(format!(
                "the log starts at sequence number {seq}, not 0"
            )));
        }
        if p != prev {
            return Err(bad(
                "`prev_hash` is not the hash of the record before it (a record was \
                 removed, inserted or moved)"
                    .into(),
            ));
        }
        let actual = record_hash(&rec);
        if actual != h {
            return Err(bad(
                "the record was changed (its hash does not match)".into()
            ));
        }
        if let Some(n) = rec.get("lost_before") {
            return Err(bad(format!(
                "{n} records before this one could not be written (the log is incomplete)"
            )));
        }
        if look_for.is_some_and(|l| l.eq_ignore_ascii_case(h)) {
            found_at = Some(line_no);
        }
        prev = h.to_string();
        expect_seq = Some(seq + 1);
        n += 1;
    }
    Ok(Verified {
        records: n,
        last_hash: (n > 0).then_some(prev),
        found_at,
    })
}

/// The head file of a log: where `mxcc run` keeps, beside the log, how many records
/// it holds and the hash of the last (`LOG.head`, see [`head_path`]).
#[derive(Debug, PartialEq, Eq)]
pub struct Head {
    pub records: u64,
    /// `None` when the log has no record.
    pub last_hash: Option<String>,
    /// Records that could not be written (written only when some were).
    pub lost: u64,
}

/// A head's `lost` as written, when it says some records could not be written (`None`:
/// absent, or 0). The one reader of that field ([`Head::parse`], [`Head::lost_in`]).
fn lost_of(v: &Value) -> Option<String> {
    v.get("lost")
        .filter(|n| n.as_u64() != Some(0))
        .map(Value::to_string)
}

/// `PATH.head`: the head file beside the log at `log`.
pub fn head_path(log: &std::path::Path) -> std::path::PathBuf {
    let mut name = log.file_name().unwrap_or_default().to_os_string();
    name.push(".head");
    log.with_file_name(name)
}

impl Head {
    /// The head file's text: one JSON object on one line.
    pub fn render(&self) -> String {
        let mut v = serde_json::json!({
            "records": self.records,
            "last_hash": self.last_hash,
        });
        if self.lost > 0 {
            v["lost"] = Value::from(self.lost);
        }
        let mut s = v.to_string();
        s.push('\n');
        s
    }

    /// What a head file's text says of records that could not be written: `None` when
    /// it says none (or is not a head's JSON), else its `lost` as written. Asked even
    /// when the head does not anchor the chain (`mxcc audit verify --expect`): records
    /// lost at the end of a run are marked only there.
    pub fn lost_in(text: &str) -> Option<String> {
        let v: Value = serde_json::from_str(text.trim()).ok()?;
        lost_of(&v)
    }

    /// Reads a head file's text.
    pub fn parse(text: &str) -> Result<Head, String> {
        let v: Value = serde_json::from_str(text.trim()).map_err(|e| format!("not JSON: {e}"))?;
        let records = v
            .get("records")
            .and_then(Value::as_u64)
            .ok_or("no `records`")?;
        let last_hash = match v.get("last_hash") {
            Some(Value::String(h)) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Some(h.clone())
            }
            Some(Value::Null) | None if records == 0 => None,
            _ => return Err("no valid `last_hash`".into()),
        };
        if (records == 0) != last_hash.is_none() {
            return Err("`records` and `last_hash` disagree".into());
        }
        if let Some(n) = lost_of(&v) {
            return Err(format!(
                "{n} records could not be written: the log is incomplete"
            ));
        }
        Ok(Head {
            records,
            last_hash,
            lost: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn log(n: usize) -> String {
        let mut buf = Vec::new();
        let mut w = ChainWriter::new(&mut buf, None);
        for i in 0..n {
            let Value::Object(m) =
                json!({"activity": "open", "n": i, "file": {"path": format!("/f{i}")}})
            else {
                unreachable!()
            };
            w.append(m).unwrap();
        }
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn intact_and_continued() {
        let text = log(3);
        assert_eq!(verify(text.as_bytes()), Ok(3));
        let mut more = text.clone().into_bytes();
        let last = last_record(&text);
        let mut w = ChainWriter::new(&mut more, last.as_ref());
        let Value::Object(m) = json!({"x": 1}) else {
            unreachable!()
        };
        w.append(m).unwrap();
        assert_eq!(verify(&more[..]), Ok(4));
    }

    #[test]
    fn where_a_hash_is_and_the_head() {
        let text = log(3);
        let hashes: Vec<String> = text
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["hash"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        let v = verify_against(text.as_bytes(), Some(&hashes[1])).unwrap();
        assert_eq!(v.records, 3);
        assert_eq!(v.last_hash.as_deref(), Some(hashes[2].as_str()));
        assert_eq!(v.found_at, Some(2));
        let empty = verify_against(&b""[..], Some(&hashes[1])).unwrap();
        assert_eq!(
            (empty.records, empty.last_hash, empty.found_at),
            (0, None, None)
        );
        let h = Head {
            records: 3,
            last_hash: Some(hashes[2].clone()),
            lost: 0,
        };
        assert_eq!(Head::parse(&h.render()), Ok(h));
        let none = Head {
            records: 0,
            last_hash: None,
            lost: 0,
        };
        assert_eq!(Head::parse(&none.render()), Ok(none));
        // A head that counts lost records is no anchor: the log is incomplete.
        let lost = Head {
            records: 3,
            last_hash: Some(hashes[2].clone()),
            lost: 2,
        };
        assert!(Head::parse(&lost.render())
            .unwrap_err()
            .contains("2 records"));
        assert!(Head::parse("{\"records\": 2, \"last_hash\": null}").is_err());
        assert!(Head::parse("{\"records\": 2, \"last_hash\": \"zz\"}").is_err());
        assert!(Head::parse("garbage").is_err());
        assert_eq!(
            head_path(std::path::Path::new("/var/log/a.log")),
            std::path::Path::new("/var/log/a.log.head")
        );
    }

    /// A writer that fails (a full disk) while `full` is set.
    struct Disk {
        text: Vec<u8>,
        full: bool,
    }

    impl Write for Disk {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            if self.full {
                return Err(std::io::Error::from_raw_os_error(28));
            }
            self.text.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn records_lost_to_a_full_disk_are_never_a_silent_gap() {
        let rec = |i: u64| {
            let mut m = Map::new();
            m.insert("n".into(), Value::from(i));
            m
        };
        let mut w = ChainWriter::new(
            Disk {
                text: Vec::new(),
                full: false,
            },
            None,
        );
        w.append(rec(0)).unwrap();
        w.out.full = true;
        assert!(w.append(rec(1)).is_err());
        assert!(w.append(rec(2)).is_err());
        assert_eq!((w.records(), w.lost()), (1, 2));
        // Until the next record, the chain itself is intact (the head file says it).
        assert_eq!(verify(&w.out.text[..]), Ok(1));
        w.out.full = false;
        w.append(rec(3)).unwrap();
        w.append(rec(4)).unwrap();
        assert_eq!((w.records(), w.lost()), (3, 2));
        let b = verify(&w.out.text[..]).unwrap_err();
        assert_eq!(b.line, 2, "{b:?}");
        assert!(b.reason.contains("2 records"), "{b:?}");
    }

    #[test]
    fn tampering_is_found_at_the_first_bad_record() {
        let text = log(4);
        let lines: Vec<&str> = text.lines().collect();
        // Changed.
        let changed = text.replacen("/f1", "/f9", 1);
        assert_eq!(verify(changed.as_bytes()).unwrap_err().line, 2);
        // Removed.
        let removed = [lines[0], lines[2], lines[3]].join("\n");
        assert_eq!(verify(removed.as_bytes()).unwrap_err().line, 2);
        // Reordered.
        let swapped = [lines[0], lines[2], lines[1], lines[3]].join("\n");
        assert_eq!(verify(swapped.as_bytes()).unwrap_err().line, 2);
        // First record removed.
        let headless = lines[1..].join("\n");
        assert_eq!(verify(headless.as_bytes()).unwrap_err().line, 1);
        // Not JSON.
        let junk = format!("{}\nnot json\n", lines[0]);
        assert_eq!(verify(junk.as_bytes()).unwrap_err().line, 2);
    }
}
