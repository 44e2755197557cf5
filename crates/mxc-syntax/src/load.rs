//! Reading files and following imports (SPEC §3): relative to the importing file,
//! each file read once, cycles reported (E0008). An import path that starts with
//! [`STD_PREFIX`] (`import "std:runtime.mxc"`) names a file of the standard library
//! shipped inside `mxcc` ([`STD_FILES`]), never a file on disk.

use crate::ast::{File, Item};
use crate::diag::{Code, Diagnostic, Diagnostics, Dropped, MAX_ERRORS_PER_FILE};
use crate::parser;
use crate::source::{FileId, SourceMap};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// The prefix of an import path (or a path given to `mxcc`) naming a file of the
/// standard library: `std:runtime.mxc`, `std:agents/codex.mxc`. A file of one's own
/// whose name starts with `std:` is imported as `./std:x.mxc`.
pub const STD_PREFIX: &str = "std:";

/// The standard library: reviewed policies for the system runtime, toolchains and
/// agents, embedded in the binary. Names as imported (after [`STD_PREFIX`]).
pub const STD_FILES: &[(&str, &str)] = &[
    ("baseline.mxc", include_str!("../std/baseline.mxc")),
    ("runtime.mxc", include_str!("../std/runtime.mxc")),
    ("python.mxc", include_str!("../std/python.mxc")),
    ("node.mxc", include_str!("../std/node.mxc")),
    ("rust.mxc", include_str!("../std/rust.mxc")),
    ("c.mxc", include_str!("../std/c.mxc")),
    ("git.mxc", include_str!("../std/git.mxc")),
    (
        "agents/project.mxc",
        include_str!("../std/agents/project.mxc"),
    ),
    ("agents/codex.mxc", include_str!("../std/agents/codex.mxc")),
    (
        "agents/copilot.mxc",
        include_str!("../std/agents/copilot.mxc"),
    ),
    (
        "agents/openclaw.mxc",
        include_str!("../std/agents/openclaw.mxc"),
    ),
    (
        "agents/hermes.mxc",
        include_str!("../std/agents/hermes.mxc"),
    ),
];

/// The text of a standard-library file, by its full name (`std:runtime.mxc`); `None`
/// for a path without the prefix or a name the library does not have.
pub fn std_file(path: &Path) -> Option<&'static str> {
    let name = path.to_str()?.strip_prefix(STD_PREFIX)?;
    STD_FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// Whether a path names the standard library (starts with [`STD_PREFIX`]).
pub fn is_std(path: &Path) -> bool {
    path.to_str().is_some_and(|p| p.starts_with(STD_PREFIX))
}

/// Reads a path given to `mxcc` or imported: a standard-library file from the binary,
/// anything else with `read`.
fn read_any(
    path: &Path,
    read: &mut dyn FnMut(&Path) -> std::io::Result<Vec<u8>>,
) -> std::io::Result<Vec<u8>> {
    if is_std(path) {
        return match std_file(path) {
            Some(text) => Ok(text.as_bytes().to_vec()),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no such file in the standard library",
            )),
        };
    }
    read(path)
}

/// A top-level file that could not be read (an I/O error, not a diagnostic).
#[derive(Debug)]
pub struct IoError {
    pub path: PathBuf,
    pub error: std::io::Error,
}

impl std::fmt::Display for IoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot read `{}`: {}", self.path.display(), self.error)
    }
}

/// Parsed files, in load order.
#[derive(Debug, Default)]
pub struct Parsed {
    pub sources: SourceMap,
    pub files: Vec<(FileId, File)>,
    pub diags: Diagnostics,
    /// Errors of each file left out of `diags` (see [`Diagnostics::limit_errors_per_file`]).
    pub dropped: Vec<(FileId, Dropped)>,
}

/// Largest source file read (bigger files are refused, to bound work).
pub const MAX_FILE_BYTES: usize = 64 << 20;

/// Reads a source file: a regular file (not a directory, device, fifo or socket) of at
/// most [`MAX_FILE_BYTES`], of which at most one byte more is ever read. The errors
/// for what is refused say why in words (see [`describe`]).
pub fn read_source(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    // Checked before opening: opening a fifo would wait for a writer.
    check_kind(&std::fs::metadata(path)?)?;
    let file = std::fs::File::open(path)?;
    check_kind(&file.metadata()?)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(too_large());
    }
    Ok(bytes)
}

