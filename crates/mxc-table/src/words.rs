//! How a loaded table holds its arrays: the file's bytes, once, in one vector
//! ([`FileBytes`]: the caller's, or one copy; the allocator aligns it to 16 bytes), and
//! each array as a view of its part of them ([`View`]), read in place (reinterpreted
//! with `bytemuck`, which checks alignment and size), so loading copies no section.
//! Reading a view as a slice costs those checks (about twenty instructions with the
//! bounds and the indirection), so a hot loop takes its slices once. A table built in memory (the compiler's) holds its arrays
//! as vectors instead; both read the same through `Deref<Target = [T]>`.
//!
//! The file is little-endian: on a big-endian target, or for a part that is not aligned
//! for its type (a file written with unaligned sections), a view is a decoded copy of
//! its part instead (the same values, by [`Word::le_to_native`]).

use std::sync::Arc;

/// A table file's bytes, held once for every view into it: the caller's vector, or one
/// copy of a borrowed slice. Views read in place what is aligned for their type (the
/// allocator gives vectors aligned to 16 bytes; the sections of a v7 file are at
/// multiples of 8 in it), and copy what is not.
pub struct FileBytes(Vec<u8>);

impl FileBytes {
    /// The bytes, copied once (one allocation, written in order).
    pub fn copied(bytes: &[u8]) -> FileBytes {
        FileBytes(bytes.to_vec())
    }

    /// The bytes, kept as they are (no copy).
    pub fn owned(bytes: Vec<u8>) -> FileBytes {
        FileBytes(bytes)
    }

    /// Whether the bytes start at a multiple of 8 (then every aligned part of a v7 file
    /// is read in place).
    pub fn is_aligned(&self) -> bool {
        (self.0.as_ptr() as usize) % 8 == 0
    }

    /// The file's bytes.
    #[inline(always)]
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for FileBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FileBytes({} bytes)", self.bytes().len())
    }
}

/// A type stored in a table's arrays: plain little-endian words (or bytes) with no
/// padding, which any bytes of its size are a value of.
pub trait Word: bytemuck::Pod {
    /// The value whose little-endian bytes `self` holds in the target's byte order (the
    /// identity on a little-endian target).
    fn le_to_native(self) -> Self;
}

impl Word for u8 {
    #[inline(always)]
    fn le_to_native(self) -> u8 {
        self
    }
}
impl Word for u32 {
    #[inline(always)]
    fn le_to_native(self) -> u32 {
        u32::from_le(self)
    }
}
impl Word for u64 {
    #[inline(always)]
    fn le_to_native(self) -> u64 {
        u64::from_le(self)
    }
}
impl<const N: usize> Word for [u32; N] {
    #[inline(always)]
    fn le_to_native(self) -> [u32; N] {
        self.map(u32::from_le)
    }
}

/// An array of a table: a view of its part of the file's bytes, or a vector (built in
/// memory, or changed: [`View::to_mut`] and `DerefMut` make it one). Reads as a `[T]`.
pub struct View<T> {
    /// The array when it is not read from the file.
    owned: Vec<T>,
    /// Where it lies in the file, when it is read from there: `file.bytes()[at..end]`
    /// (checked at construction: inside the file, aligned for `T`, a whole number of
    /// `T`s).
    file: Option<Part>,
}

#[derive(Clone)]
struct Part {
    file: Arc<FileBytes>,
    at: usize,
    end: usize,
}

impl<T: Word> View<T> {
    /// The array whose bytes are `bytes`, a part of `file`'s bytes: a view of them when
    /// they are aligned for `T` on a little-endian target, else a decoded copy. Bytes
    /// past the last whole `T` are ignored (callers pass whole arrays).
    pub fn of(file: &Arc<FileBytes>, bytes: &[u8]) -> View<T> {
        let size = std::mem::size_of::<T>().max(1);
        let whole = bytes
            .len()
            .checked_div(size)
            .unwrap_or(0)
            .saturating_mul(size);
        let bytes = bytes.get(..whole).unwrap_or(&[]);
        let all = file.bytes();
        let at = (bytes.as_ptr() as usize).wrapping_sub(all.as_ptr() as usize);
        let end = at.wrapping_add(bytes.len());
        let inside = at <= end
            && all
                .get(at..end)
                .is_some_and(|b| std::ptr::eq(b.as_ptr(), bytes.as_ptr()));
        if cfg!(target_endian = "little")
            && inside
            && bytemuck::try_cast_slice::<u8, T>(bytes).is_ok()
        {
            return View {
                owned: Vec::new(),
                file: Some(Part {
                    file: Arc::clone(file),
                    at,
                    end,
                }),
            };
        }
        View::from(
            bytes
                .chunks_exact(size)
                .map(|c| bytemuck::pod_read_unaligned::<T>(c).le_to_native())
                .collect::<Vec<T>>(),
        )
    }

