//! Source files and spans.
//!
//! Every syntax node carries a [`Span`]: a byte range in one file of a [`SourceMap`].
//! Line and column numbers (1-based, counted in characters) are computed here and only
//! here, and so are LSP positions (0-based, UTF-16 columns: [`SourceFile::utf16_position`]
//! and [`SourceFile::utf16_offset`]).

use std::path::{Path, PathBuf};

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// A byte range `start..end` in one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: clamp_u32(start),
            end: clamp_u32(end.max(start)),
        }
    }
    /// The smallest span covering both (same file assumed; `self`'s file wins).
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

fn clamp_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// One source file: its name as given, and its text (lossily decoded when not UTF-8).
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub name: String,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(path: PathBuf, name: String, text: String) -> SourceFile {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            path,
            name,
            text,
            line_starts,
        }
    }

    /// 1-based (line, column) of a byte offset; the column counts characters.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        let mut off = offset;
        while off > start && !self.text.is_char_boundary(off) {
            off -= 1;
        }
        let col = self.text.get(start..off).map_or(0, |s| s.chars().count());
        (line + 1, col + 1)
    }

    /// The 0-based line of a byte offset (an offset past the end is on the last line).
    pub fn line_index(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    }

    /// Byte offset of the start of the 0-based line `line`.
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.line_starts.get(line).copied()
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The LSP position of a byte offset: 0-based line and column in UTF-16 code units
    /// (an offset inside a character counts from that character's start; past the end,
    /// the end of the text). The one conversion from bytes to UTF-16.
    pub fn utf16_position(&self, offset: usize) -> (u32, u32) {
        let mut offset = offset.min(self.text.len());
        while offset > 0 && !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_index(offset);
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        let col: usize = self
            .text
            .get(start..offset)
            .map_or(0, |s| s.chars().map(char::len_utf16).sum());
        (clamp_u32(line), clamp_u32(col))
    }

    /// The byte offset of an LSP position (0-based line, UTF-16 column), the inverse of
    /// [`SourceFile::utf16_position`]. A column past the line's end means the line's end
    /// (before its `\n` or `\r\n`); a column between the two halves of a surrogate pair
    /// means the start of that character; a line past the last means the end of the text.
    pub fn utf16_offset(&self, line: u32, col: u32) -> usize {
        let Some(&start) = self.line_starts.get(line as usize) else {
            return self.text.len();
        };
        let end = self
            .line_starts
            .get(line as usize + 1)
            .map_or(self.text.len(), |&next| next - 1);
        let line_text = self.text.get(start..end).unwrap_or("");
        let line_text = line_text.strip_suffix('\r').unwrap_or(line_text);
        let mut units = 0usize;
        for (i, c) in line_text.char_indices() {
            let next = units + c.len_utf16();
            if next > col as usize {
                return start + i;
            }
            units = next;
        }
        start + line_text.len()
    }
}

/// All files of one compilation.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    /// Adds a file; invalid UTF-8 is replaced (and reported by the caller if it matters).
    pub fn add(&mut self, path: impl Into<PathBuf>, text: String) -> FileId {
        let path = path.into();
        let name = path.display().to_string();
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(SourceFile::new(path, name, text));
        id
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn find(&self, path: &Path) -> Option<FileId> {
        self.files
            .iter()
            .position(|f| f.path == path)
            .map(|i| FileId(i as u32))
    }

    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    pub fn text(&self, span: Span) -> &str {
        self.get(span.file)
            .and_then(|f| f.text.get(span.range()))
            .unwrap_or("")
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod utf16_tests {
    use super::*;

    fn file(text: &str) -> SourceFile {
        SourceFile::new("t.mxc".into(), "t.mxc".into(), text.to_string())
    }

    #[test]
    fn ascii_positions_round_trip() {
        let f = file("ab\ncd\n");
        assert_eq!(f.utf16_position(0), (0, 0));
        assert_eq!(f.utf16_position(2), (0, 2));
        assert_eq!(f.utf16_position(3), (1, 0));
        assert_eq!(f.utf16_position(7), (2, 0));
        assert_eq!(f.utf16_position(99), (2, 0));
        for off in 0..=f.text.len() {
            let (l, c) = f.utf16_position(off);
            assert_eq!(f.utf16_offset(l, c), off);
        }
    }

    #[test]
    fn non_ascii_and_astral_characters_count_in_utf16_units() {
        // é: 2 bytes, 1 unit; 😀: 4 bytes, 2 units (a surrogate pair); 中: 3 bytes, 1 unit.
        let f = file("\"é😀中\" x\n😀y");
        assert_eq!(f.utf16_position(1), (0, 1)); // before é
        assert_eq!(f.utf16_position(3), (0, 2)); // before 😀
        assert_eq!(f.utf16_position(7), (0, 4)); // before 中
        assert_eq!(f.utf16_position(10), (0, 5)); // before the closing quote
        assert_eq!(f.utf16_position(12), (0, 7)); // x
        assert_eq!(f.utf16_position(14), (1, 0));
        assert_eq!(f.utf16_position(18), (1, 2)); // y, after the pair
                                                  // An offset inside a character counts from its start.
        assert_eq!(f.utf16_position(5), (0, 2));
        assert_eq!(f.utf16_offset(0, 2), 3);
        assert_eq!(f.utf16_offset(0, 4), 7);
        // A column between the two halves of a pair is the start of the character.
        assert_eq!(f.utf16_offset(0, 3), 3);
        assert_eq!(f.utf16_offset(1, 1), 14);
        assert_eq!(f.utf16_offset(1, 2), 18);
        // Past the end of a line: the line's end; past the last line: the text's end.
        assert_eq!(f.utf16_offset(0, 100), 13);
        assert_eq!(f.utf16_offset(7, 0), f.text.len());
        for (off, _) in f.text.char_indices() {
            let (l, c) = f.utf16_position(off);
            assert_eq!(f.utf16_offset(l, c), off, "offset {off}");
        }
    }

    #[test]
    fn crlf_line_ends_stop_before_the_carriage_return() {
        let f = file("ab\r\ncd");
        assert_eq!(f.utf16_offset(0, 9), 2);
        assert_eq!(f.utf16_position(5), (1, 1));
    }
}