fn check_kind(meta: &std::fs::Metadata) -> std::io::Result<()> {
    use std::io::{Error, ErrorKind};
    if meta.is_dir() {
        Err(Error::new(ErrorKind::IsADirectory, "is a directory"))
    } else if !meta.is_file() {
        Err(Error::new(
            ErrorKind::InvalidInput,
            "not a regular file (a device, fifo or socket)",
        ))
    } else if meta.len() > MAX_FILE_BYTES as u64 {
        Err(too_large())
    } else {
        Ok(())
    }
}

fn too_large() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::FileTooLarge,
        format!("file is larger than {} MiB", MAX_FILE_BYTES >> 20),
    )
}

/// An I/O error in words, without the `(os error N)` an operating-system error ends
/// with: `file not found`, `permission denied`, `is a directory`, ...
pub fn describe(e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::NotFound => "file not found".to_string(),
        ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => {
            let s = e.to_string();
            let s = s.rfind(" (os error ").map_or(s.as_str(), |i| &s[..i]);
            let mut chars = s.chars();
            match chars.next() {
                Some(c) => c.to_lowercase().chain(chars).collect(),
                None => "unreadable".to_string(),
            }
        }
    }
}

fn decode(bytes: Vec<u8>) -> (String, Option<usize>) {
    match String::from_utf8(bytes) {
        Ok(s) => (s, None),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            (String::from_utf8_lossy(e.as_bytes()).into_owned(), Some(at))
        }
    }
}

struct Loader<'r> {
    read: &'r mut dyn FnMut(&Path) -> std::io::Result<Vec<u8>>,
    out: Parsed,
    /// Canonical keys of files loaded, parallel to `out.sources`.
    keys: Vec<PathBuf>,
    /// The same keys, to look them up.
    loaded: HashSet<PathBuf>,
    /// The import path being followed (canonical keys), and where each key is on it.
    stack: Vec<PathBuf>,
    on_stack: HashMap<PathBuf, usize>,
}