    /// Whether the array is read in place from the file.
    pub fn is_in_place(&self) -> bool {
        self.file.is_some()
    }

    /// The array as a vector, to change it (copied out of the file the first time).
    pub fn to_mut(&mut self) -> &mut Vec<T> {
        if self.file.is_some() {
            self.owned = self.to_vec();
            self.file = None;
        }
        &mut self.owned
    }
}

impl<T: Word> std::ops::Deref for View<T> {
    type Target = [T];
    #[inline(always)]
    fn deref(&self) -> &[T] {
        match &self.file {
            None => &self.owned,
            Some(p) => p
                .file
                .bytes()
                .get(p.at..p.end)
                .and_then(|b| bytemuck::try_cast_slice::<u8, T>(b).ok())
                .unwrap_or(&[]),
        }
    }
}

impl<T: Word> std::ops::DerefMut for View<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        self.to_mut()
    }
}

impl<T> From<Vec<T>> for View<T> {
    fn from(owned: Vec<T>) -> View<T> {
        View { owned, file: None }
    }
}

impl<T> Default for View<T> {
    fn default() -> View<T> {
        View::from(Vec::new())
    }
}

impl<T: Clone> Clone for View<T> {
    fn clone(&self) -> View<T> {
        View {
            owned: self.owned.clone(),
            file: self.file.clone(),
        }
    }
}

impl<T: Word + std::fmt::Debug> std::fmt::Debug for View<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: Word + PartialEq> PartialEq for View<T> {
    fn eq(&self, other: &View<T>) -> bool {
        **self == **other
    }
}
impl<T: Word + Eq> Eq for View<T> {}

impl<T: Word + std::hash::Hash> std::hash::Hash for View<T> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        (**self).hash(h);
    }
}

impl<T> FromIterator<T> for View<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> View<T> {
        View::from(iter.into_iter().collect::<Vec<T>>())
    }
}

impl<'a, T: Word> IntoIterator for &'a View<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_read_in_place_when_aligned_and_copy_otherwise() {
        let mut bytes = Vec::new();
        for w in [1u32, 2, 3, 0xdead_beef, 5] {
            bytes.extend_from_slice(&w.to_le_bytes());
        }
        let file = Arc::new(FileBytes::copied(&bytes));
        let all = file.bytes();
        let v: View<u32> = View::of(&file, all.get(4..20).unwrap_or(&[]));
        assert_eq!(&*v, &[2, 3, 0xdead_beef, 5]);
        assert_eq!(v.is_in_place(), cfg!(target_endian = "little"));
        // Unaligned: a copy with the same values.
        let u: View<u32> = View::of(&file, all.get(1..9).unwrap_or(&[]));
        assert!(!u.is_in_place());
        assert_eq!(&*u, &[0x0200_0000, 0x0300_0000]);
        // Not the file's bytes: a copy.
        let other = bytes.clone();
        let c: View<[u32; 2]> = View::of(&file, other.get(0..16).unwrap_or(&[]));
        assert!(!c.is_in_place());
        assert_eq!(&*c, &[[1, 2], [3, 0xdead_beef]]);
        // Changing a view makes it a vector; the file is unchanged.
        let mut m = v.clone();
        if let Some(x) = m.first_mut() {
            *x = 9;
        }
        assert!(!m.is_in_place());
        assert_eq!(&*m, &[9, 3, 0xdead_beef, 5]);
        assert_eq!(&*v, &[2, 3, 0xdead_beef, 5]);
    }

    #[test]
    fn file_bytes_keep_the_vector_and_copy_a_slice() {
        let v: Vec<u8> = (0..40u8).collect();
        let ptr = v.as_ptr();
        let f = FileBytes::owned(v);
        assert!(std::ptr::eq(f.bytes().as_ptr(), ptr));
        assert!(f.is_aligned(), "the allocator gives vectors aligned to 16");
        let c = FileBytes::copied(f.bytes().get(1..).unwrap_or(&[]));
        assert_eq!(c.bytes(), f.bytes().get(1..).unwrap_or(&[]));
        assert!(c.is_aligned());
    }
}
