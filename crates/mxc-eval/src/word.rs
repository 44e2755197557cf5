//! Eight bytes at a time: the word reads and the zero-byte test the hot paths share
//! (the path checks, the `/` scan of the fs walk, the net host jump).

/// Every byte 0x01.
pub(crate) const ONES: u64 = 0x0101_0101_0101_0101;
/// Every byte's high bit.
pub(crate) const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `x` that is zero, and possibly of bytes above the
/// lowest zero one (a borrow): zero exactly when no byte of `x` is zero, and its
/// lowest set bit always marks a true zero byte.
#[inline(always)]
pub(crate) fn zero_bytes(x: u64) -> u64 {
    x.wrapping_sub(ONES) & !x & HIGH
}

/// The 8 bytes at `i`, little-endian (0 when fewer than 8 are left).
pub(crate) use mxc_table::comp::read_u64 as load;