fn key(p: &Path) -> PathBuf {
    if is_std(p) {
        return p.to_path_buf();
    }
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

impl Loader<'_> {
    fn add_text(&mut self, path: PathBuf, bytes: Vec<u8>) -> FileId {
        let (text, bad) = decode(bytes);
        let k = key(&path);
        let id = self.out.sources.add(path, text);
        self.loaded.insert(k.clone());
        self.keys.push(k);
        if let Some(at) = bad {
            self.out.diags.push(
                Diagnostic::new(
                    Code::E0001,
                    crate::Span::new(id, at, at + 1),
                    "file is not valid UTF-8",
                )
                .with_label("invalid UTF-8 starts here"),
            );
        }
        id
    }

    /// Parses a file and puts it on the import path; returns what it imports.
    fn open(&mut self, id: FileId) -> Frame {
        let text = self.out.sources.file(id).text.clone();
        let (tree, diags, dropped) = if text.len() > MAX_FILE_BYTES {
            (
                File { items: Vec::new() },
                vec![Diagnostic::new(
                    Code::E0001,
                    crate::Span::new(id, 0, 0),
                    format!("file is larger than {} MiB", MAX_FILE_BYTES >> 20),
                )],
                Dropped::default(),
            )
        } else {
            parser::parse_limited(id, &text, MAX_ERRORS_PER_FILE)
        };
        self.out.diags.extend(diags);
        if dropped.count > 0 {
            self.out.dropped.push((id, dropped));
        }
        let dir = self
            .out
            .sources
            .file(id)
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let this_key = self.keys[id.0 as usize].clone();
        self.on_stack.insert(this_key.clone(), self.stack.len());
        self.stack.push(this_key);
        let imports: Vec<_> = tree
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Import(im) => Some(im.clone()),
                _ => None,
            })
            .collect();
        self.out.files.push((id, tree));
        Frame {
            std: is_std(&self.out.sources.file(id).path),
            dir,
            imports,
            next: 0,
        }
    }

    /// Loads a file and, depth first, everything it imports. Iterative: a chain of
    /// thousands of imports cannot exhaust the stack.
    fn visit(&mut self, id: FileId) {
        let mut frames = vec![self.open(id)];
        while let Some(frame) = frames.last_mut() {
            let Some(im) = frame.imports.get(frame.next).cloned() else {
                frames.pop();
                if let Some(k) = self.stack.pop() {
                    self.on_stack.remove(&k);
                }
                continue;
            };
            frame.next += 1;
            let target = if im.path.value.starts_with(STD_PREFIX) {
                PathBuf::from(&im.path.value)
            } else if frame.std {
                // Never resolved against the disk: not found in the library.
                PathBuf::from(format!("{STD_PREFIX}{}", im.path.value))
            } else {
                frame.dir.join(&im.path.value)
            };
            let k = key(&target);
            if let Some(&pos) = self.on_stack.get(&k) {
                let chain: Vec<String> = self.stack[pos..]
                    .iter()
                    .chain(std::iter::once(&k))
                    .map(|p| {
                        p.file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default()
                    })
                    .collect();
                self.out.diags.push(
                    Diagnostic::new(Code::E0008, im.path.span, "import cycle")
                        .with_label("this import leads back to a file that imports it")
                        .note(format!("cycle: {}", chain.join(" -> "))),
                );
                continue;
            }
            if self.loaded.contains(&k) {
                continue; // importing a file twice is harmless
            }
            match read_any(&target, self.read) {
                Ok(bytes) => {
                    let nid = self.add_text(target, bytes);
                    let next = self.open(nid);
                    frames.push(next);
                }
                Err(e) => {
                    let label = format!("cannot read `{}`: {}", target.display(), describe(&e));
                    let d = if is_std(&target) {
                        let names: Vec<String> = STD_FILES
                            .iter()
                            .map(|(n, _)| format!("{STD_PREFIX}{n}"))
                            .collect();
                        Diagnostic::new(
                            Code::E0008,
                            im.path.span,
                            format!("import `{}` not found", im.path.value),
                        )
                        .with_label("no such file in the standard library")
                        .note(format!("the standard library has {}", names.join(", ")))
                    } else if e.kind() == std::io::ErrorKind::NotFound {
                        Diagnostic::new(
                            Code::E0008,
                            im.path.span,
                            format!("import `{}` not found", im.path.value),
                        )
                        .with_label(label)
                        .help("import paths are relative to the importing file")
                    } else {
                        Diagnostic::new(
                            Code::E0008,
                            im.path.span,
                            format!("import `{}` cannot be read", im.path.value),
                        )
                        .with_label(label)
                    };
                    self.out.diags.push(d);
                }
            }
        }
    }
}

/// A file being loaded: where its imports are relative to, and the next to follow.
struct Frame {
    /// A standard-library file: its imports name the library only (never the disk).
    std: bool,
    dir: PathBuf,
    imports: Vec<crate::ast::Import>,
    next: usize,
}

/// Reads and parses the given files and everything they import.
pub fn load_paths(paths: &[PathBuf]) -> Result<Parsed, IoError> {
    let mut read = read_source;
    let mut roots = Vec::new();
    for p in paths {
        match read_any(p, &mut read) {
            Ok(b) => roots.push((p.clone(), b)),
            Err(error) => {
                return Err(IoError {
                    path: p.clone(),
                    error,
                })
            }
        }
    }
    Ok(load_with(roots, &mut read))
}

/// Loads given root texts; imports are read with `read`.
pub fn load_with(
    roots: Vec<(PathBuf, Vec<u8>)>,
    read: &mut dyn FnMut(&Path) -> std::io::Result<Vec<u8>>,
) -> Parsed {
    let mut l = Loader {
        read,
        out: Parsed::default(),
        keys: Vec::new(),
        loaded: HashSet::new(),
        stack: Vec::new(),
        on_stack: HashMap::new(),
    };
    for (path, bytes) in roots {
        let k = key(&path);
        if l.loaded.contains(&k) {
            continue;
        }
        let id = l.add_text(path, bytes);
        l.visit(id);
    }
    l.out
}
